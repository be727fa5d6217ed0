"""A batch staged against a shared store: one read, one write, the same features."""

from collections.abc import Sequence

import numpy as np

from txguard.features.online import FeatureInput, OnlineFeatures
from txguard.features.state import Append, Event, MemoryStore

DAY = 86_400_000


class Counted(MemoryStore):
    """A store that counts its trips, as each would be one to Redis."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = self.writes = 0

    def read(self, keys: Sequence[str], after_ms: Sequence[int]) -> list[list[Event]]:
        self.reads += 1
        return super().read(keys, after_ms)

    def write(self, appends: Sequence[Append]) -> None:
        self.writes += 1
        super().write(appends)


def payments() -> list[FeatureInput]:
    """A card paying twice and a terminal taking three payments within one batch."""
    t = 17_000 * DAY
    return [
        FeatureInput("a", t, 10.0, "C1", "T1"),
        FeatureInput("b", t + 60_000, 900.0, "C1", "T2"),
        FeatureInput("c", t + 120_000, 15.0, "C2", "T1"),
        FeatureInput("d", t + 180_000, 20.0, None, "T1"),
    ]


def test_a_staged_batch_reads_once_writes_once_and_sees_its_own_records() -> None:
    history = [FeatureInput("h", 16_990 * DAY, 12.0, "C1", "T1")]
    alone, shared = OnlineFeatures(MemoryStore()), OnlineFeatures(Counted())
    for engine in (alone, shared):
        engine.process(history[0])
    store = shared.store
    assert isinstance(store, Counted)
    store.reads = store.writes = 0

    expected = [alone.process(tx) for tx in payments()]
    stage = shared.stage(payments())
    with shared.using(stage):
        actual = [shared.process(tx) for tx in payments()]
    assert store.writes == 0 and stage.recorded == {"a", "b", "c", "d"}
    stage.flush()

    np.testing.assert_array_equal(np.array(actual), np.array(expected))  # NaN equals NaN
    assert (store.reads, store.writes) == (1, 1)
    assert shared.store is store and store.size() == alone.store.size()
