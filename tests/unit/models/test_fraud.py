"""The fraud model's single-row path gives exactly what the batch path gives."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from tests.fixtures.models import TRAIN_END, TRAIN_START

from txguard.features.definitions import FeatureConfig
from txguard.models.fraud import Calibration
from txguard.models.single_row import SingleRowPredictor
from txguard.scoring.trainer import training_set


def test_one_row_at_a_time_equals_the_batch_call(trained_bundle, small_history):
    data = training_set(small_history, TRAIN_START, TRAIN_END, FeatureConfig())
    rows = data.features[:400]
    assert np.isnan(rows).any(), "missing values must take the same path"
    fraud = trained_bundle.fraud
    predictor = SingleRowPredictor(fraud.booster, rows.shape[1])
    np.testing.assert_array_equal([predictor.margin(r.tolist()) for r in rows], fraud.margin(rows))
    one = [fraud.probability_one(row.tolist()) for row in rows]
    np.testing.assert_allclose(one, fraud.probability(rows), rtol=1e-14)


def test_threads_each_get_their_own_fast_predictor(trained_bundle, small_history):
    data = training_set(small_history, TRAIN_START, TRAIN_END, FeatureConfig())
    rows = [row.tolist() for row in data.features[:2000]]
    fraud = trained_bundle.fraud
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(fraud.probability_one, rows))
    np.testing.assert_allclose(got, fraud.probability(np.array(rows)), rtol=1e-14)


def test_calibration_is_monotone_so_ranking_is_kept():
    calibration = Calibration(slope=0.8, intercept=-3.0)
    margins = np.linspace(-10, 10, 101)
    probabilities = calibration.probability(margins)
    assert np.all(np.diff(probabilities) > 0)
    assert calibration.probability_one(2.0) == pytest.approx(probabilities[60], rel=1e-14)
