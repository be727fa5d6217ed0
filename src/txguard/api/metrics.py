"""Prometheus metrics of one API process: traffic, latency, decisions, and what was lost.

Each app has its own registry (tests build many apps in one process). Counters kept by the
scoring service itself (duplicates, dropped log entries, lost feature writes) are read at
scrape time by a collector instead of being mirrored on the hot path.
"""

import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
SCORE_BUCKETS = (10, 20, 30, 40, 50, 60, 70, 80, 90, 100)


class ApiMetrics:
    """The instruments the routes and the middleware record into."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "txguard_http_requests", "HTTP requests by route and status.",
            ["route", "method", "status"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "txguard_http_request_duration_seconds", "Time to answer, by route.",
            ["route", "method"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.decisions = Counter(
            "txguard_decisions", "Decisions by outcome.", ["decision"], registry=self.registry
        )
        self.risk = Histogram(
            "txguard_risk_score", "Distribution of risk scores (0-100).",
            buckets=SCORE_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self._by_request: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._by_decision: dict[str, Any] = {}
        self.degraded = Counter(
            "txguard_degraded_decisions", "Decisions made with less than the full pipeline.",
            registry=self.registry,
        )  # fmt: skip

    def record_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count and time one answered request.

        The labelled series are looked up once and kept: ``labels()`` takes a lock and checks
        its arguments on every call, and this runs on every request.
        """
        key = (route, method, status)
        series = self._by_request.get(key)
        if series is None:
            series = self._by_request[key] = (
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route, method),
            )
        series[0].inc()
        series[1].observe(seconds)

    def record_decision(self, document: dict[str, Any]) -> None:
        """Count one decision answered (a retry answered from the store counts again)."""
        decision = document["decision"]
        counter = self._by_decision.get(decision)
        if counter is None:
            counter = self._by_decision[decision] = self.decisions.labels(decision)
        counter.inc()
        self.risk.observe(document["risk_score"])
        if document["degraded"]:
            self.degraded.inc()

    def watch(
        self,
        read: Callable[[], dict[str, tuple[str, float, str]]],
        model_version: Callable[[], str | None],
    ) -> None:
        """Publish live values ``{name: (kind, value, help)}`` and the model version in use."""
        self.registry.register(_LiveCollector(read, model_version))


class _LiveCollector(Collector):
    def __init__(
        self,
        read: Callable[[], dict[str, tuple[str, float, str]]],
        model_version: Callable[[], str | None],
    ) -> None:
        self._read = read
        self._model_version = model_version

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "txguard_model_info", "The model version serving (1), or none.", labels=["version"]
        )
        info.add_metric([self._model_version() or "none"], 1.0)
        yield info
        for name, (kind, value, text) in self._read().items():
            if kind == "counter":
                yield CounterMetricFamily(name, text, value=value)
            else:
                yield GaugeMetricFamily(name, text, value=value)

    def describe(self) -> Iterator[Metric]:
        return iter(())


class MetricsMiddleware:
    """Times every request and labels it with its route template, never the raw path."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics, prefix: str) -> None:
        self.app = app
        self.metrics = metrics
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            if route is not None and scope["path"].startswith(self.prefix + "/"):
                template = self.prefix + template  # routers keep their paths unprefixed
            method = scope.get("method", "")
            self.metrics.record_request(template, method, status, time.perf_counter() - started)
