"""Scoring goes on while the feature store is down, and each affected decision says so."""

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from tests.fixtures.featurestore import SpyFeatures

from txguard.domain.transactions import Transaction
from txguard.features.definitions import FEATURE_NAMES, FeatureConfig
from txguard.features.state import Append, Event, MemoryStore
from txguard.featurestore.redis_store import FeatureStoreUnavailable
from txguard.rules import DEFAULT_RULES, RuleSet
from txguard.scoring.pipeline import NO_MODEL, ScoringPipeline

START = datetime(2018, 4, 29, 14, 0, tzinfo=UTC)
DOWN = "feature store read failed: Redis at redis://test:6379/0 is unavailable"
REASON = f"feature store unavailable: {DOWN}; behavioural features missing"


class SwitchableStore(MemoryStore):
    """A memory store whose reads and writes can be made to fail like an unreachable Redis."""

    def __init__(self) -> None:
        super().__init__()
        self.read_down = False
        self.write_down = False

    def read(self, keys: Sequence[str], after_ms: Sequence[int]) -> list[list[Event]]:
        if self.read_down:
            raise FeatureStoreUnavailable(DOWN)
        return super().read(keys, after_ms)

    def write(self, appends: Sequence[Append]) -> None:
        if self.write_down:
            raise FeatureStoreUnavailable(DOWN.replace("read", "write"))
        super().write(appends)


def _pipeline(bundle=None) -> tuple[ScoringPipeline, SwitchableStore, SpyFeatures]:
    store = SwitchableStore()
    features = SpyFeatures(store, FeatureConfig())
    return ScoringPipeline(features, RuleSet(DEFAULT_RULES), bundle), store, features


def _tx(n: int, amount: float = 30.0, card: str = "card") -> Transaction:
    return Transaction(f"tx{n}", START + timedelta(minutes=n), amount, card, "term")


def _feature(features: SpyFeatures, name: str) -> float:
    return features.last[FEATURE_NAMES.index(name)]


def test_a_transaction_scored_while_the_store_is_down_is_degraded_and_says_why(trained_bundle):
    pipeline, store, features = _pipeline(trained_bundle)
    pipeline.score(_tx(1))
    store.read_down = True
    result = pipeline.score(_tx(2), explain=True)
    assert result.degraded and not pipeline.degraded
    assert result.fraud_probability is not None
    assert result.explanation is not None
    assert result.explanation["degraded_reason"] == REASON
    assert math.isnan(_feature(features, "card_tx_count_1h"))
    assert _feature(features, "amount") == 30.0
    assert pipeline.lost_records == 1 and store.size() == 2  # tx1 on the card and terminal


def test_an_approval_explained_on_request_still_names_the_reason(trained_bundle):
    pipeline, store, _ = _pipeline(trained_bundle)
    store.read_down = True
    result = pipeline.score(_tx(1, amount=12.0), explain=True)
    assert not result.is_fraud, "a small payment should be approved even without state"
    assert result.explanation is not None and result.explanation["degraded_reason"] == REASON


def test_degraded_is_per_transaction_the_next_one_is_whole_again(trained_bundle):
    pipeline, store, features = _pipeline(trained_bundle)
    store.read_down = True
    assert pipeline.score(_tx(1)).degraded
    store.read_down = False
    result = pipeline.score(_tx(2), explain=True)
    assert not result.degraded
    assert result.explanation is not None and result.explanation["degraded_reason"] is None
    assert _feature(features, "card_tx_count_1h") == 1.0  # tx1 never reached the state


def test_without_a_model_both_reasons_are_given():
    pipeline, store, _ = _pipeline()
    store.read_down = True
    result = pipeline.score(_tx(1), explain=True)
    assert result.degraded and result.explanation is not None
    assert result.explanation["degraded_reason"] == f"{NO_MODEL}; {REASON}"


def test_a_failed_write_keeps_the_decision_and_counts_the_lost_record(trained_bundle):
    pipeline, store, _ = _pipeline(trained_bundle)
    store.write_down = True
    results = [pipeline.score(_tx(1)), *pipeline.score_many([_tx(2), _tx(3)])]
    assert not any(r.degraded for r in results)
    assert pipeline.lost_records == 3 and store.size() == 0


def test_a_label_the_store_cannot_take_is_counted_not_raised():
    pipeline, store, _ = _pipeline()
    store.write_down = True
    pipeline.add_label(_tx(1), fraud=True)
    assert pipeline.lost_labels == 1
    store.write_down = False
    pipeline.add_label(_tx(2), fraud=True)
    assert pipeline.lost_labels == 1 and store.size() == 1


@pytest.mark.parametrize("down", [{3, 4, 7}, set()])
def test_one_by_one_and_batched_scoring_agree_through_an_outage(trained_bundle, down):
    txs = [_tx(n, amount=20.0 + 7 * n, card=f"card{n % 2}") for n in range(10)]

    def switch(store: SwitchableStore):
        return lambda tx: setattr(store, "read_down", int(tx.transaction_id[2:]) in down)

    batched_pipeline, batched_store, _ = _pipeline(trained_bundle)
    batched = batched_pipeline.score_many(txs, explain=True, before_each=switch(batched_store))
    single_pipeline, single_store, _ = _pipeline(trained_bundle)
    single = []
    for tx in txs:
        switch(single_store)(tx)
        single.append(single_pipeline.score(tx, explain=True))
    assert [r.degraded for r in batched] == [r.degraded for r in single]
    assert [r.degraded for r in single] == [n in down for n in range(10)]
    assert [r.explanation["degraded_reason"] for r in batched] == [
        r.explanation["degraded_reason"] for r in single
    ]
    np.testing.assert_allclose(
        [r.fraud_probability for r in batched], [r.fraud_probability for r in single], rtol=1e-12
    )
    assert batched_pipeline.lost_records == single_pipeline.lost_records == len(down)
