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


def test_offers_on_an_event_loop_linger_and_share_one_hand_over() -> None:
    sizes: list[int] = []

    def record(values: Sequence[int]) -> list[None]:
        sizes.append(len(values))
        return [None] * len(values)

    batcher: Batcher[int, None] = Batcher("test", record, linger_s=0.05)
    batcher.start()

    async def run() -> int:
        for i in range(100):
            assert batcher.offer(i)
            await asyncio.sleep(0)  # other requests run between the offers
        depth = batcher.depth
        await asyncio.sleep(0.2)
        return depth

    try:
        waiting = asyncio.run(run())
    finally:
        batcher.stop()
    assert waiting == 100
    assert sizes == [100]
    assert batcher.depth == 0


def test_requests_of_one_loop_iteration_cross_to_the_worker_together() -> None:
    sizes: list[int] = []

    def record(values: Sequence[int]) -> list[int]:
        sizes.append(len(values))
        return [v + 1 for v in values]

    batcher: Batcher[int, int] = Batcher("test", record)
    batcher.start()

    async def run() -> list[int]:
        return list(await asyncio.gather(*(batcher.submit(i) for i in range(40))))

    try:
        answers = asyncio.run(run())
    finally:
        batcher.stop()
    assert answers == [i + 1 for i in range(40)]
    assert sizes == [40]


def test_a_caller_that_gave_up_does_not_disturb_the_others() -> None:
    gate = threading.Event()

    def slow(values: Sequence[int]) -> list[int]:
        gate.wait(5)
        return list(values)

    batcher: Batcher[int, int] = Batcher("test", slow)
    batcher.start()

    async def run() -> int:
        impatient = asyncio.ensure_future(batcher.submit(1))
        patient = asyncio.ensure_future(batcher.submit(2))
        await asyncio.sleep(0.05)
        impatient.cancel()
        gate.set()
        return await patient

    try:
        assert asyncio.run(run()) == 2
    finally:
        batcher.stop()


def test_stop_hands_over_what_is_still_staged() -> None:
    seen: list[int] = []

    def record(values: Sequence[int]) -> list[None]:
        seen.extend(values)
        return [None] * len(values)

    batcher: Batcher[int, None] = Batcher("test", record, linger_s=60)
    batcher.start()

    async def run() -> None:
        for i in range(3):
            batcher.offer(i)

    asyncio.run(run())
    batcher.stop()
    assert seen == [0, 1, 2]


def test_an_exception_in_place_of_a_result_fails_only_its_item() -> None:
    def picky(values: Sequence[int]) -> list[int | Exception]:
        return [ValueError(f"{v} is odd") if v % 2 else v for v in values]

    batcher: Batcher[int, int | Exception] = Batcher("test", picky)
    batcher.start()

    async def run() -> list[object]:
        return await asyncio.gather(
            batcher.submit(2), batcher.submit(3), batcher.submit_many([4, 6]),
            return_exceptions=True,
        )  # fmt: skip

    try:
        even, odd, both = asyncio.run(run())
    finally:
        batcher.stop()
    assert even == 2 and both == [4, 6]
    assert isinstance(odd, ValueError) and "3 is odd" in str(odd)
