"""Bulk writes that skip rows already present, so importing the same file twice adds nothing.

PostgreSQL gets COPY into a temporary staging table and one ``INSERT ... SELECT ... ON
CONFLICT DO NOTHING``; SQLite gets batched ``INSERT ... ON CONFLICT DO NOTHING`` inside the
caller's transaction. Either way the caller's transaction decides whether anything lands.
"""

import json
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql
from sqlalchemy import Connection, Table
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from txguard.store.exceptions import StorageError
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
LABEL_COLUMNS = ("transaction_id", "is_fraud", "source", "known_at", "fraud_scenario")


def insert_transactions(connection: Connection, frame: pd.DataFrame) -> int:
    """Insert the frame's rows (columns :data:`TRANSACTION_COLUMNS`); returns how many were new."""
    table = TransactionRow.__table__
    return _insert_ignoring(connection, table, frame[list(TRANSACTION_COLUMNS)], ["transaction_id"])  # type: ignore[arg-type]


def insert_labels(connection: Connection, frame: pd.DataFrame) -> int:
    """Insert labels (columns :data:`LABEL_COLUMNS`); one label per transaction and source."""
    table = LabelRow.__table__
    conflict = ["transaction_id", "source"]
    return _insert_ignoring(connection, table, frame[list(LABEL_COLUMNS)], conflict)  # type: ignore[arg-type]


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
        raise StorageError(f"writing to {table.name} failed: {_first_line(exc)}") from exc


def _sqlite_insert(
    connection: Connection, table: Table, frame: pd.DataFrame, conflict: list[str]
) -> int:
    columns = _python_columns(frame)
    records = [dict(zip(frame.columns, row, strict=True)) for row in zip(*columns, strict=True)]
    statement = sqlite_insert(table).on_conflict_do_nothing(index_elements=conflict)
    return int(connection.execute(statement, records).rowcount)


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else exc.__class__.__name__


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


def _csv_text(frame: pd.DataFrame) -> str:
    """The frame as COPY-ready CSV: empty cells are NULL, documents are JSON text."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            # numpy formats ISO timestamps in C; pandas' date_format goes through strftime per row.
            utc = column.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]")
            out[name] = np.datetime_as_string(utc, unit="us", timezone="UTC")
        elif column.dtype == object and column.map(lambda v: isinstance(v, dict)).any():
            out[name] = column.map(json.dumps, na_action="ignore")
    return out.to_csv(index=False, header=False)


def _copy_insert(
    connection: Connection, table: Table, frame: pd.DataFrame, conflict: list[str]
) -> int:
    raw = connection.connection.driver_connection
    stage = sql.Identifier(f"_stage_{table.name}")
    target = sql.Identifier(table.name)
    column_list = sql.SQL(", ").join(map(sql.Identifier, frame.columns))
    keys = sql.SQL(", ").join(map(sql.Identifier, conflict))
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(
            sql.SQL(
                "CREATE TEMP TABLE IF NOT EXISTS {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA"
            ).format(stage, column_list, target)
        )
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(stage, column_list)
        with cursor.copy(copy_sql) as copy:
            copy.write(_csv_text(frame))
        cursor.execute(
            sql.SQL(
                "INSERT INTO {} ({}) SELECT {} FROM {} ORDER BY {} ON CONFLICT ({}) DO NOTHING"
            ).format(target, column_list, column_list, stage, keys, keys)
        )
        added = cursor.rowcount
        cursor.execute(sql.SQL("TRUNCATE {}").format(stage))
    return int(added)
