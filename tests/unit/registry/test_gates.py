"""Quality gates: each named, passed only by a number at or above its minimum."""

from txguard.registry.gates import GateResult, all_passed, evaluate

GATES = {"validation_auc_roc": 0.8, "validation_average_precision": 0.5}


def test_each_gate_reports_its_value_and_minimum_in_name_order() -> None:
    results = evaluate(GATES, {"validation_average_precision": 0.5, "validation_auc_roc": 0.79})

    assert results == [
        GateResult("validation_auc_roc", 0.79, 0.8, passed=False),
        GateResult("validation_average_precision", 0.5, 0.5, passed=True),
    ]
    assert not all_passed(results)


def test_a_metric_the_model_lacks_fails_its_gate_by_name() -> None:
    [result] = evaluate({"holdout_auc_roc": 0.8}, {"validation_auc_roc": 0.99})

    assert result == GateResult("holdout_auc_roc", None, 0.8, passed=False)


def test_values_that_are_not_finite_numbers_count_as_missing() -> None:
    for value in ("0.9", True, float("nan"), float("inf"), None):
        [result] = evaluate({"m": 0.1}, {"m": value})
        assert result.value is None and not result.passed, value


def test_no_gates_let_every_model_through() -> None:
    assert evaluate({}, {}) == [] and all_passed([])
