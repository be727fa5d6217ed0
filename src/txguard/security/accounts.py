"""Managing people and machine clients: users with roles, API keys with owners and expiries.

Each function is one use case in one transaction, its audit event included; ``actor`` names
who made the change (``cli:<OS user>``, ``user:<name>``, ``system:bootstrap``). Changes here
reach every API process within its cache interval (``reload_interval_s``).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from txguard.domain import identity as names
from txguard.domain.enums import Role
from txguard.domain.identity import ApiKey, IdentityInputError, User
from txguard.security import api_keys
from txguard.security.passwords import DEFAULT_HASHER, PasswordHasher, hash_password
from txguard.store import identity as store

__all__ = [
    "NewApiKey",
    "create_user",
    "disable_user",
    "enable_user",
    "issue_api_key",
    "list_api_keys",
    "list_users",
    "reading",
    "revoke_api_key",
    "set_role",
    "writing",
]

MAX_KEY_DAYS = 3650
T = TypeVar("T")


@dataclass(frozen=True)
class NewApiKey:
    """A key just issued: ``raw`` is shown to its owner once and cannot be read back later."""

    key: ApiKey
    raw: str = field(repr=False)


def writing(engine: Engine, work: Callable[[Session], T]) -> T:
    """Run ``work`` in one transaction, committed when it returns."""
    with Session(engine) as session, session.begin():
        return work(session)


def reading(engine: Engine, work: Callable[[Session], T]) -> T:
    """Run ``work`` in a short read-only session."""
    with Session(engine) as session:
        return work(session)


def create_user(
    engine: Engine,
    *,
    username: str,
    password: str,
    role: Role | str,
    actor: str,
    hasher: PasswordHasher = DEFAULT_HASHER,
) -> User:
    """A new user; the name, role and password are checked before anything is hashed."""
    name, user_role = names.username(username), names.user_role(role)
    password_hash = hash_password(password, hasher)
    return writing(
        engine,
        lambda s: store.add_user(
            s, name=name, password_hash=password_hash, role=user_role, actor=actor
        ),
    )


def list_users(engine: Engine) -> list[User]:
    """Every user, by username."""
    return reading(engine, store.list_users)


def set_role(engine: Engine, *, username: str, role: Role | str, actor: str) -> User:
    """Give a user another role (ANALYST, ADMIN or AUDITOR)."""
    user_role = names.user_role(role)
    return writing(engine, lambda s: store.set_role(s, name=username, role=user_role, actor=actor))


def disable_user(engine: Engine, *, username: str, actor: str) -> User:
    """Stop a user from signing in; their refresh tokens are revoked at once."""
    return _set_disabled(engine, username, True, actor)


def enable_user(engine: Engine, *, username: str, actor: str) -> User:
    """Let a disabled user sign in again."""
    return _set_disabled(engine, username, False, actor)


def issue_api_key(
    engine: Engine,
    *,
    owner: str,
    actor: str,
    role: Role | str = Role.SERVICE,
    expires_in_days: int | None = None,
) -> NewApiKey:
    """A new key for ``owner`` with ``role``, expiring after ``expires_in_days`` if given."""
    key_owner, key_role = names.owner(owner), names.key_role(role)
    expires_at = _expiry(expires_in_days)
    issued = api_keys.generate()
    stored = writing(
        engine,
        lambda s: store.add_api_key(
            s,
            key_id=issued.key_id,
            key_hash=issued.secret_hash,
            owner=key_owner,
            role=key_role,
            expires_at=expires_at,
            actor=actor,
        ),
    )
    return NewApiKey(stored, issued.raw)


def list_api_keys(engine: Engine) -> list[ApiKey]:
    """Every key, newest first, revoked and expired ones included."""
    return reading(engine, store.list_api_keys)


def revoke_api_key(engine: Engine, *, key_id: str, actor: str) -> ApiKey:
    """Revoke a key for good; callers using it are refused within ``reload_interval_s``."""
    now = datetime.now(UTC)
    return writing(engine, lambda s: store.revoke_api_key(s, key_id=key_id, actor=actor, now=now))


def _set_disabled(engine: Engine, username: str, disabled: bool, actor: str) -> User:
    now = datetime.now(UTC)
    return writing(
        engine,
        lambda s: store.set_disabled(s, name=username, disabled=disabled, actor=actor, now=now),
    )


def _expiry(days: int | None) -> datetime | None:
    if days is None:
        return None
    if not 1 <= days <= MAX_KEY_DAYS:
        raise IdentityInputError("expires_days", f"must be 1 to {MAX_KEY_DAYS}, got {days}")
    return datetime.now(UTC) + timedelta(days=days)
