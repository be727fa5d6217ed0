"""Authorisation-time scoring as a service: once per transaction id, stored before answering.

The pipeline decides; this service makes the decision a payment switch can rely on:

- **Final per transaction id.** Payment networks retry. A retry is answered with the stored
  decision and never reaches the features again, so a card's velocity is not counted twice.
  Recent decisions are answered from memory, older ones from the database; a retry that
  arrives while the first attempt is still being scored waits for that attempt.
- **Stored before answered.** The decision is committed before the response leaves, so
  every decision a switch acted on is in the alert queue and the audit.
- **One thread decides.** Concurrent requests are handed to one deciding thread together,
  which looks their ids up, scores them with one model call and stores them with one
  write: one crossing between the event loop and a thread per batch, not three per
  request, and the feature state is only ever touched from that thread.
- **Hot-swappable.** The model version and the rules are re-read from the shared pointer in
  the database every few seconds; a request keeps the pipeline it started with, so it ends
  on the version it began on.
"""

import asyncio
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
import pybreaker
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import InterfaceError, OperationalError
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from txguard.domain.enums import CaseStatus, Decision
from txguard.domain.transactions import Transaction, epoch_ms
from txguard.features.definitions import FEATURE_NAMES
from txguard.features.online import FeatureInput, OnlineFeatures
from txguard.features.state import StateStore
from txguard.registry.service import active_version, load_active
from txguard.scoring.batcher import Batcher
from txguard.scoring.decision import DecisionResult, explanation
from txguard.scoring.pipeline import ScoringPipeline
from txguard.scoring.rulebook import load_rule_set
from txguard.store import history
from txguard.store.decisions import DecisionStatements
from txguard.store.exceptions import StorageUnavailable
from txguard.store.orm import ListEntryRow, RuleRow, WatchListRow

logger = logging.getLogger(__name__)
RECENT_DECISIONS = 100_000
_TRANSIENT = (OperationalError, InterfaceError, StorageUnavailable)
ATTEMPTS = 3  # database calls per lookup or write before the error reaches the caller
FIRST_WAIT_S = 0.02  # before the second attempt; doubled before each later one
MAX_WAIT_S = 0.2
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Lookup:
    """What the database knows of a transaction id before it is scored."""

    stored: dict[str, Any] | None
    label: bool | None


@dataclass(frozen=True, slots=True)
class Decide:
    """A transaction to decide; ``explain`` as in ``ScoringPipeline.score``."""

    tx: Transaction
    explain: bool | None


@dataclass(frozen=True, slots=True)
class Label:
    """A label that became known, for the terminal risk features."""

    tx: Transaction
    fraud: bool


Job = Decide | Label


@dataclass(frozen=True)
class Revision:
    """What the serving pipeline was built from; a change means a rebuild."""

    model_version: str | None
    rules: tuple[int, int, int, int, int]


class ScoringService:
    """One per process: the current pipeline, the decision store and the retry memory."""

    def __init__(
        self,
        engine: Engine,
        features: OnlineFeatures,
        *,
        source: str = "api",
        fail_max: int = 3,
        reset_timeout_s: float = 5.0,
    ) -> None:
        self.engine = engine
        self.statements = DecisionStatements(engine)
        self.database = pybreaker.CircuitBreaker(
            fail_max=fail_max,
            reset_timeout=reset_timeout_s,
            exclude=[lambda exc: not isinstance(exc, _TRANSIENT)],
            name="database",
        )
        self.features = features
        self.source = source
        self._revision: Revision | None = None
        self._refresh_lock = threading.Lock()
        self.pipeline = ScoringPipeline(features, load_rule_set(engine))
        self._recent: OrderedDict[str, bytes] = OrderedDict()
        """Recent decisions as JSON: bytes are no work for the garbage collector, where 100,000
        documents of nested dicts would add half a million objects to every full collection."""
        self._in_flight: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._lookup_guarded = self._guarded(self._lookup)
        self._write_guarded = self._guarded(self._write)
        self.decider: Batcher[Job, dict[str, Any] | Exception | None] = Batcher(
            "decider", self._run_jobs
        )
        self._retries = 0  # answered on the event loop: from memory, or the attempt in flight
        self._found_stored = 0  # answered by the deciding thread: stored earlier or elsewhere
        self.refresh()

    @property
    def duplicates(self) -> int:
        """Requests for an id already decided, answered with the stored decision."""
        return self._retries + self._found_stored

    def start(self) -> None:
        """Start the deciding thread."""
        self.decider.start()

    def stop(self) -> None:
        """Decide and store what is queued, then stop."""
        self.decider.stop()
        self.statements.close()

    def refresh(self) -> bool:
        """Rebuild the pipeline if the active model or the rules changed; True if rebuilt."""
        with self._refresh_lock:
            revision = Revision(active_version(self.engine), _rules_revision(self.engine))
            if revision == self._revision:
                return False
            active = load_active(self.engine)
            rules = load_rule_set(self.engine, extra_numeric=model_extras(active.bundle))
            self.pipeline = ScoringPipeline(
                self.features, rules, active.bundle, degraded_reason=active.problem
            )
            changed = self._revision is not None
            self._revision = revision
        if changed:
            logger.info("scoring pipeline rebuilt: model %s", revision.model_version)
        return True

    async def predict(self, tx: Transaction, *, explain: bool | None = None) -> dict[str, Any]:
        """The decision for ``tx``: stored and final, whichever attempt of it this is."""
        known = self._recent.get(tx.transaction_id)
        if known is not None:
            self._retries += 1
            return orjson.loads(known)  # type: ignore[no-any-return]
        waiting = self._in_flight.get(tx.transaction_id)
        if waiting is not None:
            self._retries += 1
            return await asyncio.shield(waiting)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._in_flight[tx.transaction_id] = future
        try:
            document = await self._decide(tx, explain)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so an unawaited future logs nothing
            raise
        finally:
            del self._in_flight[tx.transaction_id]
        future.set_result(document)
        self._remember(tx.transaction_id, document)
        return document

    async def predict_many(
        self, txs: Sequence[Transaction], *, explain: bool | None = None
    ) -> list[dict[str, Any]]:
        """Decisions for a batch in order: one lookup, one model call and one write for all.

        Retries inside the batch, or of ids decided earlier, get the stored decision.
        """
        loop = asyncio.get_running_loop()
        results: list[dict[str, Any] | None] = [None] * len(txs)
        waits: dict[int, asyncio.Future[dict[str, Any]]] = {}
        first: dict[str, int] = {}
        fresh: list[int] = []
        for i, tx in enumerate(txs):
            tid = tx.transaction_id
            known = self._recent.get(tid)
            if known is not None:
                results[i] = orjson.loads(known)
            elif tid in self._in_flight:
                waits[i] = self._in_flight[tid]
            elif tid not in first:
                first[tid] = i
                fresh.append(i)
                self._in_flight[tid] = loop.create_future()
        try:
            await self._decide_batch(txs, fresh, results, explain)
        except BaseException as exc:
            self._settle([txs[i].transaction_id for i in fresh], results, fresh, exc)
            raise
        self._settle([txs[i].transaction_id for i in fresh], results, fresh, None)
        for i, waiting in waits.items():
            results[i] = await asyncio.shield(waiting)
        for i, tx in enumerate(txs):
            if results[i] is None:
                results[i] = results[first[tx.transaction_id]]
        self._retries += len(txs) - len(fresh)
        return [r for r in results if r is not None]

    def _settle(
        self,
        ids: list[str],
        results: list[dict[str, Any] | None],
        indexes: list[int],
        error: BaseException | None,
    ) -> None:
        for tid, i in zip(ids, indexes, strict=True):
            future = self._in_flight.pop(tid)
            document = results[i]
            if error is not None or document is None:
                future.set_exception(error or RuntimeError("not decided"))
                future.exception()
                continue
            future.set_result(document)
            self._remember(tid, document)

    async def _decide_batch(
        self,
        txs: Sequence[Transaction],
        fresh: list[int],
        results: list[dict[str, Any] | None],
        explain: bool | None,
    ) -> None:
        documents = await self.decider.submit_many([Decide(txs[i], explain) for i in fresh])
        for i, document in zip(fresh, documents, strict=True):
            results[i] = document if isinstance(document, dict) else None

    def rebuild_features(self, store: StateStore | None = None) -> int:
        """Replay the stored history into the feature state; how many transactions it read.

        For a process whose feature state lives in its own memory: after a restart the cards
        and terminals it serves must not look new. Labels count as in training, from the
        label delay after each transaction. ``store`` (default: this service's own) is where
        the state goes; a shared store is seeded through memory (``scoring.seeding``).
        """
        features = self.features if store is None else self.features.on(store)
        latest = history.latest_transaction_time(self.engine)
        if latest is None:
            return 0
        since = history.window_start(latest, features.memory_ms)
        count = 0
        for tid, occurred_at, amount, card, terminal in history.transactions_since(
            self.engine, since
        ):
            features.process(FeatureInput(tid, epoch_ms(occurred_at), amount, card, terminal))
            count += 1
        for tid, occurred_at, terminal in history.frauds_since(self.engine, since):
            features.add_label(tid, terminal, epoch_ms(occurred_at), True)
        logger.info("feature state rebuilt from %d stored transactions since %s", count, since)
        return count

    def apply_label(
        self, transaction_id: str, terminal_id: str | None, occurred_at: datetime, fraud: bool
    ) -> None:
        """A label that became known: the terminal risk features use it after the delay."""
        tx = Transaction(transaction_id, occurred_at, 0.0, terminal_id=terminal_id)
        if not self.decider.offer(Label(tx, fraud)):
            logger.warning("label of %s not applied to the features: queue full", transaction_id)

    async def _decide(self, tx: Transaction, explain: bool | None) -> dict[str, Any]:
        document = await self.decider.submit(Decide(tx, explain))
        if not isinstance(document, dict):  # a failure is raised by the batcher, never returned
            raise RuntimeError("the deciding thread returned no decision")
        return document

    def _run_jobs(self, jobs: Sequence["Job"]) -> list[dict[str, Any] | Exception | None]:
        """The deciding thread: transactions and labels in the order they came.

        Only this thread touches the feature state while serving, so a card's transactions
        are counted in arrival order and no lock is needed. Consecutive transactions are
        decided together: one lookup, one model call, one write.
        """
        out: list[dict[str, Any] | Exception | None] = []
        run: list[Decide] = []
        for job in jobs:
            if isinstance(job, Decide):
                run.append(job)
                continue
            if run:
                out += self._decide_or_fail(run)
                run = []
            self.pipeline.add_label(job.tx, job.fraud)
            out.append(None)
        if run:
            out += self._decide_or_fail(run)
        return out

    def _decide_or_fail(self, jobs: Sequence["Decide"]) -> list[dict[str, Any] | Exception]:
        """A failure fails these transactions only: the labels and transactions queued after
        them in the same hand-over are still applied and decided."""
        try:
            return list(self._decide_now(jobs))
        except Exception as exc:
            logger.warning("%d transactions could not be decided: %s", len(jobs), exc)
            return [exc] * len(jobs)

    def _decide_now(self, jobs: Sequence["Decide"]) -> list[dict[str, Any]]:
        """Decisions for distinct new ids: the stored one if the database has it, else scored,
        stored, and answered (the one stored first, if another process won the race)."""
        found = self._lookup_guarded([job.tx.transaction_id for job in jobs])
        documents: list[dict[str, Any] | None] = [lookup.stored for lookup in found]
        todo = [i for i, lookup in enumerate(found) if lookup.stored is None]
        self._found_stored += len(jobs) - len(todo)
        pipeline = self.pipeline
        txs = [jobs[i].tx for i in todo]
        scored = pipeline.score_many(txs, explain=[jobs[i].explain for i in todo])
        rows = []
        for i, tx, result in zip(todo, txs, scored, strict=True):
            document = response_document(pipeline, result)
            documents[i] = document
            rows.append(self.row(tx, result, document))
            label = found[i].label
            if label is not None:
                pipeline.add_label(tx, label)
        conflicts = self._write_guarded(rows) if rows else []
        lost = [i for i, conflict in zip(todo, conflicts, strict=True) if conflict]
        if lost:  # another process stored these ids first: its decisions are the final ones
            self._found_stored += len(lost)
            again = self._lookup_guarded([jobs[i].tx.transaction_id for i in lost])
            for i, lookup in zip(lost, again, strict=True):
                documents[i] = lookup.stored or documents[i]
        return [document for document in documents if document is not None]

    def _remember(self, transaction_id: str, document: dict[str, Any]) -> None:
        self._recent[transaction_id] = orjson.dumps(document)
        if len(self._recent) > RECENT_DECISIONS:
            self._recent.popitem(last=False)

    def row(
        self, tx: Transaction, result: DecisionResult, document: dict[str, Any]
    ) -> dict[str, Any]:
        """The ``card_transaction`` row of a scored transaction."""
        flagged = result.decision is not Decision.APPROVE
        return {
            "transaction_id": tx.transaction_id,
            "occurred_at": tx.occurred_at,
            "amount": tx.amount,
            "currency": tx.currency,
            "card_token": tx.card_token,
            "terminal_id": tx.terminal_id,
            "merchant_category": tx.merchant_category,
            "country": tx.country,
            "channel": tx.channel,
            "features": dict(tx.extras) or None,
            "source": self.source,
            "decision": result.decision,
            "status": CaseStatus.NEW if flagged else None,
            "fraud_probability": _finite(result.fraud_probability),
            "anomaly_score": _finite(result.anomaly_score),
            "risk_score": result.risk_score,
            "reasons": [hit.name for hit in result.rule_hits] or None,
            "explanation": document["explanation"],
            "model_version": result.model_version,
            "processing_time_ms": result.processing_time_ms,
            "degraded": result.degraded,
            "scored_at": datetime.now(UTC),
        }

    def _guarded(
        self, handle: Callable[[Sequence[T]], list[R]]
    ) -> Callable[[Sequence[T]], list[R]]:
        """``handle`` retried on transient database errors, behind the database's breaker.

        Both batch operations are idempotent (a lookup; an insert that ignores ids already
        stored), so a retry cannot store a decision twice. While the database keeps failing
        the breaker answers at once, and the API turns that into a 503 the switch can act on
        instead of holding the authorisation for a connect timeout.
        """
        retrying = retry(
            stop=stop_after_attempt(ATTEMPTS - 1),
            wait=wait_exponential(multiplier=2 * FIRST_WAIT_S, max=MAX_WAIT_S),
            retry=retry_if_exception_type(_TRANSIENT),
            reraise=True,
        )(handle)

        def attempts(items: Sequence[T]) -> list[R]:
            # The first attempt is a plain call: the retry machinery costs more than a
            # lookup, and this runs twice a batch. Only a failure pays for it.
            try:
                return handle(items)
            except _TRANSIENT:
                time.sleep(FIRST_WAIT_S)
            return retrying(items)

        def guarded(items: Sequence[T]) -> list[R]:
            result: list[R] = self.database.call(attempts, items)
            return result

        return guarded

    def _lookup(self, ids: Sequence[str]) -> list[Lookup]:
        stored, labels = self.statements.lookup(ids)
        return [Lookup(stored.get(i), labels.get(i)) for i in ids]

    def _write(self, rows: Sequence[dict[str, Any]]) -> list[bool]:
        unique: dict[str, dict[str, Any]] = {}
        for row in rows:
            unique.setdefault(row["transaction_id"], row)
        existed = self.statements.insert(list(unique.values()))
        seen: set[str] = set()
        conflicts = []
        for row in rows:
            tid = row["transaction_id"]
            conflicts.append(tid in existed or tid in seen)
            seen.add(tid)
        return conflicts


def response_document(pipeline: ScoringPipeline, result: DecisionResult) -> dict[str, Any]:
    """The decision output; an approval gets the short explanation (no TreeSHAP) for speed."""
    if result.explanation is None:
        bundle = pipeline.bundle
        score = result.fraud_probability
        if score is None:
            score = result.anomaly_score
        result.explanation = explanation(
            result.decision,
            score,
            bundle.thresholds if bundle is not None else None,
            result.rule_hits,
            None,
            result.degraded_reason,
        )
    return result.to_dict()


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def model_extras(bundle: Any) -> tuple[str, ...]:
    """The pass-through inputs of a model (``V1``..``V28``), which rules may read too."""
    if bundle is None:
        return ()
    known = set(FEATURE_NAMES)
    return tuple(name for name in bundle.feature_names if name not in known)


def _rules_revision(engine: Engine) -> tuple[int, int, int, int, int]:
    """A fingerprint of the rules and lists that changes with any edit, in one round trip."""
    statement = select(
        select(func.coalesce(func.max(RuleRow.id), 0)).scalar_subquery(),
        select(func.count(WatchListRow.id)).scalar_subquery(),
        select(func.coalesce(func.max(WatchListRow.id), 0)).scalar_subquery(),
        select(func.count(ListEntryRow.id)).scalar_subquery(),
        select(func.coalesce(func.max(ListEntryRow.id), 0)).scalar_subquery(),
    )
    with engine.connect() as connection:
        row = connection.execute(statement).one()
    return (int(row[0]), int(row[1]), int(row[2]), int(row[3]), int(row[4]))
