"""The storage side of the request log: many entries, one statement, one commit.

The writer flushes whatever its queue holds, so this is called with hundreds or thousands
of entries at a time while the API keeps answering. One commit per row would cost more
than the requests themselves (DESIGN.md, "Facts measured"); a single executemany of one
Core INSERT in one transaction, with no ORM objects, keeps the cost per row to the
driver's own (psycopg pipelines it, sqlite3 reuses one prepared statement). Rendering the
rows as one multi-VALUES statement was measured ten times slower, because SQLAlchemy
cannot cache its compilation.
"""

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import Engine, Table, insert
from sqlalchemy.exc import SQLAlchemyError

from txguard.domain.requests import RequestLogEntry
from txguard.store.exceptions import StorageError, first_line
from txguard.store.orm import RequestLogRow

_REQUEST_LOG: Table = RequestLogRow.__table__  # type: ignore[assignment]
_COLUMNS = tuple(f.name for f in fields(RequestLogEntry))


def insert_request_logs(engine: Engine, entries: Sequence[RequestLogEntry]) -> None:
    """Store ``entries`` all together or not at all, so a failed flush can be retried whole."""
    if not entries:
        return
    rows = [_row(entry) for entry in entries]
    try:
        with engine.begin() as connection:
            connection.execute(insert(_REQUEST_LOG), rows)
    except SQLAlchemyError as exc:
        raise StorageError(
            f"writing {len(rows)} request_log rows failed: {first_line(exc)}"
        ) from exc


def _row(entry: RequestLogEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in _COLUMNS}
