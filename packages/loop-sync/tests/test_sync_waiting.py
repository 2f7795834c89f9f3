"""Waiting in every primitive: cancelled and timed-out waiters, subclasses.

Compiled, the primitives await futures through their own iterator (a
compiled coroutine hands ``throw()`` on with the signature Python 3.12
deprecated); these tests hold in both build modes and on both loops.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from loop_sync import Barrier, Condition, Event, Lock, Queue, Semaphore


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

    async def acquire(self) -> bool:
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
