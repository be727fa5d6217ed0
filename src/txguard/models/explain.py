"""Turn the model's own TreeSHAP contributions into sentences an analyst can act on.

The numbers come from the model (exact TreeSHAP on the booster), never from a surrogate;
this module only chooses which to show and how to say them. A contribution that pushes
towards fraud is a risk factor; one that pushes away is a protective factor.
"""

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
        """JSON-ready (by hand: ``dataclasses.asdict`` deep-copies, ten times the cost)."""
        return {
            "feature": self.feature,
            "value": self.value,
            "contribution": self.contribution,
            "text": self.text,
        }


def _num(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


_WINDOW_WORDS = {"1h": "hour", "1d": "day", "7d": "7 days", "28d": "28 days", "30d": "30 days"}

_PHRASES: dict[str, Callable[[float], str]] = {
    "amount": lambda v: f"amount is {_num(v, 2)}",
    "log_amount": lambda v: f"amount is {_num(math.expm1(v), 2)}",
    "hour": lambda v: f"paid at {int(v):02d}:00-{int(v):02d}:59 UTC",
    "card_amount_ratio_30d": lambda v: f"amount is {_num(v, 1)} × this card's 30-day average",
    "card_amount_zscore_30d": lambda v: (
        f"amount is {_num(v, 1)} standard deviations from this card's usual spending"
    ),
    "card_large_count_7d": lambda v: f"{_num(v)} unusually large amounts on this card this week",
    "card_terminal_seen_30d": lambda v: (
        "terminal is new to this card"
        if v == 0
        else f"card used this terminal {_num(v)} times in the last 30 days"
    ),
    "card_seconds_since_prev": lambda v: (
        f"{_num(v / 60, 1)} minutes since the card's previous payment"
    ),
    "terminal_days_since_fraud": lambda v: (
        f"terminal's latest confirmed fraud was {_num(v, 1)} days before"
    ),
    "is_night": lambda v: "paid at night" if v else "paid during the day",
    "is_weekend": lambda v: "paid at the weekend" if v else "paid on a weekday",
}

_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[float, str], str]], ...] = (
    (
        re.compile(r"card_tx_count_(\w+)"),
        lambda v, w: f"{_num(v)} payments on this card in the last {w}",
    ),
    (re.compile(r"card_amount_sum_(\w+)"), lambda v, w: f"card spent {_num(v, 2)} in the last {w}"),
    (
        re.compile(r"card_amount_mean_(\w+)"),
        lambda v, w: f"card's average payment over the last {w} is {_num(v, 2)}",
    ),
    (
        re.compile(r"terminal_tx_count_(\w+)"),
        lambda v, w: f"{_num(v)} payments at this terminal in the last {w}",
    ),
    (
        re.compile(r"terminal_fraud_count_(\w+)"),
        lambda v, w: f"terminal had {_num(v)} confirmed frauds over {w} (labels 7+ days old)",
    ),
    (
        re.compile(r"terminal_fraud_rate_(\w+)"),
        lambda v, w: f"{_num(100 * v, 1)}% of this terminal's payments over {w} were fraud",
    ),
)


def phrase(feature: str, value: float | None) -> str:
    """The sentence for a feature's value, or its description when it has no value."""
    if value is None or math.isnan(value):
        return f"{_description(feature)}: unknown"
    speak = _PHRASES.get(feature)
    if speak is not None:
        return speak(value)
    for pattern, say in _PATTERNS:
        match = pattern.fullmatch(feature)
        if match:
            return say(value, _WINDOW_WORDS.get(match.group(1), match.group(1)))
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
    """The strongest risk factors and protective factors, each at most ``limit`` long.

    Only the factors shown are put in words: phrasing every feature costs more than the
    choice.
    """
    pushes = [(float(c), n, v) for n, v, c in zip(names, values, contributions, strict=False)]
    risk = sorted((p for p in pushes if p[0] > 0), key=lambda p: -p[0])[:limit]
    protective = sorted((p for p in pushes if p[0] < 0), key=lambda p: p[0])[:limit]
    return [_worded(p) for p in risk], [_worded(p) for p in protective]


def _worded(push: tuple[float, str, float]) -> Contribution:
    contribution, name, value = push
    clean = _clean(value)
    return Contribution(name, clean, contribution, phrase(name, clean))


def _clean(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def confidence(probability: float) -> str:
    """How sure the model is either way: a calibrated 0.996 or 0.004 are both "high".

    >>> confidence(0.004), confidence(0.3), confidence(0.55)
    ('high', 'medium', 'low')
    """
    certainty = max(probability, 1.0 - probability)
    if certainty >= 0.9:
        return "high"
    return "medium" if certainty >= 0.65 else "low"
