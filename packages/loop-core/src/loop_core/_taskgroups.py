"""TaskGroup: structured concurrency with Python 3.12 semantics, on any loop.

Leaving ``async with TaskGroup()`` waits for every task created in it. The
first task to fail cancels its siblings and the body (the parent task), and
the failures come out together as an :class:`ExceptionGroup`. Cancellation
bookkeeping goes through the parent's ``cancel()``/``uncancel()`` count, so a
group cancelling its parent is told apart from an outside cancellation or a
:func:`~loop_core.timeout`.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

__all__ = ["TaskGroup"]

_T = TypeVar("_T")


def _is_fatal(error: BaseException) -> bool:
    return isinstance(error, (SystemExit, KeyboardInterrupt))


class TaskGroup:
    """Create tasks with :meth:`create_task`; all of them are awaited on exit."""

    def __init__(self) -> None:
        self._entered = False
        self._exiting = False
        self._aborting = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._parent_task: Any = None
        self._parent_cancel_requested = False
        self._tasks: set[asyncio.Future[Any]] = set()
        self._errors: list[BaseException] = []
        self._fatal_error: BaseException | None = None
        self._all_done: asyncio.Future[Any] | None = None

    def __repr__(self) -> str:
        parts = [""]
        if self._tasks:
            parts.append(f"tasks={len(self._tasks)}")
        if self._errors:
            parts.append(f"errors={len(self._errors)}")
        if self._aborting:
            parts.append("cancelling")
        elif self._entered:
            parts.append("entered")
        return f"<TaskGroup{' '.join(parts)}>"

    async def __aenter__(self) -> TaskGroup:
        if self._entered:
            raise RuntimeError(f"TaskGroup {self!r} has already been entered")
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        self._parent_task = asyncio.current_task(self._loop)
        if self._parent_task is None:
            raise RuntimeError(f"TaskGroup {self!r} cannot determine the parent task")
        self._entered = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self._finish(exc)
        finally:
            # Break the cycles between the group, its parent and the errors.
            self._parent_task = None
            self._errors = []
            self._fatal_error = None

    async def _finish(self, body_error: BaseException | None) -> None:
        self._exiting = True
        if body_error is not None and _is_fatal(body_error) and self._fatal_error is None:
            self._fatal_error = body_error
        cancellation: BaseException | None = (
            body_error if isinstance(body_error, asyncio.CancelledError) else None
        )
        if body_error is not None and not self._aborting:
            self._abort()

        loop = self._loop
        assert loop is not None
        while self._tasks:
            if self._all_done is None:
                self._all_done = loop.create_future()
            try:
                await self._all_done
            except asyncio.CancelledError as exc:
                # Cancelled from outside while waiting: cancel the children
                # once, remember to re-raise, and keep waiting for them.
                if not self._aborting:
                    cancellation = exc
                    self._abort()
            self._all_done = None

        if self._fatal_error is not None:
            raise self._fatal_error

        # Our own cancel() of the parent is withdrawn; if nobody else
        # cancelled it, the CancelledError that delivered it is not propagated.
        if self._parent_cancel_requested and self._parent_task.uncancel() == 0:
            cancellation = None

        if cancellation is not None and not self._errors:
            raise cancellation

        if body_error is not None and not isinstance(body_error, asyncio.CancelledError):
            self._errors.append(body_error)

        if self._errors:
            # An outside cancellation still pending must survive the group's
            # errors: re-issue it so it takes effect at the next await.
            if self._parent_task.cancelling():
                self._parent_task.uncancel()
                self._parent_task.cancel()
            errors = self._errors
            raise BaseExceptionGroup("unhandled errors in a TaskGroup", errors) from None

    def create_task(
        self,
        coro: Coroutine[Any, Any, _T],
        *,
        name: str | None = None,
        context: contextvars.Context | None = None,
    ) -> asyncio.Task[_T]:
        """Create a task in the group, like ``loop.create_task``."""
        if not self._entered:
            coro.close()
            raise RuntimeError(f"TaskGroup {self!r} has not been entered")
        if self._exiting and not self._tasks:
            coro.close()
            raise RuntimeError(f"TaskGroup {self!r} is finished")
        if self._aborting:
            coro.close()
            raise RuntimeError(f"TaskGroup {self!r} is shutting down")
        loop = self._loop
        assert loop is not None
        if context is None:
            task = loop.create_task(coro, name=name)
        else:
            task = loop.create_task(coro, name=name, context=context)
        # An eager task may already be done.
        if task.done():
            self._on_task_done(task)
        else:
            self._tasks.add(task)
            task.add_done_callback(self._on_task_done)
        return task

    def _abort(self) -> None:
        self._aborting = True
        for task in self._tasks:
            if not task.done():
                task.cancel()

    def _on_task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if self._all_done is not None and not self._tasks and not self._all_done.done():
            self._all_done.set_result(True)
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            return
        self._errors.append(error)
        if _is_fatal(error) and self._fatal_error is None:
            self._fatal_error = error
        parent = self._parent_task
        if parent.done():
            assert self._loop is not None
            self._loop.call_exception_handler(
                {
                    "message": f"Task {task!r} has errored out but its parent "
                    f"task {parent} is already completed",
                    "exception": error,
                    "task": task,
                }
            )
            return
        if not self._aborting and not self._parent_cancel_requested:
            # The first failure stops everything: siblings and the body.
            self._abort()
            self._parent_cancel_requested = True
            parent.cancel()
