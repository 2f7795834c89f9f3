"""Callback handles: what ``call_soon`` and ``call_later`` return.

A :class:`Handle` is one scheduled call of a callback with its arguments in a
:mod:`contextvars` context; a :class:`TimerHandle` adds the loop time it is due.
Running a handle is the innermost step of every loop iteration, so this module
is compiled with mypyc and keeps its per-call work to a minimum.
"""

from __future__ import annotations

import contextvars
import functools
import reprlib
import traceback
from collections.abc import Callable
from typing import Any, Protocol

from mypy_extensions import mypyc_attr

__all__ = ["Handle", "HandleOwner", "TimerHandle", "format_callback"]

# Interpreted, a frame that a traceback reaches outlives its call; compiled
# code has no frames to keep (see the end of Handle._run).
_INTERPRETED = __file__.endswith(".py")


class HandleOwner(Protocol):
    """What a handle needs of the loop it belongs to."""

    def call_exception_handler(self, context: dict[str, Any]) -> None: ...

    def get_debug(self) -> bool: ...

    def _timer_handle_cancelled(self, handle: TimerHandle) -> None: ...


def format_callback(callback: object, args: tuple[object, ...] | None) -> str:
    """Return a short description of a call, as ``name(arg, ...)``.

    ``functools.partial`` objects are unwrapped so the description names the
    function that will really run.
    """
    func = callback
    positional: tuple[object, ...] = ()
    keywords: dict[str, object] = {}
    while isinstance(func, functools.partial):
        positional = tuple(func.args) + positional
        keywords = {**func.keywords, **keywords}
        func = func.func
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)
    shown = [reprlib.repr(a) for a in positional + (args or ())]
    shown += [f"{k}={reprlib.repr(v)}" for k, v in keywords.items()]
    return f"{name}({', '.join(shown)})"


@mypyc_attr(allow_interpreted_subclasses=True)
class Handle:
    """A callback scheduled on a loop, which :meth:`cancel` can withdraw."""

    _callback: Callable[..., object] | None
    _args: tuple[object, ...] | None
    _cancelled: bool
    _loop: HandleOwner
    _context: contextvars.Context
    _source_traceback: traceback.StackSummary | None
    _repr: str | None

    def __init__(
        self,
        callback: Callable[..., object],
        args: tuple[object, ...],
        loop: HandleOwner,
        context: contextvars.Context | None = None,
    ) -> None:
        self._callback = callback
        self._args = args
        self._cancelled = False
        self._loop = loop
        self._context = contextvars.copy_context() if context is None else context
        self._repr = None
        if loop.get_debug():
            self._source_traceback = traceback.extract_stack()
        else:
            self._source_traceback = None

    def get_context(self) -> contextvars.Context:
        """Return the :class:`contextvars.Context` the callback runs in."""
        return self._context

    def cancel(self) -> None:
        """Withdraw the call; nothing happens if it already ran or was cancelled."""
        if not self._cancelled:
            self._cancelled = True
            if self._loop.get_debug():
                # Keep the description for debugging after the references go.
                self._repr = repr(self)
            self._callback = None
            self._args = None

    def cancelled(self) -> bool:
        """Return ``True`` if the call was cancelled."""
        return self._cancelled

    def _run(self) -> None:
        callback = self._callback
        args = self._args
        if callback is None or args is None:
            return
        try:
            self._context.run(callback, *args)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            context: dict[str, Any] = {
                "message": f"Exception in callback {format_callback(callback, args)}",
                "exception": exc,
                "handle": self,
            }
            if self._source_traceback is not None:
                context["source_traceback"] = self._source_traceback
            self._loop.call_exception_handler(context)
        if _INTERPRETED:
            # A traceback stored by the callback (a failed Task step) links
            # back to this frame: holding the callback here would make
            # exception -> traceback -> frame -> task a cycle, and the task's
            # "exception was never retrieved" would wait for the collector.
            callback = args = None
            self = None  # type: ignore[assignment]  # noqa: PLW0642

    def _repr_parts(self) -> list[str]:
        parts = [type(self).__name__]
        if self._cancelled:
            parts.append("cancelled")
        if self._callback is not None:
            parts.append(format_callback(self._callback, self._args))
        if self._source_traceback:
            frame = self._source_traceback[-1]
            parts.append(f"created at {frame.filename}:{frame.lineno}")
        return parts

    def __repr__(self) -> str:
        if self._repr is not None:
            return self._repr
        return "<" + " ".join(self._repr_parts()) + ">"


@mypyc_attr(allow_interpreted_subclasses=True)
class TimerHandle(Handle):
    """A :class:`Handle` due at a point of the loop's clock (see :meth:`when`)."""

    _when: float
    _scheduled: bool

    def __init__(
        self,
        when: float,
        callback: Callable[..., object],
        args: tuple[object, ...],
        loop: HandleOwner,
        context: contextvars.Context | None = None,
    ) -> None:
        super().__init__(callback, args, loop, context)
        self._when = when
        self._scheduled = False

    def when(self) -> float:
        """Return the loop time (as :meth:`EventLoop.time`) the call is due."""
        return self._when

    def cancel(self) -> None:
        """Withdraw the call; a scheduled timer is dropped from the loop's heap lazily."""
        if not self._cancelled and self._scheduled:
            self._loop._timer_handle_cancelled(self)
        super().cancel()

    def _repr_parts(self) -> list[str]:
        parts = super()._repr_parts()
        parts.insert(2 if self._cancelled else 1, f"when={self._when}")
        return parts

    def __lt__(self, other: object) -> bool:
        if isinstance(other, TimerHandle):
            return self._when < other._when
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if isinstance(other, TimerHandle):
            return self._when < other._when or self.__eq__(other)
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if isinstance(other, TimerHandle):
            return self._when > other._when
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if isinstance(other, TimerHandle):
            return self._when > other._when or self.__eq__(other)
        return NotImplemented

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TimerHandle):
            return (
                self._when == other._when
                and self._callback == other._callback
                and self._args == other._args
                and self._cancelled == other._cancelled
            )
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._when)
