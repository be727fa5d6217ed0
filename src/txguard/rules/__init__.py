"""The analyst rule language: checked when a rule is saved, fast when a transaction is scored.

Rules are written in rule-engine's grammar (``amount > 5000``, ``country in ["FR", "DE"]``,
``terminal_id in list("blocked_terminals")``), parsed by rule-engine, and compiled here to
closures over the transaction's values; no rule text is ever handed to Python's ``eval``.

>>> rules = RuleSet(DEFAULT_RULES)
>>> [hit.name for hit in rules.evaluate({"amount": 7500.0, "card_tx_count_1h": 1.0})]
['High Value Transaction']
"""

from txguard.domain.rules import ListKind, Rule, RuleError, RuleHit
from txguard.rules.defaults import DEFAULT_RULES
from txguard.rules.ruleset import CompiledRule, RuleSet, compile_rule
from txguard.rules.schema import Kind, symbol_kinds

__all__ = [
    "DEFAULT_RULES",
    "CompiledRule",
    "Kind",
    "ListKind",
    "Rule",
    "RuleError",
    "RuleHit",
    "RuleSet",
    "compile_rule",
    "symbol_kinds",
]
