"""Signing in over HTTP: the OAuth2 password flow, refresh rotation, logout, "who am I"."""

import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from tests.fixtures.api import AppFactory, api_settings, app_of, call_as

from txguard.domain.enums import Role
from txguard.runtime import build_runtime
from txguard.security import accounts

PASSWORD = "correct horse battery staple"
NO_CREDENTIALS: dict[str, str] = {}


@pytest.fixture
def alice(db_url: str, tmp_path: Path) -> str:
    """An analyst in the test database."""
    runtime = build_runtime(api_settings(db_url, tmp_path))
    try:
        accounts.create_user(
            runtime.engine, username="alice", password=PASSWORD, role=Role.ANALYST, actor="test"
        )
    finally:
        runtime.close()
    return "alice"


def post(client: TestClient, url: str, **kwargs: Any) -> Any:
    return call_as(client, "POST", f"/api/v1{url}", headers=NO_CREDENTIALS, **kwargs)


def login(client: TestClient, username: str, password: str) -> Any:
    return post(client, "/auth/token", data={"username": username, "password": password})


def me(client: TestClient, headers: dict[str, str]) -> Any:
    return call_as(client, "GET", "/api/v1/auth/me", headers=headers)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_sign_in_refresh_and_log_out(api_factory: AppFactory, alice: str) -> None:
    client = api_factory()
    signed_in = login(client, alice, PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    pair = signed_in.json()
    assert pair["token_type"] == "bearer" and pair["expires_in"] == 900
    who = me(client, bearer(pair["access_token"]))
    assert who.status_code == 200 and who.json() == {
        "kind": "user", "name": "alice", "role": "ANALYST"
    }  # fmt: skip

    renewed = post(client, "/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert renewed.status_code == 200, renewed.text
    new_pair = renewed.json()
    assert me(client, bearer(new_pair["access_token"])).status_code == 200

    logged_out = post(client, "/auth/logout", json={"refresh_token": new_pair["refresh_token"]})
    assert logged_out.status_code == 204 and logged_out.content == b""
    again = post(client, "/auth/refresh", json={"refresh_token": new_pair["refresh_token"]})
    assert again.status_code == 401 and again.headers["WWW-Authenticate"] == "Bearer"


def test_a_wrong_password_and_an_unknown_user_get_the_same_401(
    api_factory: AppFactory, alice: str
) -> None:
    client = api_factory()
    wrong, unknown = login(client, alice, "not the password"), login(client, "bob", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "error": {"code": "unauthorized", "message": "wrong username or password", "fields": []}
        }
    )
    assert wrong.headers["WWW-Authenticate"] == "Bearer"


def test_a_reused_refresh_token_is_refused_and_revokes_the_newer_one(
    api_factory: AppFactory, alice: str
) -> None:
    client = api_factory()
    first = login(client, alice, PASSWORD).json()["refresh_token"]
    second = post(client, "/auth/refresh", json={"refresh_token": first}).json()["refresh_token"]
    assert post(client, "/auth/refresh", json={"refresh_token": first}).status_code == 401
    assert post(client, "/auth/refresh", json={"refresh_token": second}).status_code == 401


def test_repeated_failures_lock_the_account_with_retry_after(
    api_factory: AppFactory, alice: str
) -> None:
    client = api_factory(login_attempts_per_account=2)
    for _ in range(2):
        assert login(client, alice, "not the password").status_code == 401
    locked = login(client, alice, PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "too_many_requests"
    assert 0 < int(locked.headers["Retry-After"]) <= 60


def test_an_api_key_caller_sees_its_key(api_factory: AppFactory, credentials: Any) -> None:
    client = api_factory()
    key = credentials[Role.SERVICE]["X-API-Key"]
    assert me(client, credentials[Role.SERVICE]).json() == {
        "kind": "key", "name": key[4:20], "role": "SERVICE"
    }  # fmt: skip


def test_expired_tampered_and_missing_tokens_get_401(api_factory: AppFactory, alice: str) -> None:
    client = api_factory()
    token = login(client, alice, PASSWORD).json()["access_token"]
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    secret = app_of(client).state.context.runtime.settings.jwt_secret.get_secret_value()
    expired = jwt.encode(
        claims | {"exp": int(time.time()) - 60}, secret, algorithm="HS256", headers=header
    )
    promoted = jwt.encode(claims | {"role": "ADMIN"}, "x" * 40, algorithm="HS256", headers=header)
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": header["kid"]})
    for headers in (bearer(expired), bearer(promoted), bearer(unsigned), NO_CREDENTIALS):
        refused = me(client, headers)
        assert refused.status_code == 401, (headers, refused.text)
        assert refused.json()["error"]["code"] == "unauthorized"


def test_bad_form_and_body_are_422_naming_the_field(api_factory: AppFactory) -> None:
    client = api_factory()
    missing = post(client, "/auth/token", data={"username": "alice"})
    assert missing.status_code == 422 and missing.json()["error"]["fields"][0]["field"] == (
        "password"
    )
    extra = post(client, "/auth/refresh", json={"refresh_token": "x", "other": 1})
    assert extra.status_code == 422


def test_a_revoked_key_gets_401_once_the_reload_interval_has_passed(
    api_factory: AppFactory, credentials: Any
) -> None:
    client = api_factory()
    headers = credentials[Role.SERVICE]
    assert me(client, headers).status_code == 200
    engine = app_of(client).state.context.runtime.engine

    accounts.revoke_api_key(engine, key_id=headers["X-API-Key"][4:20], actor="test")
    time.sleep(0.3)  # the API fixture's reload_interval_s is 0.2

    refused = me(client, headers)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"


def test_a_refusal_tells_the_caller_little_and_the_log_why(
    api_factory: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = api_factory()
    caplog.set_level("INFO", logger="txguard.api.authorization")
    unknown = "txg_0123456789abcdef_" + "x" * 43

    refused = me(client, {"X-API-Key": unknown})

    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "invalid or expired credentials"
    assert "0123456789abcdef" in caplog.text
