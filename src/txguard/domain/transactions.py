"""A card transaction as the scoring pipeline receives it, whatever transport brought it.

HTTP, Kafka and file replay all build this one value, so the pipeline has a single input
shape. The card arrives already tokenised: a clear card number never goes past the edge.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class Transaction:
    """One payment to score; only the id, the time and the amount are required."""

    transaction_id: str
    occurred_at: datetime
    amount: float
    card_token: str | None = None
    terminal_id: str | None = None
    merchant_category: str | None = None
    country: str | None = None
    card_home_country: str | None = None
    currency: str | None = None
    channel: str | None = None
    extras: Mapping[str, float] = field(default_factory=dict)

    @property
    def time_ms(self) -> int:
        """Event time in whole milliseconds since the epoch, the unit of feature windows."""
        return epoch_ms(self.occurred_at)


def epoch_ms(moment: datetime) -> int:
    """An aware time in whole milliseconds since the epoch."""
    return (moment - EPOCH) // _MS
