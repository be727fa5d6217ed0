"""Whether this process can score, component by component, and its Prometheus metrics."""

import time

from fastapi import Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from txguard.api.access import EVERYONE, allowed
from txguard.api.context import ApiContext, elapsed_ms
from txguard.api.responses import JsonResponse
from txguard.api.routing import guarded_router
from txguard.api.schemas import HealthOut

router = guarded_router(tags=["operations"])


def _database(context: ApiContext) -> dict[str, object]:
    started = time.perf_counter()
    try:
        with context.runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return {"status": "down", "latency_ms": elapsed_ms(started), "detail": type(exc).__name__}
    return {"status": "ok", "latency_ms": elapsed_ms(started)}


def _feature_store(context: ApiContext) -> dict[str, object]:
    guarded = context.guarded
    if guarded is None:
        return {"status": "ok", "detail": "in-process memory"}
    started = time.perf_counter()
    try:
        guarded.ping()
    except Exception as exc:
        return {"status": "degraded", "latency_ms": elapsed_ms(started), "detail": str(exc)}
    return {
        "status": "ok",
        "latency_ms": elapsed_ms(started),
        "detail": f"redis, circuit {guarded.state}",
    }


def _model(context: ApiContext) -> dict[str, object]:
    pipeline = context.service.pipeline
    if pipeline.bundle is None:
        return {"status": "degraded", "detail": pipeline.degraded_reason}
    return {"status": "ok", "detail": f"version {pipeline.bundle.version}"}


def _rules(context: ApiContext) -> dict[str, object]:
    return {"status": "ok", "detail": f"{len(context.service.pipeline.rules.names)} rules enabled"}


def _writer(context: ApiContext) -> dict[str, object]:
    depth = context.service.decider.depth
    return {
        "status": "ok",
        "detail": f"{depth} decisions waiting, {context.request_log.dropped} log entries dropped",
    }


@router.get("/health", response_model=HealthOut, summary="Can this process score?",
            responses={503: {"model": HealthOut, "description": "cannot score"}}, **allowed(*EVERYONE))  # fmt: skip
async def health(request: Request) -> JsonResponse:
    """200 while decisions can be made and stored (even degraded); 503 when they cannot."""
    context: ApiContext = request.app.state.context
    components = {
        "database": await run_in_threadpool(_database, context),
        "feature_store": await run_in_threadpool(_feature_store, context),
        "model": _model(context),
        "rules": _rules(context),
        "decision_writer": _writer(context),
    }
    statuses = {str(c["status"]) for c in components.values()}
    overall = "down" if "down" in statuses else "degraded" if "degraded" in statuses else "ok"
    return JsonResponse(
        {"status": overall, "components": components}, status_code=503 if overall == "down" else 200
    )


def metrics(request: Request) -> Response:
    """Prometheus text format."""
    context: ApiContext = request.app.state.context
    return Response(generate_latest(context.metrics.registry), media_type=CONTENT_TYPE_LATEST)
