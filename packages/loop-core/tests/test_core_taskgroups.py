"""TaskGroup with 3.12 semantics, on both loops: errors, cancellation, timeouts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import loop_core as lc


def run(loop: asyncio.AbstractEventLoop, coro: Any) -> Any:
    return loop.run_until_complete(coro)


async def fail_after(delay: float, error: BaseException) -> None:
    await lc.sleep(delay)
    raise error


def test_waits_for_all_tasks(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> list[int]:
        async with lc.TaskGroup() as group:
            tasks = [group.create_task(lc.sleep(0.001 * i, i)) for i in range(5)]
        return [t.result() for t in tasks]

    assert run(any_loop, main()) == [0, 1, 2, 3, 4]


def test_first_failure_cancels_siblings_and_groups_errors(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    async def main() -> tuple[Any, bool]:
        sibling: Any = None
        with pytest.raises(ExceptionGroup) as caught:
            async with lc.TaskGroup() as group:
                sibling = group.create_task(lc.sleep(10))
                group.create_task(fail_after(0.001, ValueError("one")))
                group.create_task(fail_after(0.001, KeyError("two")))
                await lc.sleep(10)
        return caught.value, sibling.cancelled()

    group_error, sibling_cancelled = run(any_loop, main())
    assert sibling_cancelled
    assert sorted(type(e).__name__ for e in group_error.exceptions) == ["KeyError", "ValueError"]


def test_body_error_is_included(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> list[str]:
        with pytest.raises(ExceptionGroup) as caught:
            async with lc.TaskGroup() as group:
                group.create_task(lc.sleep(10))
                raise LookupError("from body")
        return [type(e).__name__ for e in caught.value.exceptions]

    assert run(any_loop, main()) == ["LookupError"]


def test_outside_cancellation_propagates(any_loop: asyncio.AbstractEventLoop) -> None:
    children: list[Any] = []

    async def body() -> None:
        async with lc.TaskGroup() as group:
            children.append(group.create_task(lc.sleep(10)))
            await lc.sleep(10)

    async def main() -> None:
        task = any_loop.create_task(body())
        await lc.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(any_loop, main())
    assert children[0].cancelled()


def test_group_inside_timeout(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        with pytest.raises(TimeoutError):
            async with lc.timeout(0.01), lc.TaskGroup() as group:
                group.create_task(lc.sleep(10))
                group.create_task(lc.sleep(10))

    run(any_loop, main())


def test_parent_cancel_count_is_restored(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> int:
        with pytest.raises(ExceptionGroup):
            async with lc.TaskGroup() as group:
                group.create_task(fail_after(0, RuntimeError()))
                await lc.sleep(1)
        task = asyncio.current_task()
        assert task is not None
        return task.cancelling()

    assert run(any_loop, main()) == 0


def test_keyboard_interrupt_is_raised_bare(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        async with lc.TaskGroup() as group:
            group.create_task(fail_after(0, KeyboardInterrupt()))
            await lc.sleep(1)

    task = any_loop.create_task(main())
    # The child's interrupt escapes the loop at once; when the loop runs again
    # the group re-raises it, bare, in its parent.
    with pytest.raises(KeyboardInterrupt):
        any_loop.run_until_complete(task)
    with pytest.raises(KeyboardInterrupt):
        any_loop.run_until_complete(task)
    assert task.done()


def test_create_task_state_errors(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        group = lc.TaskGroup()
        coro = lc.sleep(0)
        with pytest.raises(RuntimeError, match="not been entered"):
            group.create_task(coro)
        async with group:
            pass
        coro = lc.sleep(0)
        with pytest.raises(RuntimeError, match="is finished"):
            group.create_task(coro)
        with pytest.raises(RuntimeError, match="already been entered"):
            async with group:
                pass

    run(any_loop, main())


def test_eager_tasks_in_group(loop: lc.EventLoop) -> None:
    loop.set_task_factory(lc.eager_task_factory)

    async def main() -> list[int]:
        async with lc.TaskGroup() as group:
            done_at_once = group.create_task(_value(1))
            later = group.create_task(lc.sleep(0.001, 2))
            assert done_at_once.done()
        return [done_at_once.result(), later.result()]

    assert run(loop, main()) == [1, 2]


async def _value(v: int) -> int:
    return v
