"""The CI/CD hook: a pipeline registers the model it built, activated only if its gates pass.

The caller holds no account: the route is signed (``api/signed.py``), so only a call carrying
a fresh HMAC of its body under the webhook secret reaches the code below. A retry is signed
anew with the current time, and is harmless: deploying a registered version again changes
nothing and answers 200.
"""

from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from txguard.api.access import signed
from txguard.api.context import ApiContext
from txguard.api.schemas import DeployIn, DeployOut, GateOut
from txguard.api.signed import SIGNED_RESPONSES, SignedRoute, error_doc
from txguard.registry.deploy import Deployment, deploy

router = APIRouter(route_class=SignedRoute)

ACTOR = "webhook:deploy"
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": DeployOut, "description": "The version was registered before; nothing added"},
    404: error_doc("not_found", "The artifact is not in the model directory",
                   "artifact 'incoming/m-2.txgm' is not in the model directory"),
    409: {**SIGNED_RESPONSES[409], "description": "This signature was accepted before "
          "(`replayed`), or the version is registered with another artifact (`conflict`)"},
    422: error_doc("validation_error", "A body field refused, or the artifact's digest is not "
                   "`sha256`; `fields` names the field",
                   "artifact: Value error, must not leave the model directory with '..'"),
}  # fmt: skip


@router.post("/deploy", response_model=DeployOut, status_code=201, tags=["models"],
             summary="Register a model version built by CI; activate it if its gates pass",
             responses=RESPONSES, **signed())  # fmt: skip
async def deploy_model(request: Request, response: Response, body: DeployIn) -> DeployOut:
    """Signed with `TXGUARD_WEBHOOK_SECRET` (see "Deploy webhook" in docs/api.md), never with
    credentials. 201 when registered now, 200 when the version already was; `activated` says
    whether it serves, and `gates` how each quality gate went."""
    context: ApiContext = request.app.state.context
    done = await run_in_threadpool(partial(_deploy, context, body))
    if done.activated:
        await run_in_threadpool(context.service.refresh)
    if not done.registered:
        response.status_code = 200
    return DeployOut(
        version=done.version,
        registered=done.registered,
        activated=done.activated,
        gates=[GateOut(metric=g.metric, value=g.value, minimum=g.minimum, passed=g.passed)
               for g in done.gates],
    )  # fmt: skip


def _deploy(context: ApiContext, body: DeployIn) -> Deployment:
    settings = context.runtime.settings
    return deploy(
        context.runtime.engine,
        artifact=body.artifact,
        expected_sha256=body.sha256,
        metrics=body.metrics,
        activate=body.activate,
        directory=settings.artifact_dir,
        gates=settings.deploy_gates,
        actor=ACTOR,
    )
