"""The API documents itself: docs pages, and an OpenAPI document that holds what clients need.

Each operation under /api/v1 says who may call it (`x-roles`), what it does (a summary), and
which errors it answers, in the one error shape; each request body has an example. And the
errors really come in that one shape, whichever part of the stack produced them.
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.e2e.api.test_alerts_api import ALERTS, flag

from txguard.api import auth_schemas, schemas
from txguard.api.schemas import ErrorBody

PREFIX = "/api/v1"
ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
HEALTH = f"GET {PREFIX}/health"
METHODS = ("get", "put", "post", "delete", "patch")
# Listings that can fail only with a 503 today; they get a 4xx (401/403) with the security layer.
# Listings that cannot answer a 4xx until the security layer adds 401 and 403.
NO_CLIENT_ERROR = {f"GET {PREFIX}/models/versions", f"GET {PREFIX}/rules", f"GET {PREFIX}/lists"}

Operation = tuple[str, dict[str, Any]]


def operations(document: dict[str, Any]) -> list[Operation]:
    """``("POST /api/v1/predict", its OpenAPI operation)`` for every operation under /api/v1."""
    return [
        (f"{method.upper()} {path}", operation)
        for path, item in document["paths"].items()
        if path.startswith(f"{PREFIX}/")
        for method, operation in item.items()
        if method in METHODS
    ]


def json_schema(response: dict[str, Any]) -> Any:
    return response.get("content", {}).get("application/json", {}).get("schema")


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A schema and its component name, following one ``$ref``."""
    ref = schema.get("$ref", "")
    name = ref.removeprefix("#/components/schemas/")
    return name, document["components"]["schemas"][name] if ref else schema


@pytest.fixture
def document(api: TestClient) -> dict[str, Any]:
    response = api.get("/api/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("path", ["/api/docs", "/api/redoc"])
def test_the_docs_pages_are_html(api: TestClient, path: str) -> None:
    response = api.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/api/openapi.json" in response.text


def test_every_operation_declares_its_roles_and_a_summary(document: dict[str, Any]) -> None:
    found = operations(document)

    assert len(found) >= 19
    for name, operation in found:
        roles = operation.get("x-roles")
        assert isinstance(roles, list) and all(isinstance(r, str) for r in roles), name
        assert operation.get("summary", "").strip(), name
    assert dict(found)[HEALTH]["x-roles"] == []


def test_every_operation_documents_a_client_error_in_the_one_shape(
    document: dict[str, Any],
) -> None:
    for name, operation in operations(document):
        if name == HEALTH or name in NO_CLIENT_ERROR:
            continue
        client_errors = [
            status
            for status, response in operation["responses"].items()
            if status.startswith("4") and json_schema(response) == ERROR_BODY
        ]
        assert client_errors, f"{name} documents no 4xx of the one error shape"


def test_every_documented_error_is_the_one_shape_with_an_example(
    document: dict[str, Any],
) -> None:
    for name, operation in operations(document):
        for status, response in operation["responses"].items():
            if status[0] not in "45" or (name == HEALTH and status == "503"):
                continue
            assert json_schema(response) == ERROR_BODY, (name, status)
            example = response["content"]["application/json"]["example"]
            assert ErrorBody.model_validate(example).error.code, (name, status)
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_health_documents_its_503_as_a_health_report(document: dict[str, Any]) -> None:
    health = dict(operations(document))[HEALTH]

    assert json_schema(health["responses"]["503"]) == {"$ref": "#/components/schemas/HealthOut"}


def test_every_request_body_has_an_example_its_model_accepts(document: dict[str, Any]) -> None:
    bodies = 0
    for name, operation in operations(document):
        if "requestBody" not in operation:
            continue
        bodies += 1
        media = operation["requestBody"]["content"].get("application/json")
        if media is None:  # the OAuth2 sign-in form: form fields, not a JSON model
            continue
        model_name, schema = resolve(document, media["schema"])
        examples = [media["example"]] if "example" in media else []
        examples += list(media.get("examples", {}).values())
        examples += schema.get("examples", []) + (
            [schema["example"]] if "example" in schema else []
        )
        assert examples, f"{name}: no example for its request body"
        model = getattr(schemas, model_name, None) or getattr(auth_schemas, model_name)
        for example in examples:
            model.model_validate(example)
    assert bodies >= 9


def test_success_bodies_are_documented_by_their_model(document: dict[str, Any]) -> None:
    for name, operation in operations(document):
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                assert json_schema(response) != {"type": "string"}, (name, status)


def assert_one_shape(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is ``status`` with exactly the one error shape; its ``error``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], list)
    for field in error["fields"]:
        assert set(field) == {"field", "message"}
        assert all(isinstance(value, str) and value for value in field.values())
    return error


def test_errors_from_every_layer_have_the_one_shape(api: TestClient) -> None:
    [flagged] = flag(api, 1)

    unknown = api.get(f"{PREFIX}/transactions/nope")
    bad_query = api.get(ALERTS, params={"min_risk_score": 500})
    wrong_method = api.delete(f"{PREFIX}/predict")
    unknown_path = api.get(f"{PREFIX}/nope")
    illegal = api.put(f"{ALERTS}/{flagged}", json={"new_status": "RESOLVED"})

    assert_one_shape(unknown, 404, "not_found")
    [field] = assert_one_shape(bad_query, 422, "validation_error")["fields"]
    assert field["field"] == "min_risk_score"
    assert_one_shape(wrong_method, 405, "method_not_allowed")
    assert wrong_method.headers["allow"] == "POST"
    assert_one_shape(unknown_path, 404, "not_found")
    assert "UNDER_REVIEW" in assert_one_shape(illegal, 409, "conflict")["message"]


def test_a_405_lists_every_method_of_the_path(api: TestClient) -> None:
    response = api.delete(f"{PREFIX}/rules")

    assert_one_shape(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, POST"


@pytest.mark.parametrize(
    "content", [b'{"transaction_id": "x", "amount": ', b'\xff{"amount": 1}'], ids=["json", "utf8"]
)
def test_a_body_that_is_not_json_is_a_422_naming_the_body(api: TestClient, content: bytes) -> None:
    response = api.post(
        f"{PREFIX}/predict", content=content, headers={"content-type": "application/json"}
    )

    [field] = assert_one_shape(response, 422, "validation_error")["fields"]
    assert field["field"] == "body"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "12.5"}, "amount"),
        ({"amount": True}, "amount"),
        ({"timestamp": 1_700_000_000}, "timestamp"),
        ({"timestamp": "1700000000"}, "timestamp"),
        ({"timestamp": "0001-01-01T00:00:00+01:00"}, "timestamp"),
        ({"time": 1e12}, "time"),
        ({"features": {"V1": "0.5"}}, "features.V1"),
    ],
)
def test_values_are_taken_as_the_schema_types_them_not_coerced(
    api: TestClient, change: dict[str, Any], field: str
) -> None:
    body = {"transaction_id": "strict-1", "amount": 10, **change}

    response = api.post(f"{PREFIX}/predict", json=body)

    [error] = assert_one_shape(response, 422, "validation_error")["fields"]
    assert error["field"] == field


def test_feedback_refuses_flags_that_are_not_booleans_and_the_import_source(
    api: TestClient,
) -> None:
    flag_as_number = {"transaction_id": "t", "is_fraud": 1}
    from_import = {"transaction_id": "t", "is_fraud": True, "source": "import"}

    for body, field in [(flag_as_number, "is_fraud"), (from_import, "source")]:
        [error] = assert_one_shape(
            api.post(f"{PREFIX}/feedback", json=body), 422, "validation_error"
        )["fields"]
        assert error["field"] == field
