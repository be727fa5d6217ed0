"""Which rules fire on which transactions, including transactions with missing inputs."""

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest

from txguard.domain.enums import RuleAction
from txguard.rules import DEFAULT_RULES, Rule, RuleError, RuleHit, RuleSet

BLOCKED = {"blocked_terminals": ["T-13", "T-66"]}


def fires(expression: str, values: Mapping[str, object], lists: object = None) -> bool:
    rule = Rule("Under test", expression, RuleAction.BLOCK, 50, "why")
    return bool(RuleSet([rule], lists or BLOCKED).evaluate(values))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("expression", "values", "expected"),
    [
        ("amount > 5000", {"amount": 5000.01}, True),
        ("amount > 5000", {"amount": 5000.0}, False),
        ("card_tx_count_1h >= 5", {"card_tx_count_1h": 5.0}, True),
        ("card_tx_count_1h >= 5", {"card_tx_count_1h": 4.0}, False),
        ('terminal_id in list("blocked_terminals")', {"terminal_id": "T-66"}, True),
        ('terminal_id in list("blocked_terminals")', {"terminal_id": "T-67"}, False),
        ('terminal_id not in list("blocked_terminals")', {"terminal_id": "T-67"}, True),
        ('country in ["FR", "DE"]', {"country": "DE"}, True),
        (
            "amount / card_amount_mean_30d > 3",
            {"amount": 400.0, "card_amount_mean_30d": 100.0},
            True,
        ),
        ("5000 < amount", {"amount": 6000.0}, True),
    ],
)
def test_example_rules(expression: str, values: dict[str, object], expected: bool) -> None:
    assert fires(expression, values) is expected


def test_suspicious_combo_fires_only_abroad_at_a_gambling_merchant() -> None:
    combo = 'merchant_category == "gambling" and country != card_home_country'
    abroad = {"merchant_category": "gambling", "country": "MT", "card_home_country": "FR"}
    assert fires(combo, abroad)
    assert not fires(combo, {**abroad, "country": "FR"})
    assert not fires(combo, {**abroad, "merchant_category": "grocery"})


@pytest.mark.parametrize("missing", [None, math.nan, np.float64("nan"), "absent"])
def test_a_rule_on_a_missing_input_does_not_fire(missing: object) -> None:
    values = {} if missing == "absent" else {"amount": missing, "card_tx_count_1h": missing}
    assert not fires("amount > 5000", values)
    assert not fires("not amount > 5000", values)
    assert not fires("amount != 5000", values)
    assert not fires("card_tx_count_1h >= 5", values)


@pytest.mark.parametrize("country", [None, "", math.nan])
def test_suspicious_combo_does_not_fire_without_both_countries(country: object) -> None:
    combo = 'merchant_category == "gambling" and country != card_home_country'
    values = {"merchant_category": "gambling", "card_home_country": "FR", "country": country}
    assert not fires(combo, values)
    assert not fires(combo, {**values, "country": "MT", "card_home_country": country})


def test_a_missing_terminal_is_neither_in_nor_out_of_a_list() -> None:
    assert not fires('terminal_id in list("blocked_terminals")', {"terminal_id": None})
    assert not fires('terminal_id not in list("blocked_terminals")', {"terminal_id": None})


def test_or_still_fires_on_the_input_that_is_there() -> None:
    rule = 'amount > 5000 or terminal_id in list("blocked_terminals")'
    assert fires(rule, {"amount": None, "terminal_id": "T-13"})
    assert fires(rule, {"amount": 9000.0})
    assert not fires(rule, {"amount": 10.0})


def test_round_amounts_and_remainders_follow_rule_engine_arithmetic() -> None:
    assert fires("amount % 100 == 0", {"amount": 500.0})
    assert not fires("amount % 100 == 0", {"amount": 501.0})
    assert fires("amount % 2 == -1 and amount // 2 == -3", {"amount": -7.0})  # towards zero


def test_a_division_by_zero_is_unknown_not_an_error() -> None:
    values = {"amount": 5.0, "card_tx_count_1h": 0.0}
    for expression in ("amount / card_tx_count_1h > 3", "amount % card_tx_count_1h >= 0"):
        assert not fires(expression, values)
        assert not fires(f"not ({expression})", values)


def test_numpy_and_integer_inputs_behave_like_floats() -> None:
    assert fires("amount > 5000", {"amount": np.float32(6000)})
    assert fires("card_tx_count_1h >= 5", {"card_tx_count_1h": 5})
    assert fires('country == "FR"', {"country": np.str_("FR")})


def test_a_value_of_the_wrong_type_counts_as_missing() -> None:
    assert not fires("amount > 5000", {"amount": "9000"})
    assert not fires('country == "FR"', {"country": 33.0})


def test_times_compare_in_utc_whether_or_not_the_input_says_so() -> None:
    rule = 'timestamp >= d"2024-05-01T12:00:00Z"'
    assert fires(rule, {"timestamp": datetime(2024, 5, 1, 12, tzinfo=UTC)})
    assert fires(rule, {"timestamp": datetime(2024, 5, 1, 12)})
    assert not fires(rule, {"timestamp": datetime(2024, 5, 1, 11, 59, tzinfo=UTC)})
    assert not fires(rule, {"timestamp": "2024-05-02"})


def test_hits_carry_what_the_analyst_and_the_score_need() -> None:
    rules = RuleSet(
        [
            Rule("Big", "amount > 5000", RuleAction.REVIEW, 30, "Amount above 5,000", version=3),
            Rule(
                "Blocked",
                'terminal_id in list("blocked_terminals")',
                "block",
                90,
                "Blocked terminal",
            ),
        ],
        BLOCKED,
    )
    hits = rules.evaluate({"amount": 6000.0, "terminal_id": "T-13"})
    assert hits == [
        RuleHit("Big", 3, RuleAction.REVIEW, 30.0, "Amount above 5,000"),
        RuleHit("Blocked", 1, RuleAction.BLOCK, 90.0, "Blocked terminal"),
    ]


def test_disabled_rules_do_not_run() -> None:
    rules = RuleSet(
        [
            Rule("On", "amount > 1", RuleAction.FLAG, 1, "on"),
            Rule("Off", "amount > 1", RuleAction.FLAG, 1, "off", enabled=False),
        ]
    )
    assert rules.names == ("On",)
    assert [hit.name for hit in rules.evaluate({"amount": 2.0})] == ["On"]


def test_list_contents_are_those_given_to_the_rule_set() -> None:
    rule = Rule("Blocked", 'card_id in list("cards")', RuleAction.BLOCK, 90, "Blocked card")
    assert RuleSet([rule], {"cards": {"tok_a"}}).evaluate({"card_id": "tok_a"})
    assert not RuleSet([rule], {"cards": set()}).evaluate({"card_id": "tok_a"})


def test_a_rule_set_refuses_a_rule_on_a_list_it_does_not_have() -> None:
    rule = Rule("Blocked", 'card_id in list("cards")', RuleAction.BLOCK, 90, "Blocked card")
    with pytest.raises(RuleError, match='unknown list "cards"; lists: none yet'):
        RuleSet([rule])


def test_two_rules_of_one_name_are_refused() -> None:
    twice = [Rule("Same", "amount > 1", RuleAction.FLAG, 1, "why")] * 2
    with pytest.raises(RuleError, match='rule "Same" appears twice'):
        RuleSet(twice)


def test_default_rules_on_an_ordinary_and_a_risky_transaction() -> None:
    rules = RuleSet(DEFAULT_RULES)
    assert rules.names == ("High Value Transaction", "Suspicious Combo", "Card Velocity")
    ordinary = {
        "amount": 42.0,
        "merchant_category": "grocery",
        "country": "FR",
        "card_home_country": "FR",
        "card_tx_count_1h": 1.0,
    }
    risky = {**ordinary, "amount": 7000.0, "merchant_category": "gambling", "country": "MT"}
    assert rules.evaluate(ordinary) == []
    hits = rules.evaluate({**risky, "card_tx_count_1h": 6.0})
    assert [h.name for h in hits] == list(rules.names)
    assert all(h.action is RuleAction.REVIEW for h in hits)
    assert rules.evaluate({"amount": math.nan}) == []


def test_long_and_or_chains_use_three_valued_logic() -> None:
    every = 'amount > 100 and country == "FR" and card_tx_count_1h > 2'
    some = 'amount > 100 or country == "FR" or card_tx_count_1h > 2'
    full = {"amount": 500.0, "country": "FR", "card_tx_count_1h": 3.0}
    assert fires(every, full)
    assert not fires(every, {**full, "country": None})
    assert not fires(every, {**full, "country": "DE", "amount": None})
    assert fires(some, {"country": "FR"})
    assert not fires(some, {"country": "DE"})
    assert not fires(f"not ({some})", {"country": "DE"})  # the other two are unknown
    assert fires(f"not ({some})", {**full, "amount": 1.0, "country": "DE", "card_tx_count_1h": 0.0})


def test_fields_compared_with_fields_need_both() -> None:
    rule = "amount > card_amount_mean_30d * 3 and -amount < -10"
    assert fires(rule, {"amount": 400.0, "card_amount_mean_30d": 100.0})
    assert not fires(rule, {"amount": 400.0, "card_amount_mean_30d": 200.0})
    assert not fires(rule, {"amount": 400.0, "card_amount_mean_30d": None})


def test_numbers_python_cannot_hold_as_floats_are_missing() -> None:
    assert not fires("amount > 0", {"amount": 10**400})
    assert not fires("amount > 0", {"amount": Decimal("sNaN")})
    assert fires("amount > 0", {"amount": Decimal("12.5")})
