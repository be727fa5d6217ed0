"""What an analyst sees when a rule is refused as it is saved."""

import pytest

from txguard.domain.enums import RuleAction
from txguard.domain.errors import InputError
from txguard.rules import CompiledRule, Rule, RuleError, compile_rule

LISTS = ("blocked_terminals", "risky_countries")


def rule(expression: str) -> Rule:
    return Rule("Test rule", expression, RuleAction.REVIEW, 10, "why")


def compile_(expression: str, extra: tuple[str, ...] = ()) -> CompiledRule:
    return compile_rule(rule(expression), LISTS, extra)


@pytest.mark.parametrize(
    "expression",
    [
        "amount > 5000",
        'merchant_category == "gambling" and country != card_home_country',
        "card_tx_count_1h >= 5",
        'terminal_id in list("blocked_terminals")',
        'country not in ["FR", "DE"] or amount / card_amount_mean_30d > 3',
        'timestamp >= d"2024-05-01T00:00:00Z" and -amount < -10 # big refunds',
    ],
)
def test_well_formed_rules_compile(expression: str) -> None:
    assert compile_(expression).rule.expression == expression


def test_a_compiled_rule_names_what_it_reads() -> None:
    compiled = compile_('terminal_id in list("blocked_terminals") and amount > 100')
    assert compiled.symbols == {"terminal_id", "amount"}
    assert compiled.list_names == {"blocked_terminals"}


def test_errors_are_input_errors_naming_the_rule() -> None:
    with pytest.raises(InputError, match='^rule "Test rule": '):
        compile_("amount > ")


def test_an_unknown_name_is_named_with_a_suggestion() -> None:
    with pytest.raises(RuleError, match='unknown name "amout" \\(did you mean "amount"\\?\\)'):
        compile_("amout > 5000")


def test_a_number_compared_with_text_is_refused() -> None:
    with pytest.raises(RuleError, match='cannot compare amount \\(a number\\) with "x" \\(text\\)'):
        compile_('amount > "x"')


def test_ordering_text_is_refused_naming_the_field() -> None:
    with pytest.raises(
        RuleError, match="> compares numbers or times, but merchant_category is text"
    ):
        compile_("merchant_category > 5")


def test_equality_between_kinds_is_refused_rather_than_never_true() -> None:
    with pytest.raises(RuleError, match="cannot compare country \\(text\\) with 5 \\(a number\\)"):
        compile_("country == 5")


def test_a_rule_must_be_a_condition() -> None:
    with pytest.raises(RuleError, match="must be a condition, but amount is a number"):
        compile_("amount")


def test_and_or_not_take_conditions() -> None:
    with pytest.raises(RuleError, match='"and" joins conditions, but country is text'):
        compile_("amount > 1 and country")
    with pytest.raises(RuleError, match='"not" negates a condition'):
        compile_("not amount")


def test_an_unknown_list_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(
        RuleError,
        match='unknown list "blocked_terminal" \\(did you mean "blocked_terminals"\\?\\); '
        "lists: blocked_terminals, risky_countries",
    ):
        compile_('terminal_id in list("blocked_terminal")')


def test_list_membership_needs_text() -> None:
    with pytest.raises(
        RuleError, match='amount is a number, but list\\("blocked_terminals"\\) holds text'
    ):
        compile_('amount in list("blocked_terminals")')


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ('list("blocked_terminals")', 'can only follow "in"'),
        ("terminal_id in list(country)", "takes a list name in quotes"),
        ('terminal_id in list("a", "b")', "takes a list name in quotes"),
        ('country in ["FR", 1]', "either numbers or texts"),
        ("country in terminal_id", '"in" needs a list'),
    ],
)
def test_lists_must_be_written_as_documented(expression: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        compile_(expression)


def test_syntax_errors_say_where() -> None:
    with pytest.raises(RuleError, match="syntax error at '\\)' \\(character 12\\)"):
        compile_("amount > 1 )")
    with pytest.raises(RuleError, match="ends too early"):
        compile_("amount > 1 and")


def test_pass_through_inputs_are_usable_only_when_declared() -> None:
    with pytest.raises(RuleError, match='unknown name "V1"'):
        compile_("V1 > 2")
    assert compile_("V1 > 2", extra=("V1",)).symbols == {"V1"}


def test_a_pass_through_input_cannot_shadow_a_field_of_another_kind() -> None:
    with pytest.raises(RuleError, match="clashes"):
        compile_("country > 2", extra=("country",))
    with pytest.raises(RuleError, match="cannot be used"):
        compile_("amount > 2", extra=("and",))


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("list > 1", 'a watch list is written list("name")'),
        ("amount + country > 1", "+ works on numbers, but country is text"),
        ("-country == 1", "- works on numbers, but country is text"),
        ("amount in [true]", "literal numbers or texts only"),
        ("[1, 2] == amount", 'a list outside "in" is not allowed'),
        (
            'country == d"2024-01-01"',
            'cannot compare country (text) with d"2024-01-01T00:00:00+00:00" (a time)',
        ),
        ("(amount * 2) and true", '"and" joins conditions, but (amount * 2) is a number'),
    ],
)
def test_misused_operators_are_refused_naming_the_operand(expression: str, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        compile_(expression)
    assert message in str(caught.value)
