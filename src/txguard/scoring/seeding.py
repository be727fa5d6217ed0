"""Filling an empty shared feature state from the stored history, once for all processes.

An in-process feature state is rebuilt from the database at every start. A Redis-backed one
outlives the processes, so it is rebuilt only when it is empty: a new Redis, or one that was
flushed or lost its data. Otherwise every card would look new until its history came back
one payment at a time, and the velocity features the model depends on would read zero.

Several workers start at once, and all of them see the same empty namespace. One takes a
Redis lock and replays the history into memory, then copies it in; the others wait on the
lock and find the state marked as seeded. The marker lives inside the namespace, so
clearing the state clears it too.
"""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice

from redis.exceptions import LockError

from txguard.features.state import Append, MemoryStore
from txguard.featurestore.redis_store import RedisStore

logger = logging.getLogger(__name__)
SEEDED = "_seeded"
SEEDING = "_seeding"
CHUNK = 2000  # appends per write: one script call each


@dataclass(frozen=True)
class SeedOutcome:
    """What the start-up check found and did."""

    seeded: bool
    events: int
    detail: str


def seed_if_empty(
    store: RedisStore,
    replay: Callable[[MemoryStore], int],
    *,
    wait_s: float = 600.0,
) -> SeedOutcome:
    """Rebuild ``store`` with ``replay`` (history into memory) if no process has yet.

    ``wait_s`` bounds both how long a process waits for another's seeding and how long a
    seeding may hold the lock.
    """
    client = store.client
    if client.exists(store.namespace + SEEDED):
        return SeedOutcome(False, 0, "feature state present")
    lock = client.lock(store.namespace + SEEDING, timeout=wait_s, blocking_timeout=wait_s)
    if not lock.acquire():
        raise TimeoutError(f"another process kept seeding the feature state over {wait_s:.0f} s")
    try:
        if client.exists(store.namespace + SEEDED):
            return SeedOutcome(False, 0, "feature state seeded by another process")
        if _holds_state(store):  # written before the marker existed, or by a running process
            _mark(store)
            return SeedOutcome(False, 0, "feature state present (unmarked)")
        memory = MemoryStore()
        transactions = replay(memory)
        events = 0
        for chunk in _chunks(memory.appends()):
            store.write(chunk)
            events += len(chunk)
        _mark(store)
    finally:
        try:
            lock.release()
        except LockError:  # it expired while seeding: the marker is what others check
            logger.warning("the feature-state seeding lock expired before it was released")
    logger.info("feature state seeded: %d events from %d transactions", events, transactions)
    return SeedOutcome(True, events, f"seeded {events} events from {transactions} transactions")


def _holds_state(store: RedisStore) -> bool:
    return any(
        True for _ in store.client.scan_iter(match=store.key_pattern, count=1000, _type="zset")
    )


def _mark(store: RedisStore) -> None:
    store.client.set(store.namespace + SEEDED, "1", ex=store.ttl_seconds)


def _chunks(appends: Iterator[Append]) -> Iterator[list[Append]]:
    while chunk := list(islice(appends, CHUNK)):
        yield chunk
