"""Thresholds come from the review budget and the precision wanted before blocking."""

import numpy as np
import pytest

from txguard.models.thresholds import NEVER, Thresholds, choose_thresholds


def test_the_review_threshold_raises_the_budgeted_alerts_a_day():
    rng = np.random.default_rng(0)
    p = rng.random(10_000)
    y = (rng.random(10_000) < p * 0.2).astype(float)
    t = choose_thresholds(p, y, days=5, alerts_per_day=100)
    assert (p >= t.review).sum() == 500
    assert t.validation_alerts_per_day == 100.0
    assert t.validation_precision == pytest.approx(y[p >= t.review].mean())


def test_the_block_threshold_keeps_blocks_nearly_always_right():
    p = np.array([0.99, 0.98, 0.97, 0.9, 0.8, 0.7, 0.6, 0.5])
    y = np.array([1, 1, 1, 1, 0, 1, 0, 0], dtype=float)
    t = choose_thresholds(p, y, days=1, alerts_per_day=6, block_precision=0.8)
    assert t.review == 0.7
    assert t.block == 0.7  # 5 of the 6 alerts down to 0.7 are fraud: 83%
    strict = choose_thresholds(p, y, days=1, alerts_per_day=6, block_precision=1.0)
    assert strict.block == 0.9


def test_the_model_never_blocks_alone_when_no_threshold_is_precise_enough():
    t = choose_thresholds([0.9, 0.8], [0, 0], days=1, alerts_per_day=1)
    assert t.block == NEVER and t.review == 0.9


def test_thresholds_round_trip_through_json_form():
    t = choose_thresholds([0.9, 0.8, 0.1], [1, 0, 0], days=1, alerts_per_day=2)
    assert Thresholds.from_dict(t.to_dict()) == t


@pytest.mark.parametrize("days,budget", [(0, 10), (1, 0), (-1, 5)])
def test_impossible_budgets_are_refused(days, budget):
    with pytest.raises(ValueError, match="positive"):
        choose_thresholds([0.5], [1], days=days, alerts_per_day=budget)
