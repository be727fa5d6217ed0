"""What the serving processes record about each request they answer, for operations.

The API builds these on the request path and a background writer stores them in batches,
so the value is plain, immutable and cheap to create. Like everything else written down,
it carries the card only as its token.
"""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RequestLogEntry:
    """One answered request; the scoring fields are None when the request never got scored."""

    received_at: datetime
    route: str
    transaction_id: str | None
    card_token: str | None
    model_version: str | None
    decision: str | None
    status_code: int
    latency_ms: float
