"""Rule versions and watch lists as stored, on every database backend."""

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from txguard.domain.enums import RuleAction
from txguard.domain.errors import NotFoundError
from txguard.domain.rules import ListKind, Rule, RuleError
from txguard.store import rules as store
from txguard.store.orm import RuleRow


def big(threshold: int = 5000, **changes: object) -> Rule:
    return Rule(  # type: ignore[arg-type]
        **{
            "name": "Big",
            "expression": f"amount > {threshold}",
            "action": RuleAction.REVIEW,
            "weight": 30,
            "reason": f"Amount above {threshold}",
        }
        | changes
    )


def test_saving_a_rule_again_adds_a_version_and_keeps_the_old_one(engine: Engine) -> None:
    first = store.save_rule(engine, big(5000), actor="alice")
    second = store.save_rule(engine, big(8000, version=1), actor="bob")
    assert (first.version, second.version) == (1, 2)
    history = store.rule_history(engine, "Big")
    assert [(r.version, r.expression) for r in history] == [
        (1, "amount > 5000"),
        (2, "amount > 8000"),
    ]
    assert store.load_active_rules(engine) == [second]


def test_only_the_latest_enabled_versions_are_active(engine: Engine) -> None:
    store.save_rule(engine, big())
    store.save_rule(engine, big(name="Velocity", expression="card_tx_count_1h >= 5"))
    disabled = store.disable_rule(engine, "Velocity", actor="alice")
    assert (disabled.version, disabled.enabled) == (2, False)
    assert [r.name for r in store.load_active_rules(engine)] == ["Big"]
    assert [(r.name, r.enabled) for r in store.load_latest_rules(engine)] == [
        ("Big", True),
        ("Velocity", False),
    ]
    assert store.disable_rule(engine, "Velocity").version == 2  # already off: no new version
    store.save_rule(engine, big(name="Velocity", expression="card_tx_count_1h >= 6"))
    assert [r.name for r in store.load_active_rules(engine)] == ["Big", "Velocity"]


def test_a_stored_rule_reads_back_as_it_was_saved(engine: Engine) -> None:
    saved = store.save_rule(engine, big(action="block", weight=12.5, reason="Très gros montant"))
    assert store.load_active_rules(engine) == [saved]


def test_unknown_rules_are_not_found(engine: Engine) -> None:
    with pytest.raises(NotFoundError, match='rule "Nope" does not exist'):
        store.disable_rule(engine, "Nope")
    with pytest.raises(NotFoundError):
        store.rule_history(engine, "Nope")


def test_defaults_are_seeded_once_and_never_over_an_analyst_edit(engine: Engine) -> None:
    defaults = [big(), big(name="Velocity", expression="card_tx_count_1h >= 5")]
    assert store.ensure_default_rules(engine, defaults, actor="system") == 2
    assert store.ensure_default_rules(engine, defaults, actor="system") == 0
    store.disable_rule(engine, "Big")
    assert store.ensure_default_rules(engine, defaults, actor="system") == 0
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(RuleRow)) == 3
    assert [r.name for r in store.load_active_rules(engine)] == ["Velocity"]


def test_lists_are_created_filled_emptied_and_deleted(engine: Engine) -> None:
    store.create_list(engine, "blocked_terminals", ListKind.TERMINAL, description="seen in fraud")
    store.create_list(engine, "watched_countries", "country")
    assert store.load_lists(engine) == {
        "blocked_terminals": frozenset(),
        "watched_countries": frozenset(),
    }
    assert store.add_list_entries(engine, "blocked_terminals", ["T-1", " T-2 ", "T-1"]) == 2
    assert store.add_list_entries(engine, "blocked_terminals", ["T-2", "T-3"], actor="bob") == 1
    assert store.remove_list_entries(engine, "blocked_terminals", ["T-1", "T-9"]) == 1
    assert store.load_lists(engine)["blocked_terminals"] == {"T-2", "T-3"}
    assert store.list_kinds(engine) == {
        "blocked_terminals": ListKind.TERMINAL,
        "watched_countries": ListKind.COUNTRY,
    }
    store.delete_list(engine, "blocked_terminals")
    assert store.load_lists(engine) == {"watched_countries": frozenset()}


def test_list_mistakes_are_refused(engine: Engine) -> None:
    store.create_list(engine, "cards", ListKind.CARD)
    with pytest.raises(RuleError, match='list "cards" already exists'):
        store.create_list(engine, "cards", ListKind.CARD)
    with pytest.raises(RuleError, match="kind must be one of card, terminal"):
        store.create_list(engine, "ips", "ip_address")
    with pytest.raises(RuleError, match="list name"):
        store.create_list(engine, 'bad"name', ListKind.CARD)
    with pytest.raises(RuleError, match="values must not be empty"):
        store.add_list_entries(engine, "cards", ["tok", " "])
    with pytest.raises(NotFoundError, match='list "nope" does not exist'):
        store.add_list_entries(engine, "nope", ["x"])
    with pytest.raises(NotFoundError):
        store.delete_list(engine, "nope")
    assert store.load_lists(engine) == {"cards": frozenset()}


def test_two_saves_of_one_rule_at_once_both_get_their_own_version(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save_rule(engine, big(5000))
    real_latest = store._latest
    stale = iter([None])  # the first read misses the version another writer just committed

    def racing(session: Session, name: str) -> RuleRow | None:
        return next(stale, real_latest(session, name))

    monkeypatch.setattr(store, "_latest", racing)
    assert store.save_rule(engine, big(8000)).version == 2
    assert [r.version for r in store.rule_history(engine, "Big")] == [1, 2]
