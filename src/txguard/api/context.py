"""What an API process holds for its lifetime, built once from the settings.

Routes reach it through ``request.app.state.context``; nothing is a module-level global, so
a test can run several apps (two "processes" sharing Redis) side by side.
"""

import asyncio
import contextlib
import gc
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from redis.exceptions import RedisError

from txguard.api.metrics import ApiMetrics
from txguard.domain.requests import RequestLogEntry
from txguard.features.definitions import FeatureConfig
from txguard.features.online import OnlineFeatures
from txguard.features.state import MemoryStore, StateStore
from txguard.featurestore.guarded import GuardedStore
from txguard.featurestore.redis_store import FeatureStoreUnavailable, RedisStore
from txguard.runtime import Runtime
from txguard.scoring.batcher import Batcher
from txguard.scoring.seeding import seed_if_empty
from txguard.scoring.service import ScoringService
from txguard.security.identity import IdentityService
from txguard.security.rate_limits import RateLimiter
from txguard.settings import Settings
from txguard.store.checkpoints import WalCheckpointer
from txguard.store.request_log import RequestLogWriter

logger = logging.getLogger(__name__)
REQUEST_LOG_LINGER_S = 0.05
"""Request-log entries wait this long to share one hand-over (and one INSERT) with others."""
SERVING_GC_THRESHOLDS = (50_000, 20, 100)
"""The collector's thresholds while serving. Python's default young generation (700
container objects) filled a few times per request and about 150 times per batch of 1,000,
and each older collection walks everything allocated since start-up; scoring makes few
reference cycles, so collecting less often frees the same memory a little later. Measured
against the defaults (bench/RESULTS.md, 2026-12-02 evening): 4-8 % more requests per
CPU-second on one worker, and a batch of 1,000 about 20 ms faster."""


@dataclass
class ApiContext:
    """The runtime, the scoring service, the request-log writer, identities and limits."""

    runtime: Runtime
    service: ScoringService
    store: StateStore
    metrics: ApiMetrics
    request_log: Batcher[RequestLogEntry, None]
    identity: IdentityService
    limiter: RateLimiter
    checkpointer: WalCheckpointer
    _reloader: "asyncio.Task[None] | None" = field(default=None, repr=False)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _gc_thresholds: tuple[int, int, int] | None = field(default=None, repr=False)

    @property
    def guarded(self) -> GuardedStore | None:
        """The feature store's circuit breaker, when the state lives in Redis."""
        return self.store if isinstance(self.store, GuardedStore) else None

    @property
    def shared_store(self) -> RedisStore | None:
        """The Redis store behind the breaker, when the state is shared between processes."""
        guarded = self.guarded
        return (
            guarded.inner if guarded is not None and isinstance(guarded.inner, RedisStore) else None
        )

    async def start(self) -> None:
        """Rebuild in-memory feature state (or seed an empty shared one), then start the
        deciding and logging threads and the reloader."""
        if isinstance(self.store, MemoryStore):
            await asyncio.to_thread(self.service.rebuild_features)
        elif (shared := self.shared_store) is not None:
            await asyncio.to_thread(self._seed_shared_state, shared)
        # What start-up built (the feature state rebuilt from history, the model, the code)
        # stays out of full collections: walking it took 150-180 ms, a pause of every request.
        gc.freeze()
        self._gc_thresholds = gc.get_threshold()
        gc.set_threshold(*SERVING_GC_THRESHOLDS)
        self.service.start()
        self.request_log.start()
        self.checkpointer.start()
        self.limiter.start()
        self._reloader = asyncio.create_task(self._reload_forever())

    def _seed_shared_state(self, store: RedisStore) -> None:
        """An empty shared state is rebuilt from the history by one process; a Redis that
        cannot be reached leaves the process to start degraded, as it would score."""
        try:
            outcome = seed_if_empty(store, self.service.rebuild_features)
        except (FeatureStoreUnavailable, RedisError, TimeoutError) as exc:
            logger.warning("feature state not checked at start: %s", exc)
            return
        logger.info("shared feature state: %s", outcome.detail)

    async def stop(self) -> None:
        """Stop reloading, store what is queued, release connections.

        The reloader is asked to stop rather than cancelled: a cancelled task would leave its
        database check running in a thread, returning its connection to a disposed pool.
        """
        self._stopping.set()
        if self._reloader is not None:
            await self._reloader
        await asyncio.to_thread(self.service.stop)
        await asyncio.to_thread(self.request_log.stop)
        await asyncio.to_thread(self.checkpointer.stop)
        await asyncio.to_thread(self.limiter.stop)
        await asyncio.to_thread(self.identity.close)
        if (shared := self.shared_store) is not None:
            shared.client.close()
        self.runtime.close()
        gc.unfreeze()  # a process that builds apps again (tests) collects the old ones
        if self._gc_thresholds is not None:
            gc.set_threshold(*self._gc_thresholds)

    async def _reload_forever(self) -> None:
        interval = self.runtime.settings.reload_interval_s
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=interval)
            if self._stopping.is_set():
                return
            try:
                await asyncio.to_thread(self.service.refresh)
            except Exception as exc:
                logger.warning("could not check for model or rule changes: %s", exc)

    def live_values(self) -> dict[str, tuple[str, float, str]]:
        """Counters kept outside Prometheus, read at scrape time."""
        pipeline = self.service.pipeline
        return {
            "txguard_request_log_dropped_total": (
                "counter", float(self.request_log.dropped),
                "Request-log entries lost because the writer's queue was full.",
            ),
            "txguard_request_log_failed_total": (
                "counter", float(self.request_log.failed),
                "Request-log entries lost because the database refused their batch.",
            ),
            "txguard_request_log_queue_depth": (
                "gauge", float(self.request_log.depth), "Request-log entries waiting to be written.",
            ),
            "txguard_decision_writer_queue_depth": (
                "gauge", float(self.service.decider.depth),
                "Transactions and labels waiting for the deciding thread.",
            ),
            "txguard_duplicate_requests_total": (
                "counter", float(self.service.duplicates),
                "Requests for a transaction id already decided, answered with the stored decision.",
            ),
            "txguard_feature_writes_lost_total": (
                "counter", float(pipeline.lost_records),
                "Transactions the feature store missed because it was unavailable.",
            ),
            "txguard_rate_limit_unchecked_total": (
                "counter", float(self.limiter.failures),
                "Requests let through unchecked because the rate-limit storage was unavailable.",
            ),
            "txguard_sqlite_checkpoint_failures_total": (
                "counter", float(self.checkpointer.failures),
                "Background WAL checkpoints that failed (SQLite; commits then checkpoint later).",
            ),
            "txguard_pipeline_degraded": (
                "gauge", float(pipeline.degraded), "1 when no model serves and rules decide alone.",
            ),
        }  # fmt: skip

    def model_version(self) -> str | None:
        """The version the current pipeline scores with."""
        bundle = self.service.pipeline.bundle
        return bundle.version if bundle is not None else None

    def log_request(self, entry: RequestLogEntry) -> None:
        """Queue one request-log entry; a full queue drops it and counts it."""
        self.request_log.offer(entry)


def build_store(runtime: Runtime) -> StateStore:
    """Redis behind a circuit breaker when configured (shared by processes), else memory."""
    settings = runtime.settings
    if settings.redis_url is None:
        return MemoryStore()
    redis_store = RedisStore.from_url(
        settings.redis_url.get_secret_value(),
        namespace=f"{settings.redis_namespace}fs:",
        timeout_seconds=settings.redis_timeout_s,
    )
    return GuardedStore(
        redis_store, fail_max=settings.breaker_fail_max, reset_timeout_s=settings.breaker_reset_s
    )


def build_limiter(settings: Settings) -> RateLimiter:
    """Counters in Redis when configured, so every process sees the same count; else memory."""
    if settings.redis_url is None:
        return RateLimiter.in_memory()
    return RateLimiter(
        settings.redis_url.get_secret_value(),
        key_prefix=f"{settings.redis_namespace}limits",
        timeout_s=settings.redis_timeout_s,
        cooldown_s=settings.breaker_reset_s,
    )


def build_context(runtime: Runtime, store: StateStore | None = None) -> ApiContext:
    """Wire one API process."""
    settings = runtime.settings
    state = store if store is not None else build_store(runtime)
    features = OnlineFeatures(state, FeatureConfig(timedelta(days=settings.label_delay_days)))
    service = ScoringService(
        runtime.engine,
        features,
        fail_max=settings.breaker_fail_max,
        reset_timeout_s=settings.breaker_reset_s,
    )
    engine = runtime.engine
    write = RequestLogWriter(engine)

    def write_logs(entries: Any) -> list[None]:
        write(entries)
        return [None] * len(entries)

    request_log: Batcher[RequestLogEntry, None] = Batcher(
        "request-log",
        write_logs,
        max_batch=2000,
        max_queue=settings.request_log_queue,
        linger_s=REQUEST_LOG_LINGER_S,
    )
    metrics = ApiMetrics()
    limiter = build_limiter(settings)
    identity = IdentityService(engine, settings, limiter)
    context = ApiContext(
        runtime, service, state, metrics, request_log, identity, limiter, WalCheckpointer(engine)
    )
    metrics.watch(context.live_values, context.model_version)
    return context


def elapsed_ms(started: float) -> float:
    """Milliseconds since ``started`` (a ``time.perf_counter()`` reading)."""
    return (time.perf_counter() - started) * 1000.0
