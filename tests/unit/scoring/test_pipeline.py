"""The pipeline the API, the stream and replay share: same answers one by one or in batches."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from tests.fixtures.models import TEST_END, TEST_START

from txguard.domain.enums import Decision
from txguard.domain.transactions import Transaction
from txguard.features.batch import compute_batch
from txguard.features.definitions import FEATURE_NAMES, FeatureConfig
from txguard.features.online import FeatureInput, OnlineFeatures
from txguard.features.state import MemoryStore
from txguard.rules import DEFAULT_RULES, RuleSet
from txguard.scoring.pipeline import ScoringPipeline
from txguard.scoring.replay import replay, replay_decisions


def _pipeline(bundle=None) -> ScoringPipeline:
    return ScoringPipeline(
        OnlineFeatures(MemoryStore(), FeatureConfig()), RuleSet(DEFAULT_RULES), bundle
    )


def test_served_probabilities_equal_the_batch_features_the_model_was_trained_on(
    trained_bundle, small_history
):
    """No training/serving skew: online features through the model give the batch scores."""
    scored = replay(small_history, _pipeline(trained_bundle), TEST_START, TEST_END)
    frame = small_history.frame
    batch = compute_batch(frame, FeatureConfig())
    rows = frame["transaction_id"].isin(scored["transaction_id"]).to_numpy()
    expected = trained_bundle.fraud.probability(
        batch.loc[rows, list(trained_bundle.feature_names)].to_numpy()
    )
    np.testing.assert_allclose(scored["fraud_probability"], expected, rtol=1e-9, atol=1e-12)


def _transactions(history, count):
    return [
        Transaction(
            r.transaction_id,
            datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=r.time_ms),
            r.amount,
            card_token=r.card,
            terminal_id=r.terminal,
        )
        for r in history.frame.iloc[:count].itertuples()
    ]


@pytest.mark.parametrize("size", [3000, 5], ids=["one-model-call", "row-by-row"])
def test_one_at_a_time_and_batched_scoring_agree(trained_bundle, small_history, size):
    txs = _transactions(small_history, 3000)
    pipeline = _pipeline(trained_bundle)
    batched = [r for i in range(0, len(txs), size) for r in pipeline.score_many(txs[i : i + size])]
    single_pipeline = _pipeline(trained_bundle)
    single = [single_pipeline.score(tx) for tx in txs]
    assert [r.decision for r in batched] == [r.decision for r in single]
    np.testing.assert_allclose(
        [r.fraud_probability for r in batched], [r.fraud_probability for r in single], rtol=1e-12
    )
    np.testing.assert_allclose(
        [r.anomaly_score for r in batched], [r.anomaly_score for r in single], rtol=1e-12
    )


def test_a_batch_explains_each_transaction_as_its_caller_asked(trained_bundle, small_history):
    txs = _transactions(small_history, 3000)
    plain = _pipeline(trained_bundle).score_many(txs)
    flagged = [i for i, r in enumerate(plain) if r.is_fraud]
    assert len(flagged) >= 2
    asked = [None] * len(txs)
    asked[0], asked[flagged[0]] = True, False  # an approval explained, a flagged one not
    results = _pipeline(trained_bundle).score_many(txs, explain=asked)
    assert results[0].explanation is not None and results[0].explanation["top_contributions"]
    assert results[flagged[0]].explanation is None
    single = _pipeline(trained_bundle)
    alone = [single.score(tx, explain=asked[i]) for i, tx in enumerate(txs)]
    for i in (0, flagged[1]):  # one TreeSHAP call for the batch explains as one call per row
        assert results[i].explanation is not None and alone[i].explanation is not None
        batch_top = results[i].explanation["top_contributions"]
        alone_top = alone[i].explanation["top_contributions"]
        assert [c["feature"] for c in batch_top] == [c["feature"] for c in alone_top]
        assert [c["contribution"] for c in batch_top] == pytest.approx(
            [c["contribution"] for c in alone_top], rel=1e-9
        )
    with pytest.raises(ValueError, match="explain choices"):
        _pipeline(trained_bundle).score_many(txs[:3], explain=[True])


def test_reviews_and_blocks_are_explained_approvals_only_on_request(trained_bundle, small_history):
    _, results = replay_decisions(
        small_history, _pipeline(trained_bundle), TEST_START, TEST_END, explain=None
    )
    flagged = [r for r in results if r.is_fraud]
    approved = [r for r in results if not r.is_fraud]
    assert flagged and approved
    assert all(r.explanation and r.explanation["top_contributions"] for r in flagged)
    assert all(r.explanation is None for r in approved)
    first = flagged[0].explanation
    assert first is not None and first["recommendation"] and first["confidence"]


def test_without_a_model_the_pipeline_scores_on_rules_and_says_so(small_history):
    pipeline = _pipeline(None)
    big = Transaction("t1", datetime(2018, 4, 2, tzinfo=UTC), 9000.0, "card", "term")
    result = pipeline.score(big)
    assert result.degraded and pipeline.degraded
    assert result.decision is Decision.REVIEW
    assert result.fraud_probability is None and result.anomaly_score is None
    assert result.explanation is not None
    assert "no model" in result.explanation["degraded_reason"]
    assert result.to_dict()["degraded"] is True


def test_a_single_transaction_is_scored_with_the_fast_anomaly_path(trained_bundle, small_history):
    pipeline = _pipeline(trained_bundle)
    tx = Transaction("t1", datetime(2018, 4, 29, tzinfo=UTC), 55.0, "c1", "t1")
    result = pipeline.score(tx, explain=True)
    assert result.anomaly_score == pytest.approx(
        _batch_anomaly(trained_bundle, _pipeline(trained_bundle), tx), rel=1e-12
    )
    assert result.explanation is not None and result.processing_time_ms > 0


def _batch_anomaly(bundle, pipeline, tx):
    feature_input = FeatureInput(
        tx.transaction_id, tx.time_ms, tx.amount, tx.card_token, tx.terminal_id
    )
    values, _ = pipeline.features.compute(feature_input)
    names = list(bundle.feature_names)
    row = np.array([[values[FEATURE_NAMES.index(n)] for n in names]])
    return float(bundle.anomaly.score(row)[0])
