"""Future: a result that will be ready later, bound to one loop.

On CPython, :data:`Future` is asyncio's own accelerated class, as in every fast
loop: behaviour is asyncio's to the last detail and ``isinstance(f,
asyncio.Future)`` holds. :class:`PyFuture` is loop-core's pure-Python
implementation, used where the accelerator is missing or when chosen with the
``LOOP_CORE_PYTHON_FUTURES`` environment variable (or per loop). It follows
asyncio's future protocol to the letter (``_asyncio_future_blocking``,
``get_loop``, ``add_done_callback(fn, *, context=)``, ...), so either kind of
task awaits either kind of future. Exceptions are asyncio's own classes.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import os
import reprlib
import sys
import traceback
import types
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from mypy_extensions import mypyc_attr

__all__ = ["ACCELERATED", "Future", "PyFuture", "isfuture", "python_futures_requested"]

_T = TypeVar("_T")

_PENDING = "PENDING"
_CANCELLED = "CANCELLED"
_FINISHED = "FINISHED"

CancelledError = asyncio.CancelledError
InvalidStateError = asyncio.InvalidStateError


def isfuture(obj: object) -> bool:
    """Return ``True`` for any object that follows asyncio's future protocol."""
    return getattr(type(obj), "_asyncio_future_blocking", None) is not None


# Python 3.13 turned a StopIteration given to set_exception into a RuntimeError;
# before, it was refused with TypeError. We do what the running Python's asyncio does.
_STOP_ITERATION_BECOMES_RUNTIME_ERROR = sys.version_info >= (3, 13)


def _callback_repr(fn: Any) -> str:
    """A callback as asyncio shows it: ``name() at file:line``."""
    if isinstance(fn, functools.partial):
        inner = _callback_repr(fn.func)
        arguments = [reprlib.repr(a) for a in fn.args]
        arguments += [f"{k}={reprlib.repr(v)}" for k, v in fn.keywords.items()]
        return f"functools.partial({inner}, {', '.join(arguments)})" if arguments else inner
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    text = f"{name}()"
    code = getattr(inspect.unwrap(fn), "__code__", None)
    if code is not None:
        text += f" at {code.co_filename}:{code.co_firstlineno}"
    return text


def _callbacks_repr(callbacks: list[Any]) -> str:
    # Long lists show their ends only, as asyncio's repr does.
    if len(callbacks) > 2:
        shown = f"{_callback_repr(callbacks[0])}, <{len(callbacks) - 2} more>, "
        shown += _callback_repr(callbacks[-1])
    else:
        shown = ", ".join(_callback_repr(fn) for fn in callbacks)
    return f"cb=[{shown}]"


# Not a native class: Tasks subclass it and must be weakly referenceable for
# asyncio's task registry, which native classes cannot offer safely.
@mypyc_attr(native_class=False)
class PyFuture(Generic[_T]):
    """A placeholder for a result produced later on the loop.

    Callbacks added with :meth:`add_done_callback` are scheduled with the
    loop's ``call_soon`` once the future is done, never called inline.
    """

    # Read by Task and asyncio.isfuture(): a class attribute marks the
    # protocol, the instance attribute means "a Task is waiting on me".
    _asyncio_future_blocking = False

    _loop: asyncio.AbstractEventLoop
    _state: str
    _result: Any
    _exception: BaseException | None
    _exception_tb: Any
    _callbacks: list[tuple[Callable[[Any], object], contextvars.Context]]
    _cancel_message: Any
    _cancelled_exc: BaseException | None
    _log_traceback: bool
    _source_traceback: list[traceback.FrameSummary] | None

    def __init__(self, *, loop: asyncio.AbstractEventLoop | None = None) -> None:
        if loop is None:
            loop = asyncio.get_event_loop()
        self._loop = loop
        self._state = _PENDING
        self._result = None
        self._exception = None
        self._exception_tb = None
        self._callbacks = []
        self._cancel_message = None
        self._cancelled_exc = None
        self._log_traceback = False
        if loop.get_debug():
            self._source_traceback = traceback.extract_stack()[:-1]
        else:
            self._source_traceback = None

    # mypyc drops the subscription Generic provides; Future[int] must work at run time.
    @classmethod
    def __class_getitem__(cls, item: object) -> types.GenericAlias:
        return types.GenericAlias(cls, item)

    def get_loop(self) -> asyncio.AbstractEventLoop:
        """Return the loop the future is bound to."""
        return self._loop

    def done(self) -> bool:
        """Return ``True`` once the future has a result, an exception or was cancelled."""
        return self._state != _PENDING

    def cancelled(self) -> bool:
        """Return ``True`` if the future was cancelled."""
        return self._state == _CANCELLED

    def _make_cancelled_error(self) -> asyncio.CancelledError:
        if self._cancelled_exc is not None:
            exc = self._cancelled_exc
            self._cancelled_exc = None
            assert isinstance(exc, asyncio.CancelledError)
            return exc
        if self._cancel_message is None:
            return CancelledError()
        return CancelledError(self._cancel_message)

    def result(self) -> _T:
        """Return the result, or raise the exception or :class:`CancelledError`.

        Raises :class:`asyncio.InvalidStateError` while the future is pending.
        """
        if self._state == _CANCELLED:
            raise self._make_cancelled_error()
        if self._state != _FINISHED:
            raise InvalidStateError("Result is not ready.")
        self._log_traceback = False
        if self._exception is not None:
            raise self._exception.with_traceback(self._exception_tb)
        return self._result  # type: ignore[no-any-return]

    def exception(self) -> BaseException | None:
        """Return the exception set on the future, or ``None`` for a result."""
        if self._state == _CANCELLED:
            raise self._make_cancelled_error()
        if self._state != _FINISHED:
            raise InvalidStateError("Exception is not set.")
        self._log_traceback = False
        return self._exception

    def add_done_callback(
        self, fn: Callable[[Any], object], *, context: contextvars.Context | None = None
    ) -> None:
        """Call ``fn(future)`` through the loop once the future is done."""
        if context is None:
            context = contextvars.copy_context()
        if self._state != _PENDING:
            self._loop.call_soon(fn, self, context=context)
        else:
            self._callbacks.append((fn, context))

    def remove_done_callback(self, fn: Callable[[Any], object]) -> int:
        """Remove every registration of *fn*; return how many were removed."""
        kept = [(f, ctx) for f, ctx in self._callbacks if f != fn]
        removed = len(self._callbacks) - len(kept)
        if removed:
            self._callbacks[:] = kept
        return removed

    def _schedule_callbacks(self) -> None:
        callbacks = self._callbacks
        if not callbacks:
            return
        self._callbacks = []
        call_soon = self._loop.call_soon
        for fn, context in callbacks:
            call_soon(fn, self, context=context)

    def cancel(self, msg: Any | None = None) -> bool:
        """Cancel the future; return ``False`` if it was already done."""
        self._log_traceback = False
        if self._state != _PENDING:
            return False
        self._state = _CANCELLED
        self._cancel_message = msg
        self._schedule_callbacks()
        return True

    def set_result(self, result: _T) -> None:
        """Mark the future done with *result*; :class:`InvalidStateError` if done."""
        if self._state != _PENDING:
            raise InvalidStateError(f"{self._state}: {self!r}")
        self._result = result
        self._state = _FINISHED
        self._schedule_callbacks()

    def set_exception(self, exception: type[BaseException] | BaseException) -> None:
        """Mark the future done with *exception* (a class is instantiated)."""
        if self._state != _PENDING:
            raise InvalidStateError(f"{self._state}: {self!r}")
        if isinstance(exception, type):
            exception = exception()
        if not isinstance(exception, BaseException):
            raise TypeError(f"exception must be a BaseException, not {type(exception).__name__}")
        if type(exception) is StopIteration and not _STOP_ITERATION_BECOMES_RUNTIME_ERROR:
            raise TypeError(
                "StopIteration interacts badly with generators and cannot be raised into a Future"
            )
        if isinstance(exception, StopIteration):
            new_exc = RuntimeError(
                "StopIteration interacts badly with generators and cannot be raised into a Future"
            )
            new_exc.__cause__ = exception
            new_exc.__context__ = exception
            exception = new_exc
        self._exception = exception
        self._exception_tb = exception.__traceback__
        self._state = _FINISHED
        self._schedule_callbacks()
        self._log_traceback = True

    def __await__(self) -> Generator[Any, None, _T]:
        if self._state == _PENDING:
            self._asyncio_future_blocking = True
            yield self
        if self._state == _PENDING:
            raise RuntimeError("await wasn't used with future")
        return self.result()

    def __iter__(self) -> Generator[Any, None, _T]:
        return self.__await__()

    def _state_repr(self) -> list[str]:
        parts = [self._state.lower()]
        if self._state == _FINISHED:
            if self._exception is not None:
                parts.append(f"exception={self._exception!r}")
            else:
                parts.append(f"result={reprlib.repr(self._result)}")
        if self._callbacks:
            parts.append(_callbacks_repr([fn for fn, _ in self._callbacks]))
        if self._source_traceback:
            frame = self._source_traceback[-1]
            parts.append(f"created at {frame.filename}:{frame.lineno}")
        return parts

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {' '.join(self._state_repr())}>"

    def __del__(self) -> None:
        if not self._log_traceback:
            return
        context: dict[str, Any] = {
            "message": f"{type(self).__name__} exception was never retrieved",
            "exception": self._exception,
            "future": self,
        }
        if self._source_traceback:
            context["source_traceback"] = self._source_traceback
        self._loop.call_exception_handler(context)


# As CPython names its pure-Python Future: reprs and reports say "Future",
# and code (CPython's own tests among it) that builds them from
# ``cls.__name__`` agrees with them.
PyFuture.__name__ = PyFuture.__qualname__ = "Future"


def python_futures_requested() -> bool:
    """Return whether ``LOOP_CORE_PYTHON_FUTURES`` asks for :class:`PyFuture` and ``PyTask``."""
    value = os.environ.get("LOOP_CORE_PYTHON_FUTURES", "")
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _asyncio_is_accelerated() -> bool:
    # The C accelerator's classes live in module _asyncio; the pure-Python
    # fallbacks (PyPy, a build without it) in asyncio.futures and asyncio.tasks.
    return asyncio.Future.__module__ == "_asyncio" and asyncio.Task.__module__ == "_asyncio"


#: ``True`` where asyncio's Future and Task are its C accelerator's classes.
ACCELERATED: bool = _asyncio_is_accelerated()

if TYPE_CHECKING:
    Future = asyncio.Future
else:
    #: The future class loops make: asyncio's accelerated Future, else :class:`PyFuture`.
    Future = asyncio.Future if ACCELERATED and not python_futures_requested() else PyFuture
