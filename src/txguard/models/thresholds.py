"""Review and block thresholds chosen from what a fraud team can actually review.

A team reviews a fixed number of alerts a day. The review threshold is the probability
above which a validation period raised that many alerts a day; the block threshold is the
lowest probability above which validation alerts were (almost) all fraud, so the model only
declines a payment on its own when it is nearly sure.

>>> t = choose_thresholds([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0], days=1, alerts_per_day=2)
>>> (t.review, t.block)
(0.8, 0.8)
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

NEVER = 1.01
"""A threshold no probability reaches: the model never decides that on its own."""


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on the calibrated fraud probability, with how they were chosen."""

    review: float = 0.5
    block: float = 0.95
    alerts_per_day: float = 100.0
    block_precision: float = 0.9
    validation_alerts_per_day: float = 0.0
    validation_precision: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, as stored with the model version."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Thresholds":
        """Read back from ``to_dict``."""
        return cls(**data)


def choose_thresholds(
    probability: Sequence[float] | np.ndarray,
    labels: Sequence[float] | np.ndarray,
    *,
    days: float,
    alerts_per_day: float = 100.0,
    block_precision: float = 0.9,
) -> Thresholds:
    """Thresholds that would have raised ``alerts_per_day`` alerts a day on validation data."""
    if days <= 0 or alerts_per_day <= 0:
        raise ValueError("days and alerts_per_day must be positive")
    p = np.asarray(probability, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    order = np.argsort(-p, kind="stable")
    p, y = p[order], y[order]
    budget = int(round(alerts_per_day * days))
    if budget == 0 or len(p) == 0:
        return Thresholds(NEVER, NEVER, alerts_per_day, block_precision)
    review = float(p[min(budget, len(p)) - 1])
    block = _block_threshold(p, y, block_precision, review)
    alerts = p >= review
    precision = float(y[alerts].mean()) if alerts.any() else None
    return Thresholds(
        review, block, alerts_per_day, block_precision, float(alerts.sum()) / days, precision
    )


def _block_threshold(p: np.ndarray, y: np.ndarray, precision: float, review: float) -> float:
    """The lowest threshold (not below review) whose alerts reach the wanted precision."""
    hits = np.cumsum(y)
    taken = np.arange(1, len(p) + 1)
    last_of_value = np.append(p[1:] != p[:-1], True)
    good = (hits / taken >= precision) & last_of_value & (p >= review)
    if not good.any():
        return NEVER
    return float(p[np.flatnonzero(good)[-1]])
