"""The FastAPI application: routes under ``/api/v1``, docs, metrics, one error shape.

``create_app`` is the factory ``txguard serve`` hands to uvicorn, so each worker process
builds its own context (database pool, feature store client, pipeline) after the fork.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.telemetry import TelemetryConfig
from starlette.middleware.body_limit import RequestBodyLimitMiddleware

from txguard import __version__
from txguard.api import errors
from txguard.api.access import allowed
from txguard.api.authorization import (
    Gate,
    GuardedRoute,
    document_security,
    route_policy,
    unguarded_routes,
)
from txguard.api.context import build_context
from txguard.api.direct import DirectScoring
from txguard.api.hardening import BodyLimit, SecurityHeaders
from txguard.api.json_body import document_json_bodies
from txguard.api.metrics import MetricsMiddleware
from txguard.api.responses import JsonResponse
from txguard.api.routes import alerts, audit, auth, deploy, feedback, health, operations, scoring
from txguard.features.state import StateStore
from txguard.ingest.service import ensure_schema_current
from txguard.runtime import Runtime, build_runtime
from txguard.scoring.rulebook import ensure_default_rules
from txguard.security.settings_audit import record_settings
from txguard.settings import get_settings

PREFIX = "/api/v1"
DESCRIPTION = """\
Real-time card fraud scoring and the analyst alert queue.

Every error has one shape: `{"error": {"code", "message", "fields": [{"field", "message"}]}}`,
where `code` is stable (`validation_error`, `not_found`, `conflict`, `payload_too_large`,
`unavailable`, ...) and `fields` names the inputs at fault.
Each route lists in `x-roles` the roles allowed to call it; a caller authenticates with an
`X-API-Key` header (machine clients) or `Authorization: Bearer <token>` from
`/api/v1/auth/token` (people). Without credentials the answer is 401, with a role not
listed 403, over the rate limit 429 with `Retry-After`.
"""


NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
"""FastAPI's own OpenTelemetry switched off unless asked for (``TXGUARD_OPENTELEMETRY``): its
check of the global providers reads the environment three times per request, a few per cent
of a scoring request, and txguard's metrics are its Prometheus ones (``/metrics``)."""


def create_app(runtime: Runtime | None = None, *, store: StateStore | None = None) -> FastAPI:
    """An app on ``runtime`` (default: from the settings), its feature state in ``store``."""
    runtime = runtime if runtime is not None else build_runtime(get_settings())
    ensure_schema_current(runtime.engine)
    ensure_default_rules(runtime.engine)
    context = build_context(runtime, store)
    settings = runtime.settings
    context.identity.ensure_first_admin()
    record_settings(runtime.engine, settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await context.start()
        try:
            yield
        finally:
            await context.stop()

    app = FastAPI(
        title="txguard",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/api/docs",
        redoc_url="/api/redoc",
        openapi_url="/api/openapi.json",
        default_response_class=JsonResponse,
        lifespan=lifespan,
        telemetry=None if settings.opentelemetry else NO_TELEMETRY,
    )
    app.state.context = context
    errors.install(app)
    routers = [
        m.router for m in (scoring, alerts, feedback, operations, audit, deploy, auth, health)
    ]
    for router in routers:
        app.include_router(router, prefix=PREFIX)
    app.router.route_class = GuardedRoute
    app.add_api_route(
        "/metrics", health.metrics, methods=["GET"], include_in_schema=False, **allowed()
    )
    if unguarded := unguarded_routes([*routers, app.router]):
        raise RuntimeError(f"routes built without the role guard: {', '.join(unguarded)}")
    app.state.gate = Gate(context.identity, context.limiter, settings.rate_limit_per_minute)
    document_security(app)
    document_json_bodies(app)
    app.add_middleware(MetricsMiddleware, metrics=context.metrics, prefix=PREFIX)
    app.add_middleware(RequestBodyLimitMiddleware, max_body_size=settings.max_body_bytes)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key"],
            max_age=600,
        )
    app.add_middleware(SecurityHeaders, hsts=settings.hsts)
    app.add_middleware(
        DirectScoring, path=f"{PREFIX}/predict", score=scoring.score_one, gate=app.state.gate,
        policy=route_policy(scoring.router, "/predict", "POST"),
        metrics=context.metrics, max_body_bytes=settings.max_body_bytes, hsts=settings.hsts,
    )  # fmt: skip
    return app
