"""Reading rule text with rule-engine's grammar, turning its errors into messages for analysts.

rule-engine only parses here: known names are declared without a type so that the compiler,
which knows what a missing value means, does the type checking and names the operands in
its messages. ``list`` is declared the same way and ``list("name")`` parses as a call, so
watch lists are part of the grammar rather than a text rewrite that could reach inside
string literals; the compiler accepts no other call.
"""

import difflib
from collections.abc import Collection
from functools import partial
from typing import Any

import rule_engine
from rule_engine import DataType, errors

from txguard.domain.rules import RuleError
from txguard.rules.schema import LIST_FUNCTION


def parse(expression: str, names: Collection[str]) -> Any:
    """The root node of ``expression``'s syntax tree, every symbol in it one of ``names``."""
    context = rule_engine.Context(
        type_resolver=partial(_resolve_type, names),
        default_timezone="utc",
        mapping_attribute_lookup=False,
    )
    try:
        return rule_engine.Rule(expression, context=context).statement.expression
    except errors.SymbolResolutionError as exc:
        raise RuleError(_unknown_name(exc.symbol_name, exc.symbol_scope, names)) from None
    except errors.RuleSyntaxError as exc:
        raise RuleError(_syntax_error(expression, exc.token)) from None
    except errors.EngineError as exc:
        raise RuleError(f"invalid expression: {exc.message}") from None
    except RecursionError:
        raise RuleError("the expression is nested too deeply") from None


def suggestion(name: str, names: Collection[str]) -> str:
    """A " (did you mean ...?)" hint for a mistyped name, or nothing."""
    close = difflib.get_close_matches(name, list(names), n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _resolve_type(names: Collection[str], name: str) -> Any:
    if name in names or name == LIST_FUNCTION:
        return DataType.UNDEFINED
    raise errors.SymbolResolutionError(name)


def _unknown_name(name: str, scope: str | None, names: Collection[str]) -> str:
    if scope is not None:
        return f'unknown name "${name}": built-in values and functions are not available in rules'
    return f'unknown name "{name}"{suggestion(name, names)}'


def _syntax_error(expression: str, token: Any) -> str:
    if token is None:
        return "syntax error: the expression ends too early"
    column = _column(expression, token.lexpos)
    return f"syntax error at {token.value!r} (character {column})"


def _column(expression: str, position: int) -> int:
    return position + 1 if 0 <= position < len(expression) else len(expression)
