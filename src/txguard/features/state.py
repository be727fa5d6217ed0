"""Where online feature state lives: time-ordered event lists, one per card or terminal key.

The feature engine asks only two things of a store: the events of some keys newer than a
time, and to append events (dropping what has fallen out of the longest window). Keeping
the interface that small lets an in-process dictionary and a shared Redis server behave
the same, and one contract suite proves they do. Times are integer milliseconds, so window
edges compare exactly on every backend.
"""

import sys
from bisect import bisect_right, insort
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

Event = tuple[int, str, str, float, int]
"""``(time_ms, event_id, tag, value, flag)``.

``event_id`` is the transaction's id: a key holds at most one event per id, so a label
reported twice (analyst and chargeback) counts once. ``tag``, ``value`` and ``flag`` carry
what the feature needs (the terminal, the amount, "was unusually large").
"""


@dataclass(slots=True)  # not frozen: built twice per transaction, treat as read-only
class Append:
    """Add ``event`` to ``key``'s list and forget its events at or before ``keep_after_ms``.

    An event whose id the key already holds is ignored.
    """

    key: str
    event: Event
    keep_after_ms: int


class StateStore(Protocol):
    """Time-ordered event lists shared by every process that scores the same cards."""

    def read(self, keys: Sequence[str], after_ms: Sequence[int]) -> list[list[Event]]:
        """The events of each key with time > its ``after_ms``, oldest first, in one trip."""
        ...

    def write(self, appends: Sequence[Append]) -> None:
        """Apply the appends, pruning each key to its horizon, in one trip."""
        ...

    def evict(self, before_ms: int) -> int:
        """Drop keys whose newest event is at or before ``before_ms``; return how many."""
        ...

    def size(self) -> int:
        """The number of events held, for health checks and memory tests."""
        ...

    def clear(self) -> None:
        """Forget everything (a replay starts from empty state)."""
        ...


class _Series:
    """One key's events, with their times kept apart so windows are found by bisection."""

    __slots__ = ("events", "times")

    def __init__(self) -> None:
        self.times: list[int] = []
        self.events: list[Event] = []

    def add(self, event: Event) -> None:
        if self._holds(event):
            return
        if not self.times or event[0] >= self.times[-1]:
            self.times.append(event[0])
            self.events.append(event)
            return
        position = bisect_right(self.times, event[0])
        insort(self.times, event[0])
        self.events.insert(position, event)

    def _holds(self, event: Event) -> bool:
        """An event's id always comes with the same time, so only equal times are looked at."""
        index = bisect_right(self.times, event[0]) - 1
        while index >= 0 and self.times[index] == event[0]:
            if self.events[index][1] == event[1]:
                return True
            index -= 1
        return False

    def prune(self, keep_after_ms: int) -> None:
        if self.times and self.times[0] <= keep_after_ms:
            cut = bisect_right(self.times, keep_after_ms)
            del self.times[:cut]
            del self.events[:cut]

    def after(self, after_ms: int) -> list[Event]:
        return self.events[bisect_right(self.times, after_ms) :]


class MemoryStore:
    """The embedded default: state in this process, lost when it stops.

    Events out of time order (a late label) are inserted in place, so reads stay ordered.
    """

    def __init__(self) -> None:
        self._series: dict[str, _Series] = {}

    def read(self, keys: Sequence[str], after_ms: Sequence[int]) -> list[list[Event]]:
        """See ``StateStore.read``."""
        out: list[list[Event]] = []
        for key, after in zip(keys, after_ms, strict=True):
            series = self._series.get(key)
            out.append(series.after(after) if series is not None else [])
        return out

    def write(self, appends: Sequence[Append]) -> None:
        """See ``StateStore.write``."""
        for append in appends:
            series = self._series.get(append.key)
            if series is None:
                series = self._series[append.key] = _Series()
            series.add(append.event)
            series.prune(append.keep_after_ms)

    def load(self, key: str, events: list[Event]) -> None:
        """Set ``key``'s events from a list in time order, each id once (as a store reads
        them): one step instead of an ordered insert per event."""
        series = self._series[key] = _Series()
        series.events = events
        series.times = [event[0] for event in events]

    def evict(self, before_ms: int) -> int:
        """See ``StateStore.evict``."""
        stale = [k for k, s in self._series.items() if not s.times or s.times[-1] <= before_ms]
        for key in stale:
            del self._series[key]
        return len(stale)

    def size(self) -> int:
        """See ``StateStore.size``."""
        return sum(len(s.times) for s in self._series.values())

    def appends(self) -> Iterator[Append]:
        """Everything held, as the appends that put it into another store."""
        for key, series in self._series.items():
            for event in series.events:
                yield Append(key, event, -1)

    def clear(self) -> None:
        """See ``StateStore.clear``."""
        self._series.clear()

    def memory_bytes(self) -> int:
        """Bytes held by the state (lists, tuples, numbers, strings; shared ones once).

        Walks everything, so it is for health checks and benchmarks, not the hot path.
        """
        seen: set[int] = set()
        total = sys.getsizeof(self._series)
        for key, series in self._series.items():
            total += sys.getsizeof(key) + sys.getsizeof(series)
            total += sys.getsizeof(series.times) + sys.getsizeof(series.events)
            for event in series.events:
                total += sys.getsizeof(event)
                for part in event:
                    if id(part) not in seen:
                        seen.add(id(part))
                        total += sys.getsizeof(part)
        return total


class StagedStore:
    """One batch's view of a shared store: read in one trip, written back in one trip.

    Scoring a batch against Redis one transaction at a time costs two round trips each
    (read the card and terminal, record the transaction). Staged, the batch's keys are read
    together into memory first, each transaction is computed and recorded there in order
    (so a card paying twice in one batch sees its first payment), and the records go back
    together with ``flush``. Another process's writes to the same keys while the batch is
    scored are not seen by it, as they would not be by a transaction scored at that moment.
    """

    def __init__(self, remote: StateStore, keys: Sequence[str], after_ms: Sequence[int]) -> None:
        self.remote = remote
        self.pending: list[Append] = []
        self._local = MemoryStore()
        for key, events in zip(keys, remote.read(keys, after_ms), strict=True):
            self._local.load(key, events)

    def read(self, keys: Sequence[str], after_ms: Sequence[int]) -> list[list[Event]]:
        """See ``StateStore.read``: from what was read for the batch and recorded since."""
        return self._local.read(keys, after_ms)

    def write(self, appends: Sequence[Append]) -> None:
        """See ``StateStore.write``: kept here until ``flush``."""
        self._local.write(appends)
        self.pending.extend(appends)

    @property
    def recorded(self) -> set[str]:
        """The transactions whose records wait for ``flush``."""
        return {append.event[1] for append in self.pending}

    def flush(self) -> None:
        """Write what the batch recorded to the shared store, in one trip."""
        self.remote.write(self.pending)
        self.pending = []

    def evict(self, before_ms: int) -> int:
        """See ``StateStore.evict``: done by the shared store."""
        return self.remote.evict(before_ms)

    def size(self) -> int:
        """See ``StateStore.size``: of the shared store."""
        return self.remote.size()

    def clear(self) -> None:
        """See ``StateStore.clear``: of the shared store, and the batch forgets its view."""
        self.remote.clear()
        self._local.clear()
        self.pending = []
