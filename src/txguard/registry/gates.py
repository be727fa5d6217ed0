"""Quality gates: the minimum each named metric must reach before a model may serve unattended.

A gate whose metric the model does not carry fails, named, rather than being skipped: a gate
that silently passes because a training run stopped reporting its metric is no gate.

>>> [g.passed for g in evaluate({"validation_auc_roc": 0.8}, {"validation_auc_roc": 0.91})]
[True]
>>> evaluate({"validation_auc_roc": 0.8}, {})[0].value is None
True
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GateResult:
    """One gate: the metric's value (None when the model lacks it) against its minimum."""

    metric: str
    value: float | None
    minimum: float
    passed: bool


def evaluate(gates: Mapping[str, float], metrics: Mapping[str, Any]) -> list[GateResult]:
    """Every gate, in the order of the metric names, passed or failed."""
    results = []
    for metric in sorted(gates):
        value = _number(metrics.get(metric))
        minimum = gates[metric]
        results.append(GateResult(metric, value, minimum, value is not None and value >= minimum))
    return results


def all_passed(results: list[GateResult]) -> bool:
    """Whether a model may be activated on these results (no gates: yes)."""
    return all(result.passed for result in results)


def _number(value: Any) -> float | None:
    """A metric as a finite number; text, flags, NaN and infinities count as missing."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
