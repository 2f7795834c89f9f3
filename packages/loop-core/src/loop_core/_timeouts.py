"""Deadlines for blocks of code: :func:`timeout`, :func:`timeout_at`, :func:`wait_for`.

A :class:`Timeout` cancels the task that entered it when its deadline passes
and turns the resulting :class:`~asyncio.CancelledError` into
:class:`TimeoutError` on the way out, but only if that cancellation was its
own: the task's cancellation count (``cancelling()``/``uncancel()``) tells an
expired deadline apart from an outside ``cancel()``, so the two compose with
each other and with :class:`~loop_core.TaskGroup`. Works on any asyncio loop.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable
from types import TracebackType
from typing import Any, TypeVar, final

from loop_core._combinators import cancel_and_wait, ensure_future

__all__ = ["Timeout", "timeout", "timeout_at", "wait_for"]

_T = TypeVar("_T")


class _State(enum.Enum):
    CREATED = "created"
    ENTERED = "active"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    EXITED = "finished"


@final
class Timeout:
    """An asynchronous context manager that cancels its block at loop time *when*.

    ``when=None`` means no deadline until :meth:`reschedule` sets one. Use
    :func:`timeout` or :func:`timeout_at` to make one.
    """

    def __init__(self, when: float | None) -> None:
        self._state = _State.CREATED
        self._when = when
        self._handle: Any = None
        self._task: Any = None
        self._cancelling = 0

    def when(self) -> float | None:
        """Return the deadline in loop time, or ``None``."""
        return self._when

    def reschedule(self, when: float | None) -> None:
        """Move the deadline to loop time *when* (``None`` removes it)."""
        if self._state is not _State.ENTERED:
            if self._state is _State.CREATED:
                raise RuntimeError("Timeout has not been entered")
            raise RuntimeError(f"Cannot change state of {self._state.value} Timeout")
        self._when = when
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if when is not None:
            loop = asyncio.get_running_loop()
            if when <= loop.time():
                self._handle = loop.call_soon(self._on_deadline)
            else:
                self._handle = loop.call_at(when, self._on_deadline)

    def expired(self) -> bool:
        """Return ``True`` once the deadline has passed and cancelled the block."""
        return self._state in (_State.EXPIRING, _State.EXPIRED)

    def __repr__(self) -> str:
        when = f" when={self._when}" if self._state is _State.ENTERED else ""
        return f"<Timeout [{self._state.value}]{when}>"

    async def __aenter__(self) -> Timeout:
        if self._state is not _State.CREATED:
            raise RuntimeError("Timeout has already been entered")
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("Timeout should be used inside a task")
        self._state = _State.ENTERED
        self._task = task
        self._cancelling = task.cancelling()
        self.reschedule(self._when)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._state is _State.EXPIRING:
            self._state = _State.EXPIRED
            # Only our own cancellation becomes TimeoutError; if someone else
            # also cancelled the task, the count stays above where we found it.
            if self._task.uncancel() <= self._cancelling and exc_val is not None:
                if isinstance(exc_val, asyncio.CancelledError):
                    raise TimeoutError from exc_val
                _replace_cancellation_in_context(exc_val)
                if isinstance(exc_val, BaseExceptionGroup):
                    for inner in exc_val.exceptions:
                        _replace_cancellation_in_context(inner)
        elif self._state is _State.ENTERED:
            self._state = _State.EXITED

    def _on_deadline(self) -> None:
        self._task.cancel()
        self._state = _State.EXPIRING
        self._handle = None


def _replace_cancellation_in_context(error: BaseException) -> None:
    # An exception raised while handling our CancelledError would otherwise
    # show that CancelledError as its context; show the TimeoutError instead.
    while error.__context__ is not None:
        context = error.__context__
        if isinstance(context, asyncio.CancelledError):
            replacement = TimeoutError()
            replacement.__context__ = context
            error.__context__ = replacement
            return
        error = context


def timeout(delay: float | None) -> Timeout:
    """Cancel the block after *delay* seconds (``None``: never) and raise :class:`TimeoutError`.

    Use as ``async with timeout(5): ...``.
    """
    if delay is None:
        return Timeout(None)
    return Timeout(asyncio.get_running_loop().time() + delay)


def timeout_at(when: float | None) -> Timeout:
    """Like :func:`timeout`, with a deadline in loop time (see ``loop.time()``)."""
    return Timeout(when)


async def wait_for(fut: Awaitable[_T], timeout: float | None) -> _T:
    """Wait for *fut*, cancelling it and raising :class:`TimeoutError` after *timeout* seconds.

    ``timeout=None`` waits as long as it takes. With ``timeout <= 0`` a future
    that is not already done is cancelled at once.
    """
    if timeout is not None and timeout <= 0:
        future = ensure_future(fut)
        if future.done():
            return future.result()
        await cancel_and_wait(future)
        try:
            return future.result()
        except asyncio.CancelledError as exc:
            raise TimeoutError from exc
    async with Timeout(None if timeout is None else asyncio.get_running_loop().time() + timeout):
        return await fut
