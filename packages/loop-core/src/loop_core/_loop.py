"""EventLoop: loop-core's implementation of :class:`asyncio.AbstractEventLoop`.

:class:`EventLoop` is interpreted Python over the compiled
:class:`~loop_core._core.LoopCore`, which defines every hot method
(``call_soon``, ``call_later``, ``create_task``, ``add_reader``, ``time``, ...);
this class never redefines one. What it adds is the cold part: the lifecycle
and asyncio's contracts around it (running-loop registration, async-generator
hooks), the exception handler, debug mode, signals (:mod:`loop_core._signals`),
low-level socket calls (:mod:`loop_core._sockets`) and the methods of optional
packages (:mod:`loop_core._extension_methods`).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import sys
import threading
import traceback
import warnings
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, TypeVarTuple, cast

from loop_core import _futures, _sockets, _tasks
from loop_core._core import CallSoonAttribute, LoopCore, check_callback
from loop_core._extension_methods import ExtensionMethods
from loop_core._futures import isfuture
from loop_core._signals import SignalHandlers, check_signal
from loop_core.extensions import ExtensionFactory
from loop_core.pollers import Poller, create_poller

__all__ = ["EventLoop"]

_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")

logger = logging.getLogger("loop_core")

_TaskFactory = Callable[..., Any]

# How many frames of a coroutine's creation debug mode records.
_COROUTINE_ORIGIN_DEPTH = 10


def _debug_mode_from_environment() -> bool:
    if sys.flags.dev_mode:
        return True
    return not sys.flags.ignore_environment and bool(os.environ.get("PYTHONASYNCIODEBUG"))


def _own_stop_when_done(future: Any) -> None:
    # SystemExit and KeyboardInterrupt propagate out of run_forever by
    # themselves; stopping here would swallow the next iteration's callbacks.
    if not future.cancelled():
        exc = future.exception()
        if isinstance(exc, (SystemExit, KeyboardInterrupt)):
            return
    future.get_loop().stop()


# asyncio's own done-callback of run_until_complete where it exists (it does
# the same): anyio recognises the task run_until_complete runs by finding that
# very function among the task's callbacks, and only then releases what it
# keeps per loop (its worker threads, the root task) when that task ends.
_stop_when_done: Callable[[Any], None] = getattr(
    asyncio.base_events, "_run_until_complete_cb", _own_stop_when_done
)


# The shell keeps its own state in slots, so an instance's __dict__ stays
# empty and CPython specializes ``loop.call_soon(...)`` and every other
# method lookup made from Python, as it does for a plain object; an attribute
# in the instance dictionary (or one read of ``vars(loop)``) turns each of
# those lookups back into a search of the dictionary and the class chain.
# The dictionary itself remains, for whatever users attach to a loop.
_EVENT_LOOP_SLOTS: tuple[str, ...] = (
    "_exception_handler",
    "_asyncgens",
    "_asyncgens_shutdown_called",
    "_signals",
    "_coroutine_origin_depth",
    "_extension_factories",
    "_extensions",
)
_CORE_IS_COMPILED = not LoopCore.__dictoffset__  # a native class has no dictionary
if _CORE_IS_COMPILED:
    _EVENT_LOOP_SLOTS += ("__dict__",)
if not LoopCore.__weakrefoffset__:
    _EVENT_LOOP_SLOTS += ("__weakref__",)


# misc: call_soon, call_soon_threadsafe, call_later and call_at return our
# compiled Handle and TimerHandle, which have asyncio's methods but cannot
# derive from asyncio's Python classes (mypyc); and typeshed keeps the
# reuse_address keyword of create_datagram_endpoint, which asyncio's loop
# refuses since Python 3.11 (a TypeError), as ours does.
class EventLoop(LoopCore, ExtensionMethods, asyncio.AbstractEventLoop):  # type: ignore[misc]
    """A complete asyncio event loop.

    *poller* names the readiness poller (see
    :func:`loop_core.pollers.available_pollers`) or is a poller object; the
    default is epoll on Linux. *extensions* maps extension kinds to factories
    and overrides what is discovered through entry points. *python_futures*
    makes the loop's futures and tasks loop-core's pure-Python
    :class:`~loop_core.PyFuture` and :class:`~loop_core.PyTask` instead of
    asyncio's accelerated classes; by default it follows the environment
    variable ``LOOP_CORE_PYTHON_FUTURES``.
    """

    __slots__ = _EVENT_LOOP_SLOTS

    if not TYPE_CHECKING and _CORE_IS_COMPILED and sys.version_info < (3, 12):
        call_soon = CallSoonAttribute()  # the core's method, bound once per loop

    def __init__(
        self,
        *,
        poller: str | Poller | None = None,
        extensions: Mapping[str, ExtensionFactory] | None = None,
        python_futures: bool | None = None,
    ) -> None:
        chosen = create_poller(poller) if poller is None or isinstance(poller, str) else poller
        if python_futures is None:
            python_futures = _futures.python_futures_requested()
        if python_futures:
            future_class: Any = _futures.PyFuture
            task_class: Any = _tasks.PyTask
        else:
            future_class, task_class = _futures.Future, _tasks.Task
        super().__init__(chosen, future_class, task_class)
        self._exception_handler: (
            Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object] | None
        ) = None
        self._asyncgens: weakref.WeakSet[AsyncGenerator[Any, Any]] = weakref.WeakSet()
        self._asyncgens_shutdown_called = False
        self._init_extensions(extensions)
        self._signals = SignalHandlers(self)
        self._coroutine_origin_depth = sys.get_coroutine_origin_tracking_depth()
        self.set_debug(_debug_mode_from_environment())

    # Lifecycle

    def _check_closed(self) -> None:
        if self._closed:
            raise RuntimeError("Event loop is closed")

    def _check_not_running(self) -> None:
        if self.is_running():
            raise RuntimeError("This event loop is already running")
        if asyncio._get_running_loop() is not None:
            raise RuntimeError("Cannot run the event loop while another loop is running")

    def run_forever(self) -> None:
        """Run until :meth:`stop` is called."""
        self._check_closed()
        self._check_not_running()
        old_hooks = sys.get_asyncgen_hooks()
        self._thread_id = threading.get_ident()
        self._set_coroutine_origin_tracking(self._debug)
        try:
            sys.set_asyncgen_hooks(
                firstiter=self._asyncgen_firstiter_hook,
                finalizer=self._asyncgen_finalizer_hook,
            )
            asyncio._set_running_loop(self)
            self._run_until_stopped()
        finally:
            self._thread_id = 0
            asyncio._set_running_loop(None)
            self._set_coroutine_origin_tracking(False)
            sys.set_asyncgen_hooks(*old_hooks)

    def run_until_complete(self, future: Generator[Any, None, _T] | Awaitable[_T]) -> _T:
        """Run until *future* (a future, task or coroutine) is done; return its result."""
        self._check_closed()
        self._check_not_running()
        new_task = not isfuture(future)
        task: Any = asyncio.ensure_future(cast(Awaitable[_T], future), loop=self)
        if new_task:
            # An exception escaping run_forever is reported by our caller.
            task._log_destroy_pending = False
        task.add_done_callback(_stop_when_done)
        try:
            self.run_forever()
        except BaseException:
            if new_task and task.done() and not task.cancelled():
                task.exception()  # it propagates: don't log it as never retrieved
            raise
        finally:
            task.remove_done_callback(_stop_when_done)
        if not task.done():
            raise RuntimeError("Event loop stopped before Future completed.")
        result: _T = task.result()
        return result

    def close(self) -> None:
        """Close the loop: drop pending callbacks and release the poller.

        The loop must not be running. Closing twice does nothing.
        """
        if self.is_running():
            raise RuntimeError("Cannot close a running event loop")
        if self._closed:
            return
        if self._debug:
            logger.debug("Close %r", self)
        self._signals.close()
        self._closed = True
        self._close_extensions()
        self._close_core()

    if _CORE_IS_COMPILED:
        # The compiled core learns of a patched ``loop.time`` here rather than
        # by reading the instance dictionary on every timer, which would
        # materialize it (see _EVENT_LOOP_SLOTS). The core's own attribute
        # writes are native and never come through here; the interpreted
        # build's would, so it keeps reading the dictionary instead.

        def __setattr__(self, name: str, value: Any) -> None:
            super().__setattr__(name, value)
            if name == "time":
                self._time_overridden = True

        def __delattr__(self, name: str) -> None:
            super().__delattr__(name)
            if name == "time":
                self._time_overridden = type(self).time is not LoopCore.time

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        if not getattr(self, "_closed", True):
            _warn(f"unclosed event loop {self!r}", ResourceWarning, source=self)
            if not self.is_running():
                self.close()

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} running={self.is_running()} "
            f"closed={self._closed} debug={self.get_debug()}>"
        )

    # Async generators

    def _asyncgen_firstiter_hook(self, agen: AsyncGenerator[Any, Any]) -> None:
        if self._asyncgens_shutdown_called:
            warnings.warn(
                f"asynchronous generator {agen!r} was scheduled after "
                "loop.shutdown_asyncgens() call",
                ResourceWarning,
                source=self,
                stacklevel=2,
            )
        self._asyncgens.add(agen)

    def _asyncgen_finalizer_hook(self, agen: AsyncGenerator[Any, Any]) -> None:
        self._asyncgens.discard(agen)
        if not self.is_closed():
            self.call_soon_threadsafe(self.create_task, agen.aclose())

    async def shutdown_asyncgens(self) -> None:
        """Close every async generator still suspended on this loop."""
        self._asyncgens_shutdown_called = True
        if not self._asyncgens:
            return
        closing = list(self._asyncgens)
        self._asyncgens.clear()
        results = await asyncio.gather(*[agen.aclose() for agen in closing], return_exceptions=True)
        for result, agen in zip(results, closing, strict=True):
            if isinstance(result, Exception):
                self.call_exception_handler(
                    {
                        "message": f"an error occurred during closing of "
                        f"asynchronous generator {agen!r}",
                        "exception": result,
                        "asyncgen": agen,
                    }
                )

    # Tasks (create_future and create_task are the core's)

    def set_task_factory(self, factory: _TaskFactory | None) -> None:
        """Use ``factory(loop, coro, **kwargs)`` to make tasks (``None``: the default)."""
        if factory is not None and not callable(factory):
            raise TypeError("task factory must be a callable or None")
        self._task_factory = factory

    def get_task_factory(self) -> _TaskFactory | None:
        """Return the task factory, or ``None`` for the default."""
        factory: _TaskFactory | None = self._task_factory
        return factory

    # Low-level sockets: loop-core's socket coroutine functions themselves,
    # bound as methods (compiled ones bind too), so no coroutine of this class
    # stands in front of theirs.

    sock_recv = _sockets.sock_recv
    sock_recv_into = _sockets.sock_recv_into
    sock_recvfrom = _sockets.sock_recvfrom
    sock_recvfrom_into = _sockets.sock_recvfrom_into
    sock_sendall = _sockets.sock_sendall
    sock_sendto = _sockets.sock_sendto
    sock_connect = _sockets.sock_connect
    sock_accept = _sockets.sock_accept

    # Signals

    def add_signal_handler(self, sig: int, callback: Callable[[*_Ts], object], *args: *_Ts) -> None:
        """Call ``callback(*args)`` in the loop when signal *sig* arrives.

        Only from the main thread; raises :class:`RuntimeError` elsewhere.
        """
        self._check_closed()
        check_callback(callback, "add_signal_handler")
        self._signals.add(check_signal(sig), callback, args)

    def remove_signal_handler(self, sig: int) -> bool:
        """Remove the handler of *sig*; return whether there was one."""
        return self._signals.remove(check_signal(sig))

    # Errors and debugging

    def get_exception_handler(
        self,
    ) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object] | None:
        """Return the custom exception handler, or ``None``."""
        return self._exception_handler

    def set_exception_handler(
        self, handler: Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object] | None
    ) -> None:
        """Route :meth:`call_exception_handler` to ``handler(loop, context)``."""
        if handler is not None and not callable(handler):
            raise TypeError(f"A callable object or None is expected, got {handler!r}")
        self._exception_handler = handler

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        """Log *context* (asyncio's keys: message, exception, future, task, handle, ...)."""
        message = context.get("message") or "Unhandled exception in event loop"
        exception = context.get("exception")
        exc_info: Any = (
            (type(exception), exception, exception.__traceback__)
            if isinstance(exception, BaseException)
            else False
        )
        lines = [message]
        for key in sorted(context):
            if key in ("message", "exception"):
                continue
            value = context[key]
            if key in ("source_traceback", "handle_traceback"):
                tb = "".join(traceback.format_list(value))
                label = "Object created at" if key == "source_traceback" else "Handle created at"
                value = f"{label} (most recent call last):\n{tb.rstrip()}"
                lines.append(value)
            else:
                lines.append(f"{key}: {value!r}")
        logger.error("\n".join(lines), exc_info=exc_info)

    def call_exception_handler(self, context: dict[str, Any]) -> None:
        """Pass *context* to the exception handler; errors in the handler are logged."""
        if self._exception_handler is None:
            try:
                self.default_exception_handler(context)
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException:
                logger.error("Exception in default exception handler", exc_info=True)
            return
        try:
            # As asyncio 3.12+: the handler runs in the context of the task,
            # future or handle the error came from, so it sees its variables.
            source = context.get("task") or context.get("future") or context.get("handle")
            source_context = getattr(source, "get_context", lambda: None)()
            if isinstance(source_context, contextvars.Context):
                source_context.run(self._exception_handler, self, context)
            else:
                self._exception_handler(self, context)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            try:
                self.default_exception_handler(
                    {
                        "message": "Unhandled error in exception handler",
                        "exception": exc,
                        "context": context,
                    }
                )
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException:
                logger.error(
                    "Exception in default exception handler while handling an "
                    "unexpected error in custom exception handler",
                    exc_info=True,
                )

    def set_debug(self, enabled: bool) -> None:
        """Turn debug mode on or off (slow-callback logging, creation tracebacks)."""
        self._debug = bool(enabled)
        if self.is_running():
            self.call_soon_threadsafe(self._set_coroutine_origin_tracking, enabled)

    @property
    def slow_callback_duration(self) -> float:
        """In debug mode, callbacks running longer than this many seconds are logged."""
        return self._slow_callback_duration

    @slow_callback_duration.setter
    def slow_callback_duration(self, value: float) -> None:
        self._slow_callback_duration = float(value)

    def _set_coroutine_origin_tracking(self, enabled: bool) -> None:
        if enabled:
            self._coroutine_origin_depth = sys.get_coroutine_origin_tracking_depth()
            sys.set_coroutine_origin_tracking_depth(_COROUTINE_ORIGIN_DEPTH)
        else:
            sys.set_coroutine_origin_tracking_depth(self._coroutine_origin_depth)
