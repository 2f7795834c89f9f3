"""timeout, timeout_at, Timeout.reschedule/expired and wait_for, on both loops."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import loop_core as lc


def run(loop: asyncio.AbstractEventLoop, coro: Any) -> Any:
    return loop.run_until_complete(coro)


def test_timeout_expires_into_timeout_error(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> bool:
        with pytest.raises(TimeoutError):
            async with lc.timeout(0.01) as deadline:
                await lc.sleep(10)
        return deadline.expired()

    assert run(any_loop, main()) is True


def test_timeout_not_reached(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> tuple[str, bool]:
        async with lc.timeout(5) as deadline:
            value = await lc.sleep(0, "in time")
        return value, deadline.expired()

    assert run(any_loop, main()) == ("in time", False)


def test_timeout_none_and_reschedule(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> float | None:
        with pytest.raises(TimeoutError):
            async with lc.timeout(None) as deadline:
                assert deadline.when() is None
                deadline.reschedule(asyncio.get_running_loop().time() + 0.01)
                await lc.sleep(10)
        return deadline.when()

    assert run(any_loop, main()) is not None


def test_timeout_at_in_the_past_fires_at_once(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        with pytest.raises(TimeoutError):
            async with lc.timeout_at(asyncio.get_running_loop().time() - 1):
                await lc.sleep(10)

    run(any_loop, main())


def test_outside_cancellation_is_not_turned_into_timeout(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    async def body() -> None:
        async with lc.timeout(10):
            await lc.sleep(10)

    async def main() -> None:
        task = any_loop.create_task(body())
        await lc.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(any_loop, main())


def test_nested_timeouts_report_the_right_one(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> tuple[bool, bool]:
        with pytest.raises(TimeoutError):
            async with lc.timeout(0.01) as outer, lc.timeout(10) as inner:
                await lc.sleep(10)
        return outer.expired(), inner.expired()

    assert run(any_loop, main()) == (True, False)


def test_timeout_state_errors(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        deadline = lc.timeout(1)
        with pytest.raises(RuntimeError, match="not been entered"):
            deadline.reschedule(None)
        async with deadline:
            pass
        with pytest.raises(RuntimeError, match="finished"):
            deadline.reschedule(None)
        with pytest.raises(RuntimeError, match="already been entered"):
            async with deadline:
                pass

    run(any_loop, main())


def test_exception_raised_while_cancelled_shows_timeout_in_context(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    async def main() -> BaseException | None:
        try:
            async with lc.timeout(0.01):
                try:
                    await lc.sleep(10)
                except asyncio.CancelledError:
                    raise ValueError("cleanup failed") from None
        except ValueError as error:
            return error.__context__
        return None

    context = run(any_loop, main())
    assert isinstance(context, TimeoutError)


def test_wait_for_result_and_timeout(any_loop: asyncio.AbstractEventLoop) -> None:
    cancelled: list[bool] = []

    async def slow() -> None:
        try:
            await lc.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main() -> Any:
        assert await lc.wait_for(lc.sleep(0, "quick"), timeout=1) == "quick"
        assert await lc.wait_for(lc.sleep(0, "no limit"), timeout=None) == "no limit"
        with pytest.raises(TimeoutError):
            await lc.wait_for(slow(), timeout=0.01)

    run(any_loop, main())
    assert cancelled == [True]


def test_wait_for_zero_timeout(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        done = any_loop.create_future()
        done.set_result("already")
        assert await lc.wait_for(done, timeout=0) == "already"
        with pytest.raises(TimeoutError):
            await lc.wait_for(lc.sleep(10), timeout=0)

    run(any_loop, main())


def test_timeout_outside_task_is_an_error(any_loop: asyncio.AbstractEventLoop) -> None:
    errors: list[str] = []

    def in_plain_callback() -> None:
        entering = lc.timeout(1).__aenter__()
        try:
            entering.send(None)
        except RuntimeError as error:
            errors.append(str(error))
        any_loop.stop()

    any_loop.call_soon(in_plain_callback)
    any_loop.run_forever()
    assert errors == ["Timeout should be used inside a task"]
