"""Who is calling: logins, token refresh and logout, and the principal behind each request.

People log in with a password and get a short-lived access token and a refresh token; each
refresh rotates the refresh token, and a rotated one presented again means a copy is in
someone else's hands, so all of that user's refresh tokens are revoked. Machine clients
present an API key. Both are checked on every request, so what is read from the database
is held in process for at most ``reload_interval_s`` seconds (see :mod:`.ttl_cache`).
"""

import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple, NoReturn, Protocol

from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from txguard.domain.enums import Role
from txguard.domain.errors import ConfigurationError
from txguard.domain.identity import (
    USERNAME_MAX_LENGTH,
    ApiKey,
    IdentityInputError,
    User,
    username,
)
from txguard.domain.principals import Principal
from txguard.security import accounts, api_keys
from txguard.security.access_tokens import Claims, IssuedToken, TokenCodec, TokenSettings
from txguard.security.errors import AuthenticationError, TooManyAttempts
from txguard.security.passwords import (
    DEFAULT_HASHER,
    PasswordHasher,
    needs_rehash,
    spend_verify_time,
    verify_password,
)
from txguard.security.rate_limits import RateLimiter
from txguard.security.ttl_cache import TtlCache
from txguard.store import identity as store

__all__ = ["BOOTSTRAP_ACTOR", "IdentityService", "IdentitySettings", "TokenPair"]

logger = logging.getLogger(__name__)

BOOTSTRAP_ACTOR = "system:bootstrap"
ACCOUNT_SCOPE, ADDRESS_SCOPE = "login-account", "login-address"
TOUCH_INTERVAL_S = 60.0


class IdentitySettings(TokenSettings, Protocol):
    """The settings the service reads (``txguard.settings.Settings`` has them all)."""

    @property
    def reload_interval_s(self) -> float: ...
    @property
    def login_attempts_per_account(self) -> int: ...
    @property
    def login_attempts_per_address(self) -> int: ...
    @property
    def admin_username(self) -> str | None: ...
    @property
    def admin_password(self) -> SecretStr | None: ...


@dataclass(frozen=True)
class TokenPair:
    """What a login or a refresh answers (the OAuth2 token response)."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret


class _Rotation(NamedTuple):
    user: User | None
    refusal: str = ""


class IdentityService:
    """Authenticates people and machine clients against the users and keys in the database."""

    def __init__(
        self,
        engine: Engine,
        settings: IdentitySettings,
        limiter: RateLimiter | None = None,
        clock: Callable[[], float] = time.time,
        *,
        hasher: PasswordHasher = DEFAULT_HASHER,
    ) -> None:
        self._engine, self._settings, self._limiter = engine, settings, limiter
        self._clock, self._hasher = clock, hasher
        self._codec = TokenCodec(settings, clock)
        self._users: TtlCache[str, User | None] = TtlCache(settings.reload_interval_s, clock)
        self._keys: TtlCache[str, ApiKey | None] = TtlCache(settings.reload_interval_s, clock)
        self._touched: dict[str, float] = {}
        self._toucher = ThreadPoolExecutor(1, thread_name_prefix="txguard-key-touch")

    # --- people ------------------------------------------------------------------------

    def login(self, username: str, password: str, address: str) -> TokenPair:
        """Tokens for a right password; one generic error for every wrong case."""
        account = _account(username)
        self._refuse_if_locked(account, address)
        user = self._find_user(username)
        if user is None:
            spend_verify_time(password, self._hasher)
            self._failed(account, address, "unknown username")
        if not verify_password(user.password_hash, password, self._hasher):
            self._failed(account, address, "wrong password")
        if user.disabled:
            self._failed(account, address, "user disabled")
        rehashed = self._rehash(user, password)
        refresh = self._codec.issue("refresh", user.username)

        def record(session: Session) -> None:
            store.record_login(
                session, user=user, address=address, now=self._now(), password_hash=rehashed
            )
            store.add_refresh_token(
                session, jti=refresh.jti, user_id=user.id, expires_at=_at(refresh.expires_at)
            )

        accounts.writing(self._engine, record)
        if self._limiter is not None:
            self._limiter.clear(ACCOUNT_SCOPE, account, self._settings.login_attempts_per_account)
        return self._pair(user, refresh)

    def refresh(self, refresh_token: str) -> TokenPair:
        """A new pair for a live refresh token, which is revoked in the same transaction."""
        claims = self._codec.verify(refresh_token, "refresh")
        following = self._codec.issue("refresh", claims.subject)
        user, refusal = accounts.writing(self._engine, lambda s: self._rotate(s, claims, following))
        if user is None:
            raise AuthenticationError(refusal)
        return self._pair(user, following)

    def logout(self, refresh_token: str) -> None:
        """Revoke a refresh token; one revoked already is no error."""
        claims = self._codec.verify(refresh_token, "refresh")

        def revoke(session: Session) -> bool:
            user = store.find_user(session, claims.subject)
            token = store.find_refresh_token(session, claims.jti)
            if user is None or token is None or token.user_id != user.id:
                return False
            store.revoke_refresh_token(session, jti=claims.jti, user=user, now=self._now())
            return True

        if not accounts.writing(self._engine, revoke):
            raise AuthenticationError("refresh token not issued to this user")

    def principal_from_access_token(self, token: str) -> Principal:
        """The user an access token speaks for, with the role the database gives them now."""
        claims = self._codec.verify(token, "access")
        user = self._users.get(claims.subject, self._find_user)
        if user is None:
            raise AuthenticationError(f"user {claims.subject!r} no longer exists")
        if user.disabled:
            raise AuthenticationError(f"user {user.username!r} is disabled")
        return Principal("user", user.username, user.role)

    # --- machines ----------------------------------------------------------------------

    def principal_from_api_key(self, raw_key: str) -> Principal:
        """The client an API key belongs to; the secret's hash is checked on every call."""
        presented = api_keys.parse(raw_key)
        key = self._keys.get(presented.key_id, self._find_key)
        if key is None:
            raise AuthenticationError(f"unknown API key id {presented.key_id}")
        if not api_keys.secret_matches(presented.secret, key.key_hash):
            raise AuthenticationError(f"wrong secret for API key {key.key_id}")
        if not key.usable_at(self._now()):
            raise AuthenticationError(f"API key {key.key_id} is revoked or expired")
        self._touch(key.key_id)
        return Principal("key", key.key_id, key.role)

    # --- start-up and shutdown ---------------------------------------------------------

    def ensure_first_admin(self) -> bool:
        """Create the configured first ADMIN when there is no user at all; whether it did."""
        name, password = self._settings.admin_username, self._settings.admin_password
        if name is None and password is None:
            return False
        if name is None or password is None:
            raise ConfigurationError(
                "TXGUARD_ADMIN_USERNAME and TXGUARD_ADMIN_PASSWORD must be set together"
            )
        if accounts.reading(self._engine, store.count_users):
            return False
        try:
            accounts.create_user(
                self._engine,
                username=name,
                password=password.get_secret_value(),
                role=Role.ADMIN,
                actor=BOOTSTRAP_ACTOR,
                hasher=self._hasher,
            )
        except IdentityInputError as exc:
            if accounts.reading(self._engine, store.count_users):
                return False  # another process created it first
            raise ConfigurationError(f"TXGUARD_ADMIN_{exc.field.upper()}: {exc.detail}") from exc
        return True

    def flush(self) -> None:
        """Wait until the last-used times noted so far are written."""
        with contextlib.suppress(RuntimeError):  # closed: nothing is pending
            self._toucher.submit(lambda: None).result()

    def close(self) -> None:
        """Wait for the last-used times being written, then stop the writer."""
        self._toucher.shutdown(wait=True)

    # --- helpers -----------------------------------------------------------------------

    def _refuse_if_locked(self, account: str, address: str) -> None:
        if self._limiter is None:
            return
        for scope, identity, limit in self._login_limits(account, address):
            verdict = self._limiter.test(scope, identity, limit)
            if not verdict.allowed:
                raise TooManyAttempts(max(1, verdict.retry_after_s))

    def _failed(self, account: str, address: str, reason: str) -> NoReturn:
        accounts.writing(
            self._engine,
            lambda s: store.record_login_failure(s, name=account, address=address),
        )
        if self._limiter is not None:
            for scope, identity, limit in self._login_limits(account, address):
                self._limiter.hit(scope, identity, limit)
        raise AuthenticationError(f"login refused: {reason}")

    def _login_limits(self, account: str, address: str) -> list[tuple[str, str, int]]:
        return [
            (ACCOUNT_SCOPE, account, self._settings.login_attempts_per_account),
            (ADDRESS_SCOPE, address, self._settings.login_attempts_per_address),
        ]

    def _rotate(self, session: Session, claims: Claims, following: IssuedToken) -> _Rotation:
        token = store.find_refresh_token(session, claims.jti, for_update=True)
        user = store.find_user(session, claims.subject)
        if token is None or user is None or token.user_id != user.id:
            return _Rotation(None, "refresh token not issued to this user")
        if token.revoked_at is not None and token.replaced_by is None:
            return _Rotation(None, "refresh token revoked")
        if user.disabled:
            return _Rotation(None, f"user {user.username!r} is disabled")
        rotated = token.revoked_at is None and store.rotate_refresh_token(
            session,
            jti=claims.jti,
            next_jti=following.jti,
            user_id=user.id,
            expires_at=_at(following.expires_at),
            now=self._now(),
        )
        if not rotated:
            revoked = store.record_refresh_reuse(
                session, user=user, jti=claims.jti, now=self._now()
            )
            logger.warning(
                "refresh token of %s reused after rotation; %d tokens revoked",
                user.username,
                revoked,
            )
            return _Rotation(None, "refresh token reused after rotation")
        return _Rotation(user)

    def _pair(self, user: User, refresh: IssuedToken) -> TokenPair:
        access = self._codec.issue("access", user.username, role=user.role.value)
        return TokenPair(access.token, refresh.token, self._codec.ttl_s("access"))

    def _rehash(self, user: User, password: str) -> str | None:
        if not needs_rehash(user.password_hash, self._hasher):
            return None
        return self._hasher.hash(password)

    def _find_user(self, name: str) -> User | None:
        try:
            name = username(name)
        except IdentityInputError:
            return None
        return accounts.reading(self._engine, lambda s: store.find_user(s, name))

    def _find_key(self, key_id: str) -> ApiKey | None:
        return accounts.reading(self._engine, lambda s: store.find_api_key(s, key_id))

    def _touch(self, key_id: str) -> None:
        """Note the key's last use at most once a minute, off the request's path."""
        now = self._clock()
        if now - self._touched.get(key_id, float("-inf")) < TOUCH_INTERVAL_S:
            return
        self._touched[key_id] = now
        with contextlib.suppress(RuntimeError):  # closed: the process is stopping
            self._toucher.submit(self._write_touch, key_id, _at(now))

    def _write_touch(self, key_id: str, at: datetime) -> None:
        try:
            accounts.writing(self._engine, lambda s: store.touch_api_key(s, key_id=key_id, now=at))
        except Exception as exc:  # bookkeeping only: never worth failing or retrying a call
            logger.warning("could not record the last use of API key %s: %s", key_id, exc)

    def _now(self) -> datetime:
        return _at(self._clock())


def _account(name: str) -> str:
    """How a login's username is recorded and limited: as typed when it could be a username,
    else escaped to printable ASCII (no NUL reaches the database or the audit trail)."""
    try:
        return username(name)
    except IdentityInputError:
        return ascii(name)[1:-1][:USERNAME_MAX_LENGTH]


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
