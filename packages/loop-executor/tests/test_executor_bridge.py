"""wrap_future and run_coroutine_threadsafe across real threads, both directions."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Coroutine
from typing import Any

import pytest

import loop_core
from loop_executor import run_coroutine_threadsafe, wrap_future


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> Any:
    return loop.run_until_complete(coro)


def test_wrap_future_result_and_exception(any_loop: asyncio.AbstractEventLoop) -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:

        async def main() -> Any:
            value = await wrap_future(pool.submit(pow, 2, 10))
            with pytest.raises(ZeroDivisionError):
                await wrap_future(pool.submit(lambda: 1 / 0))
            return value

        assert run(any_loop, main()) == 1024


def test_cancelling_wrapped_future_cancels_pending_work(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    release = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        blocker = pool.submit(release.wait, 5)
        queued = pool.submit(time.sleep, 0)

        async def main() -> None:
            wrapped = wrap_future(queued)
            wrapped.cancel()
            await asyncio.sleep(0.01)

        run(any_loop, main())
        release.set()
        blocker.result()
    assert queued.cancelled()


def test_wrap_future_returns_loop_futures_unchanged(any_loop: asyncio.AbstractEventLoop) -> None:
    future = any_loop.create_future()
    assert wrap_future(future) is future
    future.cancel()
    with pytest.raises(TypeError, match=r"concurrent\.futures\.Future is expected"):
        wrap_future(42)  # type: ignore[arg-type]


def test_run_coroutine_threadsafe_from_four_threads() -> None:
    with loop_core.Runner() as runner:
        loop = runner.get_loop()
        thread = threading.Thread(target=loop.run_forever)
        thread.start()
        try:

            async def square(value: int) -> int:
                await asyncio.sleep(0)
                return value * value

            results: list[int] = []
            lock = threading.Lock()

            def caller(offset: int) -> None:
                for i in range(offset, offset + 25):
                    value = run_coroutine_threadsafe(square(i), loop).result(timeout=10)
                    with lock:
                        results.append(value)

            callers = [threading.Thread(target=caller, args=(n * 25,)) for n in range(4)]
            for each in callers:
                each.start()
            for each in callers:
                each.join()
            assert sorted(results) == [i * i for i in range(100)]
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()


def test_run_coroutine_threadsafe_cancellation_and_errors() -> None:
    with loop_core.Runner() as runner:
        loop = runner.get_loop()
        thread = threading.Thread(target=loop.run_forever)
        thread.start()
        try:
            cancelled = threading.Event()

            async def forever() -> None:
                try:
                    await asyncio.sleep(60)
                except asyncio.CancelledError:
                    cancelled.set()
                    raise

            async def failing() -> None:
                raise KeyError("inside")

            future = run_coroutine_threadsafe(forever(), loop)
            time.sleep(0.05)
            future.cancel()
            assert cancelled.wait(5)
            with pytest.raises(KeyError):
                run_coroutine_threadsafe(failing(), loop).result(timeout=5)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()


def test_run_coroutine_threadsafe_rejects_non_coroutines(loop: loop_core.EventLoop) -> None:
    with pytest.raises(TypeError, match="coroutine object is required"):
        run_coroutine_threadsafe(lambda: None, loop)  # type: ignore[arg-type]
