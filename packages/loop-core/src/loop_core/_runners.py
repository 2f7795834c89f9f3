"""Running a program on a loop: :func:`run`, :class:`Runner`, :func:`new_event_loop`.

A :class:`Runner` owns one loop for several top-level calls, turns the first
Ctrl-C into a cancellation of the main task, and on close cancels what is
left, finishes async generators and shuts the default executor down before
closing the loop. Any asyncio loop factory can be plugged in.
"""

from __future__ import annotations

import asyncio
import contextvars
import enum
import functools
import signal
import sys
import threading
from collections.abc import Callable, Coroutine
from types import FrameType, TracebackType
from typing import Any, TypeVar

from loop_core._loop import EventLoop

__all__ = ["EventLoopPolicy", "Runner", "new_event_loop", "run"]

_T = TypeVar("_T")

# asyncio's documented default for joining the default executor's threads.
_EXECUTOR_SHUTDOWN_TIMEOUT = 300.0


def new_event_loop() -> EventLoop:
    """Return a new loop-core :class:`EventLoop`."""
    return EventLoop()


class EventLoopPolicy(asyncio.DefaultEventLoopPolicy):
    """An asyncio event loop policy whose new loops are loop-core loops.

    ``asyncio.set_event_loop_policy(loop_core.EventLoopPolicy())`` makes code
    that creates loops through asyncio (``asyncio.new_event_loop()``,
    ``asyncio.run()``, ``unittest.IsolatedAsyncioTestCase``) use ours.
    """

    def new_event_loop(self) -> EventLoop:
        return EventLoop()


class _State(enum.Enum):
    CREATED = "created"
    INITIALIZED = "initialized"
    CLOSED = "closed"


class Runner:
    """Run coroutines on one loop, created on first use and closed by :meth:`close`.

    *loop_factory* defaults to :func:`new_event_loop`; *debug* sets the loop's
    debug mode when not ``None``. Use it as a context manager.
    """

    def __init__(
        self,
        *,
        debug: bool | None = None,
        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
    ) -> None:
        self._state = _State.CREATED
        self._debug = debug
        self._loop_factory = loop_factory
        self._loop: asyncio.AbstractEventLoop | None = None
        self._context: contextvars.Context | None = None
        self._interrupt_count = 0
        self._set_event_loop = False

    def __enter__(self) -> Runner:
        self._lazy_init()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def get_loop(self) -> asyncio.AbstractEventLoop:
        """Return the runner's loop, creating it if needed."""
        self._lazy_init()
        assert self._loop is not None
        return self._loop

    def close(self) -> None:
        """Cancel leftover tasks, finish async generators and the executor, close the loop."""
        if self._state is not _State.INITIALIZED:
            return
        loop = self._loop
        assert loop is not None
        try:
            _cancel_all_tasks(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            if isinstance(loop, EventLoop) or sys.version_info >= (3, 12):
                loop.run_until_complete(
                    loop.shutdown_default_executor(_EXECUTOR_SHUTDOWN_TIMEOUT)  # type: ignore[call-arg,unused-ignore]
                )
            else:
                loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            if self._set_event_loop:
                asyncio.set_event_loop(None)
            loop.close()
            self._loop = None
            self._state = _State.CLOSED

    def run(
        self, coro: Coroutine[Any, Any, _T], *, context: contextvars.Context | None = None
    ) -> _T:
        """Run *coro* to completion on the runner's loop and return its result."""
        if not asyncio.iscoroutine(coro):
            raise ValueError(f"a coroutine was expected, got {coro!r}")
        if asyncio._get_running_loop() is not None:
            raise RuntimeError("Runner.run() cannot be called from a running event loop")
        self._lazy_init()
        loop = self._loop
        assert loop is not None
        task = loop.create_task(coro, context=self._context if context is None else context)
        sigint_handler: Callable[[int, FrameType | None], None] | None = None
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            sigint_handler = functools.partial(self._on_sigint, main_task=task)
            try:
                signal.signal(signal.SIGINT, sigint_handler)
            except ValueError:
                sigint_handler = None
        self._interrupt_count = 0
        try:
            return loop.run_until_complete(task)
        except asyncio.CancelledError:
            if self._interrupt_count > 0:
                uncancel = getattr(task, "uncancel", None)
                if uncancel is not None and uncancel() == 0:
                    raise KeyboardInterrupt from None
            raise
        finally:
            if sigint_handler is not None and signal.getsignal(signal.SIGINT) is sigint_handler:
                signal.signal(signal.SIGINT, signal.default_int_handler)

    def _lazy_init(self) -> None:
        if self._state is _State.CLOSED:
            raise RuntimeError("Runner is closed")
        if self._state is _State.INITIALIZED:
            return
        if self._loop_factory is None:
            self._loop = new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._set_event_loop = True
        else:
            self._loop = self._loop_factory()
        if self._debug is not None:
            self._loop.set_debug(self._debug)
        self._context = contextvars.copy_context()
        self._state = _State.INITIALIZED

    def _on_sigint(
        self, signum: int, frame: FrameType | None, main_task: asyncio.Future[Any]
    ) -> None:
        self._interrupt_count += 1
        if self._interrupt_count == 1 and not main_task.done():
            main_task.cancel()
            assert self._loop is not None
            # Wake the loop so the cancellation is seen at once.
            self._loop.call_soon_threadsafe(lambda: None)
            return
        raise KeyboardInterrupt


def _cancel_all_tasks(loop: asyncio.AbstractEventLoop) -> None:
    pending = asyncio.all_tasks(loop)
    if not pending:
        return
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    for task in pending:
        if task.cancelled():
            continue
        if task.exception() is not None:
            loop.call_exception_handler(
                {
                    "message": "unhandled exception during loop_core.run() shutdown",
                    "exception": task.exception(),
                    "task": task,
                }
            )


def run(
    main: Coroutine[Any, Any, _T],
    *,
    debug: bool | None = None,
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> _T:
    """Run the coroutine *main* on a new loop (ours by default) and close it after.

    It cannot be called while another loop runs in the same thread.
    """
    if asyncio._get_running_loop() is not None:
        raise RuntimeError("loop_core.run() cannot be called from a running event loop")
    with Runner(debug=debug, loop_factory=loop_factory) as runner:
        return runner.run(main)
