"""Rules cannot reach Python, the process or the host, nor make one transaction slow."""

import pytest

from txguard.domain.enums import RuleAction
from txguard.rules import Rule, RuleError, compile_rule


def refused(expression: str) -> str:
    with pytest.raises(RuleError) as caught:
        compile_rule(Rule("Abuse", expression, RuleAction.FLAG, 1, "why"), ["blocked"])
    return str(caught.value)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ('__import__("os").system("id")', 'unknown name "__import__"'),
        ('eval("1") == 1', 'unknown name "eval"'),
        ("amount.__class__", 'attribute access ".__class__" is not allowed'),
        ('amount.__class__.__mro__[1].__subclasses__() == ""', "attribute access"),
        ('country.as_lower == "fr"', 'attribute access ".as_lower"'),
        ('country[0] == "F"', "indexing"),
        ('merchant_category =~ "(a+)+$"', "regular expression matching is not allowed"),
        ("amount ** 2 > 4", "the ** operator is not allowed"),
        ("$now > timestamp", "built-in values are not available"),
        ('$parse_float("1") > amount', '"$parse_float"(...): only list("name") may be called'),
        ("amount(1) > 2", 'only list("name") may be called'),
        ("[x for x in [1, 2]] == []", "a list comprehension is not allowed"),
        ("(amount ?? 1) > 0", "the ?? operator is not allowed"),
        ("country == null", "null"),
    ],
)
def test_escapes_and_costly_constructs_are_refused(expression: str, message: str) -> None:
    assert message in refused(expression)


def test_an_expression_over_2000_characters_is_refused() -> None:
    expression = " or ".join(["amount > 1"] * 200)
    assert len(expression) == 2_796
    with pytest.raises(RuleError, match="is 2,796 characters long; the limit is 2,000"):
        Rule("Long", expression, RuleAction.FLAG, 1, "why")


def test_deep_nesting_is_refused_before_it_reaches_the_hot_path() -> None:
    assert "nested" in refused("not " * 40 + "amount > 1")
    assert "nested" in refused("-" * 1900 + "amount > 1")


def test_long_lists_of_cases_are_not_deep() -> None:
    expression = " or ".join(f'country == "C{i}"' for i in range(100))
    compiled = compile_rule(Rule("Many", expression, RuleAction.FLAG, 1, "why"), [])
    assert compiled.symbols == {"country"}
