"""FastAPI's OpenTelemetry instrumentation follows ``TXGUARD_OPENTELEMETRY``."""

from typing import Any

from opentelemetry import trace
from tests.fixtures.api import AppFactory

from txguard.models.artifact import ModelBundle


class RecordingTracerProvider(trace.TracerProvider):
    """A configured global provider (not one of the API's deferred ones) that counts use."""

    def __init__(self) -> None:
        self.tracers = 0

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        self.tracers += 1
        return trace.NoOpTracer()


PROVIDER = RecordingTracerProvider()  # the global provider can be set once per process


def test_requests_are_traced_through_the_global_provider_only_when_switched_on(
    api_factory: AppFactory, served_model: ModelBundle
) -> None:
    if trace.get_tracer_provider() is not PROVIDER:
        trace.set_tracer_provider(PROVIDER)
    before = PROVIDER.tracers
    quiet = api_factory()
    assert quiet.get("/api/v1/health").status_code == 200
    assert PROVIDER.tracers == before
    traced = api_factory(opentelemetry=True)
    assert traced.get("/api/v1/health").status_code == 200
    assert PROVIDER.tracers == before + 1
