"""Model versions and rules as operators change them; every change reaches the pipeline.

A change made here rebuilds this process's pipeline at once; the other processes pick it up
from the shared pointer in the database within ``reload_interval_s``.
"""

from typing import Any

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from txguard.api.access import ADMINS, READERS, actor_of, allowed
from txguard.api.context import ApiContext
from txguard.api.errors import documented
from txguard.api.routing import guarded_router
from txguard.api.schemas import (
    ActivationOut,
    ChangedOut,
    ListEntriesIn,
    ListIn,
    ListOut,
    ModelVersionOut,
    RuleIn,
    RuleOut,
)
from txguard.domain.rules import Rule
from txguard.registry import service as registry
from txguard.scoring import rulebook
from txguard.scoring.service import model_extras

router = guarded_router()


def _context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


async def _changed(context: ApiContext) -> None:
    await run_in_threadpool(context.service.refresh)


@router.get("/models/versions", response_model=list[ModelVersionOut], tags=["models"],
            summary="Every registered model version, newest first", **allowed(*READERS))  # fmt: skip
async def model_versions(request: Request) -> list[ModelVersionOut]:
    """The versions with their metrics and thresholds; `active` marks the one serving."""
    engine = _context(request).runtime.engine
    rows = await run_in_threadpool(registry.list_versions, engine)
    active = await run_in_threadpool(registry.active_version, engine)
    return [
        ModelVersionOut(
            version=row.version,
            status=row.status.value,
            algorithm=row.algorithm,
            feature_set_version=row.feature_set_version,
            artifact_sha256=row.artifact_sha256,
            metrics=row.metrics,
            thresholds=row.thresholds,
            train_start=row.train_start,
            train_end=row.train_end,
            created_at=row.created_at,
            active=row.version == active,
        )  # fmt: skip
        for row in rows
    ]


@router.post("/models/activate/{version}", response_model=ActivationOut, tags=["models"],
             summary="Serve a model version", responses=documented(404, 422), **allowed(*ADMINS))  # fmt: skip
async def activate_model(request: Request, version: str) -> ActivationOut:
    """Point every process at `version`, once its artifact has been verified."""
    context = _context(request)
    await run_in_threadpool(registry.activate, context.runtime.engine, version, actor_of(request))
    await _changed(context)
    return ActivationOut(active_version=version)


@router.post("/models/rollback", response_model=ActivationOut, tags=["models"],
             summary="Serve the previous model version again", responses=documented(422),
             **allowed(*ADMINS))  # fmt: skip
async def rollback_model(request: Request) -> ActivationOut:
    """Go back to the version that served before the current one."""
    context = _context(request)
    version = await run_in_threadpool(registry.rollback, context.runtime.engine, actor_of(request))
    await _changed(context)
    return ActivationOut(active_version=version)


def _rule_out(rule: Rule) -> RuleOut:
    return RuleOut(
        name=rule.name, version=rule.version, expression=rule.expression, action=rule.action,
        weight=rule.weight, reason=rule.reason, enabled=rule.enabled,
    )  # fmt: skip


@router.get("/rules", response_model=list[RuleOut], tags=["rules"],
            summary="The latest version of every rule", **allowed(*READERS))  # fmt: skip
async def list_rules(request: Request) -> list[RuleOut]:
    """Enabled and disabled rules, by name."""
    rules = await run_in_threadpool(rulebook.latest_rules, _context(request).runtime.engine)
    return [_rule_out(rule) for rule in rules]


@router.post("/rules", response_model=RuleOut, status_code=201, tags=["rules"],
             summary="Create a rule, or a new version of one", responses=documented(422),
             **allowed(*ADMINS))  # fmt: skip
async def save_rule(request: Request, body: RuleIn) -> RuleOut:
    """Checked against the rule language and the lists before it is stored; never `eval`."""
    context = _context(request)
    rule = Rule(
        body.name, body.expression, body.action, body.weight, body.reason, enabled=body.enabled
    )
    extra = model_extras(context.service.pipeline.bundle)
    stored = await run_in_threadpool(_save, context, rule, actor_of(request), extra)
    await _changed(context)
    return _rule_out(stored)


def _save(context: ApiContext, rule: Rule, actor: str, extra: Any) -> Rule:
    if not rule.enabled:
        rulebook.save_rule(context.runtime.engine, Rule(rule.name, rule.expression, rule.action,
                                                        rule.weight, rule.reason), actor,
                           extra_numeric=extra)  # fmt: skip
        return rulebook.disable_rule(context.runtime.engine, rule.name, actor)
    return rulebook.save_rule(context.runtime.engine, rule, actor, extra_numeric=extra)


@router.post("/rules/{name}/disable", response_model=RuleOut, tags=["rules"],
             summary="Stop a rule from running", responses=documented(404), **allowed(*ADMINS))  # fmt: skip
async def disable_rule(request: Request, name: str) -> RuleOut:
    """Adds a disabled version; the rule's history stays."""
    context = _context(request)
    rule = await run_in_threadpool(
        rulebook.disable_rule, context.runtime.engine, name, actor_of(request)
    )
    await _changed(context)
    return _rule_out(rule)


@router.get("/lists", response_model=list[ListOut], tags=["rules"],
            summary="Watch lists that rules refer to", **allowed(*READERS))  # fmt: skip
async def list_lists(request: Request) -> list[ListOut]:
    """Each list with its kind and size (card values are tokens and are not listed)."""
    overview = await run_in_threadpool(rulebook.list_overview, _context(request).runtime.engine)
    return [ListOut(name=name, kind=kind.value, size=size) for name, kind, size in overview]


@router.post("/lists", response_model=ListOut, status_code=201, tags=["rules"],
             summary="Create a watch list", responses=documented(422), **allowed(*ADMINS))  # fmt: skip
async def create_list(request: Request, body: ListIn) -> ListOut:
    """An empty list that rules can read as `list("name")`."""
    context = _context(request)
    await run_in_threadpool(
        lambda: rulebook.create_list(
            context.runtime.engine,
            body.name,
            body.kind,
            actor_of(request),
            description=body.description,
        )  # fmt: skip
    )
    await _changed(context)
    return ListOut(name=body.name, kind=body.kind, size=0)


@router.post("/lists/{name}/entries", response_model=ChangedOut, tags=["rules"],
             summary="Add values to a watch list", responses=documented(404, 422), **allowed(*ADMINS))  # fmt: skip
async def add_entries(request: Request, name: str, body: ListEntriesIn) -> ChangedOut:
    """Card ids are tokenised before they are stored; returns how many values were new."""
    context = _context(request)
    engine, token = context.runtime.engine, context.runtime.tokeniser.token
    values = await run_in_threadpool(rulebook.stored_values, engine, token, name, body.values)
    added = await run_in_threadpool(
        rulebook.add_list_entries, engine, name, values, actor_of(request)
    )
    await _changed(context)
    return ChangedOut(changed=added)


@router.post("/lists/{name}/entries/remove", response_model=ChangedOut, tags=["rules"],
             summary="Remove values from a watch list", responses=documented(404, 422), **allowed(*ADMINS))  # fmt: skip
async def remove_entries(request: Request, name: str, body: ListEntriesIn) -> ChangedOut:
    """Returns how many of the values were in the list."""
    context = _context(request)
    engine, token = context.runtime.engine, context.runtime.tokeniser.token
    values = await run_in_threadpool(rulebook.stored_values, engine, token, name, body.values)
    removed = await run_in_threadpool(
        rulebook.remove_list_entries, engine, name, values, actor_of(request)
    )
    await _changed(context)
    return ChangedOut(changed=removed)


@router.delete("/lists/{name}", status_code=204, response_class=Response, tags=["rules"],
               summary="Delete a watch list", responses=documented(404, 409), **allowed(*ADMINS))  # fmt: skip
async def delete_list(request: Request, name: str) -> Response:
    """The list and its values go; a list an enabled rule reads is a 409 naming the rules.

    The audit event (`list.deleted`) keeps the list's kind, description and size.
    """
    context = _context(request)
    await run_in_threadpool(rulebook.delete_list, context.runtime.engine, name, actor_of(request))
    await _changed(context)
    return Response(status_code=204)
