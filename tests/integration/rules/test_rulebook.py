"""Editing rules and lists through the service: checked, versioned, and what scoring runs."""

import logging

import pytest
from sqlalchemy import Engine

from txguard.domain.enums import RuleAction
from txguard.domain.errors import ConflictError
from txguard.domain.rules import ListKind, Rule, RuleError
from txguard.rules import DEFAULT_RULES
from txguard.scoring import rulebook
from txguard.store import rules as store

BLOCKED = Rule(
    "Blocked terminal", 'terminal_id in list("blocked_terminals")', RuleAction.BLOCK, 90, "Blocked"
)


def test_a_new_installation_scores_with_the_default_rules(engine: Engine) -> None:
    assert rulebook.ensure_default_rules(engine) == len(DEFAULT_RULES)
    assert rulebook.ensure_default_rules(engine) == 0
    rules = rulebook.load_rule_set(engine)
    assert set(rules.names) == {r.name for r in DEFAULT_RULES}
    hits = rules.evaluate({"amount": 9000.0, "card_tx_count_1h": 1.0})
    assert [h.name for h in hits] == ["High Value Transaction"]


def test_an_invalid_rule_is_not_stored(engine: Engine) -> None:
    with pytest.raises(RuleError, match='unknown name "amout"'):
        rulebook.save_rule(engine, Rule("Typo", "amout > 1", RuleAction.FLAG, 1, "why"), "alice")
    with pytest.raises(RuleError, match='unknown list "blocked_terminals"'):
        rulebook.save_rule(engine, BLOCKED, "alice")
    assert store.load_latest_rules(engine) == []


def test_editing_a_rule_changes_what_scoring_runs(engine: Engine) -> None:
    rule = Rule("Big", "amount > 5000", RuleAction.REVIEW, 30, "Amount above 5,000")
    assert rulebook.save_rule(engine, rule, "alice").version == 1
    edited = Rule("Big", "amount > 8000", RuleAction.REVIEW, 30, "Amount above 8,000")
    assert rulebook.save_rule(engine, edited, "bob").version == 2
    rules = rulebook.load_rule_set(engine)
    assert rules.evaluate({"amount": 6000.0}) == []
    assert [(h.name, h.version) for h in rules.evaluate({"amount": 9000.0})] == [("Big", 2)]
    rulebook.disable_rule(engine, "Big", "carol")
    assert rulebook.load_rule_set(engine).names == ()


def test_list_edits_reach_scoring_on_the_next_load(engine: Engine) -> None:
    rulebook.create_list(engine, "blocked_terminals", ListKind.TERMINAL, "alice")
    rulebook.save_rule(engine, BLOCKED, "alice")
    assert rulebook.add_list_entries(engine, "blocked_terminals", ["T-13"], "alice") == 1
    assert rulebook.load_rule_set(engine).evaluate({"terminal_id": "T-13"})[0].action == "block"
    assert rulebook.remove_list_entries(engine, "blocked_terminals", ["T-13"], "alice") == 1
    assert rulebook.load_rule_set(engine).evaluate({"terminal_id": "T-13"}) == []


def test_a_list_in_use_cannot_be_deleted_until_its_rules_are_off(engine: Engine) -> None:
    rulebook.create_list(engine, "blocked_terminals", ListKind.TERMINAL, "alice")
    rulebook.create_list(engine, "spare", ListKind.TERMINAL, "alice")
    rulebook.save_rule(engine, BLOCKED, "alice")
    with pytest.raises(ConflictError, match='used by the enabled rules "Blocked terminal"'):
        rulebook.delete_list(engine, "blocked_terminals", "alice")
    rulebook.delete_list(engine, "spare", "alice")
    rulebook.disable_rule(engine, "Blocked terminal", "alice")
    rulebook.delete_list(engine, "blocked_terminals", "alice")
    assert store.load_lists(engine) == {}


def test_a_stored_rule_that_no_longer_compiles_is_left_out_not_fatal(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    store.save_rule(engine, Rule("Big", "amount > 5000", RuleAction.REVIEW, 30, "big"))
    store.save_rule(engine, Rule("Retired", "old_feature > 1", RuleAction.BLOCK, 90, "gone"))
    with caplog.at_level(logging.WARNING, logger="txguard.scoring.rulebook"):
        rules = rulebook.load_rule_set(engine)
    assert rules.names == ("Big",)
    assert 'rule "Retired": unknown name "old_feature"' in caplog.text
    rulebook.create_list(engine, "spare", ListKind.COUNTRY, "alice")
    rulebook.delete_list(engine, "spare", "alice")  # the broken rule does not block list edits


def test_pass_through_inputs_are_accepted_when_declared(engine: Engine) -> None:
    rule = Rule("Odd V14", "V14 < -5", RuleAction.FLAG, 5, "V14 unusually low")
    with pytest.raises(RuleError, match='unknown name "V14"'):
        rulebook.save_rule(engine, rule, "alice")
    rulebook.save_rule(engine, rule, "alice", extra_numeric=["V14"])
    rules = rulebook.load_rule_set(engine, extra_numeric=["V14"])
    assert [h.name for h in rules.evaluate({"V14": -7.5})] == ["Odd V14"]
