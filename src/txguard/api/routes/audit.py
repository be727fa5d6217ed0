"""The audit trail, read by administrators and auditors; nothing here changes it."""

import re
from typing import Annotated

from fastapi import Query, Request
from starlette.concurrency import run_in_threadpool

from txguard.api.access import AUDIT_READERS, allowed
from txguard.api.audit_schemas import AuditPageOut
from txguard.api.context import ApiContext
from txguard.api.errors import ApiError, documented
from txguard.api.responses import JsonResponse
from txguard.api.routing import guarded_router
from txguard.api.schemas import Rfc3339
from txguard.domain.audit import to_document
from txguard.store import audit

router = guarded_router(tags=["audit"])
MAX_PAGE = 1000
_MAX_ID = 2**63 - 1
_CURSOR = re.compile(r"[0-9]{1,19}", re.ASCII)
Name = Annotated[str | None, Query(min_length=1, max_length=128)]


@router.get(
    "/audit",
    response_model=AuditPageOut,
    summary="Page through the audit trail, newest first",
    responses=documented(422),
    **allowed(*AUDIT_READERS),
)
async def list_audit_events(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Annotated[
        str | None, Query(max_length=32, description="`next_cursor` of the previous page.")
    ] = None,
    actor: Name = None,
    action: Name = None,
    entity_type: Name = None,
    since: Annotated[Rfc3339 | None, Query(description="occurred_at ≥ since (RFC 3339)")] = None,
    until: Annotated[Rfc3339 | None, Query(description="occurred_at < until (RFC 3339)")] = None,
) -> JsonResponse:
    """Keyset pagination on the event id: events recorded meanwhile never shift a page.

    Each event carries its hashes, so a reader can check the part it fetched; the whole
    chain is checked with `txguard audit verify`.
    """
    if since is not None and until is not None and until <= since:
        raise ApiError(422, "until: must be after since", fields=[("until", "must be after since")])
    filters = audit.AuditFilters(actor, action, entity_type, since, until)
    context: ApiContext = request.app.state.context
    events = await run_in_threadpool(
        audit.page,
        context.runtime.engine,
        after_id=_after_id(cursor),
        limit=limit + 1,
        filters=filters,
    )
    more = len(events) > limit
    page = events[:limit]
    return JsonResponse(
        {
            "items": [to_document(event) for event in page],
            "next_cursor": str(page[-1].id) if more else None,
        }
    )


def _after_id(cursor: str | None) -> int | None:
    """The id a cursor holds; anything the route did not hand out is refused."""
    if cursor is None:
        return None
    if _CURSOR.fullmatch(cursor) is None or int(cursor) > _MAX_ID:
        message = "not a cursor of the audit trail; use next_cursor as returned"
        raise ApiError(422, f"cursor: {message}", fields=[("cursor", message)])
    return int(cursor)
