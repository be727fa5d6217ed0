"""Request and login limits per caller, shared by every process through Redis when configured.

The ``limits`` library does the counting (a sliding-window counter: constant memory per
caller, unlike a log of every hit); this module decides what a limit protects and what
happens when the counter's storage is down. A rate limiter must never take scoring down with
it, so a storage failure lets the request through, is counted, and the storage is left alone
for ``cooldown_s`` before it is tried again, rather than costing every request a timeout.
"""

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItemPerMinute, storage, strategies
from limits.errors import StorageError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a call may go on; when not, how long until it may (for ``Retry-After``)."""

    allowed: bool
    retry_after_s: int = 0


ALLOWED = Verdict(True)


class RateLimiter:
    """Sliding-window limits, one counter per ``(scope, identity)`` and limit."""

    def __init__(
        self,
        storage_uri: str,
        *,
        key_prefix: str = "txguard_limits",
        timeout_s: float = 0.5,
        cooldown_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        options: dict[str, float | str | bool] = {}
        if storage_uri.startswith(("redis://", "rediss://", "unix://")):
            options = {
                "key_prefix": key_prefix,
                "socket_timeout": timeout_s,
                "socket_connect_timeout": timeout_s,
                "wrap_exceptions": True,
            }
        self._storage = storage.storage_from_string(storage_uri, **options)
        self._limiter = strategies.SlidingWindowCounterRateLimiter(self._storage)
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._down_until = 0.0
        self.failures = 0
        """Checks let through because the storage failed: each is a request not counted."""

    @classmethod
    def in_memory(cls) -> "RateLimiter":
        """Limits kept in this process only: the embedded mode, one process."""
        return cls("memory://")

    def hit(self, scope: str, identity: str, per_minute: int) -> Verdict:
        """Count one call of ``identity`` against its limit and say whether it may go on."""
        return self._checked(scope, identity, per_minute, count=True)

    def test(self, scope: str, identity: str, per_minute: int) -> Verdict:
        """Whether one more call would be allowed, without counting one."""
        return self._checked(scope, identity, per_minute, count=False)

    def clear(self, scope: str, identity: str, per_minute: int) -> None:
        """Forget ``identity``'s calls, e.g. failed logins once the right password is given."""
        try:
            self._limiter.clear(RateLimitItemPerMinute(per_minute), scope, identity)
        except StorageError as exc:
            self._storage_failed(exc)

    def ping(self) -> bool:
        """Whether the counters' storage answers (for the health check)."""
        try:
            return bool(self._storage.check())
        except StorageError:
            return False

    def _checked(self, scope: str, identity: str, per_minute: int, *, count: bool) -> Verdict:
        if self._clock() < self._down_until:
            return self._let_through()
        item = RateLimitItemPerMinute(per_minute)
        try:
            check = self._limiter.hit if count else self._limiter.test
            if check(item, scope, identity):
                return ALLOWED
            stats = self._limiter.get_window_stats(item, scope, identity)
        except StorageError as exc:
            self._storage_failed(exc)
            return self._let_through()
        wait = max(1, math.ceil(stats.reset_time - self._clock()))
        return Verdict(False, wait)

    def _let_through(self) -> Verdict:
        with self._lock:
            self.failures += 1
        return ALLOWED

    def _storage_failed(self, exc: Exception) -> None:
        with self._lock:
            first = self._clock() >= self._down_until
            self._down_until = self._clock() + self._cooldown_s
        if first:
            logger.warning("rate-limit storage unavailable, limits not applied: %s", exc)
