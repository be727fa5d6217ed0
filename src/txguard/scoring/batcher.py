"""Group many small database calls from concurrent requests into one, on a worker thread.

A commit per scored transaction caps a process at a few thousand a second on PostgreSQL and
puts a network round trip on every authorisation. A ``Batcher`` takes items from any number
of requests, hands whatever has queued up to one function call (one INSERT, one SELECT …
IN), and gives each request its own result. Under light load a batch holds one item and
costs one round trip; under heavy load the round trip is shared, so throughput grows with
load instead of collapsing.

Callers either await their result (:meth:`submit`: the decision must be stored before the
payment switch is answered) or fire and forget (:meth:`offer`: the request log, where a full
queue drops the entry and counts it rather than slowing the response).
"""

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

logger = logging.getLogger(__name__)
_STOP = object()


class QueueFull(Exception):
    """The batcher's queue is full: the backend is slower than the traffic."""


@dataclass(slots=True)
class _Item(Generic[T, R]):
    """Values queued together (one request's batch) and the one future of their results."""

    values: Sequence[T]
    future: "Future[list[R]] | None"


class Batcher(Generic[T, R]):
    """One worker thread that calls ``handle`` with up to ``max_batch`` queued items.

    ``handle`` returns one result per item, in order; if it raises, every item of that batch
    gets the exception. ``dropped`` counts the fire-and-forget items refused because the
    queue was full, and ``failed`` the items whose batch raised.
    """

    def __init__(
        self,
        name: str,
        handle: Callable[[Sequence[T]], Sequence[R]],
        *,
        max_batch: int = 500,
        max_queue: int = 50_000,
    ) -> None:
        self.name = name
        self._handle = handle
        self._max_batch = max_batch
        self._queue: queue.Queue[_Item[T, R] | object] = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None
        self.dropped = 0
        self.failed = 0
        self.batches = 0

    @property
    def depth(self) -> int:
        """Items waiting; a growing depth means the backend falls behind."""
        return self._queue.qsize()

    def start(self) -> None:
        """Start the worker thread; items offered before are kept."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Handle everything queued so far, then stop the thread."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout_s)
        self._thread = None

    async def submit(self, value: T) -> R:
        """Queue ``value`` and wait for its result without blocking the event loop."""
        return (await self.submit_many([value]))[0]

    async def submit_many(self, values: Sequence[T]) -> list[R]:
        """Queue ``values`` as one item and wait for their results, in order.

        A request's whole batch crosses to the worker thread once, not once per value.
        """
        if not values:
            return []
        return await asyncio.wrap_future(self._put(values))

    def call(self, value: T, timeout_s: float | None = None) -> R:
        """Queue ``value`` and wait for its result, from a plain thread."""
        return self._put([value]).result(timeout_s)[0]

    def _put(self, values: Sequence[T]) -> "Future[list[R]]":
        future: Future[list[R]] = Future()
        try:
            self._queue.put_nowait(_Item(values, future))
        except queue.Full:
            raise QueueFull(f"{self.name}: {self._queue.maxsize} items are waiting") from None
        return future

    def offer(self, value: T) -> bool:
        """Queue ``value`` without waiting for anything; False (and counted) when full."""
        try:
            self._queue.put_nowait(_Item([value], None))
        except queue.Full:
            self.dropped += 1
            return False
        return True

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch = [first]
            size = len(first.values)  # type: ignore[attr-defined]
            while size < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stopping = True
                    break
                batch.append(more)
                size += len(more.values)  # type: ignore[attr-defined]
            self._flush(batch)  # type: ignore[arg-type]

    def _flush(self, batch: list[_Item[T, R]]) -> None:
        self.batches += 1
        values = [value for item in batch for value in item.values]
        try:
            results = self._handle(values)
        except Exception as exc:
            self.failed += len(values)
            logger.warning("%s: a batch of %d failed: %s", self.name, len(values), exc)
            for item in batch:
                if item.future is not None and not item.future.cancelled():
                    item.future.set_exception(exc)
            return
        start = 0
        for item in batch:
            end = start + len(item.values)
            if item.future is not None and not item.future.cancelled():
                item.future.set_result(list(results[start:end]))
            start = end
