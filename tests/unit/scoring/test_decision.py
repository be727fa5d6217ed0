"""Decisions: rules can only make things stricter; the model decides at its thresholds."""

from txguard.domain.enums import Decision, RuleAction
from txguard.domain.rules import RuleHit
from txguard.models.thresholds import Thresholds
from txguard.scoring.decision import decide, explanation, risk_score

T = Thresholds(review=0.3, block=0.8)


def _hit(action: RuleAction, weight: float = 30.0) -> RuleHit:
    return RuleHit("r", 1, action, weight, "because")


def test_thresholds_decide_when_no_rule_fires():
    assert decide(0.1, T, []) is Decision.APPROVE
    assert decide(0.3, T, []) is Decision.REVIEW
    assert decide(0.85, T, []) is Decision.BLOCK


def test_rules_make_a_decision_stricter_never_softer():
    assert decide(0.1, T, [_hit(RuleAction.REVIEW)]) is Decision.REVIEW
    assert decide(0.1, T, [_hit(RuleAction.BLOCK)]) is Decision.BLOCK
    assert decide(0.9, T, [_hit(RuleAction.FLAG)]) is Decision.BLOCK
    assert decide(None, None, [_hit(RuleAction.FLAG)]) is Decision.APPROVE


def test_risk_score_adds_rule_weights_and_stays_within_0_100():
    assert risk_score(0.123, []) == 12
    assert risk_score(0.5, [_hit(RuleAction.FLAG, 30)]) == 80
    assert risk_score(0.9, [_hit(RuleAction.REVIEW, 40)]) == 100
    assert risk_score(None, []) == 0


def test_a_degraded_explanation_says_why_and_still_lists_rules():
    text = explanation(Decision.REVIEW, None, None, [_hit(RuleAction.REVIEW)], None, "no model")
    assert text["degraded_reason"] == "no model"
    assert text["rule_hits"][0]["action"] == "review"
    assert text["risk_factors"] == ["because"]
    assert text["confidence"] == "low"
