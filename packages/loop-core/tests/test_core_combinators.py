"""sleep, ensure_future, gather, shield, wait, as_completed on our loop and on asyncio's."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

import loop_core as lc


def run(loop: asyncio.AbstractEventLoop, coro: Any) -> Any:
    return loop.run_until_complete(coro)


def test_sleep_returns_result_after_delay(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> tuple[str, float]:
        started = any_loop.time()
        value = await lc.sleep(0.02, "slept")
        return value, any_loop.time() - started

    value, elapsed = run(any_loop, main())
    assert value == "slept"
    assert elapsed >= 0.015


def test_sleep_zero_lets_others_run(any_loop: asyncio.AbstractEventLoop) -> None:
    order: list[str] = []

    async def main() -> None:
        any_loop.call_soon(order.append, "callback")
        await lc.sleep(0)
        order.append("after sleep")

    run(any_loop, main())
    assert order == ["callback", "after sleep"]


def test_sleep_rejects_nan(any_loop: asyncio.AbstractEventLoop) -> None:
    with pytest.raises(ValueError, match="NaN"):
        run(any_loop, lc.sleep(math.nan))


def test_cancelled_sleep_cancels_its_timer(loop: lc.EventLoop) -> None:
    async def main() -> None:
        task = loop.create_task(lc.sleep(3600))
        await lc.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(loop, main())
    assert loop._cancelled_timers in (0, 1)
    assert all(t.cancelled() for t in loop._scheduled_timers())


def test_ensure_future_variants(any_loop: asyncio.AbstractEventLoop) -> None:
    class Awaitable:
        def __await__(self) -> Any:
            return lc.sleep(0, "awaited").__await__()

    async def main() -> list[Any]:
        future = any_loop.create_future()
        assert lc.ensure_future(future) is future
        task = lc.ensure_future(lc.sleep(0, "coro"))
        wrapped = lc.ensure_future(Awaitable())
        future.set_result("future")
        return [await future, await task, await wrapped]

    assert run(any_loop, main()) == ["future", "coro", "awaited"]
    with pytest.raises(TypeError, match="awaitable is required"):
        lc.ensure_future(42, loop=any_loop)  # type: ignore[call-overload]


def test_ensure_future_rejects_future_of_other_loop(loop: lc.EventLoop) -> None:
    other = lc.new_event_loop()
    try:
        future = other.create_future()
        with pytest.raises(ValueError, match="different loop"):
            lc.ensure_future(future, loop=loop)
    finally:
        other.close()


def test_gather_keeps_order_and_dedupes(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> tuple[str, str, str, str]:
        shared = lc.sleep(0.01, "shared")
        return await lc.gather(lc.sleep(0.02, "slow"), shared, lc.sleep(0, "fast"), shared)

    assert run(any_loop, main()) == ["slow", "shared", "fast", "shared"]


def test_gather_of_nothing(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> list[Any]:
        return await lc.gather()

    assert run(any_loop, main()) == []


def test_gather_raises_first_exception_others_keep_running(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    finished: list[str] = []

    async def fail() -> None:
        raise KeyError("first")

    async def slow() -> None:
        await lc.sleep(0.02)
        finished.append("slow")

    async def main() -> None:
        slow_task = any_loop.create_task(slow())
        with pytest.raises(KeyError):
            await lc.gather(fail(), slow_task)
        await slow_task

    run(any_loop, main())
    assert finished == ["slow"]


def test_gather_return_exceptions(any_loop: asyncio.AbstractEventLoop) -> None:
    async def fail() -> None:
        raise ValueError("returned")

    async def main() -> tuple[object, object, object]:
        cancelled: asyncio.Future[None] = any_loop.create_future()
        cancelled.cancel()
        return await lc.gather(lc.sleep(0, 1), fail(), cancelled, return_exceptions=True)

    first, second, third = run(any_loop, main())
    assert first == 1
    assert isinstance(second, ValueError)
    assert isinstance(third, asyncio.CancelledError)


def test_cancelling_gather_cancels_children(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> list[bool]:
        children = [any_loop.create_task(lc.sleep(10)) for _ in range(3)]
        gathered = lc.gather(*children, return_exceptions=True)
        await lc.sleep(0)
        assert gathered.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gathered
        return [c.cancelled() for c in children]

    assert run(any_loop, main()) == [True, True, True]


def test_shield_protects_inner(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> str:
        inner = any_loop.create_task(lc.sleep(0.02, "inner finished"))
        outer = any_loop.create_task(_await(lc.shield(inner)))
        await lc.sleep(0)
        outer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await outer
        return await inner

    assert run(any_loop, main()) == "inner finished"


async def _await(aw: Any) -> Any:
    return await aw


def test_shield_passes_result_and_exception(any_loop: asyncio.AbstractEventLoop) -> None:
    async def fail() -> None:
        await lc.sleep(0)
        raise OSError("inner failure")

    async def main() -> Any:
        assert await lc.shield(lc.sleep(0, 5)) == 5
        with pytest.raises(OSError, match="inner failure"):
            await lc.shield(fail())

    run(any_loop, main())


def test_wait_return_conditions(any_loop: asyncio.AbstractEventLoop) -> None:
    async def fail() -> None:
        await lc.sleep(0.01)
        raise RuntimeError("x")

    async def main() -> None:
        fast = any_loop.create_task(lc.sleep(0.001))
        slow = any_loop.create_task(lc.sleep(0.05))
        done, pending = await lc.wait({fast, slow}, return_when=lc.FIRST_COMPLETED)
        assert done == {fast}
        assert pending == {slow}

        failing = any_loop.create_task(fail())
        slower = any_loop.create_task(lc.sleep(0.2))
        done, pending = await lc.wait([failing, slower], return_when=lc.FIRST_EXCEPTION)
        assert done == {failing}
        assert pending == {slower}
        failing.exception()

        done, pending = await lc.wait([slow, slower])
        assert done == {slow, slower}
        assert not pending

    run(any_loop, main())


def test_wait_timeout_returns_pending(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        task = any_loop.create_task(lc.sleep(10))
        done, pending = await lc.wait([task], timeout=0.01)
        assert not done
        assert pending == {task}
        task.cancel()

    run(any_loop, main())


def test_wait_bad_input(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        with pytest.raises(ValueError, match="empty"):
            await lc.wait([])
        coro = lc.sleep(0)
        with pytest.raises(TypeError, match="coroutines is forbidden"):
            await lc.wait([coro])  # type: ignore[type-var]
        coro.close()
        future = any_loop.create_future()
        with pytest.raises(TypeError, match="expect a list of futures"):
            await lc.wait(future)
        with pytest.raises(ValueError, match="Invalid return_when"):
            await lc.wait([future], return_when="SOMETIME")
        future.cancel()

    run(any_loop, main())


def test_as_completed_plain_iteration(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> list[Any]:
        results = []
        for next_done in lc.as_completed(
            [lc.sleep(0.03, "c"), lc.sleep(0.01, "a"), lc.sleep(0.02, "b")]
        ):
            results.append(await next_done)
        return results

    assert run(any_loop, main()) == ["a", "b", "c"]


def test_as_completed_async_for_yields_tasks(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> list[Any]:
        tasks = [any_loop.create_task(lc.sleep(d, d)) for d in (0.02, 0.01)]
        seen = []
        async for finished in lc.as_completed(tasks):
            assert finished in tasks
            seen.append(finished.result())
        return seen

    assert run(any_loop, main()) == [0.01, 0.02]


def test_as_completed_timeout(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> list[Any]:
        slow = any_loop.create_task(lc.sleep(10))
        got = []
        with pytest.raises(TimeoutError):
            for next_done in lc.as_completed([lc.sleep(0, "quick"), slow], timeout=0.02):
                got.append(await next_done)
        slow.cancel()
        return got

    assert run(any_loop, main()) == ["quick"]


def test_as_completed_rejects_single_future(any_loop: asyncio.AbstractEventLoop) -> None:
    future = any_loop.create_future()
    with pytest.raises(TypeError, match="iterable of futures"):
        lc.as_completed(future)
    future.cancel()


def test_gather_refusing_a_later_argument_leaves_earlier_children_quiet(loop: lc.EventLoop) -> None:
    # The first argument already became a task when the second is refused;
    # that task still finishes, and nothing reaches the exception handler
    # (the fixture fails the test on any handler call).
    finished: list[str] = []

    async def first() -> None:
        await asyncio.sleep(0)
        finished.append("first")

    async def main() -> None:
        with pytest.raises(TypeError):
            lc.gather(first(), 42)  # type: ignore[call-overload]
        for _ in range(3):
            await asyncio.sleep(0)

    loop.run_until_complete(main())
    assert finished == ["first"]


def test_gather_counts_a_repeated_argument_once(loop: lc.EventLoop) -> None:
    async def main() -> tuple[int, int, int]:
        future: asyncio.Future[int] = loop.create_future()
        loop.call_soon(future.set_result, 7)
        return await lc.gather(future, future, future)

    assert list(loop.run_until_complete(main())) == [7, 7, 7]


class _UnhashableAwaitable:
    """Awaitable, with equality and so no hash: asyncio's gather refuses it, ours runs it."""

    def __init__(self, value: int) -> None:
        self.value = value
        self.awaited = 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _UnhashableAwaitable) and other.value == self.value

    __hash__ = None  # type: ignore[assignment]

    def __await__(self) -> Any:
        self.awaited += 1
        yield from asyncio.sleep(0).__await__()
        return self.value


def test_gather_runs_unhashable_awaitables_each_once(loop: lc.EventLoop) -> None:
    first, second = _UnhashableAwaitable(1), _UnhashableAwaitable(1)

    async def main() -> list[int]:
        return list(await lc.gather(first, second, first))

    assert loop.run_until_complete(main()) == [1, 1, 1]
    # Equal but distinct: both ran; the repeated one ran once.
    assert (first.awaited, second.awaited) == (1, 1)
