"""An operator ages data out from cron: counts and cutoffs printed, bad input refused plainly."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.fixtures.cli import Txguard

from txguard.cli import retention as cli_retention
from txguard.domain.requests import RequestLogEntry
from txguard.store import retention as store_retention
from txguard.store.engine import create_db_engine
from txguard.store.orm import LabelRow, RequestLogRow, TransactionRow
from txguard.store.request_log import RequestLogWriter

NOW = datetime.now(UTC)


def _seed(db_url: str) -> None:
    """Request logs 31 and 1 days old; transactions 1900 and 10 days old, each labelled."""
    engine = create_db_engine(db_url)
    RequestLogWriter(engine)([_log(NOW - timedelta(days=days)) for days in (31, 31, 1)])
    with Session(engine) as session, session.begin():
        for name, days in (("old", 1900), ("recent", 10)):
            occurred_at = NOW - timedelta(days=days)
            session.add(
                TransactionRow(
                    transaction_id=name, occurred_at=occurred_at, amount=10.0, source="api"
                )
            )
            session.add(
                LabelRow(transaction_id=name, is_fraud=False, source="import", known_at=occurred_at)
            )
    engine.dispose()


def _log(received_at: datetime) -> RequestLogEntry:
    return RequestLogEntry(received_at, "/api/v1/predict", None, None, None, None, 200, 1.0)


def _counts(db_url: str) -> tuple[int, int, int]:
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        counts = tuple(
            int(session.scalar(select(func.count()).select_from(row)) or 0)
            for row in (RequestLogRow, TransactionRow, LabelRow)
        )
    engine.dispose()
    return counts  # type: ignore[return-value]


def test_run_deletes_what_is_past_the_default_periods(txguard: Txguard, db_url: str) -> None:
    _seed(db_url)
    result = txguard("retention", "run", "--batch-size", "1")
    assert result.exit_code == 0, result.output
    assert "request_log: deleted 2 request_log rows received before" in result.output
    assert "(older than 30 days)" in result.output
    assert "decisions: deleted 1 transactions (with their labels)" in result.output
    assert "(older than 1825 days)" in result.output
    cutoff = (NOW - timedelta(days=30)).strftime("%Y-%m-%d")
    assert f"before {cutoff}T" in result.output
    assert _counts(db_url) == (1, 1, 1)


def test_periods_come_from_the_settings_unless_given(
    txguard: Txguard, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(db_url)
    monkeypatch.setenv("TXGUARD_REQUEST_LOG_RETENTION_DAYS", "40")
    result = txguard("retention", "run", "--decision-days", "5")
    assert result.exit_code == 0, result.output
    assert "deleted 0 request_log rows" in result.output and "(older than 40 days)" in result.output
    assert "deleted 2 transactions" in result.output and "(older than 5 days)" in result.output
    assert _counts(db_url) == (3, 0, 0)


def test_dry_run_counts_and_deletes_nothing(txguard: Txguard, db_url: str, tmp_path: Path) -> None:
    _seed(db_url)
    archive = tmp_path / "archive"
    result = txguard("retention", "run", "--dry-run", "--archive", archive)
    assert result.exit_code == 0, result.output
    assert "request_log: would delete 2 request_log rows" in result.output
    assert "decisions: would delete 1 transactions" in result.output
    assert "dry run: nothing was deleted" in result.output
    assert _counts(db_url) == (3, 2, 2)
    assert not archive.exists()


def test_archive_receives_the_deleted_rows(txguard: Txguard, db_url: str, tmp_path: Path) -> None:
    _seed(db_url)
    archive = tmp_path / "archive" / "nested"
    result = txguard("retention", "run", "--archive", archive)
    assert result.exit_code == 0, result.output
    assert f"deleted rows archived in {archive}" in result.output
    files = {p.name.split("-before-")[0]: p for p in archive.iterdir()}
    assert sorted(files) == ["card_transaction", "label", "request_log"]
    lines = files["card_transaction"].read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["transaction_id"] for line in lines] == ["old"]
    assert len(files["request_log"].read_text(encoding="utf-8").splitlines()) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--request-log-days", "-1"], "--request-log-days"),
        (["--decision-days", "0"], "--decision-days"),
        (["--decision-days", "many"], "--decision-days"),
        (["--batch-size", "0"], "--batch-size"),
        (["--batch-size", "1000000"], "--batch-size"),
    ],
)
def test_bad_numbers_are_refused_naming_the_option(
    txguard: Txguard, db_url: str, args: list[str], message: str
) -> None:
    _seed(db_url)
    result = txguard("retention", "run", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert _counts(db_url) == (3, 2, 2)


def test_an_archive_path_that_is_a_file_is_refused(
    txguard: Txguard, db_url: str, tmp_path: Path
) -> None:
    _seed(db_url)
    a_file = tmp_path / "archive.jsonl"
    a_file.write_text("", encoding="utf-8")
    result = txguard("retention", "run", "--archive", a_file)
    assert result.exit_code == 2
    assert "--archive" in result.output and "is a file" in result.output
    assert "Traceback" not in result.output
    assert _counts(db_url) == (3, 2, 2)


def test_the_command_bounds_batches_as_the_store_does() -> None:
    assert cli_retention.MAX_BATCH_SIZE == store_retention.MAX_BATCH_SIZE


def test_retention_has_help(txguard_no_db: Txguard) -> None:
    result = txguard_no_db("retention", "run", "--help")
    assert result.exit_code == 0
    for option in (
        "--request-log-days",
        "--decision-days",
        "--batch-size",
        "--archive",
        "--dry-run",
    ):
        assert option in result.output
