"""Users, API keys and refresh tokens in the database, each change audited in its transaction.

Every function works in the caller's session and never commits: the security service opens
one transaction per use case (a login records the success and issues a refresh token; a
rotation revokes one token and issues the next), so the change and its audit event commit
together or not at all. Nothing here hashes or checks a secret; the store only keeps what
the service computed, and audit events never hold a secret or its hash.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from txguard.domain.enums import Role
from txguard.domain.errors import NotFoundError
from txguard.domain.identity import (
    USERNAME_MAX_LENGTH,
    ApiKey,
    IdentityInputError,
    RefreshToken,
    User,
    username,
)
from txguard.store import audit
from txguard.store.orm import ApiKeyRow, RefreshTokenRow, UserRow

__all__ = [
    "ANONYMOUS",
    "add_api_key",
    "add_refresh_token",
    "add_user",
    "count_users",
    "find_api_key",
    "find_refresh_token",
    "find_user",
    "get_user",
    "list_api_keys",
    "list_users",
    "record_login",
    "record_login_failure",
    "record_refresh_reuse",
    "revoke_api_key",
    "revoke_refresh_token",
    "revoke_user_refresh_tokens",
    "rotate_refresh_token",
    "set_disabled",
    "set_role",
    "touch_api_key",
]

ANONYMOUS = "anonymous"
USER, API_KEY = "user", "api_key"


# --- users ---------------------------------------------------------------------------------


def add_user(session: Session, *, name: str, password_hash: str, role: Role, actor: str) -> User:
    """Create user ``name``; a name already taken is refused naming it."""
    name = username(name)
    if _user_row(session, name) is not None:
        raise _taken(name)
    row = UserRow(
        username=name, password_hash=password_hash, role=role, disabled=False, failed_logins=0
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise _taken(name) from None
    audit.record(
        session,
        actor=actor,
        action="user.created",
        entity_type=USER,
        entity_id=name,
        after={"username": name, "role": role.value},
    )
    return _user(row)


def find_user(session: Session, name: str) -> User | None:
    """User ``name``, or None."""
    row = _user_row(session, name)
    return None if row is None else _user(row)


def get_user(session: Session, name: str) -> User:
    """User ``name``, or a not-found error naming it."""
    return _user(_existing_user(session, name))


def list_users(session: Session) -> list[User]:
    """Every user, by username."""
    return [_user(row) for row in session.scalars(select(UserRow).order_by(UserRow.username))]


def count_users(session: Session) -> int:
    """How many users exist, disabled ones included."""
    return int(session.scalar(select(func.count()).select_from(UserRow)) or 0)


def set_role(session: Session, *, name: str, role: Role, actor: str) -> User:
    """Give user ``name`` another role; the same role again changes and records nothing."""
    row = _existing_user(session, name)
    if row.role != role:
        before = row.role
        row.role = role
        audit.record(
            session,
            actor=actor,
            action="user.role_changed",
            entity_type=USER,
            entity_id=name,
            before={"role": before.value},
            after={"role": role.value},
        )
    return _user(row)


def set_disabled(session: Session, *, name: str, disabled: bool, actor: str, now: datetime) -> User:
    """Disable or enable user ``name``; disabling also revokes every refresh token it holds."""
    row = _existing_user(session, name)
    if row.disabled != disabled:
        row.disabled = disabled
        action = "user.disabled" if disabled else "user.enabled"
        after: dict[str, Any] = {"disabled": disabled}
        if disabled:
            after["refresh_tokens_revoked"] = revoke_user_refresh_tokens(
                session, user_id=row.id, now=now
            )
        audit.record(
            session,
            actor=actor,
            action=action,
            entity_type=USER,
            entity_id=name,
            before={"disabled": not disabled},
            after=after,
        )
    return _user(row)


def record_login(
    session: Session,
    *,
    user: User,
    address: str,
    now: datetime,
    password_hash: str | None = None,
) -> None:
    """A successful login: failures reset, time kept, and a new hash when parameters changed."""
    values: dict[str, Any] = {"failed_logins": 0, "last_login_at": now}
    if password_hash is not None:
        values["password_hash"] = password_hash
    session.execute(update(UserRow).where(UserRow.id == user.id).values(**values))
    audit.record(
        session,
        actor=f"user:{user.username}",
        action="auth.login",
        entity_type=USER,
        entity_id=user.username,
        after={"address": address},
    )


def record_login_failure(session: Session, *, name: str, address: str) -> None:
    """A refused login; the name may belong to nobody, and is recorded cut to a username's length."""
    name = name[:USERNAME_MAX_LENGTH]
    session.execute(
        update(UserRow)
        .where(UserRow.username == name)
        .values(failed_logins=UserRow.failed_logins + 1)
    )
    audit.record(
        session,
        actor=ANONYMOUS,
        action="auth.login_failed",
        entity_type=USER,
        entity_id=name,
        after={"username": name, "address": address},
    )


# --- API keys ------------------------------------------------------------------------------


def add_api_key(
    session: Session,
    *,
    key_id: str,
    key_hash: str,
    owner: str,
    role: Role,
    expires_at: datetime | None,
    actor: str,
) -> ApiKey:
    """Store a new key by its public id and the hash of its secret; the audit names no secret."""
    row = ApiKeyRow(
        key_id=key_id,
        key_hash=key_hash,
        owner=owner,
        role=role,
        expires_at=expires_at,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="key.issued",
        entity_type=API_KEY,
        entity_id=key_id,
        after={
            "key_id": key_id,
            "owner": owner,
            "role": role.value,
            "expires_at": _iso(expires_at),
        },
    )
    return _key(row)


def find_api_key(session: Session, key_id: str) -> ApiKey | None:
    """Key ``key_id``, revoked or not, or None."""
    row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id))
    return None if row is None else _key(row)


def list_api_keys(session: Session) -> list[ApiKey]:
    """Every key, newest first."""
    statement = select(ApiKeyRow).order_by(ApiKeyRow.created_at.desc(), ApiKeyRow.id.desc())
    return [_key(row) for row in session.scalars(statement)]


def revoke_api_key(session: Session, *, key_id: str, actor: str, now: datetime) -> ApiKey:
    """Revoke key ``key_id`` for good; revoking it again changes and records nothing."""
    row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id))
    if row is None:
        raise NotFoundError(f'API key "{key_id}" does not exist')
    if row.revoked_at is None:
        row.revoked_at = now
        audit.record(
            session,
            actor=actor,
            action="key.revoked",
            entity_type=API_KEY,
            entity_id=key_id,
            before={"revoked_at": None},
            after={"revoked_at": _iso(now), "owner": row.owner},
        )
    return _key(row)


def touch_api_key(session: Session, *, key_id: str, now: datetime) -> None:
    """Note that key ``key_id`` was used at ``now`` (bookkeeping, not audited)."""
    session.execute(update(ApiKeyRow).where(ApiKeyRow.key_id == key_id).values(last_used_at=now))


# --- refresh tokens ------------------------------------------------------------------------


def add_refresh_token(session: Session, *, jti: str, user_id: int, expires_at: datetime) -> None:
    """Keep a newly issued refresh token's id so it can be rotated and revoked."""
    session.add(RefreshTokenRow(jti=jti, user_id=user_id, expires_at=expires_at))


def find_refresh_token(
    session: Session, jti: str, *, for_update: bool = False
) -> RefreshToken | None:
    """Refresh token ``jti``; ``for_update`` locks its row until the transaction ends."""
    statement = select(RefreshTokenRow).where(RefreshTokenRow.jti == jti)
    row = session.scalar(statement.with_for_update() if for_update else statement)
    return None if row is None else _refresh(row)


def rotate_refresh_token(
    session: Session,
    *,
    jti: str,
    next_jti: str,
    user_id: int,
    expires_at: datetime,
    now: datetime,
) -> bool:
    """Replace token ``jti`` by ``next_jti``; False when ``jti`` was already revoked.

    The revocation is conditional on the token still being live, so of two requests
    rotating the same token at once exactly one succeeds, on every backend.
    """
    revoked = session.execute(
        update(RefreshTokenRow)
        .where(RefreshTokenRow.jti == jti, RefreshTokenRow.revoked_at.is_(None))
        .values(revoked_at=now, replaced_by=next_jti)
    )
    if getattr(revoked, "rowcount", 0) != 1:
        return False
    add_refresh_token(session, jti=next_jti, user_id=user_id, expires_at=expires_at)
    return True


def revoke_refresh_token(
    session: Session, *, jti: str, user: User, now: datetime, action: str = "auth.logout"
) -> bool:
    """Revoke token ``jti`` (a logout); False when it was revoked already."""
    revoked = session.execute(
        update(RefreshTokenRow)
        .where(RefreshTokenRow.jti == jti, RefreshTokenRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if getattr(revoked, "rowcount", 0) != 1:
        return False
    audit.record(
        session,
        actor=f"user:{user.username}",
        action=action,
        entity_type=USER,
        entity_id=user.username,
        after={"jti": jti},
    )
    return True


def revoke_user_refresh_tokens(session: Session, *, user_id: int, now: datetime) -> int:
    """Revoke every live refresh token of a user; how many were live."""
    revoked = session.execute(
        update(RefreshTokenRow)
        .where(RefreshTokenRow.user_id == user_id, RefreshTokenRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(revoked, "rowcount", 0))


def record_refresh_reuse(session: Session, *, user: User, jti: str, now: datetime) -> int:
    """A rotated token came back, so someone holds a copy: revoke all of the user's tokens."""
    revoked = revoke_user_refresh_tokens(session, user_id=user.id, now=now)
    audit.record(
        session,
        actor=f"user:{user.username}",
        action="auth.refresh_reused",
        entity_type=USER,
        entity_id=user.username,
        after={"jti": jti, "refresh_tokens_revoked": revoked},
    )
    return revoked


# --- rows to values ------------------------------------------------------------------------


def _user_row(session: Session, name: str) -> UserRow | None:
    return session.scalar(select(UserRow).where(UserRow.username == name))


def _existing_user(session: Session, name: str) -> UserRow:
    row = _user_row(session, name)
    if row is None:
        raise NotFoundError(f'user "{name}" does not exist')
    return row


def _taken(name: str) -> IdentityInputError:
    return IdentityInputError("username", f'"{name}" is already taken')


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        role=row.role,
        disabled=row.disabled,
        failed_logins=row.failed_logins,
        last_login_at=row.last_login_at,
        created_at=row.created_at,
        password_hash=row.password_hash,
    )


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        key_id=row.key_id,
        owner=row.owner,
        role=row.role,
        created_at=row.created_at,
        created_by=row.created_by,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
        key_hash=row.key_hash,
    )


def _refresh(row: RefreshTokenRow) -> RefreshToken:
    return RefreshToken(
        jti=row.jti,
        user_id=row.user_id,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        replaced_by=row.replaced_by,
        issued_at=row.issued_at,
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
