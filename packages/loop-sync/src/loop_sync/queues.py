"""Queue, PriorityQueue and LifoQueue for tasks of one loop, with ``shutdown``.

``put`` waits while the queue is full, ``get`` while it is empty, both in
FIFO order of the waiting tasks. An item stays in the queue until a getter
really takes it, so a getter cancelled just as an item arrived never loses it.
``shutdown()`` (Python 3.13's semantics, on every supported Python) makes
``put`` raise :class:`QueueShutDown`, and ``get`` too once the queue is empty
(at once with ``immediate=True``, which also discards what is left).
"""

from __future__ import annotations

import collections
import heapq
import types
from typing import Any, Generic, TypeVar, cast

from mypy_extensions import mypyc_attr

from loop_sync._queue_errors import QueueEmpty, QueueFull, QueueShutDown
from loop_sync._waiting import LoopBound, WaitQueue, suspend
from loop_sync.locks import Event

__all__ = ["LifoQueue", "PriorityQueue", "Queue", "QueueEmpty", "QueueFull", "QueueShutDown"]

_T = TypeVar("_T")


@mypyc_attr(allow_interpreted_subclasses=True)
class Queue(LoopBound, Generic[_T]):
    """A first-in, first-out queue; *maxsize* <= 0 means unbounded."""

    # A float maxsize works, as asyncio's does; the annotation says so
    # because compiled code checks it.
    def __init__(self, maxsize: int | float = 0) -> None:
        self._maxsize = maxsize
        self._bounded = maxsize > 0
        self._getters = WaitQueue()
        self._putters = WaitQueue()
        self._unfinished_tasks = 0
        self._finished = Event()
        self._finished.set()
        self._is_shutdown = False
        self._init(maxsize)

    # Queue[int] is a types.GenericAlias, as asyncio's (Generic's own alias
    # is a typing construct, and mypyc would drop it anyway).
    def __class_getitem__(cls, item: object) -> types.GenericAlias:
        return types.GenericAlias(cls, item)

    # The storage, overridden by the other queue kinds.

    def _init(self, maxsize: int | float) -> None:
        self._queue: Any = collections.deque()

    def _get(self) -> _T:
        item: _T = self._queue.popleft()
        return item

    def _put(self, item: _T) -> None:
        self._queue.append(item)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} at {id(self):#x} {self._describe()}>"

    def __str__(self) -> str:
        return f"<{type(self).__name__} {self._describe()}>"

    def _describe(self) -> str:
        parts = [f"maxsize={self._maxsize!r}"]
        if self._queue:
            parts.append(f"_queue={list(self._queue)!r}")
        if self._getters:
            parts.append(f"_getters[{len(self._getters)}]")
        if self._putters:
            parts.append(f"_putters[{len(self._putters)}]")
        if self._unfinished_tasks:
            parts.append(f"tasks={self._unfinished_tasks}")
        if self._is_shutdown:
            parts.append("shutdown")
        return " ".join(parts)

    @property
    def maxsize(self) -> int:
        """The most items the queue holds (0 or less: no limit)."""
        # Typed as asyncio's; a float given to the constructor comes back as is.
        return cast(int, self._maxsize)

    def qsize(self) -> int:
        """Return the number of items in the queue."""
        return len(self._queue)

    def empty(self) -> bool:
        """Return ``True`` if the queue holds no items."""
        return not self._queue

    def full(self) -> bool:
        """Return ``True`` if ``put`` would wait."""
        return self._bounded and self.qsize() >= self._maxsize

    async def put(self, item: _T) -> None:
        """Put *item* in the queue, waiting for room if it is full."""
        while self.full():
            if self._is_shutdown:
                raise QueueShutDown
            # Whoever wakes a putter also takes it out of the queue.
            putter = self._putters.enqueue(self._get_loop())
            try:
                await suspend(putter)
            except BaseException:
                putter.cancel()
                self._putters.discard(putter)
                # Woken for room we will not use: pass it on.
                if not self.full() and not putter.cancelled():
                    self._putters.pop_and_wake_first()
                raise
        self.put_nowait(item)

    def put_nowait(self, item: _T) -> None:
        """Put *item* in the queue or raise :class:`QueueFull`."""
        if self._is_shutdown:
            raise QueueShutDown
        if self.full():
            raise QueueFull
        self._put(item)
        self._unfinished_tasks += 1
        self._finished.clear()
        if self._getters.futures:
            self._getters.pop_and_wake_first()

    async def get(self) -> _T:
        """Remove and return an item, waiting for one if the queue is empty."""
        while self.empty():
            if self._is_shutdown:
                raise QueueShutDown
            # Whoever wakes a getter also takes it out of the queue.
            getter = self._getters.enqueue(self._get_loop())
            try:
                await suspend(getter)
            except BaseException:
                getter.cancel()
                self._getters.discard(getter)
                # Woken for an item we will not take: the next getter gets it.
                if not self.empty() and not getter.cancelled():
                    self._getters.pop_and_wake_first()
                raise
        return self.get_nowait()

    def get_nowait(self) -> _T:
        """Remove and return an item, or raise :class:`QueueEmpty`."""
        if self.empty():
            if self._is_shutdown:
                raise QueueShutDown
            raise QueueEmpty
        item = self._get()
        if self._putters.futures:
            self._putters.pop_and_wake_first()
        return item

    def task_done(self) -> None:
        """Mark one item taken with ``get`` as processed (see :meth:`join`)."""
        if self._unfinished_tasks <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished_tasks -= 1
        if self._unfinished_tasks == 0:
            self._finished.set()

    async def join(self) -> None:
        """Wait until every item put has been marked done with :meth:`task_done`."""
        if self._unfinished_tasks > 0:
            await self._finished.wait()

    def shutdown(self, immediate: bool = False) -> None:
        """Refuse new items; with *immediate*, also drop the items still queued.

        Blocked ``put`` calls raise :class:`QueueShutDown` at once; ``get``
        calls do when the queue is (or becomes) empty.
        """
        self._is_shutdown = True
        if immediate:
            while not self.empty():
                self._get()
                if self._unfinished_tasks > 0:
                    self._unfinished_tasks -= 1
            if self._unfinished_tasks == 0:
                self._finished.set()
        for waiters in (self._getters, self._putters):
            waiters.wake_all()
            waiters.futures.clear()


@mypyc_attr(allow_interpreted_subclasses=True)
class PriorityQueue(Queue[_T]):
    """A queue that returns its smallest item first (items must be comparable)."""

    def _init(self, maxsize: int | float) -> None:
        self._queue = []

    def _put(self, item: _T) -> None:
        heapq.heappush(self._queue, item)

    def _get(self) -> _T:
        item: _T = heapq.heappop(self._queue)
        return item


@mypyc_attr(allow_interpreted_subclasses=True)
class LifoQueue(Queue[_T]):
    """A queue that returns the most recently added item first."""

    def _init(self, maxsize: int | float) -> None:
        self._queue = []

    def _get(self) -> _T:
        item: _T = self._queue.pop()
        return item
