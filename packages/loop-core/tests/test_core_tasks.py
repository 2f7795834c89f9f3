"""Task: stepping, cancellation bookkeeping, names, stacks, eager start, asyncio interplay."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import io
import sys
import weakref
from typing import Any, cast

import pytest

from loop_core import EventLoop, PyTask, Task, all_tasks, current_task, eager_task_factory


def test_create_task_returns_our_task(loop: EventLoop) -> None:
    async def job() -> int:
        await asyncio.sleep(0)
        return 7

    task = loop.create_task(job())
    assert isinstance(task, Task)
    assert loop.run_until_complete(task) == 7


def test_futures_and_tasks_belong_to_the_loop_that_made_them(loop: EventLoop) -> None:
    # Made by the running loop, by another loop while this one runs, or
    # with a name or a context: each is bound to the loop asked.
    other = EventLoop()

    async def job() -> str:
        return "done"

    async def main() -> list[asyncio.Future[Any]]:
        made = [
            loop.create_future(),
            other.create_future(),
            loop.create_task(job()),
            other.create_task(job()),
            loop.create_task(job(), name="named"),
            loop.create_task(job(), context=contextvars.copy_context()),
        ]
        await asyncio.gather(*made[2:3], *made[4:])
        return made

    try:
        made = loop.run_until_complete(main())
        assert [item.get_loop() for item in made] == [loop, other, loop, other, loop, loop]
        assert cast(asyncio.Task[str], made[4]).get_name() == "named"
        assert other.run_until_complete(made[3]) == "done"
        made[0].cancel()
        made[1].cancel()
    finally:
        other.close()


def test_task_is_current_and_registered_with_asyncio(loop: EventLoop) -> None:
    async def job() -> tuple[Any, Any, set[Any]]:
        return asyncio.current_task(), current_task(), asyncio.all_tasks()

    task = loop.create_task(job())
    seen_asyncio, seen_ours, everything = loop.run_until_complete(task)
    assert seen_asyncio is task
    assert seen_ours is task
    assert task in everything


def test_all_tasks_lists_pending_tasks_only(loop: EventLoop) -> None:
    async def sleeper() -> None:
        await asyncio.sleep(10)

    async def main() -> set[Any]:
        background = loop.create_task(sleeper())
        await asyncio.sleep(0)
        found = all_tasks()
        background.cancel()
        await asyncio.gather(background, return_exceptions=True)
        return found

    found = loop.run_until_complete(main())
    assert len(found) == 2


def test_names(loop: EventLoop) -> None:
    async def job() -> None:
        pass

    task = loop.create_task(job(), name="worker")
    assert task.get_name() == "worker"
    task.set_name(12)
    assert task.get_name() == "12"
    unnamed = loop.create_task(job())
    assert unnamed.get_name().startswith("Task-")
    loop.run_until_complete(asyncio.gather(task, unnamed))


def test_context_is_used_for_every_step(loop: EventLoop) -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="default")
    context = contextvars.copy_context()
    context.run(var.set, "task context")

    async def job() -> list[str]:
        seen = [var.get()]
        await asyncio.sleep(0)
        seen.append(var.get())
        return seen

    task = loop.create_task(job(), context=context)
    if sys.version_info >= (3, 12) or isinstance(task, PyTask):
        # asyncio's C Task has get_context from 3.12 (typeshed agrees).
        assert cast(Any, task).get_context() is context
    assert loop.run_until_complete(task) == ["task context", "task context"]


def test_cancel_throws_into_coroutine_and_counts(loop: EventLoop) -> None:
    cleanup: list[str] = []

    async def job() -> None:
        try:
            await asyncio.sleep(10)
        finally:
            cleanup.append("cleaned")

    async def main() -> None:
        task = loop.create_task(job())
        await asyncio.sleep(0)
        assert task.cancel("stop it")
        assert task.cancelling() == 1
        with pytest.raises(asyncio.CancelledError):
            await task
        assert task.cancelled()
        assert not task.cancel()

    loop.run_until_complete(main())
    assert cleanup == ["cleaned"]


def test_uncancel_withdraws_requests(loop: EventLoop) -> None:
    async def job() -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            assert task is not None
            assert task.uncancel() == 0
        return "survived"

    async def main() -> str:
        task = loop.create_task(job())
        await asyncio.sleep(0)
        task.cancel()
        return await task

    assert loop.run_until_complete(main()) == "survived"


def test_cancel_before_first_step(loop: EventLoop) -> None:
    started: list[bool] = []

    async def job() -> None:
        started.append(True)

    task = loop.create_task(job())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        loop.run_until_complete(task)
    assert started == []


def test_exception_becomes_task_exception(loop: EventLoop) -> None:
    async def job() -> None:
        raise LookupError("nope")

    task = loop.create_task(job())
    with pytest.raises(LookupError):
        loop.run_until_complete(task)
    assert isinstance(task.exception(), LookupError)


def test_set_result_is_not_allowed(loop: EventLoop) -> None:
    async def job() -> None:
        pass

    task = loop.create_task(job())
    with pytest.raises(RuntimeError):
        task.set_result(None)
    with pytest.raises(RuntimeError):
        task.set_exception(ValueError())
    loop.run_until_complete(task)


def test_non_coroutine_is_a_type_error(loop: EventLoop) -> None:
    with pytest.raises(TypeError, match="coroutine was expected"):
        Task(42, loop=loop)  # type: ignore[arg-type]


def test_bad_yield_is_reported_in_the_task(loop: EventLoop) -> None:
    class Weird:
        def __await__(self) -> Any:
            yield "not a future"

    async def job() -> None:
        await Weird()

    task = loop.create_task(job())
    with pytest.raises(RuntimeError, match="bad yield"):
        loop.run_until_complete(task)


def test_future_of_another_loop_is_rejected(loop: EventLoop) -> None:
    other = EventLoop()
    try:
        foreign = other.create_future()

        async def job() -> None:
            await foreign

        with pytest.raises(RuntimeError, match="different loop"):
            loop.run_until_complete(job())
        foreign.cancel()
    finally:
        other.close()


def test_get_stack_and_print_stack(loop: EventLoop) -> None:
    async def job() -> None:
        await asyncio.sleep(10)

    async def main() -> None:
        task = loop.create_task(job())
        await asyncio.sleep(0)
        frames = task.get_stack()
        assert frames
        assert frames[-1].f_code.co_name == "job"
        out = io.StringIO()
        task.print_stack(file=out)
        assert "Stack for" in out.getvalue()
        assert "job" in out.getvalue()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    loop.run_until_complete(main())


def test_eager_task_finishes_without_the_loop(loop: EventLoop) -> None:
    loop.set_task_factory(eager_task_factory)

    async def quick() -> int:
        return 11

    async def slow() -> int:
        await asyncio.sleep(0)
        return 12

    async def main() -> tuple[int, int]:
        parent = asyncio.current_task()
        first = loop.create_task(quick())
        assert first.done()  # finished during create_task
        assert asyncio.current_task() is parent
        second = loop.create_task(slow())
        assert not second.done()
        return await first, await second

    assert loop.run_until_complete(main()) == (11, 12)


def test_pending_task_destroyed_is_reported(loop: EventLoop) -> None:
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))

    async def forever() -> None:
        await loop.create_future()

    task = loop.create_task(forever())
    loop.call_soon(loop.stop)
    loop.run_forever()
    del task
    gc.collect()
    messages = [c["message"] for c in reported]
    assert "Task was destroyed but it is pending!" in messages


def test_repr(loop: EventLoop) -> None:
    async def job() -> None:
        pass

    task = loop.create_task(job(), name="shown")
    text = repr(task)
    assert text.startswith("<Task pending name='shown' coro=<")
    assert "job" in text
    loop.run_until_complete(task)
    assert "finished" in repr(task)


def test_weak_references_to_tasks_and_futures_are_cleared(loop: EventLoop) -> None:
    # asyncio keeps tasks in a WeakSet; a compiled class whose weak references
    # outlive it would crash the interpreter here (see DESIGN.md, mypyc rules).

    async def job() -> None:
        pass

    task = loop.create_task(job())
    loop.run_until_complete(task)
    future = loop.create_future()
    future.cancel()
    cleared: list[str] = []
    task_ref = weakref.ref(task, lambda _: cleared.append("task"))
    future_ref = weakref.ref(future, lambda _: cleared.append("future"))
    del task, future
    gc.collect()
    assert task_ref() is None
    assert future_ref() is None
    assert sorted(cleared) == ["future", "task"]


@pytest.mark.parametrize("debug", [False, True], ids=["normal", "debug"])
def test_failed_task_nobody_holds_is_reported_at_once_in_its_context(
    any_loop: asyncio.AbstractEventLoop, debug: bool
) -> None:
    # Without the collector: the task must not survive its last step through
    # a cycle (exception -> traceback -> frames -> task), and the report runs
    # in the task's context, as asyncio's does from 3.12 on (and PyTask always).
    request = contextvars.ContextVar("request", default="outside")
    task_has_context = sys.version_info >= (3, 12) or (
        isinstance(any_loop, EventLoop) and any_loop._task_class is PyTask
    )
    old_asyncio = not task_has_context
    expected_context = "outside" if old_asyncio else "inside"
    seen: list[tuple[str, str]] = []

    def handler(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        seen.append((context["message"], request.get()))

    async def failing() -> None:
        request.set("inside")
        raise ZeroDivisionError

    async def main() -> None:
        any_loop.set_debug(debug)
        any_loop.set_exception_handler(handler)
        any_loop.create_task(failing())
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert seen == [("Task exception was never retrieved", expected_context)]

    gc.disable()
    try:
        any_loop.run_until_complete(main())
    finally:
        gc.enable()
