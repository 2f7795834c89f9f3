"""loop-sync: Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier and
queues for coroutines.

Part of the loop project; typed, asyncio-compatible and installable on its own
with only its declared dependencies.
"""

from loop_sync._version import __version__

__all__ = ["__version__"]
