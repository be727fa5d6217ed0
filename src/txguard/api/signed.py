"""Routes called by machines that prove themselves by a signature instead of credentials.

A router built with ``APIRouter(route_class=SignedRoute)`` checks, before FastAPI reads the
body as JSON, that the call carries an HMAC-SHA256 of its timestamp and raw body under
``TXGUARD_WEBHOOK_SECRET`` (or one of ``TXGUARD_WEBHOOK_PREVIOUS_SECRETS``), within
``TXGUARD_WEBHOOK_WINDOW_S``, and that the signature was never accepted before. An unsigned
caller therefore gets a 401 and learns nothing about the input; the route's own code and
validation run only for a genuine call. Each such route also declares ``**signed()``, so
the route table says it takes no credentials.
"""

import logging
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from txguard.api.authorization import SIGNED_KEY, GuardedRoute
from txguard.api.context import ApiContext
from txguard.api.errors import ApiError
from txguard.api.schemas import ErrorBody
from txguard.security import signatures
from txguard.settings import Settings
from txguard.store.signatures import remember

logger = logging.getLogger(__name__)

_HEADERS = [
    {
        "name": signatures.TIMESTAMP_HEADER,
        "in": "header",
        "required": True,
        "description": "When the call was signed, in unix seconds.",
        "schema": {"type": "string", "pattern": "^[0-9]{1,12}$", "example": "1700000000"},
    },
    {
        "name": signatures.SIGNATURE_HEADER,
        "in": "header",
        "required": True,
        "description": '`sha256=` and the hex HMAC-SHA256 of `"<timestamp>." + raw body`.',
        "schema": {"type": "string", "pattern": "^sha256=[0-9a-fA-F]{64}$"},
    },
]


def error_doc(code: str, description: str, message: str) -> dict[str, Any]:
    """A ``responses=`` entry: the one error shape with a route's own ``code`` and example."""
    example = {"error": {"code": code, "message": message, "fields": []}}
    return {
        "model": ErrorBody,
        "description": description,
        "content": {"application/json": {"example": example}},
    }


SIGNED_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: error_doc("bad_signature", "A signature header missing or malformed, a timestamp "
                   "outside the window, or a signature that does not match",
                   "stale timestamp: X-Txguard-Timestamp is 412 s old, beyond the 300 s window; "
                   "sign the call again with the current time"),
    409: error_doc("replayed", "This signature was accepted before",
                   "this signature was already used; sign each call anew"),
    503: error_doc("not_configured", "The hook is off: TXGUARD_WEBHOOK_SECRET is not set",
                   "signed calls are off: set TXGUARD_WEBHOOK_SECRET to enable them"),
}  # fmt: skip

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class SignedRoute(GuardedRoute):
    """An API route whose handler runs only for a correctly signed call, seen for the first time.

    A guarded route like every other (``api/routing.py``): its policy is public, so the role
    guard lets the call through, and the signature is checked here instead.
    """

    verifies_signature = True

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        extra: dict[str, Any] = dict(kwargs.pop("openapi_extra", None) or {})
        if not extra.get(SIGNED_KEY):
            raise TypeError(f"{path}: a route of a signed router must declare **signed()")
        extra["parameters"] = [*extra.get("parameters", []), *_HEADERS]
        kwargs["responses"] = {**SIGNED_RESPONSES, **(kwargs.get("responses") or {})}
        super().__init__(path, endpoint, openapi_extra=extra, **kwargs)

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            await admit(request)
            return await handler(request)

        return checked


async def admit(request: Request) -> None:
    """Refuse the call (503, 401 or 409) unless it is signed and new; its body stays readable."""
    context: ApiContext = request.app.state.context
    settings = context.runtime.settings
    now = time.time()
    digest = _verified(settings, request, await request.body(), now)
    seen_at = datetime.fromtimestamp(now, UTC)
    engine, window = context.runtime.engine, settings.webhook_window_s
    if not await run_in_threadpool(remember, engine, digest, seen_at, window):
        logger.warning("refused a replayed signed call to %s", request.url.path)
        raise ApiError(409, "this signature was already used; sign each call anew", code="replayed")


def _verified(settings: Settings, request: Request, body: bytes, now: float) -> str:
    if settings.webhook_secret is None:
        raise ApiError(
            503,
            "signed calls are off: set TXGUARD_WEBHOOK_SECRET to enable them",
            code="not_configured",
        )
    try:
        return signatures.verify(
            settings.webhook_secret.get_secret_value().encode(),
            timestamp=request.headers.get(signatures.TIMESTAMP_HEADER),
            signature=request.headers.get(signatures.SIGNATURE_HEADER),
            body=body,
            now=now,
            window_s=settings.webhook_window_s,
            previous=[s.get_secret_value().encode() for s in settings.webhook_previous_secrets],
        )
    except signatures.SignatureError as exc:
        logger.warning("refused a signed call to %s: %s", request.url.path, exc.reason)
        raise ApiError(401, exc.reason, code="bad_signature") from None
