"""Typed settings, read from ``TXGUARD_*`` environment variables and an optional ``.env``.

Every setting can also come from a file named by ``TXGUARD_<NAME>_FILE``, which is how
container orchestrators mount secrets. Settings are built on first use by
:func:`get_settings`, never at import time, so tests and commands can set the environment
first.
"""

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values
from pydantic import Field, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import make_url

from txguard.domain.errors import ConfigurationError

ENV_PREFIX = "TXGUARD_"
DEV_TOKEN_KEY = "dev-only-token-key-change-me"  # noqa: S105 - the known default production refuses
DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0000"  # noqa: S105 - refused in production
MIN_SECRET_LENGTH = 32
# below the worst test week measured for the reference model (bench/RESULTS.md: AUC 0.83,
# AP 0.65), above what the anomaly score alone reaches (AP 0.29)
DEFAULT_DEPLOY_GATES = {"validation_auc_roc": 0.80, "validation_average_precision": 0.50}

Environment = Literal["development", "test", "production"]


class FileSecretsSource(PydanticBaseSettingsSource):
    """Reads ``TXGUARD_<NAME>_FILE``: the value is the file's content, stripped of the final newline."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        path = self._file_variables().get(f"{ENV_PREFIX}{field_name.upper()}_FILE")
        if not path:
            return None, field_name, False
        try:
            return Path(path).read_text(encoding="utf-8").rstrip("\r\n"), field_name, False
        except OSError as exc:
            name = f"{ENV_PREFIX}{field_name.upper()}_FILE"
            raise ConfigurationError(f"{name}: cannot read {path}: {exc.strerror}") from exc

    def _file_variables(self) -> dict[str, str]:
        found = {k: v for k, v in dotenv_values(".env").items() if v is not None}
        found.update(os.environ)
        return found

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                values[key] = value
        return values


class Settings(BaseSettings):
    """Everything an operator can configure; see docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    env: Environment = "development"
    data_dir: Path = Field(Path("var"), description="Where the embedded mode keeps its files.")
    database_url: SecretStr | None = Field(
        None, description="SQLAlchemy URL; default: SQLite file in data_dir."
    )
    db_pool_size: int = Field(5, ge=1, le=200)
    db_max_overflow: int = Field(10, ge=0, le=200)
    db_pool_timeout_s: float = Field(5.0, gt=0)
    db_pool_recycle_s: int = Field(1800, gt=0)
    db_connect_timeout_s: int = Field(5, ge=1)
    db_statement_timeout_ms: int = Field(30_000, ge=0, description="0 disables the limit.")
    model_dir: Path | None = Field(
        None, description="Where model artifacts are kept; default: data_dir/models."
    )
    redis_url: SecretStr | None = None
    redis_namespace: str = Field(
        "txguard:", min_length=1, description="Prefix of every Redis key txguard writes."
    )
    redis_timeout_s: float = Field(
        0.5,
        gt=0,
        description="How long a feature-store call may take before scoring goes on without it.",
    )
    breaker_fail_max: int = Field(
        3,
        ge=1,
        description="Consecutive failures of a backend before calls to it stop being tried.",
    )
    breaker_reset_s: float = Field(
        5.0, gt=0, description="How long an open circuit waits before trying its backend again."
    )
    reload_interval_s: float = Field(
        2.0,
        gt=0,
        description="How often an API process checks for a new active model or rule change.",
    )
    request_log_queue: int = Field(
        50_000,
        ge=1,
        description="Request-log entries held in memory; beyond it they are counted as lost.",
    )
    request_log_retention_days: int = Field(30, ge=1)
    decision_retention_days: int = Field(
        1825, ge=1, description="How long scored transactions and their decisions are kept."
    )
    label_delay_days: int = Field(
        7, ge=0, description="Days before a fraud label is used by the terminal risk features."
    )
    kafka_bootstrap: str | None = None
    token_key: SecretStr = Field(
        SecretStr(DEV_TOKEN_KEY), description="Key of the HMAC that tokenises card ids."
    )
    jwt_secret: SecretStr = Field(
        SecretStr(DEV_JWT_SECRET), description="HS256 key that signs access and refresh tokens."
    )
    jwt_previous_secrets: list[SecretStr] = Field(
        default_factory=list,
        description="Earlier signing keys still accepted while their tokens expire (rotation).",
    )
    jwt_issuer: str = "txguard"
    jwt_audience: str = "txguard-api"
    access_token_ttl_s: int = Field(900, ge=30, le=86_400)
    refresh_token_ttl_s: int = Field(7 * 86_400, ge=300)
    webhook_secret: SecretStr | None = Field(
        None, description="HMAC-SHA256 key of signed machine-to-machine calls (/deploy)."
    )
    webhook_window_s: int = Field(300, ge=10, le=3600)
    webhook_previous_secrets: list[SecretStr] = Field(
        default_factory=list,
        description="Earlier webhook keys still accepted while senders switch (rotation).",
    )
    deploy_gates: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_DEPLOY_GATES),
        description="Minimum value per model metric before /deploy may activate a version.",
    )
    rate_limit_per_minute: int = Field(1000, ge=1, description="Requests per API key or user.")
    login_attempts_per_account: int = Field(5, ge=1, description="Failed logins a minute.")
    login_attempts_per_address: int = Field(20, ge=1, description="Failed logins a minute.")
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    hsts: bool = Field(False, description="Send Strict-Transport-Security (behind TLS).")
    opentelemetry: bool = Field(
        False,
        description="FastAPI's OpenTelemetry instrumentation, through the global providers.",
    )
    admin_username: str | None = Field(None, description="First ADMIN created at first start.")
    admin_password: SecretStr | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings, FileSecretsSource(settings_cls))

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> "Settings":
        if self.env == "production":
            problem = next(iter(self.production_problems()), None)
            if problem is not None:
                raise ValueError(problem)
        return self

    def production_problems(self) -> list[str]:
        """Why these settings are not safe to run in production; each names its setting."""
        problems: list[str] = []
        secrets = [
            ("TOKEN_KEY", self.token_key, DEV_TOKEN_KEY),
            ("JWT_SECRET", self.jwt_secret, DEV_JWT_SECRET),
        ]
        if self.webhook_secret is not None:
            secrets.append(("WEBHOOK_SECRET", self.webhook_secret, ""))
        secrets += [
            (f"JWT_PREVIOUS_SECRETS[{i}]", v, "") for i, v in enumerate(self.jwt_previous_secrets)
        ]
        secrets += [
            (f"WEBHOOK_PREVIOUS_SECRETS[{i}]", v, "")
            for i, v in enumerate(self.webhook_previous_secrets)
        ]
        for name, value, default in secrets:
            text = value.get_secret_value()
            if text == default or text in (DEV_TOKEN_KEY, DEV_JWT_SECRET):
                problems.append(
                    f"{ENV_PREFIX}{name} must be set to a secret of your own in production"
                )
            elif len(text) < MIN_SECRET_LENGTH:
                problems.append(
                    f"{ENV_PREFIX}{name} must be at least {MIN_SECRET_LENGTH} characters in production"
                )
        if self.sqlalchemy_url.startswith("sqlite"):
            problems.append(
                f"{ENV_PREFIX}DATABASE_URL must name a PostgreSQL database in production"
            )
        if any("*" in origin for origin in self.cors_origins):
            problems.append(
                f"{ENV_PREFIX}CORS_ORIGINS must list origins explicitly in production, not '*'"
            )
        if self.admin_password is not None and len(self.admin_password.get_secret_value()) < 12:
            problems.append(f"{ENV_PREFIX}ADMIN_PASSWORD must be at least 12 characters")
        return problems

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in force: the configured one, or the embedded SQLite file."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'txguard.db'}"

    @property
    def artifact_dir(self) -> Path:
        """The model artifact directory in force."""
        return self.model_dir if self.model_dir is not None else self.data_dir / "models"

    def masked(self) -> dict[str, str]:
        """Every setting as text, secrets replaced so the output can be pasted in a ticket."""
        shown: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name == "database_url":
                value = make_url(self.sqlalchemy_url).render_as_string(hide_password=True)
            elif isinstance(value, SecretStr) or (
                isinstance(value, list) and any(isinstance(v, SecretStr) for v in value)
            ):
                value = "**********"
            shown[f"{ENV_PREFIX}{name.upper()}"] = "" if value is None else str(value)
        return shown


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, built once on first use."""
    try:
        return Settings()
    except ValueError as exc:
        raise ConfigurationError(_first_error(exc)) from exc


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    first = errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    message = str(first.get("msg", exc)).removeprefix("Value error, ")
    return f"{ENV_PREFIX}{where.upper()}: {message}" if where else message
