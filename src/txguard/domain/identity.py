"""Users, API keys and refresh tokens as plain values, and the rules their names follow.

They live in the domain because the identity tables (adapters) and the security service
above them both speak them, and the store may not import the service.

>>> username("alice@example.org")
'alice@example.org'
>>> user_role("auditor")
<Role.AUDITOR: 'AUDITOR'>
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from txguard.domain.enums import Role
from txguard.domain.errors import InputError

USERNAME_MIN_LENGTH = 3
USERNAME_MAX_LENGTH = 64
OWNER_MAX_LENGTH = 128
USER_ROLES = (Role.ANALYST, Role.ADMIN, Role.AUDITOR)
_USERNAME = re.compile(r"[A-Za-z0-9._@-]+")


class IdentityInputError(InputError):
    """A username, password, role or key setting txguard refuses; ``field`` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message


@dataclass(frozen=True)
class User:
    """A person who signs in; ``password_hash`` is kept out of ``repr`` so logs never show it."""

    id: int
    username: str
    role: Role
    disabled: bool
    failed_logins: int
    last_login_at: datetime | None
    created_at: datetime
    password_hash: str = field(repr=False)


@dataclass(frozen=True)
class ApiKey:
    """A machine client's key as stored: its public id, owner and role, never its secret."""

    key_id: str
    owner: str
    role: Role
    created_at: datetime
    created_by: str | None
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    key_hash: str = field(repr=False)

    def usable_at(self, now: datetime) -> bool:
        """Neither revoked nor expired at ``now``."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True)
class RefreshToken:
    """A refresh token's id and state; ``replaced_by`` is set once it was rotated."""

    jti: str
    user_id: int
    expires_at: datetime
    revoked_at: datetime | None
    replaced_by: str | None
    issued_at: datetime


def username(value: str) -> str:
    """``value`` if it is a valid username, else an error naming the rule it breaks."""
    if not USERNAME_MIN_LENGTH <= len(value) <= USERNAME_MAX_LENGTH:
        raise IdentityInputError(
            "username",
            f"must be {USERNAME_MIN_LENGTH} to {USERNAME_MAX_LENGTH} characters, got {len(value)}",
        )
    if _USERNAME.fullmatch(value) is None:
        raise IdentityInputError(
            "username", "may hold only letters, digits and the characters . _ @ -"
        )
    return value


def user_role(value: str | Role) -> Role:
    """The role of a person (SERVICE is for API keys only), case-insensitive."""
    return _role(value, USER_ROLES)


def key_role(value: str | Role) -> Role:
    """The role of an API key: any role, case-insensitive."""
    return _role(value, tuple(Role))


def owner(value: str) -> str:
    """Who an API key belongs to (a system or team name), stripped and non-empty."""
    value = value.strip()
    if not 1 <= len(value) <= OWNER_MAX_LENGTH:
        raise IdentityInputError("owner", f"must be 1 to {OWNER_MAX_LENGTH} characters")
    return value


def _role(value: str | Role, allowed: tuple[Role, ...]) -> Role:
    role = next((r for r in allowed if r.value == str(value).upper()), None)
    if role is None:
        names = ", ".join(r.value for r in allowed)
        raise IdentityInputError("role", f"must be one of {names}, got {str(value)!r}")
    return role
