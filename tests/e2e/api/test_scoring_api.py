"""POST /api/v1/predict and /predict/batch through HTTP, against both database backends."""

import gc
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.fixtures.api import api_settings, app_of

from txguard.api.app import create_app
from txguard.api.context import SERVING_GC_THRESHOLDS
from txguard.models.artifact import ModelBundle
from txguard.runtime import build_runtime
from txguard.store.orm import RequestLogRow, TransactionRow

PREDICT = "/api/v1/predict"
BATCH = "/api/v1/predict/batch"


def tx(tid: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "transaction_id": tid,
        "amount": 42.0,
        "timestamp": "2018-05-02T10:00:00Z",
        "card_id": "4111 1111 1111 1111",
        "terminal_id": "T-1",
    }
    body.update(fields)
    return body


def stored_rows(client: TestClient) -> int:
    engine = app_of(client).state.context.runtime.engine
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(TransactionRow)) or 0)


def test_a_decision_has_every_field_and_is_stored(api: TestClient) -> None:
    response = api.post(PREDICT, json=tx("t-1"))

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) >= {"transaction_id", "is_fraud", "fraud_probability", "anomaly_score",
                         "risk_score", "decision", "model_version", "processing_time_ms",
                         "degraded", "explanation"}  # fmt: skip
    assert 0.0 <= body["fraud_probability"] <= 1.0
    assert body["anomaly_score"] is not None
    assert body["degraded"] is False and body["model_version"]
    assert set(body["explanation"]) >= {"risk_factors", "protective_factors", "rule_hits",
                                        "top_contributions", "confidence", "recommendation"}  # fmt: skip
    assert stored_rows(api) == 1


def test_explain_gives_treeshap_contributions_for_an_approval(api: TestClient) -> None:
    body = api.post(PREDICT, params={"explain": "true"}, json=tx("t-explain")).json()

    assert body["explanation"]["top_contributions"]


def test_a_retry_returns_the_stored_decision_without_counting_the_card_twice(
    api: TestClient,
) -> None:
    rule = {"name": "Second in an hour", "expression": "card_tx_count_1h >= 1", "action": "flag",
            "weight": 1, "reason": "second payment of the card within an hour"}  # fmt: skip
    assert api.post("/api/v1/rules", json=rule).status_code == 201

    first = api.post(PREDICT, json=tx("r-1")).json()
    retry = api.post(PREDICT, json=tx("r-1", amount=999.0)).json()
    second = api.post(PREDICT, json=tx("r-2", timestamp="2018-05-02T10:05:00Z")).json()

    assert retry == first
    assert [h["name"] for h in second["explanation"]["rule_hits"]] == ["Second in an hour"]
    assert second["explanation"]["rule_hits"][0]["reason"].startswith("second payment")
    assert stored_rows(api) == 2


def test_a_retry_reaching_a_fresh_process_gets_the_stored_decision(
    api_factory: Any, served_model: Any
) -> None:
    first_process = api_factory()
    decided = first_process.post(PREDICT, json=tx("p-1")).json()
    second_process = api_factory()

    assert second_process.post(PREDICT, json=tx("p-1", amount=5.0)).json() == decided
    assert stored_rows(second_process) == 1


def test_bad_input_is_a_422_naming_the_field(api: TestClient) -> None:
    cases = {
        "amount": tx("b-1", amount=-3),
        "transaction_id": {"amount": 3},
        "timestamp": tx("b-2", timestamp="2018-05-02T10:00:00"),
        "currency": tx("b-3", currency="euro"),
        "card_number": tx("b-4", card_number="4111"),
        "features.V1": tx("b-5", features={"V1": "high"}),
    }
    for field, body in cases.items():
        response = api.post(PREDICT, json=body)
        assert response.status_code == 422, (field, response.text)
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert error["fields"][0]["field"] == field, (field, error)
    assert stored_rows(api) == 0


def test_malformed_json_and_non_finite_numbers_are_422(api: TestClient) -> None:
    broken = api.post(
        PREDICT,
        content=b'{"transaction_id": "x", "amount": ',
        headers={"content-type": "application/json"},
    )
    nan = api.post(
        PREDICT,
        content=b'{"transaction_id": "x", "amount": NaN}',
        headers={"content-type": "application/json"},
    )

    assert broken.status_code == 422 and broken.json()["error"]["code"] == "validation_error"
    assert nan.status_code == 422 and nan.json()["error"]["fields"][0]["field"] == "amount"


def test_a_body_sent_as_another_content_type_is_422_naming_the_body(api: TestClient) -> None:
    response = api.post(
        PREDICT,
        content=b'{"transaction_id": "x", "amount": 1}',
        headers={"content-type": "text/plain"},
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["fields"][0]["field"] == "body" and "JSON" in error["message"]
    assert stored_rows(api) == 0


def test_a_batch_of_valid_transactions_is_200_in_order(api: TestClient) -> None:
    items = [tx(f"batch-{i}", timestamp=f"2018-05-02T10:{i:02d}:00Z") for i in range(20)]

    response = api.post(BATCH, json={"transactions": items})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scored"] == 20 and body["failed"] == 0
    assert [r["decision"]["transaction_id"] for r in body["results"]] == [
        f"batch-{i}" for i in range(20)
    ]
    assert stored_rows(api) == 20


def test_a_batch_with_invalid_items_is_207_and_scores_the_rest(api: TestClient) -> None:
    items = [tx("m-0"), tx("m-1", amount="lots"), tx("m-2"), {"transaction_id": "m-3"}, tx("m-0")]

    response = api.post(BATCH, json={"transactions": items})

    assert response.status_code == 207
    results = response.json()["results"]
    assert [r["status"] for r in results] == [200, 422, 200, 422, 200]
    assert results[1]["error"]["fields"][0]["field"] == "transactions[1].amount"
    assert results[3]["error"]["fields"][0]["field"] == "transactions[3].amount"
    assert results[4]["decision"] == results[0]["decision"]
    assert stored_rows(api) == 2


def test_an_oversized_batch_is_refused_with_413(api: TestClient) -> None:
    response = api.post(BATCH, json={"transactions": [tx(f"o-{i}") for i in range(1001)]})

    assert response.status_code == 413
    assert "1000" in response.json()["error"]["message"]
    assert stored_rows(api) == 0


def test_every_scoring_request_is_logged_with_tokens_only(api: TestClient) -> None:
    api.post(PREDICT, json=tx("log-1"))
    api.post(BATCH, json={"transactions": [tx("log-2"), tx("log-3")]})
    context = app_of(api).state.context
    context.request_log.stop()
    context.request_log.start()

    with context.runtime.engine.connect() as connection:
        rows = connection.execute(select(RequestLogRow)).all()
    assert {r.transaction_id for r in rows} == {"log-1", "log-2", "log-3"}
    assert all(r.card_token.startswith("ct_") and "4111" not in r.card_token for r in rows)


def test_metrics_count_requests_and_decisions(api: TestClient) -> None:
    api.post(PREDICT, json=tx("mx-1"))
    api.post(PREDICT, json=tx("mx-2", amount=-1))

    text = api.get("/metrics").text

    assert (
        'txguard_http_requests_total{method="POST",route="/api/v1/predict",status="200"} 1.0'
        in text
    )
    assert 'route="/api/v1/predict",status="422"} 1.0' in text
    assert "txguard_decisions_total" in text and "txguard_risk_score_bucket" in text
    assert "txguard_request_log_dropped_total 0.0" in text
    version = app_of(api).state.context.model_version()
    assert f'txguard_model_info{{version="{version}"}} 1.0' in text


def test_serving_collects_garbage_less_often_and_restores_the_collector_when_it_stops(
    db_url: str, tmp_path: Path, served_model: ModelBundle
) -> None:
    before = gc.get_threshold()
    app = create_app(build_runtime(api_settings(db_url, tmp_path)))
    with TestClient(app) as client:
        assert gc.get_threshold() == SERVING_GC_THRESHOLDS
        assert client.post(PREDICT, json=tx("gc-1")).status_code == 401  # serving, no key
    assert gc.get_threshold() == before
