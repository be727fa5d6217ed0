"""A circuit breaker before the feature store: a dead Redis costs a few timeouts, not one a payment.

Without it every authorisation would wait a full socket timeout for a server that is down.
After ``fail_max`` consecutive ``FeatureStoreUnavailable`` the circuit opens and every call
fails at once, so the pipeline scores without state at full speed. After ``reset_timeout_s``
a single trial call is let through (half-open); its success closes the circuit, so recovery
needs no restart and no operator.

pybreaker keeps the state machine (counting, opening, half-opening, closing), but its
``call`` holds one lock for the whole wrapped call (danielfm/pybreaker#55), which would make
the API's threads queue for Redis one at a time. So while the circuit is closed the store is
called outside the breaker, and only the outcome is passed to ``breaker.call`` as a function
that returns or raises at once. Only the trial call runs inside the breaker, and other
threads fail fast meanwhile instead of queueing behind it.
"""

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, Protocol, TypeVar

import pybreaker

from txguard.domain.errors import ConfigurationError
from txguard.featurestore.redis_store import AppendLike, Event, FeatureStoreUnavailable

T = TypeVar("T")

CLOSED = pybreaker.STATE_CLOSED
OPEN = pybreaker.STATE_OPEN
HALF_OPEN = pybreaker.STATE_HALF_OPEN


class GuardableStore(Protocol):
    """``txguard.features.state.StateStore``, restated: this layer may not import the core."""

    def read(self, keys: Sequence[str], after_ms: Sequence[int]) -> list[list[Event]]: ...

    def write(self, appends: Sequence[AppendLike]) -> None: ...

    def evict(self, before_ms: int) -> int: ...

    def size(self) -> int: ...

    def ping(self) -> None: ...

    def clear(self) -> None: ...


class GuardedStore:
    """A state store whose calls stop reaching its backend while the backend keeps failing.

    Only ``FeatureStoreUnavailable`` counts as a failure: any other error means the server
    answered, which is all the breaker needs to know.
    """

    def __init__(self, inner: GuardableStore, *, fail_max: int, reset_timeout_s: float) -> None:
        if fail_max < 1:
            raise ConfigurationError(f"fail_max must be at least 1, got {fail_max}")
        if not reset_timeout_s > 0:
            raise ConfigurationError(f"reset_timeout_s must be positive, got {reset_timeout_s}")
        self.inner = inner
        self.reset_timeout_s = reset_timeout_s
        self.last_error: str | None = None
        """The most recent failure of the backend, kept after recovery for the health check."""
        self._lock = threading.Lock()
        self._opened_at = 0.0  # time.monotonic() when the circuit last opened
        self._trial_running = False
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=fail_max,
            reset_timeout=reset_timeout_s,
            exclude=[_not_unavailable],
            listeners=[_OnOpen(self._opened)],
            name="feature store",
            throw_new_error_on_trip=False,
        )

    @property
    def state(self) -> str:
        """``closed``, ``open``, or ``half-open`` once the next call will be the trial."""
        current: str = self._breaker.current_state
        if current == OPEN and (self._trial_running or self._retry_in() <= 0):
            return HALF_OPEN
        return current

    def read(self, keys: Sequence[str], after_ms: Sequence[int]) -> list[list[Event]]:
        """See ``StateStore.read``."""
        return self._call(self.inner.read, keys, after_ms)

    def write(self, appends: Sequence[AppendLike]) -> None:
        """See ``StateStore.write``."""
        self._call(self.inner.write, appends)

    def evict(self, before_ms: int) -> int:
        """See ``StateStore.evict``."""
        return self._call(self.inner.evict, before_ms)

    def size(self) -> int:
        """See ``StateStore.size``."""
        return self._call(self.inner.size)

    def clear(self) -> None:
        """See ``StateStore.clear``."""
        self._call(self.inner.clear)

    def ping(self) -> None:
        """Whether the backend answers, through the breaker like every other call."""
        self._call(self.inner.ping)

    def _call(self, operation: Callable[..., T], *args: Any) -> T:
        if self._breaker.current_state == CLOSED or not self._claim_trial():
            return self._call_closed(operation, *args)
        try:
            return self._call_trial(operation, *args)
        finally:
            with self._lock:
                self._trial_running = False

    def _call_closed(self, operation: Callable[..., T], *args: Any) -> T:
        """The backend called outside the breaker's lock; only the outcome goes through it."""
        try:
            result = operation(*args)
        except FeatureStoreUnavailable as exc:
            self.last_error = str(exc)
            self._report(_fail, self.last_error)
            raise
        if self._breaker.fail_counter:  # a success only matters after a failure
            self._report(_succeed)
        return result

    def _report(self, outcome: Callable[..., None], *args: Any) -> None:
        """Counts an outcome; a circuit another thread opened meanwhile ignores it."""
        try:
            self._breaker.call(outcome, *args)
        except (FeatureStoreUnavailable, pybreaker.CircuitBreakerError):
            pass

    def _claim_trial(self) -> bool:
        """True if this call is the one trial; False if the circuit closed meanwhile.

        Raises while the circuit is open, or while another thread's trial is under way.
        """
        with self._lock:
            if self._breaker.current_state == CLOSED:
                return False
            retry_in = self._retry_in()
            if self._trial_running or retry_in > 0:
                raise self._open_error(retry_in)
            self._trial_running = True
            return True

    def _call_trial(self, operation: Callable[..., T], *args: Any) -> T:
        """pybreaker half-opens the circuit, runs the call, then closes or reopens it."""
        try:
            return self._breaker.call(operation, *args)
        except FeatureStoreUnavailable as exc:
            self.last_error = str(exc)
            raise
        except pybreaker.CircuitBreakerError as exc:  # its clock is the wall clock, ours is not
            raise self._open_error(self._retry_in()) from exc

    def _retry_in(self) -> float:
        return self._opened_at + self.reset_timeout_s - time.monotonic()

    def _opened(self) -> None:
        self._opened_at = time.monotonic()

    def _open_error(self, retry_in: float) -> FeatureStoreUnavailable:
        when = (
            "a trial call is under way" if retry_in <= 0 else f"the next try is in {retry_in:.1f} s"
        )
        return FeatureStoreUnavailable(
            f"feature store circuit is open after {self._breaker.fail_max} consecutive "
            f"failures, {when} (last error: {self.last_error})"
        )


class _OnOpen(pybreaker.CircuitBreakerListener):
    """Tells the store when the circuit opens, so it can time the retry on a monotonic clock."""

    def __init__(self, opened: Callable[[], None]) -> None:
        self._opened = opened

    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        if new_state.name == OPEN:
            self._opened()


def _not_unavailable(exc: BaseException) -> bool:
    """pybreaker's ``exclude``: errors that do not count as failures."""
    return not isinstance(exc, FeatureStoreUnavailable)


def _fail(message: str) -> NoReturn:
    """A failure that already happened, replayed inside the breaker so it counts."""
    raise FeatureStoreUnavailable(message)


def _succeed() -> None:
    """Nothing to do: the call already succeeded, the breaker only counts it."""
