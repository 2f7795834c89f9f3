"""loop-transports: transports and protocols over TCP, UDP, Unix sockets, pipes
and subprocesses; servers; streams.

Part of the loop project; typed, asyncio-compatible and installable on its own
with only its declared dependencies.
"""

from loop_transports._version import __version__

__all__ = ["__version__"]
