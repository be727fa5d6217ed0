"""Rule evaluation benchmark: the shipped default rules on one transaction, per call.

Reference, same run, same machine: rule-engine's own tree walk (``Rule.matches`` with a
typed context) over the same three expressions and the same transaction, which is what
txguard would cost if it evaluated rules with rule-engine directly. The reference is only
run on complete transactions: rule-engine raises on a missing value.

    python bench/rules.py
"""

import math
import platform
import statistics
import sys
import timeit
from collections.abc import Callable
from datetime import UTC, datetime

import rule_engine

from txguard.features.definitions import FEATURE_NAMES
from txguard.rules import DEFAULT_RULES, RuleSet

NUMBER, REPEAT = 50_000, 9


def per_call_us(call: Callable[[], object]) -> tuple[float, float]:
    """Median and best of ``REPEAT`` runs of ``NUMBER`` calls, in microseconds per call."""
    runs = [t / NUMBER * 1e6 for t in timeit.repeat(call, number=NUMBER, repeat=REPEAT)]
    return statistics.median(runs), min(runs)


def transactions() -> dict[str, dict[str, object]]:
    ordinary: dict[str, object] = dict.fromkeys(FEATURE_NAMES, 1.0)
    ordinary |= {
        "transaction_id": "tx-1",
        "amount": 42.0,
        "timestamp": datetime(2024, 5, 1, 12, tzinfo=UTC),
        "card_id": "tok_1",
        "terminal_id": "T-1",
        "merchant_category": "grocery",
        "country": "FR",
        "card_home_country": "FR",
        "currency": "EUR",
        "channel": "pos",
    }
    risky = ordinary | {
        "amount": 7000.0,
        "merchant_category": "gambling",
        "country": "MT",
        "card_tx_count_1h": 6.0,
    }
    missing = ordinary | {"amount": math.nan, "country": None, "card_tx_count_1h": math.nan}
    return {"no rule fires": ordinary, "all three fire": risky, "inputs missing": missing}


def reference(values: dict[str, object]) -> Callable[[], object]:
    types = {
        "amount": rule_engine.DataType.FLOAT,
        "card_tx_count_1h": rule_engine.DataType.FLOAT,
        "merchant_category": rule_engine.DataType.STRING,
        "country": rule_engine.DataType.STRING,
        "card_home_country": rule_engine.DataType.STRING,
    }
    rules = [
        rule_engine.Rule(r.expression, context=rule_engine.Context(type_resolver=types))
        for r in DEFAULT_RULES
    ]
    return lambda: [rule.matches(values) for rule in rules]


def main() -> None:
    print(f"# {sys.executable} bench/rules.py")
    print(f"# Python {platform.python_version()}, rule-engine {rule_engine.__version__}")
    rules = RuleSet(DEFAULT_RULES)
    cases = transactions()
    for name, values in cases.items():
        median, best = per_call_us(lambda values=values: rules.evaluate(values))
        print(f"txguard RuleSet.evaluate, {name}: median {median:.2f} us, best {best:.2f} us")
    for name in ("no rule fires", "all three fire"):
        median, best = per_call_us(reference(cases[name]))
        print(
            f"reference rule-engine Rule.matches x3, {name}: median {median:.2f} us, best {best:.2f} us"
        )


if __name__ == "__main__":
    main()
