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
    value: T
    future: "Future[R] | None"


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
        future: Future[R] = Future()
        try:
            self._queue.put_nowait(_Item(value, future))
        except queue.Full:
            raise QueueFull(f"{self.name}: {self._queue.maxsize} items are waiting") from None
        return await asyncio.wrap_future(future)

    def call(self, value: T, timeout_s: float | None = None) -> R:
        """Queue ``value`` and wait for its result, from a plain thread."""
        future: Future[R] = Future()
        try:
            self._queue.put_nowait(_Item(value, future))
        except queue.Full:
            raise QueueFull(f"{self.name}: {self._queue.maxsize} items are waiting") from None
        return future.result(timeout_s)

    def offer(self, value: T) -> bool:
        """Queue ``value`` without waiting for anything; False (and counted) when full."""
        try:
            self._queue.put_nowait(_Item(value, None))
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
            while len(batch) < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stopping = True
                    break
                batch.append(more)
            self._flush(batch)  # type: ignore[arg-type]

    def _flush(self, batch: list[_Item[T, R]]) -> None:
        self.batches += 1
        try:
            results = self._handle([item.value for item in batch])
        except Exception as exc:
            self.failed += len(batch)
            logger.warning("%s: a batch of %d failed: %s", self.name, len(batch), exc)
            for item in batch:
                if item.future is not None and not item.future.cancelled():
                    item.future.set_exception(exc)
            return
        for item, result in zip(batch, results, strict=True):
            if item.future is not None and not item.future.cancelled():
                item.future.set_result(result)
