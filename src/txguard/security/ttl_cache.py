"""A small in-process cache whose entries are trusted for a fixed time, then read again.

Credentials are checked on every request, the scoring hot path included; reading the user or
key row each time would add a database round trip to every call. Holding what was read for
a few seconds bounds how long a revocation, a disabled user or a role change takes to reach
every process, without any messaging between them.
"""

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

__all__ = ["TtlCache"]


class TtlCache(Generic[K, V]):
    """Values read through ``load`` and kept for ``ttl_s`` seconds, absent ones included.

    Caching "absent" too keeps a caller presenting unknown ids from reaching the database
    on every call; ``max_entries`` bounds the memory such a caller can take.
    """

    def __init__(
        self, ttl_s: float, clock: Callable[[], float], *, max_entries: int = 10_000
    ) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, load: Callable[[K], V]) -> V:
        """The value of ``key``, loaded again when the one held is ``ttl_s`` old."""
        now = self._clock()
        held = self._entries.get(key)
        if held is not None and now - held[0] < self._ttl_s:
            return held[1]
        value = load(key)
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._evict(now)
            self._entries[key] = (now, value)
        return value

    def forget(self, key: K) -> None:
        """Drop ``key``, so the next read loads it (after a change made by this process)."""
        with self._lock:
            self._entries.pop(key, None)

    def _evict(self, now: float) -> None:
        stale = [k for k, (at, _) in self._entries.items() if now - at >= self._ttl_s]
        for key in stale:
            del self._entries[key]
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
