"""The storage side of the request log: many entries, one statement, one commit.

The writer flushes whatever its queue holds, so this is called with hundreds or thousands
of entries at a time while the API keeps answering. One commit per row would cost more
than the requests themselves (DESIGN.md, "Facts measured"). The INSERT is compiled once
per engine and run with the driver's ``executemany`` (``store/compiled.py``): through
SQLAlchemy's execution its parameter processing was about 15 µs a row, every row of every
scoring request, on the same core as the requests. Rendering the rows as one multi-VALUES
statement was measured ten times slower, because SQLAlchemy cannot cache its compilation.
"""

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import Engine, Table, insert
from sqlalchemy.exc import SQLAlchemyError

from txguard.domain.requests import RequestLogEntry
from txguard.store.compiled import CompiledInsert
from txguard.store.exceptions import StorageError, first_line
from txguard.store.orm import RequestLogRow

_REQUEST_LOG: Table = RequestLogRow.__table__  # type: ignore[assignment]
_COLUMNS = tuple(f.name for f in fields(RequestLogEntry))


class RequestLogWriter:
    """Stores request-log entries on one engine, all of a call together or none."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._insert = CompiledInsert(_REQUEST_LOG, insert(_REQUEST_LOG), _COLUMNS, engine.dialect)

    def __call__(self, entries: Sequence[RequestLogEntry]) -> None:
        """Store ``entries``; on failure nothing is stored, so the flush can be retried whole."""
        if not entries:
            return
        try:
            rows = [self._insert.row(_row(entry)) for entry in entries]
            with self.engine.begin() as connection:
                connection.exec_driver_sql(self._insert.sql, rows)
        except (SQLAlchemyError, ValueError) as exc:  # ValueError: a column type refused a value
            raise StorageError(
                f"writing {len(entries)} request_log rows failed: {first_line(exc)}"
            ) from exc


def _row(entry: RequestLogEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in _COLUMNS}
