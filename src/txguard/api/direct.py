"""``POST /api/v1/predict`` answered without FastAPI's routing, dependencies and middleware.

A payment switch calls this route for every card payment, and on one core the framework
around it cost more than the route itself: each of six middleware layers wraps ``send``,
the router tries the routes one by one, and FastAPI solves the route's dependencies to read
one query flag, about half of the event loop's time per request. This layer, outermost in
the app, answers the plain case itself with the same parts the route uses: the gate that
checks the key, role and rate limit, the route's own body (``score_one``), the app's
exception handlers, the security headers and the request metrics. So the answer is the
same, byte for byte, as through the stack.

Anything else passes through to the full stack: another route or method, a body without a
declared length or over the limit, a browser's cross-origin request (CORS), a query other
than ``explain`` with a plain true or false.
"""

import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from txguard.api.authorization import Gate, RoutePolicy
from txguard.api.hardening import merged, security_headers
from txguard.api.metrics import ApiMetrics

Handler = Callable[[Request, Exception], Awaitable[Response]]
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_JSON = (b"content-type", b"application/json")
_BARRING = frozenset({b"origin", b"transfer-encoding"})


class DirectScoring:
    """Answers ``POST path`` with ``score`` when the request is plain; else the app does."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        path: str,
        score: Callable[..., Awaitable[dict[str, Any]]],
        gate: Gate,
        policy: RoutePolicy,
        metrics: ApiMetrics,
        max_body_bytes: int,
        hsts: bool,
    ) -> None:
        self.app = app
        self.path = path
        self.score = score
        self.gate = gate
        self.policy = policy
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        explain = self._plain(scope)
        if explain is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        extra = security_headers(scope, hsts=self.hsts)

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = merged(message.get("headers", []), extra)
            await send(message)

        try:
            answer = await self._answer(Request(scope, receive), explain)
            if isinstance(answer, Response):
                await answer(scope, receive, sending)
            else:
                status = 200
                await _send_json(send, answer, extra)
        finally:
            self.metrics.record_request(self.path, "POST", status, time.perf_counter() - started)

    async def _answer(self, request: Request, explain: bool) -> dict[str, Any] | Response:
        try:
            request.state.principal = self.gate.admit(request.scope, self.policy)
            return await self.score(request, explain=explain)
        except Exception as exc:
            handler = _handler_for(request.scope["app"], exc)
            if handler is None:
                raise  # a bug: the app's outermost layer logs it and answers 500
            return await handler(request, exc)

    def _plain(self, scope: Scope) -> bool | None:
        """The request's ``explain`` flag if this layer answers it; None to pass it on."""
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            return None
        length = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name in _BARRING:
                return None
        if length is None or not length.isdigit() or int(length) > self.max_body_bytes:
            return None
        return _explain(scope.get("query_string", b""))


async def _send_json(
    send: Send, document: dict[str, Any], extra: list[tuple[bytes, bytes]]
) -> None:
    """The decision as ``JsonResponse`` would send it, without building one."""
    body = orjson.dumps(document)
    headers = [(b"content-length", str(len(body)).encode()), _JSON, *extra]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _explain(query: bytes) -> bool | None:
    if not query:
        return False
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    if len(pairs) != 1 or pairs[0][0] != "explain":
        return None
    value = pairs[0][1].lower()
    return True if value in _TRUE else False if value in _FALSE else None


def _handler_for(app: FastAPI, exc: Exception) -> Handler | None:
    """The app's handler for ``exc``, as Starlette's exception layer would pick it.

    The catch-all for ``Exception`` is left to the outermost layer, as in the stack.
    """
    handlers: dict[Any, Any] = app.exception_handlers
    for kind in type(exc).__mro__:
        if kind is Exception:
            return None
        if kind in handlers:
            handler: Handler = handlers[kind]
            return handler
    return None
