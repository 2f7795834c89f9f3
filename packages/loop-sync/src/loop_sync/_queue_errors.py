"""The queue exceptions: asyncio's classes, and ``QueueShutDown`` before 3.13.

The fallback must exist only where asyncio lacks its own (a class defined
under a version test, which mypyc could not compile, should queues ever be).
"""

from __future__ import annotations

import asyncio

__all__ = ["QueueEmpty", "QueueFull", "QueueShutDown"]

QueueEmpty = asyncio.QueueEmpty
QueueFull = asyncio.QueueFull

if hasattr(asyncio, "QueueShutDown"):
    QueueShutDown: type[Exception] = asyncio.QueueShutDown
else:

    class QueueShutDown(Exception):  # type: ignore[no-redef]
        """Raised by ``put`` (and by ``get`` on an empty queue) after ``shutdown``."""
