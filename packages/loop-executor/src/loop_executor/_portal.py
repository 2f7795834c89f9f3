"""Calling into a loop from synchronous code: the blocking portal.

A :class:`BlockingPortal` runs an event loop in a background thread. Any other
thread can then run coroutine functions on it (:meth:`BlockingPortal.call`)
or plain functions in its thread (:meth:`BlockingPortal.run_sync`) and block
for the result, which is how synchronous programs use asynchronous libraries.
Stopping the portal cancels what is still running, finishes async generators
and the default executor, and closes the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

import loop_core
from loop_executor._bridge import run_coroutine_threadsafe

__all__ = ["BlockingPortal", "start_blocking_portal"]

_T = TypeVar("_T")
_P = ParamSpec("_P")


class BlockingPortal:
    """A loop in its own thread, callable from every other thread.

    *loop_factory* makes the loop (default: :func:`loop_core.new_event_loop`).
    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None) -> None:
        self._loop_factory = loop_factory or loop_core.new_event_loop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._pending: set[concurrent.futures.Future[Any]] = set()
        self._lock = threading.Lock()
        self._stopped = False

    def __enter__(self) -> BlockingPortal:
        if self._thread is None:  # start_blocking_portal() has started it already
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The portal's loop (only to be used through thread-safe calls)."""
        if self._loop is None:
            raise RuntimeError("the portal has not been started")
        return self._loop

    def start(self) -> None:
        """Start the loop thread and wait until the loop runs."""
        if self._thread is not None:
            raise RuntimeError("the portal was already started")
        self._thread = threading.Thread(target=self._run, name="loop-portal", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            raise RuntimeError("the portal's loop could not start") from self._startup_error

    def _run(self) -> None:
        try:
            loop = self._loop_factory()
        except BaseException as exc:
            self._startup_error = exc
            self._ready.set()
            return
        self._loop = loop
        asyncio.set_event_loop(loop)
        loop.call_soon(self._ready.set)
        try:
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    def _check_usable(self) -> asyncio.AbstractEventLoop:
        loop = self.loop
        if self._stopped:
            raise RuntimeError("the portal has been stopped")
        if threading.current_thread() is self._thread:
            raise RuntimeError("a portal cannot be called from its own loop's thread")
        return loop

    def call(self, func: Callable[_P, Awaitable[_T]], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run ``await func(*args, **kwargs)`` on the portal's loop; return its result."""
        loop = self._check_usable()
        if not callable(func):
            raise TypeError(f"a callable object was expected, got {func!r}")

        async def invoke() -> _T:
            return await func(*args, **kwargs)

        future = run_coroutine_threadsafe(invoke(), loop)
        return self._wait(future)

    def run_sync(self, func: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run ``func(*args, **kwargs)`` in the loop's thread; return its result."""
        loop = self._check_usable()
        if not callable(func):
            raise TypeError(f"a callable object was expected, got {func!r}")
        future: concurrent.futures.Future[_T] = concurrent.futures.Future()

        def invoke() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(func(*args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)

        loop.call_soon_threadsafe(invoke)
        return self._wait(future)

    def _wait(self, future: concurrent.futures.Future[_T]) -> _T:
        with self._lock:
            self._pending.add(future)
        try:
            return future.result()
        finally:
            with self._lock:
                self._pending.discard(future)

    def stop(self, cancel_remaining: bool = True) -> None:
        """Stop the loop (cancelling calls still running) and join its thread."""
        if self._thread is None or self._stopped:
            return
        self._stopped = True
        loop = self.loop
        if cancel_remaining:
            with self._lock:
                pending = list(self._pending)
            for future in pending:
                future.cancel()

        async def finish() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            if cancel_remaining:
                for task in tasks:
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            loop.stop()

        try:
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(finish()))
        except RuntimeError:
            pass  # already closed
        self._thread.join()


def start_blocking_portal(
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> BlockingPortal:
    """Return a started :class:`BlockingPortal`; use it in a ``with`` block to stop it."""
    portal = BlockingPortal(loop_factory)
    portal.start()
    return portal
