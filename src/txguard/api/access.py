"""Who may call a route, declared once on the route itself.

``allowed(...)`` puts the roles in the route's OpenAPI entry (``x-roles``), so the route
table says who may do what and a test can walk it; ``api/authorization.py`` enforces the
same declaration, so the documentation and the behaviour cannot drift apart.
"""

from typing import Any

from txguard.domain.enums import Role

ANALYSTS = (Role.ANALYST, Role.ADMIN)
READERS = (Role.ANALYST, Role.ADMIN, Role.AUDITOR)
ADMINS = (Role.ADMIN,)
SCORERS = (Role.SERVICE, Role.ADMIN)
AUDIT_READERS = (Role.ADMIN, Role.AUDITOR)
SIGNED_IN = (Role.ANALYST, Role.ADMIN, Role.AUDITOR, Role.SERVICE)
EVERYONE: tuple[Role, ...] = ()


def allowed(*roles: Role) -> dict[str, Any]:
    """Route keyword arguments declaring the roles that may call it (none: public)."""
    return {"openapi_extra": {"x-roles": [role.value for role in roles]}}


def signed() -> dict[str, Any]:
    """Route keyword arguments of a machine-to-machine callback authenticated by its signature.

    Such a route takes no credentials: the HMAC over its timestamp and raw body, checked by
    the route itself, is the proof of who sent it.
    """
    return {"openapi_extra": {"x-roles": [], "x-signed": True}}


def actor_of(request: Any) -> str:
    """Who is making the change: the authenticated caller as audit events name them."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise RuntimeError("actor_of called on a route that takes no credentials")
    return str(principal.actor)
