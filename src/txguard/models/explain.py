"""Turn the model's own TreeSHAP contributions into sentences an analyst can act on.

The numbers come from the model (exact TreeSHAP on the booster), never from a surrogate;
this module only chooses which to show and how to say them. A contribution that pushes
towards fraud is a risk factor; one that pushes away is a protective factor.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from txguard.features.definitions import describe


@dataclass(frozen=True)
class Contribution:
    """One feature's push on the log-odds of fraud, with its value and the words for it."""

    feature: str
    value: float | None
    contribution: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def _num(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


_PHRASES: dict[str, Callable[[float], str]] = {
    "amount": lambda v: f"amount is {_num(v, 2)}",
    "card_amount_ratio_30d": lambda v: f"amount is {_num(v, 1)} × this card's 30-day average",
    "card_amount_zscore_30d": lambda v: (
        f"amount is {_num(v, 1)} standard deviations from this card's usual spending"
    ),
    "card_tx_count_1h": lambda v: f"{_num(v)} transactions on this card in the last hour",
    "card_tx_count_1d": lambda v: f"{_num(v)} transactions on this card in the last day",
    "card_large_count_7d": lambda v: f"{_num(v)} unusually large amounts on this card this week",
    "card_terminal_seen_30d": lambda v: (
        "terminal is new to this card"
        if v == 0
        else f"card used this terminal {_num(v)} times in the last 30 days"
    ),
    "card_seconds_since_prev": lambda v: (
        f"{_num(v / 60, 1)} minutes since the card's previous payment"
    ),
    "terminal_fraud_count_28d": lambda v: (
        f"terminal had {_num(v)} confirmed frauds in the last 28 days"
    ),
    "terminal_fraud_count_7d": lambda v: f"terminal had {_num(v)} confirmed frauds in a week",
    "terminal_fraud_count_1d": lambda v: f"terminal had {_num(v)} confirmed frauds in a day",
    "terminal_fraud_rate_28d": lambda v: (
        f"{_num(100 * v, 1)}% of this terminal's payments were fraud"
    ),
    "terminal_days_since_fraud": lambda v: (
        f"terminal's latest confirmed fraud was {_num(v, 1)} days before"
    ),
    "is_night": lambda v: "paid at night" if v else "paid during the day",
    "is_weekend": lambda v: "paid at the weekend" if v else "paid on a weekday",
}


def phrase(feature: str, value: float | None) -> str:
    """The sentence for a feature's value, or its description when it has no value."""
    if value is None or math.isnan(value):
        return f"{_description(feature)}: unknown"
    speak = _PHRASES.get(feature)
    if speak is not None:
        return speak(value)
    return f"{_description(feature)}: {_num(value, 2)}"


def _description(feature: str) -> str:
    try:
        return describe(feature)
    except KeyError:
        return feature


def top_contributions(
    names: Sequence[str],
    values: Sequence[float],
    contributions: Sequence[float],
    *,
    limit: int = 5,
) -> tuple[list[Contribution], list[Contribution]]:
    """The strongest risk factors and protective factors, each at most ``limit`` long."""
    items = [
        Contribution(name, _clean(value), float(c), phrase(name, _clean(value)))
        for name, value, c in zip(names, values, contributions, strict=False)
        if c != 0.0
    ]
    risk = sorted((i for i in items if i.contribution > 0), key=lambda i: -i.contribution)
    protective = sorted((i for i in items if i.contribution < 0), key=lambda i: i.contribution)
    return risk[:limit], protective[:limit]


def _clean(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def confidence(probability: float, review: float, block: float) -> str:
    """How sure the decision is: far from every threshold is "high"."""
    edges = [t for t in (review, block) if t <= 1.0]
    if not edges:
        return "high"
    nearest = min(abs(probability - t) / max(t, 1e-6) for t in edges)
    if nearest >= 0.5:
        return "high"
    return "medium" if nearest >= 0.15 else "low"
