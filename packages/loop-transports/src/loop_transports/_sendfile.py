"""Sending files: ``sock_sendfile`` and ``sendfile`` (over a transport).

The zero-copy path hands the file to the kernel with :func:`os.sendfile`,
waiting for writability between chunks. Where that is impossible (not a
regular file, a transport that is not ours, a platform without it) the
fallback reads the file in the thread pool and writes the chunks, honouring
the transport's flow control; ``fallback=False`` turns that into
``SendfileNotAvailableError`` instead.
"""

from __future__ import annotations

import asyncio
import errno
import io
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from loop_transports._socket_transport import SocketTransport

__all__ = ["sendfile", "sock_sendfile"]

FALLBACK_CHUNK = 256 * 1024
# os.sendfile sends at most about 2 GiB per call on Linux anyway.
NATIVE_CHUNK_LIMIT = 2**30
# What os.sendfile says, before sending anything, about a pair it cannot handle.
_NOT_SUPPORTED = {errno.ENOTSOCK, errno.EOPNOTSUPP, errno.EINVAL}


def _check_arguments(file: Any, offset: int, count: int | None) -> None:
    if "b" not in getattr(file, "mode", "b"):
        raise ValueError("file should be opened in binary mode")
    if count is not None:
        if not isinstance(count, int):
            raise TypeError(f"count must be a positive integer (got {count!r})")
        if count <= 0:
            raise ValueError(f"count must be a positive integer (got {count!r})")
    if not isinstance(offset, int):
        raise TypeError(f"offset must be a non-negative integer (got {offset!r})")
    if offset < 0:
        raise ValueError(f"offset must be a non-negative integer (got {offset!r})")


def _file_size(file: Any) -> int:
    if not hasattr(os, "sendfile"):
        raise asyncio.SendfileNotAvailableError("os.sendfile() is not available")
    try:
        fd = file.fileno()
    except (AttributeError, io.UnsupportedOperation) as exc:
        raise asyncio.SendfileNotAvailableError("not a regular file") from exc
    try:
        return os.fstat(fd).st_size
    except OSError as exc:
        raise asyncio.SendfileNotAvailableError("not a regular file") from exc


async def _native(
    sock: socket.socket,
    file: Any,
    offset: int,
    count: int | None,
    wait_writable: Callable[[], Awaitable[None]],
) -> int:
    size = _file_size(file)
    end = min(offset + count, size) if count is not None else size
    position = offset
    try:
        while position < end:
            try:
                sent = os.sendfile(
                    sock.fileno(), file.fileno(), position, min(end - position, NATIVE_CHUNK_LIMIT)
                )
            except (BlockingIOError, InterruptedError):
                await wait_writable()
                continue
            except OSError as exc:
                if position == offset and exc.errno in _NOT_SUPPORTED:
                    raise asyncio.SendfileNotAvailableError(
                        f"os.sendfile() cannot send this file: {exc}"
                    ) from exc
                raise
            if sent == 0:
                break  # the file shrank under us
            position += sent
    finally:
        if position > offset:
            file.seek(position)
    return position - offset


async def _writable(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    ready: asyncio.Future[None] = loop.create_future()
    fd = sock.fileno()

    def mark_ready() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_writer(fd, mark_ready)
    try:
        await ready
    finally:
        loop.remove_writer(fd)


async def _fallback_to_socket(
    loop: asyncio.AbstractEventLoop, sock: socket.socket, file: Any, offset: int, count: int | None
) -> int:
    if offset:
        file.seek(offset)
    total = 0
    buffer = bytearray(min(count, FALLBACK_CHUNK) if count else FALLBACK_CHUNK)
    view = memoryview(buffer)
    try:
        while count is None or total < count:
            want = FALLBACK_CHUNK if count is None else min(count - total, FALLBACK_CHUNK)
            read = await loop.run_in_executor(None, file.readinto, view[:want])
            if not read:
                break
            await loop.sock_sendall(sock, view[:read])
            total += read
    finally:
        view.release()
        if total:
            file.seek(offset + total)
    return total


async def sock_sendfile(
    loop: asyncio.AbstractEventLoop,
    sock: socket.socket,
    file: Any,
    offset: int = 0,
    count: int | None = None,
    *,
    fallback: bool = True,
) -> int:
    """Send *file* (from *offset*, *count* bytes or to its end) over a non-blocking socket."""
    if sock.gettimeout() != 0:
        raise ValueError("the socket must be non-blocking")
    if sock.type != socket.SOCK_STREAM:
        raise ValueError("only SOCK_STREAM type sockets are supported")
    _check_arguments(file, offset, count)
    try:
        return await _native(sock, file, offset, count, lambda: _writable(loop, sock))
    except asyncio.SendfileNotAvailableError:
        if not fallback:
            raise
    return await _fallback_to_socket(loop, sock, file, offset, count)


class _DrainWatch(asyncio.Protocol):
    """Stands in for the protocol while a file goes out: forwards every event
    and tracks pause_writing/resume_writing to pace the chunks."""

    def __init__(self, transport: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._inner = transport.get_protocol()
        self._loop = loop
        self._resumed: asyncio.Future[None] | None = None
        self._paused = False
        self._lost: BaseException | None = None
        self._closed = False
        transport.set_protocol(self)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._resumed is not None and not self._resumed.done():
            self._resumed.set_result(None)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        result: bool | None = self._inner.eof_received()
        return result

    def connection_lost(self, exc: BaseException | None) -> None:
        self._closed = True
        self._lost = exc
        if self._resumed is not None and not self._resumed.done():
            self._resumed.set_result(None)
        self._transport.set_protocol(self._inner)
        self._inner.connection_lost(exc)

    async def drain(self) -> None:
        if self._closed:
            raise ConnectionError("Connection closed by peer") from self._lost
        if not self._paused:
            return
        self._resumed = self._loop.create_future()
        await self._resumed
        if self._closed:
            raise ConnectionError("Connection closed by peer") from self._lost

    def restore(self) -> None:
        if not self._closed:
            self._transport.set_protocol(self._inner)
            if self._paused:
                self._inner.pause_writing()


async def _fallback_to_transport(
    loop: asyncio.AbstractEventLoop, transport: Any, file: Any, offset: int, count: int | None
) -> int:
    watch = _DrainWatch(transport, loop)
    if offset:
        file.seek(offset)
    total = 0
    try:
        await watch.drain()
        while count is None or total < count:
            want = FALLBACK_CHUNK if count is None else min(count - total, FALLBACK_CHUNK)
            chunk = await loop.run_in_executor(None, file.read, want)
            if not chunk:
                break
            transport.write(chunk)
            total += len(chunk)
            await watch.drain()
    finally:
        watch.restore()
        if total:
            file.seek(offset + total)
    return total


async def sendfile(
    loop: asyncio.AbstractEventLoop,
    transport: Any,
    file: Any,
    offset: int = 0,
    count: int | None = None,
    *,
    fallback: bool = True,
) -> int:
    """Send *file* over *transport*: zero-copy on our socket transports."""
    # A datagram transport is an asyncio.Transport too (as stock's is), with
    # a write() that refuses: no stream to send a file down.
    if not callable(getattr(transport, "write", None)) or isinstance(
        transport, asyncio.DatagramTransport
    ):
        raise RuntimeError(f"sendfile is not supported for transport {transport!r}")
    if transport.is_closing():
        raise RuntimeError("Transport is closing")
    _check_arguments(file, offset, count)
    if isinstance(transport, SocketTransport):
        sock = await transport._take_socket()
        try:
            return await _native(sock, file, offset, count, transport._wait_writable)
        except asyncio.SendfileNotAvailableError:
            if not fallback:
                raise
        finally:
            transport._release_socket()
    elif not fallback:
        raise asyncio.SendfileNotAvailableError(
            f"fallback is disabled and native sendfile is not supported for transport {transport!r}"
        )
    return await _fallback_to_transport(loop, transport, file, offset, count)
