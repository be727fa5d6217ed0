"""Feature state shared by API processes through Redis, and scoring through a Redis outage."""

import time
from typing import Any

import pytest
from tests.e2e.api.test_scoring_api import PREDICT, tx
from tests.fixtures.redis import RedisServer

from txguard.features.state import MemoryStore
from txguard.featurestore.guarded import GuardedStore
from txguard.featurestore.redis_store import RedisStore
from txguard.models.artifact import ModelBundle

pytestmark = pytest.mark.redis


def guarded(url: str, namespace: str, timeout_s: float = 2.0) -> GuardedStore:
    store = RedisStore.from_url(url, namespace=namespace, timeout_seconds=timeout_s)
    return GuardedStore(store, fail_max=2, reset_timeout_s=0.5)


def one_card(prefix: str, count: int) -> list[dict[str, Any]]:
    """A card's day: payments minutes apart at a few terminals, amounts rising."""
    return [
        tx(
            f"{prefix}-{i}",
            amount=20.0 + 15 * i,
            terminal_id=f"T-{i % 3}",
            timestamp=f"2018-05-02T{8 + i // 6:02d}:{(i * 10) % 60:02d}:00Z",
        )  # fmt: skip
        for i in range(count)
    ]


def test_two_processes_sharing_redis_score_as_one_process(
    api_factory: Any, served_model: ModelBundle, redis_client: Any, redis_namespace: str
) -> None:
    from tests.fixtures.redis import REDIS_URL

    single = api_factory(store=MemoryStore())
    first = api_factory(store=guarded(REDIS_URL, redis_namespace))
    second = api_factory(store=guarded(REDIS_URL, redis_namespace))

    alone = [single.post(PREDICT, json=body).json() for body in one_card("one", 18)]
    shared = [
        (first if i % 2 == 0 else second).post(PREDICT, json=body).json()
        for i, body in enumerate(one_card("two", 18))
    ]

    assert [d["fraud_probability"] for d in shared] == pytest.approx(
        [d["fraud_probability"] for d in alone], abs=1e-12
    )
    assert [d["risk_score"] for d in shared] == [d["risk_score"] for d in alone]
    assert not any(d["degraded"] for d in shared)


def test_a_redis_outage_degrades_scoring_and_it_recovers_by_itself(
    api_factory: Any, served_model: ModelBundle, redis_server: RedisServer
) -> None:
    api = api_factory(store=guarded(redis_server.url, "outage:", timeout_s=0.2))
    bodies = one_card("o", 12)
    before = [api.post(PREDICT, json=b).json() for b in bodies[:4]]

    redis_server.stop()
    during = [api.post(PREDICT, json=b) for b in bodies[4:8]]
    health = api.get("/api/v1/health")
    redis_server.start()
    time.sleep(0.6)  # past the breaker's reset timeout: the next call is its trial
    after = [api.post(PREDICT, json=b).json() for b in bodies[8:]]

    assert not any(d["degraded"] for d in before)
    assert all(r.status_code == 200 for r in during)
    assert all(r.json()["degraded"] for r in during)
    assert all(
        "feature store unavailable" in r.json()["explanation"]["degraded_reason"] for r in during
    )
    assert health.status_code == 200 and health.json()["status"] == "degraded"
    assert health.json()["components"]["feature_store"]["status"] == "degraded"
    assert not any(d["degraded"] for d in after)
    assert api.get("/api/v1/health").json()["components"]["feature_store"]["status"] == "ok"
    assert "txguard_degraded_decisions_total 4.0" in api.get("/metrics").text


def test_an_empty_redis_is_seeded_from_the_history_when_a_process_starts(
    api_factory: Any, served_model: ModelBundle, redis_client: Any, redis_namespace: str
) -> None:
    from tests.fixtures.redis import REDIS_URL

    history = api_factory(store=MemoryStore())
    for body in one_card("past", 12):  # stored in the database, as an earlier day's traffic
        assert history.post(PREDICT, json=body).status_code == 200
    restarted = api_factory(store=MemoryStore())  # rebuilds its state from the database
    shared = api_factory(store=guarded(REDIS_URL, redis_namespace))  # Redis was empty
    later = [dict(b, timestamp=b["timestamp"].replace("05-02", "05-03")) for b in one_card("n", 6)]

    def scored(api: Any, prefix: str) -> list[dict[str, Any]]:
        return [
            api.post(PREDICT, json=dict(b, transaction_id=f"{prefix}{b['transaction_id']}")).json()
            for b in later
        ]

    expected, got = scored(restarted, "m-"), scored(shared, "r-")

    assert [d["fraud_probability"] for d in got] == pytest.approx(
        [d["fraud_probability"] for d in expected], abs=1e-12
    )
    assert redis_client.exists(f"{redis_namespace}_seeded")
