"""Train, replay and measure: what a policy would have done on a past period, in money.

The model is trained on the training window with batch features, then the whole history
up to the end of the test period is replayed through the online pipeline with labels
arriving late, and the test days are measured as SIMULATOR.md defines it. Beside the
model, the same replay says what the rules alone and the anomaly score alone would have
achieved, so a bank without labels knows what it gets.
"""

import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from txguard.domain.errors import InputError
from txguard.features.definitions import FeatureConfig
from txguard.features.online import OnlineFeatures
from txguard.features.state import MemoryStore
from txguard.models.evaluation import Metrics, evaluate, policy_outcome
from txguard.models.training import TrainingOptions
from txguard.rules import RuleSet
from txguard.scoring.history import History
from txguard.scoring.pipeline import ScoringPipeline
from txguard.scoring.replay import replay
from txguard.scoring.trainer import train


@dataclass(frozen=True)
class BacktestPlan:
    """The periods and the money assumptions of one backtest."""

    train_start: date
    train_end: date
    test_start: date
    test_end: date
    label_delay_days: float = 7.0
    review_cost: float = 5.0
    fraud_loss_share: float = 1.0
    top_k: int = 100
    options: TrainingOptions = field(default_factory=TrainingOptions)

    def check(self) -> None:
        """Refuse periods that would measure the model on what it was trained on."""
        if self.train_end < self.train_start:
            raise InputError(f"--train-end {self.train_end} is before --train-start")
        if self.test_end < self.test_start:
            raise InputError(f"--test-end {self.test_end} is before --test-start")
        if self.test_start <= self.train_end:
            raise InputError(
                f"--test-start {self.test_start} must come after --train-end {self.train_end}"
            )


def backtest(history: History, plan: BacktestPlan, rules: RuleSet) -> dict[str, Any]:
    """The figures of the model, the rules alone and the anomaly score alone."""
    plan.check()
    history.require_rows(plan.test_start, plan.test_end, "the test period")
    started = time.perf_counter()
    bundle = train(
        history,
        plan.train_start,
        plan.train_end,
        label_delay_days=plan.label_delay_days,
        options=plan.options,
    )
    trained = time.perf_counter()
    config = FeatureConfig(label_delay=timedelta(days=plan.label_delay_days))
    pipeline = ScoringPipeline(OnlineFeatures(MemoryStore(), config), rules, bundle)
    scored = replay(history, pipeline, plan.test_start, plan.test_end)
    replayed = time.perf_counter()
    anomaly_threshold = float(bundle.metrics.get("anomaly_review_threshold", np.inf))
    variants: dict[str, tuple[Any, Any]] = {
        "model": (scored["fraud_probability"], scored["decision"]),
        "rules_only": (scored["rules_score"], scored["rules_decision"]),
        "anomaly_only": (
            scored["anomaly_score"],
            np.where(scored["anomaly_score"] >= anomaly_threshold, "review", "approve"),
        ),
    }
    days = (plan.test_end - plan.test_start).days + 1
    report: dict[str, Any] = {
        "model_version": bundle.version,
        "periods": {
            "train": [plan.train_start.isoformat(), plan.train_end.isoformat()],
            "test": [plan.test_start.isoformat(), plan.test_end.isoformat()],
            "label_delay_days": plan.label_delay_days,
        },
        "thresholds": bundle.thresholds.to_dict(),
        "validation": bundle.metrics,
        "notes": list(history.missing),
    }
    for name, (score, decision) in variants.items():
        report[name] = _measure(history, scored, score, decision, plan, days)
    report["timing_seconds"] = {
        "train": round(trained - started, 2),
        "replay": round(replayed - trained, 2),
        "transactions_replayed": int(len(history.frame)),
    }
    return report


def _measure(
    history: History,
    scored: pd.DataFrame,
    score: "pd.Series[float] | np.ndarray",
    decision: "pd.Series[str] | np.ndarray",
    plan: BacktestPlan,
    days: int,
) -> dict[str, Any]:
    frame = scored.assign(score=np.asarray(score, dtype=np.float64), decision=decision)
    if frame["score"].isna().all():
        return {"available": False, "reason": "no score of this kind"}
    result: dict[str, Any] = {"available": True}
    if history.has_labels:
        result["metrics"] = _evaluate(history, frame, plan, known_after_days=0).to_dict()
        handbook = _evaluate(history, frame, plan, known_after_days=round(plan.label_delay_days))
        result["metrics_handbook_rule"] = {
            name: getattr(handbook, name)
            for name in ("auc_roc", "average_precision", "card_precision_at_k", "transactions")
        }
        policy = policy_outcome(
            frame, review_cost=plan.review_cost, fraud_loss_share=plan.fraud_loss_share, days=days
        )
        result["policy"] = policy.to_dict()
    return result


def _evaluate(
    history: History, frame: pd.DataFrame, plan: BacktestPlan, *, known_after_days: int
) -> Metrics:
    """SIMULATOR.md's metrics; ``known_after_days`` picks which cards count as blocked."""
    return evaluate(
        frame,
        history.frame,
        test_start=plan.test_start,
        test_end=plan.test_end,
        first_train_day=plan.train_start,
        top_k=plan.top_k,
        known_after_days=known_after_days,
    )
