"""Lock, Event, Condition, Semaphore and BoundedSemaphore for coroutines.

They mirror :mod:`threading` for tasks of one loop, like asyncio's: FIFO
fairness, ``async with`` support, and cancellation that never loses a wake-up
(a task woken and cancelled in the same breath hands its turn to the next
waiter). Acquiring what is free creates no future at all.

The work is done in :mod:`loop_sync._lock_core`, which the compiled build turns
into C. The classes here are ordinary subclasses of those, for two reasons:
instances must be weakly referenceable, as asyncio's are (a registry of
per-key locks in a ``WeakValueDictionary`` is common), and a mypyc class
cannot offer that safely, since its deallocator never clears weak references;
and each is also a subclass of asyncio's class of the same name, so
``isinstance(lock, asyncio.Lock)`` holds and a type checker accepts ours
wherever a library annotates asyncio's. Our machinery comes first in the
method order; asyncio's ``__init__`` and methods are never reached.

(The ``type: ignore[misc]`` on each class: both bases have a private
``_waiters``, asyncio's a deque and ours a wait queue; what CPython's own
tests read of it, ``len()`` and truth, both support.)
"""

from __future__ import annotations

import asyncio

from loop_sync import _lock_core

__all__ = ["BoundedSemaphore", "Condition", "Event", "Lock", "Semaphore"]


class Lock(_lock_core.Lock, asyncio.Lock):  # type: ignore[misc]
    """A mutual-exclusion lock; ``release()`` by whoever holds it."""

    __module__ = "loop_sync"  # its public home, for reprs and pickles


class Event(_lock_core.Event, asyncio.Event):  # type: ignore[misc]
    """A flag that tasks can wait for: :meth:`set` wakes them all."""

    __module__ = "loop_sync"  # its public home, for reprs and pickles


class Condition(_lock_core.Condition, asyncio.Condition):  # type: ignore[misc]
    """Wait until notified, holding *lock* (a new :class:`Lock` by default) around it."""

    __module__ = "loop_sync"  # its public home, for reprs and pickles


class Semaphore(_lock_core.Semaphore, asyncio.Semaphore):  # type: ignore[misc]
    """A counter of free slots: :meth:`acquire` takes one, :meth:`release` returns one."""

    __module__ = "loop_sync"  # its public home, for reprs and pickles


class BoundedSemaphore(Semaphore, asyncio.BoundedSemaphore):  # type: ignore[misc]
    """A :class:`Semaphore` that refuses to be released above its initial value."""

    __module__ = "loop_sync"  # its public home, for reprs and pickles

    _bound: int

    def __init__(self, value: int = 1) -> None:
        self._bound = value
        super().__init__(value)

    def release(self) -> None:
        """Return a slot; :class:`ValueError` if that would exceed the initial value."""
        if self._value >= self._bound:
            raise ValueError("BoundedSemaphore released too many times")
        super().release()
