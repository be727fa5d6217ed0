"""Signatures of signed calls already accepted, so that a captured call cannot be sent twice.

The signature is the primary key: of two processes inserting the same one, on SQLite or
PostgreSQL, exactly one succeeds, with no lock taken by txguard itself. A signature only
needs remembering while its timestamp could still pass the window: a call may be dated up
to one window ahead of its arrival and is accepted until one window after that date, so
rows older than twice the window are deleted on each call, through the index on
``received_at`` (an empty range scan at the rate deploys arrive).
"""

from datetime import datetime, timedelta

from sqlalchemy import Engine, Table, delete, insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from txguard.store.exceptions import StorageError, first_line
from txguard.store.orm import SeenSignatureRow

_SEEN: Table = SeenSignatureRow.__table__  # type: ignore[assignment]


def remember(engine: Engine, signature: str, received_at: datetime, window_s: int) -> bool:
    """Record ``signature`` as seen; False when it was seen before (a replay)."""
    cutoff = received_at - timedelta(seconds=2 * window_s)
    try:
        with engine.begin() as connection:
            connection.execute(delete(_SEEN).where(_SEEN.c.received_at < cutoff))
        with engine.begin() as connection:
            connection.execute(insert(_SEEN).values(signature=signature, received_at=received_at))
    except IntegrityError:
        return False
    except SQLAlchemyError as exc:
        raise StorageError(f"recording a webhook signature failed: {first_line(exc)}") from exc
    return True
