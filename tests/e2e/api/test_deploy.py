"""The CI/CD deploy hook: signed calls register a model, and only a model past its gates serves."""

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.e2e.api.test_openapi import assert_one_shape
from tests.fixtures.api import AppFactory, app_of

from txguard.models.artifact import ModelBundle, sha256, to_bytes
from txguard.registry import service as registry
from txguard.security.signatures import sign

DEPLOY = "/api/v1/deploy"
SECRET = "deploy-hook-secret-for-the-tests-0123456789"
GATES = {"validation_auc_roc": 0.8, "validation_average_precision": 0.5}


def upload(tmp_path: Path, bundle: ModelBundle, name: str | None = None) -> dict[str, Any]:
    """Put the artifact where CI would (under the model directory); the body naming it."""
    data = to_bytes(bundle)
    relative = f"incoming/{name or bundle.version + '.txgm'}"
    path = tmp_path / "models" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"artifact": relative, "sha256": sha256(data)}


def post(
    client: TestClient,
    body: dict[str, Any],
    *,
    secret: str = SECRET,
    sent_at: int | None = None,
    send: bytes | None = None,
    drop: str | None = None,
) -> Any:
    """A deploy call signed as CI signs it; ``send`` replaces the body after signing."""
    raw = json.dumps(body).encode()
    timestamp = int(time.time()) if sent_at is None else sent_at
    headers = {
        "content-type": "application/json",
        "X-Txguard-Timestamp": str(timestamp),
        "X-Txguard-Signature": sign(secret.encode(), timestamp, raw),
    }
    if drop is not None:
        del headers[drop]
    return client.post(DEPLOY, content=raw if send is None else send, headers=headers)


def versions(client: TestClient) -> dict[str, bool]:
    response = client.get("/api/v1/models/versions")
    assert response.status_code == 200, response.text
    return {v["version"]: v["active"] for v in response.json()}


@pytest.fixture
def candidate(trained_bundle: ModelBundle) -> ModelBundle:
    return replace(trained_bundle, version="m-ci-1")


@pytest.fixture
def hook(api_factory: AppFactory) -> TestClient:
    return api_factory(webhook_secret=SECRET, deploy_gates=GATES)


def test_a_signed_deploy_past_its_gates_is_registered_and_serves(
    hook: TestClient, candidate: ModelBundle, tmp_path: Path
) -> None:
    body = upload(tmp_path, candidate)

    response = post(hook, body)

    assert response.status_code == 201, response.text
    answer = response.json()
    assert (answer["version"], answer["registered"], answer["activated"]) == ("m-ci-1", True, True)
    assert [(g["metric"], g["minimum"], g["passed"]) for g in answer["gates"]] == [
        ("validation_auc_roc", 0.8, True),
        ("validation_average_precision", 0.5, True),
    ]
    assert answer["gates"][0]["value"] == candidate.metrics["validation_auc_roc"]
    assert versions(hook) == {"m-ci-1": True}
    assert app_of(hook).state.context.model_version() == "m-ci-1"  # this process, at once
    row = registry.get_version(app_of(hook).state.context.runtime.engine, "m-ci-1")
    assert row.created_by == "webhook:deploy" and row.artifact_sha256 == body["sha256"]

    again = post(hook, body, sent_at=int(time.time()) - 10)  # a retry, signed anew

    assert again.status_code == 200, again.text
    assert (again.json()["registered"], again.json()["activated"]) == (False, True)
    assert versions(hook) == {"m-ci-1": True}


def test_a_model_below_a_gate_is_registered_but_does_not_serve(
    api_factory: AppFactory, candidate: ModelBundle, tmp_path: Path
) -> None:
    gates = {"validation_auc_roc": 0.99, "holdout_auc_roc": 0.85}
    hook = api_factory(webhook_secret=SECRET, deploy_gates=gates)
    body = upload(tmp_path, candidate)

    response = post(hook, body)

    assert response.status_code == 201, response.text
    assert (response.json()["registered"], response.json()["activated"]) == (True, False)
    failed = {g["metric"]: g["value"] for g in response.json()["gates"] if not g["passed"]}
    assert failed == {
        "holdout_auc_roc": None,  # the model has no such metric: failed, by name
        "validation_auc_roc": candidate.metrics["validation_auc_roc"],
    }
    assert versions(hook) == {"m-ci-1": False}

    with_ci_metrics = {**body, "metrics": {"holdout_auc_roc": 0.9, "validation_auc_roc": 0.995}}
    passed = post(hook, with_ci_metrics, sent_at=int(time.time()) - 10)

    assert passed.status_code == 200, passed.text
    assert all(g["passed"] for g in passed.json()["gates"]) and passed.json()["activated"]
    assert versions(hook) == {"m-ci-1": True}


def test_activate_false_registers_without_serving(
    hook: TestClient, candidate: ModelBundle, tmp_path: Path
) -> None:
    response = post(hook, {**upload(tmp_path, candidate), "activate": False})

    assert response.status_code == 201 and response.json()["activated"] is False
    assert all(g["passed"] for g in response.json()["gates"])
    assert versions(hook) == {"m-ci-1": False}


def test_a_replayed_call_is_refused(
    hook: TestClient, candidate: ModelBundle, tmp_path: Path
) -> None:
    body = upload(tmp_path, candidate)
    sent_at = int(time.time())

    assert post(hook, body, sent_at=sent_at).status_code == 201
    replayed = post(hook, body, sent_at=sent_at)

    assert "already used" in assert_one_shape(replayed, 409, "replayed")["message"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"sent_at": int(time.time()) - 301}, "stale timestamp"),
        ({"sent_at": int(time.time()) + 3600}, "timestamp in the future"),
        ({"send": b'{"artifact": "incoming/other.txgm", "sha256": "00"}'}, "signature mismatch"),
        ({"secret": "not-the-webhook-secret"}, "signature mismatch"),
        ({"drop": "X-Txguard-Signature"}, "missing header X-Txguard-Signature"),
        ({"drop": "X-Txguard-Timestamp"}, "missing header X-Txguard-Timestamp"),
    ],
    ids=["stale", "future", "tampered-body", "wrong-secret", "no-signature", "no-timestamp"],
)
def test_a_call_not_properly_signed_is_a_401_saying_why(
    hook: TestClient,
    candidate: ModelBundle,
    tmp_path: Path,
    change: dict[str, Any],
    reason: str,
) -> None:
    response = post(hook, upload(tmp_path, candidate), **change)

    assert assert_one_shape(response, 401, "bad_signature")["message"].startswith(reason)
    assert versions(hook) == {}


def test_a_signed_call_with_an_unsigned_body_is_checked_before_the_body(hook: TestClient) -> None:
    response = hook.post(DEPLOY, content=b"{not json", headers={"content-type": "application/json"})

    assert_one_shape(response, 401, "bad_signature")


@pytest.mark.parametrize("artifact", ["../escape.txgm", "/etc/passwd", "incoming/../../x.txgm"])
def test_an_artifact_outside_the_model_directory_is_a_422_naming_the_field(
    hook: TestClient, artifact: str
) -> None:
    response = post(hook, {"artifact": artifact, "sha256": "0" * 64})

    [field] = assert_one_shape(response, 422, "validation_error")["fields"]
    assert field["field"] == "artifact"


def test_a_symbolic_link_out_of_the_model_directory_is_refused(
    hook: TestClient, candidate: ModelBundle, tmp_path: Path
) -> None:
    body = upload(tmp_path, candidate)
    outside = tmp_path / "outside.txgm"
    outside.write_bytes(to_bytes(candidate))
    (tmp_path / "models" / "incoming" / "link.txgm").symlink_to(outside)

    response = post(hook, {**body, "artifact": "incoming/link.txgm"})

    [field] = assert_one_shape(response, 422, "validation_error")["fields"]
    assert field["field"] == "artifact" and "outside" in field["message"]


def test_an_artifact_not_uploaded_is_a_404(hook: TestClient) -> None:
    response = post(hook, {"artifact": "incoming/nope.txgm", "sha256": "0" * 64})

    assert "incoming/nope.txgm" in assert_one_shape(response, 404, "not_found")["message"]


def test_an_artifact_of_another_digest_is_refused_naming_sha256(
    hook: TestClient, candidate: ModelBundle, tmp_path: Path
) -> None:
    body = {**upload(tmp_path, candidate), "sha256": "ab" * 32}

    [field] = assert_one_shape(post(hook, body), 422, "validation_error")["fields"]

    assert field["field"] == "sha256"
    assert versions(hook) == {}


def test_the_same_version_with_other_bytes_is_a_conflict(
    hook: TestClient, candidate: ModelBundle, tmp_path: Path
) -> None:
    assert post(hook, upload(tmp_path, candidate)).status_code == 201
    other = replace(candidate, metrics={**candidate.metrics, "validation_auc_roc": 0.95})

    response = post(hook, upload(tmp_path, other, name="rebuilt.txgm"))

    assert "m-ci-1" in assert_one_shape(response, 409, "conflict")["message"]


def test_without_a_webhook_secret_the_hook_is_off(
    api_factory: AppFactory, candidate: ModelBundle, tmp_path: Path
) -> None:
    client = api_factory()

    response = post(client, upload(tmp_path, candidate))

    assert "TXGUARD_WEBHOOK_SECRET" in assert_one_shape(response, 503, "not_configured")["message"]
