"""The hash chain without a database: what is hashed, and how each kind of tampering is named."""

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from txguard.domain.audit import (
    GENESIS_HASH,
    Anchor,
    AuditRecord,
    ProblemKind,
    chain_hash,
    check_chain,
    from_document,
    json_document,
    to_document,
    verify_chain,
)

T0 = datetime(2026, 11, 23, 15, 5, tzinfo=UTC)


def _chain(n: int) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    prev = GENESIS_HASH
    for i in range(1, n + 1):
        records.append(_event(i, prev, after={"version": i}))
        prev = records[-1].hash
    return records


def _event(event_id: int, prev_hash: str, **content: object) -> AuditRecord:
    fields: dict[str, object] = {
        "id": event_id,
        "occurred_at": T0 + timedelta(seconds=event_id),
        "actor": "user:alice",
        "action": "rule.saved",
        "entity_type": "rule",
        "entity_id": "high_amount",
        "before": None,
        "after": None,
    }
    fields.update(content)
    return AuditRecord(**fields, prev_hash=prev_hash, hash=chain_hash(prev_hash, **fields))  # type: ignore[arg-type]


def _rehashed(record: AuditRecord) -> AuditRecord:
    return replace(record, hash=record.expected_hash())


def test_an_intact_chain_is_reported_with_its_count_and_last_hash() -> None:
    records = _chain(5)
    report = check_chain(records)
    assert (report.count, report.last_id, report.last_hash, report.problem) == (
        5,
        5,
        records[-1].hash,
        None,
    )
    assert check_chain([]).count == 0
    assert verify_chain([]) is None


def test_the_hash_covers_every_field_and_the_position() -> None:
    record = _chain(1)[0]
    changes = {
        "id": 2,
        "occurred_at": T0,
        "actor": "user:mallory",
        "action": "rule.disabled",
        "entity_type": "list",
        "entity_id": None,
        "before": {},
        "after": {"version": 2},
        "prev_hash": "1" * 64,
    }
    for field, value in changes.items():
        assert replace(record, **{field: value}).expected_hash() != record.hash, field


def test_the_hash_is_the_same_in_any_time_zone_and_key_order() -> None:
    record = _chain(1)[0]
    paris = record.occurred_at.astimezone(timezone(timedelta(hours=1)))
    assert replace(record, occurred_at=paris).expected_hash() == record.hash
    a = _event(1, GENESIS_HASH, after={"a": 1, "b": [1.5, "x"]})
    b = _event(1, GENESIS_HASH, after={"b": (1.5, "x"), "a": 1.0})
    assert a.hash == b.hash


def test_numbers_are_hashed_by_value_as_postgresql_gives_them_back() -> None:
    assert json_document({"x": 1e16, "y": 1e100, "z": 2.0, "w": 0.25}, "after") == {
        "x": 10**16,
        "y": 10**100,
        "z": 2,
        "w": 0.25,
    }
    numpy = json_document({"a": np.float64(1e16), "b": np.float64(0.5)}, "after")
    assert numpy == {"a": 10**16, "b": 0.5}
    assert type(numpy["b"]) is float


@pytest.mark.parametrize(
    ("value", "error", "field"),
    [
        ({"when": T0}, TypeError, "after.when"),
        ({"n": float("inf")}, ValueError, "after.n"),
        ({1: "x"}, TypeError, "after"),
        ({"s": "nul\x00"}, ValueError, "after.s"),
        ({"s": "\ud800"}, ValueError, "after.s"),
        ({"l": [{1, 2}]}, TypeError, r"after.l\[0\]"),
    ],
)
def test_what_is_not_json_is_refused_naming_the_field(
    value: dict[object, object], error: type[Exception], field: str
) -> None:
    with pytest.raises(error, match=field):
        json_document(value, "after")  # type: ignore[arg-type]


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="occurred_at"):
        _event(1, GENESIS_HASH, occurred_at=datetime(2026, 1, 1))


def test_an_edited_event_is_named_as_altered() -> None:
    records = _chain(5)
    records[2] = replace(records[2], after={"version": 99})
    problem = verify_chain(records)
    assert problem is not None
    assert (problem.event_id, problem.kind) == (3, ProblemKind.ALTERED)
    report = check_chain(records)
    assert (report.count, report.last_id) == (2, 2)


def test_an_edited_event_with_its_hash_recomputed_is_named_by_its_successor() -> None:
    records = _chain(5)
    records[2] = _rehashed(replace(records[2], actor="user:mallory"))
    problem = verify_chain(records)
    assert problem is not None
    assert (problem.event_id, problem.kind) == (3, ProblemKind.ALTERED)


def test_an_edited_link_is_named_as_altered() -> None:
    records = _chain(5)
    records[2] = replace(records[2], prev_hash="1" * 64)
    problem = verify_chain(records)
    assert problem is not None
    assert (problem.event_id, problem.kind) == (3, ProblemKind.ALTERED)


@pytest.mark.parametrize(("removed", "named"), [([0], 1), ([2], 3), ([1, 2], 2)])
def test_removed_events_are_named_by_the_first_missing_id(removed: list[int], named: int) -> None:
    records = [r for i, r in enumerate(_chain(5)) if i not in removed]
    problem = verify_chain(records)
    assert problem is not None
    assert (problem.event_id, problem.kind) == (named, ProblemKind.REMOVED)


def test_removing_the_newest_events_cannot_be_seen_without_an_anchor() -> None:
    records = _chain(5)
    assert verify_chain(records[:3]) is None
    assert check_chain(records[:3]).last_hash != records[-1].hash


def test_an_event_inserted_before_the_first_is_named_as_inserted() -> None:
    records = _chain(3)
    forged = _event(0, "2" * 64)
    problem = verify_chain([forged, *records])
    assert problem is not None
    assert (problem.event_id, problem.kind) == (0, ProblemKind.INSERTED)


def test_an_event_inserted_into_a_gap_is_named_as_inserted() -> None:
    records = _chain(5)
    # ids 3 and 4 skipped by the writer (a failed append), event 5 chained to event 2.
    tail = _event(5, records[1].hash)
    forged = _event(3, "3" * 64)
    problem = verify_chain([*records[:2], forged, tail])
    assert problem is not None
    assert (problem.event_id, problem.kind) == (3, ProblemKind.INSERTED)


def test_an_event_appended_by_hand_is_caught_unless_it_is_well_formed() -> None:
    records = _chain(3)
    garbage = replace(_event(4, "4" * 64), hash="5" * 64)
    problem = verify_chain([*records, garbage])
    assert problem is not None
    assert (problem.event_id, problem.kind) == (4, ProblemKind.INSERTED)
    well_formed = _event(4, records[-1].hash)
    assert verify_chain([*records, well_formed]) is None


def test_a_forged_first_link_is_named() -> None:
    records = _chain(3)
    records[0] = _rehashed(replace(records[0], prev_hash="6" * 64))
    problem = verify_chain(records)
    assert problem is not None
    assert (problem.event_id, problem.kind) == (1, ProblemKind.ALTERED)


def test_verification_streams_one_event_ahead() -> None:
    consumed: list[int] = []

    def stream() -> object:
        for record in _chain(10):
            consumed.append(record.id)
            yield record

    broken = (replace(r, actor="x") if r.id == 3 else r for r in stream())  # type: ignore[attr-defined]
    problem = verify_chain(broken)
    assert problem is not None
    assert problem.event_id == 3
    assert consumed == [1, 2, 3, 4]


def test_an_anchor_catches_a_truncated_tail() -> None:
    records = _chain(5)
    anchor = Anchor(5, records[-1].hash)
    assert verify_chain(records) is None
    assert check_chain(records, anchor).problem is None
    problem = check_chain(records[:3], anchor).problem
    assert problem is not None
    assert (problem.event_id, problem.kind) == (4, ProblemKind.REMOVED)
    empty = check_chain([], anchor).problem
    assert empty is not None and empty.event_id == 1


def test_an_anchor_catches_a_chain_rewritten_with_recomputed_hashes() -> None:
    records = _chain(5)
    anchor = Anchor(5, records[-1].hash)
    rewritten = [*records[:2]]
    for record in records[2:]:
        rewritten.append(_event(record.id, rewritten[-1].hash, actor="user:mallory"))
    assert verify_chain(rewritten) is None
    problem = check_chain(rewritten, anchor).problem
    assert problem is not None
    assert (problem.event_id, problem.kind) == (5, ProblemKind.ALTERED)


def test_a_part_of_the_chain_checks_from_a_trusted_start() -> None:
    records = _chain(5)
    start = Anchor(2, records[1].hash)
    assert check_chain(records[2:], start=start).problem is None
    assert check_chain(records[2:]).problem is not None


def test_an_event_survives_its_export_form() -> None:
    record = _event(1, GENESIS_HASH, before={"a": [1, 2.5]}, after={"b": None})
    document = to_document(record)
    assert document["occurred_at"] == "2026-11-23T15:05:01.000000+00:00"
    back = from_document(json.loads(json.dumps(document)))
    assert back == record
    assert back.expected_hash() == record.hash


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": None}, "None is not int"),
        ({"id": True}, "True is not int"),
        ({"before": [1]}, "is not dict"),
        ({"occurred_at": "2026-01-01T00:00:00"}, "naive"),
        ({"occurred_at": "yesterday"}, "yesterday"),
    ],
)
def test_a_malformed_export_line_is_refused(change: dict[str, object], message: str) -> None:
    document = to_document(_chain(1)[0]) | change
    with pytest.raises(ValueError, match=message):
        from_document(document)
    missing = to_document(_chain(1)[0])
    del missing["hash"]
    with pytest.raises(ValueError, match="field 'hash' is missing"):
        from_document(missing)
