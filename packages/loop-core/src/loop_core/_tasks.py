"""Task: a coroutine driven step by step on the loop, itself a Future.

On CPython, :data:`Task` is asyncio's accelerated Task (see
:mod:`loop_core._futures` for when :class:`PyTask`, loop-core's own, is used
instead). A :class:`PyTask` step sends into (or throws into) the coroutine
until it yields a future to wait on; the task then sleeps until that future is
done. Both kinds are registered with asyncio's own task bookkeeping, so
``asyncio.current_task()`` and ``asyncio.all_tasks()`` see them, and each
awaits the other's futures. :func:`eager_task_factory` starts tasks eagerly as
Python 3.12 does, on every supported Python (with :class:`PyTask` on 3.11,
whose C Task cannot start eagerly).
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import linecache
import sys
import types
from collections.abc import Callable, Coroutine, Generator
from typing import IO, TYPE_CHECKING, Any, TypeVar

from mypy_extensions import mypyc_attr

from loop_core._futures import ACCELERATED, PyFuture, python_futures_requested

_CoroutineType = types.CoroutineType

__all__ = [
    "PyTask",
    "Task",
    "all_tasks",
    "create_eager_task_factory",
    "create_task",
    "current_task",
    "eager_task_factory",
]

_T = TypeVar("_T")

_task_counter = itertools.count(1)

# asyncio's bookkeeping functions, bound once: they are in asyncio.__all__.
# (typeshed types them for asyncio's own Task only.)
_register_task: Callable[[Any], None] = asyncio._register_task
_enter_task: Callable[[Any, Any], None] = asyncio._enter_task
_leave_task: Callable[[Any, Any], None] = asyncio._leave_task


def create_task(
    coro: Coroutine[Any, Any, _T],
    *,
    name: str | None = None,
    context: contextvars.Context | None = None,
) -> asyncio.Task[_T]:
    """Schedule *coro* as a task of the running loop and return the task."""
    loop = asyncio.get_running_loop()
    if context is None:
        return loop.create_task(coro, name=name)
    return loop.create_task(coro, name=name, context=context)


def current_task(loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Task[Any] | None:
    """Return the task running on *loop* (default: the running loop), or ``None``."""
    return asyncio.current_task(loop)


def all_tasks(loop: asyncio.AbstractEventLoop | None = None) -> set[asyncio.Task[Any]]:
    """Return the pending tasks of *loop* (default: the running loop)."""
    return set(asyncio.all_tasks(loop))


@mypyc_attr(native_class=False)
class PyTask(PyFuture[_T]):
    """Run a coroutine on the loop; the task's result is the coroutine's."""

    _coro: Coroutine[Any, Any, _T] | Generator[Any, None, _T]
    _context: contextvars.Context
    _name: str
    _must_cancel: bool
    _fut_waiter: Any
    _num_cancels_requested: int
    _log_destroy_pending: bool

    def __init__(
        self,
        coro: Coroutine[Any, Any, _T] | Generator[Any, None, _T],
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        name: object | None = None,
        context: contextvars.Context | None = None,
        eager_start: bool = False,
    ) -> None:
        super().__init__(loop=loop)
        if self._source_traceback:
            del self._source_traceback[-1]  # our own __init__: the caller made the task
        self._log_destroy_pending = False
        if type(coro) is not _CoroutineType and not asyncio.iscoroutine(coro):
            raise TypeError(f"a coroutine was expected, got {coro!r}")
        self._coro = coro
        self._context = contextvars.copy_context() if context is None else context
        self._name = f"Task-{next(_task_counter)}" if name is None else str(name)
        self._must_cancel = False
        self._fut_waiter = None
        self._num_cancels_requested = 0
        self._log_destroy_pending = True
        _register_task(self)
        if eager_start and self._loop.is_running():
            self._start_eagerly()
        else:
            self._loop.call_soon(self._step, context=self._context)

    def __repr__(self) -> str:
        parts = self._state_repr()
        if self.cancelling() and not self.done():
            parts[0] = "cancelling"
        parts.insert(1, f"name={self._name!r}")
        coro_name = getattr(self._coro, "__qualname__", None) or type(self._coro).__name__
        frame = getattr(self._coro, "cr_frame", None) or getattr(self._coro, "gi_frame", None)
        code = getattr(self._coro, "cr_code", None) or getattr(self._coro, "gi_code", None)
        if frame is not None:
            where = f" running at {frame.f_code.co_filename}:{frame.f_lineno}"
        elif code is not None:
            where = f" done, defined at {code.co_filename}:{code.co_firstlineno}"
        else:
            where = ""
        parts.insert(2, f"coro=<{coro_name}(){where}>")
        if self._fut_waiter is not None:
            parts.append(f"wait_for={self._fut_waiter!r}")
        return f"<{type(self).__name__} {' '.join(parts)}>"

    def __del__(self) -> None:
        # Nearly every task ends done with its outcome seen: leave at once.
        if self._state != "PENDING" and not self._log_traceback:
            return
        if self._state == "PENDING" and self._log_destroy_pending:
            context: dict[str, Any] = {
                "task": self,
                "message": "Task was destroyed but it is pending!",
            }
            if self._source_traceback:
                context["source_traceback"] = self._source_traceback
            self._loop.call_exception_handler(context)
        super().__del__()

    def get_coro(self) -> Coroutine[Any, Any, _T] | Generator[Any, None, _T]:
        """Return the coroutine the task wraps."""
        return self._coro

    def get_context(self) -> contextvars.Context:
        """Return the :mod:`contextvars` context every step runs in."""
        return self._context

    def get_name(self) -> str:
        """Return the task's name."""
        return self._name

    def set_name(self, value: object) -> None:
        """Rename the task (any object, converted with :func:`str`)."""
        self._name = str(value)

    def set_result(self, result: _T) -> None:
        raise RuntimeError("Task does not support set_result operation")

    def set_exception(self, exception: type[BaseException] | BaseException) -> None:
        raise RuntimeError("Task does not support set_exception operation")

    def get_stack(self, *, limit: int | None = None) -> list[types.FrameType]:
        """Return the frames of the suspended coroutine, or of the exception's traceback."""
        frames: list[types.FrameType] = []
        frame = getattr(self._coro, "cr_frame", None) or getattr(self._coro, "gi_frame", None)
        if frame is not None:
            while frame is not None:
                if limit is not None and limit <= len(frames):
                    break
                frames.append(frame)
                frame = frame.f_back
            frames.reverse()
        elif self._exception is not None:
            tb = self._exception.__traceback__
            while tb is not None:
                if limit is not None and limit <= len(frames):
                    break
                frames.append(tb.tb_frame)
                tb = tb.tb_next
        return frames

    def print_stack(self, *, limit: int | None = None, file: IO[str] | None = None) -> None:
        """Print :meth:`get_stack` to *file* (default :data:`sys.stderr`)."""
        out = sys.stderr if file is None else file
        frames = self.get_stack(limit=limit)
        if not frames:
            print(f"No stack for {self!r}", file=out)
        elif self._exception is not None:
            print(f"Traceback for {self!r} (most recent call last):", file=out)
        else:
            print(f"Stack for {self!r} (most recent call last):", file=out)
        for frame in frames:
            code = frame.f_code
            lineno = frame.f_lineno or 0
            print(f'  File "{code.co_filename}", line {lineno}, in {code.co_name}', file=out)
            line = linecache.getline(code.co_filename, lineno, frame.f_globals).strip()
            if line:
                print(f"    {line}", file=out)
        if self._exception is not None:
            print(f"{type(self._exception).__name__}: {self._exception}", file=out)

    def cancel(self, msg: Any | None = None) -> bool:
        """Ask the task to cancel: :class:`CancelledError` is thrown in at its next step.

        Returns ``False`` if the task is already done. The request is counted;
        see :meth:`cancelling` and :meth:`uncancel`.
        """
        self._log_traceback = False
        if self.done():
            return False
        self._num_cancels_requested += 1
        if self._fut_waiter is not None and self._fut_waiter.cancel(msg=msg):
            # The waiter's cancellation wakes us up with CancelledError.
            return True
        self._must_cancel = True
        self._cancel_message = msg
        return True

    def cancelling(self) -> int:
        """Return how many cancellation requests are outstanding."""
        return self._num_cancels_requested

    def uncancel(self) -> int:
        """Withdraw one cancellation request; return how many remain."""
        if self._num_cancels_requested > 0:
            self._num_cancels_requested -= 1
            if self._num_cancels_requested == 0:
                self._must_cancel = False
        return self._num_cancels_requested

    def _start_eagerly(self) -> None:
        # The first step runs now, inside whichever task is creating us, so
        # that task is made "not current" for the duration.
        loop = self._loop
        outer = asyncio.current_task(loop)
        if outer is not None:
            _leave_task(loop, outer)
        try:
            self._context.run(self._step)
        finally:
            if outer is not None:
                _enter_task(loop, outer)

    def _step(self, exc: BaseException | None = None) -> None:
        if self._state != "PENDING":
            raise asyncio.InvalidStateError(f"_step(): already done: {self!r}, {exc!r}")
        if self._must_cancel:
            if not isinstance(exc, asyncio.CancelledError):
                exc = self._make_cancelled_error()
            self._must_cancel = False
        self._fut_waiter = None
        loop = self._loop
        coro: Any = self._coro
        _enter_task(loop, self)
        try:
            if exc is None:
                result = coro.send(None)
            else:
                result = coro.throw(exc)
        except StopIteration as stop:
            if self._must_cancel:
                # Cancelled while finishing: the result is discarded.
                self._must_cancel = False
                PyFuture.cancel(self, msg=self._cancel_message)
            else:
                PyFuture.set_result(self, stop.value)
        except asyncio.CancelledError as cancelled:
            self._cancelled_exc = cancelled
            PyFuture.cancel(self)
        except (KeyboardInterrupt, SystemExit) as fatal:
            PyFuture.set_exception(self, fatal)
            raise
        except BaseException as error:
            PyFuture.set_exception(self, error)
        else:
            if (
                (type(result) is PyFuture or type(result) is PyTask)
                and result._asyncio_future_blocking
                and result._loop is loop
                and result is not self
            ):
                # Our own future, awaited properly: the common case, checked inline.
                self._wait_on(result)
            elif result is None:
                # A bare ``yield`` (as in ``sleep(0)``) gives other callbacks a turn.
                loop.call_soon(self._step, context=self._context)
            else:
                self._await_yielded(result)
        finally:
            _leave_task(loop, self)
        # An exception's traceback holds this frame: leave nothing in it that
        # would make task -> exception -> frame -> task a cycle only the
        # collector can break (the "never retrieved" report would come late).
        self = None  # type: ignore[assignment]  # noqa: PLW0642
        coro = None
        exc = None  # the exception we threw in carries this frame in its traceback

    def _await_yielded(self, result: Any) -> None:
        loop = self._loop
        blocking = getattr(result, "_asyncio_future_blocking", None)
        if blocking is not None:
            if _future_loop(result) is not loop:
                error: BaseException = RuntimeError(
                    f"Task {self!r} got Future {result!r} attached to a different loop"
                )
            elif not blocking:
                error = RuntimeError(
                    f"yield was used instead of yield from in task {self!r} with {result!r}"
                )
            elif result is self:
                error = RuntimeError(f"Task cannot await on itself: {self!r}")
            else:
                self._wait_on(result)
                return
        elif isinstance(result, types.GeneratorType):
            error = RuntimeError(
                "yield was used instead of yield from for generator in task "
                f"{self!r} with {result!r}"
            )
        else:
            error = RuntimeError(f"Task got bad yield: {result!r}")
        loop.call_soon(self._step, error, context=self._context)

    def _wait_on(self, future: Any) -> None:
        future._asyncio_future_blocking = False
        future.add_done_callback(self._wakeup, context=self._context)
        self._fut_waiter = future
        if self._must_cancel and future.cancel(msg=self._cancel_message):
            self._must_cancel = False

    def _wakeup(self, future: Any) -> None:
        try:
            future.result()
        except BaseException as exc:
            self._step(exc)
        else:
            self._step()


PyTask.__name__ = PyTask.__qualname__ = "Task"  # as CPython names its pure-Python Task

if TYPE_CHECKING:
    Task = asyncio.Task
else:
    #: The task class loops make: asyncio's accelerated Task, else :class:`PyTask`.
    Task = asyncio.Task if ACCELERATED and not python_futures_requested() else PyTask

# asyncio's Task takes eager_start from 3.12 on; before that only ours can.
_EagerTask: Any = Task if sys.version_info >= (3, 12) else PyTask


def _future_loop(future: Any) -> Any:
    get_loop = getattr(future, "get_loop", None)
    if get_loop is not None:
        return get_loop()
    return future._loop


def eager_task_factory(
    loop: asyncio.AbstractEventLoop,
    coro: Coroutine[Any, Any, _T],
    *,
    name: object | None = None,
    context: contextvars.Context | None = None,
) -> Task[_T]:
    """A task factory whose tasks run their first step at creation time.

    Install it with ``loop.set_task_factory(eager_task_factory)``. A coroutine
    that finishes without suspending completes its task immediately, never
    touching the loop's queue.
    """
    task: Task[_T] = _EagerTask(coro, loop=loop, name=name, context=context, eager_start=True)
    return task


def create_eager_task_factory(
    custom_task_constructor: Callable[..., Task[Any]],
) -> Any:
    """Return an eager task factory that builds tasks with *custom_task_constructor*."""

    def factory(
        loop: asyncio.AbstractEventLoop,
        coro: Coroutine[Any, Any, Any],
        *,
        name: object | None = None,
        context: contextvars.Context | None = None,
    ) -> Task[Any]:
        return custom_task_constructor(
            coro, loop=loop, name=name, context=context, eager_start=True
        )

    return factory
