"""Schemathesis against the app's own OpenAPI document, on every operation.

For requests generated from the document, valid and invalid, no answer may be a 5xx, and
every answer must be one the document describes: a documented status and media type, a body
of the documented schema, and an ``Allow`` header listing the path's methods on a 405.
Requests that break the schema must be refused.

One app on SQLite with a trained model serving, built once for the module: the document and
the handlers do not depend on the backend. Activation and rollback do change what serves.
The generated requests carry an ADMIN key (every route but the signed webhook admits it);
the same generation without credentials must meet a 401 on every protected operation.
"""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.python import asgi
from schemathesis.specs.openapi.schemas import OpenApiSchema
from tests.fixtures.api import api_settings

from txguard.api.app import create_app
from txguard.domain.enums import Role
from txguard.models.artifact import ModelBundle
from txguard.registry import service as registry
from txguard.runtime import build_runtime
from txguard.security.accounts import issue_api_key
from txguard.store import migrate
from txguard.store.engine import create_db_engine

OPENAPI = "/api/openapi.json"

# Operations that knowingly accept some requests their schema refuses, and why.
LENIENT: dict[str, str] = {
    "POST /api/v1/predict/batch": "by design: an invalid item is answered in its place in a 207",
}


@pytest.fixture(scope="module")
def served_app(
    tmp_path_factory: pytest.TempPathFactory, trained_bundle: ModelBundle
) -> Iterator[FastAPI]:
    """An app on a migrated SQLite database with the test model active."""
    data_dir = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite:///{data_dir / 'txguard.db'}"
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    runtime = build_runtime(
        api_settings(url, data_dir, rate_limit_per_minute=1_000_000, webhook_secret="w" * 40)
    )
    registry.register(runtime.engine, trained_bundle, data_dir / "models", actor="test")
    registry.activate(runtime.engine, trained_bundle.version, actor="test")
    key = issue_api_key(runtime.engine, owner="schemathesis", actor="test", role=Role.ADMIN)
    app = create_app(runtime)
    app.state.test_headers = {"X-API-Key": key.raw}
    yield app
    # Schemathesis starts the app's lifespan on first use and keeps it until the process exits
    asgi.shutdown_lifespans()


@pytest.fixture(scope="module")
def admin_headers(served_app: FastAPI) -> dict[str, str]:
    headers: dict[str, str] = served_app.state.test_headers
    return headers


@pytest.fixture(scope="module")
def api_schema(served_app: FastAPI) -> OpenApiSchema:
    loaded = schemathesis.openapi.from_asgi(OPENAPI, served_app)
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def _schemathesis_node_id(request: pytest.FixtureRequest) -> None:
    """Schemathesis 4's lazy loader reads ``Node._nodeid``, which pytest 9.2 no longer has."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


def documents_json_as_text(case: schemathesis.Case, status: int) -> bool:
    """Whether the document says a JSON answer with ``status`` is a string.

    The case for every 2xx while ``txguard.api.responses.JsonResponse`` is not a Starlette
    ``JSONResponse``: FastAPI then documents its body as ``{"type": "string"}`` instead of the
    route's response model; kept as a guard should a route return another response class.
    """
    responses: dict[str, Any] = case.operation.definition.raw.get("responses", {})
    content = responses.get(str(status), {}).get("content", {})
    return bool(content.get("application/json", {}).get("schema") == {"type": "string"})


def body_conformance(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """``response_schema_conformance``, except where the document cannot describe the body."""
    if documents_json_as_text(case, response.status_code):
        return None
    result: bool | None = schemathesis.checks.response_schema_conformance(ctx, response, case)
    return result


def checks_for(case: schemathesis.Case) -> list[Any]:
    checks = schemathesis.checks
    chosen = [
        checks.not_a_server_error,
        checks.status_code_conformance,
        checks.content_type_conformance,
        checks.response_headers_conformance,
        body_conformance,
        checks.unsupported_method,
        checks.allow_header_conformance,
    ]
    if case.operation.label not in LENIENT:
        chosen.append(checks.negative_data_rejection)
    return chosen


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_answers_as_documented(
    case: schemathesis.Case, admin_headers: dict[str, str]
) -> None:
    case.call_and_validate(headers=admin_headers, checks=checks_for(case))


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_without_credentials_every_protected_operation_answers_401(
    case: schemathesis.Case,
) -> None:
    if not case.operation.definition.raw.get("x-roles"):
        return  # public: health, sign-in, and the webhook proven by its signature
    if case.method.upper() != case.operation.method.upper():
        return  # a probe of a method the path lacks: a 405 whoever asks
    for name in [n for n in case.headers or {} if n.lower() in ("x-api-key", "authorization")]:
        del case.headers[name]  # generated from the security schemes: send none at all
    response = case.call()
    assert response.status_code == 401, (case.operation.label, response.text)


def test_alert_filters_refuse_numbers_and_times_outside_utc(
    api_schema: OpenApiSchema, admin_headers: dict[str, str]
) -> None:
    for path in ("/api/v1/anomalies", "/api/v1/anomalies/count"):
        for param in ("start", "end"):
            for value in ("0.5", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
                case = api_schema[path]["GET"].Case(query={param: value})
                response = case.call(headers=admin_headers)
                assert response.status_code == 422, (path, param, value, response.text)
