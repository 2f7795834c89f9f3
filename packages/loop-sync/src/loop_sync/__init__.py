"""loop-sync: Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier and
queues for coroutines.

They mirror :mod:`threading` for the tasks of one loop and work on loop-core's
loop and on any stock asyncio loop. Waiters are served in FIFO order, a
cancellation never loses a wake-up, and the uncontended path creates no
future. Exceptions are asyncio's classes where asyncio has them.
"""

from loop_sync._barrier import Barrier, BrokenBarrierError
from loop_sync._locks import BoundedSemaphore, Condition, Event, Lock, Semaphore
from loop_sync._queues import LifoQueue, PriorityQueue, Queue, QueueEmpty, QueueFull, QueueShutDown
from loop_sync._version import __version__

__all__ = [
    "Barrier",
    "BoundedSemaphore",
    "BrokenBarrierError",
    "Condition",
    "Event",
    "LifoQueue",
    "Lock",
    "PriorityQueue",
    "Queue",
    "QueueEmpty",
    "QueueFull",
    "QueueShutDown",
    "Semaphore",
    "__version__",
]
