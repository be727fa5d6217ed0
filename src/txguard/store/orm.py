"""Every table txguard owns, designed once for the whole product (DESIGN.md).

Tables are singular snake_case, timestamps end in ``_at`` and are aware UTC. Card numbers and
customer ids never appear here in clear: only their keyed-hash tokens (``card_token``).
Labels reference transactions by their external id without a foreign key, because a
chargeback may arrive before the transaction it concerns.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from txguard.domain.enums import CaseStatus, Decision, LabelSource, ModelStatus, Role, RuleAction
from txguard.store.base import Base, BigId, JsonDocument, utcnow

__all__ = [
    "Base",
    "TransactionRow",
    "LabelRow",
    "ModelVersionRow",
    "ModelDeploymentRow",
    "DeploymentEventRow",
    "RuleRow",
    "WatchListRow",
    "ListEntryRow",
    "UserRow",
    "ApiKeyRow",
    "RefreshTokenRow",
    "AuditEventRow",
    "RequestLogRow",
    "CaseEventRow",
]

TOKEN_LENGTH = 40
ID_LENGTH = 64


def _enum(enum: type[StrEnum], name: str) -> Enum:
    """Store the enum's value as text with a CHECK constraint, portable to every backend."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _created_at() -> Mapped[datetime]:
    return mapped_column(default=utcnow, server_default=func.now())


class TransactionRow(Base):
    """A transaction as received, with its decision once scored and its case status once flagged."""

    __tablename__ = "card_transaction"
    __table_args__ = (
        # Alerts only (every queue query says ``status IS NOT NULL``): an approval, most of
        # what is scored, then costs no insert into it on the authorisation path.
        Index(
            "ix_card_transaction_queue",
            "status",
            "risk_score",
            "occurred_at",
            "id",
            postgresql_where=text("status IS NOT NULL"),
            sqlite_where=text("status IS NOT NULL"),
        ),
        # None by card or terminal: no query reads by them, and each would be a page written
        # per scored transaction (migration 0005 dropped the first schema's two).
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("risk_score BETWEEN 0 AND 100", name="risk_score_range"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(String(ID_LENGTH), unique=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    amount: Mapped[float] = mapped_column(Numeric(18, 4, asdecimal=False))
    currency: Mapped[str | None] = mapped_column(String(3))
    card_token: Mapped[str | None] = mapped_column(String(TOKEN_LENGTH))
    terminal_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    merchant_category: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(32))
    features: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    source: Mapped[str] = mapped_column(String(16))
    decision: Mapped[Decision | None] = mapped_column(_enum(Decision, "decision"))
    status: Mapped[CaseStatus | None] = mapped_column(_enum(CaseStatus, "case_status"))
    fraud_probability: Mapped[float | None] = mapped_column(Float)
    anomaly_score: Mapped[float | None] = mapped_column(Float)
    risk_score: Mapped[int | None] = mapped_column(SmallInteger)
    reasons: Mapped[list[str] | None] = mapped_column(JsonDocument)
    explanation: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    model_version: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    processing_time_ms: Mapped[float | None] = mapped_column(Float)
    degraded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    scored_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime | None]


class LabelRow(Base):
    """Fraud or not, for one transaction, from one source, and when it became known."""

    __tablename__ = "label"
    __table_args__ = (UniqueConstraint("transaction_id", "source"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    is_fraud: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[LabelSource] = mapped_column(_enum(LabelSource, "label_source"))
    known_at: Mapped[datetime] = mapped_column(index=True)
    fraud_scenario: Mapped[int | None] = mapped_column(SmallInteger)
    actor: Mapped[str | None] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = _created_at()


class ModelVersionRow(Base):
    """One trained model artifact under governance; the bytes live in the archive."""

    __tablename__ = "model_version"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(ID_LENGTH), unique=True)
    status: Mapped[ModelStatus] = mapped_column(_enum(ModelStatus, "model_status"))
    algorithm: Mapped[str] = mapped_column(String(32))
    artifact_uri: Mapped[str] = mapped_column(Text)
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    feature_set_version: Mapped[str] = mapped_column(String(32))
    feature_names: Mapped[list[str]] = mapped_column(JsonDocument)
    metrics: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    train_start: Mapped[datetime | None]
    train_end: Mapped[datetime | None]
    notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = _created_at()
    approved_by: Mapped[str | None] = mapped_column(String(128))
    approved_at: Mapped[datetime | None]


class ModelDeploymentRow(Base):
    """The shared pointer every process reads: which version serves in which slot."""

    __tablename__ = "model_deployment"
    __table_args__ = (CheckConstraint("traffic_share BETWEEN 0 AND 1", name="traffic_share_range"),)

    slot: Mapped[str] = mapped_column(String(16), primary_key=True)
    model_version_id: Mapped[int] = mapped_column(BigId, ForeignKey("model_version.id"))
    traffic_share: Mapped[float] = mapped_column(Float, default=1.0)
    updated_by: Mapped[str | None] = mapped_column(String(128))
    updated_at: Mapped[datetime] = _created_at()


class DeploymentEventRow(Base):
    """History of the pointer, so a rollback knows what served before."""

    __tablename__ = "deployment_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    slot: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    model_version_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("model_version.id"))
    previous_model_version_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("model_version.id")
    )
    actor: Mapped[str | None] = mapped_column(String(128))
    occurred_at: Mapped[datetime] = _created_at()


class RuleRow(Base):
    """One version of an analyst rule; editing a rule adds a version, never rewrites one."""

    __tablename__ = "rule"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    expression: Mapped[str] = mapped_column(Text)
    action: Mapped[RuleAction] = mapped_column(_enum(RuleAction, "rule_action"))
    weight: Mapped[float] = mapped_column(Float, default=0.0)
    reason: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = _created_at()


class WatchListRow(Base):
    """A named list that rules refer to: cards, terminals, countries, merchant categories."""

    __tablename__ = "watch_list"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = _created_at()


class ListEntryRow(Base):
    """One value of a watch list (card values are tokens)."""

    __tablename__ = "list_entry"
    __table_args__ = (UniqueConstraint("list_id", "value"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    list_id: Mapped[int] = mapped_column(BigId, ForeignKey("watch_list.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(String(128))
    added_by: Mapped[str | None] = mapped_column(String(128))
    added_at: Mapped[datetime] = _created_at()


class UserRow(Base):
    """A person who signs in to the console or the API."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = _created_at()


class ApiKeyRow(Base):
    """A machine client's key: only its hash is kept, the public ``key_id`` finds it."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(256))
    owner: Mapped[str] = mapped_column(String(128))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = _created_at()


class RefreshTokenRow(Base):
    """A refresh token's id, so tokens can be rotated and revoked."""

    __tablename__ = "refresh_token"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("app_user.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    replaced_by: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime] = _created_at()


class AuditEventRow(Base):
    """Append-only record of a change; ``hash`` chains each event to the one before."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(128))
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class RequestLogRow(Base):
    """One scoring request, for operations; personal data only as tokens."""

    __tablename__ = "request_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    route: Mapped[str] = mapped_column(String(64))
    transaction_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    card_token: Mapped[str | None] = mapped_column(String(TOKEN_LENGTH))
    model_version: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    decision: Mapped[str | None] = mapped_column(String(8))
    status_code: Mapped[int] = mapped_column(SmallInteger)
    latency_ms: Mapped[float] = mapped_column(Float)


class CaseEventRow(Base):
    """One move of a case between statuses, kept so an auditor can see who decided what, when."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    from_status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus, "from_status"))
    to_status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus, "to_status"))
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(128))
    occurred_at: Mapped[datetime]


class SeenSignatureRow(Base):
    """A signed webhook call already accepted; a second call with its signature is a replay."""

    __tablename__ = "seen_signature"

    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
