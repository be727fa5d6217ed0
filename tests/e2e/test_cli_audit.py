"""An auditor checks the audit trail from the command line and catches every kind of tampering."""

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.fixtures.cli import Txguard

from txguard.store.engine import create_db_engine


@pytest.fixture
def trail(txguard: Txguard, db_url: str) -> int:
    """A trail of real changes made through the CLI; how many events it holds."""
    for args in (
        ("rules", "list"),  # seeds the default rules
        ("lists", "create", "blocked", "--kind", "terminal"),
        ("lists", "add", "blocked", "T-1", "T-2"),
        ("lists", "remove", "blocked", "T-1"),
        ("rules", "disable", "Card Velocity"),
    ):
        result = txguard(*args)
        assert result.exit_code == 0, result.output
    return _count(db_url)


def _sql(db_url: str, statement: str, **values: object) -> None:
    engine = create_db_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text(statement), values)
    engine.dispose()


def _count(db_url: str) -> int:
    engine = create_db_engine(db_url)
    with engine.connect() as connection:
        count = int(connection.execute(text("SELECT count(*) FROM audit_event")).scalar_one())
    engine.dispose()
    return count


def _copy_row(db_url: str, source_id: int, new_id: int, prev_hash: str, hash_: str) -> None:
    _sql(
        db_url,
        "INSERT INTO audit_event (id, occurred_at, actor, action, entity_type, entity_id,"
        " before, after, prev_hash, hash) SELECT :new_id, occurred_at, 'user:mallory', action,"
        " entity_type, entity_id, before, after, :prev_hash, :hash FROM audit_event"
        " WHERE id = :source_id",
        new_id=new_id,
        prev_hash=prev_hash,
        hash=hash_,
        source_id=source_id,
    )


def test_an_untouched_trail_is_intact(txguard: Txguard, trail: int) -> None:
    result = txguard("audit", "verify")
    assert result.exit_code == 0, result.output
    assert f"audit chain intact: {trail} events" in result.output
    assert trail >= 6


def test_an_empty_trail_is_intact(txguard: Txguard) -> None:
    result = txguard("audit", "verify")
    assert (result.exit_code, result.output.strip()) == (0, "audit chain intact: 0 events")


def test_a_row_edited_in_the_database_is_named_as_altered(
    txguard: Txguard, trail: int, db_url: str
) -> None:
    _sql(db_url, "UPDATE audit_event SET actor = 'user:mallory' WHERE id = 3")
    result = txguard("audit", "verify")
    assert result.exit_code == 1
    assert "event 3 was altered" in result.output
    assert "2 events before it intact" in result.output


def test_a_row_deleted_from_the_database_is_named_as_removed(
    txguard: Txguard, trail: int, db_url: str
) -> None:
    _sql(db_url, "DELETE FROM audit_event WHERE id = 4")
    result = txguard("audit", "verify")
    assert result.exit_code == 1
    assert "event 4 was removed" in result.output


def test_a_row_inserted_before_the_first_is_named_as_inserted(
    txguard: Txguard, trail: int, db_url: str
) -> None:
    _copy_row(db_url, 1, 0, "a" * 64, "b" * 64)
    result = txguard("audit", "verify")
    assert result.exit_code == 1
    assert "event 0 was inserted" in result.output


def test_a_row_appended_by_hand_is_named_as_inserted(
    txguard: Txguard, trail: int, db_url: str
) -> None:
    _copy_row(db_url, 2, trail + 1, "c" * 64, "d" * 64)
    result = txguard("audit", "verify")
    assert result.exit_code == 1
    assert f"event {trail + 1} was inserted" in result.output


def test_changes_made_after_tampering_do_not_hide_it(
    txguard: Txguard, trail: int, db_url: str
) -> None:
    _sql(db_url, "UPDATE audit_event SET after = NULL WHERE id = 2")
    assert txguard("lists", "create", "more", "--kind", "country").exit_code == 0
    result = txguard("audit", "verify")
    assert result.exit_code == 1
    assert "event 2 was altered" in result.output


def test_the_export_reverifies_outside_the_database(
    txguard: Txguard, trail: int, tmp_path: Path
) -> None:
    out = tmp_path / "audit.jsonl"
    result = txguard("audit", "export", "--out", out)
    assert result.exit_code == 0, result.output
    assert f"exported {trail} events" in result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == list(range(1, trail + 1))
    assert set(lines[0]) == {
        "id",
        "occurred_at",
        "actor",
        "action",
        "entity_type",
        "entity_id",
        "before",
        "after",
        "prev_hash",
        "hash",
    }
    assert lines[-1]["actor"].startswith("cli:") and lines[-1]["action"] == "rule.disabled"
    checked = txguard("audit", "verify", "--file", out)
    assert checked.exit_code == 0, checked.output
    assert f"audit chain intact: {trail} events" in checked.output


def test_an_edited_export_is_caught(txguard: Txguard, trail: int, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    assert txguard("audit", "export", "--out", out).exit_code == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    edited = json.loads(lines[1]) | {"actor": "user:mallory"}
    lines[1] = json.dumps(edited)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = txguard("audit", "verify", "--file", out)
    assert result.exit_code == 1
    assert "event 2 was altered" in result.output


def test_an_export_to_stdout_and_from_a_day(txguard: Txguard, trail: int) -> None:
    everything = txguard("audit", "export", "--out", "-")
    assert everything.exit_code == 0
    assert len(everything.output.splitlines()) == trail
    future = txguard("audit", "export", "--out", "-", "--since", "2999-01-01")
    assert (future.exit_code, future.output) == (0, "")
    bad = txguard("audit", "export", "--out", "-", "--since", "yesterday")
    assert bad.exit_code == 2 and "--since" in bad.output


def test_a_truncated_tail_is_caught_only_against_an_exported_anchor(
    txguard: Txguard, trail: int, db_url: str, tmp_path: Path
) -> None:
    anchor = tmp_path / "anchor.jsonl"
    assert txguard("audit", "export", "--out", anchor).exit_code == 0
    _sql(db_url, "DELETE FROM audit_event WHERE id >= :id", id=trail - 1)
    assert txguard("audit", "verify").exit_code == 0  # a chain alone cannot tell
    result = txguard("audit", "verify", "--anchor", anchor)
    assert result.exit_code == 1
    assert f"event {trail - 1} was removed" in result.output


def test_a_missing_anchor_file_is_a_clear_error(txguard: Txguard, tmp_path: Path) -> None:
    result = txguard("audit", "verify", "--anchor", tmp_path / "nope.jsonl")
    assert result.exit_code == 2
    assert "nope.jsonl: cannot read it" in result.output
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text('{"id": 1}\n', encoding="utf-8")
    result = txguard("audit", "verify", "--file", garbage)
    assert result.exit_code == 2
    assert "line 1" in result.output and "occurred_at" in result.output
