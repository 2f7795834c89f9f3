"""loop-executor: thread and process pool bridging, name resolution and calls
into the loop from other threads.

Part of the loop project; typed, asyncio-compatible and installable on its own
with only its declared dependencies.
"""

from loop_executor._version import __version__

__all__ = ["__version__"]
