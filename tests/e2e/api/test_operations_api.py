"""Model and rule operations through HTTP, and how a change reaches every process."""

import time
from typing import Any

from fastapi.testclient import TestClient
from tests.e2e.api.test_scoring_api import PREDICT, tx

from txguard.models.artifact import ModelBundle


def wait_for(check: Any, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_model_versions_activate_and_rollback(api: TestClient, served_model: ModelBundle) -> None:
    versions = api.get("/api/v1/models/versions").json()
    assert [(v["version"], v["active"]) for v in versions] == [(served_model.version, True)]

    unknown = api.post("/api/v1/models/activate/nope")
    rollback = api.post("/api/v1/models/rollback")

    assert unknown.status_code == 404 and "nope" in unknown.json()["error"]["message"]
    assert rollback.status_code == 422 and "earlier" in rollback.json()["error"]["message"]
    again = api.post(f"/api/v1/models/activate/{served_model.version}")
    assert again.json() == {"active_version": served_model.version}


def test_a_model_change_reaches_another_process_without_a_restart(
    api_factory: Any, served_model: ModelBundle
) -> None:
    admin = api_factory()
    other = api_factory(reload_interval_s=0.1)
    assert other.post(PREDICT, json=tx("v-1")).json()["model_version"] == served_model.version
    engine = admin.app.state.context.runtime.engine  # type: ignore[attr-defined]
    from sqlalchemy import delete

    from txguard.store.orm import ModelDeploymentRow

    with engine.begin() as connection:  # the champion pointer cleared, as by another admin tool
        connection.execute(delete(ModelDeploymentRow))

    assert wait_for(
        lambda: other.post(PREDICT, json=tx(f"v-{time.monotonic_ns()}")).json()["degraded"]
    )
    assert admin.post(f"/api/v1/models/activate/{served_model.version}").status_code == 200
    assert wait_for(
        lambda: not other.post(PREDICT, json=tx(f"w-{time.monotonic_ns()}")).json()["degraded"]
    )


def test_rules_are_checked_when_saved_and_apply_at_once(api: TestClient) -> None:
    unknown_field = api.post("/api/v1/rules", json={"name": "Bad", "expression": "amout > 5",
                                                    "action": "block", "reason": "typo"})  # fmt: skip
    bad_action = api.post("/api/v1/rules", json={"name": "Bad", "expression": "amount > 5",
                                                 "action": "explode", "reason": "x"})  # fmt: skip
    created = api.post("/api/v1/rules", json={"name": "Tiny block", "expression": "amount < 1",
                                              "action": "block", "weight": 50, "reason": "card testing"})  # fmt: skip

    assert unknown_field.status_code == 422
    assert unknown_field.json()["error"]["fields"][0]["field"] == "expression"
    assert "amout" in unknown_field.json()["error"]["message"]
    assert (
        bad_action.status_code == 422
        and bad_action.json()["error"]["fields"][0]["field"] == "action"
    )
    assert created.status_code == 201 and created.json()["version"] == 1
    assert api.post(PREDICT, json=tx("tiny", amount=0.5)).json()["decision"] == "block"

    disabled = api.post("/api/v1/rules/Tiny block/disable")
    assert disabled.json()["enabled"] is False and disabled.json()["version"] == 2
    assert api.post(PREDICT, json=tx("tiny-2", amount=0.5)).json()["decision"] != "block"
    names = {r["name"]: r["enabled"] for r in api.get("/api/v1/rules").json()}
    assert names["Tiny block"] is False and names["High Value Transaction"] is True
    assert api.post("/api/v1/rules/Nope/disable").status_code == 404


def test_watch_lists_feed_rules_and_card_values_are_tokenised(api: TestClient) -> None:
    assert (
        api.post("/api/v1/lists", json={"name": "stolen_cards", "kind": "card"}).status_code == 201
    )
    rule = {"name": "Stolen card", "expression": 'card_id in list("stolen_cards")',
            "action": "block", "weight": 90, "reason": "card reported stolen"}  # fmt: skip
    assert api.post("/api/v1/rules", json=rule).status_code == 201

    added = api.post("/api/v1/lists/stolen_cards/entries", json={"values": ["4111 1111 1111 1111"]})
    blocked = api.post(PREDICT, json=tx("s-1")).json()
    removed = api.post(
        "/api/v1/lists/stolen_cards/entries/remove", json={"values": ["4111111111111111"]}
    )
    allowed = api.post(PREDICT, json=tx("s-2", timestamp="2018-05-02T11:00:00Z")).json()

    assert added.json() == {"changed": 1} and removed.json() == {"changed": 1}
    assert blocked["decision"] == "block" and allowed["decision"] != "block"
    assert api.get("/api/v1/lists").json() == [{"name": "stolen_cards", "kind": "card", "size": 0}]
    assert api.post("/api/v1/lists", json={"name": "x", "kind": "planet"}).status_code == 422
    assert api.post("/api/v1/lists/none/entries", json={"values": ["a"]}).status_code == 404


def test_a_watch_list_is_deleted_once_no_enabled_rule_reads_it(api: TestClient) -> None:
    api.post("/api/v1/lists", json={"name": "blocked_terminals", "kind": "terminal"})
    api.post("/api/v1/lists/blocked_terminals/entries", json={"values": ["T-1"]})
    rule = {"name": "Blocked terminal", "expression": 'terminal_id in list("blocked_terminals")',
            "action": "block", "weight": 90, "reason": "terminal listed"}  # fmt: skip
    assert api.post("/api/v1/rules", json=rule).status_code == 201

    refused = api.delete("/api/v1/lists/blocked_terminals")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "conflict"
    assert '"Blocked terminal"' in refused.json()["error"]["message"]
    assert api.post(PREDICT, json=tx("l-1", terminal_id="T-1")).json()["decision"] == "block"

    assert api.post("/api/v1/rules/Blocked terminal/disable").status_code == 200
    deleted = api.delete("/api/v1/lists/blocked_terminals")
    assert deleted.status_code == 204 and deleted.content == b""
    assert api.get("/api/v1/lists").json() == []
    assert api.delete("/api/v1/lists/blocked_terminals").status_code == 404
    events = api.get("/api/v1/audit", params={"action": "list.deleted"}).json()["items"]
    assert [(e["entity_id"], e["before"]["size"]) for e in events] == [("blocked_terminals", 1)]


def test_health_reports_each_component(api: TestClient) -> None:
    response = api.get("/api/v1/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["components"]) >= {"database", "feature_store", "model", "rules"}
    assert body["components"]["database"]["latency_ms"] >= 0


def test_a_restarted_process_rebuilds_card_and_terminal_history(
    api_factory: Any, served_model: ModelBundle
) -> None:
    first = api_factory()
    rule = {"name": "Seen within the hour", "expression": "card_tx_count_1h >= 1", "action": "flag",
            "weight": 1, "reason": "second payment within the hour"}  # fmt: skip
    assert first.post("/api/v1/rules", json=rule).status_code == 201
    first.post(PREDICT, json=tx("h-1", timestamp="2018-05-02T10:00:00Z"))
    first.post("/api/v1/feedback", json={"transaction_id": "h-1", "is_fraud": True})
    first.__exit__(None, None, None)

    restarted = api_factory()
    later = restarted.post(PREDICT, json=tx("h-2", timestamp="2018-05-02T10:30:00Z")).json()

    assert [h["name"] for h in later["explanation"]["rule_hits"]] == ["Seen within the hour"]
    features = restarted.app.state.context.service.features  # type: ignore[attr-defined]
    from txguard.features.definitions import FEATURE_NAMES
    from txguard.features.online import FeatureInput

    week_later = FeatureInput("probe", later_ms("2018-05-10T10:00:00Z"), 1.0, None, "T-1")
    values, _ = features.compute(week_later)
    assert values[FEATURE_NAMES.index("terminal_fraud_count_7d")] == 1


def later_ms(text: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
