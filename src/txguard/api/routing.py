"""The one way the API builds a router: every route it holds is guarded by its declared roles."""

from typing import Any

from fastapi import APIRouter

from txguard.api.authorization import GuardedRoute


def guarded_router(**options: Any) -> APIRouter:
    """A router whose routes admit only the roles each declares (``x-roles``)."""
    return APIRouter(route_class=GuardedRoute, **options)
