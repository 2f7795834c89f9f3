"""loop-ssl: TLS over any loop-transports transport, and start_tls.

Part of the loop project; typed, asyncio-compatible and installable on its own
with only its declared dependencies.
"""

from loop_ssl._version import __version__

__all__ = ["__version__"]
