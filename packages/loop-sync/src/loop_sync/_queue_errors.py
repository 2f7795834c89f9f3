"""The queue exceptions: asyncio's classes, and ``QueueShutDown`` before 3.13.

Kept out of the compiled queue module: mypyc cannot define a class under a
version test, and the fallback must exist only where asyncio lacks its own.
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
