"""Chargebacks and disputes from card systems: the labels the models learn from."""

from datetime import UTC, datetime

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from txguard.api.access import SCORERS, allowed
from txguard.api.context import ApiContext
from txguard.api.errors import documented
from txguard.api.routing import guarded_router
from txguard.api.schemas import FeedbackBatchIn, FeedbackBatchOut, FeedbackIn, FeedbackOut
from txguard.cases import service as cases
from txguard.domain.cases import FeedbackItem

router = guarded_router(tags=["feedback"])


async def _record(request: Request, items: list[FeedbackIn]) -> list[FeedbackOut]:
    context: ApiContext = request.app.state.context
    now = datetime.now(UTC)
    feedback = [
        FeedbackItem(
            transaction_id=item.transaction_id,
            is_fraud=item.is_fraud,
            reported_at=(item.reported_at or now).astimezone(UTC),
            source=item.source,
            note=item.note,
        )
        for item in items
    ]
    results = await run_in_threadpool(cases.record_feedback, context.runtime.engine, feedback)
    for result in results:
        if result.label is not None:
            label = result.label
            context.service.apply_label(
                label.transaction_id, label.terminal_id, label.occurred_at, label.is_fraud
            )
    return [FeedbackOut(transaction_id=r.transaction_id, matched=r.matched) for r in results]


@router.post("/feedback", response_model=FeedbackOut, summary="Report whether a transaction was fraud",
             responses=documented(422), **allowed(*SCORERS))  # fmt: skip
async def feedback(request: Request, body: FeedbackIn) -> FeedbackOut:
    """A label for a transaction; one for a transaction not seen yet waits for it."""
    return (await _record(request, [body]))[0]


@router.post("/feedback/batch", response_model=FeedbackBatchOut, summary="Report up to 1,000 labels",
             responses=documented(422), **allowed(*SCORERS))  # fmt: skip
async def feedback_batch(request: Request, body: FeedbackBatchIn) -> FeedbackBatchOut:
    """Labels in one database transaction; a repeat of the same label changes nothing."""
    return FeedbackBatchOut(results=await _record(request, body.items))
