"""Drive the online features through a history, labels arriving as chargebacks do.

A replay walks transactions in processing order and reports each label ``label_delay``
after its transaction happened, just before the first transaction at or after that moment.
``txguard replay`` scores through this walk; tests use it to prove the online path equals
the batch one and that no label is seen early.
"""

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from txguard.features.definitions import FEATURE_NAMES
from txguard.features.online import FeatureInput, OnlineFeatures, delay_ms


@dataclass
class DelayedLabels:
    """Labels waiting to become known, released in the order they become known."""

    delay_ms: int
    _pending: list[tuple[int, int, str, str | None]] = field(default_factory=list)

    def add(self, transaction_id: str, terminal: str | None, time_ms: int, fraud: bool) -> None:
        """A transaction's label, known ``delay_ms`` after ``time_ms``; non-frauds are dropped."""
        if fraud:
            heapq.heappush(
                self._pending, (time_ms + self.delay_ms, time_ms, transaction_id, terminal)
            )

    def release(self, now_ms: int, engine: OnlineFeatures) -> None:
        """Tell the engine every label known by ``now_ms``."""
        pending = self._pending
        while pending and pending[0][0] <= now_ms:
            _, when, transaction_id, terminal = heapq.heappop(pending)
            engine.add_label(transaction_id, terminal, when, True)


def feature_inputs(frame: pd.DataFrame) -> Iterator[tuple[FeatureInput, bool]]:
    """Each row of a batch-layout frame as a ``FeatureInput`` and whether it is a known fraud."""
    labels = frame["is_fraud"].to_numpy(dtype=np.float64, na_value=np.nan) == 1
    columns = zip(
        frame["transaction_id"].tolist(),
        frame["time_ms"].tolist(),
        frame["amount"].tolist(),
        _nullable(frame["card"]),
        _nullable(frame["terminal"]),
        labels.tolist(),
        strict=True,
    )
    for transaction_id, time_ms, amount, card, terminal, fraud in columns:
        yield FeatureInput(transaction_id, time_ms, amount, card, terminal), fraud


def _nullable(column: "pd.Series[str]") -> list[str | None]:
    return [None if pd.isna(v) else v for v in column.tolist()]


def replay_features(frame: pd.DataFrame, engine: OnlineFeatures) -> pd.DataFrame:
    """The online features of every row of ``frame`` (in processing order), one at a time."""
    labels = DelayedLabels(delay_ms(engine.config))
    rows: list[list[float]] = []
    for tx, fraud in feature_inputs(frame):
        labels.release(tx.time_ms, engine)
        rows.append(engine.process(tx))
        labels.add(tx.transaction_id, tx.terminal, tx.time_ms, fraud)
    values = np.array(rows, dtype=np.float64).reshape(len(rows), len(FEATURE_NAMES))
    return pd.DataFrame(values, index=frame.index, columns=list(FEATURE_NAMES))
