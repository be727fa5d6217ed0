"""Group many small calls from concurrent requests into one, on a worker thread.

A commit per scored transaction caps a process at a few thousand a second on PostgreSQL and
puts a network round trip on every authorisation. A ``Batcher`` takes items from any number
of requests, hands whatever has queued up to one function call (one INSERT, one SELECT …
IN, one model call), and gives each request its own result. Under light load a batch holds
one item; under heavy load the call is shared, so throughput grows with load instead of
collapsing.

Crossing between the event loop and a thread is what costs here, not the call: each wake-up
of the other side is a context switch and a hand-over of the GIL, which measured more than
the database work itself. So the crossings are per batch, not per request:

- requests awaiting a result (:meth:`submit_many`) are staged on the event loop and handed
  to the worker together once the loop has run everything that was ready;
- the worker answers a whole batch with one callback on each waiting loop;
- fire-and-forget items (:meth:`offer`: the request log, where a full queue drops the entry
  and counts it rather than slowing the response) linger up to ``linger_s`` so that one
  hand-over carries many.
"""

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")

logger = logging.getLogger(__name__)
_STOP = object()


class QueueFull(Exception):
    """The batcher's queue is full: the backend is slower than the traffic."""


@dataclass(slots=True)
class _Item(Generic[T, R]):
    """Values queued together (one request's batch) and who waits for their results."""

    values: Sequence[T]
    waiter: "asyncio.Future[list[R]] | Future[list[R]] | None"


class Batcher(Generic[T, R]):
    """One worker thread that calls ``handle`` with up to ``max_batch`` queued values.

    ``handle`` returns one result per value, in order; if it raises, every item of that
    batch gets the exception, and an exception returned in place of a result fails the item
    that value belongs to. ``dropped`` counts the fire-and-forget items refused because
    the queue was full, and ``failed`` the values whose batch raised. At most ``max_queue``
    values wait (staged or queued); beyond that a caller gets ``QueueFull``.
    """

    def __init__(
        self,
        name: str,
        handle: Callable[[Sequence[T]], Sequence[R]],
        *,
        max_batch: int = 500,
        max_queue: int = 50_000,
        linger_s: float = 0.0,
    ) -> None:
        self.name = name
        self._handle = handle
        self._max_batch = max_batch
        self._max_queue = max_queue
        self._linger_s = linger_s
        self._queue: queue.SimpleQueue[list[_Item[T, R]] | object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._staged: list[_Item[T, R]] = []
        self._waiting = 0  # values staged or queued, not yet handled
        self._thread: threading.Thread | None = None
        self.dropped = 0
        self.failed = 0
        self.batches = 0

    @property
    def depth(self) -> int:
        """Values waiting; a growing depth means the backend falls behind."""
        return self._waiting

    def start(self) -> None:
        """Start the worker thread; items offered before are kept."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Handle everything staged or queued so far, then stop the thread."""
        self._hand_over()
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout_s)
        self._thread = None

    async def submit(self, value: T) -> R:
        """Queue ``value`` and wait for its result without blocking the event loop."""
        return (await self.submit_many([value]))[0]

    async def submit_many(self, values: Sequence[T]) -> list[R]:
        """Queue ``values`` as one item and wait for their results, in order."""
        if not values:
            return []
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[R]] = loop.create_future()
        if not self._stage(_Item(values, future), loop, 0.0):
            raise QueueFull(f"{self.name}: {self._max_queue} items are waiting")
        return await future

    def call(self, value: T, timeout_s: float | None = None) -> R:
        """Queue ``value`` and wait for its result, from a plain thread."""
        future: Future[list[R]] = Future()
        if not self._admit(1):
            raise QueueFull(f"{self.name}: {self._max_queue} items are waiting")
        self._queue.put([_Item([value], future)])
        return future.result(timeout_s)[0]

    def offer(self, value: T) -> bool:
        """Queue ``value`` without waiting for anything; False (and counted) when full.

        On an event loop the value lingers with others for one hand-over; from a plain
        thread it is queued at once.
        """
        item: _Item[T, R] = _Item([value], None)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        accepted = self._stage(item, loop, self._linger_s) if loop is not None else self._admit(1)
        if not accepted:
            self.dropped += 1
            return False
        if loop is None:
            self._queue.put([item])
        return True

    def _admit(self, count: int) -> bool:
        with self._lock:
            if self._waiting + count > self._max_queue:
                return False
            self._waiting += count
            return True

    def _stage(self, item: _Item[T, R], loop: asyncio.AbstractEventLoop, delay_s: float) -> bool:
        """Keep ``item`` for the next hand-over, scheduling one if none is pending."""
        with self._lock:
            if self._waiting + len(item.values) > self._max_queue:
                return False
            self._waiting += len(item.values)
            first = not self._staged
            self._staged.append(item)
        if first:
            if delay_s > 0:
                loop.call_later(delay_s, self._hand_over)
            else:
                loop.call_soon(self._hand_over)
        return True

    def _hand_over(self) -> None:
        with self._lock:
            staged, self._staged = self._staged, []
        if staged:
            self._queue.put(staged)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch = cast(list[_Item[T, R]], first)
            size = sum(len(item.values) for item in batch)
            while size < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stopping = True
                    break
                items = cast(list[_Item[T, R]], more)
                batch = [*batch, *items]
                size += sum(len(item.values) for item in items)
            self._flush(batch, size)

    def _flush(self, batch: list[_Item[T, R]], size: int) -> None:
        self.batches += 1
        values = [value for item in batch for value in item.values]
        try:
            results: Sequence[R] | BaseException = self._handle(values)
        except Exception as exc:
            self.failed += size
            logger.warning("%s: a batch of %d failed: %s", self.name, size, exc)
            results = exc
        finally:
            with self._lock:
                self._waiting -= size
        _answer(batch, results)


def _answer(batch: "list[_Item[T, R]]", results: "Sequence[R] | BaseException") -> None:
    """Every waiter its results (or the batch's error): one callback per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[list[R]], object]]] = {}
    start = 0
    for item in batch:
        end = start + len(item.values)
        outcome = results if isinstance(results, BaseException) else _failure_or(results[start:end])
        start = end
        waiter = item.waiter
        if isinstance(waiter, asyncio.Future):
            by_loop.setdefault(waiter.get_loop(), []).append((waiter, outcome))
        elif waiter is not None and not waiter.done():
            _settle(waiter, outcome)
    for loop, answers in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle_all, answers)
        except RuntimeError:  # that loop has closed: nobody is waiting any more
            continue


def _failure_or(results: "Sequence[R]") -> "list[R] | BaseException":
    """An item's results, or the first exception among them: ``handle`` may fail some items
    of a batch alone by returning an exception in their place."""
    for result in results:
        if isinstance(result, BaseException):
            return result
    return list(results)


def _settle_all(answers: "list[tuple[asyncio.Future[list[R]], object]]") -> None:
    for future, outcome in answers:
        if not future.done():
            _settle(future, outcome)


def _settle(waiter: "asyncio.Future[list[R]] | Future[list[R]]", outcome: object) -> None:
    if isinstance(outcome, BaseException):
        waiter.set_exception(outcome)
    else:
        waiter.set_result(outcome)  # type: ignore[arg-type]
