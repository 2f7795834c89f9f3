"""EventLoop: loop-core's implementation of :class:`asyncio.AbstractEventLoop`.

The public class validates arguments, keeps the lifecycle straight and speaks
asyncio's contracts (running-loop registration, async-generator hooks, the
exception handler, debug mode). The hot work, the ready queue, timers and
polling, belongs to the compiled :class:`~loop_core._scheduler.Scheduler`.
Methods that belong to optional packages delegate to extensions
(:mod:`loop_core.extensions`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import errno
import inspect
import logging
import os
import signal
import socket
import sys
import threading
import traceback
import types
import warnings
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Generator, Mapping
from typing import Any, TypeVar, TypeVarTuple, cast

from loop_core import sockets as _sockets
from loop_core._scheduler import Scheduler
from loop_core.extensions import (
    ExecutorExtension,
    ExtensionFactory,
    MissingExtensionError,
    NetworkExtension,
    TLSExtension,
    discover_extensions,
)
from loop_core.futures import Future, isfuture
from loop_core.handles import Handle, TimerHandle
from loop_core.pollers import Poller, create_poller
from loop_core.tasks import Task

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


def _check_callback(callback: object, method: str) -> None:
    function = callback.__func__ if type(callback) is types.MethodType else callback
    if type(function) is types.FunctionType and not function.__dict__:
        # The usual callback, a plain function or method, carries no
        # coroutine marker (markers live in __dict__): its code flags decide.
        if function.__code__.co_flags & inspect.CO_COROUTINE:
            raise TypeError(f"coroutines cannot be used with {method}()")
        return
    if asyncio.iscoroutine(callback) or asyncio.iscoroutinefunction(callback):
        raise TypeError(f"coroutines cannot be used with {method}()")
    if not callable(callback):
        raise TypeError(f"a callable object was expected by {method}(), got {callback!r}")


def _fileno(fd: Any) -> int:
    if isinstance(fd, int):
        number = fd
    else:
        try:
            number = int(fd.fileno())
        except (AttributeError, TypeError, ValueError):
            raise ValueError(f"Invalid file object: {fd!r}") from None
    if number < 0:
        raise ValueError(f"Invalid file descriptor: {number}")
    return number


def _stop_when_done(future: Any) -> None:
    # SystemExit and KeyboardInterrupt propagate out of run_forever by
    # themselves; stopping here would swallow the next iteration's callbacks.
    if not future.cancelled():
        exc = future.exception()
        if isinstance(exc, (SystemExit, KeyboardInterrupt)):
            return
    future.get_loop().stop()


class EventLoop(asyncio.AbstractEventLoop):
    """A complete asyncio event loop.

    *poller* names the readiness poller (see
    :func:`loop_core.pollers.available_pollers`) or is a poller object; the
    default is epoll on Linux. *extensions* maps extension kinds to factories
    and overrides what is discovered through entry points.
    """

    def __init__(
        self,
        *,
        poller: str | Poller | None = None,
        extensions: Mapping[str, ExtensionFactory] | None = None,
    ) -> None:
        self._poller = (
            create_poller(poller) if poller is None or isinstance(poller, str) else poller
        )
        self._scheduler = Scheduler(self, self._poller)
        self._closed = False
        self._thread_id: int | None = None
        self._exception_handler: (
            Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object] | None
        ) = None
        self._task_factory: _TaskFactory | None = None
        self._asyncgens: weakref.WeakSet[AsyncGenerator[Any, Any]] = weakref.WeakSet()
        self._asyncgens_shutdown_called = False
        self._extension_factories = dict(extensions) if extensions is not None else None
        self._extensions: dict[str, object] = {}
        self._signal_handlers: dict[int, Handle] = {}
        self._signal_receiver: socket.socket | None = None
        self._signal_sender: socket.socket | None = None
        self._coroutine_origin_depth = sys.get_coroutine_origin_tracking_depth()
        self._wakeup_read, self._wakeup_write = self._make_wakeup()
        self._scheduler.add_reader(
            self._wakeup_read, Handle(self._drain_wakeup, (), self._scheduler, None)
        )
        self.set_debug(_debug_mode_from_environment())

    # Waking the loop from other threads

    @staticmethod
    def _make_wakeup() -> tuple[int, int]:
        if hasattr(os, "eventfd"):
            fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
            return fd, fd
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        os.set_blocking(write_end, False)
        return read_end, write_end

    def _drain_wakeup(self) -> None:
        try:
            while os.read(self._wakeup_read, 4096):
                if self._wakeup_read == self._wakeup_write:
                    break  # an eventfd is emptied by one read
        except (BlockingIOError, InterruptedError):
            pass

    def _wake(self) -> None:
        # Read once: close() sets it to -1 before closing the descriptor, so a
        # racing thread never writes to a number the OS has handed out again.
        fd = self._wakeup_write
        if fd < 0:
            return
        try:
            if fd == self._wakeup_read:
                os.eventfd_write(fd, 1)
            else:
                os.write(fd, b"\0")
        except (BlockingIOError, InterruptedError, OSError):
            # A full pipe or a closing loop: a wake-up is already pending
            # or no longer needed.
            pass

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
        self._set_coroutine_origin_tracking(self._scheduler.debug)
        try:
            sys.set_asyncgen_hooks(
                firstiter=self._asyncgen_firstiter_hook,
                finalizer=self._asyncgen_finalizer_hook,
            )
            asyncio._set_running_loop(self)
            self._scheduler.run_until_stopped()
        finally:
            self._thread_id = None
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

    def stop(self) -> None:
        """Stop after the callbacks of the current iteration have run."""
        self._scheduler.stopping = True

    def is_running(self) -> bool:
        """Return ``True`` while :meth:`run_forever` runs."""
        return self._thread_id is not None

    def is_closed(self) -> bool:
        """Return ``True`` once :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Close the loop: drop pending callbacks and release the poller.

        The loop must not be running. Closing twice does nothing.
        """
        if self.is_running():
            raise RuntimeError("Cannot close a running event loop")
        if self._closed:
            return
        if self._scheduler.debug:
            logger.debug("Close %r", self)
        self._closed = True
        for sig in list(self._signal_handlers):
            self.remove_signal_handler(sig)
        for extension in self._extensions.values():
            close = getattr(extension, "close", None)
            if close is not None:
                close()
        self._extensions.clear()
        scheduler = self._scheduler
        scheduler.ready.clear()
        for timer in scheduler.timers:
            timer._scheduled = False
        scheduler.timers.clear()
        scheduler.readers.clear()
        scheduler.writers.clear()
        scheduler.registered.clear()
        self._poller.close()
        read_end, write_end = self._wakeup_read, self._wakeup_write
        self._wakeup_write = -1
        os.close(read_end)
        if write_end != read_end:
            os.close(write_end)

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

    # Time and callbacks

    def time(self) -> float:
        """Return the loop's clock: :func:`time.monotonic`."""
        return self._scheduler.time()

    def call_soon(  # type: ignore[override]
        self,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> Handle:
        """Call ``callback(*args)`` at the next iteration, after earlier calls."""
        scheduler = self._scheduler
        if self._closed or scheduler.debug or not callable(callback):
            self._check_scheduling(callback, "call_soon")
        return scheduler.call_soon(callback, args, context)

    def call_soon_threadsafe(  # type: ignore[override]
        self,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> Handle:
        """Like :meth:`call_soon`, from any thread; wakes the loop up."""
        self._check_closed()
        _check_callback(callback, "call_soon_threadsafe")
        handle = self._scheduler.call_soon(callback, args, context)
        self._wake()
        return handle

    def call_later(  # type: ignore[override]
        self,
        delay: float,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> TimerHandle:
        """Call ``callback(*args)`` after *delay* seconds."""
        return self.call_at(self._scheduler.time() + delay, callback, *args, context=context)

    def call_at(  # type: ignore[override]
        self,
        when: float,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> TimerHandle:
        """Call ``callback(*args)`` at loop time *when* (see :meth:`time`)."""
        scheduler = self._scheduler
        if self._closed or scheduler.debug or not callable(callback):
            self._check_scheduling(callback, "call_at")
        return scheduler.call_at(float(when), callback, args, context)

    def _check_scheduling(self, callback: object, method: str) -> None:
        self._check_closed()
        if self._scheduler.debug:
            self._check_thread()
            _check_callback(callback, method)
        elif not callable(callback):
            # Coroutine objects land here; coroutine functions are callable
            # and, as in asyncio, only caught in debug mode (the check is slow).
            _check_callback(callback, method)

    def _timer_handle_cancelled(self, handle: Any) -> None:
        self._scheduler._timer_handle_cancelled(handle)

    def _check_thread(self) -> None:
        if self._thread_id is not None and self._thread_id != threading.get_ident():
            raise RuntimeError(
                "Non-thread-safe operation invoked on an event loop other than the current one"
            )

    # Futures and tasks

    def create_future(self) -> Future[Any]:  # type: ignore[override]
        """Return a new :class:`~loop_core.Future` bound to this loop."""
        return Future(loop=self)

    def create_task(  # type: ignore[override]
        self,
        coro: Coroutine[Any, Any, _T] | Generator[Any, None, _T],
        *,
        name: str | None = None,
        context: contextvars.Context | None = None,
    ) -> Task[_T]:
        """Schedule *coro* as a task (through the task factory, if one is set)."""
        if self._closed:
            self._check_closed()
        if self._task_factory is None:
            task: Any = Task(coro, loop=self, name=name, context=context)
        else:
            if context is None:
                task = self._task_factory(self, coro)
            else:
                task = self._task_factory(self, coro, context=context)
            if name is not None:
                task.set_name(name)
        if self._scheduler.debug:
            source = getattr(task, "_source_traceback", None)
            if source:
                del source[-1]  # this method: the caller made the task
        return task  # type: ignore[no-any-return]

    def set_task_factory(self, factory: _TaskFactory | None) -> None:
        """Use ``factory(loop, coro, **kwargs)`` to make tasks (``None``: the default)."""
        if factory is not None and not callable(factory):
            raise TypeError("task factory must be a callable or None")
        self._task_factory = factory

    def get_task_factory(self) -> _TaskFactory | None:
        """Return the task factory, or ``None`` for the default."""
        return self._task_factory

    # File descriptors

    def add_reader(self, fd: int | Any, callback: Callable[[*_Ts], object], *args: *_Ts) -> None:
        """Call ``callback(*args)`` whenever *fd* (or a file object) is readable."""
        self._check_closed()
        _check_callback(callback, "add_reader")
        self._scheduler.add_reader(_fileno(fd), Handle(callback, args, self._scheduler, None))

    def remove_reader(self, fd: Any) -> bool:
        """Stop watching *fd* for reading; return whether it was watched."""
        if self._closed:
            return False
        return self._scheduler.remove_reader(_fileno(fd))

    def add_writer(self, fd: int | Any, callback: Callable[[*_Ts], object], *args: *_Ts) -> None:
        """Call ``callback(*args)`` whenever *fd* (or a file object) is writable."""
        self._check_closed()
        _check_callback(callback, "add_writer")
        self._scheduler.add_writer(_fileno(fd), Handle(callback, args, self._scheduler, None))

    def remove_writer(self, fd: Any) -> bool:
        """Stop watching *fd* for writing; return whether it was watched."""
        if self._closed:
            return False
        return self._scheduler.remove_writer(_fileno(fd))

    # Low-level sockets

    async def sock_recv(self, sock: socket.socket, nbytes: int) -> bytes:
        """Receive up to *nbytes* from a non-blocking socket."""
        return await _sockets.sock_recv(self, sock, nbytes)

    async def sock_recv_into(self, sock: socket.socket, buf: Any) -> int:
        """Receive into *buf*; return the number of bytes received."""
        return await _sockets.sock_recv_into(self, sock, buf)

    async def sock_recvfrom(self, sock: socket.socket, bufsize: int) -> tuple[bytes, Any]:
        """Receive a datagram; return ``(data, address)``."""
        return await _sockets.sock_recvfrom(self, sock, bufsize)

    async def sock_recvfrom_into(
        self, sock: socket.socket, buf: Any, nbytes: int = 0
    ) -> tuple[int, Any]:
        """Receive a datagram into *buf*; return ``(nbytes, address)``."""
        return await _sockets.sock_recvfrom_into(self, sock, buf, nbytes)

    async def sock_sendall(self, sock: socket.socket, data: Any) -> None:
        """Send all of *data*."""
        await _sockets.sock_sendall(self, sock, data)

    async def sock_sendto(self, sock: socket.socket, data: Any, address: Any) -> int:
        """Send a datagram to *address*."""
        return await _sockets.sock_sendto(self, sock, data, address)

    async def sock_connect(self, sock: socket.socket, address: Any) -> None:
        """Connect *sock* to *address*."""
        await _sockets.sock_connect(self, sock, address)

    async def sock_accept(self, sock: socket.socket) -> tuple[socket.socket, Any]:
        """Accept a connection on a listening socket."""
        return await _sockets.sock_accept(self, sock)

    # Signals

    def _check_signal(self, sig: int) -> None:
        if not isinstance(sig, int):
            raise TypeError(f"sig must be an int, not {sig!r}")
        if sig not in signal.valid_signals():
            raise ValueError(f"invalid signal number {sig}")

    def _ensure_signal_pipe(self) -> socket.socket:
        if self._signal_receiver is None:
            receiver, sender = socket.socketpair()
            receiver.setblocking(False)
            sender.setblocking(False)
            signal.set_wakeup_fd(sender.fileno())
            self._signal_receiver, self._signal_sender = receiver, sender
            self._scheduler.add_reader(
                receiver.fileno(), Handle(self._read_signals, (), self._scheduler, None)
            )
        return self._signal_receiver

    def _close_signal_pipe(self) -> None:
        receiver, sender = self._signal_receiver, self._signal_sender
        if receiver is None or sender is None:
            return
        self._scheduler.remove_reader(receiver.fileno())
        try:
            signal.set_wakeup_fd(-1)
        except (ValueError, OSError) as exc:
            logger.info("set_wakeup_fd(-1) failed: %s", exc)
        receiver.close()
        sender.close()
        self._signal_receiver = self._signal_sender = None

    def _read_signals(self) -> None:
        receiver = self._signal_receiver
        if receiver is None:
            return
        while True:
            try:
                data = receiver.recv(4096)
            except (BlockingIOError, InterruptedError):
                return
            if not data:
                return
            for sig in data:
                handle = self._signal_handlers.get(sig)
                if handle is not None and not handle._cancelled:
                    self._scheduler.ready.append(handle)

    def add_signal_handler(self, sig: int, callback: Callable[[*_Ts], object], *args: *_Ts) -> None:
        """Call ``callback(*args)`` in the loop when signal *sig* arrives.

        Only from the main thread; raises :class:`RuntimeError` elsewhere.
        """
        self._check_closed()
        _check_callback(callback, "add_signal_handler")
        self._check_signal(sig)
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("add_signal_handler() can only be called from the main thread")
        self._ensure_signal_pipe()
        handle = Handle(callback, args, self._scheduler, None)
        self._signal_handlers[sig] = handle
        try:
            # The C-level handler writes the signal number to the wakeup fd;
            # the Python-level handler has nothing left to do.
            signal.signal(sig, _ignore_signal_in_python)
            signal.siginterrupt(sig, False)
        except OSError as exc:
            del self._signal_handlers[sig]
            if not self._signal_handlers:
                self._close_signal_pipe()
            if exc.errno == errno.EINVAL:
                raise RuntimeError(f"sig {sig:d} cannot be caught") from None
            raise

    def remove_signal_handler(self, sig: int) -> bool:
        """Remove the handler of *sig*; return whether there was one."""
        self._check_signal(sig)
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("remove_signal_handler() can only be called from the main thread")
        handle = self._signal_handlers.pop(sig, None)
        if handle is None:
            return False
        handle.cancel()
        default = signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL
        try:
            signal.signal(sig, default)
        except OSError as exc:
            if exc.errno == errno.EINVAL:
                raise RuntimeError(f"sig {sig:d} cannot be caught") from None
            raise
        if not self._signal_handlers:
            self._close_signal_pipe()
        return True

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

    def get_debug(self) -> bool:
        """Return whether debug mode is on."""
        return self._scheduler.debug

    def set_debug(self, enabled: bool) -> None:
        """Turn debug mode on or off (slow-callback logging, creation tracebacks)."""
        self._scheduler.debug = bool(enabled)
        if self.is_running():
            self.call_soon_threadsafe(self._set_coroutine_origin_tracking, enabled)

    @property
    def slow_callback_duration(self) -> float:
        """In debug mode, callbacks running longer than this many seconds are logged."""
        return self._scheduler.slow_callback_duration

    @slow_callback_duration.setter
    def slow_callback_duration(self, value: float) -> None:
        self._scheduler.slow_callback_duration = float(value)

    def _set_coroutine_origin_tracking(self, enabled: bool) -> None:
        if enabled:
            self._coroutine_origin_depth = sys.get_coroutine_origin_tracking_depth()
            sys.set_coroutine_origin_tracking_depth(_COROUTINE_ORIGIN_DEPTH)
        else:
            sys.set_coroutine_origin_tracking_depth(self._coroutine_origin_depth)

    # Extensions

    def _extension(self, kind: str, method: str) -> Any:
        extension = self._extensions.get(kind)
        if extension is None:
            self._check_closed()
            factories = (
                self._extension_factories
                if self._extension_factories is not None and kind in self._extension_factories
                else discover_extensions()
            )
            factory = factories.get(kind)
            if factory is None:
                raise MissingExtensionError(method, kind)
            extension = factory(self)
            self._extensions[kind] = extension
        return extension

    def _executor(self, method: str) -> ExecutorExtension:
        extension: ExecutorExtension = self._extension("executor", method)
        return extension

    def _network(self, method: str) -> NetworkExtension:
        extension: NetworkExtension = self._extension("network", method)
        return extension

    def _tls(self, method: str) -> TLSExtension:
        extension: TLSExtension = self._extension("tls", method)
        return extension

    @property
    def _default_executor(self) -> concurrent.futures.Executor | None:
        """The default pool, if loop-executor made one: asyncio's attribute, which
        test helpers and debugging tools read."""
        pool: concurrent.futures.Executor | None = getattr(
            self._extensions.get("executor"), "default_executor", None
        )
        return pool

    def run_in_executor(  # type: ignore[override]
        self, executor: concurrent.futures.Executor | None, func: Callable[..., _T], *args: Any
    ) -> asyncio.Future[_T]:
        """Run ``func(*args)`` in *executor* (``None``: the default pool). Needs loop-executor."""
        self._check_closed()
        return self._executor("run_in_executor").run_in_executor(executor, func, *args)

    def set_default_executor(self, executor: Any) -> None:
        """Set the pool :meth:`run_in_executor` uses for ``None``. Needs loop-executor."""
        self._executor("set_default_executor").set_default_executor(executor)

    async def shutdown_default_executor(self, timeout: float | None = None) -> None:
        """Shut the default pool down, waiting up to *timeout* seconds. Needs loop-executor."""
        if "executor" not in self._extensions:
            return  # no pool was ever made, so there is nothing to shut down
        await self._executor("shutdown_default_executor").shutdown_default_executor(timeout)

    async def getaddrinfo(
        self,
        host: bytes | str | None,
        port: bytes | str | int | None,
        *,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[Any]:
        """Resolve *host* and *port* like :func:`socket.getaddrinfo`. Needs loop-executor."""
        return await self._executor("getaddrinfo").getaddrinfo(
            host, port, family=family, type=type, proto=proto, flags=flags
        )

    async def getnameinfo(self, sockaddr: Any, flags: int = 0) -> tuple[str, str]:
        """Look up the name of *sockaddr* like :func:`socket.getnameinfo`. Needs loop-executor."""
        return await self._executor("getnameinfo").getnameinfo(sockaddr, flags)

    async def create_connection(
        self,
        protocol_factory: Callable[[], Any],
        host: Any = None,
        port: Any = None,
        **options: Any,
    ) -> tuple[Any, Any]:
        """Open a stream connection; see :mod:`loop_transports`. Needs loop-transports."""
        return await self._network("create_connection").create_connection(
            protocol_factory, host, port, **options
        )

    async def create_server(
        self,
        protocol_factory: Callable[[], Any],
        host: Any = None,
        port: Any = None,
        **options: Any,
    ) -> Any:
        """Start a stream server; see :mod:`loop_transports`. Needs loop-transports."""
        return await self._network("create_server").create_server(
            protocol_factory, host, port, **options
        )

    async def create_unix_connection(
        self, protocol_factory: Callable[[], Any], path: str | None = None, **options: Any
    ) -> tuple[Any, Any]:
        """Open a Unix stream connection. Needs loop-transports."""
        return await self._network("create_unix_connection").create_unix_connection(
            protocol_factory, path, **options
        )

    async def create_unix_server(  # type: ignore[override]
        self, protocol_factory: Callable[[], Any], path: str | None = None, **options: Any
    ) -> Any:
        """Start a Unix stream server. Needs loop-transports."""
        return await self._network("create_unix_server").create_unix_server(
            protocol_factory, path, **options
        )

    async def create_datagram_endpoint(
        self,
        protocol_factory: Callable[[], Any],
        local_addr: Any = None,
        remote_addr: Any = None,
        **options: Any,
    ) -> tuple[Any, Any]:
        """Open a datagram endpoint. Needs loop-transports."""
        return await self._network("create_datagram_endpoint").create_datagram_endpoint(
            protocol_factory, local_addr=local_addr, remote_addr=remote_addr, **options
        )

    async def connect_accepted_socket(
        self, protocol_factory: Callable[[], Any], sock: socket.socket, **options: Any
    ) -> tuple[Any, Any]:
        """Wrap an accepted socket in a transport. Needs loop-transports."""
        return await self._network("connect_accepted_socket").connect_accepted_socket(
            protocol_factory, sock, **options
        )

    async def connect_read_pipe(
        self, protocol_factory: Callable[[], Any], pipe: Any
    ) -> tuple[Any, Any]:
        """Wrap the read end of a pipe in a transport. Needs loop-transports."""
        return await self._network("connect_read_pipe").connect_read_pipe(protocol_factory, pipe)

    async def connect_write_pipe(
        self, protocol_factory: Callable[[], Any], pipe: Any
    ) -> tuple[Any, Any]:
        """Wrap the write end of a pipe in a transport. Needs loop-transports."""
        return await self._network("connect_write_pipe").connect_write_pipe(protocol_factory, pipe)

    async def subprocess_exec(
        self, protocol_factory: Callable[[], Any], program: Any, *args: Any, **options: Any
    ) -> tuple[Any, Any]:
        """Run *program* as a child process. Needs loop-transports."""
        return await self._network("subprocess_exec").subprocess_exec(
            protocol_factory, program, *args, **options
        )

    async def subprocess_shell(
        self, protocol_factory: Callable[[], Any], cmd: Any, **options: Any
    ) -> tuple[Any, Any]:
        """Run *cmd* through the shell. Needs loop-transports."""
        return await self._network("subprocess_shell").subprocess_shell(
            protocol_factory, cmd, **options
        )

    async def sendfile(
        self,
        transport: Any,
        file: Any,
        offset: int = 0,
        count: int | None = None,
        *,
        fallback: bool = True,
    ) -> int:
        """Send a file over a transport. Needs loop-transports."""
        return await self._network("sendfile").sendfile(
            transport, file, offset, count, fallback=fallback
        )

    async def sock_sendfile(
        self,
        sock: socket.socket,
        file: Any,
        offset: int = 0,
        count: int | None = None,
        *,
        fallback: bool | None = True,
    ) -> int:
        """Send a file over a socket. Needs loop-transports."""
        return await self._network("sock_sendfile").sock_sendfile(
            sock, file, offset, count, fallback=bool(fallback)
        )

    async def start_tls(
        self, transport: Any, protocol: Any, sslcontext: Any, **options: Any
    ) -> Any:
        """Upgrade a connection to TLS. Needs loop-ssl."""
        return await self._tls("start_tls").start_tls(transport, protocol, sslcontext, **options)


def _ignore_signal_in_python(signum: int, frame: Any) -> None:
    """Python-level handler installed for signals the loop watches."""
