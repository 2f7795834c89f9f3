"""The default thread pool of a loop: ``run_in_executor`` and friends.

:class:`LoopExecutor` is loop-core's ``executor`` extension: one per loop,
found through the ``loop_core.extensions`` entry point, serving
``loop.run_in_executor``, ``set_default_executor``,
``shutdown_default_executor``, ``getaddrinfo`` and ``getnameinfo``. Its pool
is created on first use. :func:`to_thread` works on any asyncio loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import socket
import threading
import warnings
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from loop_executor._bridge import wrap_future
from loop_executor._resolver import numeric_addrinfo

__all__ = ["LoopExecutor", "create_extension", "to_thread"]

_T = TypeVar("_T")
_P = ParamSpec("_P")

_AddrInfo = list[tuple[socket.AddressFamily, socket.SocketKind, int, str, Any]]


class LoopExecutor:
    """The executor extension of one loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._default: concurrent.futures.Executor | None = None
        self._shutdown_called = False
        # Work a virtual clock must not jump past (see real_time_work_in_flight).
        self._running: set[concurrent.futures.Future[Any]] = set()
        self._joining = False

    def _default_executor(self) -> concurrent.futures.Executor:
        if self._shutdown_called:
            raise RuntimeError("Executor shutdown has been called: no new work is accepted")
        if self._default is None:
            self._default = concurrent.futures.ThreadPoolExecutor(
                thread_name_prefix="loop-executor"
            )
        return self._default

    def run_in_executor(
        self,
        executor: concurrent.futures.Executor | None,
        func: Callable[..., _T],
        *args: object,
    ) -> asyncio.Future[_T]:
        """Run ``func(*args)`` in *executor* (``None``: the default thread pool)."""
        if not callable(func):
            raise TypeError(f"a callable object was expected, got {func!r}")
        if self._loop.is_closed():
            raise RuntimeError("Event loop is closed")
        if asyncio.iscoroutinefunction(func):
            raise TypeError("coroutines cannot be used with run_in_executor()")
        if executor is None:
            executor = self._default_executor()
        submitted = executor.submit(func, *args)
        future = wrap_future(submitted, loop=self._loop)
        # Registered after wrap_future's own callback, so the result is on its
        # way to the loop before the work stops counting as in flight.
        self._running.add(submitted)
        submitted.add_done_callback(self._running.discard)
        return future

    def real_time_work_in_flight(self) -> bool:
        """Whether a thread of this extension is still working (read by virtual clocks)."""
        return bool(self._running) or self._joining

    @property
    def default_executor(self) -> concurrent.futures.Executor | None:
        """The default pool, once made (``None`` before first use and after shutdown)."""
        return self._default

    def set_default_executor(self, executor: concurrent.futures.Executor) -> None:
        """Use *executor* for ``run_in_executor(None, ...)``."""
        if not isinstance(executor, concurrent.futures.ThreadPoolExecutor):
            raise TypeError("executor must be a concurrent.futures.ThreadPoolExecutor")
        self._default = executor

    async def shutdown_default_executor(self, timeout: float | None = None) -> None:
        """Shut the default pool down; after *timeout* seconds, warn and stop waiting."""
        self._shutdown_called = True
        executor = self._default
        if executor is None:
            return
        done = self._loop.create_future()
        joiner = threading.Thread(
            target=self._join_in_thread, args=(executor, done), name="loop-executor-shutdown"
        )
        joiner.start()
        self._joining = True
        try:
            await asyncio.wait_for(asyncio.shield(done), timeout)
        except TimeoutError:
            warnings.warn(
                f"the default executor's threads did not finish within {timeout} seconds; "
                "they are left running",
                RuntimeWarning,
                stacklevel=2,
            )
            executor.shutdown(wait=False)
        else:
            joiner.join()
        finally:
            self._joining = False

    def _join_in_thread(self, executor: concurrent.futures.Executor, done: Any) -> None:
        try:
            executor.shutdown(wait=True)
        except Exception as exc:  # reported to the awaiting coroutine
            outcome: tuple[Any, ...] = (done.set_exception, exc)
        else:
            outcome = (done.set_result, None)
        try:
            self._loop.call_soon_threadsafe(_settle, done, *outcome)
        except RuntimeError:
            pass  # the loop closed while we joined: nobody is waiting any more

    async def getaddrinfo(
        self,
        host: bytes | str | None,
        port: bytes | str | int | None,
        *,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> _AddrInfo:
        """:func:`socket.getaddrinfo` in the pool; numeric addresses skip the thread hop."""
        quick = numeric_addrinfo(host, port, family=family, type=type, proto=proto, flags=flags)
        if quick is not None:
            return quick
        # typeshed's precise union of tuples is not a list of our wider tuple.
        resolve: Callable[..., Any] = socket.getaddrinfo
        answer: _AddrInfo = await self.run_in_executor(
            None, resolve, host, port, family, type, proto, flags
        )
        return answer

    async def getnameinfo(self, sockaddr: Any, flags: int = 0) -> tuple[str, str]:
        """:func:`socket.getnameinfo` in the pool."""
        return await self.run_in_executor(None, socket.getnameinfo, sockaddr, flags)

    def close(self) -> None:
        """Called when the loop closes: stop the pool without waiting for it."""
        self._shutdown_called = True
        executor, self._default = self._default, None
        if executor is not None:
            executor.shutdown(wait=False)


def _settle(future: Any, setter: Callable[[Any], None], value: Any) -> None:
    if not future.done():
        setter(value)


def create_extension(loop: asyncio.AbstractEventLoop) -> LoopExecutor:
    """Entry point of the ``loop_core.extensions`` group (kind ``executor``)."""
    return LoopExecutor(loop)


async def to_thread(func: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run ``func(*args, **kwargs)`` in the loop's default pool, in the caller's context.

    Context variables set by the caller are visible to *func*.
    """
    if not callable(func):
        raise TypeError(f"a callable object was expected, got {func!r}")
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    call = functools.partial(context.run, func, *args, **kwargs)
    return await loop.run_in_executor(None, call)
