"""The settings that decide what txguard lets through, audited when a process starts with them.

A weaker rate limit, a new CORS origin, a rotated signing key or a loosened deploy gate
changes security as much as a rule edit does, but it happens in a deployment, not through
the API. Each API process compares these settings with the last ``settings.changed`` event
at start-up and records the difference. Secrets themselves never enter the trail: a signing
key appears as its ``kid``, which every token it signs already shows.
"""

from typing import Any, Protocol

from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from txguard.security.access_tokens import TokenSettings, key_id
from txguard.store import audit

ACTION = "settings.changed"
ACTOR = "system:startup"


class AuditedSettings(TokenSettings, Protocol):
    """The part of ``txguard.settings.Settings`` recorded (that layer is above this one)."""

    @property
    def env(self) -> str: ...

    @property
    def webhook_secret(self) -> SecretStr | None: ...

    @property
    def webhook_window_s(self) -> int: ...

    @property
    def deploy_gates(self) -> dict[str, float]: ...

    @property
    def rate_limit_per_minute(self) -> int: ...

    @property
    def login_attempts_per_account(self) -> int: ...

    @property
    def login_attempts_per_address(self) -> int: ...

    @property
    def cors_origins(self) -> list[str]: ...

    @property
    def max_body_bytes(self) -> int: ...

    @property
    def hsts(self) -> bool: ...

    @property
    def label_delay_days(self) -> int: ...

    @property
    def decision_retention_days(self) -> int: ...

    @property
    def request_log_retention_days(self) -> int: ...


def audited_values(settings: AuditedSettings) -> dict[str, Any]:
    """What is recorded: plain values, and signing keys by their public ``kid`` only."""
    return {
        "env": settings.env,
        "jwt_signing_kid": key_id(settings.jwt_secret.get_secret_value()),
        "jwt_accepted_kids": [key_id(s.get_secret_value()) for s in settings.jwt_previous_secrets],
        "jwt_issuer": settings.jwt_issuer,
        "jwt_audience": settings.jwt_audience,
        "access_token_ttl_s": settings.access_token_ttl_s,
        "refresh_token_ttl_s": settings.refresh_token_ttl_s,
        "webhook_enabled": settings.webhook_secret is not None,
        "webhook_window_s": settings.webhook_window_s,
        "deploy_gates": dict(settings.deploy_gates),
        "rate_limit_per_minute": settings.rate_limit_per_minute,
        "login_attempts_per_account": settings.login_attempts_per_account,
        "login_attempts_per_address": settings.login_attempts_per_address,
        "cors_origins": list(settings.cors_origins),
        "max_body_bytes": settings.max_body_bytes,
        "hsts": settings.hsts,
        "label_delay_days": settings.label_delay_days,
        "decision_retention_days": settings.decision_retention_days,
        "request_log_retention_days": settings.request_log_retention_days,
    }


def record_settings(engine: Engine, settings: AuditedSettings) -> bool:
    """Record the settings in force if they differ from the last recorded; whether they did."""
    with Session(engine) as session, session.begin():
        return audit.record_if_changed(
            session,
            actor=ACTOR,
            action=ACTION,
            entity_type="settings",
            after=audited_values(settings),
        )
