"""Explanations are the model's own exact TreeSHAP values, put in an analyst's words."""

import numpy as np
import pytest
from tests.fixtures.models import TRAIN_END, TRAIN_START

from txguard.features.definitions import FeatureConfig
from txguard.models.explain import confidence, phrase, top_contributions
from txguard.scoring.trainer import training_set


def test_contributions_add_up_to_the_models_own_score(trained_bundle, small_history):
    data = training_set(small_history, TRAIN_START, TRAIN_END, FeatureConfig())
    fraud = trained_bundle.fraud
    rows = data.features[:50]
    contributions = fraud.contributions(rows)
    np.testing.assert_allclose(contributions.sum(axis=1), fraud.margin(rows), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    "feature,value,words",
    [
        ("card_amount_ratio_30d", 5.2, "amount is 5.2 × this card's 30-day average"),
        ("terminal_fraud_count_28d", 3.0, "terminal had 3 confirmed frauds over 28 days"),
        ("card_terminal_seen_30d", 0.0, "terminal is new to this card"),
        ("card_tx_count_1h", 4.0, "4 payments on this card in the last hour"),
        ("hour", 3.0, "paid at 03:00-03:59 UTC"),
        ("card_amount_ratio_30d", float("nan"), "unknown"),
        ("V7", 1.5, "V7: 1.50"),
    ],
)
def test_features_are_said_in_words(feature, value, words):
    assert words in phrase(feature, value)


def test_risk_and_protective_factors_are_ranked_by_strength():
    risk, protective = top_contributions(
        ["amount", "card_tx_count_1h", "is_night", "hour"],
        [300.0, 1.0, 0.0, 14.0],
        [0.5, -0.2, 0.0, 1.5],
        limit=5,
    )
    assert [c.feature for c in risk] == ["hour", "amount"]
    assert [c.feature for c in protective] == ["card_tx_count_1h"]


def test_confidence_reflects_how_sure_the_probability_is():
    assert [confidence(p) for p in (0.001, 0.97, 0.2, 0.5)] == ["high", "high", "medium", "low"]
