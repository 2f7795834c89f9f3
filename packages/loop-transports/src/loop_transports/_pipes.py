"""Pipe transports: ``connect_read_pipe`` and ``connect_write_pipe``.

They take any file object over a pipe, a socket or a character device (a
terminal), switch its descriptor to non-blocking mode and read or write it
from the loop. A write pipe also watches for readability: on a pipe that only
ever happens when the reading end closed, which is how a vanished reader is
noticed before the next write.
"""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from collections.abc import Callable
from typing import Any

from loop_transports._abstractions import ReadTransport, WriteTransport
from loop_transports._cores import ReadPipeCore, WritePipeCore, shortcut
from loop_transports._descriptor import DescriptorTransport, ReadingTransport

__all__ = ["ReadPipeTransport", "WritePipeTransport", "connect_read_pipe", "connect_write_pipe"]


def _pipe_mode(fd: int, what: str) -> int:
    mode = os.fstat(fd).st_mode
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)):
        raise ValueError(f"{what} is only for pipes, sockets and character devices")
    return mode


class ReadPipeTransport(ReadingTransport, ReadTransport):
    """The reading end of a pipe as a :class:`~asyncio.ReadTransport`."""

    _core: ReadPipeCore

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        pipe: Any,
        protocol: asyncio.BaseProtocol,
        waiter: asyncio.Future[None] | None = None,
    ) -> None:
        fd = pipe.fileno()
        _pipe_mode(fd, "Pipe transport")
        self._extra = {"pipe": pipe}
        self._core = ReadPipeCore(self, loop, pipe, fd, protocol, None)
        os.set_blocking(fd, False)
        loop.call_soon(self._core.start, waiter)


class WritePipeTransport(DescriptorTransport, WriteTransport):
    """The writing end of a pipe as a :class:`~asyncio.WriteTransport`."""

    _core: WritePipeCore

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        pipe: Any,
        protocol: asyncio.BaseProtocol,
        waiter: asyncio.Future[None] | None = None,
    ) -> None:
        fd = pipe.fileno()
        mode = _pipe_mode(fd, "Pipe transport")
        self._extra = {"pipe": pipe}
        # Readability of our end means the reader went away (AIX reports it
        # for every pipe, so there only sockets are watched this way).
        watch_peer = stat.S_ISSOCK(mode) or (
            stat.S_ISFIFO(mode) and not sys.platform.startswith("aix")
        )
        self._core = WritePipeCore(self, loop, pipe, fd, protocol, watch_peer)
        shortcut(self, WritePipeTransport, "write", self._core.write)
        os.set_blocking(fd, False)
        loop.call_soon(self._core.start, waiter)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Write *data*, buffering what the pipe cannot take now."""
        self._core.write(data)

    def writelines(self, list_of_data: Any) -> None:
        """Write every bytes-like object of an iterable."""
        self._core.writelines(list_of_data)

    def can_write_eof(self) -> bool:
        """A pipe's end is closing it: always true."""
        return True

    def write_eof(self) -> None:
        """Close the pipe once the buffer is flushed."""
        self._core.write_eof()


async def connect_read_pipe(
    loop: asyncio.AbstractEventLoop, protocol_factory: Callable[[], Any], pipe: Any
) -> tuple[Any, Any]:
    """Read *pipe* (a file object) through a transport; see the loop method."""
    protocol = protocol_factory()
    waiter: asyncio.Future[None] = loop.create_future()
    transport = ReadPipeTransport(loop, pipe, protocol, waiter)
    try:
        await waiter
    except BaseException:
        transport.close()
        raise
    return transport, protocol


async def connect_write_pipe(
    loop: asyncio.AbstractEventLoop, protocol_factory: Callable[[], Any], pipe: Any
) -> tuple[Any, Any]:
    """Write *pipe* (a file object) through a transport; see the loop method."""
    protocol = protocol_factory()
    waiter: asyncio.Future[None] = loop.create_future()
    transport = WritePipeTransport(loop, pipe, protocol, waiter)
    try:
        await waiter
    except BaseException:
        transport.close()
        raise
    return transport, protocol
