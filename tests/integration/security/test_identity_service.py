"""Logins, refresh rotation, API keys and the caches in front of them, on both backends."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from txguard.domain.enums import Role
from txguard.domain.errors import ConfigurationError
from txguard.domain.principals import Principal
from txguard.security import accounts, api_keys
from txguard.security.errors import GENERIC_MESSAGE, AuthenticationError, TooManyAttempts
from txguard.security.identity import IdentityService, TokenPair
from txguard.security.passwords import PasswordHasher
from txguard.security.rate_limits import RateLimiter
from txguard.settings import Settings
from txguard.store import audit
from txguard.store.orm import ApiKeyRow, RefreshTokenRow, UserRow

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "correct horse battery staple"
ACTOR = "cli:tester"
ADDRESS = "192.0.2.10"


class Clock:
    """The service's time, moved forward by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_service(engine: Engine, db_url: str, clock: Clock, isolated_env: Path) -> Iterator[Any]:
    services: list[IdentityService] = []

    def make(
        limiter: RateLimiter | None = None, hasher: PasswordHasher = CHEAP, **overrides: Any
    ) -> IdentityService:
        settings = Settings(database_url=db_url, reload_interval_s=2.0, **overrides)
        service = IdentityService(engine, settings, limiter, clock, hasher=hasher)
        services.append(service)
        return service

    yield make
    for service in services:
        service.close()


@pytest.fixture
def service(make_service: Any) -> IdentityService:
    return make_service()


def create(engine: Engine, name: str = "alice", role: Role = Role.ANALYST) -> None:
    accounts.create_user(
        engine, username=name, password=PASSWORD, role=role, actor=ACTOR, hasher=CHEAP
    )


def actions(engine: Engine) -> list[str]:
    return [event.action for event in audit.iter_events(engine)]


def refused(call: Any, *args: Any) -> AuthenticationError:
    with pytest.raises(AuthenticationError) as error:
        call(*args)
    return error.value


def user_row(engine: Engine, name: str) -> UserRow:
    with Session(engine) as session:
        row = session.scalar(select(UserRow).where(UserRow.username == name))
    assert row is not None
    return row


# --- logins -----------------------------------------------------------------------------


def test_a_login_gives_tokens_that_name_the_user_and_role(
    engine: Engine, service: IdentityService
) -> None:
    create(engine)
    pair = service.login("alice", PASSWORD, ADDRESS)
    assert (pair.token_type, pair.expires_in) == ("bearer", 900)
    assert service.principal_from_access_token(pair.access_token) == Principal(
        "user", "alice", Role.ANALYST
    )
    assert user_row(engine, "alice").last_login_at is not None
    login = list(audit.iter_events(engine))[-1]
    assert (login.action, login.actor, login.after) == (
        "auth.login", "user:alice", {"address": ADDRESS}
    )  # fmt: skip


def test_a_wrong_password_and_an_unknown_user_fail_alike_and_are_audited(
    engine: Engine, service: IdentityService
) -> None:
    create(engine)
    wrong = refused(service.login, "alice", "not the password!", ADDRESS)
    unknown = refused(service.login, "mallory", PASSWORD, ADDRESS)
    assert str(wrong) == str(unknown) == GENERIC_MESSAGE
    assert "wrong password" in wrong.reason and "unknown username" in unknown.reason
    assert user_row(engine, "alice").failed_logins == 1
    failures = [e for e in audit.iter_events(engine) if e.action == "auth.login_failed"]
    assert [e.after for e in failures] == [
        {"username": "alice", "address": ADDRESS},
        {"username": "mallory", "address": ADDRESS},
    ]
    service.login("alice", PASSWORD, ADDRESS)
    assert user_row(engine, "alice").failed_logins == 0


def test_a_disabled_user_cannot_log_in_and_their_tokens_stop_working(
    engine: Engine, service: IdentityService, clock: Clock
) -> None:
    create(engine)
    pair = service.login("alice", PASSWORD, ADDRESS)
    service.principal_from_access_token(pair.access_token)
    accounts.disable_user(engine, username="alice", actor=ACTOR)
    assert "disabled" in refused(service.login, "alice", PASSWORD, ADDRESS).reason
    assert "revoked" in refused(service.refresh, pair.refresh_token).reason
    clock.advance(2.1)
    assert "disabled" in refused(service.principal_from_access_token, pair.access_token).reason
    accounts.enable_user(engine, username="alice", actor=ACTOR)
    clock.advance(2.1)
    assert service.principal_from_access_token(pair.access_token).name == "alice"


def test_a_role_change_reaches_the_principal_within_the_reload_interval(
    engine: Engine, service: IdentityService, clock: Clock
) -> None:
    create(engine)
    token = service.login("alice", PASSWORD, ADDRESS).access_token
    assert service.principal_from_access_token(token).role == Role.ANALYST
    accounts.set_role(engine, username="alice", role=Role.AUDITOR, actor=ACTOR)
    assert service.principal_from_access_token(token).role == Role.ANALYST
    clock.advance(2.1)
    assert service.principal_from_access_token(token).role == Role.AUDITOR


def test_an_old_password_hash_is_replaced_at_login(engine: Engine, make_service: Any) -> None:
    create(engine)
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    service = make_service(hasher=stronger)
    service.login("alice", PASSWORD, ADDRESS)
    assert "m=2048,t=2,p=1" in user_row(engine, "alice").password_hash


# --- refresh tokens ---------------------------------------------------------------------


def test_a_refresh_rotates_the_token(engine: Engine, service: IdentityService) -> None:
    create(engine)
    first = service.login("alice", PASSWORD, ADDRESS)
    second = service.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert service.principal_from_access_token(second.access_token).name == "alice"
    with Session(engine) as session:
        rows = {r.jti: r for r in session.scalars(select(RefreshTokenRow))}
    (old,) = [r for r in rows.values() if r.revoked_at is not None]
    assert old.replaced_by in rows and rows[old.replaced_by].revoked_at is None


def test_a_reused_refresh_token_revokes_every_token_of_the_user(
    engine: Engine, service: IdentityService
) -> None:
    create(engine)
    stolen = service.login("alice", PASSWORD, ADDRESS).refresh_token
    elsewhere = service.login("alice", PASSWORD, "198.51.100.7").refresh_token
    current = service.refresh(stolen).refresh_token
    assert "reused" in refused(service.refresh, stolen).reason
    assert refused(service.refresh, current)
    assert refused(service.refresh, elsewhere)
    reuse = [e for e in audit.iter_events(engine) if e.action == "auth.refresh_reused"]
    assert len(reuse) == 1 and reuse[0].after is not None
    assert reuse[0].after["refresh_tokens_revoked"] == 2


def test_logout_revokes_the_refresh_token(engine: Engine, service: IdentityService) -> None:
    create(engine)
    pair = service.login("alice", PASSWORD, ADDRESS)
    service.logout(pair.refresh_token)
    service.logout(pair.refresh_token)
    assert "revoked" in refused(service.refresh, pair.refresh_token).reason
    assert actions(engine).count("auth.logout") == 1


def test_an_access_token_is_no_refresh_token(engine: Engine, service: IdentityService) -> None:
    create(engine)
    pair = service.login("alice", PASSWORD, ADDRESS)
    assert "'access' token" in refused(service.refresh, pair.access_token).reason
    assert (
        "'refresh' token" in refused(service.principal_from_access_token, pair.refresh_token).reason
    )


# --- login limits -----------------------------------------------------------------------


def test_after_too_many_failures_even_the_right_password_waits(
    engine: Engine, make_service: Any
) -> None:
    create(engine)
    service = make_service(RateLimiter.in_memory(), login_attempts_per_account=3)
    for _ in range(3):
        refused(service.login, "alice", "wrong password!!", ADDRESS)
    with pytest.raises(TooManyAttempts) as locked:
        service.login("alice", PASSWORD, "198.51.100.7")
    assert 0 < locked.value.retry_after_s <= 60
    assert actions(engine).count("auth.login_failed") == 3


def test_failures_from_one_address_lock_that_address_for_every_account(
    engine: Engine, make_service: Any
) -> None:
    create(engine)
    service = make_service(RateLimiter.in_memory(), login_attempts_per_address=3)
    for name in ("bob", "carol", "dave"):
        refused(service.login, name, PASSWORD, ADDRESS)
    with pytest.raises(TooManyAttempts):
        service.login("alice", PASSWORD, ADDRESS)
    assert isinstance(service.login("alice", PASSWORD, "198.51.100.7"), TokenPair)


def test_a_successful_login_clears_the_accounts_failures(engine: Engine, make_service: Any) -> None:
    create(engine)
    service = make_service(RateLimiter.in_memory(), login_attempts_per_account=3)
    for _ in range(2):
        refused(service.login, "alice", "wrong password!!", ADDRESS)
    service.login("alice", PASSWORD, ADDRESS)
    for _ in range(2):
        refused(service.login, "alice", "wrong password!!", ADDRESS)
    assert service.login("alice", PASSWORD, ADDRESS)


# --- API keys ---------------------------------------------------------------------------


def test_an_api_key_names_its_principal(engine: Engine, service: IdentityService) -> None:
    new = accounts.issue_api_key(engine, owner="payment-switch", actor=ACTOR)
    assert service.principal_from_api_key(new.raw) == Principal("key", new.key.key_id, Role.SERVICE)


def test_a_wrong_secret_or_an_unknown_key_is_refused(
    engine: Engine, service: IdentityService
) -> None:
    new = accounts.issue_api_key(engine, owner="payment-switch", actor=ACTOR)
    other = accounts.issue_api_key(engine, owner="other", actor=ACTOR)
    other_secret = api_keys.parse(other.raw).secret
    swapped = f"txg_{new.key.key_id}_{other_secret}"
    assert "wrong secret" in refused(service.principal_from_api_key, swapped).reason
    unknown = f"txg_{'0' * 16}_{other_secret}"
    assert "unknown API key" in refused(service.principal_from_api_key, unknown).reason
    assert "malformed" in refused(service.principal_from_api_key, "txg_nope").reason


def test_a_revoked_key_is_refused_within_the_reload_interval(
    engine: Engine, service: IdentityService, clock: Clock
) -> None:
    new = accounts.issue_api_key(engine, owner="payment-switch", actor=ACTOR)
    service.principal_from_api_key(new.raw)
    accounts.revoke_api_key(engine, key_id=new.key.key_id, actor=ACTOR)
    clock.advance(2.1)
    assert "revoked" in refused(service.principal_from_api_key, new.raw).reason


def test_an_expired_key_is_refused(engine: Engine, service: IdentityService, clock: Clock) -> None:
    new = accounts.issue_api_key(engine, owner="stream", actor=ACTOR, expires_in_days=1)
    service.principal_from_api_key(new.raw)
    clock.advance(86_400 + 1)
    assert "expired" in refused(service.principal_from_api_key, new.raw).reason


def test_a_keys_last_use_is_written_at_most_once_a_minute(
    engine: Engine, service: IdentityService, clock: Clock
) -> None:
    new = accounts.issue_api_key(engine, owner="stream", actor=ACTOR)

    def last_used() -> Any:
        service.flush()
        with Session(engine) as session:
            return session.scalar(select(ApiKeyRow.last_used_at))

    service.principal_from_api_key(new.raw)
    first = last_used()
    assert first is not None and abs(first.timestamp() - clock.now) < 1
    clock.advance(30)
    service.principal_from_api_key(new.raw)
    assert last_used() == first
    clock.advance(31)
    service.principal_from_api_key(new.raw)
    assert last_used() > first


# --- the first admin --------------------------------------------------------------------


def test_the_first_admin_comes_from_the_settings_once(engine: Engine, make_service: Any) -> None:
    service = make_service(admin_username="root", admin_password=PASSWORD)
    assert service.ensure_first_admin()
    assert not service.ensure_first_admin()
    (created,) = list(audit.iter_events(engine))
    assert (created.actor, created.after) == (
        "system:bootstrap", {"username": "root", "role": "ADMIN"}
    )  # fmt: skip
    assert service.login("root", PASSWORD, ADDRESS)


def test_no_admin_is_created_when_users_exist_or_nothing_is_set(
    engine: Engine, make_service: Any
) -> None:
    assert not make_service().ensure_first_admin()
    create(engine)
    assert not make_service(admin_username="root", admin_password=PASSWORD).ensure_first_admin()
    assert [u.username for u in accounts.list_users(engine)] == ["alice"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"admin_username": "root"}, "must be set together"),
        ({"admin_password": PASSWORD}, "must be set together"),
        ({"admin_username": "root", "admin_password": "short"}, "TXGUARD_ADMIN_PASSWORD: must"),
        ({"admin_username": "r", "admin_password": PASSWORD}, "TXGUARD_ADMIN_USERNAME: must"),
    ],
)
def test_an_unusable_first_admin_setting_is_named(
    make_service: Any, settings: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        make_service(**settings).ensure_first_admin()


def test_a_username_no_account_could_have_is_recorded_escaped(
    engine: Engine, service: IdentityService
) -> None:
    refused(service.login, "al\x00ice\u00e9" + "x" * 100, PASSWORD, ADDRESS)
    (failed,) = list(audit.iter_events(engine))
    assert failed.after is not None and failed.after["username"].startswith("al\\x00ice\\xe9xx")
    assert len(failed.after["username"]) == 64
