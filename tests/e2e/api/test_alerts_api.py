"""The analyst queue and case workflow through HTTP: list, count, detail, transitions, labels."""

from typing import Any

from fastapi.testclient import TestClient
from tests.e2e.api.test_scoring_api import PREDICT, tx

ALERTS = "/api/v1/anomalies"
BIG = {"amount": 9000.0}  # the shipped "High Value Transaction" rule sends it to review


def flag(client: TestClient, count: int) -> list[str]:
    """Score ``count`` transactions the default rules flag; their ids."""
    ids = []
    for i in range(count):
        tid = f"f-{i}"
        body = tx(tid, timestamp=f"2018-05-02T1{i % 10}:{i % 60:02d}:00Z", **BIG)
        assert client.post(PREDICT, json=body).json()["decision"] != "approve"
        ids.append(tid)
    return ids


def test_flagged_transactions_are_listed_with_keyset_pages_and_a_total(api: TestClient) -> None:
    flagged = set(flag(api, 7))
    assert (
        api.post(PREDICT, json=tx("calm", amount=3.0, card_id="other")).json()["decision"]
        == "approve"
    )

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = api.get(ALERTS, params=params).json()
        assert page["total"] == 7
        seen += [item["transaction_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and set(seen) == flagged
    assert api.get(f"{ALERTS}/count").json() == {"total": 7}


def test_the_queue_is_sorted_by_risk_then_time_and_filters_apply(api: TestClient) -> None:
    flag(api, 4)
    items = api.get(ALERTS).json()["items"]
    keys = [(item["risk_score"], item["occurred_at"]) for item in items]
    assert keys == sorted(keys, reverse=True)

    by_rule = api.get(ALERTS, params={"rule": "High Value Transaction"}).json()
    assert by_rule["total"] == 4
    assert api.get(ALERTS, params={"rule": "No such rule"}).json()["total"] == 0
    assert api.get(ALERTS, params={"status": "RESOLVED"}).json()["total"] == 0
    assert api.get(ALERTS, params={"min_risk_score": 100}).json()["total"] <= 4
    window = {"start": "2018-05-02T10:00:00Z", "end": "2018-05-02T12:00:00Z"}
    assert api.get(f"{ALERTS}/count", params=window).json()["total"] == 2


def test_bad_queue_parameters_are_422_naming_them(api: TestClient) -> None:
    for params, field in [({"limit": 5000}, "limit"), ({"min_risk_score": -1}, "min_risk_score"),
                          ({"status": "OPEN"}, "status"), ({"cursor": "not-a-cursor"}, "cursor"),
                          ({"start": "2018-05-03T00:00:00Z", "end": "2018-05-02T00:00:00Z"}, "end")]:  # fmt: skip
        response = api.get(ALERTS, params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["error"]["fields"][0]["field"].startswith(field), response.json()


def test_a_case_moves_through_its_workflow_and_the_verdict_becomes_a_label(api: TestClient) -> None:
    [tid] = flag(api, 1)

    review = api.put(f"{ALERTS}/{tid}", json={"new_status": "UNDER_REVIEW", "note": "calling"})
    verdict = api.put(
        f"{ALERTS}/{tid}", json={"new_status": "CONFIRMED_FRAUD", "note": "card stolen"}
    )
    resolved = api.put(f"{ALERTS}/{tid}", json={"new_status": "RESOLVED"})

    assert review.status_code == 200 and review.json()["label_recorded"] is False
    assert verdict.json() == {"transaction_id": tid, "from_status": "UNDER_REVIEW",
                              "to_status": "CONFIRMED_FRAUD", "label_recorded": True}  # fmt: skip
    assert resolved.status_code == 200
    detail = api.get(f"/api/v1/transactions/{tid}").json()
    assert detail["status"] == "RESOLVED"
    assert detail["explanation"]["rule_hits"][0]["name"] == "High Value Transaction"
    assert [(e["from_status"], e["to_status"]) for e in detail["case_history"]] == [
        ("NEW", "UNDER_REVIEW"), ("UNDER_REVIEW", "CONFIRMED_FRAUD"), ("CONFIRMED_FRAUD", "RESOLVED")]  # fmt: skip
    [label] = detail["labels"]
    assert label["is_fraud"] is True and label["source"] == "analyst" and label["known_at"]


def test_an_illegal_transition_is_409_and_an_unknown_id_404(api: TestClient) -> None:
    [tid] = flag(api, 1)
    api.post(PREDICT, json=tx("approved", amount=2.0, card_id="other"))

    illegal = api.put(f"{ALERTS}/{tid}", json={"new_status": "RESOLVED"})
    unknown = api.put(f"{ALERTS}/nope", json={"new_status": "UNDER_REVIEW"})
    not_flagged = api.put(f"{ALERTS}/approved", json={"new_status": "UNDER_REVIEW"})
    bad_status = api.put(f"{ALERTS}/{tid}", json={"new_status": "DONE"})

    assert illegal.status_code == 409 and "UNDER_REVIEW" in illegal.json()["error"]["message"]
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    assert not_flagged.status_code in (404, 409)
    assert bad_status.status_code == 422
    assert api.get("/api/v1/transactions/nope").status_code == 404


def test_feedback_labels_known_and_future_transactions(api: TestClient) -> None:
    api.post(PREDICT, json=tx("fb-1"))
    known = api.post("/api/v1/feedback", json={"transaction_id": "fb-1", "is_fraud": True,
                                                "reported_at": "2018-05-20T00:00:00Z"})  # fmt: skip
    early = api.post("/api/v1/feedback/batch", json={"items": [
        {"transaction_id": "fb-2", "is_fraud": True, "source": "dispute"},
        {"transaction_id": "fb-1", "is_fraud": True, "reported_at": "2018-05-20T00:00:00Z"}]})  # fmt: skip
    api.post(PREDICT, json=tx("fb-2", timestamp="2018-05-02T11:00:00Z"))

    assert known.status_code == 200 and known.json() == {"transaction_id": "fb-1", "matched": True}
    assert early.json()["results"] == [{"transaction_id": "fb-2", "matched": False},
                                       {"transaction_id": "fb-1", "matched": True}]  # fmt: skip
    labels = api.get("/api/v1/transactions/fb-2").json()["labels"]
    assert [(x["source"], x["is_fraud"]) for x in labels] == [("dispute", True)]
    bad = api.post("/api/v1/feedback", json={"transaction_id": "fb-3", "is_fraud": "maybe"})
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "is_fraud"
