"""Machine clients' API keys from the command line: shown once, usable, revocable."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.fixtures.cli import Txguard

from txguard.domain.enums import Role
from txguard.domain.principals import Principal
from txguard.security.errors import AuthenticationError
from txguard.security.identity import IdentityService
from txguard.settings import Settings
from txguard.store import audit
from txguard.store.engine import create_db_engine
from txguard.store.orm import ApiKeyRow


@pytest.fixture
def identity(txguard: Txguard, db_url: str, isolated_env: Path) -> Iterator[IdentityService]:
    """What an API process checks keys with, on the CLI's database."""
    engine = create_db_engine(db_url)
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    service = IdentityService(engine, Settings(database_url=db_url), hasher=cheap)
    yield service
    service.close()
    engine.dispose()


def issue(txguard: Txguard, *args: str) -> str:
    result = txguard("keys", "create", *args)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_a_key_is_printed_once_alone_on_stdout_and_works(
    txguard: Txguard, identity: IdentityService, db_url: str
) -> None:
    result = txguard("keys", "create", "--owner", "payment-switch")
    key = result.stdout.strip()
    assert key.startswith("txg_") and len(key.splitlines()) == 1
    assert "shown only now and cannot be shown again" in result.stderr
    key_id = key[4:20]
    assert f"issued key {key_id} for payment-switch (SERVICE), expires never" in result.stderr
    assert identity.principal_from_api_key(key) == Principal("key", key_id, Role.SERVICE)
    listed = txguard("keys", "list").output
    assert key_id in listed and key not in listed and key[21:] not in listed
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        stored_hash = session.scalar(select(ApiKeyRow.key_hash))
    events = list(audit.iter_events(engine))
    engine.dispose()
    assert stored_hash is not None and stored_hash not in listed
    assert [e.action for e in events] == ["key.issued"]
    assert key[21:] not in str(events) and stored_hash not in str(events)


def test_the_list_shows_owner_role_expiry_and_revocation(txguard: Txguard) -> None:
    kept = issue(txguard, "--owner", "stream", "--role", "auditor", "--expires-days", "30")
    gone = issue(txguard, "--owner", "old-switch")
    revoked = txguard("keys", "revoke", gone[4:20])
    assert revoked.exit_code == 0 and f"revoked key {gone[4:20]} of old-switch" in revoked.output
    header, newest, oldest = txguard("keys", "list").output.splitlines()
    assert header.split()[:3] == ["KEY", "ID", "OWNER"]
    assert newest.split()[:3] == [gone[4:20], "old-switch", "SERVICE"]
    assert newest.split()[-1] == "never" and len(newest.split()) == 9
    assert oldest.split()[:3] == [kept[4:20], "stream", "AUDITOR"]
    assert oldest.split()[7:] == ["-", "never"]


def test_a_revoked_key_is_refused(txguard: Txguard, identity: IdentityService) -> None:
    key = issue(txguard, "--owner", "payment-switch")
    assert txguard("keys", "revoke", key[4:20]).exit_code == 0
    with pytest.raises(AuthenticationError) as refused:
        identity.principal_from_api_key(key)
    assert "revoked" in refused.value.reason


def test_bad_input_gives_a_clear_message_and_no_traceback(txguard: Txguard) -> None:
    for args, code, message in [
        (["create", "--owner", "x", "--role", "ROOT"], 2, "role: must be one of"),
        (["create", "--owner", "   "], 2, "owner: must be 1 to 128 characters"),
        (["create", "--owner", "x", "--expires-days", "0"], 2, "--expires-days"),
        (["revoke", "0123456789abcdef"], 1, 'API key "0123456789abcdef" does not exist'),
    ]:
        result = txguard("keys", *args)
        assert result.exit_code == code, result.output
        assert message in result.output and "Traceback" not in result.output
    assert "no API keys yet" in txguard("keys", "list").output
