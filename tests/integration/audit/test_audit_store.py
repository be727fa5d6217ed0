"""The audit trail on each backend: appended in the caller's transaction, chained, read back."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from txguard.domain.audit import GENESIS_HASH
from txguard.store import audit
from txguard.store.orm import AuditEventRow

# Values whose JSON form differs between backends unless normalised (JSONB numerics, unicode).
AWKWARD = {
    "float": 0.1,
    "whole_float": 2.0,
    "big_float": 1e16,
    "huge_float": 1e100,
    "tiny": 1e-7,
    "negative": -3.5,
    "int": 2**62,
    "text": 'ünïcödé "quotes" \\ and \u2028 and emoji \U0001f600',
    "nested": {"list": [1, None, True, False, "x"], "empty": {}, "z": [], "a": [[0.5]]},
    "keys with spaces": None,
}


def _record(engine: Engine, n: int = 1, **fields: object) -> None:
    with Session(engine) as session, session.begin():
        for i in range(n):
            audit.record(
                session,
                actor=str(fields.get("actor", "user:alice")),
                action=str(fields.get("action", "rule.saved")),
                entity_type=str(fields.get("entity_type", "rule")),
                entity_id=f"rule-{i}",
                before=fields.get("before"),  # type: ignore[arg-type]
                after=fields.get("after", {"version": i}),  # type: ignore[arg-type]
            )


def test_events_are_chained_in_id_order_from_genesis(engine: Engine) -> None:
    _record(engine, 3)
    events = list(audit.iter_events(engine))
    assert [e.id for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    report = audit.verify(engine)
    assert (report.count, report.problem) == (3, None)


def test_awkward_json_reads_back_and_verifies(engine: Engine) -> None:
    _record(engine, before=AWKWARD, after={"copy": AWKWARD})
    (event,) = audit.iter_events(engine)
    assert event.before is not None
    assert event.before["text"] == AWKWARD["text"]
    assert event.before["float"] == 0.1
    assert audit.verify(engine).problem is None


def test_values_that_are_not_json_are_refused_naming_the_field(engine: Engine) -> None:
    with pytest.raises(TypeError, match="before.when"):
        _record(engine, before={"when": datetime.now(UTC)})
    with pytest.raises(ValueError, match="after.score"):
        _record(engine, after={"score": float("nan")})
    assert list(audit.iter_events(engine)) == []


def test_an_event_in_a_rolled_back_transaction_leaves_no_trace(engine: Engine) -> None:
    _record(engine)
    with Session(engine) as session, session.begin():
        audit.record(session, actor="user:bob", action="rule.saved", entity_type="rule")
        session.rollback()
    _record(engine)
    assert [e.actor for e in audit.iter_events(engine)] == ["user:alice", "user:alice"]
    assert audit.verify(engine).problem is None


def test_no_actor_is_recorded_as_the_system(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        audit.record(session, actor=None, action="rule.saved", entity_type="rule")
    assert [e.actor for e in audit.iter_events(engine)] == [audit.SYSTEM_ACTOR]


def test_concurrent_appends_never_fork_the_chain(engine: Engine) -> None:
    writers, each = 4, 10
    start = threading.Barrier(writers)
    errors: list[Exception] = []

    def write(name: str) -> None:
        start.wait()
        try:
            for _ in range(each):
                _record(engine, actor=f"user:{name}")
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(f"w{i}",)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = audit.verify(engine)
    assert (report.count, report.problem) == (writers * each, None)


def test_iter_events_streams_past_one_chunk_and_from_a_date(engine: Engine) -> None:
    _record(engine, 1005)
    assert sum(1 for _ in audit.iter_events(engine)) == 1005
    with Session(engine) as session, session.begin():
        first = session.get(AuditEventRow, 1)
        assert first is not None
        first_at = first.occurred_at
    later = first_at + timedelta(microseconds=1)
    assert next(audit.iter_events(engine, since=later)).id > 1
    assert audit.verify(engine).count == 1005


def test_pages_run_newest_first_by_keyset_with_filters(engine: Engine) -> None:
    _record(engine, 3, actor="user:alice")
    _record(engine, 2, actor="user:bob", action="list.created", entity_type="list")
    newest = audit.page(engine, after_id=None, limit=2)
    assert [e.id for e in newest] == [5, 4]
    assert [e.id for e in audit.page(engine, after_id=4, limit=10)] == [3, 2, 1]
    alice = audit.page(
        engine, after_id=None, limit=10, filters=audit.AuditFilters(actor="user:alice")
    )
    assert [e.id for e in alice] == [3, 2, 1]
    lists = audit.AuditFilters(action="list.created", entity_type="list")
    assert [e.id for e in audit.page(engine, after_id=None, limit=10, filters=lists)] == [5, 4]
    future = audit.AuditFilters(since=datetime.now(UTC) + timedelta(days=1))
    assert audit.page(engine, after_id=None, limit=10, filters=future) == []
    past = audit.AuditFilters(until=datetime(2000, 1, 1, tzinfo=UTC))
    assert audit.page(engine, after_id=None, limit=10, filters=past) == []


def test_a_fork_is_refused_by_the_database_even_without_the_lock(engine: Engine) -> None:
    _record(engine)
    with Session(engine) as session:
        first = session.scalars(select(AuditEventRow)).one()
        twin = {c.name: getattr(first, c.name) for c in AuditEventRow.__table__.columns}
        twin.update(id=2, hash="f" * 64)
        session.add(AuditEventRow(**twin))
        with pytest.raises(Exception, match="(?i)unique"):
            session.commit()
