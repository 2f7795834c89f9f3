"""What the transports share: sizes, limits, the logger and argument checks.

The lifecycle and flow control of the descriptor transports live in their
native cores (``_cores``); their public classes in ``_descriptor``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

__all__ = [
    "DEFAULT_HIGH_WATER",
    "LOG_THRESHOLD_FOR_CONNLOST_WRITES",
    "MAX_READ_SIZE",
    "READ_SIZE_HINT",
    "SOCKET_READ_SIZE",
    "ConnectionOwner",
    "check_bytes_like",
    "check_port",
    "logger",
]

logger = logging.getLogger("loop_transports")

DEFAULT_HIGH_WATER = 64 * 1024
# asyncio's threshold: writes after the connection was lost are dropped, and
# only from this many on does each one log a warning.
LOG_THRESHOLD_FOR_CONNLOST_WRITES = 5
# What a stream transport reads at a time: recv() and os.read() allocate what
# they ask for, then shrink it to what arrived. Past the C allocator's mmap
# threshold (128 KiB in glibc, bytes header included) that maps and unmaps
# memory with fresh page faults on every read: 1 KiB messages on a socket
# pair cost 0.9 us per read at 64 KiB and 8.8 us at 256 KiB (asyncio's size).
# Below it a larger request costs nothing more, and a socket transport asks
# for 120 KiB: a 100 KiB message then comes in one read and one
# data_received() rather than two (17.8 against 25.8 us of server CPU per
# 100 KiB echo). Pipes hold 64 KiB by default, and a protocol may ask for
# smaller reads (see READ_SIZE_HINT).
MAX_READ_SIZE = 64 * 1024
SOCKET_READ_SIZE = 120 * 1024
# The protocol attribute a socket transport takes its read size from. Our
# StreamReaderProtocol asks for 64 KiB: its reader copies data into
# one buffer, and larger deliveries that a reader drains 64 KiB at a time
# grow that buffer past the mmap threshold (100 KiB streams echo: 47 us per
# request with 64 KiB reads, 66-71 us with 120 KiB ones).
READ_SIZE_HINT = "_transport_read_size"


class ConnectionOwner(Protocol):
    """A server that tracks the transports it accepted.

    A transport's core adds the transport to ``_clients`` when it is made
    and takes it out once the protocol heard of its loss, then calls
    ``_clients_gone()`` if none is left (natively: a server method called per
    connection would be an interpreted frame each time).
    """

    _clients: set[asyncio.BaseTransport]

    def _clients_gone(self) -> None: ...


def check_bytes_like(data: object, method: str) -> None:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"{method}: data must be a bytes-like object (bytes, bytearray or memoryview), "
            f"not {type(data).__name__!r}"
        )


def check_port(port: object, call: str) -> None:
    """Refuse a numeric *port* outside 0-65535 as the socket's *call* would.

    getaddrinfo() takes any number and wraps it modulo 65536 (70000 becomes
    4464), so the check has to come before resolving. Service names ("http")
    and None pass.
    """
    if isinstance(port, (bytes, bytearray)):
        port = bytes(port).decode("ascii", "replace")
    if isinstance(port, str):
        try:
            port = int(port)
        except ValueError:
            return
    if isinstance(port, int) and not 0 <= port <= 65535:
        raise OverflowError(f"{call}(): port must be 0-65535.")
