"""Administrators manage users from the command line; passwords never pass as arguments."""

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.fixtures.cli import Txguard
from typer.testing import CliRunner, Result

from txguard.cli.main import app
from txguard.store import audit
from txguard.store.engine import create_db_engine
from txguard.store.orm import UserRow

PASSWORD = "correct horse battery staple"


def run(*args: str, input: str | None = None) -> Result:
    """The CLI with something typed at its prompts (the ``txguard`` fixture sets the database)."""
    return CliRunner().invoke(app, list(args), input=input)


def create(name: str, role: str = "ANALYST") -> Result:
    return run("users", "create", "--username", name, "--role", role, "--password-stdin",
               input=PASSWORD + "\n")  # fmt: skip


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_user_created_at_the_hidden_prompt_is_listed(txguard: Txguard) -> None:
    result = run("users", "create", "--username", "alice", "--role", "ADMIN",
                 input=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "created user alice (ADMIN)" in result.output
    assert PASSWORD not in result.output
    listed = txguard("users", "list")
    assert listed.exit_code == 0
    header, row = listed.output.splitlines()
    assert header.split() == ["USERNAME", "ROLE", "DISABLED", "LAST", "LOGIN"]
    assert row.split() == ["alice", "ADMIN", "no", "-"]


def test_the_password_is_stored_as_an_argon2id_hash_and_the_creation_audited(
    txguard: Txguard, db_url: str
) -> None:
    assert create("alice").exit_code == 0
    engine = create_db_engine(db_url)
    try:
        with Session(engine) as session:
            stored = session.scalar(select(UserRow.password_hash))
        (event,) = list(audit.iter_events(engine))
    finally:
        engine.dispose()
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored
    assert event.action == "user.created" and event.actor.startswith("cli:")


def test_disable_enable_and_set_role_show_in_the_list(txguard: Txguard) -> None:
    create("alice")
    assert txguard("users", "disable", "alice").output.strip() == "disabled alice"
    assert txguard("users", "list").output.splitlines()[1].split()[:3] == [
        "alice", "ANALYST", "yes"
    ]  # fmt: skip
    assert txguard("users", "enable", "alice").exit_code == 0
    changed = txguard("users", "set-role", "alice", "auditor")
    assert changed.exit_code == 0 and "alice is now AUDITOR" in changed.output
    assert txguard("users", "list").output.splitlines()[1].split()[:3] == [
        "alice", "AUDITOR", "no"
    ]  # fmt: skip


def test_a_short_password_is_refused_with_a_clear_message(txguard: Txguard) -> None:
    result = run("users", "create", "--username", "alice", "--role", "ANALYST",
                 "--password-stdin", input="short\n")  # fmt: skip
    assert result.exit_code == 2
    assert "error: password: must be at least 12 characters, got 5" in result.output
    no_traceback(result)
    assert "no users yet" in txguard("users", "list").output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--username", "al", "--role", "ANALYST"], "username: must be 3 to 64 characters"),
        (["--username", "al ice", "--role", "ANALYST"], "username: may hold only"),
        (["--username", "alice", "--role", "SERVICE"], "role: must be one of ANALYST, ADMIN"),
        (["--username", "alice", "--role", "ANALYST"], "--password-stdin read nothing"),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    txguard: Txguard, args: list[str], message: str
) -> None:
    result = run("users", "create", *args, "--password-stdin", input="")
    assert result.exit_code == 2, result.output
    assert message in result.output
    no_traceback(result)


def test_a_taken_username_is_refused(txguard: Txguard) -> None:
    create("alice")
    again = create("alice")
    assert again.exit_code == 2 and 'username: "alice" is already taken' in again.output


def test_an_unknown_user_is_not_found_with_exit_code_1(txguard: Txguard) -> None:
    for args in (["disable", "nobody"], ["enable", "nobody"], ["set-role", "nobody", "ADMIN"]):
        result = txguard("users", *args)
        assert result.exit_code == 1, result.output
        assert 'error: user "nobody" does not exist' in result.output
        no_traceback(result)


def test_the_password_cannot_be_given_as_an_argument(txguard: Txguard) -> None:
    result = txguard("users", "create", "--username", "alice", "--role", "ADMIN",
                     "--password", PASSWORD)  # fmt: skip
    assert result.exit_code == 2 and "No such option: --password" in result.output
