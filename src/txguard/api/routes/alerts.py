"""The analyst queue: flagged transactions, their details, and the case workflow."""

from dataclasses import asdict
from typing import Annotated

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from txguard.api.access import ANALYSTS, READERS, actor_of, allowed
from txguard.api.context import ApiContext
from txguard.api.errors import ApiError, documented
from txguard.api.responses import JsonResponse
from txguard.api.routing import guarded_router
from txguard.api.schemas import AlertPageOut, CountOut, Rfc3339, StatusChangeIn, StatusChangeOut
from txguard.cases import service as cases
from txguard.domain.cases import AlertFilters
from txguard.domain.enums import CaseStatus, Decision

router = guarded_router(tags=["alerts"])
MAX_PAGE = 1000


def _filters(
    status: Annotated[list[CaseStatus] | None, Query(description="Any of these statuses.")] = None,
    min_risk_score: Annotated[int | None, Query(ge=0, le=100)] = None,
    start: Annotated[Rfc3339 | None, Query(description="occurred_at ≥ start (RFC 3339)")] = None,
    end: Annotated[Rfc3339 | None, Query(description="occurred_at < end (RFC 3339)")] = None,
    decision: Annotated[Decision | None, Query()] = None,
    rule: Annotated[str | None, Query(max_length=128, description="A rule that hit.")] = None,
) -> AlertFilters:
    if start is not None and end is not None and end <= start:
        raise ApiError(422, "end: must be after start", fields=[("end", "must be after start")])
    return AlertFilters(
        status=status,
        min_risk_score=min_risk_score,
        start=start,
        end=end,
        decision=decision,
        rule=rule,
    )


@router.get(
    "/anomalies",
    response_model=AlertPageOut,
    summary="List flagged transactions for the analyst queue",
    responses=documented(422),
    **allowed(*READERS),
)
async def list_anomalies(
    request: Request,
    filters: Annotated[AlertFilters, Depends(_filters)],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Annotated[
        str | None, Query(max_length=512, description="`next_cursor` of the previous page.")
    ] = None,
) -> JsonResponse:
    """Highest risk first, then newest; keyset pagination through `cursor`."""
    context: ApiContext = request.app.state.context
    page = await run_in_threadpool(
        cases.list_alerts, context.runtime.engine, filters, limit, cursor
    )
    return JsonResponse(
        {
            "items": [asdict(item) for item in page.items],
            "total": page.total,
            "next_cursor": page.next_cursor,
        }
    )


@router.get(
    "/anomalies/count",
    response_model=CountOut,
    summary="Count flagged transactions",
    responses=documented(422),
    **allowed(*READERS),
)
async def count_anomalies(
    request: Request, filters: Annotated[AlertFilters, Depends(_filters)]
) -> CountOut:
    """How many alerts match the same filters as the list."""
    context: ApiContext = request.app.state.context
    return CountOut(
        total=await run_in_threadpool(cases.count_alerts, context.runtime.engine, filters)
    )


@router.get(
    "/transactions/{transaction_id}",
    summary="One transaction with its decision, explanation, labels and case history",
    responses=documented(404),
    **allowed(*READERS),
)
async def get_transaction(request: Request, transaction_id: str) -> JsonResponse:
    """Everything stored about one transaction."""
    context: ApiContext = request.app.state.context
    detail = await run_in_threadpool(cases.get_transaction, context.runtime.engine, transaction_id)
    return JsonResponse(asdict(detail))


@router.put(
    "/anomalies/{transaction_id}",
    response_model=StatusChangeOut,
    summary="Move a case through its workflow",
    responses=documented(404, 409, 422),
    **allowed(*ANALYSTS),
)
async def change_status(
    request: Request, transaction_id: str, body: StatusChangeIn
) -> StatusChangeOut:
    """`NEW → UNDER_REVIEW → CONFIRMED_FRAUD | FALSE_POSITIVE → RESOLVED`.

    A verdict becomes a label, known from now, for the next training and for the terminal
    risk features once the label delay has passed.
    """
    context: ApiContext = request.app.state.context
    change = await run_in_threadpool(
        cases.change_status,
        context.runtime.engine,
        transaction_id,
        body.new_status,
        body.note,
        actor_of(request),
    )
    if change.label is not None:
        label = change.label
        context.service.apply_label(
            label.transaction_id, label.terminal_id, label.occurred_at, label.is_fraud
        )
    return StatusChangeOut(
        transaction_id=change.transaction_id,
        from_status=change.from_status,
        to_status=change.to_status,
        label_recorded=change.label is not None,
    )
