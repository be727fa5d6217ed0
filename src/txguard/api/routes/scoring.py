"""Authorisation-time scoring: one transaction, or a batch of up to 1,000."""

import time
from datetime import UTC, datetime
from typing import Any

from fastapi import Query, Request
from pydantic import TypeAdapter, ValidationError

from txguard.api.access import SCORERS, allowed
from txguard.api.context import ApiContext, elapsed_ms
from txguard.api.errors import ApiError, documented, error_body, validation_fields
from txguard.api.json_body import json_body, read_json
from txguard.api.responses import JsonResponse
from txguard.api.routing import guarded_router
from txguard.api.schemas import BatchIn, BatchOut, DecisionOut, TransactionIn
from txguard.domain.requests import RequestLogEntry
from txguard.domain.transactions import Transaction
from txguard.security.tokens import Tokeniser

router = guarded_router(tags=["scoring"])
MAX_BATCH = 1000
_ONE = TypeAdapter(TransactionIn)
_EXPLAIN = Query(False, description="Explain with TreeSHAP contributions even when approved.")


def to_transaction(body: TransactionIn, tokeniser: Tokeniser, now: datetime) -> Transaction:
    """The pipeline's transaction; the card is tokenised here and never travels in clear."""
    if body.timestamp is not None:
        occurred_at = body.timestamp.astimezone(UTC)
    elif body.time is not None:
        occurred_at = datetime.fromtimestamp(body.time, UTC)
    else:
        occurred_at = now
    card = body.card_id or body.customer_id
    return Transaction(
        transaction_id=body.transaction_id,
        occurred_at=occurred_at,
        amount=body.amount,
        card_token=tokeniser.token(card) if card is not None else None,
        terminal_id=body.terminal_id or body.merchant_id,
        merchant_category=body.merchant_category,
        country=body.country or body.location,
        card_home_country=body.card_home_country,
        currency=body.currency,
        channel=body.channel,
        extras=body.features or {},
    )


@router.post(
    "/predict",
    response_model=DecisionOut,
    summary="Score one transaction",
    responses=documented(422, 503),
    **json_body(TransactionIn, allowed(*SCORERS)),
)
async def predict(request: Request, explain: bool = _EXPLAIN) -> JsonResponse:
    """Score a transaction at authorisation time.

    The decision is stored before it is returned and is final for its `transaction_id`: a
    retry gets the same body back and the card's features do not count it twice.
    """
    return JsonResponse(await score_one(request, explain=explain))


async def score_one(request: Request, *, explain: bool) -> dict[str, Any]:
    """The decision ``POST /predict`` answers, shared with its direct path (``api/direct.py``)."""
    started = time.perf_counter()
    body = await read_json(request, TransactionIn)
    context: ApiContext = request.app.state.context
    tx = to_transaction(body, context.runtime.tokeniser, datetime.now(UTC))
    document = await context.service.predict(tx, explain=True if explain else None)
    _log(context, "/api/v1/predict", tx, document, started)
    return document


@router.post(
    "/predict/batch",
    response_model=BatchOut,
    summary="Score up to 1,000 transactions",
    status_code=200,
    responses={207: {"model": BatchOut, "description": "some items were invalid; the rest are scored"},
               **documented(413, 422, 503)},
    **allowed(*SCORERS),
)  # fmt: skip
async def predict_batch(request: Request, body: BatchIn) -> JsonResponse:
    """Score transactions in the order given.

    200 when every item was scored; 207 when some were invalid, with each item's result
    (its decision, or the error naming the field). More than 1,000 items is a 413.
    """
    started = time.perf_counter()
    if len(body.transactions) > MAX_BATCH:
        raise ApiError(
            413,
            f"a batch holds at most {MAX_BATCH} transactions; this one has {len(body.transactions)}",
            fields=[("transactions", f"at most {MAX_BATCH} items")],
        )
    context: ApiContext = request.app.state.context
    now = datetime.now(UTC)
    valid: list[tuple[int, Transaction]] = []
    results: list[dict[str, Any]] = [{} for _ in body.transactions]
    for index, item in enumerate(body.transactions):
        try:
            parsed = _ONE.validate_python(item)
        except ValidationError as exc:
            fields = validation_fields(exc.errors())
            located = [(f"transactions[{index}].{field}", msg) for field, msg in fields]
            results[index] = {"index": index, "status": 422,
                              "error": error_body(422, f"{located[0][0]}: {located[0][1]}", located)["error"]}  # fmt: skip
            continue
        valid.append((index, to_transaction(parsed, context.runtime.tokeniser, now)))
    documents = await context.service.predict_many([tx for _, tx in valid])
    for (index, tx), document in zip(valid, documents, strict=True):
        results[index] = {"index": index, "status": 200, "decision": document}
        _log(context, "/api/v1/predict/batch", tx, document, started)
    failed = len(results) - len(valid)
    body_out = {"scored": len(valid), "failed": failed, "results": results}
    return JsonResponse(body_out, status_code=207 if failed else 200)


def _log(
    context: ApiContext, route: str, tx: Transaction, document: dict[str, Any], started: float
) -> None:
    context.metrics.record_decision(document)
    context.log_request(
        RequestLogEntry(
            received_at=datetime.now(UTC),
            route=route,
            transaction_id=tx.transaction_id,
            card_token=tx.card_token,
            model_version=document["model_version"],
            decision=document["decision"],
            status_code=200,
            latency_ms=elapsed_ms(started),
        )
    )
