"""The alert queue, analyst cases and fraud labels, as plain values.

The case service, the store and the API all speak these, and the domain is the one layer
they may all import. Inputs are checked on construction, so a filter or a feedback item
that exists is one the store can run without a driver error.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from txguard.domain.enums import CaseStatus, Decision, LabelSource
from txguard.domain.errors import InputError

MAX_RISK_SCORE = 100
FEEDBACK_SOURCES = frozenset({LabelSource.ANALYST, LabelSource.CHARGEBACK, LabelSource.DISPUTE})


class CaseInputError(InputError):
    """A filter, cursor or feedback item refused; ``field`` names it so the API can point at it."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class AlertFilters:
    """Which alerts an analyst wants to see; ``None`` (or an empty status list) means any.

    ``end`` is exclusive so that consecutive windows never show a transaction twice.
    """

    status: list[CaseStatus] | None = None
    min_risk_score: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    decision: Decision | None = None
    rule: str | None = None

    def __post_init__(self) -> None:
        if self.min_risk_score is not None and not 0 <= self.min_risk_score <= MAX_RISK_SCORE:
            raise CaseInputError(
                f"min_risk_score: must be from 0 to {MAX_RISK_SCORE}, not {self.min_risk_score}",
                field="min_risk_score",
            )
        _require_aware(self.start, "start")
        _require_aware(self.end, "end")


@dataclass(frozen=True)
class AlertSummary:
    """One line of the alert queue: enough to triage without opening the case."""

    transaction_id: str
    occurred_at: datetime
    amount: float
    card_token: str | None
    terminal_id: str | None
    decision: Decision | None
    status: CaseStatus
    risk_score: int | None
    fraud_probability: float | None
    anomaly_score: float | None
    model_version: str | None
    reasons: list[str]


@dataclass(frozen=True)
class AlertPage:
    """One page of the queue; pass ``next_cursor`` back to get the following one."""

    items: list[AlertSummary]
    next_cursor: str | None
    total: int


@dataclass(frozen=True)
class LabelInfo:
    """A fraud / not-fraud label as stored, with where it came from and when it was known."""

    source: LabelSource
    is_fraud: bool
    known_at: datetime
    actor: str | None
    note: str | None


@dataclass(frozen=True)
class CaseEventInfo:
    """One move of a case, for the history an analyst or auditor reads."""

    from_status: CaseStatus
    to_status: CaseStatus
    occurred_at: datetime
    actor: str | None
    note: str | None


@dataclass(frozen=True)
class TransactionDetail:
    """Everything stored about one transaction: what arrived, how it was scored, its case."""

    transaction_id: str
    occurred_at: datetime
    amount: float
    currency: str | None
    card_token: str | None
    terminal_id: str | None
    merchant_category: str | None
    country: str | None
    channel: str | None
    features: dict[str, Any] | None
    source: str
    decision: Decision | None
    status: CaseStatus | None
    fraud_probability: float | None
    anomaly_score: float | None
    risk_score: int | None
    reasons: list[str]
    explanation: dict[str, Any] | None
    model_version: str | None
    processing_time_ms: float | None
    degraded: bool
    scored_at: datetime | None
    created_at: datetime
    updated_at: datetime | None
    labels: list[LabelInfo] = field(default_factory=list)
    case_history: list[CaseEventInfo] = field(default_factory=list)


@dataclass(frozen=True)
class LabelEvent:
    """A label that changed, as the online features need it (they count frauds per terminal)."""

    transaction_id: str
    terminal_id: str | None
    occurred_at: datetime
    is_fraud: bool


@dataclass(frozen=True)
class StatusChange:
    """What a case move did; ``label`` is set when a verdict changed the analyst's label."""

    transaction_id: str
    from_status: CaseStatus
    to_status: CaseStatus
    label: LabelEvent | None


@dataclass(frozen=True)
class FeedbackItem:
    """A label reported from outside (chargeback, dispute, analyst tool) for one transaction."""

    transaction_id: str
    is_fraud: bool
    reported_at: datetime
    source: LabelSource
    note: str | None = None
    actor: str | None = None

    def __post_init__(self) -> None:
        _require_aware(self.reported_at, "reported_at")
        object.__setattr__(self, "source", _feedback_source(self.source))


@dataclass(frozen=True)
class FeedbackResult:
    """The outcome of one feedback item.

    ``matched`` says whether the transaction is known yet (its label is kept either way);
    ``label`` is set only when it is and the item changed what was stored, so that a repeat
    is not counted twice by the online features.
    """

    transaction_id: str
    matched: bool
    label: LabelEvent | None


def _feedback_source(value: str) -> LabelSource:
    """Imports are file loads, not feedback: they are refused here so they keep their meaning."""
    if value in FEEDBACK_SOURCES:
        return LabelSource(value)
    allowed = ", ".join(sorted(s.value for s in FEEDBACK_SOURCES))
    raise CaseInputError(f'source: must be one of {allowed}, not "{value}"', field="source")


def _require_aware(value: datetime | None, name: str) -> None:
    """Naive times are ambiguous across time zones, and the store refuses them as a bug."""
    if value is not None and value.utcoffset() is None:
        raise CaseInputError(f"{name}: needs a time zone, got {value.isoformat()}", field=name)
