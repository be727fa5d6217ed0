"""``POST /predict`` answers the same through its direct path as through the full stack.

A body sent in chunks (no ``Content-Length``) always goes through FastAPI's stack, so each
request is sent both ways and the answers compared: status, error body, headers, and for a
decision every field but the time it took.
"""

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from tests.fixtures.api import AppFactory, Credentials, call_as

from txguard.domain.enums import Role

PREDICT = "/api/v1/predict"
SERVICE = Role.SERVICE
COMPARED_HEADERS = (
    "content-type",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "content-security-policy",
    "cache-control",
    "retry-after",
    "www-authenticate",
)


def body(tid: str, **fields: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"transaction_id": tid, "amount": 42.0, "card_id": "4111-1",
                                "terminal_id": "T-1", "timestamp": "2018-05-02T10:00:00Z"}  # fmt: skip
    document.update(fields)
    return document


def both_ways(
    client: TestClient, headers: dict[str, str], content: bytes, **options: Any
) -> tuple[httpx.Response, httpx.Response]:
    """The answer with a declared length (direct path), then sent in chunks (the stack)."""

    def chunks() -> Iterator[bytes]:
        yield content

    direct = call_as(client, "POST", PREDICT, headers=headers, content=content, **options)
    stacked = call_as(client, "POST", PREDICT, headers=headers, content=chunks(), **options)
    return direct, stacked


def same_answer(direct: httpx.Response, stacked: httpx.Response) -> None:
    assert direct.status_code == stacked.status_code, (direct.text, stacked.text)
    for name in COMPARED_HEADERS:
        assert direct.headers.get(name) == stacked.headers.get(name), name
    left, right = direct.json(), stacked.json()
    if direct.status_code == 200:
        left.pop("processing_time_ms")
        right.pop("processing_time_ms")
    assert left == right


@pytest.fixture
def scorer(api_factory: AppFactory, served_model: object) -> TestClient:
    return api_factory(rate_limit_per_minute=40)


def json_headers(credentials: Credentials, role: Role = SERVICE) -> dict[str, str]:
    return {**credentials[role], "Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("case", "document"),
    [
        ("scored", body("d-1")),
        ("bad field", body("d-2", amount=-5)),
        ("missing field", {"transaction_id": "d-3"}),
        ("not JSON", None),
    ],
)
def test_a_body_gets_the_same_answer_both_ways(
    scorer: TestClient, credentials: Credentials, case: str, document: dict[str, Any] | None
) -> None:
    content = orjson.dumps(document) if document is not None else b"{not json"

    direct, stacked = both_ways(scorer, json_headers(credentials), content)

    same_answer(direct, stacked)
    assert direct.status_code == (200 if case == "scored" else 422)


@pytest.mark.parametrize("explain", ["true", "0", "maybe"])
def test_the_explain_flag_is_read_alike(
    scorer: TestClient, credentials: Credentials, explain: str
) -> None:
    content = orjson.dumps(body(f"d-explain-{explain}"))

    direct, stacked = both_ways(
        scorer, json_headers(credentials), content, params={"explain": explain}
    )

    same_answer(direct, stacked)
    assert direct.status_code == (422 if explain == "maybe" else 200)


def test_refusals_are_alike(scorer: TestClient, credentials: Credentials) -> None:
    content = orjson.dumps(body("d-refused"))
    no_key = {"Content-Type": "application/json"}
    wrong_key = {"X-API-Key": "txg_nope.nope", "Content-Type": "application/json"}

    for headers in (no_key, wrong_key, json_headers(credentials, Role.ANALYST)):
        direct, stacked = both_ways(scorer, headers, content)
        same_answer(direct, stacked)
        assert direct.status_code in (401, 403)


def test_the_rate_limit_counts_both_ways_and_refuses_alike(
    scorer: TestClient, credentials: Credentials
) -> None:
    if time.time() % 60 > 50:  # all within one minute: the window then holds only these calls
        time.sleep(61 - time.time() % 60)
    headers = json_headers(credentials)
    answers = [
        answer
        for i in range(20)
        for answer in both_ways(scorer, headers, orjson.dumps(body(f"d-limit-{i}")))
    ]

    assert [a.status_code for a in answers] == [200] * 40
    direct, stacked = both_ways(scorer, headers, orjson.dumps(body("d-limit-over")))
    assert direct.status_code == stacked.status_code == 429
    waits = [int(a.headers["retry-after"]) for a in (direct, stacked)]
    assert abs(waits[0] - waits[1]) <= 1  # a second may turn between the two
    assert [_without_digits(a.json()) for a in (direct, stacked)] == [
        _without_digits(stacked.json())
    ] * 2


def _without_digits(document: Any) -> str:
    return re.sub(r"\d+", "N", orjson.dumps(document).decode())


def test_the_direct_path_is_counted_in_the_request_metrics(
    scorer: TestClient, credentials: Credentials
) -> None:
    call_as(scorer, "POST", PREDICT, headers=json_headers(credentials),
            content=orjson.dumps(body("d-metrics")))  # fmt: skip

    metrics = scorer.get("/metrics").text

    assert (
        'txguard_http_requests_total{method="POST",route="/api/v1/predict",status="200"} 1.0'
        in metrics
    )
