"""run(), Runner and new_event_loop: our loop under asyncio's own toolkit."""

from __future__ import annotations

import asyncio
import contextvars
import sys

import pytest

import loop_core
from loop_core import EventLoop, Runner


async def uses_asyncio_toolkit() -> tuple[bool, list[int], int]:
    loop = asyncio.get_running_loop()
    results = await asyncio.gather(asyncio.sleep(0.001, 1), asyncio.sleep(0.002, 2))
    async with asyncio.TaskGroup() as group:
        child = group.create_task(asyncio.sleep(0, 3))
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await asyncio.sleep(5)
    lock = asyncio.Lock()
    async with lock:
        pass
    return isinstance(loop, EventLoop), list(results), child.result()


def test_run_uses_our_loop_with_asyncio_toolkit() -> None:
    assert loop_core.run(uses_asyncio_toolkit()) == (True, [1, 2], 3)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="asyncio.run(loop_factory=) is 3.12+")
def test_asyncio_run_with_our_loop_factory() -> None:
    run = asyncio.run
    result = run(uses_asyncio_toolkit(), loop_factory=loop_core.new_event_loop)  # type: ignore[call-arg,unused-ignore]
    assert result == (True, [1, 2], 3)


def test_asyncio_runner_with_our_loop_factory() -> None:
    with asyncio.Runner(loop_factory=loop_core.new_event_loop) as runner:
        assert runner.run(uses_asyncio_toolkit()) == (True, [1, 2], 3)


def test_runner_keeps_one_loop_and_closes_it() -> None:
    async def which() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    with Runner() as runner:
        first = runner.run(which())
        second = runner.run(which())
        assert first is second is runner.get_loop()
    assert first.is_closed()
    late = which()
    with pytest.raises(RuntimeError, match="closed"):
        runner.run(late)
    late.close()


def test_runner_with_asyncio_loop_factory() -> None:
    async def which() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    with Runner(loop_factory=asyncio.SelectorEventLoop) as runner:
        assert type(runner.run(which())) is asyncio.SelectorEventLoop


def test_runner_cancels_leftover_tasks_on_close() -> None:
    cancelled: list[bool] = []

    async def background() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main() -> None:
        asyncio.get_running_loop().create_task(background())
        await asyncio.sleep(0)

    loop_core.run(main())
    assert cancelled == [True]


def test_run_passes_debug_flag() -> None:
    async def debug_on() -> bool:
        return asyncio.get_running_loop().get_debug()

    assert loop_core.run(debug_on(), debug=True) is True


def test_runner_run_rejects_non_coroutines() -> None:
    with Runner() as runner, pytest.raises(ValueError, match="coroutine was expected"):
        runner.run(42)  # type: ignore[arg-type]


def test_run_inside_running_loop_is_an_error() -> None:
    async def nested() -> None:
        inner = asyncio.sleep(0)
        try:
            with pytest.raises(RuntimeError, match="running event loop"):
                loop_core.run(inner)
        finally:
            inner.close()

    loop_core.run(nested())


def test_runner_context_is_shared_between_runs() -> None:
    var: contextvars.ContextVar[int] = contextvars.ContextVar("var", default=0)

    async def bump() -> int:
        var.set(var.get() + 1)
        return var.get()

    with Runner() as runner:
        assert runner.run(bump()) == 1
        assert runner.run(bump()) == 2


def test_new_event_loop_returns_fresh_loops() -> None:
    first, second = loop_core.new_event_loop(), loop_core.new_event_loop()
    try:
        assert first is not second
        assert isinstance(first, EventLoop)
    finally:
        first.close()
        second.close()


def test_policy_makes_asyncio_create_our_loops() -> None:
    async def which() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    previous = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(loop_core.EventLoopPolicy())
    try:
        assert isinstance(asyncio.run(which()), EventLoop)
    finally:
        asyncio.set_event_loop_policy(previous)
