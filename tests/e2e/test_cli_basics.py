"""The command line as a newcomer meets it: help, version, settings, migrations."""

from pathlib import Path

import pytest
from tests.fixtures.cli import Txguard

from txguard import __version__

COMMANDS = ["simulate", "import", "demo", "migrate", "config"]


def test_version(txguard_no_db: Txguard) -> None:
    result = txguard_no_db("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"txguard {__version__}"


@pytest.mark.parametrize(
    "command",
    [
        [],
        *([c] for c in COMMANDS),
        ["config", "show"],
        ["migrate", "current"],
        ["migrate", "downgrade"],
    ],
)
def test_every_command_has_help(txguard_no_db: Txguard, command: list[str]) -> None:
    result = txguard_no_db(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_config_show_masks_secrets(txguard_no_db: Txguard, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TXGUARD_DATABASE_URL", "postgresql+psycopg://app:pa55word@db/txguard")
    monkeypatch.setenv("TXGUARD_TOKEN_KEY", "a-very-secret-tokenisation-key")
    result = txguard_no_db("config", "show")
    assert result.exit_code == 0
    assert "TXGUARD_DATABASE_URL=postgresql+psycopg://app:***@db/txguard" in result.output
    assert "pa55word" not in result.output and "a-very-secret" not in result.output


def test_a_bad_setting_is_a_message_not_a_traceback(
    txguard_no_db: Txguard, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TXGUARD_ENV", "production")
    result = txguard_no_db("config", "show")
    assert result.exit_code == 2
    assert "TXGUARD_TOKEN_KEY must be set" in result.output
    assert "Traceback" not in result.output


def test_migrate_upgrades_reports_and_downgrades(
    txguard_no_db: Txguard, monkeypatch: pytest.MonkeyPatch, empty_db_url: str
) -> None:
    monkeypatch.setenv("TXGUARD_DATABASE_URL", empty_db_url)
    assert "needs `txguard migrate`" in txguard_no_db("migrate", "current").output
    result = txguard_no_db("migrate")
    assert result.exit_code == 0 and "database at revision 0005" in result.output
    assert "(up to date)" in txguard_no_db("migrate", "current").output
    result = txguard_no_db("migrate", "downgrade", "base")
    assert result.exit_code == 0 and "database at revision base" in result.output
    result = txguard_no_db("migrate", "--revision", "0001")
    assert result.exit_code == 0 and "0001" in result.output
    assert "needs `txguard migrate`" in txguard_no_db("migrate", "current").output


def test_migrate_to_an_unknown_revision_fails_clearly(txguard: Txguard) -> None:
    result = txguard("migrate", "--revision", "9999")
    assert result.exit_code == 2
    assert "9999" in result.output and "Traceback" not in result.output


def test_the_embedded_database_lives_under_var(txguard_no_db: Txguard, isolated_env: Path) -> None:
    assert txguard_no_db("migrate").exit_code == 0
    assert (isolated_env / "var" / "txguard.db").is_file()


def test_an_unreachable_database_is_a_message(
    txguard_no_db: Txguard, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TXGUARD_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("TXGUARD_DB_CONNECT_TIMEOUT_S", "1")
    result = txguard_no_db("migrate", "current")
    assert result.exit_code == 2
    assert "cannot read the schema revision" in result.output


def test_an_unsupported_database_is_named(
    txguard_no_db: Txguard, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TXGUARD_DATABASE_URL", "mysql://root@127.0.0.1/txguard")
    result = txguard_no_db("migrate")
    assert result.exit_code == 2
    assert "unsupported database 'mysql'" in result.output
