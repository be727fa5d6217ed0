"""Compiling analyst rules and running a set of them on one transaction.

A ``RuleSet`` is built once per change of rules or lists and then evaluated per
transaction, so everything that can be decided ahead (parsing, type checks, the hit each
rule produces, the contents of each list) is decided in the constructor.

>>> from txguard.domain.enums import RuleAction
>>> rules = RuleSet([Rule("Big", "amount > 5000", RuleAction.REVIEW, 30, "Amount above 5,000")])
>>> [hit.name for hit in rules.evaluate({"amount": 9000.0})]
['Big']
>>> rules.evaluate({"amount": float("nan")})
[]
"""

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

from txguard.domain.rules import Rule, RuleError, RuleHit
from txguard.rules.compiler import CompiledExpression, compile_expression
from txguard.rules.evaluators import Evaluator, Values
from txguard.rules.schema import symbol_kinds


@dataclass(frozen=True)
class CompiledRule:
    """A rule that passed every check, with the inputs and watch lists it reads."""

    rule: Rule
    expression: CompiledExpression

    @property
    def symbols(self) -> frozenset[str]:
        """The inputs the rule reads."""
        return self.expression.symbols

    @property
    def list_names(self) -> frozenset[str]:
        """The watch lists the rule reads, so a list in use is not deleted under it."""
        return self.expression.list_names

    def bind(self, lists: Mapping[str, frozenset[str]]) -> Evaluator:
        """The rule's condition over ``lists``' current contents: ``True`` when it fires."""
        return self.expression.build(lists)


def compile_rule(
    rule: Rule, list_names: Collection[str], extra_numeric: Iterable[str] = ()
) -> CompiledRule:
    """Check ``rule`` as it is saved: known names, matching types, existing lists."""
    try:
        expression = compile_expression(rule.expression, symbol_kinds(extra_numeric), list_names)
    except RuleError as exc:
        raise RuleError(f'rule "{rule.name}": {exc}', field=exc.field) from None
    return CompiledRule(rule, expression)


class RuleSet:
    """The enabled rules among ``rules``, evaluated against ``lists``' contents."""

    def __init__(
        self,
        rules: Iterable[Rule],
        lists: Mapping[str, Collection[str]] | None = None,
        *,
        extra_numeric: Iterable[str] = (),
    ) -> None:
        contents = {name: frozenset(values) for name, values in (lists or {}).items()}
        extra = tuple(extra_numeric)
        compiled = [compile_rule(r, contents.keys(), extra) for r in rules if r.enabled]
        _refuse_duplicates(compiled)
        self._checks: tuple[tuple[Callable[[Values], object], RuleHit], ...] = tuple(
            (c.bind(contents), _hit(c.rule)) for c in compiled
        )
        self._compiled = tuple(compiled)
        self._names = tuple(c.rule.name for c in compiled)

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the rules that run, in evaluation order."""
        return self._names

    @property
    def rules(self) -> tuple[CompiledRule, ...]:
        """The compiled rules that run."""
        return self._compiled

    def evaluate(self, values: Mapping[str, object]) -> list[RuleHit]:
        """The hits of the rules whose condition is true on ``values``, in rule order.

        ``values`` maps input names to values; a name that is absent, ``None`` or NaN is
        missing, and a condition that depends on a missing value does not fire.
        """
        hits: list[RuleHit] = []
        for fires, hit in self._checks:
            try:
                fired = fires(values) is True
            except (TypeError, ValueError, ArithmeticError):  # pragma: no cover
                fired = False  # the readers prevent it; were they wrong, other rules still run
            if fired:
                hits.append(hit)
        return hits


def _hit(rule: Rule) -> RuleHit:
    return RuleHit(rule.name, rule.version, rule.action, rule.weight, rule.reason)


def _refuse_duplicates(compiled: list[CompiledRule]) -> None:
    seen: set[str] = set()
    for c in compiled:
        if c.rule.name in seen:
            raise RuleError(f'rule "{c.rule.name}" appears twice in one rule set', field="name")
        seen.add(c.rule.name)
