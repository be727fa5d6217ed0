"""A route cannot ship without a decision about who may call it."""

import pytest
from fastapi import APIRouter

from txguard.api.access import ADMINS, allowed, signed
from txguard.api.authorization import UndeclaredRoute, policy_of, unguarded_routes
from txguard.api.routing import guarded_router
from txguard.domain.enums import Role


def test_a_route_without_roles_fails_where_it_is_defined() -> None:
    router = guarded_router()

    with pytest.raises(UndeclaredRoute, match="GET /open declares no roles"):

        @router.get("/open")
        def open_route() -> None: ...


def test_a_signed_route_needs_a_router_that_checks_signatures() -> None:
    router = guarded_router()

    with pytest.raises(UndeclaredRoute, match="build its router with route_class=SignedRoute"):

        @router.post("/hook", **signed())
        def hook() -> None: ...


def test_the_declared_roles_are_the_policy() -> None:
    router = guarded_router()

    @router.get("/models", **allowed(*ADMINS))
    def models() -> None: ...

    policy = policy_of(router.routes[0])  # type: ignore[arg-type]
    assert policy.roles == frozenset({Role.ADMIN}) and not policy.public


def test_routes_built_without_the_guard_are_found() -> None:
    plain, guarded = APIRouter(), guarded_router()

    @plain.get("/sneaky", **allowed(*ADMINS))
    def sneaky() -> None: ...

    @guarded.get("/fine", **allowed(*ADMINS))
    def fine() -> None: ...

    assert unguarded_routes([plain, guarded]) == ["GET /sneaky"]
