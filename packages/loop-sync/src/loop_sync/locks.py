"""Lock, Event, Condition, Semaphore and BoundedSemaphore for coroutines.

They mirror :mod:`threading` for tasks of one loop, like asyncio's: FIFO
fairness, ``async with`` support, and cancellation that never loses a wake-up
(a task woken and cancelled in the same breath hands its turn to the next
waiter). Acquiring what is free creates no future at all.

The work is done in :mod:`loop_sync._locks`, which the compiled build turns
into C. The classes here are ordinary subclasses of those, for one reason:
instances must be weakly referenceable, as asyncio's are (a registry of
per-key locks in a ``WeakValueDictionary`` is common), and a mypyc class
cannot offer that safely, since its deallocator never clears weak references.
"""

from __future__ import annotations

from loop_sync import _locks

__all__ = ["BoundedSemaphore", "Condition", "Event", "Lock", "Semaphore"]


class Lock(_locks.Lock):
    """A mutual-exclusion lock; ``release()`` by whoever holds it."""


class Event(_locks.Event):
    """A flag that tasks can wait for: :meth:`set` wakes them all."""


class Condition(_locks.Condition):
    """Wait until notified, holding *lock* (a new :class:`Lock` by default) around it."""


class Semaphore(_locks.Semaphore):
    """A counter of free slots: :meth:`acquire` takes one, :meth:`release` returns one."""


class BoundedSemaphore(Semaphore):
    """A :class:`Semaphore` that refuses to be released above its initial value."""

    _bound: int

    def __init__(self, value: int = 1) -> None:
        self._bound = value
        super().__init__(value)

    def release(self) -> None:
        """Return a slot; :class:`ValueError` if that would exceed the initial value."""
        if self._value >= self._bound:
            raise ValueError("BoundedSemaphore released too many times")
        super().release()
