"""The one scoring pipeline: validate, features, rules, models, decide (DESIGN.md "data flow").

The HTTP API, the stream worker and ``txguard replay`` all call this object. ``score``
handles one transaction at authorisation time; ``score_many`` handles a batch in order,
updating the feature state one transaction at a time (so every transaction sees exactly
the history before it) but calling the models once for the batch, which is what makes a
replay of millions of transactions fast.

Without a usable model the pipeline keeps scoring with rules alone and says so
(``degraded``), because declining every payment, or approving every one, is worse. For the
same reason an unreachable feature store degrades the transactions it affects instead of
failing them: they are scored on what needs no state, and say so one by one.
"""

import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from txguard.domain.rules import RuleHit
from txguard.domain.transactions import Transaction
from txguard.features.definitions import FEATURE_NAMES
from txguard.features.online import FeatureInput, OnlineFeatures
from txguard.featurestore.redis_store import FeatureStoreUnavailable
from txguard.models.artifact import ModelBundle
from txguard.models.explain import top_contributions
from txguard.rules import RuleSet
from txguard.scoring.decision import DecisionResult, decide, explanation, risk_score

_INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}
Explain = bool | None | Sequence[bool | None]
"""Whether to explain with TreeSHAP: yes, no, only flagged ones (None), or per transaction."""
ROW_BY_ROW = 16
"""Up to this many, the single-row predictors beat one batched call: a numpy call to
LightGBM and to the isolation forest costs about 0.4 ms before its first row, a row alone
about 0.04 ms."""
NO_MODEL = "no model is active: decisions use the rules only"
NO_STATE = "feature store unavailable: {}; behavioural features missing"


@dataclass(slots=True)
class _Scored:
    """A transaction's features and rule hits, waiting for the model's scores."""

    tx: Transaction
    values: list[float]
    hits: list[RuleHit]
    started: float
    degraded_reason: str | None = None
    """Why this transaction's features are incomplete, if they are."""


class ScoringPipeline:
    """Features, rules and the active model version, wired once and called per transaction."""

    def __init__(
        self,
        features: OnlineFeatures,
        rules: RuleSet,
        bundle: ModelBundle | None = None,
        *,
        degraded_reason: str | None = None,
    ) -> None:
        self.features = features
        self.rules = rules
        self.bundle = bundle
        self.degraded_reason = degraded_reason or (NO_MODEL if bundle is None else None)
        self._columns = _columns(bundle)
        self.lost_records = 0
        """Transactions scored but missing from the feature state (the store was down)."""
        self.lost_labels = 0
        """Fraud labels the feature state never got (the store was down)."""
        self._lost_lock = threading.Lock()

    @property
    def degraded(self) -> bool:
        """True when every decision is made with less than the full pipeline (no model).

        A transaction can also be degraded alone, when the feature store failed for it:
        ``DecisionResult.degraded`` says which.
        """
        return self.degraded_reason is not None

    def score(self, tx: Transaction, *, explain: bool | None = None) -> DecisionResult:
        """One transaction, now: the authorisation-time path, with no batch machinery.

        Gives exactly what ``score_many`` gives for the same transaction (a test checks).
        """
        return self._finish_one(self._prepare(tx), explain)

    def _finish_one(self, item: _Scored, explain: bool | None) -> DecisionResult:
        """One row through the models' single-row predictors: no numpy per-call overhead."""
        row = np.array(self._row(item), dtype=np.float64)
        bundle = self.bundle
        probability = anomaly = None
        if bundle is not None:
            if bundle.fraud is not None:
                probability = bundle.fraud.probability_one(row)
            if bundle.anomaly is not None:
                anomaly = bundle.anomaly.score_one(row)
        return self._finish([item], [probability], [anomaly], row.reshape(1, -1), [explain])[0]

    def _row(self, item: _Scored) -> list[float]:
        names, extras = self._columns
        values = item.values
        row = [values[i] for i in names]
        if extras:
            row += [item.tx.extras.get(n, math.nan) for n in extras]
        return row

    def score_many(
        self,
        batch: Sequence[Transaction],
        *,
        explain: Explain = None,
        before_each: Callable[[Transaction], None] | None = None,
    ) -> list[DecisionResult]:
        """A batch in time order; ``explain`` None explains only reviews and blocks.

        ``explain`` is one choice for the batch or one per transaction. ``before_each`` runs
        before each transaction's features (a replay releases the labels that have become
        known by then).
        """
        if before_each is None and len(batch) > 1 and self.features.shared:
            pending = self._prepare_staged(batch)
        else:
            pending = []
            for tx in batch:
                if before_each is not None:
                    before_each(tx)
                pending.append(self._prepare(tx))
        wanted = _per_item(explain, len(pending))
        if len(pending) <= ROW_BY_ROW:
            return [
                self._finish_one(item, want) for item, want in zip(pending, wanted, strict=True)
            ]
        matrix = self._matrix(pending)
        probability, anomaly = self._model_scores(matrix)
        return self._finish(
            pending,
            [None] * len(pending) if probability is None else probability.tolist(),
            [None] * len(pending) if anomaly is None else anomaly.tolist(),
            matrix,
            wanted,
        )

    def add_label(self, tx: Transaction, fraud: bool) -> None:
        """A reported label; it reaches the features once it is older than the label delay.

        A store outage loses the label for the features (counted in ``lost_labels``) but
        never fails the caller: the verdict itself is kept by whoever reported it.
        """
        try:
            self.features.add_label(tx.transaction_id, tx.terminal_id, tx.time_ms, fraud)
        except FeatureStoreUnavailable:
            with self._lost_lock:
                self.lost_labels += 1

    def _prepare_staged(self, batch: Sequence[Transaction]) -> list[_Scored]:
        """A batch's features against one read and one write of the shared state.

        If the read fails, each transaction is tried on its own (the circuit breaker makes
        that quick and marks them degraded); if the write fails, the batch's records are
        counted as lost, as one transaction's would be.
        """
        try:
            stage = self.features.stage([_feature_input(tx) for tx in batch])
        except FeatureStoreUnavailable:
            return [self._prepare(tx) for tx in batch]
        with self.features.using(stage):
            pending = [self._prepare(tx) for tx in batch]
        try:
            stage.flush()
        except FeatureStoreUnavailable:
            with self._lost_lock:
                self.lost_records += len(stage.recorded)
        return pending

    def _prepare(self, tx: Transaction) -> _Scored:
        started = time.perf_counter()
        feature_input = _feature_input(tx)
        reason = None
        try:
            values, ratio = self.features.compute(feature_input)
        except FeatureStoreUnavailable as exc:
            values, _ = self.features.compute_stateless(feature_input)
            reason = NO_STATE.format(exc)
            self._lost_record()
        else:
            self._record(feature_input, ratio)
        hits = self.rules.evaluate(RuleValues(tx, values)) if self.rules.names else []
        return _Scored(tx, values, hits, started, reason)

    def _record(self, feature_input: FeatureInput, ratio: float) -> None:
        """The decision stands even if the state misses this transaction; the loss is counted."""
        try:
            self.features.record(feature_input, ratio)
        except FeatureStoreUnavailable:
            self._lost_record()

    def _lost_record(self) -> None:
        """Counts a transaction the state misses.

        Also used when the read failed: the write is not even tried then, since it would
        likely wait out a second timeout on the authorisation path, and the event's
        "unusually large" flag could not be computed without the card's history.
        """
        with self._lost_lock:
            self.lost_records += 1

    def _matrix(self, pending: list[_Scored]) -> np.ndarray:
        names, extras = self._columns
        rows = np.array([item.values for item in pending], dtype=np.float64)
        picked = rows[:, names]
        if not extras:
            return picked
        more = np.array(
            [[item.tx.extras.get(n, math.nan) for n in extras] for item in pending],
            dtype=np.float64,
        )
        return np.hstack([picked, more])

    def _model_scores(self, matrix: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        bundle = self.bundle
        if bundle is None:
            return None, None
        probability = bundle.fraud.probability(matrix) if bundle.fraud is not None else None
        anomaly = bundle.anomaly.score(matrix) if bundle.anomaly is not None else None
        return probability, anomaly

    def _finish(
        self,
        items: Sequence[_Scored],
        probability: Sequence[float | None],
        anomaly: Sequence[float | None],
        matrix: np.ndarray,
        explain: Sequence[bool | None],
    ) -> list[DecisionResult]:
        """Decisions of scored rows; the rows to explain share one TreeSHAP call."""
        results = [
            self._decided(item, p, a)
            for item, p, a in zip(items, probability, anomaly, strict=True)
        ]
        chosen = [
            i
            for i, result in enumerate(results)
            if (explain[i] if explain[i] is not None else result.is_fraud)
        ]
        if chosen:
            self._explain([results[i] for i in chosen], matrix[chosen])
        for item, result in zip(items, results, strict=True):
            result.processing_time_ms = (time.perf_counter() - item.started) * 1000.0
        return results

    def _decided(
        self, item: _Scored, probability: float | None, anomaly: float | None
    ) -> DecisionResult:
        bundle = self.bundle
        thresholds = bundle.thresholds if bundle is not None else None
        score = probability if probability is not None else anomaly
        reason = self.degraded_reason if item.degraded_reason is None else self._reasons(item)
        return DecisionResult(
            transaction_id=item.tx.transaction_id,
            decision=decide(score, thresholds, item.hits),
            risk_score=risk_score(score, item.hits),
            fraud_probability=probability,
            anomaly_score=anomaly,
            model_version=bundle.version if bundle is not None else None,
            degraded=reason is not None,
            rule_hits=item.hits,
            degraded_reason=reason,
        )

    def _explain(self, results: Sequence[DecisionResult], rows: np.ndarray) -> None:
        """The full explanation, with each row's strongest TreeSHAP contributions."""
        bundle = self.bundle
        thresholds = bundle.thresholds if bundle is not None else None
        contributions = None
        if bundle is not None and bundle.fraud is not None:
            contributions = bundle.fraud.contributions(rows)[:, :-1]
        for i, result in enumerate(results):
            factors = None
            if bundle is not None and contributions is not None:
                factors = top_contributions(
                    bundle.feature_names, rows[i].tolist(), contributions[i].tolist()
                )
            score = result.fraud_probability
            if score is None:
                score = result.anomaly_score
            result.explanation = explanation(
                result.decision, score, thresholds, result.rule_hits, factors,
                result.degraded_reason,
            )  # fmt: skip

    def _reasons(self, item: _Scored) -> str:
        """Every reason a transaction is degraded: the pipeline's, then its own."""
        return "; ".join(r for r in (self.degraded_reason, item.degraded_reason) if r is not None)


def _per_item(explain: Explain, count: int) -> list[bool | None]:
    if explain is None or isinstance(explain, bool):
        return [explain] * count
    if len(explain) != count:
        raise ValueError(f"{len(explain)} explain choices for {count} transactions")
    return list(explain)


def _columns(bundle: ModelBundle | None) -> tuple[list[int], list[str]]:
    """Where the model's inputs come from: engine features by index, then pass-through extras."""
    if bundle is None:
        return [], []
    names = [_INDEX[n] for n in bundle.feature_names if n in _INDEX]
    extras = [n for n in bundle.feature_names if n not in _INDEX]
    if list(bundle.feature_names) != [FEATURE_NAMES[i] for i in names] + extras:
        raise ValueError("a model must read the engine's features before pass-through ones")
    return names, extras


_FIELDS = {
    "transaction_id": "transaction_id",
    "amount": "amount",
    "timestamp": "occurred_at",
    "card_id": "card_token",
    "terminal_id": "terminal_id",
    "merchant_category": "merchant_category",
    "country": "country",
    "card_home_country": "card_home_country",
    "currency": "currency",
    "channel": "channel",
}


class RuleValues(Mapping[str, object]):
    """What a rule may read: the transaction's fields, every feature, the extra inputs.

    Looked up on demand: a rule set reads a handful of the ~60 names, so building a full
    dictionary per transaction would cost more than the rules themselves.
    """

    __slots__ = ("_tx", "_values")

    def __init__(self, tx: Transaction, values: list[float]) -> None:
        self._tx = tx
        self._values = values

    def __getitem__(self, name: str) -> object:
        index = _INDEX.get(name)
        if index is not None:
            return self._values[index]
        field = _FIELDS.get(name)
        if field is not None:
            return getattr(self._tx, field)
        return self._tx.extras[name]

    def __iter__(self) -> Iterator[str]:
        yield from FEATURE_NAMES
        yield from _FIELDS
        yield from self._tx.extras

    def __len__(self) -> int:
        return len(FEATURE_NAMES) + len(_FIELDS) + len(self._tx.extras)


def _feature_input(tx: Transaction) -> FeatureInput:
    return FeatureInput(tx.transaction_id, tx.time_ms, tx.amount, tx.card_token, tx.terminal_id)
