"""The Redis feature store as scoring processes use it: shared, bounded in time, and exact."""

import uuid
from collections.abc import Iterator
from datetime import date

import numpy as np
import pandas as pd
import pytest
import redis
from tests.fixtures.featureframes import feature_frame
from tests.fixtures.redis import REDIS_URL

from txguard.domain.errors import ConfigurationError
from txguard.features.definitions import FEATURE_NAMES
from txguard.features.online import FeatureInput, OnlineFeatures, delay_ms
from txguard.features.replay import DelayedLabels, feature_inputs, replay_features
from txguard.features.state import Append, MemoryStore
from txguard.featurestore.redis_store import FeatureStoreUnavailable, RedisStore, _Script
from txguard.simulation import SimulationParams, simulate

pytestmark = pytest.mark.redis
UNREACHABLE = "redis://127.0.0.1:1/0"


@pytest.fixture
def two_processes(redis_namespace: str) -> Iterator[tuple[RedisStore, RedisStore]]:
    """Two stores on one namespace, each with its own client and connections."""
    first = RedisStore.from_url(REDIS_URL, namespace=redis_namespace)
    second = RedisStore.from_url(REDIS_URL, namespace=redis_namespace)
    yield first, second
    first.client.close()
    second.client.close()


@pytest.fixture(scope="module")
def small_history() -> pd.DataFrame:
    """About 6,500 simulated transactions over 45 days, frauds included."""
    params = SimulationParams(
        customers=100, terminals=200, days=45, start_date=date(2018, 4, 1), seed=5
    )
    return feature_frame(simulate(params))


def test_two_processes_see_each_others_events(two_processes):
    first, second = two_processes
    first.write([Append("c:1", (10, "a", "T1", 5.0, 0), 0)])
    second.write([Append("c:1", (20, "b", "T2", 7.5, 1), 0)])
    assert first.read(["c:1"], [0]) == second.read(["c:1"], [0])
    assert [e[1] for e in first.read(["c:1"], [0])[0]] == ["a", "b"]
    assert second.evict(30) == 1 and first.size() == 0


def test_one_card_scored_by_two_processes_has_one_history(two_processes):
    engines = [OnlineFeatures(store) for store in two_processes]
    day = 86_400_000
    for n in range(4):
        engines[n % 2].process(FeatureInput(f"tx{n}", 17_000 * day + n * 60_000, 10.0, "A", "T"))
    values = engines[0].process(FeatureInput("tx4", 17_000 * day + 300_000, 10.0, "A", "T"))
    named = dict(zip(FEATURE_NAMES, values, strict=True))
    assert named["card_tx_count_1h"] == 5 and named["terminal_tx_count_1d"] == 5


def test_online_features_equal_the_memory_stores(small_history, redis_client, redis_namespace):
    assert small_history["is_fraud"].sum() > 0
    memory = MemoryStore()
    shared = RedisStore(redis_client, redis_namespace)
    expected = replay_features(small_history, OnlineFeatures(memory))
    actual = replay_features(small_history, OnlineFeatures(shared))
    pd.testing.assert_frame_equal(actual, expected, check_exact=True)
    assert shared.size() == memory.size()


def test_a_redelivered_transaction_keeps_its_first_event(redis_client, redis_namespace):
    """A retry is scored against a history that already holds it, so its flag can differ."""
    first, retry = (10, "tx1", "T1", 300.0, 1), (10, "tx1", "T1", 300.0, 0)
    shared, memory = RedisStore(redis_client, redis_namespace), MemoryStore()
    for store in (shared, memory):
        store.write([Append("c:1", first, 0)])
        store.write([Append("c:1", retry, 0)])
    assert shared.read(["c:1"], [0]) == memory.read(["c:1"], [0]) == [[first]]


def test_keys_expire_after_the_ttl(redis_client, redis_namespace):
    RedisStore(redis_client, redis_namespace, ttl_seconds=3_600).write(
        [Append("t:1", (10, "a", "", 0.0, 0), 0)]
    )
    RedisStore(redis_client, redis_namespace, ttl_seconds=None).write(
        [Append("t:2", (10, "a", "", 0.0, 0), 0)]
    )
    assert 0 < redis_client.ttl(redis_namespace + "t:1") <= 3_600
    assert redis_client.ttl(redis_namespace + "t:2") == -1


def test_a_ttl_must_be_positive():
    with pytest.raises(ConfigurationError, match="ttl_seconds"):
        RedisStore(redis.Redis(), ttl_seconds=0)


def test_default_ttl_outlives_every_window(redis_client, redis_namespace):
    RedisStore(redis_client, redis_namespace).write([Append("t:1", (10, "a", "", 0.0, 0), 0)])
    assert redis_client.ttl(redis_namespace + "t:1") > 37 * 86_400


def test_namespaces_are_literal_and_kept_apart(redis_client, redis_namespace):
    """A namespace with glob characters must not match its neighbours in SCAN."""
    wild = RedisStore(redis_client, redis_namespace + "a*[x]?:")
    neighbour = RedisStore(redis_client, redis_namespace + "ab:")
    for store in (wild, neighbour):
        store.write([Append("c:1", (10, "a", "", 0.0, 0), 0)])
    assert wild.evict(20) == 1
    wild.clear()
    assert neighbour.size() == 1


def test_a_client_that_decodes_responses_works_too(redis_namespace):
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    store = RedisStore(client, redis_namespace)
    event = (1_700_000_000_123, 'tx|é"', "terminal\n7", 0.1 + 0.2, 1)
    store.write([Append("c:x", event, 0)])
    assert store.read(["c:x"], [0]) == [[event]]
    assert store.size() == 1 and store.evict(1_800_000_000_000) == 1
    client.close()


def test_a_script_the_server_has_not_seen_is_loaded_on_first_use(redis_client):
    token = uuid.uuid4().hex
    script = _Script(redis_client, f"return '{token}'")
    assert script([], []) == token.encode() and script([], []) == token.encode()


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda s: s.read(["c:1"], [0]), id="read"),
        pytest.param(lambda s: s.write([Append("c:1", (1, "a", "", 0.0, 0), 0)]), id="write"),
        pytest.param(lambda s: s.evict(0), id="evict"),
        pytest.param(lambda s: s.size(), id="size"),
        pytest.param(lambda s: s.clear(), id="clear"),
    ],
)
def test_an_unreachable_server_is_reported_with_its_address(operation, request):
    store = RedisStore.from_url(UNREACHABLE, timeout_seconds=0.5)
    assert store.client.connection_pool.connection_kwargs["socket_connect_timeout"] == 0.5
    with pytest.raises(FeatureStoreUnavailable, match=r"redis://127\.0\.0\.1:1/0") as raised:
        operation(store)
    assert request.node.callspec.id in str(raised.value)
    store.client.close()


def _in_chunks(frame: pd.DataFrame, engine: OnlineFeatures, size: int, staged: bool) -> np.ndarray:
    """Features of ``frame`` in chunks of ``size``, labels released between chunks; each
    chunk against one staged read and write of the store, or one transaction at a time."""
    labels = DelayedLabels(delay_ms(engine.config))
    inputs = list(feature_inputs(frame))
    rows: list[list[float]] = []
    for start in range(0, len(inputs), size):
        chunk = inputs[start : start + size]
        labels.release(chunk[0][0].time_ms, engine)
        if staged:
            stage = engine.stage([tx for tx, _ in chunk])
            with engine.using(stage):
                rows += [engine.process(tx) for tx, _ in chunk]
            stage.flush()
        else:
            rows += [engine.process(tx) for tx, _ in chunk]
        for tx, fraud in chunk:
            labels.add(tx.transaction_id, tx.terminal, tx.time_ms, fraud)
    return np.array(rows, dtype=np.float64)


def test_a_staged_batch_computes_what_one_at_a_time_does(
    small_history, redis_client, redis_namespace
):
    memory, shared = MemoryStore(), RedisStore(redis_client, redis_namespace)

    expected = _in_chunks(small_history, OnlineFeatures(memory), 64, staged=False)
    actual = _in_chunks(small_history, OnlineFeatures(shared), 64, staged=True)

    np.testing.assert_array_equal(actual, expected)
    assert shared.size() == memory.size()
