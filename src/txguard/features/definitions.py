"""The feature registry: names, meanings, windows, and whether a feature uses labels.

>>> [f.name for f in FEATURES][:3]
['amount', 'log_amount', 'card_tx_count_1h']
>>> describe("card_amount_ratio_30d")
"amount divided by the card's average over its previous 30 days"
"""

from dataclasses import dataclass
from datetime import timedelta

FEATURE_SET_VERSION = "2"
DAY = 86_400.0
CARD_WINDOWS = {"1h": 3_600.0, "1d": DAY, "7d": 7 * DAY, "30d": 30 * DAY}
TERMINAL_WINDOWS = {"1d": DAY, "7d": 7 * DAY, "30d": 30 * DAY}
LABEL_WINDOWS = {"1d": DAY, "7d": 7 * DAY, "28d": 28 * DAY}
HISTORY = 30 * DAY  # the card's own history for ratios, z-scores and new terminals
LARGE_RATIO = 3.0  # "unusually large": more than 3 x the card's 30-day average
RECENT_LABELS = 5  # the terminal's latest labelled transactions, for its current fraud share


@dataclass(frozen=True)
class FeatureConfig:
    """How features are computed; the label delay decides which labels are usable."""

    label_delay: timedelta = timedelta(days=7)

    @property
    def delay_seconds(self) -> float:
        """The label delay in seconds."""
        return self.label_delay.total_seconds()


@dataclass(frozen=True)
class FeatureDefinition:
    """One feature: its name, what it means to an analyst, and whether it reads labels."""

    name: str
    description: str
    uses_labels: bool = False


def _card() -> list[FeatureDefinition]:
    out: list[FeatureDefinition] = []
    for w in CARD_WINDOWS:
        out += [
            FeatureDefinition(f"card_tx_count_{w}", f"transactions on the card in the last {w}"),
            FeatureDefinition(f"card_amount_sum_{w}", f"amount spent by the card in the last {w}"),
            FeatureDefinition(f"card_amount_mean_{w}", f"card's average amount in the last {w}"),
        ]
    return out + [
        FeatureDefinition(
            "card_amount_ratio_30d",
            "amount divided by the card's average over its previous 30 days",
        ),
        FeatureDefinition(
            "card_amount_zscore_30d", "standard deviations above the card's previous 30 days"
        ),
        FeatureDefinition(
            "card_seconds_since_prev", "seconds since the card's previous transaction"
        ),
        FeatureDefinition(
            "card_large_count_7d", "unusually large amounts on the card in the previous 7 days"
        ),
        FeatureDefinition(
            "card_terminal_seen_30d", "times the card used this terminal in the previous 30 days"
        ),
    ]


def _terminal() -> list[FeatureDefinition]:
    out = [
        FeatureDefinition(f"terminal_tx_count_{w}", f"transactions on the terminal in the last {w}")
        for w in TERMINAL_WINDOWS
    ]
    for w in LABEL_WINDOWS:
        out += [
            FeatureDefinition(
                f"terminal_fraud_count_{w}", f"confirmed frauds on the terminal over {w}", True
            ),
            FeatureDefinition(
                f"terminal_fraud_rate_{w}",
                f"share of the terminal's transactions that were fraud over {w}",
                True,
            ),
        ]
    return out + [
        FeatureDefinition(
            "terminal_days_since_fraud", "days since the terminal's latest confirmed fraud", True
        ),
        FeatureDefinition(
            "terminal_days_since_first_fraud",
            "days since the terminal's earliest confirmed fraud over 28d: how long an attack has"
            " lasted",
            True,
        ),
        FeatureDefinition(
            "terminal_fraud_share_since_first",
            "share of the terminal's transactions that were fraud since that earliest fraud",
            True,
        ),
        FeatureDefinition(
            f"terminal_fraud_share_last{RECENT_LABELS}",
            f"share of fraud among the terminal's latest {RECENT_LABELS} transactions with usable"
            " labels (over 28d)",
            True,
        ),
    ]


FEATURES: tuple[FeatureDefinition, ...] = (
    FeatureDefinition("amount", "transaction amount"),
    FeatureDefinition("log_amount", "natural log of 1 + amount"),
    FeatureDefinition("hour", "hour of day (UTC) when the transaction happened"),
    FeatureDefinition("is_weekend", "1 when the transaction happened on a Saturday or Sunday"),
    FeatureDefinition("is_night", "1 when the transaction happened between 00:00 and 06:59"),
    *_card(),
    *_terminal(),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
LABEL_FEATURES: frozenset[str] = frozenset(f.name for f in FEATURES if f.uses_labels)
_BY_NAME = {f.name: f for f in FEATURES}


def describe(name: str) -> str:
    """The analyst-facing meaning of a feature."""
    return _BY_NAME[name].description
