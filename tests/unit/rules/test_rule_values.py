"""A rule that exists is one an analyst may save: its fields are checked on construction."""

import math

import pytest

from txguard.domain.enums import RuleAction
from txguard.domain.rules import ListKind, list_name, list_value
from txguard.rules import Rule, RuleError


def make(**changes: object) -> Rule:
    fields: dict[str, object] = {
        "name": "Big",
        "expression": "amount > 5000",
        "action": RuleAction.REVIEW,
        "weight": 30,
        "reason": "Amount above 5,000",
    }
    return Rule(**(fields | changes))  # type: ignore[arg-type]


def test_text_fields_are_trimmed_and_actions_read_from_their_values() -> None:
    rule = make(name="  Big  ", action="block", weight=7)
    assert (rule.name, rule.action, rule.weight) == ("Big", RuleAction.BLOCK, 7.0)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "  "}, "name", "name must not be empty"),
        ({"name": "x" * 129}, "name", "longer than 128"),
        ({"reason": ""}, "reason", "reason must not be empty"),
        ({"expression": ""}, "expression", "expression must not be empty"),
        ({"action": "approve"}, "action", "action must be one of block, review, flag"),
        ({"weight": 101}, "weight", "between 0 and 100"),
        ({"weight": -1}, "weight", "between 0 and 100"),
        ({"weight": math.inf}, "weight", "between 0 and 100"),
        ({"weight": math.nan}, "weight", "between 0 and 100"),
        ({"weight": "30"}, "weight", "must be a number"),
        ({"version": 0}, "version", "version must be a whole number"),
    ],
)
def test_invalid_fields_are_refused_naming_the_field(
    changes: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(RuleError, match=message) as caught:
        make(**changes)
    assert caught.value.field == field


def test_list_names_are_safe_to_quote_in_a_rule() -> None:
    assert list_name("blocked_terminals-2024.q1") == "blocked_terminals-2024.q1"
    for bad in ['a"b', "", ".hidden", "x" * 65, "with space"]:
        with pytest.raises(RuleError):
            list_name(bad)


def test_list_values_are_trimmed_and_bounded() -> None:
    assert list_value("  T-13 ") == "T-13"
    with pytest.raises(RuleError, match="longer than 128"):
        list_value("x" * 129)
    assert ListKind("merchant_category") is ListKind.MERCHANT_CATEGORY
