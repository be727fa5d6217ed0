"""The batching thread: results back to each caller, failures to every caller of the batch."""

import asyncio
import threading
from collections.abc import Sequence

import pytest

from txguard.scoring.batcher import Batcher, QueueFull


def doubled(values: Sequence[int]) -> list[int]:
    return [2 * v for v in values]


def test_each_caller_gets_its_own_results_in_order() -> None:
    batcher: Batcher[int, int] = Batcher("test", doubled)
    batcher.start()

    async def run() -> tuple[list[int], list[int], list[int]]:
        singles = await asyncio.gather(*(batcher.submit(i) for i in range(50)))
        many = await batcher.submit_many([7, 8, 9])
        return list(singles), many, await batcher.submit_many([])

    try:
        singles, many, empty = asyncio.run(run())
        from_a_thread = batcher.call(21, timeout_s=5)
    finally:
        batcher.stop()
    assert from_a_thread == 42
    assert singles == [2 * i for i in range(50)]
    assert many == [14, 16, 18] and empty == []


def test_concurrent_callers_share_batches() -> None:
    sizes: list[int] = []
    gate = threading.Event()

    def slow(values: Sequence[int]) -> list[int]:
        gate.wait(5)
        sizes.append(len(values))
        return list(values)

    batcher: Batcher[int, int] = Batcher("test", slow, max_batch=100)
    batcher.start()

    async def run() -> list[int]:
        first = asyncio.ensure_future(batcher.submit(0))
        await asyncio.sleep(0.05)  # the worker now holds item 0 and waits at the gate
        rest = [asyncio.ensure_future(batcher.submit(i)) for i in range(1, 30)]
        await asyncio.sleep(0.05)
        gate.set()
        return [await first] + [await r for r in rest]

    try:
        assert asyncio.run(run()) == list(range(30))
    finally:
        batcher.stop()
    assert sizes == [1, 29]


def test_a_failing_batch_fails_every_caller_in_it() -> None:
    def broken(values: Sequence[int]) -> list[int]:
        raise RuntimeError("database gone")

    batcher: Batcher[int, int] = Batcher("test", broken)
    batcher.start()

    async def run() -> list[BaseException | int]:
        return await asyncio.gather(
            batcher.submit(1), batcher.submit_many([2, 3]), return_exceptions=True
        )  # type: ignore[arg-type]

    try:
        outcomes = asyncio.run(run())
    finally:
        batcher.stop()
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    assert batcher.failed == 3


def test_a_full_queue_refuses_and_counts_fire_and_forget_items() -> None:
    batcher: Batcher[int, int] = Batcher(
        "test", doubled, max_queue=2
    )  # not started: nothing drains
    assert batcher.offer(1) and batcher.offer(2)
    assert not batcher.offer(3)
    assert batcher.dropped == 1 and batcher.depth == 2
    with pytest.raises(QueueFull):
        asyncio.run(batcher.submit(4))


def test_stop_handles_what_was_queued() -> None:
    seen: list[int] = []
    batcher: Batcher[int, None] = Batcher("test", lambda values: [seen.append(v) for v in values])  # type: ignore[func-returns-value]
    for i in range(5):
        batcher.offer(i)
    batcher.start()
    batcher.stop()
    assert seen == [0, 1, 2, 3, 4]
