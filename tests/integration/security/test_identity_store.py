"""Users and API keys in the database, on both backends, every change in the audit trail."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from txguard.domain.enums import Role
from txguard.domain.errors import NotFoundError
from txguard.domain.identity import IdentityInputError
from txguard.security import accounts, api_keys
from txguard.security.passwords import PasswordHasher
from txguard.store import audit
from txguard.store import identity as store

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "correct horse battery staple"
ACTOR = "cli:tester"


def events(engine: Engine) -> list[audit.AuditRecord]:
    return list(audit.iter_events(engine))


def create(engine: Engine, name: str = "alice", role: Role = Role.ANALYST) -> None:
    accounts.create_user(
        engine, username=name, password=PASSWORD, role=role, actor=ACTOR, hasher=CHEAP
    )


def test_a_user_is_created_listed_and_audited_without_the_password(engine: Engine) -> None:
    create(engine, "bob", Role.AUDITOR)
    create(engine, "alice")
    users = accounts.list_users(engine)
    assert [(u.username, u.role, u.disabled) for u in users] == [
        ("alice", Role.ANALYST, False),
        ("bob", Role.AUDITOR, False),
    ]
    assert users[0].password_hash.startswith("$argon2id$")
    (first, _) = events(engine)
    assert (first.actor, first.action, first.entity_type, first.entity_id) == (
        ACTOR, "user.created", "user", "bob"
    )  # fmt: skip
    assert first.after == {"username": "bob", "role": "AUDITOR"}
    assert PASSWORD not in json.dumps([e.after for e in events(engine)])


def test_a_taken_username_is_refused_clearly_and_nothing_is_audited(engine: Engine) -> None:
    create(engine)
    with pytest.raises(IdentityInputError, match='username: "alice" is already taken'):
        create(engine)
    assert len(events(engine)) == 1


@pytest.mark.parametrize(
    ("username", "message"),
    [("ab", "3 to 64 characters, got 2"), ("a" * 65, "got 65"), ("al ice", "only letters")],
)
def test_a_bad_username_is_refused_naming_the_rule(
    engine: Engine, username: str, message: str
) -> None:
    with pytest.raises(IdentityInputError, match=message) as error:
        create(engine, username)
    assert error.value.field == "username"


def test_a_user_cannot_have_the_service_role(engine: Engine) -> None:
    with pytest.raises(IdentityInputError, match="role: must be one of ANALYST, ADMIN, AUDITOR"):
        create(engine, role=Role.SERVICE)


def test_a_role_change_records_before_and_after(engine: Engine) -> None:
    create(engine)
    changed = accounts.set_role(engine, username="alice", role="admin", actor=ACTOR)
    assert changed.role == Role.ADMIN
    accounts.set_role(engine, username="alice", role=Role.ADMIN, actor=ACTOR)
    last = events(engine)[-1]
    assert (last.action, last.before, last.after) == (
        "user.role_changed", {"role": "ANALYST"}, {"role": "ADMIN"}
    )  # fmt: skip
    assert len(events(engine)) == 2


def test_disabling_and_enabling_are_audited_and_unknown_users_are_not_found(
    engine: Engine,
) -> None:
    create(engine)
    assert accounts.disable_user(engine, username="alice", actor=ACTOR).disabled
    assert not accounts.enable_user(engine, username="alice", actor=ACTOR).disabled
    assert [e.action for e in events(engine)] == ["user.created", "user.disabled", "user.enabled"]
    with pytest.raises(NotFoundError, match='user "nobody" does not exist'):
        accounts.disable_user(engine, username="nobody", actor=ACTOR)


def test_an_issued_key_keeps_only_its_hash_and_the_audit_names_no_secret(engine: Engine) -> None:
    new = accounts.issue_api_key(engine, owner="payment-switch", actor=ACTOR, expires_in_days=30)
    secret = api_keys.parse(new.raw).secret
    with Session(engine) as session:
        stored = store.find_api_key(session, new.key.key_id)
    assert stored is not None and stored.key_hash == new.key.key_hash
    assert secret not in stored.key_hash and new.raw not in stored.key_hash
    assert stored.role == Role.SERVICE and stored.created_by == ACTOR
    assert stored.expires_at is not None
    assert timedelta(days=29) < stored.expires_at - datetime.now(UTC) <= timedelta(days=30)
    (issued,) = events(engine)
    assert issued.action == "key.issued" and issued.entity_id == new.key.key_id
    assert issued.after == {
        "key_id": new.key.key_id,
        "owner": "payment-switch",
        "role": "SERVICE",
        "expires_at": stored.expires_at.isoformat(),
    }
    recorded = json.dumps([issued.before, issued.after])
    assert secret not in recorded and stored.key_hash not in recorded


def test_a_key_is_revoked_once_and_listed_newest_first(engine: Engine) -> None:
    first = accounts.issue_api_key(engine, owner="a", actor=ACTOR)
    second = accounts.issue_api_key(engine, owner="b", actor=ACTOR, role="auditor")
    revoked = accounts.revoke_api_key(engine, key_id=first.key.key_id, actor=ACTOR)
    again = accounts.revoke_api_key(engine, key_id=first.key.key_id, actor=ACTOR)
    assert revoked.revoked_at is not None and again.revoked_at == revoked.revoked_at
    listed = accounts.list_api_keys(engine)
    assert [k.key_id for k in listed] == [second.key.key_id, first.key.key_id]
    assert listed[0].role == Role.AUDITOR
    assert [e.action for e in events(engine)] == ["key.issued", "key.issued", "key.revoked"]
    with pytest.raises(NotFoundError, match="does not exist"):
        accounts.revoke_api_key(engine, key_id="0" * 16, actor=ACTOR)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"owner": "  "}, "owner"),
        ({"owner": "x", "role": "ROOT"}, "role"),
        ({"owner": "x", "expires_in_days": 0}, "expires_days"),
    ],
)
def test_a_bad_key_request_is_refused_naming_the_field(
    engine: Engine, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(IdentityInputError) as error:
        accounts.issue_api_key(engine, actor=ACTOR, **kwargs)  # type: ignore[arg-type]
    assert error.value.field == field
    assert events(engine) == []
