"""Deleting what is past its retention period, while the API keeps writing.

Work goes in batches, each its own short transaction, so the API's inserts and the
analysts' updates never queue behind one long delete, and a run stopped half-way has
still done useful work; each batch moves past the last id it saw, so PostgreSQL does not
rescan the dead rows of earlier batches. The rows are deleted with ``RETURNING``: what goes
to the archive is exactly what the database removed, even if a row changed between
choosing the batch and deleting it.

"decisions" are scored transactions. Their labels and case history (matched by ``transaction_id``, as labels
have no foreign key) are deleted in the same batch transaction, because a label whose
transaction is gone can no longer train or explain anything. A label whose transaction is
not stored at all (a chargeback that came first) is not old data and is kept.

With an archive directory, every batch's rows are appended to JSON-lines files, one per
table and run, and fsynced before the batch commits. A crash can leave a row in the archive
that is still in the database (and is archived again by the next run); it can never leave
a deleted row that is in neither.
"""

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Literal, TextIO

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    RowMapping,
    Table,
    delete,
    func,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from txguard.store.exceptions import StorageError, first_line
from txguard.store.orm import CaseEventRow, LabelRow, RequestLogRow, TransactionRow

RetainedData = Literal["request_log", "decisions"]

# Batch ids are bound one parameter each; SQLite allows 32,766 per statement.
MAX_BATCH_SIZE = 30_000


@dataclass(frozen=True)
class _Target:
    """A table that ages out by one time column, and the tables whose rows go with its rows.

    Dependants refer to the table by ``transaction_id``, without a foreign key.
    """

    table: Table
    time_column: str
    dependants: tuple[Table, ...] = ()

    def is_old(self, cutoff: datetime) -> ColumnElement[bool]:
        return self.table.c[self.time_column] < cutoff


_TARGETS: dict[str, _Target] = {
    "request_log": _Target(RequestLogRow.__table__, "received_at"),  # type: ignore[arg-type]
    "decisions": _Target(
        TransactionRow.__table__,  # type: ignore[arg-type]
        "occurred_at",
        dependants=(LabelRow.__table__, CaseEventRow.__table__),  # type: ignore[arg-type]
    ),
}


def delete_older_than(
    engine: Engine,
    table: RetainedData,
    cutoff: datetime,
    batch_size: int,
    archive: Path | None,
) -> int:
    """Delete ``table``'s rows older than ``cutoff``; the count excludes labels deleted with them.

    ``archive``, when given, is a directory (created if missing) that receives the rows
    before they go: see the module docstring.
    """
    target = _target(table)
    _check(cutoff, batch_size)
    deleted, after_id = 0, 0
    with _Archive(archive, cutoff) as sink:
        while True:
            ids, removed = _delete_batch(engine, target, cutoff, batch_size, after_id, sink)
            deleted += removed
            if len(ids) < batch_size:
                return deleted
            after_id = ids[-1]


def count_older_than(engine: Engine, table: RetainedData, cutoff: datetime) -> int:
    """How many rows :func:`delete_older_than` would delete now, labels excluded."""
    target = _target(table)
    _check(cutoff, 1)
    statement = select(func.count()).select_from(target.table).where(target.is_old(cutoff))
    try:
        with engine.connect() as connection:
            return int(connection.execute(statement).scalar_one())
    except SQLAlchemyError as exc:
        raise StorageError(f"counting old {table} rows failed: {first_line(exc)}") from exc


def archive_path(directory: Path, table_name: str, cutoff: datetime) -> Path:
    """The file a run with ``cutoff`` appends ``table_name``'s rows to.

    The cutoff is computed from the clock, so each run gets files of its own, and sorting
    the names sorts the runs.
    """
    stamp = cutoff.astimezone(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    return directory / f"{table_name}-before-{stamp}.jsonl"


def _target(table: str) -> _Target:
    try:
        return _TARGETS[table]
    except KeyError:
        raise ValueError(f"unknown retained data {table!r}; one of {sorted(_TARGETS)}") from None


def _check(cutoff: datetime, batch_size: int) -> None:
    """Refuse what only a caller's bug produces; the CLI checks what users type."""
    if cutoff.tzinfo is None:
        raise ValueError(f"naive cutoff {cutoff!r}: txguard compares aware UTC times only")
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_SIZE}, got {batch_size}")


def _delete_batch(
    engine: Engine,
    target: _Target,
    cutoff: datetime,
    batch_size: int,
    after_id: int,
    sink: "_Archive",
) -> tuple[Sequence[int], int]:
    """One transaction: the ids chosen (to move on from) and how many rows went."""
    try:
        with engine.begin() as connection:
            ids = _next_ids(connection, target, cutoff, batch_size, after_id)
            if not ids:
                return ids, 0
            for dependant in target.dependants:
                gone = _delete_dependant(connection, target, dependant, cutoff, ids)
                sink.write(dependant.name, gone)
            rows = _delete_rows(connection, target, cutoff, ids)
            sink.write(target.table.name, rows)
            return ids, len(rows)
    except SQLAlchemyError as exc:
        raise StorageError(
            f"deleting old {target.table.name} rows failed: {first_line(exc)}"
        ) from exc


def _next_ids(
    connection: Connection, target: _Target, cutoff: datetime, batch_size: int, after_id: int
) -> Sequence[int]:
    id_column = target.table.c.id
    statement = (
        select(id_column)
        .where(target.is_old(cutoff), id_column > after_id)
        .order_by(id_column)
        .limit(batch_size)
    )
    return connection.scalars(statement).all()


def _delete_rows(
    connection: Connection, target: _Target, cutoff: datetime, ids: Sequence[int]
) -> Sequence[RowMapping]:
    """Deletes the chosen rows still old (the cutoff is checked again), returning them whole."""
    table = target.table
    statement = delete(table).where(table.c.id.in_(ids), target.is_old(cutoff)).returning(*table.c)
    return connection.execute(statement).mappings().all()


def _delete_dependant(
    connection: Connection,
    target: _Target,
    dependant: Table,
    cutoff: datetime,
    ids: Sequence[int],
) -> Sequence[RowMapping]:
    """Deletes the rows that refer to the chosen ones; before them, while they can be matched."""
    keys = select(target.table.c.transaction_id).where(
        target.table.c.id.in_(ids), target.is_old(cutoff)
    )
    statement = (
        delete(dependant).where(dependant.c.transaction_id.in_(keys)).returning(*dependant.c)
    )
    return connection.execute(statement).mappings().all()


class _Archive:
    """The run's JSON-lines files, opened on first use so a run deleting nothing writes none."""

    def __init__(self, directory: Path | None, cutoff: datetime) -> None:
        self._directory = directory
        self._cutoff = cutoff
        self._files: dict[str, TextIO] = {}

    def __enter__(self) -> "_Archive":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for file in self._files.values():
            file.close()

    def write(self, table_name: str, rows: Sequence[RowMapping]) -> None:
        """Append ``rows`` and make them durable: the caller commits the delete only after."""
        if self._directory is None or not rows:
            return
        lines = "".join(_json_line(row) for row in rows)
        try:
            file = self._file(self._directory, table_name)
            file.write(lines)
            file.flush()
            os.fsync(file.fileno())
        except OSError as exc:
            raise StorageError(f"archive {self._directory}: {exc.strerror or exc}") from exc

    def _file(self, directory: Path, table_name: str) -> TextIO:
        if table_name not in self._files:
            path = archive_path(directory, table_name, self._cutoff)
            self._files[table_name] = _open_for_append(path)
        return self._files[table_name]


def _open_for_append(path: Path) -> TextIO:
    """Open ``path`` to append whole lines, its directory entry durable too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    file = path.open("a", encoding="utf-8")
    if not created and path.stat().st_size and not _ends_with_newline(path):
        file.write("\n")  # a line cut short by a crash stays on its own line
    if created:
        _fsync_directory(path.parent)
    return file


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as existing:
        existing.seek(-1, os.SEEK_END)
        return existing.read(1) == b"\n"


def _fsync_directory(directory: Path) -> None:
    """A new file's name is only durable once its directory is synced (POSIX only)."""
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _json_line(row: RowMapping) -> str:
    return json.dumps(dict(row), default=_json_value, ensure_ascii=False) + "\n"


def _json_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot archive a {type(value).__name__} as JSON")
