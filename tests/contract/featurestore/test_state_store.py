"""The contract every feature state backend keeps; the feature engine relies on nothing else."""

from txguard.features.state import Append, StateStore


def _event(time_ms: int, event_id: str, value: float = 1.0, tag: str = "", flag: int = 0):
    return (time_ms, event_id, tag, value, flag)


def test_reads_events_after_a_time_oldest_first_per_key(state_store: StateStore):
    state_store.write([Append("c:1", _event(t, f"tx{t}"), 0) for t in (10, 20, 30)])
    state_store.write([Append("c:2", _event(25, "other"), 0)])
    first, second, unknown = state_store.read(["c:1", "c:2", "c:9"], [15, 0, 0])
    assert [e[0] for e in first] == [20, 30]
    assert second == [_event(25, "other")]
    assert unknown == []


def test_values_round_trip_exactly(state_store: StateStore):
    event = (1_700_000_000_123, "tx-é", "terminal 7", 0.1 + 0.2, 1)
    state_store.write([Append("c:x", event, 0)])
    assert state_store.read(["c:x"], [0]) == [[event]]


def test_writing_prunes_events_at_or_before_the_horizon(state_store: StateStore):
    state_store.write([Append("t:1", _event(t, f"tx{t}"), 0) for t in (10, 20, 30)])
    state_store.write([Append("t:1", _event(40, "tx40"), 20)])
    assert [e[0] for e in state_store.read(["t:1"], [-1])[0]] == [30, 40]
    assert state_store.size() == 2


def test_an_event_id_is_held_once_per_key(state_store: StateStore):
    state_store.write([Append("f:1", _event(10, "tx1"), 0), Append("f:1", _event(10, "tx1"), 0)])
    state_store.write([Append("f:1", _event(10, "tx1"), 0)])
    state_store.write([Append("f:2", _event(10, "tx1"), 0)])
    first, second = state_store.read(["f:1", "f:2"], [0, 0])
    assert len(first) == 1 and len(second) == 1


def test_late_events_are_read_in_time_order(state_store: StateStore):
    state_store.write([Append("f:1", _event(t, f"tx{t}"), 0) for t in (10, 30)])
    state_store.write([Append("f:1", _event(20, "late"), 0)])
    assert [e[1] for e in state_store.read(["f:1"], [0])[0]] == ["tx10", "late", "tx30"]


def test_equal_times_are_all_kept(state_store: StateStore):
    state_store.write([Append("c:1", _event(10, name), 0) for name in ("a", "b", "c")])
    assert sorted(e[1] for e in state_store.read(["c:1"], [9])[0]) == ["a", "b", "c"]
    assert state_store.read(["c:1"], [10]) == [[]]


def test_evict_drops_only_keys_whose_newest_event_is_stale(state_store: StateStore):
    state_store.write([Append("c:old", _event(10, "a"), 0), Append("c:new", _event(50, "b"), 0)])
    assert state_store.evict(20) == 1
    old, new = state_store.read(["c:old", "c:new"], [0, 0])
    assert old == [] and len(new) == 1


def test_clear_forgets_everything(state_store: StateStore):
    state_store.write([Append("c:1", _event(10, "a"), 0)])
    state_store.clear()
    assert state_store.size() == 0
    assert state_store.read(["c:1"], [0]) == [[]]
