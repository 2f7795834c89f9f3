"""The machinery of Lock, Event, Condition and Semaphore.

They mirror :mod:`threading` for tasks of one loop, like asyncio's: FIFO
fairness, ``async with`` support, and cancellation that never loses a wake-up
(a task woken and cancelled in the same breath hands its turn to the next
waiter). Acquiring what is free creates no future at all.

This module is compiled by mypyc in the compiled build; the public classes
are the plain subclasses in :mod:`loop_sync._locks` (see there why).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Literal, TypeVar

from mypy_extensions import mypyc_attr

from loop_sync._waiting import LoopBound, WaitQueue, keeps_methods, running_loop_of, suspend

__all__ = ["Condition", "Event", "Lock", "Semaphore"]

_T = TypeVar("_T")


@mypyc_attr(allow_interpreted_subclasses=True)
class _Acquirable(LoopBound):
    """``async with`` for the primitives that ``acquire()`` and ``release()``.

    A base class rather than a mixin: mypyc compiles single inheritance only.
    """

    async def acquire(self) -> Literal[True]:
        raise TypeError(f"{type(self).__name__} does not define acquire()")

    def release(self) -> None:
        raise TypeError(f"{type(self).__name__} does not define release()")

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


# For classes that keep acquire() and release() (every public class, which
# compiled code reaches through a Python-level lookup), ``async with`` takes
# the uncontended path inline and releases through a module-level function.
_ACQUIRE_AND_RELEASE = ("acquire", "release")


def _state(primitive: object, detail: str, waiters: WaitQueue | None = None) -> str:
    """asyncio's repr format: ``<module.Class object at 0x... [detail, waiters:N]>``."""
    extra = f", waiters:{len(waiters)}" if waiters else ""
    kind = type(primitive)
    return f"<{kind.__module__}.{kind.__qualname__} object at {id(primitive):#x} [{detail}{extra}]>"


@mypyc_attr(allow_interpreted_subclasses=True)
class Lock(_Acquirable):
    """A mutual-exclusion lock; ``release()`` by whoever holds it."""

    def __init__(self) -> None:
        self._locked = False
        self._waiters = WaitQueue()
        self._plain = keeps_methods(type(self), Lock, _ACQUIRE_AND_RELEASE)

    def __repr__(self) -> str:
        return _state(self, "locked" if self._locked else "unlocked", self._waiters)

    def locked(self) -> bool:
        """Return ``True`` if the lock is held."""
        return self._locked

    async def acquire(self) -> Literal[True]:
        """Wait until the lock is free and take it; waiters are served in order."""
        if not self._locked:
            waiters = self._waiters
            if not waiters.futures or not waiters.has_waiter_in_line():
                self._locked = True
                return True
        waiter = self._waiters.enqueue(running_loop_of(self))
        try:
            try:
                await suspend(waiter)
            finally:
                self._waiters.discard(waiter)
        except asyncio.CancelledError:
            # Woken (the lock was handed to us) but cancelled before we ran:
            # the next waiter gets it instead. A waiter cancelled before it
            # was woken passes nothing on: release() already skipped it.
            if waiter.done() and not waiter.cancelled() and not self._locked:
                self._waiters.wake_first()
            raise
        self._locked = True
        return True

    def release(self) -> None:
        """Free the lock and wake the first waiter; :class:`RuntimeError` if not held."""
        _release_lock(self)

    async def __aenter__(self) -> None:
        if not self._locked and not self._waiters.futures and self._plain:
            self._locked = True
            return
        await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._plain:
            _release_lock(self)
        else:
            self.release()


def _release_lock(lock: Lock) -> None:
    if not lock._locked:
        raise RuntimeError("Lock is not acquired.")
    lock._locked = False
    if lock._waiters.futures:
        lock._waiters.wake_first()


@mypyc_attr(allow_interpreted_subclasses=True)
class Event(LoopBound):
    """A flag that tasks can wait for: :meth:`set` wakes them all."""

    def __init__(self) -> None:
        self._value = False
        self._waiters = WaitQueue()

    def __repr__(self) -> str:
        return _state(self, "set" if self._value else "unset", self._waiters)

    def is_set(self) -> bool:
        """Return ``True`` if the flag is set."""
        return self._value

    def set(self) -> None:
        """Set the flag and wake every waiter."""
        if not self._value:
            self._value = True
            self._waiters.wake_all()

    def clear(self) -> None:
        """Reset the flag; later :meth:`wait` calls block again."""
        self._value = False

    async def wait(self) -> Literal[True]:
        """Wait until the flag is set; return ``True``."""
        if self._value:
            return True
        waiter = self._waiters.enqueue(running_loop_of(self))
        try:
            await suspend(waiter)
            return True
        finally:
            self._waiters.discard(waiter)


@mypyc_attr(allow_interpreted_subclasses=True)
class Condition(_Acquirable):
    """Wait until notified, holding *lock* (a new :class:`Lock` by default) around it."""

    def __init__(self, lock: Lock | None = None) -> None:
        self._lock = Lock() if lock is None else lock
        self._waiters = WaitQueue()

    def __repr__(self) -> str:
        return _state(self, "locked" if self.locked() else "unlocked", self._waiters)

    def locked(self) -> bool:
        """Return ``True`` if the underlying lock is held."""
        return self._lock.locked()

    async def acquire(self) -> Literal[True]:
        """Acquire the underlying lock."""
        return await self._lock.acquire()

    def release(self) -> None:
        """Release the underlying lock."""
        self._lock.release()

    async def wait(self) -> Literal[True]:
        """Release the lock, wait for a notification, re-acquire the lock.

        The lock is held again when this returns or raises, even when the
        waiting task is cancelled.
        """
        if not self._lock.locked():
            raise RuntimeError("cannot wait on un-acquired lock")
        waiter = self._waiters.enqueue(running_loop_of(self))
        self.release()
        cancelled: BaseException | None = None
        try:
            try:
                await suspend(waiter)
                return True
            finally:
                self._waiters.discard(waiter)
        except asyncio.CancelledError as exc:
            cancelled = exc
            raise
        finally:
            # Re-acquire whatever happens; a cancellation during it is kept
            # and re-raised once the lock is ours again.
            while True:
                try:
                    await self._lock.acquire()
                    break
                except asyncio.CancelledError as exc:
                    cancelled = exc
            if cancelled is not None:
                # Notified, then cancelled (while waiting or re-acquiring):
                # the notification goes to another waiter, not into the void.
                if waiter.done() and not waiter.cancelled():
                    self._notify(1)
                try:
                    raise cancelled
                finally:
                    cancelled = None

    async def wait_for(self, predicate: Callable[[], _T]) -> _T:
        """Wait until ``predicate()`` is true; return its last value."""
        result = predicate()
        while not result:
            await self.wait()
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        """Wake up to *n* waiters; the lock must be held."""
        if not self._lock.locked():
            raise RuntimeError("cannot notify on un-acquired lock")
        self._notify(n)

    def _notify(self, n: int) -> None:
        woken = 0
        while woken < n and self._waiters.wake_first(False):
            woken += 1

    def notify_all(self) -> None:
        """Wake every waiter; the lock must be held."""
        if not self._lock.locked():
            raise RuntimeError("cannot notify on un-acquired lock")
        self._waiters.wake_all(False)


@mypyc_attr(allow_interpreted_subclasses=True)
class Semaphore(_Acquirable):
    """A counter of free slots: :meth:`acquire` takes one, :meth:`release` returns one."""

    def __init__(self, value: int = 1) -> None:
        if value < 0:
            raise ValueError("Semaphore initial value must be >= 0")
        self._value = value
        self._waiters = WaitQueue()
        self._plain = keeps_methods(type(self), Semaphore, _ACQUIRE_AND_RELEASE)

    def __repr__(self) -> str:
        detail = "locked" if self.locked() else f"unlocked, value:{self._value}"
        return _state(self, detail, self._waiters)

    def locked(self) -> bool:
        """Return ``True`` if :meth:`acquire` would wait."""
        return self._value == 0 or self._waiters.has_waiter_in_line()

    async def acquire(self) -> Literal[True]:
        """Take a slot, waiting in line if none is free; return ``True``."""
        if self._value > 0 and (
            not self._waiters.futures or not self._waiters.has_waiter_in_line()
        ):
            self._value -= 1
            return True
        waiter = self._waiters.enqueue(running_loop_of(self))
        try:
            try:
                await suspend(waiter)
            finally:
                self._waiters.discard(waiter)
        except asyncio.CancelledError:
            # A slot release() already took for us goes back to the pool.
            if waiter.done() and not waiter.cancelled():
                self._value += 1
            raise
        finally:
            # Slots freed while we queued go to the waiters behind us.
            _hand_out_slots(self)
        return True

    def release(self) -> None:
        """Return a slot, waking the first waiter."""
        _release_slot(self)

    async def __aenter__(self) -> None:
        if self._value > 0 and not self._waiters.futures and self._plain:
            self._value -= 1
            return
        await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._plain:
            _release_slot(self)
        else:
            self.release()


def _release_slot(semaphore: Semaphore) -> None:
    semaphore._value += 1
    if semaphore._waiters.futures:
        _hand_out_slots(semaphore)


def _hand_out_slots(semaphore: Semaphore) -> None:
    # The slot is taken on the waiter's behalf as it is woken, so a
    # newcomer cannot take it first.
    while semaphore._value > 0 and semaphore._waiters.wake_first():
        semaphore._value -= 1
