"""Retention on both backends: old rows go in small batches, with their labels, archived first."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from txguard.domain.enums import Decision, LabelSource
from txguard.domain.requests import RequestLogEntry
from txguard.store.exceptions import StorageError
from txguard.store.orm import LabelRow, RequestLogRow, TransactionRow
from txguard.store.request_log import RequestLogWriter
from txguard.store.retention import archive_path, count_older_than, delete_older_than

CUTOFF = datetime(2026, 10, 1, tzinfo=UTC)
OLD = CUTOFF - timedelta(days=3)


@pytest.fixture
def deletes(engine: Engine) -> Iterator[list[str]]:
    """The DELETE statements the engine runs, to see the batches."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        statement: str = args[2]
        if statement.lstrip().upper().startswith("DELETE"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def _log(received_at: datetime, i: int) -> RequestLogEntry:
    return RequestLogEntry(
        received_at=received_at,
        route="/api/v1/predict",
        transaction_id=f"tx-{i}",
        card_token=None,
        model_version="m-1",
        decision="approve",
        status_code=200,
        latency_ms=2.5,
    )


def _seed_logs(engine: Engine, old: int, new: int) -> None:
    entries = [_log(OLD + timedelta(minutes=i), i) for i in range(old)]
    entries += [_log(CUTOFF + timedelta(minutes=i), old + i) for i in range(new)]
    RequestLogWriter(engine)(entries)


def _seed_transactions(engine: Engine, old: int, new: int) -> None:
    """``old`` + ``new`` transactions, old ones first; every third one has two labels."""
    times = [OLD + timedelta(hours=i) for i in range(old)]
    times += [CUTOFF + timedelta(hours=i) for i in range(new)]
    with Session(engine) as session, session.begin():
        for i, occurred_at in enumerate(times):
            session.add(_transaction(f"t{i:03d}", occurred_at))
            if i % 3 == 0:
                session.add(_label(f"t{i:03d}", LabelSource.IMPORT, occurred_at))
                session.add(_label(f"t{i:03d}", LabelSource.CHARGEBACK, occurred_at))
        session.add(_label("not-yet-arrived", LabelSource.CHARGEBACK, OLD))


def _transaction(transaction_id: str, occurred_at: datetime) -> TransactionRow:
    return TransactionRow(
        transaction_id=transaction_id,
        occurred_at=occurred_at,
        amount=12.5,
        card_token="c" * 40,
        features={"V1": -1.5},
        source="api",
        decision=Decision.REVIEW,
        risk_score=55,
        reasons=["amount unusual for the card"],
        scored_at=occurred_at + timedelta(milliseconds=3),
    )


def _label(transaction_id: str, source: LabelSource, occurred_at: datetime) -> LabelRow:
    return LabelRow(
        transaction_id=transaction_id,
        is_fraud=source is LabelSource.CHARGEBACK,
        source=source,
        known_at=occurred_at + timedelta(days=7),
    )


def _rows(engine: Engine, row_type: type[Any]) -> list[dict[str, Any]]:
    """Every row of a table as the archive writes it: JSON values, times in ISO 8601."""
    table = row_type.__table__
    with engine.connect() as connection:
        rows = connection.execute(select(table).order_by(table.c.id)).mappings().all()
    return [json.loads(json.dumps(dict(row), default=datetime.isoformat)) for row in rows]


def _archived(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _transaction_ids(engine: Engine) -> list[str]:
    with Session(engine) as session:
        query = select(TransactionRow.transaction_id).order_by(TransactionRow.transaction_id)
        return list(session.scalars(query))


def _label_keys(engine: Engine) -> set[tuple[str, str]]:
    with Session(engine) as session:
        return {(row.transaction_id, row.source.value) for row in session.scalars(select(LabelRow))}


def test_old_request_logs_go_in_batches_and_newer_ones_stay(
    engine: Engine, deletes: list[str]
) -> None:
    _seed_logs(engine, old=23, new=4)
    before = _rows(engine, RequestLogRow)
    assert count_older_than(engine, "request_log", CUTOFF) == 23

    assert delete_older_than(engine, "request_log", CUTOFF, 5, None) == 23

    assert len(deletes) == 5  # 5 + 5 + 5 + 5 + 3
    assert _rows(engine, RequestLogRow) == before[23:]
    assert count_older_than(engine, "request_log", CUTOFF) == 0


def test_a_row_exactly_at_the_cutoff_is_kept(engine: Engine) -> None:
    RequestLogWriter(engine)([_log(CUTOFF, 0), _log(CUTOFF - timedelta(microseconds=1), 1)])
    assert delete_older_than(engine, "request_log", CUTOFF, 10, None) == 1
    assert [row["transaction_id"] for row in _rows(engine, RequestLogRow)] == ["tx-0"]


def test_an_exact_multiple_of_the_batch_size_is_all_deleted(engine: Engine) -> None:
    _seed_logs(engine, old=10, new=1)
    assert delete_older_than(engine, "request_log", CUTOFF, 5, None) == 10
    assert len(_rows(engine, RequestLogRow)) == 1


def test_nothing_old_deletes_nothing_and_writes_no_archive(engine: Engine, tmp_path: Path) -> None:
    _seed_logs(engine, old=0, new=3)
    assert delete_older_than(engine, "request_log", CUTOFF, 5, tmp_path / "archive") == 0
    assert len(_rows(engine, RequestLogRow)) == 3
    assert not any((tmp_path / "archive").glob("*"))


def test_old_decisions_go_with_their_labels_and_others_stay(
    engine: Engine, deletes: list[str]
) -> None:
    _seed_transactions(engine, old=12, new=3)
    assert count_older_than(engine, "decisions", CUTOFF) == 12

    assert delete_older_than(engine, "decisions", CUTOFF, 5, None) == 12

    assert len(deletes) == 3 * 3  # labels, case events and transactions, in 5 + 5 + 2
    assert _transaction_ids(engine) == ["t012", "t013", "t014"]
    assert _label_keys(engine) == {
        ("t012", "import"),
        ("t012", "chargeback"),
        ("not-yet-arrived", "chargeback"),
    }


def test_the_archive_holds_exactly_the_deleted_rows(engine: Engine, tmp_path: Path) -> None:
    _seed_logs(engine, old=23, new=4)
    _seed_transactions(engine, old=12, new=3)
    logs, transactions, labels = (
        _rows(engine, t) for t in (RequestLogRow, TransactionRow, LabelRow)
    )
    archive = tmp_path / "archive"

    delete_older_than(engine, "request_log", CUTOFF, 5, archive)
    delete_older_than(engine, "decisions", CUTOFF, 5, archive)

    assert _archived(archive_path(archive, "request_log", CUTOFF)) == logs[:23]
    assert _archived(archive_path(archive, "card_transaction", CUTOFF)) == transactions[:12]
    kept = {"t012", "not-yet-arrived"}
    assert sorted(_archived(archive_path(archive, "label", CUTOFF)), key=lambda r: r["id"]) == [
        row for row in labels if row["transaction_id"] not in kept
    ]
    assert sorted(p.name for p in archive.iterdir()) == [
        "card_transaction-before-2026-10-01T000000Z.jsonl",
        "label-before-2026-10-01T000000Z.jsonl",
        "request_log-before-2026-10-01T000000Z.jsonl",
    ]


def test_archived_times_are_iso_8601_in_utc(engine: Engine, tmp_path: Path) -> None:
    _seed_logs(engine, old=1, new=0)
    delete_older_than(engine, "request_log", CUTOFF, 5, tmp_path)
    (row,) = _archived(archive_path(tmp_path, "request_log", CUTOFF))
    assert row["received_at"] == "2026-09-28T00:00:00+00:00"


def test_a_second_run_with_the_same_cutoff_appends(engine: Engine, tmp_path: Path) -> None:
    _seed_logs(engine, old=2, new=0)
    delete_older_than(engine, "request_log", CUTOFF, 5, tmp_path)
    _seed_logs(engine, old=3, new=0)
    delete_older_than(engine, "request_log", CUTOFF, 5, tmp_path)
    assert len(_archived(archive_path(tmp_path, "request_log", CUTOFF))) == 5


def test_an_archive_that_cannot_be_written_deletes_nothing(engine: Engine, tmp_path: Path) -> None:
    _seed_logs(engine, old=7, new=0)
    not_a_directory = tmp_path / "archive"
    not_a_directory.write_text("", encoding="utf-8")
    with pytest.raises(StorageError, match="archive"):
        delete_older_than(engine, "request_log", CUTOFF, 5, not_a_directory)
    assert count_older_than(engine, "request_log", CUTOFF) == 7


def test_a_naive_cutoff_or_a_bad_batch_size_is_a_bug(engine: Engine) -> None:
    with pytest.raises(ValueError, match="naive"):
        delete_older_than(engine, "request_log", CUTOFF.replace(tzinfo=None), 5, None)
    with pytest.raises(ValueError, match="batch_size"):
        delete_older_than(engine, "request_log", CUTOFF, 0, None)


def test_the_api_can_keep_writing_while_old_rows_go(engine: Engine) -> None:
    _seed_logs(engine, old=200, new=0)
    stop = threading.Event()
    written: list[int] = []

    def serve() -> None:
        """Flushes of new entries until the run ends (at least one, at most 100)."""
        for _ in range(100):
            batch = [_log(CUTOFF + timedelta(days=1), len(written) + i) for i in range(20)]
            RequestLogWriter(engine)(batch)
            written.extend(range(len(batch)))
            if stop.is_set():
                return

    writer = threading.Thread(target=serve)
    writer.start()
    try:
        assert delete_older_than(engine, "request_log", CUTOFF, 7, None) == 200
    finally:
        stop.set()
        writer.join()
    assert count_older_than(engine, "request_log", CUTOFF) == 0
    assert len(_rows(engine, RequestLogRow)) == len(written) > 0
