"""From scores and rule hits to the decision a payment switch acts on, and its explanation.

One function decides for every entry point, so the HTTP API, the stream worker and a
replay can never disagree about the same transaction.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from txguard.domain.enums import Decision, RuleAction
from txguard.domain.rules import RuleHit
from txguard.models.explain import Contribution, confidence
from txguard.models.thresholds import Thresholds


@dataclass(slots=True)
class DecisionResult:
    """What txguard answers for one transaction (DESIGN.md "Decision output")."""

    transaction_id: str
    decision: Decision
    risk_score: int
    fraud_probability: float | None
    anomaly_score: float | None
    model_version: str | None
    degraded: bool
    rule_hits: list[RuleHit] = field(default_factory=list)
    explanation: dict[str, Any] | None = None
    processing_time_ms: float = 0.0
    degraded_reason: str | None = None

    @property
    def is_fraud(self) -> bool:
        """True when the transaction should not go through unchecked."""
        return self.decision is not Decision.APPROVE

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in the field names of the decision output."""
        return {
            "transaction_id": self.transaction_id,
            "is_fraud": self.is_fraud,
            "fraud_probability": self.fraud_probability,
            "anomaly_score": self.anomaly_score,
            "risk_score": self.risk_score,
            "decision": self.decision.value,
            "model_version": self.model_version,
            "processing_time_ms": self.processing_time_ms,
            "degraded": self.degraded,
            "explanation": self.explanation,
        }


def decide(score: float | None, thresholds: Thresholds | None, hits: Sequence[RuleHit]) -> Decision:
    """Rules can only make a decision stricter; the model decides on its own thresholds."""
    actions = {hit.action for hit in hits} if hits else ()
    if RuleAction.BLOCK in actions or _reaches(score, thresholds, "block"):
        return Decision.BLOCK
    if RuleAction.REVIEW in actions or _reaches(score, thresholds, "review"):
        return Decision.REVIEW
    return Decision.APPROVE


def _reaches(score: float | None, thresholds: Thresholds | None, level: str) -> bool:
    if score is None or thresholds is None:
        return False
    limit: float = getattr(thresholds, level)
    return score >= limit


def risk_score(score: float | None, hits: Sequence[RuleHit]) -> int:
    """0-100: the model's score in percent plus the weights of the rules that hit."""
    base = 100.0 * score if score is not None else 0.0
    return int(min(100.0, round(base + sum(hit.weight for hit in hits))))


_RECOMMENDATIONS = {
    Decision.APPROVE: "Approve: nothing in this payment calls for a review.",
    Decision.REVIEW: "Hold for review: contact the cardholder before releasing the payment.",
    Decision.BLOCK: "Decline and block the card until the cardholder confirms.",
}


def explanation(
    decision: Decision,
    score: float | None,
    thresholds: Thresholds | None,
    hits: Sequence[RuleHit],
    factors: tuple[list[Contribution], list[Contribution]] | None,
    degraded_reason: str | None,
) -> dict[str, Any]:
    """The analyst's view: risk and protective factors in words, rules, confidence, advice."""
    risk, protective = factors if factors is not None else ([], [])
    sure = confidence(score) if score is not None else "low"
    return {
        "risk_factors": [c.text for c in risk] + [hit.reason for hit in hits],
        "protective_factors": [c.text for c in protective],
        "rule_hits": [
            {"name": h.name, "version": h.version, "action": h.action.value, "reason": h.reason}
            for h in hits
        ],
        "top_contributions": [c.to_dict() for c in risk + protective],
        "confidence": sure,
        "thresholds": None
        if thresholds is None
        else {"review": thresholds.review, "block": thresholds.block},
        "recommendation": _RECOMMENDATIONS[decision],
        "degraded_reason": degraded_reason,
    }
