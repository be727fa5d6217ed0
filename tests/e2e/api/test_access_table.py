"""Who may call what, proven for every route the live app serves.

The table is generated from the app's own OpenAPI document, so a route added tomorrow is
walked tomorrow: each operation is called without credentials, with bad credentials, and with
a key of every role. A role the route declares must get through (whatever the route then
says about the request itself); any other role gets 403; no or bad credentials get 401.
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.e2e.api.test_openapi import PREFIX, operations
from tests.fixtures.api import Credentials, call_as

from txguard.domain.enums import Role

REFUSALS = {401, 403, 429}
BAD_CREDENTIALS = [
    {"X-API-Key": "txg_0123456789abcdef_not-a-real-secret-at-all-0000000000"},
    {"X-API-Key": "garbage"},
    {"Authorization": "Bearer not.a.jwt"},
    {"Authorization": "Basic YWRtaW46YWRtaW4="},
]


def _url(path: str) -> str:
    """The path with each template parameter filled with an id that does not exist."""
    return path.replace("{", "").replace("}", "-unknown")


def _body(operation: dict[str, Any]) -> Any:
    content = operation.get("requestBody", {}).get("content", {})
    media = content.get("application/json")
    if media is None:
        return None
    example = media.get("example")
    if example is None:
        examples = media.get("examples", {})
        example = next(iter(examples.values()), {}).get("value") if examples else {}
    return example


def _call(client: TestClient, name: str, operation: dict[str, Any], headers: dict[str, str]) -> int:
    method, path = name.split(" ", 1)
    body = _body(operation)
    if "application/x-www-form-urlencoded" in operation.get("requestBody", {}).get("content", {}):
        response = call_as(client, method, _url(path), headers=headers, data={})
    else:
        response = call_as(client, method, _url(path), headers=headers, json=body)
    assert response.status_code < 500, f"{name} answered {response.status_code}: {response.text}"
    return response.status_code


@pytest.fixture
def signed_api(api_factory: Any, served_model: Any) -> TestClient:
    """The API with its deploy webhook switched on, so the hook answers for itself."""
    client: TestClient = api_factory(webhook_secret="w" * 40)
    return client


def test_every_route_answers_each_role_as_it_declares(
    signed_api: TestClient, credentials: Credentials
) -> None:
    document = signed_api.get("/api/openapi.json").json()
    table = operations(document)
    assert len(table) >= 20

    for name, operation in table:
        roles = {Role(r) for r in operation["x-roles"]}
        if operation.get("x-signed", False):
            for headers in [{}, *credentials.values()]:
                status = _call(signed_api, name, operation, headers)
                assert status == 401, f"{name} took an unsigned call: {status}"
            continue
        for role, headers in credentials.items():
            status = _call(signed_api, name, operation, headers)
            if not roles or role in roles:
                assert status not in REFUSALS, f"{name} refused {role.value}: {status}"
            else:
                assert status == 403, f"{name} let {role.value} through: {status}"
        if not roles:
            continue
        assert _call(signed_api, name, operation, {}) == 401, f"{name} answered without credentials"
        for bad in BAD_CREDENTIALS:
            assert _call(signed_api, name, operation, bad) == 401, f"{name} took {bad}"


def test_public_routes_are_only_those_meant_to_be(api: TestClient) -> None:
    document = api.get("/api/openapi.json").json()
    public = sorted(name for name, op in operations(document) if not op["x-roles"])
    assert public == [
        f"GET {PREFIX}/health",
        f"POST {PREFIX}/auth/logout",
        f"POST {PREFIX}/auth/refresh",
        f"POST {PREFIX}/auth/token",
        f"POST {PREFIX}/deploy",
    ]


def test_every_protected_route_documents_its_credentials_and_refusals(api: TestClient) -> None:
    document = api.get("/api/openapi.json").json()
    assert set(document["components"]["securitySchemes"]) == {"OAuth2", "ApiKey"}
    for name, operation in operations(document):
        if operation["x-roles"]:
            assert operation["security"] == [{"OAuth2": []}, {"ApiKey": []}], name
            assert {"401", "403", "429"} <= set(operation["responses"]), name


def test_a_key_in_the_query_string_is_refused_even_when_valid(
    api: TestClient, credentials: Credentials
) -> None:
    key = credentials[Role.ADMIN]["X-API-Key"]

    response = call_as(api, "GET", f"{PREFIX}/rules?api_key={key}", headers={})

    assert response.status_code == 401
    assert "header" in response.json()["error"]["message"]


@pytest.mark.parametrize("role", [Role.ANALYST, Role.AUDITOR])
def test_a_refusal_names_the_roles_that_may(
    api: TestClient, credentials: Credentials, role: Role
) -> None:
    response = call_as(api, "POST", f"{PREFIX}/models/rollback", headers=credentials[role])

    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "forbidden",
        "message": f"role {role.value} may not do this; allowed: ADMIN",
        "fields": [],
    }
