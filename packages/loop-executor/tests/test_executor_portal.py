"""The blocking portal: a loop in a thread, called from synchronous code."""

from __future__ import annotations

import asyncio
import threading

import pytest

import loop_core
from loop_executor import BlockingPortal, start_blocking_portal


async def add_later(a: int, b: int) -> int:
    await asyncio.sleep(0.001)
    return a + b


def test_call_and_run_sync() -> None:
    with start_blocking_portal() as portal:
        assert portal.call(add_later, 2, 3) == 5
        thread_name = portal.run_sync(lambda: threading.current_thread().name)
        assert thread_name == "loop-portal"
        assert isinstance(portal.loop, loop_core.EventLoop)
    assert portal.loop.is_closed()


def test_calls_from_many_threads() -> None:
    results: list[int] = []
    lock = threading.Lock()
    with start_blocking_portal() as portal:

        def worker(base: int) -> None:
            for i in range(20):
                value = portal.call(add_later, base, i)
                with lock:
                    results.append(value)

        threads = [threading.Thread(target=worker, args=(n * 100,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(results) == 80


def test_exceptions_propagate() -> None:
    async def fail() -> None:
        raise ValueError("portal error")

    with start_blocking_portal() as portal, pytest.raises(ValueError, match="portal error"):
        portal.call(fail)


def test_stop_cancels_running_calls() -> None:
    portal = start_blocking_portal()
    started = threading.Event()
    outcome: list[BaseException] = []

    async def forever() -> None:
        started.set()
        await asyncio.sleep(60)

    def caller() -> None:
        try:
            portal.call(forever)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=caller)
    thread.start()
    assert started.wait(5)
    portal.stop()
    thread.join(5)
    assert len(outcome) == 1
    assert portal.loop.is_closed()


def test_misuse_is_reported() -> None:
    portal = BlockingPortal()
    with pytest.raises(RuntimeError, match="not been started"):
        portal.call(add_later, 1, 2)
    with portal:
        with pytest.raises(RuntimeError, match="own loop's thread"):
            portal.run_sync(portal.run_sync, print)
        with pytest.raises(TypeError, match="callable"):
            portal.call(42)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="stopped"):
        portal.call(add_later, 1, 2)


def test_portal_with_stock_asyncio_loop() -> None:
    with start_blocking_portal(asyncio.SelectorEventLoop) as portal:
        assert type(portal.loop) is asyncio.SelectorEventLoop
        assert portal.call(add_later, 40, 2) == 42
