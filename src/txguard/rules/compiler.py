"""From a parsed rule to an evaluator, accepting only what an analyst's rule needs.

The compiler works from an allow-list: comparisons, ``and`` / ``or`` / ``not``, ``+ - * /
// %``, unary minus, ``in`` / ``not in`` against a literal list or ``list("name")``, and
literals of numbers, text, ``true`` / ``false`` and times (``d"2024-05-01"``). Anything else
rule-engine's grammar can express (attribute access, indexing, regular expressions,
comprehensions, built-ins, ``**``) is refused by name: each is either a way around the
schema or a way to make one transaction slow for everyone. It also checks types,
so that a rule that could never fire is refused when it is saved, and nesting depth, so that
evaluation never recurses deeply on the hot path.
"""

import operator
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from rule_engine import ast

from txguard.domain.rules import RuleError
from txguard.rules import evaluators as ev
from txguard.rules.schema import LIST_FUNCTION, Kind
from txguard.rules.syntax import parse, suggestion

MAX_DEPTH = 32
Lists = Mapping[str, frozenset[str]]
Builder = Callable[[Lists], ev.Evaluator]

_COMPARISONS: dict[str, tuple[str, ev.Operator, str]] = {
    # rule-engine's name: (as written, operator, the name once operands are swapped)
    "eq": ("==", operator.eq, "eq"),
    "ne": ("!=", operator.ne, "ne"),
    "gt": (">", operator.gt, "lt"),
    "ge": (">=", operator.ge, "le"),
    "lt": ("<", operator.lt, "gt"),
    "le": ("<=", operator.le, "ge"),
}
_ARITHMETIC: dict[str, tuple[str, ev.Operator]] = {
    "add": ("+", operator.add),
    "sub": ("-", operator.sub),
    "mul": ("*", operator.mul),
    "tdiv": ("/", operator.truediv),
    "fdiv": ("//", ev.truncated_division),
    "mod": ("%", ev.remainder),
}
_REFUSED = {
    ast.GetAttributeExpression: "attribute access",
    ast.GetItemExpression: "indexing with [...]",
    ast.GetSliceExpression: "slicing with [...]",
    ast.FuzzyComparisonExpression: "regular expression matching",
    ast.ComprehensionExpression: "a list comprehension",
    ast.TernaryExpression: "an if/else expression",
    ast.CoalesceExpression: "the ?? operator",
    ast.BitwiseExpression: "bitwise operators",
    ast.BitwiseShiftExpression: "bitwise shifts",
    ast.MappingExpression: "a mapping literal",
    ast.BytesExpression: "a bytes literal",
    ast.TimedeltaExpression: "a duration literal",
    ast.FunctionExpression: "a function value",
    ast.NullExpression: "null (a missing value never matches anything)",
}
_A = {Kind.NUMBER: "a number", Kind.TEXT: "text", Kind.TIME: "a time", Kind.BOOLEAN: "a condition"}
_NO_LITERAL = object()


@dataclass(frozen=True)
class Typed:
    """A compiled piece of a rule: its kind, how messages name it, and its evaluator."""

    kind: Kind
    label: str
    build: Builder
    literal: object = _NO_LITERAL


@dataclass(frozen=True)
class CompiledExpression:
    """A checked condition; ``build(lists)`` binds the watch lists' current contents."""

    build: Builder
    symbols: frozenset[str]
    list_names: frozenset[str]


def compile_expression(
    expression: str, kinds: Mapping[str, Kind], list_names: Collection[str]
) -> CompiledExpression:
    """Check ``expression`` against the schema and the known lists, or raise ``RuleError``."""
    compiler = _Compiler(kinds, frozenset(list_names))
    typed = compiler.node(parse(expression, kinds), 0)
    if typed.kind is not Kind.BOOLEAN:
        raise RuleError(f"a rule must be a condition, but {_said(typed)} is {_A[typed.kind]}")
    return CompiledExpression(typed.build, frozenset(compiler.symbols), frozenset(compiler.lists))


class _Compiler:
    def __init__(self, kinds: Mapping[str, Kind], list_names: frozenset[str]) -> None:
        self.kinds = kinds
        self.list_names = list_names
        self.symbols: set[str] = set()
        self.lists: set[str] = set()

    def node(self, node: Any, depth: int) -> Typed:
        if depth > MAX_DEPTH:
            raise RuleError(f"the expression is nested more than {MAX_DEPTH} levels deep")
        handler = _HANDLERS.get(type(node))
        if handler is None:
            raise RuleError(f"{_refused(node)} is not allowed in rules")
        return handler(self, node, depth + 1)

    def symbol(self, node: Any, _depth: int) -> Typed:
        if node.scope is not None:
            raise RuleError(f'"${node.name}": built-in values are not available in rules')
        if node.name == LIST_FUNCTION:
            raise RuleError('a watch list is written list("name"), as in list("blocked_terminals")')
        kind = self.kinds[node.name]
        self.symbols.add(node.name)
        read = {Kind.NUMBER: ev.number, Kind.TEXT: ev.text, Kind.TIME: ev.time}[kind]
        name = node.name
        return Typed(kind, name, lambda _lists: read(name))

    def literal(self, node: Any, _depth: int) -> Typed:
        kind, value, label = _literal(node)
        return Typed(kind, label, lambda _lists: ev.constant(value), value)

    def comparison(self, node: Any, depth: int) -> Typed:
        written, op, swapped = _COMPARISONS[node.type]
        left, right = self.node(node.left, depth), self.node(node.right, depth)
        ordered = node.type not in ("eq", "ne")
        if ordered and left.kind not in (Kind.NUMBER, Kind.TIME):
            raise RuleError(
                f"{written} compares numbers or times, but {_said(left)} is {_A[left.kind]}"
            )
        if left.kind is not right.kind:
            raise RuleError(
                f"cannot compare {_said(left)} ({_A[left.kind]}) with {_said(right)} "
                f"({_A[right.kind]}) using {written}"
            )
        label = f"{left.label} {written} {right.label}"
        if right.literal is not _NO_LITERAL:
            return _typed_bool(label, _with_literal(op, left, right.literal))
        if left.literal is not _NO_LITERAL:
            return _typed_bool(label, _with_literal(_COMPARISONS[swapped][1], right, left.literal))
        return _typed_bool(
            label, lambda lists: ev.compare(op, left.build(lists), right.build(lists))
        )

    def logic(self, node: Any, depth: int) -> Typed:
        """``a or b or c`` is one node of three operands, so long lists of cases are not deep."""
        sides = [self.node(operand, depth) for operand in _chain(node)]
        for side in sides:
            if side.kind is not Kind.BOOLEAN:
                raise RuleError(
                    f'"{node.type}" joins conditions, but {_said(side)} is {_A[side.kind]}'
                )
        combine = ev.all_of if node.type == "and" else ev.any_of
        label = f" {node.type} ".join(side.label for side in sides)
        return _typed_bool(label, lambda lists: combine([side.build(lists) for side in sides]))

    def arithmetic(self, node: Any, depth: int) -> Typed:
        if node.type == "pow":  # 9 ** 9 ** 9 is one way to stall a scoring process
            raise RuleError("the ** operator is not allowed in rules")
        written, op = _ARITHMETIC[node.type]
        left, right = self.node(node.left, depth), self.node(node.right, depth)
        for side in (left, right):
            if side.kind is not Kind.NUMBER:
                raise RuleError(f"{written} works on numbers, but {_said(side)} is {_A[side.kind]}")
        label = f"{left.label} {written} {right.label}"
        return Typed(
            Kind.NUMBER,
            label,
            lambda lists: ev.arithmetic(op, left.build(lists), right.build(lists)),
        )

    def unary(self, node: Any, depth: int) -> Typed:
        inner = self.node(node.right, depth)
        if node.type == "not":
            if inner.kind is not Kind.BOOLEAN:
                raise RuleError(
                    f'"not" negates a condition, but {_said(inner)} is {_A[inner.kind]}'
                )
            return _typed_bool(f"not {inner.label}", lambda lists: ev.negation(inner.build(lists)))
        if inner.kind is not Kind.NUMBER:
            raise RuleError(f"- works on numbers, but {_said(inner)} is {_A[inner.kind]}")
        return Typed(Kind.NUMBER, f"-{inner.label}", lambda lists: ev.negative(inner.build(lists)))

    def contains(self, node: Any, depth: int) -> Typed:
        item = self.node(node.member, depth)
        kind, label, contents = self.container(node.container)
        if kind is not None and item.kind is not kind:
            raise RuleError(f"{_said(item)} is {_A[item.kind]}, but {label} holds {_A[kind]}")
        return _typed_bool(
            f"{item.label} in {label}", lambda lists: ev.member(item.build(lists), contents(lists))
        )

    def container(self, node: Any) -> tuple[Kind | None, str, Callable[[Lists], frozenset[Any]]]:
        if isinstance(node, ast.ArrayExpression | ast.SetExpression):
            return _literal_list(node)
        if isinstance(node, ast.FunctionCallExpression):
            name = self.list_call(node)
            return Kind.TEXT, f'list("{name}")', lambda lists: lists[name]
        raise RuleError('"in" needs a list: ["a", "b"] or list("name")')

    def list_call(self, node: Any) -> str:
        function, arguments = node.function, node.arguments
        if not isinstance(function, ast.SymbolExpression) or function.name != LIST_FUNCTION:
            raise RuleError(f'{_refused(function)}(...): only list("name") may be called in rules')
        if len(arguments) != 1 or not isinstance(arguments[0], ast.StringExpression):
            raise RuleError('list() takes a list name in quotes, as in list("blocked_terminals")')
        name = str(arguments[0].value)
        if name not in self.list_names:
            known = ", ".join(sorted(self.list_names)) or "none yet"
            hint = suggestion(name, self.list_names)
            raise RuleError(f'unknown list "{name}"{hint}; lists: {known}')
        self.lists.add(name)
        return name

    def call(self, node: Any, _depth: int) -> Typed:
        self.list_call(node)
        raise RuleError('list("...") can only follow "in", as in terminal_id in list("blocked")')


_HANDLERS: dict[type, Callable[[_Compiler, Any, int], Typed]] = {
    ast.SymbolExpression: _Compiler.symbol,
    ast.FloatExpression: _Compiler.literal,
    ast.StringExpression: _Compiler.literal,
    ast.BooleanExpression: _Compiler.literal,
    ast.DatetimeExpression: _Compiler.literal,
    ast.ComparisonExpression: _Compiler.comparison,
    ast.ArithmeticComparisonExpression: _Compiler.comparison,
    ast.LogicExpression: _Compiler.logic,
    ast.AddExpression: _Compiler.arithmetic,
    ast.SubtractExpression: _Compiler.arithmetic,
    ast.ArithmeticExpression: _Compiler.arithmetic,
    ast.UnaryExpression: _Compiler.unary,
    ast.ContainsExpression: _Compiler.contains,
    ast.FunctionCallExpression: _Compiler.call,
}


def _chain(node: Any) -> list[Any]:
    """The operands of a run of the same ``and`` / ``or``, left to right, without recursion."""
    operands, pending = [], [node]
    while pending:
        current = pending.pop()
        if isinstance(current, ast.LogicExpression) and current.type == node.type:
            pending += [current.right, current.left]
        else:
            operands.append(current)
    return operands


def _literal(node: Any) -> tuple[Kind, object, str]:
    value = node.value
    if isinstance(node, ast.FloatExpression):
        return Kind.NUMBER, float(value), str(value)
    if isinstance(node, ast.StringExpression):
        return Kind.TEXT, str(value), f'"{value}"'
    if isinstance(node, ast.BooleanExpression):
        return Kind.BOOLEAN, bool(value), str(bool(value)).lower()
    return Kind.TIME, value.astimezone(UTC), f'd"{value.isoformat()}"'


def _literal_list(node: Any) -> tuple[Kind | None, str, Callable[[Lists], frozenset[Any]]]:
    """The kind, label and contents of ``[...]``; an empty list has no kind and matches any."""
    members = list(node.value)
    if not all(isinstance(m, ast.FloatExpression | ast.StringExpression) for m in members):
        raise RuleError("a list in a rule holds literal numbers or texts only")
    kinds = {_literal(m)[0] for m in members}
    if len(kinds) > 1:
        raise RuleError("a list in a rule holds either numbers or texts, not both")
    kind = kinds.pop() if kinds else None
    values = frozenset(_literal(m)[1] for m in members)
    label = "[" + ", ".join(sorted(_literal(m)[2] for m in members)) + "]"
    return kind, label, lambda _lists: values


def _with_literal(op: ev.Operator, side: Typed, literal: object) -> Builder:
    return lambda lists: ev.compare_with(op, side.build(lists), literal)


def _typed_bool(label: str, build: Builder) -> Typed:
    return Typed(Kind.BOOLEAN, label, build)


def _said(typed: Typed, limit: int = 60) -> str:
    """An operand as messages quote it, shortened so a long rule still gives a readable error."""
    label = typed.label if len(typed.label) <= limit else typed.label[: limit - 3] + "..."
    return label if typed.literal is not _NO_LITERAL or label.isidentifier() else f"({label})"


def _refused(node: Any) -> str:
    if isinstance(node, ast.GetAttributeExpression):
        return f'attribute access ".{node.name}"'
    if isinstance(node, ast.SymbolExpression):
        return f'"{"$" if node.scope else ""}{node.name}"'
    if isinstance(node, ast.ArrayExpression | ast.SetExpression):
        return 'a list outside "in"'
    described = _REFUSED.get(type(node))
    return described or type(node).__name__.removesuffix("Expression").lower()
