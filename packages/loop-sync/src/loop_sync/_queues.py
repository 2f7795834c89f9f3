"""Queue, PriorityQueue and LifoQueue for tasks of one loop, with ``shutdown``.

``put`` waits while the queue is full, ``get`` while it is empty, both in
FIFO order of the waiting tasks; a getter cancelled just as an item arrived
never loses it. ``shutdown()`` has Python 3.13's semantics on every supported
Python.

The work is done in :mod:`loop_sync._queue_core`, which the compiled build turns
into C. The classes here are ordinary subclasses of those that add the item
type, ``Queue[T]``, make instances weakly referenceable, as asyncio's are
(see :mod:`loop_sync._locks` for why a compiled class cannot be both), and
derive from asyncio's queue classes too, so ``isinstance`` and type checkers
accept ours where asyncio's are expected.
"""

from __future__ import annotations

import asyncio
import types
from typing import TYPE_CHECKING, TypeVar

from loop_sync import _queue_core
from loop_sync._queue_errors import QueueEmpty, QueueFull, QueueShutDown

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

__all__ = ["LifoQueue", "PriorityQueue", "Queue", "QueueEmpty", "QueueFull", "QueueShutDown"]

_T = TypeVar("_T")
# A priority queue's items are compared with each other (typeshed's bound).
_OrderedT = TypeVar("_OrderedT", bound="SupportsRichComparison")


class Queue(_queue_core.Queue, asyncio.Queue[_T]):
    """A first-in, first-out queue; *maxsize* <= 0 means unbounded."""

    __module__ = "loop_sync"  # its public home, for reprs and pickles

    # Queue[int] is a types.GenericAlias, as asyncio's (Generic's own alias
    # is a typing construct).
    def __class_getitem__(cls, item: object) -> types.GenericAlias:
        return types.GenericAlias(cls, item)

    if TYPE_CHECKING:
        # The item type, for type checkers; at run time these are the base's.
        async def put(self, item: _T) -> None: ...
        def put_nowait(self, item: _T) -> None: ...
        async def get(self) -> _T: ...
        def get_nowait(self) -> _T: ...
        def _put(self, item: _T) -> None: ...
        def _get(self) -> _T: ...


class PriorityQueue(_queue_core.PriorityQueue, Queue[_OrderedT], asyncio.PriorityQueue[_OrderedT]):
    """A queue that returns its smallest item first (items must be comparable)."""

    __module__ = "loop_sync"  # its public home, for reprs and pickles

    if TYPE_CHECKING:
        # The storage hooks come first from the machinery class: typed here.
        def _put(self, item: _OrderedT) -> None: ...
        def _get(self) -> _OrderedT: ...


class LifoQueue(_queue_core.LifoQueue, Queue[_T], asyncio.LifoQueue[_T]):
    """A queue that returns the most recently added item first."""

    __module__ = "loop_sync"  # its public home, for reprs and pickles

    if TYPE_CHECKING:

        def _put(self, item: _T) -> None: ...
        def _get(self) -> _T: ...
