from pathlib import Path

import pytest

from txguard.domain.errors import ConfigurationError
from txguard.settings import DEV_TOKEN_KEY, Settings, get_settings

STRONG_KEY = "k" * 40
PG_URL = "postgresql+psycopg://txguard:s3cret@db.internal:5432/txguard"


@pytest.fixture(autouse=True)
def _clean(isolated_env: Path) -> None:
    """Every test starts in an empty directory with no TXGUARD_* variables."""


def test_defaults_are_the_embedded_mode() -> None:
    settings = Settings()
    assert settings.env == "development"
    assert settings.sqlalchemy_url == "sqlite:///var/txguard.db"
    assert settings.redis_url is None


def test_environment_variables_use_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TXGUARD_DATABASE_URL", PG_URL)
    monkeypatch.setenv("TXGUARD_DB_POOL_SIZE", "12")
    settings = Settings()
    assert settings.sqlalchemy_url == PG_URL
    assert settings.db_pool_size == 12


def test_dot_env_file_is_read(isolated_env: Path) -> None:
    (isolated_env / ".env").write_text("TXGUARD_DATA_DIR=/srv/txguard\n")
    assert Settings().data_dir == Path("/srv/txguard")


def test_a_secret_can_come_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "token_key"
    secret.write_text(STRONG_KEY + "\n")
    monkeypatch.setenv("TXGUARD_TOKEN_KEY_FILE", str(secret))
    assert Settings().token_key.get_secret_value() == STRONG_KEY


def test_the_file_form_works_from_dot_env_too(isolated_env: Path) -> None:
    (isolated_env / "db_url").write_text(PG_URL)
    (isolated_env / ".env").write_text(f"TXGUARD_DATABASE_URL_FILE={isolated_env / 'db_url'}\n")
    assert Settings().sqlalchemy_url == PG_URL


def test_an_unreadable_secret_file_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TXGUARD_TOKEN_KEY_FILE", "/nonexistent/token")
    with pytest.raises(
        ConfigurationError, match="TXGUARD_TOKEN_KEY_FILE: cannot read /nonexistent/token"
    ):
        Settings()


def test_an_invalid_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TXGUARD_DB_POOL_SIZE", "lots")
    with pytest.raises(ConfigurationError, match="TXGUARD_DB_POOL_SIZE"):
        get_settings()


SAFE = {
    "TXGUARD_DATABASE_URL": PG_URL,
    "TXGUARD_TOKEN_KEY": STRONG_KEY,
    "TXGUARD_JWT_SECRET": "another-secret-of-at-least-32-characters!",
}


@pytest.mark.parametrize(
    ("variables", "complaint"),
    [
        ({"TXGUARD_TOKEN_KEY": None}, "TXGUARD_TOKEN_KEY must be set"),
        ({"TXGUARD_TOKEN_KEY": "short"}, "TXGUARD_TOKEN_KEY must be at least 32 characters"),
        ({"TXGUARD_JWT_SECRET": None}, "TXGUARD_JWT_SECRET must be set"),
        ({"TXGUARD_JWT_SECRET": "short"}, "TXGUARD_JWT_SECRET must be at least 32"),
        (
            {"TXGUARD_JWT_PREVIOUS_SECRETS": '["old"]'},
            r"TXGUARD_JWT_PREVIOUS_SECRETS\[0\] must be at least",
        ),
        ({"TXGUARD_WEBHOOK_SECRET": "short"}, "TXGUARD_WEBHOOK_SECRET must be at least 32"),
        (
            {"TXGUARD_WEBHOOK_PREVIOUS_SECRETS": '["old"]'},
            r"TXGUARD_WEBHOOK_PREVIOUS_SECRETS\[0\] must be at least",
        ),
        ({"TXGUARD_DATABASE_URL": None}, "TXGUARD_DATABASE_URL must name a PostgreSQL"),
        ({"TXGUARD_CORS_ORIGINS": '["*"]'}, "TXGUARD_CORS_ORIGINS must list origins explicitly"),
        ({"TXGUARD_ADMIN_PASSWORD": "short"}, "TXGUARD_ADMIN_PASSWORD must be at least 12"),
    ],
)
def test_production_refuses_each_unsafe_setting_by_name(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str | None], complaint: str
) -> None:
    monkeypatch.setenv("TXGUARD_ENV", "production")
    for name, value in {**SAFE, **variables}.items():
        if value is not None:
            monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=complaint):
        get_settings()


def test_production_starts_with_safe_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TXGUARD_ENV", "production")
    for name, value in SAFE.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TXGUARD_CORS_ORIGINS", '["https://console.bank.example"]')
    assert get_settings().env == "production"


def test_masked_settings_hide_every_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TXGUARD_DATABASE_URL", PG_URL)
    monkeypatch.setenv("TXGUARD_TOKEN_KEY", STRONG_KEY)
    monkeypatch.setenv("TXGUARD_REDIS_URL", "redis://:hunter2@cache:6379/0")
    shown = Settings().masked()
    text = "\n".join(f"{k}={v}" for k, v in shown.items())
    assert "s3cret" not in text and STRONG_KEY not in text and "hunter2" not in text
    assert (
        shown["TXGUARD_DATABASE_URL"] == "postgresql+psycopg://txguard:***@db.internal:5432/txguard"
    )
    assert shown["TXGUARD_TOKEN_KEY"] == "**********"


def test_settings_are_built_once_and_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TXGUARD_DB_POOL_SIZE", "7")
    first = get_settings()
    monkeypatch.setenv("TXGUARD_DB_POOL_SIZE", "9")
    assert get_settings() is first
    assert first.db_pool_size == 7


def test_the_development_key_is_known_to_be_unsafe() -> None:
    assert Settings().token_key.get_secret_value() == DEV_TOKEN_KEY


def test_importing_the_cli_builds_no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import txguard.cli.main

    monkeypatch.setenv("TXGUARD_DB_POOL_SIZE", "not-a-number")
    importlib.reload(txguard.cli.main)
    assert get_settings.cache_info().currsize == 0
