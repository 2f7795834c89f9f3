"""Lock, Event, Condition, Semaphore, BoundedSemaphore on our loop and on asyncio's."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine
from typing import Any, Literal

import pytest

import loop_core
from loop_sync import BoundedSemaphore, Condition, Event, Lock, Semaphore


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> Any:
    return loop.run_until_complete(coro)


def forbid_futures(loop: asyncio.AbstractEventLoop) -> None:
    def refuse() -> Any:
        raise AssertionError("a future was created on the uncontended path")

    loop.create_future = refuse  # type: ignore[method-assign]


def test_uncontended_paths_create_no_future(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        lock, event, semaphore = Lock(), Event(), Semaphore(2)
        forbid_futures(any_loop)
        async with lock:
            pass
        event.set()
        assert await event.wait()
        async with semaphore, semaphore:
            pass
        condition = Condition()
        async with condition:
            condition.notify_all()

    run(any_loop, main())


def test_lock_is_fair_fifo(any_loop: asyncio.AbstractEventLoop) -> None:
    lock = Lock()
    order: list[int] = []

    async def worker(i: int) -> None:
        async with lock:
            order.append(i)
            await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.gather(*(worker(i) for i in range(50)))

    run(any_loop, main())
    assert order == list(range(50))


def test_lock_release_unlocked_is_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="not acquired"):
        Lock().release()


def test_lock_handed_to_cancelled_waiter_passes_on(any_loop: asyncio.AbstractEventLoop) -> None:
    lock = Lock()

    async def main() -> list[str]:
        got: list[str] = []
        await lock.acquire()

        async def wants(name: str) -> None:
            async with lock:
                got.append(name)

        first = any_loop.create_task(wants("first"))
        second = any_loop.create_task(wants("second"))
        await asyncio.sleep(0)
        lock.release()  # hands the lock to "first" ...
        first.cancel()  # ... which is cancelled before it runs
        await asyncio.gather(first, second, return_exceptions=True)
        assert not lock.locked()
        return got

    assert run(any_loop, main()) == ["second"]


def test_newcomer_cannot_barge_past_a_woken_waiter(any_loop: asyncio.AbstractEventLoop) -> None:
    lock = Lock()

    async def main() -> list[str]:
        got: list[str] = []
        await lock.acquire()

        async def wants(name: str) -> None:
            async with lock:
                got.append(name)
                await asyncio.sleep(0)

        waiting = any_loop.create_task(wants("waiting"))
        await asyncio.sleep(0)
        lock.release()
        newcomer = any_loop.create_task(wants("newcomer"))
        await asyncio.gather(waiting, newcomer)
        return got

    assert run(any_loop, main()) == ["waiting", "newcomer"]


def test_lock_cancellation_storm_never_deadlocks(any_loop: asyncio.AbstractEventLoop) -> None:
    lock = Lock()
    rng = random.Random(1234)
    held = [0]

    async def worker() -> None:
        for _ in range(20):
            async with lock:
                held[0] += 1
                assert held[0] == 1, "two holders at once"
                await asyncio.sleep(0)
                held[0] -= 1

    async def main() -> None:
        tasks = [any_loop.create_task(worker()) for _ in range(40)]
        for _ in range(60):
            await asyncio.sleep(0)
            rng.choice(tasks).cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert not lock.locked()
        async with asyncio.timeout(1):
            async with lock:
                pass

    run(any_loop, main())


def test_event_wakes_every_waiter(any_loop: asyncio.AbstractEventLoop) -> None:
    event = Event()

    async def main() -> list[Literal[True]]:
        waiters = [any_loop.create_task(event.wait()) for _ in range(1000)]
        await asyncio.sleep(0)
        assert not event.is_set()
        event.set()
        results = await asyncio.gather(*waiters)
        event.clear()
        assert not event.is_set()
        return results

    assert run(any_loop, main()) == [True] * 1000


def test_cancelled_event_waiter_is_removed(any_loop: asyncio.AbstractEventLoop) -> None:
    event = Event()

    async def main() -> None:
        waiter = any_loop.create_task(event.wait())
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert len(event._waiters) == 0

    run(any_loop, main())


def test_condition_notify_and_wait_for(any_loop: asyncio.AbstractEventLoop) -> None:
    condition = Condition()
    items: list[int] = []

    async def consumer() -> int:
        async with condition:
            await condition.wait_for(lambda: bool(items))
            return items.pop()

    async def main() -> list[int]:
        consumers = [any_loop.create_task(consumer()) for _ in range(3)]
        await asyncio.sleep(0)
        for i in range(3):
            async with condition:
                items.append(i)
                condition.notify()
            await asyncio.sleep(0)
        return sorted(await asyncio.gather(*consumers))

    assert run(any_loop, main()) == [0, 1, 2]


def test_condition_notify_all(any_loop: asyncio.AbstractEventLoop) -> None:
    condition = Condition()

    async def waiter() -> bool:
        async with condition:
            return await condition.wait()

    async def main() -> list[bool]:
        waiters = [any_loop.create_task(waiter()) for _ in range(5)]
        await asyncio.sleep(0)
        async with condition:
            condition.notify_all()
        return list(await asyncio.gather(*waiters))

    assert run(any_loop, main()) == [True] * 5


def test_condition_wait_holds_lock_even_when_cancelled(any_loop: asyncio.AbstractEventLoop) -> None:
    condition = Condition()

    async def waiter() -> None:
        async with condition:
            try:
                await condition.wait()
            finally:
                assert condition.locked()

    async def main() -> None:
        task = any_loop.create_task(waiter())
        await asyncio.sleep(0)
        async with condition:
            task.cancel()
            await asyncio.sleep(0)
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not condition.locked()

    run(any_loop, main())


def test_condition_notification_survives_a_cancelled_waiter(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    condition = Condition()
    woken: list[str] = []

    async def waiter(name: str) -> None:
        async with condition:
            await condition.wait()
            woken.append(name)

    async def main() -> None:
        first = any_loop.create_task(waiter("first"))
        second = any_loop.create_task(waiter("second"))
        await asyncio.sleep(0)
        async with condition:
            condition.notify(1)  # goes to "first" ...
            first.cancel()  # ... which is cancelled before it can run
        await asyncio.gather(first, return_exceptions=True)
        async with asyncio.timeout(1):
            await second

    run(any_loop, main())
    assert woken == ["second"]


def test_condition_requires_the_lock(any_loop: asyncio.AbstractEventLoop) -> None:
    condition = Condition()
    with pytest.raises(RuntimeError, match="un-acquired"):
        condition.notify()
    with pytest.raises(RuntimeError, match="un-acquired"):
        condition.notify_all()
    with pytest.raises(RuntimeError, match="un-acquired"):
        run(any_loop, condition.wait())


def test_semaphore_bounds_concurrency(any_loop: asyncio.AbstractEventLoop) -> None:
    semaphore = Semaphore(3)
    active = [0]
    peak = [0]

    async def worker() -> None:
        async with semaphore:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            await asyncio.sleep(0.001)
            active[0] -= 1

    async def main() -> None:
        await asyncio.gather(*(worker() for _ in range(30)))

    run(any_loop, main())
    assert peak[0] == 3
    assert not semaphore.locked()


def test_semaphore_slot_of_cancelled_waiter_goes_to_next(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    semaphore = Semaphore(0)

    async def main() -> None:
        first = any_loop.create_task(semaphore.acquire())
        second = any_loop.create_task(semaphore.acquire())
        await asyncio.sleep(0)
        semaphore.release()  # the slot goes to "first" ...
        first.cancel()  # ... which is cancelled before it runs
        await asyncio.gather(first, return_exceptions=True)
        async with asyncio.timeout(1):
            assert await second

    run(any_loop, main())


def test_semaphore_bad_input() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        Semaphore(-1)


def test_bounded_semaphore_over_release(any_loop: asyncio.AbstractEventLoop) -> None:
    semaphore = BoundedSemaphore(2)

    async def main() -> None:
        await semaphore.acquire()
        semaphore.release()
        with pytest.raises(ValueError, match="too many times"):
            semaphore.release()

    run(any_loop, main())


def test_primitive_is_bound_to_first_loop(any_loop: asyncio.AbstractEventLoop) -> None:
    lock = Lock()

    async def contend() -> None:
        async with lock:
            inner = asyncio.get_running_loop().create_task(lock.acquire())
            await asyncio.sleep(0)
            inner.cancel()

    run(any_loop, contend())
    other = loop_core.new_event_loop()
    try:

        async def elsewhere() -> None:
            await lock.acquire()
            await lock.acquire()

        with pytest.raises(RuntimeError, match="bound to a different event loop"):
            other.run_until_complete(elsewhere())
    finally:
        other.close()


def test_reprs(any_loop: asyncio.AbstractEventLoop) -> None:
    # asyncio's format: <module.Class object at 0x... [state, waiters:N]>
    lock = Lock()
    assert repr(lock) == f"<loop_sync.Lock object at {id(lock):#x} [unlocked]>"
    assert repr(Event()).endswith(" [unset]>")
    assert "value:2" in repr(Semaphore(2))


def test_cancelled_waiter_does_not_hand_the_lock_to_two_tasks(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    # Regression: the first waiter cancelled in the same callback as release()
    # used to wake a second waiter besides the one release() woke.
    async def main() -> int:
        lock = Lock()
        holders = 0

        async def take() -> None:
            nonlocal holders
            await lock.acquire()
            holders += 1

        await lock.acquire()
        tasks = [asyncio.ensure_future(take()) for _ in range(3)]
        await asyncio.sleep(0)

        def cancel_first_then_release() -> None:
            tasks[0].cancel()
            lock.release()

        any_loop.call_soon(cancel_first_then_release)
        with pytest.raises(asyncio.CancelledError):
            await tasks[0]
        await asyncio.sleep(0)
        tasks[2].cancel()
        await asyncio.gather(*tasks[1:], return_exceptions=True)
        return holders

    assert any_loop.run_until_complete(main()) == 1
