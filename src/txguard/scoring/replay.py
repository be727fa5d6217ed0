"""Replay a history through the online pipeline, as if it were happening again.

Every transaction goes through the online features in time order, and each label becomes
known ``label_delay`` after its transaction, as chargebacks do. Transactions before the
scoring window only build up state; those inside it are scored by the same pipeline the API
uses, in batches so the model is called once per batch.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from txguard.domain.transactions import EPOCH, Transaction
from txguard.features.online import FeatureInput, delay_ms
from txguard.features.replay import DelayedLabels, feature_inputs
from txguard.scoring.decision import DecisionResult, decide, risk_score
from txguard.scoring.history import History, day_bounds_ms
from txguard.scoring.pipeline import ScoringPipeline

BATCH = 2048
OUTPUT_COLUMNS = ("transaction_id", "fraud_probability", "risk_score", "decision")


@dataclass(frozen=True)
class _Row:
    tx: Transaction
    fraud: bool


def replay(
    history: History, pipeline: ScoringPipeline, score_start: date, score_end: date
) -> pd.DataFrame:
    """Scores of the transactions in ``score_start``..``score_end`` (inclusive days, UTC).

    The frame has ``OUTPUT_COLUMNS`` plus, for the metrics, ``anomaly_score``, what the
    rules alone would have said (``rules_score``, ``rules_decision``), ``time_ms``, ``card``,
    ``amount`` and ``is_fraud``.
    """
    part, results = replay_decisions(history, pipeline, score_start, score_end)
    return _scored_frame(part, results)


def replay_decisions(
    history: History,
    pipeline: ScoringPipeline,
    score_start: date,
    score_end: date,
    *,
    explain: bool | None = False,
) -> tuple[pd.DataFrame, list[DecisionResult]]:
    """The scoring window's rows and their full decisions (explained if asked)."""
    engine = pipeline.features
    engine.store.clear()
    labels = DelayedLabels(delay_ms(engine.config))
    lo, hi = day_bounds_ms(score_start, score_end)
    frame = history.frame
    times = frame["time_ms"].to_numpy()
    warm = int(np.searchsorted(times, lo, side="left"))
    stop = int(np.searchsorted(times, hi, side="left"))
    for tx, fraud in feature_inputs(frame.iloc[:warm]):
        labels.release(tx.time_ms, engine)
        engine.process(tx)
        labels.add(tx.transaction_id, tx.terminal, tx.time_ms, fraud)
    results: list[DecisionResult] = []
    rows = list(transactions(history, warm, stop))
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        results += pipeline.score_many(
            [r.tx for r in batch],
            explain=explain,
            before_each=lambda tx: labels.release(tx.time_ms, engine),
        )
        for r in batch:
            labels.add(r.tx.transaction_id, r.tx.terminal_id, r.tx.time_ms, r.fraud)
    return frame.iloc[warm:stop], results


def feature_input(tx: Transaction) -> FeatureInput:
    """What the features read of a transaction."""
    return FeatureInput(tx.transaction_id, tx.time_ms, tx.amount, tx.card_token, tx.terminal_id)


def transactions(history: History, start: int, stop: int) -> Iterator[_Row]:
    """Rows ``start:stop`` of the history as transactions, with whether each is a fraud."""
    part = history.frame.iloc[start:stop]
    fraud = (part["is_fraud"].to_numpy(dtype=np.float64, na_value=np.nan) == 1).tolist()
    extras = [part[name].tolist() for name in history.extras]
    columns = zip(
        part["transaction_id"].tolist(),
        part["time_ms"].tolist(),
        part["amount"].tolist(),
        _nullable(part["card"]),
        _nullable(part["terminal"]),
        strict=True,
    )
    for i, (transaction_id, time_ms, amount, card, terminal) in enumerate(columns):
        tx = Transaction(
            transaction_id,
            EPOCH + timedelta(milliseconds=time_ms),
            amount,
            card_token=card,
            terminal_id=terminal,
            extras={n: v[i] for n, v in zip(history.extras, extras, strict=True)},
        )
        yield _Row(tx, fraud[i])


def _nullable(column: "pd.Series[str]") -> list[str | None]:
    return [None if pd.isna(v) else str(v) for v in column.tolist()]


def _scored_frame(part: pd.DataFrame, results: list[DecisionResult]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "transaction_id": part["transaction_id"].to_numpy(),
            "fraud_probability": [r.fraud_probability for r in results],
            "risk_score": [r.risk_score for r in results],
            "decision": [r.decision.value for r in results],
            "anomaly_score": [r.anomaly_score for r in results],
            "rules_score": [risk_score(None, r.rule_hits) for r in results],
            "rules_decision": [decide(None, None, r.rule_hits).value for r in results],
            "time_ms": part["time_ms"].to_numpy(),
            "card": part["card"].to_numpy(),
            "amount": part["amount"].to_numpy(),
            "is_fraud": part["is_fraud"].to_numpy(dtype=np.float64, na_value=np.nan),
        }
    )
