"""What every answer carries and every caller is held to: headers, body size, CORS, rate limits.

The rate limit is shared through Redis, so a key that has spent its minute on one process is
refused by the other, with a ``Retry-After`` a client can act on. And the logs written while
scoring never hold the card number they were given.
"""

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.e2e.api.test_scoring_api import PREDICT, tx
from tests.fixtures.api import Credentials, call_as
from tests.fixtures.redis import REDIS_URL

from txguard.domain.enums import Role

RULES = "/api/v1/rules"
CARD = "4000 1234 5678 9010"


def test_every_answer_carries_the_security_headers(api: TestClient) -> None:
    for response in (
        api.get(RULES),
        api.get("/api/v1/nope"),
        call_as(api, "GET", RULES, headers={}),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert response.headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in response.headers


def test_the_docs_page_may_load_its_own_scripts_only_from_its_cdn(api: TestClient) -> None:
    policy = api.get("/api/docs").headers["content-security-policy"]

    assert "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net" in policy
    assert "frame-ancestors 'none'" in policy


def test_hsts_is_sent_when_configured_behind_tls(api_factory: Any, served_model: Any) -> None:
    client = api_factory(hsts=True)

    assert client.get(RULES).headers["strict-transport-security"].startswith("max-age=")


def test_a_body_over_the_limit_is_refused_before_it_is_read(
    api_factory: Any, served_model: Any
) -> None:
    client = api_factory(max_body_bytes=2048)

    response = client.post(PREDICT, json=tx("big", features={f"f{i}": 1.0 for i in range(200)}))

    assert response.status_code == 413
    assert response.json()["error"]["message"] == (
        "the request body is larger than the limit of 2048 bytes"
    )
    assert client.post(PREDICT, json=tx("small")).status_code == 200


def test_a_streamed_body_over_the_limit_is_refused(api_factory: Any, served_model: Any) -> None:
    client = api_factory(max_body_bytes=2048)

    def chunks() -> Any:
        for _ in range(10):
            yield b" " * 512

    response = client.post(PREDICT, content=chunks(), headers={"content-type": "application/json"})

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_cors_answers_listed_origins_only(api_factory: Any, served_model: Any) -> None:
    client = api_factory(cors_origins=["https://console.bank.example"])
    preflight = {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "x-api-key",
    }

    listed = client.options(RULES, headers={"Origin": "https://console.bank.example", **preflight})
    other = client.options(RULES, headers={"Origin": "https://evil.example", **preflight})

    assert listed.status_code == 200
    assert listed.headers["access-control-allow-origin"] == "https://console.bank.example"
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.redis
def test_the_rate_limit_is_shared_by_processes_and_says_when_to_retry(
    api_factory: Any, served_model: Any, credentials: Credentials, redis_namespace: str
) -> None:
    shared = {
        "redis_url": REDIS_URL,
        "redis_namespace": redis_namespace,
        "rate_limit_per_minute": 5,
    }
    first, second = api_factory(**shared), api_factory(**shared)
    key = credentials[Role.ANALYST]

    answers = [
        call_as(client, "GET", RULES, headers=key).status_code
        for client in (first, second, first, second, first)
    ]
    refused = call_as(second, "GET", RULES, headers=key)
    other_key = call_as(first, "GET", RULES, headers=credentials[Role.AUDITOR])

    assert answers == [200] * 5
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["error"]["code"] == "too_many_requests"
    assert other_key.status_code == 200


def test_logs_never_hold_the_raw_card_number(
    api: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    api.post(PREDICT, json=tx("log-1", card_id=CARD))
    api.post(PREDICT, json=tx("log-1", card_id=CARD))
    api.post(PREDICT, json=tx("log-2", card_id=CARD, amount=-1))
    api.post("/api/v1/predict/batch", json={"transactions": [tx("log-3", card_id=CARD)]})

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert CARD not in logged and CARD.replace(" ", "") not in logged
