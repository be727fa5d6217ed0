"""The circuit breaker before the feature store: fail fast while it is down, recover alone."""

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from txguard.domain.errors import ConfigurationError
from txguard.features.state import Append, Event, MemoryStore
from txguard.featurestore.guarded import GuardedStore
from txguard.featurestore.redis_store import FeatureStoreUnavailable

RESET_S = 0.2
"""For tests that wait for the retry; the others use a timeout no slow machine can reach."""
LONG_S = 60.0
EVENT: Event = (10, "tx1", "T1", 5.0, 0)


class FlakyStore(MemoryStore):
    """A memory store that can be switched off, and counts the calls that reach it."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.calls = 0
        self.error: Exception | None = None
        self.gate: threading.Barrier | threading.Event | None = None

    def read(self, keys: Sequence[str], after_ms: Sequence[int]) -> list[list[Event]]:
        self.calls += 1
        if isinstance(self.gate, threading.Barrier):
            self.gate.wait()
        elif isinstance(self.gate, threading.Event):
            assert self.gate.wait(5)
        if self.error is not None:
            raise self.error
        if self.down:
            raise FeatureStoreUnavailable("Redis at redis://test:6379/0 is unavailable")
        return super().read(keys, after_ms)


def _guarded(fail_max: int = 2, reset_s: float = LONG_S) -> tuple[GuardedStore, FlakyStore]:
    inner = FlakyStore()
    return GuardedStore(inner, fail_max=fail_max, reset_timeout_s=reset_s), inner


def _fail(store: GuardedStore, times: int) -> None:
    for _ in range(times):
        with pytest.raises(FeatureStoreUnavailable):
            store.read(["c:1"], [0])


def _wait_for_retry(store: GuardedStore) -> None:
    deadline = time.monotonic() + 2.0
    while store.state != "half-open":
        assert time.monotonic() < deadline, "the circuit never became due for a retry"
        time.sleep(RESET_S / 5)


def test_a_healthy_store_is_passed_through():
    store, inner = _guarded()
    store.write([Append("c:1", EVENT, 0)])
    assert store.read(["c:1"], [0]) == [[EVENT]]
    assert store.size() == 1 and store.evict(100) == 1
    store.clear()
    assert store.state == "closed" and store.last_error is None and inner.calls == 1


def test_after_fail_max_failures_calls_fail_at_once_without_reaching_the_store():
    store, inner = _guarded(fail_max=2)
    inner.down = True
    _fail(store, 2)
    assert store.state == "open" and inner.calls == 2
    with pytest.raises(
        FeatureStoreUnavailable, match=r"circuit is open .* next try is in \d+\.\d s"
    ):
        store.read(["c:1"], [0])
    assert inner.calls == 2
    assert store.last_error is not None and "redis://test:6379/0" in store.last_error


def test_the_open_circuit_message_names_the_last_error():
    store, inner = _guarded(fail_max=1)
    inner.down = True
    _fail(store, 1)
    with pytest.raises(FeatureStoreUnavailable, match="last error: .*redis://test:6379/0"):
        store.write([Append("c:1", EVENT, 0)])


def test_a_success_between_failures_starts_the_count_again():
    store, inner = _guarded(fail_max=2)
    inner.down = True
    _fail(store, 1)
    inner.down = False
    store.read(["c:1"], [0])
    inner.down = True
    _fail(store, 1)
    assert store.state == "closed"


def test_errors_other_than_unavailable_do_not_open_the_circuit():
    store, inner = _guarded(fail_max=2)
    inner.error = ValueError("bad keys")
    for _ in range(4):
        with pytest.raises(ValueError, match="bad keys"):
            store.read(["c:1"], [0])
    assert store.state == "closed" and store.last_error is None


def test_after_the_reset_timeout_one_successful_trial_closes_the_circuit():
    store, inner = _guarded(fail_max=2, reset_s=RESET_S)
    inner.down = True
    _fail(store, 2)
    inner.down = False
    _wait_for_retry(store)
    assert store.read(["c:1"], [0]) == [[]]
    assert store.state == "closed" and inner.calls == 3
    inner.down = True
    _fail(store, 1)  # counting starts again from zero
    assert store.state == "closed"


def test_a_failed_trial_opens_the_circuit_again_for_another_timeout():
    store, inner = _guarded(fail_max=2, reset_s=RESET_S)
    inner.down = True
    _fail(store, 2)
    _wait_for_retry(store)
    _fail(store, 1)
    assert inner.calls == 3 and store.state == "open"
    _fail(store, 3)
    assert inner.calls == 3


def test_other_threads_fail_fast_while_the_trial_call_is_under_way():
    store, inner = _guarded(fail_max=1, reset_s=RESET_S)
    inner.down = True
    _fail(store, 1)
    _wait_for_retry(store)
    inner.down = False
    inner.gate = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        trial = pool.submit(store.read, ["c:1"], [0])
        while inner.calls < 2:
            time.sleep(0.001)
        assert store.state == "half-open"
        with pytest.raises(FeatureStoreUnavailable, match="trial call is under way"):
            store.read(["c:1"], [0])
        inner.gate.set()
        assert trial.result(timeout=5) == [[]]
    assert store.state == "closed" and inner.calls == 2


def test_closed_circuit_calls_from_several_threads_run_at_the_same_time():
    """pybreaker's own ``call`` would run them one at a time, and the barrier would break."""
    store, inner = _guarded()
    threads = 4
    inner.gate = threading.Barrier(threads, timeout=5)
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(lambda _: store.read(["c:1"], [0]), range(threads)))
    assert results == [[[]]] * threads


def test_failures_from_several_threads_open_the_circuit():
    store, inner = _guarded(fail_max=3)
    inner.down = True
    with ThreadPoolExecutor(8) as pool:
        errors = list(pool.map(lambda _: _error_of(store), range(40)))
    assert all(isinstance(e, FeatureStoreUnavailable) for e in errors)
    assert store.state == "open" and inner.calls >= 3
    reached = inner.calls
    _fail(store, 5)
    assert inner.calls == reached


def _error_of(store: GuardedStore) -> Exception | None:
    try:
        store.read(["c:1"], [0])
    except Exception as exc:
        return exc
    return None


@pytest.mark.parametrize(("fail_max", "reset_s"), [(0, 1.0), (1, 0.0), (1, float("nan"))])
def test_settings_that_cannot_work_are_refused(fail_max, reset_s):
    with pytest.raises(ConfigurationError):
        GuardedStore(MemoryStore(), fail_max=fail_max, reset_timeout_s=reset_s)
