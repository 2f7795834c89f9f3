"""Queue, PriorityQueue and LifoQueue: order, bounds, join, shutdown, cancellation."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine
from typing import Any

import pytest

from loop_sync import LifoQueue, PriorityQueue, Queue, QueueEmpty, QueueFull, QueueShutDown


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> Any:
    return loop.run_until_complete(coro)


def test_exceptions_are_asyncio_classes() -> None:
    assert QueueEmpty is asyncio.QueueEmpty
    assert QueueFull is asyncio.QueueFull
    if hasattr(asyncio, "QueueShutDown"):
        assert QueueShutDown is asyncio.QueueShutDown


def test_fifo_lifo_priority_order(any_loop: asyncio.AbstractEventLoop) -> None:
    async def drain(queue: Queue[int]) -> list[int]:
        for item in (3, 1, 2):
            await queue.put(item)
        return [await queue.get() for _ in range(3)]

    assert run(any_loop, drain(Queue())) == [3, 1, 2]
    assert run(any_loop, drain(LifoQueue())) == [2, 1, 3]
    assert run(any_loop, drain(PriorityQueue())) == [1, 2, 3]


def test_bounded_queue_blocks_putters(any_loop: asyncio.AbstractEventLoop) -> None:
    queue: Queue[int] = Queue(maxsize=2)

    async def main() -> list[int]:
        await queue.put(1)
        await queue.put(2)
        assert queue.full()
        with pytest.raises(QueueFull):
            queue.put_nowait(3)
        blocked = any_loop.create_task(queue.put(3))
        await asyncio.sleep(0)
        assert not blocked.done()
        first = await queue.get()
        await blocked
        return [first, queue.get_nowait(), queue.get_nowait()]

    assert run(any_loop, main()) == [1, 2, 3]
    assert queue.maxsize == 2


def test_get_nowait_on_empty(any_loop: asyncio.AbstractEventLoop) -> None:
    with pytest.raises(QueueEmpty):
        Queue[int]().get_nowait()


def test_many_producers_and_consumers(any_loop: asyncio.AbstractEventLoop) -> None:
    queue: Queue[int] = Queue(maxsize=5)
    received: list[int] = []

    async def producer(start: int) -> None:
        for i in range(start, start + 100):
            await queue.put(i)

    async def consumer() -> None:
        while True:
            item = await queue.get()
            received.append(item)
            queue.task_done()

    async def main() -> None:
        consumers = [any_loop.create_task(consumer()) for _ in range(10)]
        await asyncio.gather(*(producer(p * 100) for p in range(10)))
        await queue.join()
        for task in consumers:
            task.cancel()
        await asyncio.gather(*consumers, return_exceptions=True)

    run(any_loop, main())
    assert sorted(received) == list(range(1000))


def test_cancelled_getters_never_drop_items(any_loop: asyncio.AbstractEventLoop) -> None:
    queue: Queue[int] = Queue()
    rng = random.Random(99)

    async def main() -> list[int]:
        got: list[int] = []

        async def getter() -> None:
            got.append(await queue.get())

        getters = [any_loop.create_task(getter()) for _ in range(50)]
        await asyncio.sleep(0)
        for i in range(50):
            queue.put_nowait(i)
            if rng.random() < 0.5:
                rng.choice(getters).cancel()
        await asyncio.gather(*getters, return_exceptions=True)
        while not queue.empty():
            got.append(queue.get_nowait())
        return got

    assert sorted(run(any_loop, main())) == list(range(50))


def test_join_and_task_done(any_loop: asyncio.AbstractEventLoop) -> None:
    queue: Queue[str] = Queue()

    async def main() -> None:
        queue.put_nowait("job")
        joined = any_loop.create_task(queue.join())
        await asyncio.sleep(0)
        assert not joined.done()
        queue.get_nowait()
        queue.task_done()
        await joined
        with pytest.raises(ValueError, match="too many times"):
            queue.task_done()

    run(any_loop, main())


def test_shutdown_graceful(any_loop: asyncio.AbstractEventLoop) -> None:
    queue: Queue[int] = Queue(maxsize=1)

    async def main() -> None:
        queue.put_nowait(1)
        blocked_put = any_loop.create_task(queue.put(2))
        await asyncio.sleep(0)
        queue.shutdown()
        with pytest.raises(QueueShutDown):
            await blocked_put
        with pytest.raises(QueueShutDown):
            queue.put_nowait(3)
        assert await queue.get() == 1  # what was queued can still be taken
        with pytest.raises(QueueShutDown):
            await queue.get()

    run(any_loop, main())


def test_shutdown_immediate_wakes_getters_and_join(any_loop: asyncio.AbstractEventLoop) -> None:
    queue: Queue[int] = Queue()

    async def main() -> None:
        waiting_get = any_loop.create_task(queue.get())
        await asyncio.sleep(0)
        queue.put_nowait(5)
        queue.put_nowait(6)
        joined = any_loop.create_task(queue.join())
        queue.shutdown(immediate=True)
        # The items were discarded before the woken getter ran.
        with pytest.raises(QueueShutDown):
            await waiting_get
        await asyncio.wait_for(joined, 1)
        assert queue.empty()
        with pytest.raises(QueueShutDown):
            queue.get_nowait()

    run(any_loop, main())


def test_repr(any_loop: asyncio.AbstractEventLoop) -> None:
    queue: Queue[int] = Queue(3)
    queue.put_nowait(1)
    assert repr(queue) == f"<Queue at {id(queue):#x} maxsize=3 _queue=[1] tasks=1>"
    assert str(queue) == "<Queue maxsize=3 _queue=[1] tasks=1>"
