"""An empty shared feature state is rebuilt once, by one process, and never on top of state."""

import threading
from collections.abc import Iterator

import pytest
from tests.fixtures.redis import REDIS_URL

from txguard.features.state import Append, MemoryStore
from txguard.featurestore.redis_store import RedisStore
from txguard.scoring.seeding import seed_if_empty

pytestmark = pytest.mark.redis
HISTORY = [
    Append(f"card:{c}", (1000 * (i + 1), f"t{c}-{i}", "", float(i), 0), 0)
    for c in range(3)
    for i in range(5)
]


@pytest.fixture
def store(redis_namespace: str) -> Iterator[RedisStore]:
    shared = RedisStore.from_url(REDIS_URL, namespace=redis_namespace)
    yield shared
    shared.client.close()


class Replay:
    """Counts its calls; each writes the same small history, as a rebuild from the database."""

    def __init__(self, pause: threading.Event | None = None) -> None:
        self.calls = 0
        self.pause = pause

    def __call__(self, memory: MemoryStore) -> int:
        self.calls += 1
        if self.pause is not None:
            self.pause.wait(5)
        memory.write(HISTORY)
        return len(HISTORY)


def held(store: RedisStore) -> list[list[tuple[object, ...]]]:
    keys = sorted({a.key for a in HISTORY})
    return store.read(keys, [-1] * len(keys))


def test_an_empty_namespace_is_seeded_with_what_the_replay_rebuilt(store: RedisStore) -> None:
    replay = Replay()

    outcome = seed_if_empty(store, replay)

    memory = MemoryStore()
    memory.write(HISTORY)
    assert outcome.seeded and outcome.events == len(HISTORY) and replay.calls == 1
    assert held(store) == memory.read(sorted({a.key for a in HISTORY}), [-1, -1, -1])
    assert store.size() == len(HISTORY)


def test_a_seeded_namespace_is_left_alone_on_the_next_start(store: RedisStore) -> None:
    replay = Replay()
    seed_if_empty(store, replay)

    again = seed_if_empty(store, replay)

    assert not again.seeded and replay.calls == 1
    assert store.size() == len(HISTORY)  # not counted twice


def test_state_written_before_the_marker_is_kept_and_marked(store: RedisStore) -> None:
    store.write(HISTORY[:4])
    replay = Replay()

    outcome = seed_if_empty(store, replay)

    assert not outcome.seeded and replay.calls == 0 and "unmarked" in outcome.detail
    assert store.size() == 4
    assert not seed_if_empty(store, replay).seeded


def test_workers_starting_together_seed_once(store: RedisStore) -> None:
    pause = threading.Event()
    replay = Replay(pause)
    outcomes: list[object] = []

    def start() -> None:
        other = RedisStore.from_url(REDIS_URL, namespace=store.namespace)
        try:
            outcomes.append(seed_if_empty(other, replay, wait_s=10))
        finally:
            other.client.close()

    workers = [threading.Thread(target=start) for _ in range(3)]
    for worker in workers:
        worker.start()
    pause.set()
    for worker in workers:
        worker.join(15)

    assert replay.calls == 1
    assert sum(o.seeded for o in outcomes) == 1 and len(outcomes) == 3  # type: ignore[attr-defined]
    assert store.size() == len(HISTORY)


def test_a_cleared_state_is_seeded_again(store: RedisStore) -> None:
    replay = Replay()
    seed_if_empty(store, replay)
    store.clear()

    assert seed_if_empty(store, replay).seeded and replay.calls == 2
