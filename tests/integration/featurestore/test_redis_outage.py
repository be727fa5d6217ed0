"""A Redis outage, for real: scoring goes on degraded while it is down and recovers by itself.

The test starts a private ``redis-server`` (no persistence, a free port) so it can kill and
restart it without touching anyone's shared server.
"""

import math
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from tests.fixtures.featurestore import SpyFeatures

from txguard.domain.transactions import Transaction
from txguard.features.definitions import FeatureConfig
from txguard.features.state import Append, Event
from txguard.featurestore.guarded import GuardedStore
from txguard.featurestore.redis_store import RedisStore
from txguard.rules import DEFAULT_RULES, RuleSet
from txguard.scoring.pipeline import ScoringPipeline

pytestmark = pytest.mark.redis

FAIL_MAX = 2
RESET_S = 0.5
START = datetime(2018, 4, 29, 14, 0, tzinfo=UTC)
VELOCITY = ("card_tx_count_1h", "card_amount_sum_1h", "card_tx_count_1d", "terminal_tx_count_1d")


class CountingStore:
    """Passes calls on to the Redis store, counting them: the breaker's effect, without a clock."""

    def __init__(self, inner: RedisStore) -> None:
        self.inner = inner
        self.calls = 0

    def read(self, keys: Sequence[str], after_ms: Sequence[int]) -> list[list[Event]]:
        self.calls += 1
        return self.inner.read(keys, after_ms)

    def write(self, appends: Sequence[Append]) -> None:
        self.calls += 1
        self.inner.write(appends)

    def evict(self, before_ms: int) -> int:
        self.calls += 1
        return self.inner.evict(before_ms)

    def size(self) -> int:
        self.calls += 1
        return self.inner.size()

    def clear(self) -> None:
        self.calls += 1
        self.inner.clear()


def _tx(n: int) -> Transaction:
    return Transaction(f"tx{n}", START + timedelta(minutes=n), 25.0 + n, "card-1", "term-1")


def _wait_for_retry(store: GuardedStore) -> None:
    deadline = time.monotonic() + 10
    while store.state != "half-open":
        assert time.monotonic() < deadline, "the circuit never became due for a retry"
        time.sleep(0.05)


def test_scoring_survives_a_redis_outage_and_recovers_by_itself(redis_server, trained_bundle):
    redis_store = RedisStore.from_url(redis_server.url, namespace="outage:", timeout_seconds=0.2)
    counting = CountingStore(redis_store)
    store = GuardedStore(counting, fail_max=FAIL_MAX, reset_timeout_s=RESET_S)
    features = SpyFeatures(store, FeatureConfig())
    pipeline = ScoringPipeline(features, RuleSet(DEFAULT_RULES), trained_bundle)
    try:
        _healthy(pipeline, features, first=0, count=3)

        redis_server.stop()
        _outage(pipeline, features, store, counting, first=3, count=10)

        redis_server.start()
        _wait_for_retry(store)
        _healthy(pipeline, features, first=13, count=3)  # the state lost with Redis is gone
        assert store.state == "closed"
        assert redis_store.read(["c:card-1"], [0])[0][-1][1] == "tx15"
    finally:
        redis_store.client.close()


def _healthy(pipeline: ScoringPipeline, features: SpyFeatures, first: int, count: int) -> None:
    for n in range(count):
        result = pipeline.score(_tx(first + n), explain=True)
        assert not result.degraded
        assert result.explanation is not None and result.explanation["degraded_reason"] is None
        assert features.feature("card_tx_count_1h") == n + 1
        assert features.feature("terminal_tx_count_1d") == n + 1


def _outage(
    pipeline: ScoringPipeline,
    features: SpyFeatures,
    store: GuardedStore,
    counting: CountingStore,
    first: int,
    count: int,
) -> None:
    """Every decision comes back, degraded; after FAIL_MAX failures Redis is not even tried."""
    calls_before, lost_before = counting.calls, pipeline.lost_records
    for n in range(count):
        result = pipeline.score(_tx(first + n), explain=True)
        assert result.degraded and result.fraud_probability is not None
        reason = result.explanation["degraded_reason"] if result.explanation else None
        assert reason is not None and reason.startswith("feature store unavailable: ")
        assert reason.endswith("; behavioural features missing")
        assert all(math.isnan(features.feature(name)) for name in VELOCITY)
        assert features.feature("amount") == 25.0 + first + n
    assert store.state == "open" and store.last_error is not None
    assert counting.calls - calls_before == FAIL_MAX
    assert pipeline.lost_records - lost_before == count
