"""Versioned analyst rules and named watch lists in the database.

Saving a rule always adds a version, so what ran at any time can be shown to an auditor;
disabling is a version too. Every change writes its audit event in the same transaction.
Nothing here checks a rule's expression: the store sits below the rule language, and the
service that calls it compiles a rule before saving it.
"""

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from txguard.domain.errors import NotFoundError
from txguard.domain.rules import ListKind, Rule, RuleError, list_name, list_value
from txguard.store import audit
from txguard.store.exceptions import StorageError
from txguard.store.orm import ListEntryRow, RuleRow, WatchListRow

_ATTEMPTS = 3
T = TypeVar("T")


def save_rule(engine: Engine, rule: Rule, *, actor: str | None = None) -> Rule:
    """Store ``rule`` as the next version of its name; its own ``version`` is ignored."""

    def write(session: Session) -> Rule:
        latest = _latest(session, rule.name)
        stored = replace(rule, version=latest.version + 1 if latest else 1)
        session.add(_row(stored, actor))
        before = _definition(_rule(latest)) if latest else None
        _audit_rule(session, actor, "rule.saved", stored, before)
        return stored

    return _retrying(engine, write, f'rule "{rule.name}"')


def disable_rule(engine: Engine, name: str, *, actor: str | None = None) -> Rule:
    """Add a disabled version of rule ``name``; a rule already disabled is left as it is."""

    def write(session: Session) -> Rule:
        latest = _latest(session, name)
        if latest is None:
            raise NotFoundError(f'rule "{name}" does not exist')
        if not latest.enabled:
            return _rule(latest)
        stored = replace(_rule(latest), version=latest.version + 1, enabled=False)
        session.add(_row(stored, actor))
        _audit_rule(session, actor, "rule.disabled", stored, _definition(_rule(latest)))
        return stored

    return _retrying(engine, write, f'rule "{name}"')


def load_active_rules(engine: Engine) -> list[Rule]:
    """The latest version of every rule whose latest version is enabled, by name."""
    return [rule for rule in load_latest_rules(engine) if rule.enabled]


def load_latest_rules(engine: Engine) -> list[Rule]:
    """The latest version of every rule, enabled or not, by name."""
    newest = (
        select(RuleRow.name, func.max(RuleRow.version).label("version"))
        .group_by(RuleRow.name)
        .subquery()
    )
    statement = (
        select(RuleRow)
        .join(newest, (RuleRow.name == newest.c.name) & (RuleRow.version == newest.c.version))
        .order_by(RuleRow.name)
    )
    with Session(engine) as session:
        return [_rule(row) for row in session.scalars(statement)]


def rule_history(engine: Engine, name: str) -> list[Rule]:
    """Every version of rule ``name``, oldest first."""
    statement = select(RuleRow).where(RuleRow.name == name).order_by(RuleRow.version)
    with Session(engine) as session:
        versions = [_rule(row) for row in session.scalars(statement)]
    if not versions:
        raise NotFoundError(f'rule "{name}" does not exist')
    return versions


def ensure_default_rules(engine: Engine, defaults: Iterable[Rule], *, actor: str) -> int:
    """Store ``defaults`` as version 1 if no rule was ever stored; how many were added.

    Processes starting together may race here: the unique (name, version) lets one win
    and the others add nothing.
    """
    try:
        with Session(engine) as session, session.begin():
            if session.scalar(select(func.count()).select_from(RuleRow)):
                return 0
            seeded = [replace(rule, version=1) for rule in defaults]
            session.add_all(_row(rule, actor) for rule in seeded)
            for rule in seeded:
                _audit_rule(session, actor, "rule.saved", rule, None)
        return len(seeded)
    except IntegrityError:
        return 0


def create_list(
    engine: Engine,
    name: str,
    kind: ListKind | str,
    *,
    description: str | None = None,
    actor: str | None = None,
) -> None:
    """Create an empty watch list; its name must be new."""
    name, kind = list_name(name), _kind(kind)
    try:
        with Session(engine) as session, session.begin():
            if _find_list(session, name) is not None:
                raise RuleError(f'list "{name}" already exists', field="name")
            session.add(
                WatchListRow(name=name, kind=kind.value, description=description, created_by=actor)
            )
            after = {"name": name, "kind": kind.value, "description": description}
            _audit_list(session, actor, "list.created", name, None, after)
    except IntegrityError:
        raise RuleError(f'list "{name}" already exists', field="name") from None


def delete_list(engine: Engine, name: str, *, actor: str | None = None) -> None:
    """Delete a watch list and its entries.

    The audit event keeps the list's kind, description and size, not its values: a list can
    hold a million tokens, and each value's arrival is in an earlier event.
    """
    with Session(engine) as session, session.begin():
        watch_list = _get_list(session, name)
        removed = session.execute(delete(ListEntryRow).where(ListEntryRow.list_id == watch_list.id))
        before = {
            "name": name,
            "kind": watch_list.kind,
            "description": watch_list.description,
            "size": int(removed.rowcount),  # type: ignore[attr-defined]
        }
        session.delete(watch_list)
        _audit_list(session, actor, "list.deleted", name, before, None)


def add_list_entries(
    engine: Engine, name: str, values: Iterable[str], *, actor: str | None = None
) -> int:
    """Add ``values`` to list ``name``; values already there are skipped. How many were added."""
    wanted = {list_value(v) for v in values}

    def write(session: Session) -> int:
        watch_list = _get_list(session, name)
        present = set(
            session.scalars(
                select(ListEntryRow.value).where(
                    ListEntryRow.list_id == watch_list.id, ListEntryRow.value.in_(wanted)
                )
            )
        )
        new = sorted(wanted - present)
        session.add_all(ListEntryRow(list_id=watch_list.id, value=v, added_by=actor) for v in new)
        if new:
            _audit_list(session, actor, "list.entries_added", name, None, {"added": new})
        return len(new)

    return _retrying(engine, write, f'list "{name}"')


def remove_list_entries(
    engine: Engine, name: str, values: Iterable[str], *, actor: str | None = None
) -> int:
    """Remove ``values`` from list ``name``; how many were there."""
    unwanted = {v.strip() for v in values}
    with Session(engine) as session, session.begin():
        watch_list = _get_list(session, name)
        removed = sorted(
            session.scalars(
                delete(ListEntryRow)
                .where(ListEntryRow.list_id == watch_list.id, ListEntryRow.value.in_(unwanted))
                .returning(ListEntryRow.value)
            )
        )
        if removed:
            _audit_list(session, actor, "list.entries_removed", name, {"removed": removed}, None)
        return len(removed)


def load_lists(engine: Engine) -> dict[str, frozenset[str]]:
    """Every watch list with its values, empty lists included."""
    statement = select(WatchListRow.name, ListEntryRow.value).outerjoin(
        ListEntryRow, ListEntryRow.list_id == WatchListRow.id
    )
    values: dict[str, set[str]] = {}
    with Session(engine) as session:
        for name, value in session.execute(statement):
            entries = values.setdefault(name, set())
            if value is not None:
                entries.add(value)
    return {name: frozenset(entries) for name, entries in values.items()}


def list_kinds(engine: Engine) -> dict[str, ListKind]:
    """The kind of every watch list, by name."""
    with Session(engine) as session:
        rows = session.execute(select(WatchListRow.name, WatchListRow.kind))
        return {name: ListKind(kind) for name, kind in rows}


def _retrying(engine: Engine, write: Callable[[Session], T], what: str) -> T:
    """Run ``write`` in a transaction, again if a concurrent writer took the same key."""
    for _ in range(_ATTEMPTS):
        try:
            with Session(engine) as session, session.begin():
                return write(session)
        except IntegrityError:
            continue
    raise StorageError(f"{what} is being changed by someone else at the same time; try again")


def _latest(session: Session, name: str) -> RuleRow | None:
    statement = (
        select(RuleRow).where(RuleRow.name == name).order_by(RuleRow.version.desc()).limit(1)
    )
    return session.scalars(statement).first()


def _find_list(session: Session, name: str) -> WatchListRow | None:
    return session.scalars(select(WatchListRow).where(WatchListRow.name == name)).first()


def _get_list(session: Session, name: str) -> WatchListRow:
    watch_list = _find_list(session, name)
    if watch_list is None:
        raise NotFoundError(f'list "{name}" does not exist')
    return watch_list


def _kind(kind: ListKind | str) -> ListKind:
    try:
        return ListKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in ListKind)
        raise RuleError(f"list kind must be one of {allowed}, not {kind!r}", field="kind") from None


def _audit_rule(
    session: Session, actor: str | None, action: str, rule: Rule, before: dict[str, Any] | None
) -> None:
    after = _definition(rule)
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="rule",
        entity_id=rule.name,
        before=before,
        after=after,
    )


def _audit_list(
    session: Session,
    actor: str | None,
    action: str,
    name: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """List values are stored (and so recorded) as tokens when they are card ids."""
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="list",
        entity_id=name,
        before=before,
        after=after,
    )


def _definition(rule: Rule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "version": rule.version,
        "expression": rule.expression,
        "action": rule.action.value,
        "weight": rule.weight,
        "reason": rule.reason,
        "enabled": rule.enabled,
    }


def _row(rule: Rule, actor: str | None) -> RuleRow:
    return RuleRow(
        name=rule.name,
        version=rule.version,
        expression=rule.expression,
        action=rule.action,
        weight=rule.weight,
        reason=rule.reason,
        enabled=rule.enabled,
        created_by=actor,
    )


def _rule(row: RuleRow) -> Rule:
    return Rule(
        name=row.name,
        expression=row.expression,
        action=row.action,
        weight=row.weight,
        reason=row.reason,
        version=row.version,
        enabled=row.enabled,
    )
