"""The FastAPI application: routes under ``/api/v1``, docs, metrics, one error shape.

``create_app`` is the factory ``txguard serve`` hands to uvicorn, so each worker process
builds its own context (database pool, feature store client, pipeline) after the fork.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from txguard import __version__
from txguard.api import errors
from txguard.api.context import build_context
from txguard.api.metrics import MetricsMiddleware
from txguard.api.responses import JsonResponse
from txguard.api.routes import alerts, feedback, health, operations, scoring
from txguard.features.state import StateStore
from txguard.ingest.service import ensure_schema_current
from txguard.runtime import Runtime, build_runtime
from txguard.scoring.rulebook import ensure_default_rules
from txguard.settings import get_settings

PREFIX = "/api/v1"
DESCRIPTION = """\
Real-time card fraud scoring and the analyst alert queue.

Every error has one shape: `{"error": {"code", "message", "fields": [{"field", "message"}]}}`,
where `code` is stable (`validation_error`, `not_found`, `conflict`, `payload_too_large`,
`unavailable`, ...) and `fields` names the inputs at fault.
Each route lists in `x-roles` the roles allowed to call it.
"""


def create_app(runtime: Runtime | None = None, *, store: StateStore | None = None) -> FastAPI:
    """An app on ``runtime`` (default: from the settings), its feature state in ``store``."""
    runtime = runtime if runtime is not None else build_runtime(get_settings())
    ensure_schema_current(runtime.engine)
    ensure_default_rules(runtime.engine)
    context = build_context(runtime, store)

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
    )
    app.state.context = context
    errors.install(app)
    for module in (scoring, alerts, feedback, operations, health):
        app.include_router(module.router, prefix=PREFIX)
    app.add_api_route("/metrics", health.metrics, methods=["GET"], include_in_schema=False)
    app.add_middleware(MetricsMiddleware, metrics=context.metrics, prefix=PREFIX)
    return app
