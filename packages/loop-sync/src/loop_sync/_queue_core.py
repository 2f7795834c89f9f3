"""The machinery of Queue, PriorityQueue and LifoQueue.

``put`` waits while the queue is full, ``get`` while it is empty, both in
FIFO order of the waiting tasks. An item stays in the queue until a getter
really takes it, so a getter cancelled just as an item arrived never loses it.
``shutdown()`` (Python 3.13's semantics, on every supported Python) makes
``put`` raise :class:`QueueShutDown`, and ``get`` too once the queue is empty
(at once with ``immediate=True``, which also discards what is left).

This module is compiled by mypyc in the compiled build. Its classes are not
generic (a generic mypyc class gets weak references it never clears); the
public generic classes are the plain subclasses in :mod:`loop_sync._queues`.
"""

from __future__ import annotations

import collections
import heapq
from typing import Any, Final, cast

from mypy_extensions import mypyc_attr

from loop_sync._lock_core import Event
from loop_sync._queue_errors import QueueEmpty, QueueFull, QueueShutDown
from loop_sync._waiting import LoopBound, WaitQueue, keeps_methods, running_loop_of, suspend

__all__ = ["LifoQueue", "PriorityQueue", "Queue"]


@mypyc_attr(allow_interpreted_subclasses=True)
class Queue(LoopBound):
    """A first-in, first-out queue; *maxsize* <= 0 means unbounded."""

    # A float maxsize works, as asyncio's does.
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
        self._kind = _storage_kind(type(self))

    # The storage, overridden by the other queue kinds.

    def _init(self, maxsize: int | float) -> None:
        self._queue: Any = collections.deque()

    def _get(self) -> Any:
        item: Any = self._queue.popleft()
        return item

    def _put(self, item: Any) -> None:
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

    async def put(self, item: Any) -> None:
        """Put *item* in the queue, waiting for room if it is full."""
        while _is_full(self):
            if self._is_shutdown:
                raise QueueShutDown
            # Whoever wakes a putter also takes it out of the queue.
            putter = self._putters.enqueue(running_loop_of(self))
            try:
                await suspend(putter)
            except BaseException:
                putter.cancel()
                self._putters.discard(putter)
                # Woken for room we will not use: pass it on.
                if not _is_full(self) and not putter.cancelled():
                    self._putters.pop_and_wake_first()
                raise
        if self._kind == _CUSTOM:
            self.put_nowait(item)
        else:
            _put_now(self, item)

    def put_nowait(self, item: Any) -> None:
        """Put *item* in the queue or raise :class:`QueueFull`."""
        _put_now(self, item)

    async def get(self) -> Any:
        """Remove and return an item, waiting for one if the queue is empty."""
        while _is_empty(self):
            if self._is_shutdown:
                raise QueueShutDown
            # Whoever wakes a getter also takes it out of the queue.
            getter = self._getters.enqueue(running_loop_of(self))
            try:
                await suspend(getter)
            except BaseException:
                getter.cancel()
                self._getters.discard(getter)
                # Woken for an item we will not take: the next getter gets it.
                if not _is_empty(self) and not getter.cancelled():
                    self._getters.pop_and_wake_first()
                raise
        if self._kind == _CUSTOM:
            return self.get_nowait()
        return _get_now(self)

    def get_nowait(self) -> Any:
        """Remove and return an item, or raise :class:`QueueEmpty`."""
        return _get_now(self)

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
            while not _is_empty(self):
                self._get()
                if self._unfinished_tasks > 0:
                    self._unfinished_tasks -= 1
            if self._unfinished_tasks == 0:
                self._finished.set()
        for waiters in (self._getters, self._putters):
            waiters.wake_all()
            waiters.futures.clear()


@mypyc_attr(allow_interpreted_subclasses=True)
class PriorityQueue(Queue):
    """A queue that returns its smallest item first (items must be comparable)."""

    def _init(self, maxsize: int | float) -> None:
        self._queue = []

    def _put(self, item: Any) -> None:
        heapq.heappush(self._queue, item)

    def _get(self) -> Any:
        item: Any = heapq.heappop(self._queue)
        return item


@mypyc_attr(allow_interpreted_subclasses=True)
class LifoQueue(Queue):
    """A queue that returns the most recently added item first."""

    def _init(self, maxsize: int | float) -> None:
        self._queue = []

    def _get(self) -> Any:
        item: Any = self._queue.pop()
        return item


# How a queue stores its items: one of the built-in kinds, worked on
# directly, or _CUSTOM when a subclass replaced a storage or size hook.
_CUSTOM: Final = 0
_FIFO: Final = 1
_LIFO: Final = 2
_HEAP: Final = 3

_HOOKS = ("_init", "_put", "_get", "qsize", "empty", "full", "put_nowait", "get_nowait")
_BUILT_IN: dict[type, int] = {Queue: _FIFO, LifoQueue: _LIFO, PriorityQueue: _HEAP}


def _storage_kind(cls: type) -> int:
    for base, kind in _BUILT_IN.items():
        if keeps_methods(cls, base, _HOOKS):
            return kind
    return _CUSTOM


# The hot paths work on the built-in storage directly; a queue whose subclass
# replaced a storage or size hook goes through the (overridable) methods.


def _is_full(queue: Queue) -> bool:
    if queue._kind == _CUSTOM:
        return queue.full()
    return queue._bounded and len(queue._queue) >= queue._maxsize


def _is_empty(queue: Queue) -> bool:
    if queue._kind == _CUSTOM:
        return queue.empty()
    return not queue._queue


def _put_now(queue: Queue, item: Any) -> None:
    if queue._is_shutdown:
        raise QueueShutDown
    kind = queue._kind
    if kind == _CUSTOM:
        if queue.full():
            raise QueueFull
        queue._put(item)
    else:
        # Inline rather than through helpers: interpreted, every call counts.
        if queue._bounded and len(queue._queue) >= queue._maxsize:
            raise QueueFull
        if kind == _HEAP:
            heapq.heappush(queue._queue, item)
        else:
            queue._queue.append(item)
    queue._unfinished_tasks += 1
    queue._finished.clear()
    if queue._getters.futures:
        queue._getters.pop_and_wake_first()


def _get_now(queue: Queue) -> Any:
    kind = queue._kind
    if kind == _CUSTOM:
        if queue.empty():
            _refuse_get(queue)
        item = queue._get()
    else:
        items = queue._queue
        if not items:
            _refuse_get(queue)
        if kind == _FIFO:
            item = items.popleft()
        elif kind == _LIFO:
            item = items.pop()
        else:
            item = heapq.heappop(items)
    if queue._putters.futures:
        queue._putters.pop_and_wake_first()
    return item


def _refuse_get(queue: Queue) -> None:
    if queue._is_shutdown:
        raise QueueShutDown
    raise QueueEmpty
