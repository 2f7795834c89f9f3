"""Waiting in every primitive: cancelled and timed-out waiters, subclasses.

Compiled, the primitives await futures through their own iterator (a
compiled coroutine hands ``throw()`` on with the signature Python 3.12
deprecated); these tests hold in both build modes and on both loops.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import pytest

from loop_sync import (
    Barrier,
    Condition,
    Event,
    Lock,
    PriorityQueue,
    Queue,
    QueueFull,
    Semaphore,
)


def _blocked_lock() -> Callable[[], Awaitable[Any]]:
    lock = Lock()
    lock._locked = True  # held by nobody we run: every acquire waits
    return lock.acquire


def _blocked_semaphore() -> Callable[[], Awaitable[Any]]:
    return Semaphore(0).acquire


def _unset_event() -> Callable[[], Awaitable[Any]]:
    return Event().wait


def _unnotified_condition() -> Callable[[], Awaitable[Any]]:
    condition = Condition()

    async def wait() -> Any:
        async with condition:
            return await condition.wait()

    return wait


def _empty_queue() -> Callable[[], Awaitable[Any]]:
    return Queue[int]().get


def _full_queue() -> Callable[[], Awaitable[Any]]:
    queue = Queue[int](maxsize=1)
    queue.put_nowait(0)
    return lambda: queue.put(1)


def _unfilled_barrier() -> Callable[[], Awaitable[Any]]:
    return Barrier(2).wait


WAITS = {
    "Lock.acquire": _blocked_lock,
    "Semaphore.acquire": _blocked_semaphore,
    "Event.wait": _unset_event,
    "Condition.wait": _unnotified_condition,
    "Queue.get": _empty_queue,
    "Queue.put": _full_queue,
    "Barrier.wait": _unfilled_barrier,
}


@pytest.mark.parametrize("make_wait", WAITS.values(), ids=list(WAITS))
def test_cancelled_waiter_raises_cancelled_error_and_warns_nothing(
    any_loop: asyncio.AbstractEventLoop, make_wait: Callable[[], Callable[[], Awaitable[Any]]]
) -> None:
    async def main() -> None:
        wait = make_wait()
        task = asyncio.ensure_future(wait())
        await asyncio.sleep(0)
        assert not task.done()
        task.cancel("stop waiting")
        with pytest.raises(asyncio.CancelledError, match="stop waiting"):
            await task
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(wait(), 0.01)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        any_loop.run_until_complete(main())
    assert [str(w.message) for w in caught] == []


def test_waiter_receives_the_value_and_exception_it_is_woken_with(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    async def main() -> None:
        queue = Queue[str]()
        getter = asyncio.ensure_future(queue.get())
        await asyncio.sleep(0)
        queue.put_nowait("item")
        assert await getter == "item"

        barrier = Barrier(3)
        waiter = asyncio.ensure_future(barrier.wait())
        await asyncio.sleep(0)
        await barrier.abort()
        with pytest.raises(asyncio.BrokenBarrierError):
            await waiter

    any_loop.run_until_complete(main())


class CountingLock(Lock):
    """An interpreted subclass, as users write them."""

    def __init__(self) -> None:
        super().__init__()
        self.acquired = 0

    async def acquire(self) -> Literal[True]:
        self.acquired += 1
        return await super().acquire()


class TaggedQueue(Queue[str]):
    def _put(self, item: str) -> None:
        super()._put(f"<{item}>")


def test_interpreted_subclasses_override_the_compiled_methods(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    async def main() -> None:
        lock = CountingLock()
        async with lock:
            assert lock.locked()
        async with lock:
            pass
        assert lock.acquired == 2

        queue = TaggedQueue()
        await queue.put("a")
        assert await queue.get() == "<a>"

    any_loop.run_until_complete(main())


class DedupeQueue(Queue[int]):
    """Replaces the storage hooks: items already seen are dropped."""

    def _init(self, maxsize: int | float) -> None:
        self._queue: list[int] = []
        self._seen: set[int] = set()

    def _put(self, item: int) -> None:
        if item not in self._seen:
            self._seen.add(item)
            self._queue.append(item)

    def _get(self) -> int:
        return self._queue.pop(0)


class PairQueue(Queue[int]):
    """Replaces full(): never more than two items, whatever maxsize says."""

    def full(self) -> bool:
        return self.qsize() >= 2


class LargestFirst(PriorityQueue[int]):
    def _put(self, item: int) -> None:
        super()._put(-item)

    def _get(self) -> int:
        return -super()._get()


def test_queue_subclasses_that_replace_hooks_are_honoured(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    async def main() -> None:
        dedupe = DedupeQueue()
        for item in (1, 1, 2, 1):
            await dedupe.put(item)
        assert dedupe.qsize() == 2
        assert [await dedupe.get(), dedupe.get_nowait()] == [1, 2]

        largest = LargestFirst()
        for item in (1, 3, 2):
            largest.put_nowait(item)
        assert [await largest.get() for _ in range(3)] == [3, 2, 1]

        pair = PairQueue()
        pair.put_nowait(1)
        await pair.put(2)
        with pytest.raises(QueueFull):
            pair.put_nowait(3)
        third = asyncio.ensure_future(pair.put(3))
        for _ in range(3):
            await asyncio.sleep(0)
        assert not third.done()
        assert await pair.get() == 1
        await third
        assert [pair.get_nowait(), pair.get_nowait()] == [2, 3]

    any_loop.run_until_complete(main())
