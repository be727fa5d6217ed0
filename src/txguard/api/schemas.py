"""The shapes the HTTP API reads and writes (DESIGN.md "Transaction schema", "Decision output").

Requests are strict: an unknown field is refused rather than silently ignored, because a
payment switch that misspells ``card_id`` would otherwise score every card as a stranger.
Values are not coerced either: a number is a JSON number, a flag ``true`` or ``false``, a time
an RFC 3339 string, as the OpenAPI document says (``"1.5"``, ``1`` or ``0`` are refused).
"""

import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from txguard.domain.cases import FEEDBACK_SOURCES
from txguard.domain.enums import CaseStatus, Decision, LabelSource, RuleAction
from txguard.domain.rules import EXPRESSION_MAX_LENGTH
from txguard.registry.deploy import relative_artifact_path

Identifier = Annotated[str, Field(min_length=1, max_length=64)]
Text = Annotated[str, Field(min_length=1, max_length=64)]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Flag = Annotated[bool, Field(strict=True)]

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


def _rfc3339_text(value: Any) -> Any:
    """Pydantic would also read ``0`` or ``"1700000000"`` as a time; the API does not."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or _RFC3339.fullmatch(value) is None:
        raise PydanticCustomError(
            "datetime_type", "Input should be an RFC 3339 date-time, e.g. 2026-11-23T10:15:00Z"
        )
    return value


def _utc_representable(value: datetime) -> datetime:
    """0001-01-01T00:00:00+01:00 parses, but is no time in UTC (nor in the database)."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError(
            "datetime_type", "Input should be a date-time between years 1 and 9999 in UTC"
        ) from None
    return value


# An aware time written as RFC 3339: 2026-11-23T10:15:00Z, 2026-11-23T11:15:00.5+01:00
Rfc3339 = Annotated[
    AwareDatetime, BeforeValidator(_rfc3339_text), AfterValidator(_utc_representable)
]
LAST_EPOCH_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a datetime holds

TRANSACTION_EXAMPLE: dict[str, Any] = {
    "transaction_id": "tx-000123",
    "amount": 129.90,
    "timestamp": "2026-11-23T10:15:00Z",
    "card_id": "4111111111111111",
    "terminal_id": "T-4711",
    "merchant_category": "electronics",
    "country": "DE",
    "currency": "EUR",
    "channel": "pos",
}


class TransactionIn(BaseModel):
    """One card transaction to score; only ``transaction_id`` and ``amount`` are required."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [TRANSACTION_EXAMPLE]})

    transaction_id: Identifier
    amount: Number = Field(ge=0, description="In the card's currency.")
    timestamp: Rfc3339 | None = Field(
        None, description="RFC 3339 with a time zone; default: when the request arrives."
    )
    time: Number | None = Field(
        None,
        ge=0,
        le=LAST_EPOCH_SECOND,
        description="Seconds since the epoch, as the public card dataset's `Time`; used when `timestamp` is absent.",
    )
    card_id: Identifier | None = Field(None, description="Tokenised before anything stores it.")
    customer_id: Identifier | None = Field(
        None, description="Used as the card when `card_id` is absent."
    )
    terminal_id: Identifier | None = None
    merchant_id: Identifier | None = Field(None, description="Used when `terminal_id` is absent.")
    merchant_category: Text | None = None
    country: Text | None = None
    location: Text | None = Field(None, description="Used when `country` is absent.")
    card_home_country: Text | None = None
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$", description="ISO 4217 code.")
    channel: Text | None = None
    features: dict[Annotated[str, Field(max_length=64)], Number] | None = Field(
        None,
        description="Extra numeric inputs, e.g. `V1`..`V28` of the anonymised layout.",
        max_length=256,
    )

    @field_validator("features")
    @classmethod
    def _finite(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None:
            for name, number in value.items():
                if not math.isfinite(number):
                    raise ValueError(f"feature {name!r} must be a finite number")
        return value


class BatchIn(BaseModel):
    """Up to 1,000 transactions, scored in order."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "transactions": [
                        TRANSACTION_EXAMPLE,
                        {
                            "transaction_id": "tx-000124",
                            "amount": 12.5,
                            "card_id": "4111111111111111",
                        },
                    ]
                }
            ]
        },
    )

    transactions: list[dict[str, Any]] = Field(
        min_length=1,
        description="Each item has the fields of a single transaction; an invalid item is reported, the rest are scored.",
        json_schema_extra={"items": {"$ref": "#/components/schemas/TransactionIn"}},
    )


class RuleHitOut(BaseModel):
    name: str
    version: int
    action: RuleAction
    reason: str


class ExplanationOut(BaseModel):
    """Why: in words for the analyst, and the numbers behind them."""

    risk_factors: list[str]
    protective_factors: list[str]
    rule_hits: list[RuleHitOut]
    top_contributions: list[dict[str, Any]]
    confidence: str
    recommendation: str
    thresholds: dict[str, float] | None = None
    degraded_reason: str | None = None


class DecisionOut(BaseModel):
    """The decision for one transaction; the same body is returned for every retry of its id."""

    transaction_id: str
    is_fraud: bool
    fraud_probability: float | None
    anomaly_score: float | None
    risk_score: int
    decision: Decision
    model_version: str | None
    processing_time_ms: float
    degraded: bool
    explanation: ExplanationOut | None


class BatchItemOut(BaseModel):
    """One item of a batch: its decision, or why it was not scored."""

    index: int
    status: int = Field(description="200 when scored, 422 when the item was invalid.")
    decision: DecisionOut | None = None
    error: "ErrorDetail | None" = None


class BatchOut(BaseModel):
    scored: int
    failed: int
    results: list[BatchItemOut]


class FieldError(BaseModel):
    field: str = Field(
        description="Where the problem is, e.g. `amount` or `transactions[3].amount`."
    )
    message: str


class ErrorDetail(BaseModel):
    code: str = Field(
        description="Stable machine-readable code, e.g. `validation_error`, `not_found`."
    )
    message: str
    fields: list[FieldError] = Field(default_factory=list)


class ErrorBody(BaseModel):
    """The one error shape of every route."""

    error: ErrorDetail


class AlertOut(BaseModel):
    transaction_id: str
    occurred_at: datetime
    amount: float
    card_token: str | None
    terminal_id: str | None
    decision: Decision | None
    status: CaseStatus | None
    risk_score: int | None
    fraud_probability: float | None
    anomaly_score: float | None
    model_version: str | None
    reasons: list[str] | None


class AlertPageOut(BaseModel):
    items: list[AlertOut]
    total: int
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class CountOut(BaseModel):
    total: int


class StatusChangeIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"new_status": "UNDER_REVIEW", "note": "calling the cardholder"}]
        },
    )

    new_status: CaseStatus
    note: str | None = Field(None, max_length=4000)


class StatusChangeOut(BaseModel):
    transaction_id: str
    from_status: CaseStatus
    to_status: CaseStatus
    label_recorded: bool


_FEEDBACK_SOURCE_VALUES = sorted(source.value for source in FEEDBACK_SOURCES)


def _feedback_source(value: Any) -> Any:
    """``import`` is a label source too, but only for file loads (see the cases domain)."""
    if isinstance(value, str) and value in FEEDBACK_SOURCES:
        return value
    raise PydanticCustomError(
        "enum",
        "Input should be one of: {expected}",
        {"expected": ", ".join(_FEEDBACK_SOURCE_VALUES)},
    )


FeedbackSource = Annotated[
    LabelSource,
    BeforeValidator(_feedback_source),
    WithJsonSchema({"type": "string", "enum": _FEEDBACK_SOURCE_VALUES}),
]


FEEDBACK_EXAMPLE: dict[str, Any] = {
    "transaction_id": "tx-000123",
    "is_fraud": True,
    "reported_at": "2026-11-30T09:00:00Z",
    "source": "chargeback",
}


class FeedbackIn(BaseModel):
    """A chargeback or dispute from a card system: the truth about one transaction."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [FEEDBACK_EXAMPLE]})

    transaction_id: Identifier
    is_fraud: Flag
    reported_at: Rfc3339 | None = Field(None, description="Default: when the request arrives.")
    source: FeedbackSource = LabelSource.CHARGEBACK
    note: str | None = Field(None, max_length=4000)


class FeedbackBatchIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        FEEDBACK_EXAMPLE,
                        {"transaction_id": "tx-000124", "is_fraud": False, "source": "dispute"},
                    ]
                }
            ]
        },
    )

    items: list[FeedbackIn] = Field(min_length=1, max_length=1000)


class FeedbackOut(BaseModel):
    transaction_id: str
    matched: bool = Field(
        description="False when the transaction has not arrived yet; the label waits for it."
    )


class FeedbackBatchOut(BaseModel):
    results: list[FeedbackOut]


class ModelVersionOut(BaseModel):
    version: str
    status: str
    algorithm: str
    feature_set_version: str
    artifact_sha256: str
    metrics: dict[str, Any]
    thresholds: dict[str, Any]
    train_start: datetime | None
    train_end: datetime | None
    created_at: datetime
    active: bool


class ActivationOut(BaseModel):
    active_version: str


class RuleIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Large online",
                    "expression": 'amount > 2000 and channel == "online"',
                    "action": "review",
                    "weight": 20,
                    "reason": "large online payment",
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=128)
    expression: str = Field(min_length=1, max_length=EXPRESSION_MAX_LENGTH)
    action: RuleAction
    weight: Number = Field(0.0, ge=0, le=100)
    reason: str = Field(min_length=1, max_length=1000)
    enabled: Flag = True


class RuleOut(BaseModel):
    name: str
    version: int
    expression: str
    action: RuleAction
    weight: float
    reason: str
    enabled: bool


class ListIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "blocked_terminals", "kind": "terminal"}]},
    )

    name: str = Field(min_length=1, max_length=64)
    kind: str = Field(description="card, terminal, country or merchant_category")
    description: str | None = Field(None, max_length=1000)


class ListEntriesIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"values": ["T-4711", "T-0815"]}]}
    )

    values: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        min_length=1, max_length=10_000
    )


class ListOut(BaseModel):
    name: str
    kind: str
    size: int


class ChangedOut(BaseModel):
    changed: int


class ComponentOut(BaseModel):
    status: str = Field(description="`ok`, `degraded` or `down`.")
    latency_ms: float | None = None
    detail: str | None = None


class HealthOut(BaseModel):
    status: str = Field(
        description="`ok`, `degraded` (scoring with less than the full pipeline) or `down`."
    )
    components: dict[str, ComponentOut]


def _artifact_path(value: str) -> str:
    relative_artifact_path(value)  # raises ValueError naming what is wrong
    return value


DEPLOY_EXAMPLE: dict[str, Any] = {
    "artifact": "incoming/m-20260301-20260331-1a2b3c4d.txgm",
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "metrics": {"holdout_auc_roc": 0.91},
    "activate": True,
}


class DeployIn(BaseModel):
    """A model version built by CI, to register and (if its gates pass) activate."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [DEPLOY_EXAMPLE]})

    artifact: Annotated[str, AfterValidator(_artifact_path)] = Field(
        min_length=1,
        max_length=512,
        description="The artifact file, relative to the model directory (`TXGUARD_MODEL_DIR`).",
    )
    sha256: str = Field(
        pattern=r"^[0-9a-fA-F]{64}$", description="The artifact's SHA-256, hexadecimal."
    )
    metrics: dict[Annotated[str, Field(min_length=1, max_length=64)], Number] = Field(
        default_factory=dict,
        max_length=100,
        description="Evaluation metrics of the CI run; they complete or override the artifact's.",
    )
    activate: Flag = Field(True, description="Serve the version if every gate passes.")


class GateOut(BaseModel):
    metric: str
    value: float | None = Field(description="None when the model carries no such metric.")
    minimum: float
    passed: bool


class DeployOut(BaseModel):
    version: str
    registered: bool = Field(description="False when this version was registered before.")
    activated: bool = Field(description="Whether the version serves once the call returns.")
    gates: list[GateOut]


BatchItemOut.model_rebuild()
