"""What the file-descriptor transports share: lifecycle, errors and flow control.

:class:`FlowControl` keeps the write-buffer water marks and tells the protocol
to pause and resume writing. :class:`DescriptorTransport` adds the lifecycle
every transport over a file descriptor follows: ``connection_made`` soon after
creation, ``connection_lost`` exactly once, fatal errors reported through the
loop's exception handler, and the descriptor closed after the protocol heard
of it.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import warnings
from typing import Any, Protocol

__all__ = [
    "DEFAULT_HIGH_WATER",
    "LOG_THRESHOLD_FOR_CONNLOST_WRITES",
    "MAX_READ_SIZE",
    "READ_SIZE_HINT",
    "SOCKET_READ_SIZE",
    "ConnectionOwner",
    "DescriptorTransport",
    "FlowControl",
    "check_bytes_like",
    "check_port",
    "logger",
    "read_size_for",
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


def read_size_for(protocol: object) -> int:
    """How much a socket transport reads at a time for *protocol*."""
    size = getattr(protocol, READ_SIZE_HINT, SOCKET_READ_SIZE)
    return size if type(size) is int and 0 < size <= SOCKET_READ_SIZE else SOCKET_READ_SIZE


class ConnectionOwner(Protocol):
    """A server that tracks the transports it accepted."""

    def _attach(self, transport: asyncio.BaseTransport) -> None: ...

    def _detach(self, transport: asyncio.BaseTransport) -> None: ...


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


class FlowControl(abc.ABC):
    """Write-buffer water marks and the protocol's pause/resume calls.

    Subclasses report their buffer size through :meth:`get_write_buffer_size`
    and call :meth:`_maybe_pause_protocol` after buffering and
    :meth:`_maybe_resume_protocol` after draining.
    """

    _loop: asyncio.AbstractEventLoop
    _protocol: Any

    def __init__(self) -> None:
        self._high_water = DEFAULT_HIGH_WATER
        self._low_water = DEFAULT_HIGH_WATER // 4
        self._protocol_paused = False

    @abc.abstractmethod
    def get_write_buffer_size(self) -> int:
        """Return the number of bytes waiting to be written."""

    def get_write_buffer_limits(self) -> tuple[int, int]:
        """Return ``(low, high)``, the water marks in bytes."""
        return self._low_water, self._high_water

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        """Pause the protocol above *high* buffered bytes, resume it at *low* or below.

        With only *high* given, *low* is a quarter of it; with only *low*,
        *high* is four times it; with neither, 64 KiB and 16 KiB.
        """
        if high is None:
            high = DEFAULT_HIGH_WATER if low is None else 4 * low
        if low is None:
            low = high // 4
        if not high >= low >= 0:
            raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
        self._high_water, self._low_water = high, low
        self._maybe_pause_protocol()

    def _maybe_pause_protocol(self) -> None:
        if self._protocol_paused or self.get_write_buffer_size() <= self._high_water:
            return
        self._protocol_paused = True
        try:
            self._protocol.pause_writing()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._loop.call_exception_handler(
                {
                    "message": "protocol.pause_writing() failed",
                    "exception": exc,
                    "transport": self,
                    "protocol": self._protocol,
                }
            )

    def _maybe_resume_protocol(self) -> None:
        if not self._protocol_paused or self.get_write_buffer_size() > self._low_water:
            return
        self._protocol_paused = False
        try:
            self._protocol.resume_writing()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._loop.call_exception_handler(
                {
                    "message": "protocol.resume_writing() failed",
                    "exception": exc,
                    "transport": self,
                    "protocol": self._protocol,
                }
            )


class DescriptorTransport(FlowControl):
    """Lifecycle of a transport over one file descriptor.

    *fileobj* is what gets closed at the end (a socket or a pipe's file
    object); *fd* is what the loop watches.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        fileobj: Any,
        fd: int,
        protocol: Any,
        extra: dict[str, Any],
        server: ConnectionOwner | None = None,
    ) -> None:
        super().__init__()
        self._loop = loop
        self._fileobj: Any = fileobj
        self._fd = fd
        self._protocol = protocol
        self._extra = extra
        self._server = server
        self._closing = False
        self._conn_lost = 0  # > 0 once connection_lost is scheduled
        if server is not None:
            server._attach(self)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        state = "closed" if self._fileobj is None else "closing" if self._closing else "open"
        return f"<{type(self).__name__} fd={self._fd} {state}>"

    def __del__(self, _warn: Any = warnings.warn) -> None:
        # getattr: __init__ may have failed before the attribute existed.
        if getattr(self, "_fileobj", None) is not None:
            _warn(f"unclosed transport {self!r}", ResourceWarning, source=self)
            self._fileobj.close()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """Return the transport's *name* property ('socket', 'peername', ...)."""
        return self._extra.get(name, default)

    def is_closing(self) -> bool:
        """Whether the transport is closing or closed."""
        return self._closing

    def get_protocol(self) -> Any:
        """Return the current protocol."""
        return self._protocol

    def set_protocol(self, protocol: Any) -> None:
        """Hand further events to *protocol*."""
        self._protocol = protocol

    def _fatal_error(self, exc: BaseException, message: str) -> None:
        # A peer resetting or vanishing is ordinary network life: it reaches
        # connection_lost, and only debug mode logs it.
        if isinstance(exc, OSError):
            if self._loop.get_debug():
                logger.debug("%r: %s", self, message, exc_info=True)
        else:
            self._loop.call_exception_handler(
                {
                    "message": message,
                    "exception": exc,
                    "transport": self,
                    "protocol": self._protocol,
                }
            )
        self._force_close(exc)

    @abc.abstractmethod
    def _force_close(self, exc: BaseException | None) -> None:
        """Drop the write buffer, stop watching and schedule ``connection_lost(exc)``."""

    def _call_connection_lost(self, exc: BaseException | None) -> None:
        try:
            self._protocol.connection_lost(exc)
        finally:
            fileobj, self._fileobj = self._fileobj, None
            if fileobj is not None:
                fileobj.close()
            server, self._server = self._server, None
            if server is not None:
                server._detach(self)  # type: ignore[arg-type]
            # A protocol usually holds its transport: drop the other half of
            # that cycle so both go as soon as the application lets go.
            self._protocol = None
