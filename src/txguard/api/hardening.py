"""Protections every response gets, whatever the route: security headers and a body size limit.

Both are plain ASGI middleware rather than Starlette's ``BaseHTTPMiddleware``, which would
copy each response through a task and cost the scoring path tens of microseconds.
"""

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from txguard.api.errors import error_response

# The API answers JSON only: nothing in a response may load or run anything.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The interactive docs pages load Swagger UI / ReDoc from their CDN and run an inline loader.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; connect-src 'self'; worker-src blob:; frame-ancestors 'none'"
)
HSTS = "max-age=63072000; includeSubDomains"
DOCS_PATHS = frozenset({"/api/docs", "/api/redoc", "/api/docs/oauth2-redirect"})


class SecurityHeaders:
    """No sniffing, no framing, no caching of answers, a strict CSP, and HSTS behind TLS."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope, hsts=self.hsts)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = merged(message.get("headers", []), extra)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def security_headers(scope: Scope, *, hsts: bool) -> list[tuple[bytes, bytes]]:
    """The headers every answer to ``scope`` carries (the docs pages get their own CSP)."""
    csp = _DOCS_CSP if scope["path"] in DOCS_PATHS else _API_CSP
    headers = [*_COMMON, (b"content-security-policy", csp)]
    if hsts or scope.get("scheme") == "https":
        headers.append((b"strict-transport-security", _HSTS))
    return headers


_COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)
_API_CSP, _DOCS_CSP, _HSTS = API_CSP.encode(), DOCS_CSP.encode(), HSTS.encode()


def merged(
    headers: Iterable[tuple[bytes, bytes]], extra: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """``headers`` plus those of ``extra`` they do not set themselves."""
    present = {name.lower() for name, _ in headers}
    return [*headers, *((n, v) for n, v in extra if n not in present)]


class BodyLimit:
    """Refuses a body whose declared ``Content-Length`` is over ``max_bytes``, unread.

    A body without a declared length (chunked) is counted as it is read by Starlette's
    ``RequestBodyLimitMiddleware``, set to the same limit inside this one; its refusal
    reaches the API's error handlers. Starlette answers a declared length in plain text, so
    this middleware answers that case first, in the API's one error shape.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = _content_length(scope)
            if declared is not None and declared > self.max_bytes:
                response = error_response(413, too_large_message(self.max_bytes))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def too_large_message(max_bytes: int) -> str:
    """What a caller is told when its body is over the limit."""
    return f"the request body is larger than the limit of {max_bytes} bytes"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
