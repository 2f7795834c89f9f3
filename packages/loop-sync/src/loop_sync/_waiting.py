"""The one wait-queue every primitive is built on, and binding to a loop.

A primitive belongs to the loop it is first used on; using it from another
running loop is an error that says so. Waiters are futures in a FIFO deque, so
fairness is the deque's order and cancellation is "the future was cancelled":
each primitive decides, in one place, what a cancelled waiter that had
already been woken must pass on so that no wake-up is lost.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from collections.abc import Awaitable
from typing import Any, TypeVar

from mypy_extensions import mypyc_attr

from loop_core.interfaces import FutureLike, SchedulingLoop
from loop_core.suspension import compiled_throw_warns
from loop_core.suspension import suspend as suspend_in_caller

__all__ = ["LoopBound", "WaitQueue", "keeps_methods", "running_loop_of", "suspend"]

_T = TypeVar("_T")

# This module is compiled together with its siblings, or not at all.
_NEEDS_SUSPENSION = compiled_throw_warns(__file__)

# Binding is rare (once per primitive) but may race between threads that
# create loops; a lock keeps "first loop wins" true.
_binding_lock = threading.Lock()


@mypyc_attr(allow_interpreted_subclasses=True)
class LoopBound:
    """Base class: remembers the first running loop a primitive is used on."""

    _loop: SchedulingLoop | None = None

    def _get_loop(self) -> SchedulingLoop:
        return running_loop_of(self)


# The primitives' hot paths call module-level functions, not methods: on an
# instance of an interpreted subclass (every public class is one), compiled
# code reaches even a final method through a Python-level lookup.


def running_loop_of(primitive: LoopBound) -> SchedulingLoop:
    """The running loop, which *primitive* is bound to from its first use on."""
    loop: SchedulingLoop = asyncio.get_running_loop()
    if primitive._loop is None:
        with _binding_lock:
            if primitive._loop is None:
                primitive._loop = loop
    if loop is not primitive._loop:
        raise RuntimeError(
            f"{primitive!r} is bound to a different event loop than the one running now"
        )
    return loop


_kept_methods: dict[tuple[type, type], bool] = {}


def keeps_methods(cls: type, base: type, names: tuple[str, ...]) -> bool:
    """Whether *cls* is *base* or a subclass that replaced none of *names*.

    Only then may compiled code work on the state directly instead of
    calling those (overridable) methods. The answer is kept per class.
    """
    key = (cls, base)
    kept = _kept_methods.get(key)
    if kept is None:
        kept = issubclass(cls, base) and all(
            getattr(cls, name) is getattr(base, name) for name in names
        )
        _kept_methods[key] = kept
    return kept


class WaitQueue:
    """Futures of waiting tasks, oldest first.

    ``futures`` is public so the primitives' uncontended paths can test it for
    emptiness without a method call.
    """

    __slots__ = ("futures",)

    def __init__(self) -> None:
        self.futures: collections.deque[FutureLike[Any]] = collections.deque()

    def __len__(self) -> int:
        return len(self.futures)

    def __bool__(self) -> bool:
        return bool(self.futures)

    def has_waiter_in_line(self) -> bool:
        """True if some waiter was not cancelled, including one woken but not yet run.

        A newcomer must queue behind such a waiter: it was promised its turn.
        """
        return any(not f.cancelled() for f in self.futures)

    def enqueue(self, loop: SchedulingLoop) -> FutureLike[Any]:
        future = loop.create_future()
        self.futures.append(future)
        return future

    def discard(self, future: FutureLike[Any]) -> None:
        try:
            self.futures.remove(future)
        except ValueError:
            pass

    def wake_first(self, value: Any = True) -> bool:
        """Wake the oldest waiter still waiting; return whether there was one."""
        for future in self.futures:
            if not future.done():
                future.set_result(value)
                return True
        return False

    def pop_and_wake_first(self, value: Any = True) -> bool:
        """Like :meth:`wake_first`, but take the woken waiter (and any finished
        ones before it) out of the queue, so the waiter need not remove itself."""
        futures = self.futures
        while futures:
            future = futures.popleft()
            if not future.done():
                future.set_result(value)
                return True
        return False

    def wake_all(self, value: Any = True) -> int:
        woken = 0
        for future in self.futures:
            if not future.done():
                future.set_result(value)
                woken += 1
        return woken

    def fail_all(self, error: BaseException) -> None:
        for future in self.futures:
            if not future.done():
                future.set_exception(error)


def suspend(future: FutureLike[_T]) -> Awaitable[_T]:
    """What a primitive awaits to wait for *future* (see loop_core.suspension)."""
    return suspend_in_caller(future, _NEEDS_SUSPENSION)
