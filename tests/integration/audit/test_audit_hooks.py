"""Every change the product makes leaves an audit event, written with the change itself."""

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from txguard.cases import service as cases
from txguard.domain.audit import AuditRecord
from txguard.domain.enums import CaseStatus, Decision, RuleAction
from txguard.domain.errors import NotFoundError
from txguard.domain.rules import ListKind, Rule
from txguard.models.artifact import ModelBundle
from txguard.registry import service as registry
from txguard.scoring import rulebook
from txguard.store import audit
from txguard.store import rules as store
from txguard.store.orm import TransactionRow

BIG = Rule("Big", "amount > 5000", RuleAction.REVIEW, 30, "big amount")


def _events(engine: Engine) -> list[AuditRecord]:
    events = list(audit.iter_events(engine))
    assert audit.verify(engine).problem is None
    return events


def _summary(engine: Engine) -> list[tuple[str, str, str | None]]:
    return [(e.action, e.actor, e.entity_id) for e in _events(engine)]


def test_a_saved_rule_is_recorded_with_its_actor_and_both_versions(engine: Engine) -> None:
    store.save_rule(engine, BIG, actor="user:alice")
    store.save_rule(engine, dataclasses.replace(BIG, weight=40), actor="user:bob")
    first, second = _events(engine)
    assert (first.action, first.actor, first.entity_type, first.entity_id) == (
        "rule.saved",
        "user:alice",
        "rule",
        "Big",
    )
    assert first.before is None
    assert first.after == {
        "name": "Big",
        "version": 1,
        "expression": "amount > 5000",
        "action": "review",
        "weight": 30,
        "reason": "big amount",
        "enabled": True,
    }
    assert second.before == first.after
    assert second.after is not None
    assert (second.after["version"], second.after["weight"]) == (2, 40)


def test_disabling_is_recorded_once(engine: Engine) -> None:
    store.save_rule(engine, BIG, actor="user:alice")
    store.disable_rule(engine, "Big", actor="user:carol")
    store.disable_rule(engine, "Big", actor="user:carol")  # already off: no change, no event
    assert _summary(engine) == [
        ("rule.saved", "user:alice", "Big"),
        ("rule.disabled", "user:carol", "Big"),
    ]
    disabled = _events(engine)[-1]
    assert disabled.before is not None and disabled.before["enabled"] is True
    assert disabled.after is not None and disabled.after["enabled"] is False


def test_the_default_rules_are_recorded_as_seeded_by_the_system(engine: Engine) -> None:
    added = rulebook.ensure_default_rules(engine)
    assert rulebook.ensure_default_rules(engine) == 0
    events = _events(engine)
    assert len(events) == added > 0
    assert {(e.action, e.actor) for e in events} == {("rule.saved", rulebook.SYSTEM_ACTOR)}


def test_list_changes_are_recorded_with_the_values_that_changed(engine: Engine) -> None:
    rulebook.create_list(engine, "blocked", ListKind.TERMINAL, "user:alice", description="bad")
    rulebook.add_list_entries(engine, "blocked", ["T-1", "T-2"], "user:alice")
    rulebook.add_list_entries(engine, "blocked", ["T-1"], "user:alice")  # nothing new
    rulebook.remove_list_entries(engine, "blocked", ["T-2", "T-9"], "user:bob")
    rulebook.remove_list_entries(engine, "blocked", ["T-9"], "user:bob")  # nothing there
    rulebook.delete_list(engine, "blocked", "user:carol")
    events = _events(engine)
    assert [(e.action, e.actor, e.entity_type, e.entity_id) for e in events] == [
        ("list.created", "user:alice", "list", "blocked"),
        ("list.entries_added", "user:alice", "list", "blocked"),
        ("list.entries_removed", "user:bob", "list", "blocked"),
        ("list.deleted", "user:carol", "list", "blocked"),
    ]
    assert events[0].after == {"name": "blocked", "kind": "terminal", "description": "bad"}
    assert events[1].after == {"added": ["T-1", "T-2"]}
    assert events[2].before == {"removed": ["T-2"]}
    assert events[3].before == {
        "name": "blocked",
        "kind": "terminal",
        "description": "bad",
        "size": 1,
    }


def test_card_values_are_recorded_only_as_tokens(engine: Engine) -> None:
    card = "4111111111111111"
    rulebook.create_list(engine, "stolen", ListKind.CARD, "user:alice")
    tokens = rulebook.stored_values(engine, lambda v: f"tok-{len(v)}", "stolen", [card])
    rulebook.add_list_entries(engine, "stolen", tokens, "user:alice")
    rulebook.remove_list_entries(engine, "stolen", tokens, "user:alice")
    assert all(card not in repr(event) for event in _events(engine))


def test_a_change_that_fails_leaves_no_event(engine: Engine) -> None:
    with pytest.raises(NotFoundError):
        store.disable_rule(engine, "missing", actor="user:alice")
    with pytest.raises(NotFoundError):
        rulebook.add_list_entries(engine, "missing", ["x"], "user:alice")
    assert _events(engine) == []


def test_model_registration_activation_and_rollback_are_recorded(
    engine: Engine, trained_bundle: ModelBundle, tmp_path: Path
) -> None:
    other = dataclasses.replace(trained_bundle, version="m-other")
    directory = tmp_path / "models"
    registry.register(engine, trained_bundle, directory, actor="user:alice")
    registry.register(engine, other, directory, actor="user:alice")
    registry.activate(engine, trained_bundle.version, actor="user:bob")
    registry.activate(engine, trained_bundle.version, actor="user:bob")  # already serving
    registry.activate(engine, "m-other", actor="user:bob")
    registry.rollback(engine, actor="user:carol")
    events = _events(engine)
    v1 = trained_bundle.version
    assert [(e.action, e.actor, e.entity_id) for e in events] == [
        ("model.registered", "user:alice", v1),
        ("model.registered", "user:alice", "m-other"),
        ("model.activated", "user:bob", v1),
        ("model.activated", "user:bob", "m-other"),
        ("model.rolled_back", "user:carol", v1),
    ]
    registered = events[0].after
    assert registered is not None
    assert registered["artifact_sha256"] == registry.get_version(engine, v1).artifact_sha256
    assert [(e.before, e.after) for e in events[2:]] == [
        ({"active_version": None}, {"active_version": v1}),
        ({"active_version": v1}, {"active_version": "m-other"}),
        ({"active_version": "m-other"}, {"active_version": v1}),
    ]


def test_a_case_move_is_recorded_with_status_note_and_verdict(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        session.add(
            TransactionRow(
                transaction_id="tx-1",
                occurred_at=datetime(2026, 11, 2, tzinfo=UTC),
                amount=10.0,
                source="api",
                decision=Decision.REVIEW,
                status=CaseStatus.NEW,
            )
        )
    cases.change_status(engine, "tx-1", CaseStatus.UNDER_REVIEW, "looking", "user:ana")
    cases.change_status(engine, "tx-1", CaseStatus.CONFIRMED_FRAUD, "stolen", "user:ana")
    events = _events(engine)
    assert [(e.action, e.actor, e.entity_type, e.entity_id) for e in events] == [
        ("case.status_changed", "user:ana", "case", "tx-1"),
        ("case.status_changed", "user:ana", "case", "tx-1"),
    ]
    assert (events[0].before, events[0].after) == (
        {"status": "NEW"},
        {"status": "UNDER_REVIEW", "note": "looking"},
    )
    assert events[1].after == {"status": "CONFIRMED_FRAUD", "note": "stolen", "is_fraud": True}
