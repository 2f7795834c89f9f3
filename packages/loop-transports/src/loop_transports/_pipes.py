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
from loop_transports._base import (
    LOG_THRESHOLD_FOR_CONNLOST_WRITES,
    MAX_READ_SIZE,
    DescriptorTransport,
    check_bytes_like,
    logger,
)

__all__ = ["ReadPipeTransport", "WritePipeTransport", "connect_read_pipe", "connect_write_pipe"]


def _pipe_mode(fd: int, what: str) -> int:
    mode = os.fstat(fd).st_mode
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)):
        raise ValueError(f"{what} is only for pipes, sockets and character devices")
    return mode


class ReadPipeTransport(DescriptorTransport, ReadTransport):
    """The reading end of a pipe as a :class:`~asyncio.ReadTransport`."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        pipe: Any,
        protocol: asyncio.BaseProtocol,
        waiter: asyncio.Future[None] | None = None,
    ) -> None:
        fd = pipe.fileno()
        _pipe_mode(fd, "Pipe transport")
        super().__init__(loop, pipe, fd, protocol, {"pipe": pipe})
        os.set_blocking(fd, False)
        self._paused = False
        self._reading = False
        loop.call_soon(self._start, waiter)

    def _start(self, waiter: asyncio.Future[None] | None) -> None:
        self._protocol.connection_made(self)
        if not self._closing and not self._paused:
            self._start_reading()
        if waiter is not None and not waiter.cancelled():
            waiter.set_result(None)

    def _start_reading(self) -> None:
        if not self._reading:
            self._reading = True
            self._loop.add_reader(self._fd, self._read_ready)

    def _stop_reading(self) -> None:
        if self._reading:
            self._reading = False
            self._loop.remove_reader(self._fd)

    def get_write_buffer_size(self) -> int:
        """A read pipe buffers nothing for writing."""
        return 0

    def _read_ready(self) -> None:
        try:
            data = os.read(self._fd, MAX_READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._fatal_error(exc, "Fatal read error on pipe transport")
            return
        if data:
            self._protocol.data_received(data)
            return
        if self._loop.get_debug():
            logger.info("%r was closed by peer", self)
        self._closing = True
        self._stop_reading()
        self._conn_lost += 1
        self._loop.call_soon(self._protocol.eof_received)
        self._loop.call_soon(self._call_connection_lost, None)

    def is_reading(self) -> bool:
        """Whether data is being delivered."""
        return not self._paused and not self._closing

    def pause_reading(self) -> None:
        """Stop delivering data until :meth:`resume_reading`."""
        if self._closing or self._paused:
            return
        self._paused = True
        self._stop_reading()

    def resume_reading(self) -> None:
        """Deliver data again."""
        if self._closing or not self._paused:
            return
        self._paused = False
        self._start_reading()

    def close(self) -> None:
        """Stop reading and close the pipe; ``connection_lost(None)`` follows."""
        if not self._closing:
            self._force_close(None)

    def _force_close(self, exc: BaseException | None) -> None:
        if self._conn_lost:
            return
        self._closing = True
        self._stop_reading()
        self._conn_lost += 1
        self._loop.call_soon(self._call_connection_lost, exc)

    def _call_connection_lost(self, exc: BaseException | None) -> None:
        self._stop_reading()
        super()._call_connection_lost(exc)


class WritePipeTransport(DescriptorTransport, WriteTransport):
    """The writing end of a pipe as a :class:`~asyncio.WriteTransport`."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        pipe: Any,
        protocol: asyncio.BaseProtocol,
        waiter: asyncio.Future[None] | None = None,
    ) -> None:
        fd = pipe.fileno()
        mode = _pipe_mode(fd, "Pipe transport")
        super().__init__(loop, pipe, fd, protocol, {"pipe": pipe})
        os.set_blocking(fd, False)
        self._buffer = bytearray()
        self._writing = False
        # Readability of our end means the reader went away (AIX reports it
        # for every pipe, so there only sockets are watched this way).
        self._watch_peer = stat.S_ISSOCK(mode) or (
            stat.S_ISFIFO(mode) and not sys.platform.startswith("aix")
        )
        self._watching = False
        self._lost_scheduled = False
        loop.call_soon(self._start, waiter)

    def _start(self, waiter: asyncio.Future[None] | None) -> None:
        self._protocol.connection_made(self)
        if self._watch_peer and not self._conn_lost:
            self._watching = True
            self._loop.add_reader(self._fd, self._peer_closed)
        if waiter is not None and not waiter.cancelled():
            waiter.set_result(None)

    def _peer_closed(self) -> None:
        if self._buffer:
            self._force_close(BrokenPipeError())
        else:
            self._force_close(None)

    def get_write_buffer_size(self) -> int:
        """Bytes accepted by :meth:`write` and not yet taken by the pipe."""
        return len(self._buffer)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Write *data*, buffering what the pipe cannot take now."""
        check_bytes_like(data, "write()")
        if not data:
            return
        if self._lost_scheduled or self._closing:
            if self._conn_lost >= LOG_THRESHOLD_FOR_CONNLOST_WRITES:
                logger.warning("pipe closed by peer or os.write(pipe, data) raised exception.")
            self._conn_lost += 1
            return
        if not self._buffer:
            try:
                written = os.write(self._fd, data)
            except (BlockingIOError, InterruptedError):
                written = 0
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self._fatal_error(exc, "Fatal write error on pipe transport")
                return
            if written == len(data):
                return
            self._buffer += memoryview(data)[written:]
            self._writing = True
            self._loop.add_writer(self._fd, self._write_ready)
        else:
            self._buffer += data
        self._maybe_pause_protocol()

    def writelines(self, list_of_data: Any) -> None:
        """Write every bytes-like object of an iterable."""
        chunks = list(list_of_data)
        for chunk in chunks:
            check_bytes_like(chunk, "writelines()")
        self.write(b"".join(chunks))

    def _write_ready(self) -> None:
        try:
            written = os.write(self._fd, self._buffer)
        except (BlockingIOError, InterruptedError):
            return
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal write error on pipe transport")
            return
        del self._buffer[:written]
        self._maybe_resume_protocol()
        if self._buffer:
            return
        self._stop_writing()
        if self._closing:
            self._stop_watching()
            self._schedule_connection_lost(None)

    def _stop_writing(self) -> None:
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self._fd)

    def _stop_watching(self) -> None:
        if self._watching:
            self._watching = False
            self._loop.remove_reader(self._fd)

    def can_write_eof(self) -> bool:
        """A pipe's end is closing it: always true."""
        return True

    def write_eof(self) -> None:
        """Close the pipe once the buffer is flushed."""
        if self._closing:
            return
        self._closing = True
        if not self._buffer:
            self._stop_watching()
            self._schedule_connection_lost(None)

    def close(self) -> None:
        """Flush the buffer, then close the pipe."""
        if self._fileobj is not None and not self._closing:
            self.write_eof()

    def abort(self) -> None:
        """Close at once, dropping buffered data."""
        self._force_close(None)

    def _force_close(self, exc: BaseException | None) -> None:
        self._stop_writing()
        self._stop_watching()
        self._buffer.clear()
        self._closing = True
        self._schedule_connection_lost(exc)

    def _schedule_connection_lost(self, exc: BaseException | None) -> None:
        if self._lost_scheduled:
            return
        self._lost_scheduled = True
        self._conn_lost += 1
        self._loop.call_soon(self._call_connection_lost, exc)

    def _call_connection_lost(self, exc: BaseException | None) -> None:
        self._stop_writing()
        self._stop_watching()
        super()._call_connection_lost(exc)


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
