"""Bulk writes that skip rows already present, so importing the same file twice adds nothing.

PostgreSQL gets COPY into a temporary staging table and one ``INSERT ... SELECT ... ON
CONFLICT DO NOTHING`` (or, on a first load into empty tables, COPY straight into the table:
see :func:`bulk_load`); SQLite gets batched ``INSERT ... ON CONFLICT DO NOTHING``. Either way
the caller's transaction decides whether anything lands.
"""

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg import sql
from sqlalchemy import Connection, Table, UniqueConstraint, literal, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import (
    AddConstraint,
    CreateIndex,
    DropConstraint,
    DropIndex,
    ExecutableDDLElement,
)

from txguard.store.exceptions import StorageError, first_line
from txguard.store.orm import LabelRow, TransactionRow

TRANSACTION_COLUMNS = (
    "transaction_id",
    "occurred_at",
    "amount",
    "card_token",
    "terminal_id",
    "features",
    "source",
)
JSON_COLUMNS = frozenset({"features"})
LABEL_COLUMNS = ("transaction_id", "is_fraud", "source", "known_at", "fraud_scenario")
_TRANSACTIONS: Table = TransactionRow.__table__  # type: ignore[assignment]
_LABELS: Table = LabelRow.__table__  # type: ignore[assignment]


class BulkWriter:
    """Writes chunks of one file; straight COPY when the tables started empty (see bulk_load)."""

    def __init__(self, connection: Connection, *, fresh: bool) -> None:
        self._connection = connection
        self._fresh = fresh

    def insert_transactions(self, frame: pd.DataFrame) -> int:
        """Like :func:`insert_transactions`."""
        if not self._fresh:
            return insert_transactions(self._connection, frame)
        return _copy_direct(self._connection, _TRANSACTIONS, frame[list(TRANSACTION_COLUMNS)])

    def insert_labels(self, frame: pd.DataFrame) -> int:
        """Like :func:`insert_labels`."""
        if not self._fresh:
            return insert_labels(self._connection, frame)
        return _copy_direct(self._connection, _LABELS, frame[list(LABEL_COLUMNS)])


@contextmanager
def bulk_load(connection: Connection) -> Iterator[BulkWriter]:
    """A writer for one file's chunks, fast on a first load into empty PostgreSQL tables.

    Into empty tables there is nothing to conflict with (the loader has already refused
    duplicate ids), so rows are copied straight in and the secondary indexes and unique
    constraints are dropped and built once at the end, as ``pg_restore`` does: maintaining
    them row by row costs more than the load. All of it happens in the caller's transaction,
    so a failed load leaves rows, indexes and constraints as they were.
    """
    fresh = connection.dialect.name == "postgresql" and all(
        _is_empty(connection, t) for t in (_TRANSACTIONS, _LABELS)
    )
    deferred = _deferrable_structures() if fresh else []
    for drop, _ in deferred:
        connection.execute(drop)
    yield BulkWriter(connection, fresh=fresh)
    try:
        for _, create in deferred:
            connection.execute(create)
    except SQLAlchemyError as exc:
        raise StorageError(f"rebuilding indexes after the load failed: {first_line(exc)}") from exc
    if connection.dialect.name == "postgresql":
        # Fresh statistics for the planner, as PostgreSQL advises after a bulk load: without
        # them, a scoring lookup of 64 ids in ``label`` was planned as a 36 ms parallel scan.
        connection.execute(text(f"ANALYZE {_TRANSACTIONS.name}, {_LABELS.name}"))


def _deferrable_structures() -> list[tuple[ExecutableDDLElement, ExecutableDDLElement]]:
    """(drop, create) for every secondary index and unique constraint of the loaded tables.

    Built once after the load they sort instead of growing row by row; a duplicate that got
    in anyway makes the unique build fail, which rolls the whole load back.
    """
    pairs: list[tuple[ExecutableDDLElement, ExecutableDDLElement]] = []
    for table in (_TRANSACTIONS, _LABELS):
        pairs += [(DropIndex(ix), CreateIndex(ix)) for ix in table.indexes if not ix.unique]
        pairs += [
            (DropConstraint(c), AddConstraint(c))
            for c in table.constraints
            if isinstance(c, UniqueConstraint)
        ]
    return pairs


def _is_empty(connection: Connection, table: Table) -> bool:
    return connection.execute(select(literal(1)).select_from(table).limit(1)).first() is None


def insert_transactions(connection: Connection, frame: pd.DataFrame) -> int:
    """Insert the frame's rows (columns :data:`TRANSACTION_COLUMNS`); returns how many were new."""
    columns = frame[list(TRANSACTION_COLUMNS)]
    return _insert_ignoring(connection, _TRANSACTIONS, columns, ["transaction_id"])


def insert_labels(connection: Connection, frame: pd.DataFrame) -> int:
    """Insert labels (columns :data:`LABEL_COLUMNS`); one label per transaction and source."""
    conflict = ["transaction_id", "source"]
    return _insert_ignoring(connection, _LABELS, frame[list(LABEL_COLUMNS)], conflict)


def _insert_ignoring(
    connection: Connection, table: Table, frame: pd.DataFrame, conflict: list[str]
) -> int:
    if frame.empty:
        return 0
    try:
        if connection.dialect.name == "postgresql":
            return _copy_insert(connection, table, frame, conflict)
        return _sqlite_insert(connection, table, frame, conflict)
    except (SQLAlchemyError, psycopg.Error) as exc:
        raise StorageError(f"writing to {table.name} failed: {first_line(exc)}") from exc


def _sqlite_insert(
    connection: Connection, table: Table, frame: pd.DataFrame, conflict: list[str]
) -> int:
    columns = _python_columns(frame)
    records = [dict(zip(frame.columns, row, strict=True)) for row in zip(*columns, strict=True)]
    statement = sqlite_insert(table).on_conflict_do_nothing(index_elements=conflict)
    return int(connection.execute(statement, records).rowcount)


def _python_columns(frame: pd.DataFrame) -> list[list[Any]]:
    """Each column as a list of plain Python values, missing values as None."""
    out: list[list[Any]] = []
    for name in frame.columns:
        series = frame[name]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            values = list(series.dt.to_pydatetime())
        else:
            values = series.astype(object).tolist()
        out.append([None if _missing(v) else v for v in values])
    return out


def _missing(value: Any) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and value != value)
    )


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as COPY-ready CSV (pyarrow's writer, several times faster than pandas').

    Empty unquoted cells are NULL to PostgreSQL; documents become JSON text.
    """
    out = frame.copy()
    for name in JSON_COLUMNS.intersection(out.columns):
        out[name] = out[name].map(json.dumps, na_action="ignore")
    buffer = io.BytesIO()
    table = pa.Table.from_pandas(out, preserve_index=False)
    pa_csv.write_csv(table, buffer, pa_csv.WriteOptions(include_header=False))
    return buffer.getvalue()


def _copy(cursor: psycopg.Cursor[Any], target: sql.Composable, frame: pd.DataFrame) -> None:
    column_list = sql.SQL(", ").join(map(sql.Identifier, frame.columns))
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(target, column_list)
    with cursor.copy(statement) as copy:
        copy.write(_csv_bytes(frame))


def _copy_direct(connection: Connection, table: Table, frame: pd.DataFrame) -> int:
    if frame.empty:
        return 0
    try:
        with _raw(connection).cursor() as cursor:
            _copy(cursor, sql.Identifier(table.name), frame)
    except psycopg.Error as exc:
        raise StorageError(f"writing to {table.name} failed: {first_line(exc)}") from exc
    return len(frame)


def _raw(connection: Connection) -> psycopg.Connection[Any]:
    raw = connection.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise StorageError("COPY needs a PostgreSQL connection through psycopg 3")
    return raw


def _copy_insert(
    connection: Connection, table: Table, frame: pd.DataFrame, conflict: list[str]
) -> int:
    stage = sql.Identifier(f"_stage_{table.name}")
    target = sql.Identifier(table.name)
    column_list = sql.SQL(", ").join(map(sql.Identifier, frame.columns))
    keys = sql.SQL(", ").join(map(sql.Identifier, conflict))
    with _raw(connection).cursor() as cursor:
        cursor.execute(
            sql.SQL(
                "CREATE TEMP TABLE IF NOT EXISTS {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA"
            ).format(stage, column_list, target)
        )
        _copy(cursor, stage, frame)
        cursor.execute(
            sql.SQL(
                "INSERT INTO {} ({}) SELECT {} FROM {} ORDER BY {} ON CONFLICT ({}) DO NOTHING"
            ).format(target, column_list, column_list, stage, keys, keys)
        )
        added = cursor.rowcount
        cursor.execute(sql.SQL("TRUNCATE {}").format(stage))
    return int(added)
