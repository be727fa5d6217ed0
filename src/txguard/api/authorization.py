"""Who may call a route is enforced here, from the ``x-roles`` the route itself declares.

The guard wraps each route's handler (``GuardedRoute``), so it runs after routing (it knows
the route) and before FastAPI reads the body: a caller without credentials gets a 401,
never a validation error that tells them about the input. A route without a role decision
fails where it is defined, and the app refuses to start with a route built without the
guard, so a new route cannot ship open by accident.

Credentials come in headers only: ``Authorization: Bearer <JWT>`` for people,
``X-API-Key: txg_...`` for machine clients. A key in the query string is refused outright,
because URLs end up in proxy and access logs.
"""

import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.types import Scope

from txguard.api.errors import ApiError, documented
from txguard.domain.enums import Role
from txguard.domain.principals import Principal
from txguard.security.errors import AuthenticationError
from txguard.security.identity import IdentityService
from txguard.security.rate_limits import RateLimiter

logger = logging.getLogger(__name__)

ROLES_KEY = "x-roles"
SIGNED_KEY = "x-signed"
API_KEY_HEADER = "x-api-key"
_QUERY_CREDENTIALS = frozenset({"api_key", "apikey", "key", "token", "access_token"})
CREDENTIALS: list[dict[str, list[str]]] = [{"OAuth2": []}, {"ApiKey": []}]
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="txguard", ApiKey header="X-API-Key"'}


@dataclass(frozen=True, slots=True)
class RoutePolicy:
    """What a route asks of its callers."""

    roles: frozenset[Role]
    signed: bool = False

    @property
    def public(self) -> bool:
        """No credentials needed: health, login, or a callback proven by its signature."""
        return not self.roles


class UndeclaredRoute(RuntimeError):
    """A route that says nothing about who may call it."""


def policy_of(route: APIRoute) -> RoutePolicy:
    """The route's declared policy; a route without one is a programming error."""
    extra: dict[str, Any] = route.openapi_extra or {}
    if ROLES_KEY not in extra:
        methods = ",".join(sorted(route.methods or ()))
        raise UndeclaredRoute(
            f"{methods} {route.path} declares no roles: add **allowed(...) or **signed()"
        )
    return RoutePolicy(frozenset(Role(r) for r in extra[ROLES_KEY]), bool(extra.get(SIGNED_KEY)))


def route_policy(router: APIRouter, path: str, method: str) -> RoutePolicy:
    """The policy ``router`` declares for ``method path`` (the path as the router has it)."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.path == path and method in (route.methods or ()):
            return policy_of(route)
    raise LookupError(f"{method} {path} is not a route of this router")


class Gate:
    """Turns request headers into a principal allowed on the route, within its rate limit."""

    def __init__(self, identity: IdentityService, limiter: RateLimiter, per_minute: int) -> None:
        self.identity = identity
        self.limiter = limiter
        self.per_minute = per_minute

    def admit(self, scope: Scope, policy: RoutePolicy) -> Principal:
        """The caller, or an ``ApiError`` 401 / 403 / 429 saying why not."""
        principal = self._authenticate(Headers(scope=scope), scope.get("query_string", b""))
        if principal.role not in policy.roles:
            allowed = ", ".join(sorted(r.value for r in policy.roles))
            raise ApiError(403, f"role {principal.role.value} may not do this; allowed: {allowed}")
        verdict = self.limiter.hit("caller", principal.actor, self.per_minute)
        if not verdict.allowed:
            raise ApiError(
                429,
                f"rate limit of {self.per_minute} requests a minute reached; "
                f"retry in {verdict.retry_after_s} s",
                headers={"Retry-After": str(verdict.retry_after_s)},
            )
        return principal

    def _authenticate(self, headers: Headers, query: bytes) -> Principal:
        if query and _QUERY_CREDENTIALS.intersection(
            k.lower() for k, _ in parse_qsl(query.decode("latin-1"))
        ):
            raise _unauthorized(
                "credentials belong in a header (X-API-Key or Authorization), never in the URL"
            )
        key = headers.get(API_KEY_HEADER)
        authorization = headers.get("authorization")
        try:
            if key is not None:
                return self.identity.principal_from_api_key(key)
            if authorization is not None:
                scheme, _, token = authorization.partition(" ")
                if scheme.lower() != "bearer" or not token.strip():
                    raise _unauthorized("the Authorization header must be 'Bearer <token>'")
                return self.identity.principal_from_access_token(token.strip())
        except AuthenticationError as exc:
            raise refused(exc) from exc
        raise _unauthorized("credentials required: an X-API-Key header or a Bearer token")


def _unauthorized(message: str, challenge: Mapping[str, str] = _CHALLENGE) -> ApiError:
    return ApiError(401, message, headers=challenge)


def refused(
    exc: AuthenticationError,
    *,
    message: str | None = None,
    challenge: Mapping[str, str] = _CHALLENGE,
) -> ApiError:
    """The 401 for failed credentials: a generic message for the caller, the reason logged."""
    logger.info("refused credentials: %s", exc.reason)
    return _unauthorized(message or exc.message, challenge)


class GuardedRoute(APIRoute):
    """A route whose handler admits only the callers its ``x-roles`` name.

    Every router of the API is built with this class (``api/routing.py``): the check wraps
    the handler FastAPI builds, so it runs before the body is read, and a route declared
    without roles fails when it is defined, not when an attacker finds it.
    """

    verifies_signature = False
    """Set by a route class that checks the caller's signature itself (``api/signed.py``)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        if policy_of(self).signed and not self.verifies_signature:
            raise UndeclaredRoute(
                f"{path} declares **signed() on a router that checks no signature: "
                "build its router with route_class=SignedRoute"
            )
        if not policy_of(self).public:
            self.responses = {**documented(401, 403, 429), **self.responses}
            self.openapi_extra = {**(self.openapi_extra or {}), "security": CREDENTIALS}

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        policy = policy_of(self)
        if policy.public:
            return handler

        async def guarded(request: Request) -> Response:
            gate: Gate = request.app.state.gate
            request.state.principal = gate.admit(request.scope, policy)
            return await handler(request)

        return guarded


def unguarded_routes(routers: Iterable[APIRouter]) -> list[str]:
    """Routes of ``routers`` built without the guard: none may be served."""
    return [
        f"{','.join(sorted(route.methods or ()))} {route.path}"
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and not isinstance(route, GuardedRoute)
    ]


SECURITY_SCHEMES = {
    "OAuth2": {
        "type": "oauth2",
        "description": "People: sign in at /api/v1/auth/token; send `Authorization: Bearer <token>`.",
        "flows": {"password": {"tokenUrl": "/api/v1/auth/token", "scopes": {}}},
    },
    "ApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "Machine clients: a key from `txguard keys create`.",
    },
}


def document_security(app: FastAPI) -> None:
    """Say in the OpenAPI document how to authenticate; routes say which need it."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            document.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
