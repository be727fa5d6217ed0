"""Scored transactions in and out of ``card_transaction``, on the authorisation path.

The scoring service calls these from its batching threads for every transaction, so they are
compiled once and run on the driver's connection: building and executing a SQLAlchemy
statement costs about 250 µs a call here, the driver's own ``execute`` about 5 µs on SQLite.
The values still go through each column's SQLAlchemy type (``bind_processor``), so a row
written here reads back through the ORM exactly like one written by it.

A transaction id is stored once; a second insert of the same id (a payment network's retry
that reached another process) changes nothing and is reported, so the caller can answer with
the decision that was stored first.
"""

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import orjson
from sqlalchemy import Engine, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from txguard.store.base import utcnow
from txguard.store.compiled import CompiledInsert
from txguard.store.exceptions import StorageUnavailable, first_line
from txguard.store.orm import TransactionRow

_T: Table = TransactionRow.__table__  # type: ignore[assignment]
_INSERTED = (c.name for c in _T.columns if c.name not in ("id", "updated_at"))
INSERT_COLUMNS = tuple(_INSERTED)
DECISION_COLUMNS = (
    "transaction_id",
    "decision",
    "fraud_probability",
    "anomaly_score",
    "risk_score",
    "model_version",
    "processing_time_ms",
    "degraded",
    "explanation",
)
SQLITE_CHUNK = 500  # ids per lookup statement; SQLite allows 32,766 bound variables


class DecisionStatements:
    """The three statements of the scoring path, compiled for one engine's dialect."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = engine.dialect
        dbapi = dialect.loaded_dbapi
        self._unreachable: tuple[type[Exception], ...] = (
            DBAPIError,
            dbapi.OperationalError,
            dbapi.InterfaceError,
        )
        self._postgres = dialect.name == "postgresql"
        self._held = threading.local()
        self._open: set[Any] = set()
        self._lock = threading.Lock()
        returning = _insert(engine).returning(_T.c.transaction_id)
        self._returning = CompiledInsert(_T, returning, INSERT_COLUMNS, dialect)
        self._plain = CompiledInsert(_T, _insert(engine), INSERT_COLUMNS, dialect)
        mark = "%s" if self._postgres else "?"
        match = "= ANY(%s)" if self._postgres else f"= {mark}"
        columns = ", ".join(DECISION_COLUMNS)
        self._select_sql = f"SELECT {columns} FROM card_transaction WHERE transaction_id {match}"  # noqa: S608 -- constant column names, bound values  # nosec B608
        self._labels_sql = (
            "SELECT transaction_id, MAX(CASE WHEN is_fraud THEN 1 ELSE 0 END) FROM label "  # noqa: S608 -- constant column names, bound values  # nosec B608
            f"WHERE transaction_id {match} GROUP BY transaction_id"
        )

    def insert(self, rows: Sequence[Mapping[str, Any]]) -> set[str]:
        """Insert scored transactions in one transaction; the ids that were already stored."""
        if not rows:
            return set()
        with self._unreachable_as_storage_error():
            return self._insert(rows)

    def _insert(self, rows: Sequence[Mapping[str, Any]]) -> set[str]:
        fixed = {"created_at": self._plain.bind("created_at", utcnow())}  # one for the batch
        params = [self._plain.row(row, fixed) for row in rows]
        ids = {row["transaction_id"] for row in rows}
        with self._connection(reading=False) as connection:
            try:
                cursor = connection.cursor()
                if self._postgres:
                    existed = ids - self._returned(cursor, params)
                else:
                    existed = self._sqlite_insert(cursor, params, ids, fixed["created_at"])
                connection.commit()
            except BaseException:
                connection.rollback()
                raise
        return existed

    def _returned(self, cursor: Any, params: list[Any]) -> set[str]:
        """psycopg pipelines ``executemany`` and returns each statement's ``RETURNING``."""
        inserted: set[str] = set()
        cursor.executemany(self._returning.sql, params, returning=True)
        while True:
            inserted.update(r[0] for r in cursor.fetchall())
            if not cursor.nextset():
                return inserted

    def _sqlite_insert(self, cursor: Any, params: list[Any], ids: set[str], ours: Any) -> set[str]:
        """One ``executemany`` (sqlite3 returns no rows from it); conflicts are rare.

        When fewer rows went in than were given, the ones already stored are those whose
        ``created_at`` is not this batch's (``ours``, as bound): every row of a batch carries
        the same one.
        """
        cursor.executemany(self._plain.sql, params)
        if cursor.rowcount == len(params):
            return set()
        existed: set[str] = set()
        for tid in ids:
            cursor.execute(
                "SELECT created_at FROM card_transaction WHERE transaction_id = ?", (tid,)
            )
            found = cursor.fetchone()
            if found is not None and found[0] != ours:
                existed.add(tid)
        return existed

    def stored(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored decision of each id that has one, in the decision output's field names."""
        return self.lookup(ids)[0]

    def pending_labels(self, ids: Sequence[str]) -> dict[str, bool]:
        """Labels reported before their transaction arrived: fraud if any source says so."""
        return self.lookup(ids, decisions=False)[1]

    def lookup(
        self, ids: Sequence[str], *, decisions: bool = True
    ) -> tuple[dict[str, dict[str, Any]], dict[str, bool]]:
        """The stored decisions of ``ids``, and the labels waiting for the others.

        Both on one connection: on PostgreSQL each checkout, commit and return is a round
        trip, and each wakes the deciding thread, which then waits for the GIL.
        """
        if not ids:
            return {}, {}
        with self._unreachable_as_storage_error(), self._connection(reading=True) as connection:
            cursor = connection.cursor()
            found = self._fetch(cursor, self._select_sql, ids) if decisions else []
            stored = {
                row[0]: decision_document(dict(zip(DECISION_COLUMNS, row, strict=True)))
                for row in found
            }
            missing = [i for i in ids if i not in stored]
            labels = self._fetch(cursor, self._labels_sql, missing) if missing else []
            connection.commit()
        return stored, {row[0]: bool(row[1]) for row in labels}

    @contextmanager
    def _connection(self, *, reading: bool) -> Iterator[Any]:
        """The calling thread's own connection, kept between calls.

        A pooled checkout pings PostgreSQL, and a checkin rolls back: on the deciding thread
        that is a round trip per call, and on SQLite the pool's bookkeeping cost as much as
        the lookup. On PostgreSQL a read inside a transaction adds BEGIN and COMMIT, so reads
        run in autocommit (SQLite starts no transaction for a read). After any error the
        connection is dropped, and the next call (the caller's retry) opens a fresh one.
        """
        held: Any = getattr(self._held, "connection", None)
        if held is None or not held.is_valid:
            held = self._held.connection = self.engine.raw_connection()
            with self._lock:
                self._open.add(held)
        try:
            if self._postgres:
                held.driver_connection.autocommit = reading
            yield held
        except BaseException:
            self._held.connection = None
            self._release(held, invalidate=True)
            raise

    def close(self) -> None:
        """Return the connections threads kept, e.g. when the service stops."""
        with self._lock:
            held = list(self._open)
        for connection in held:
            self._release(connection, invalidate=False)

    def _release(self, connection: Any, *, invalidate: bool) -> None:
        with self._lock:
            if connection not in self._open:
                return
            self._open.discard(connection)
        with suppress(Exception):
            if invalidate:
                connection.invalidate()
            connection.close()

    @contextmanager
    def _unreachable_as_storage_error(self) -> Iterator[None]:
        """The driver's own connection errors, which SQLAlchemy does not wrap on this path."""
        try:
            yield
        except self._unreachable as exc:
            raise StorageUnavailable(f"the database is unreachable: {first_line(exc)}") from exc

    def _fetch(self, cursor: Any, sql: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
        unique = list(set(ids))
        if self._postgres:
            cursor.execute(sql, (unique,))
            return list(cursor.fetchall())
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(unique), SQLITE_CHUNK):  # within SQLite's bound variables
            chunk = unique[start : start + SQLITE_CHUNK]
            cursor.execute(sql.replace("= ?", _in_list(len(chunk))), chunk)
            rows += cursor.fetchall()
        return rows


def _in_list(count: int) -> str:
    return "IN (" + ",".join("?" * count) + ")"


def _insert(engine: Engine) -> Insert:
    if engine.dialect.name == "postgresql":
        return postgresql.insert(_T).on_conflict_do_nothing(index_elements=["transaction_id"])
    return sqlite.insert(_T).on_conflict_do_nothing(index_elements=["transaction_id"])


def decision_document(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A stored row as the decision output (DESIGN.md "Decision output")."""
    decision = row["decision"]
    value = getattr(decision, "value", decision)
    explanation = row["explanation"]
    if isinstance(explanation, str | bytes):
        explanation = orjson.loads(explanation)
    return {
        "transaction_id": row["transaction_id"],
        "is_fraud": value is not None and value != "approve",
        "fraud_probability": row["fraud_probability"],
        "anomaly_score": row["anomaly_score"],
        "risk_score": row["risk_score"],
        "decision": value,
        "model_version": row["model_version"],
        "processing_time_ms": row["processing_time_ms"],
        "degraded": bool(row["degraded"]),
        "explanation": explanation,
    }
