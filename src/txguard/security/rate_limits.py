"""Request and login limits per caller, shared by every process through Redis when configured.

The ``limits`` library does the counting in Redis (a sliding-window counter: constant
memory per caller, unlike a log of every hit); this module decides what a limit protects
and what happens when the counter's storage is down.

- A serving process counts a high limit (``COUNTED_HERE_FROM`` a minute and more: the
  callers' request limit) in its own memory and syncs it every ``SYNC_INTERVAL_S``, pushing
  its calls and reading everyone's back: a Redis round trip on the event loop per payment
  cost a third of the loop's time, and processes together pass such a limit by at most a
  tenth of a second's calls. Low limits (failed logins) go to Redis on every call.
- One process without Redis counts in ``LocalWindows``, the same sliding-window counter in
  a dict: ``limits``' memory storage starts a timer thread about every 10 ms under load, and
  starting a thread on the event loop waits for it.

A rate limiter must never take scoring down with it, so a storage failure lets the request
through, is counted, and the storage is left alone for ``cooldown_s`` before it is tried
again, rather than costing every request a timeout.
"""

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerMinute, storage, strategies
from limits.errors import StorageError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a call may go on; when not, how long until it may (for ``Retry-After``)."""

    allowed: bool
    retry_after_s: int = 0


ALLOWED = Verdict(True)
SYNC_INTERVAL_S = 0.1
COUNTED_HERE_FROM = 600
"""Limits of this many calls a minute or more are counted in the process between syncs."""


@dataclass(slots=True)
class _Tally:
    """One limit's count as this process knows it: everyone's at the last sync, plus its
    own calls since."""

    item: RateLimitItem
    ids: tuple[str, str]
    used: float
    reset_at: float
    unsynced: int = 0


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
        sync_interval_s: float = SYNC_INTERVAL_S,
    ) -> None:
        options: dict[str, float | str | bool] = {}
        if storage_uri.startswith(("redis://", "rediss://", "unix://")):
            options = {
                "key_prefix": key_prefix,
                "socket_timeout": timeout_s,
                "socket_connect_timeout": timeout_s,
                "wrap_exceptions": True,
            }
        self._local = LocalWindows(clock) if storage_uri == "memory://" else None
        self._storage = storage.storage_from_string(
            "memory://" if self._local is not None else storage_uri, **options
        )
        self._limiter = strategies.SlidingWindowCounterRateLimiter(self._storage)
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._down_until = 0.0
        self.failures = 0
        """Checks let through because the storage failed: each is a request not counted."""
        self._sync_interval_s = sync_interval_s
        self._tallies: dict[tuple[str, str, int], _Tally] = {}
        self._stopping = threading.Event()
        self._syncer: threading.Thread | None = None

    def start(self) -> None:
        """Count high limits in this process between syncs (Redis only; a serving process)."""
        if self._local is not None or self._syncer is not None:
            return
        self._stopping.clear()
        self._syncer = threading.Thread(
            target=self._sync_forever, name="rate-limit-sync", daemon=True
        )
        self._syncer.start()

    def stop(self) -> None:
        """Push the calls counted here since the last sync, and count every call in Redis."""
        if self._syncer is None:
            return
        self._stopping.set()
        self._syncer.join()
        self._syncer = None
        self.sync()
        self._tallies.clear()

    def sync(self) -> None:
        """Push this process's calls to Redis and read everyone's count back."""
        with self._lock:
            work = [(tally, tally.unsynced) for tally in self._tallies.values()]
        for tally, calls in work:
            try:
                pushed = calls == 0 or self._limiter.hit(tally.item, *tally.ids, cost=calls)
                stats = self._limiter.get_window_stats(tally.item, *tally.ids)
            except StorageError as exc:
                self._storage_failed(exc)
                return
            with self._lock:
                if pushed:  # refused when over the limit: kept, and pushed once it fades
                    tally.unsynced -= calls
                tally.used = tally.item.amount - stats.remaining
                tally.reset_at = stats.reset_time

    def _sync_forever(self) -> None:
        while not self._stopping.wait(self._sync_interval_s):
            try:
                self.sync()
            except Exception:  # the next round tries again; calls meanwhile are counted here
                logger.exception("rate-limit sync failed")

    @classmethod
    def in_memory(cls, clock: Callable[[], float] = time.time) -> "RateLimiter":
        """Limits kept in this process only: the embedded mode, one process."""
        return cls("memory://", clock=clock)

    def hit(self, scope: str, identity: str, per_minute: int) -> Verdict:
        """Count one call of ``identity`` against its limit and say whether it may go on."""
        return self._checked(scope, identity, per_minute, count=True)

    def test(self, scope: str, identity: str, per_minute: int) -> Verdict:
        """Whether one more call would be allowed, without counting one."""
        return self._checked(scope, identity, per_minute, count=False)

    def clear(self, scope: str, identity: str, per_minute: int) -> None:
        """Forget ``identity``'s calls, e.g. failed logins once the right password is given."""
        if self._local is not None:
            self._local.clear((scope, identity, per_minute))
            return
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
        if self._local is not None:
            return self._local.check((scope, identity, per_minute), per_minute, count=count)
        if self._clock() < self._down_until:
            return self._let_through()
        here = count and self._syncer is not None and per_minute >= COUNTED_HERE_FROM
        if here and (tally := self._tallies.get((scope, identity, per_minute))) is not None:
            return self._counted_here(tally, per_minute)
        item = RateLimitItemPerMinute(per_minute)
        try:
            check = self._limiter.hit if count else self._limiter.test
            allowed = check(item, scope, identity)
            if allowed and not here:
                return ALLOWED
            stats = self._limiter.get_window_stats(item, scope, identity)
        except StorageError as exc:
            self._storage_failed(exc)
            return self._let_through()
        if here:  # a caller's first call here: counted in Redis, then in this process
            with self._lock:
                self._tallies[(scope, identity, per_minute)] = _Tally(
                    item, (scope, identity), item.amount - stats.remaining, stats.reset_time
                )
        if allowed:
            return ALLOWED
        wait = max(1, math.ceil(stats.reset_time - self._clock()))
        return Verdict(False, wait)

    def _counted_here(self, tally: _Tally, per_minute: int) -> Verdict:
        with self._lock:
            if tally.used + tally.unsynced + 1 <= per_minute:
                tally.unsynced += 1
                return ALLOWED
        return Verdict(False, min(60, max(1, math.ceil(tally.reset_at - self._clock()))))

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


WINDOW_S = 60.0


class LocalWindows:
    """Per-minute sliding-window counters of one process, as ``limits`` keeps them.

    A key's weight is this minute's calls plus last minute's, scaled by the share of last
    minute still inside the sliding window; a call is allowed while the weight stays under
    the limit. Keys idle for two windows are dropped as others are counted.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[object, list[float]] = {}  # key: [window index, previous, current]
        self._sweep_at = 0.0

    def check(self, key: object, limit: int, *, count: bool) -> Verdict:
        """Count one call of ``key`` (unless ``count`` is false) if it is within ``limit``."""
        now = self._clock()
        window, into = divmod(now, WINDOW_S)
        with self._lock:
            counts = self._current(key, window)
            previous = counts[1] * (WINDOW_S - into) / WINDOW_S
            if previous + counts[2] + 1 <= limit:
                if count:
                    counts[2] += 1
                return ALLOWED
        return Verdict(False, _wait_s(counts[1], counts[2], previous, limit, into))

    def clear(self, key: object) -> None:
        """Forget ``key``'s calls."""
        with self._lock:
            self._counts.pop(key, None)

    def _current(self, key: object, window: float) -> list[float]:
        if window >= self._sweep_at:
            self._sweep_at = window + 1
            self._counts = {k: c for k, c in self._counts.items() if c[0] >= window - 1}
        counts = self._counts.get(key)
        if counts is None:
            counts = self._counts[key] = [window, 0.0, 0.0]
        elif counts[0] != window:
            counts[1] = counts[2] if counts[0] == window - 1 else 0.0
            counts[0], counts[2] = window, 0.0
        return counts


def _wait_s(previous: float, current: float, weighted: float, limit: int, into: float) -> int:
    """Seconds until one more call fits: last minute's share fades out as the window slides;
    if this minute's calls alone fill the limit, not before the next minute starts."""
    left = WINDOW_S - into
    if current + 1 <= limit and previous > 0:
        fade = (weighted + current + 1 - limit) * WINDOW_S / previous
        return max(1, math.ceil(min(fade, left)))
    return max(1, math.ceil(left))
