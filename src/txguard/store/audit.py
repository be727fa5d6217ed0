"""The audit trail in the database: appended in the caller's transaction, read in id order.

An event is written in the same transaction as the change it records, so both commit or
neither does. Appends are serialised (an advisory lock on PostgreSQL, the single writer lock
on SQLite) so the next event always reads the true last one; the unique ``prev_hash`` makes
a fork impossible even for a writer that bypasses the lock.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, func, insert, select
from sqlalchemy.orm import Session

from txguard.domain.audit import (
    FIRST_ID,
    GENESIS_HASH,
    Anchor,
    AuditRecord,
    ChainReport,
    chain_hash,
    check_chain,
    json_document,
)
from txguard.store.locking import take_sqlite_write_lock
from txguard.store.orm import AuditEventRow

__all__ = ["SYSTEM_ACTOR", "AuditFilters", "iter_events", "page", "record", "verify"]

SYSTEM_ACTOR = "system"
# Key of the PostgreSQL advisory lock that serialises appends: "txaudit" in ASCII.
_APPEND_LOCK = 0x7478_6175_6469_74
_CHUNK = 1000
_E = AuditEventRow


@dataclass(frozen=True)
class AuditFilters:
    """Which events a page holds; ``since`` is inclusive and ``until`` exclusive."""

    actor: str | None = None
    action: str | None = None
    entity_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def record(
    session: Session,
    *,
    actor: str | None,
    action: str,
    entity_type: str,
    entity_id: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Append an event in ``session``'s transaction; the caller commits it with the change.

    ``actor`` None means txguard itself made the change (defaults seeded at start-up) and is
    recorded as ``system``. ``before`` and ``after`` must be plain JSON objects.
    """
    documents = json_document(before, "before"), json_document(after, "after")
    _lock_appends(session)
    last_id, prev_hash = _last(session)
    values: dict[str, Any] = {
        "id": last_id + 1,
        "occurred_at": datetime.now(UTC),
        "actor": actor or SYSTEM_ACTOR,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "before": documents[0],
        "after": documents[1],
    }
    values["hash"] = chain_hash(prev_hash, **values)
    session.execute(insert(_E).values(prev_hash=prev_hash, **values))


def record_if_changed(
    session: Session, *, actor: str | None, action: str, entity_type: str, after: Mapping[str, Any]
) -> bool:
    """Record ``after`` unless the latest ``action`` event already holds it; whether it did.

    The check runs under the append lock, so processes starting together record a change
    once; ``before`` is what the previous event said.
    """
    document = json_document(after, "after")
    _lock_appends(session)
    latest = session.scalars(
        select(_E.after).where(_E.action == action).order_by(_E.id.desc()).limit(1)
    ).first()
    if latest == document:
        return False
    record(
        session, actor=actor, action=action, entity_type=entity_type, before=latest, after=document
    )
    return True


def iter_events(engine: Engine, *, since: datetime | None = None) -> Iterator[AuditRecord]:
    """Every event (from ``since`` on, inclusive) in id order, read in chunks.

    Each chunk is its own short query keyed on the id, so a long export holds no
    transaction or cursor open while its reader writes.
    """
    after_id: int | None = None  # not 0: a row forged with an id below 1 must be read too
    while True:
        statement = select(_E).order_by(_E.id).limit(_CHUNK)
        if after_id is not None:
            statement = statement.where(_E.id > after_id)
        if since is not None:
            statement = statement.where(_E.occurred_at >= since)
        with Session(engine) as session:
            chunk = [_record(row) for row in session.scalars(statement)]
        yield from chunk
        if len(chunk) < _CHUNK:
            return
        after_id = chunk[-1].id


def page(
    engine: Engine, *, after_id: int | None, limit: int, filters: AuditFilters | None = None
) -> list[AuditRecord]:
    """Up to ``limit`` events, newest first, older than event ``after_id`` when given.

    Newest first because an auditor asks "what changed lately" far more often than "what
    happened first"; the id is the keyset, so a page deep in the trail costs the same and
    events recorded meanwhile do not shift the pages already read.
    """
    statement = select(_E).where(*_conditions(filters or AuditFilters()))
    if after_id is not None:
        statement = statement.where(_E.id < after_id)
    with Session(engine) as session:
        rows = session.scalars(statement.order_by(_E.id.desc()).limit(limit))
        return [_record(row) for row in rows]


def verify(engine: Engine, anchor: Anchor | None = None) -> ChainReport:
    """Walk the whole trail: how many events fit, and the first that does not.

    With ``anchor`` (the last event of an earlier export), a trail that lost its newest
    events, or was rewritten up to the anchor, is a break too.
    """
    return check_chain(iter_events(engine), anchor)


def _lock_appends(session: Session) -> None:
    """Hold the append lock until the caller's transaction ends.

    PostgreSQL takes an advisory lock; SQLite, which has none, its single writer lock, so
    the last event read next cannot change before this transaction commits.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_APPEND_LOCK)))
    else:
        take_sqlite_write_lock(session)


def _last(session: Session) -> tuple[int, str]:
    statement = select(_E.id, _E.hash).order_by(_E.id.desc()).limit(1)
    row = session.execute(statement).first()
    return (FIRST_ID - 1, GENESIS_HASH) if row is None else (row.id, row.hash)


def _conditions(filters: AuditFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.actor is not None:
        conditions.append(_E.actor == filters.actor)
    if filters.action is not None:
        conditions.append(_E.action == filters.action)
    if filters.entity_type is not None:
        conditions.append(_E.entity_type == filters.entity_type)
    if filters.since is not None:
        conditions.append(_E.occurred_at >= filters.since)
    if filters.until is not None:
        conditions.append(_E.occurred_at < filters.until)
    return conditions


def _record(row: AuditEventRow) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        occurred_at=row.occurred_at,
        actor=row.actor,
        action=row.action,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        before=row.before,
        after=row.after,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )
