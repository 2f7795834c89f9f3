"""Streams: coroutine-friendly reading and writing over a stream transport.

:class:`StreamReader` buffers what the protocol receives and hands it out by
size, line or separator, pausing the transport while more than twice its
*limit* waits unread. :class:`StreamWriter` wraps the transport, and
:meth:`StreamWriter.drain` blocks while the transport's write buffer is above
its high-water mark. They work over any asyncio loop's transports, and
both are subclasses of asyncio's classes of the same name, so ``isinstance``
and type checkers accept them where asyncio's are expected (asyncio's
``__init__`` and methods are never reached: ours override them all).
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, SupportsIndex

from loop_transports._descriptor import shortcut

__all__ = [
    "StreamReader",
    "StreamReaderProtocol",
    "StreamWriter",
    "open_connection",
    "open_unix_connection",
    "start_server",
    "start_unix_server",
]

DEFAULT_LIMIT = 2**16

ClientConnected = Callable[["StreamReader", "StreamWriter"], Awaitable[None] | None]


if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


def _size_of(separator: ReadableBuffer) -> int:
    if isinstance(separator, bytes):
        return len(separator)
    return memoryview(separator).nbytes


class StreamReader(asyncio.StreamReader):
    """Bytes received from a transport, read by coroutines.

    *limit* bounds a line or separated chunk (``LimitOverrunError`` past it)
    and sets the buffer size at which reading from the transport pauses.
    """

    def __init__(
        self, limit: int = DEFAULT_LIMIT, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        if limit <= 0:
            raise ValueError("Limit cannot be <= 0")
        self._limit = limit
        self._loop = loop if loop is not None else asyncio.get_event_loop()
        self._buffer = bytearray()
        self._eof = False
        self._waiter: asyncio.Future[None] | None = None
        self._exception: Exception | None = None
        self._transport: asyncio.ReadTransport | None = None
        self._paused = False

    def __repr__(self) -> str:
        info = [type(self).__name__]
        if self._buffer:
            info.append(f"{len(self._buffer)} bytes")
        if self._eof:
            info.append("eof")
        if self._limit != DEFAULT_LIMIT:
            info.append(f"limit={self._limit}")
        if self._waiter is not None:
            info.append(f"waiter={self._waiter!r}")
        if self._exception is not None:
            info.append(f"exception={self._exception!r}")
        if self._transport is not None:
            info.append(f"transport={self._transport!r}")
        if self._paused:
            info.append("paused")
        return "<{}>".format(" ".join(info))

    # Fed by the protocol

    def exception(self) -> Exception | None:
        """The error the connection ended with, if any."""
        return self._exception

    def set_exception(self, exc: Exception) -> None:
        """Fail the current and every later read with *exc*."""
        self._exception = exc
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.cancelled():
            waiter.set_exception(exc)

    def set_transport(self, transport: asyncio.BaseTransport) -> None:
        """Attach the transport to pause and resume (once only)."""
        if self._transport is not None:
            raise RuntimeError("Transport already set")
        self._transport = transport  # type: ignore[assignment]

    def feed_eof(self) -> None:
        """Mark the end of the data: reads return what is left, then ``b''``."""
        self._eof = True
        self._wake_waiter()

    def feed_data(self, data: Iterable[SupportsIndex]) -> None:
        """Append received *data*; pause the transport when too much waits unread."""
        if self._eof:
            raise RuntimeError("feed_data after feed_eof")
        if not data:
            return
        self._buffer.extend(data)
        waiter = self._waiter
        if waiter is not None:
            # _wake_waiter() spelled out: this runs once per received chunk.
            self._waiter = None
            if not waiter.cancelled():
                waiter.set_result(None)
        if self._transport is not None and not self._paused and len(self._buffer) > 2 * self._limit:
            try:
                self._transport.pause_reading()
            except NotImplementedError:
                # A transport that cannot pause: keep reading, unbounded.
                self._transport = None
            else:
                self._paused = True

    def at_eof(self) -> bool:
        """Whether the end was fed and everything before it was read."""
        return self._eof and not self._buffer

    def _wake_waiter(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.cancelled():
            waiter.set_result(None)

    def _maybe_resume_transport(self) -> None:
        if self._paused and len(self._buffer) <= self._limit:
            self._paused = False
            assert self._transport is not None
            self._transport.resume_reading()

    async def _wait_for_data(self, func_name: str) -> None:
        if self._waiter is not None:
            raise RuntimeError(
                f"{func_name}() called while another coroutine is already waiting for incoming data"
            )
        if self._eof:
            raise RuntimeError(f"{func_name}() waited for data after EOF")
        # The buffer may be over the limit with the caller still wanting more
        # (a readexactly larger than it): reading must go on.
        if self._paused:
            self._paused = False
            assert self._transport is not None
            self._transport.resume_reading()
        self._waiter = self._loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    # Read by coroutines

    async def read(self, n: int = -1) -> bytes:
        """Read up to *n* bytes (at least one unless at EOF); all until EOF when *n* < 0."""
        if self._exception is not None:
            raise self._exception
        if n == 0:
            return b""
        if n < 0:
            blocks: list[bytes] = []
            while True:
                block = await self.read(self._limit)
                if not block:
                    return b"".join(blocks)
                blocks.append(block)
        buffer = self._buffer
        if not buffer and not self._eof:
            await self._wait_for_data("read")
        if len(buffer) <= n:
            # All of it (the usual case): one copy, no view, no shifting.
            data = bytes(buffer)
            buffer.clear()
        else:
            data = bytes(memoryview(buffer)[:n])
            del buffer[:n]
        if self._paused:
            self._maybe_resume_transport()
        return data

    async def readexactly(self, n: int) -> bytes:
        """Read exactly *n* bytes; ``IncompleteReadError`` if EOF comes first."""
        if n < 0:
            raise ValueError("readexactly size can not be less than zero")
        if self._exception is not None:
            raise self._exception
        if n == 0:
            return b""
        while len(self._buffer) < n:
            if self._eof:
                partial = bytes(self._buffer)
                self._buffer.clear()
                raise asyncio.IncompleteReadError(partial, n)
            await self._wait_for_data("readexactly")
        if len(self._buffer) == n:
            data = bytes(self._buffer)
            self._buffer.clear()
        else:
            data = bytes(memoryview(self._buffer)[:n])
            del self._buffer[:n]
        self._maybe_resume_transport()
        return data

    async def readline(self) -> bytes:
        """Read one line ending in ``\\n``; at EOF, what is left (maybe ``b''``).

        A line longer than the limit raises ``ValueError`` and is dropped.
        """
        try:
            return await self.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            return exc.partial
        except asyncio.LimitOverrunError as exc:
            if self._buffer.startswith(b"\n", exc.consumed):
                del self._buffer[: exc.consumed + 1]
            else:
                self._buffer.clear()
            self._maybe_resume_transport()
            raise ValueError(exc.args[0]) from None

    async def readuntil(
        self, separator: ReadableBuffer | tuple[ReadableBuffer, ...] = b"\n"
    ) -> bytes:
        """Read up to and including the first *separator* (or the earliest-ending
        of several), which stays part of the returned bytes.

        At EOF without it: ``IncompleteReadError`` carrying what was there. Past
        the limit: ``LimitOverrunError``, and the data stays in the buffer.
        """
        separators = [
            (each, _size_of(each))
            for each in (separator if isinstance(separator, tuple) else (separator,))
        ]
        if not separators:
            raise ValueError("Separator should contain at least one element")
        shortest = min(size for _, size in separators)
        longest = max(size for _, size in separators)
        if shortest == 0:
            raise ValueError("Separator should be at least one-byte string")
        if self._exception is not None:
            raise self._exception
        offset = 0
        while True:
            if len(self._buffer) - offset >= shortest:
                start, end = self._find_first(separators, offset)
                if end >= 0:
                    break
                # A separator may straddle what is here and what comes next.
                offset = max(0, len(self._buffer) + 1 - longest)
                if offset > self._limit:
                    raise asyncio.LimitOverrunError(
                        "Separator is not found, and chunk exceed the limit", offset
                    )
            if self._eof:
                partial = bytes(self._buffer)
                self._buffer.clear()
                raise asyncio.IncompleteReadError(partial, None)
            await self._wait_for_data("readuntil")
        if start > self._limit:
            raise asyncio.LimitOverrunError(
                "Separator is found, but chunk is longer than limit", start
            )
        chunk = bytes(memoryview(self._buffer)[:end])
        del self._buffer[:end]
        self._maybe_resume_transport()
        return chunk

    def _find_first(
        self, separators: list[tuple[ReadableBuffer, int]], offset: int
    ) -> tuple[int, int]:
        start, end = -1, -1
        for sep, size in separators:
            found = self._buffer.find(sep, offset)
            if found != -1 and (end == -1 or found + size < end):
                start, end = found, found + size
        return start, end

    def __aiter__(self) -> StreamReader:
        return self

    async def __anext__(self) -> bytes:
        line = await self.readline()
        if line == b"":
            raise StopAsyncIteration
        return line


class _FlowControl(asyncio.Protocol):
    """``drain`` support: writers wait while the transport asks us to pause."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop if loop is not None else asyncio.get_event_loop()
        self._paused = False
        self._drain_waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._connection_lost = False

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connection_lost = True
        if not self._paused:
            return
        for waiter in self._drain_waiters:
            if not waiter.done():
                if exc is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(exc)

    async def _drain_helper(self) -> None:
        if self._connection_lost:
            raise ConnectionResetError("Connection lost")
        if not self._paused:
            return
        waiter = self._loop.create_future()
        self._drain_waiters.append(waiter)
        try:
            await waiter
        finally:
            self._drain_waiters.remove(waiter)


class StreamReaderProtocol(_FlowControl):
    """The protocol between a transport and a :class:`StreamReader`.

    With *client_connected_cb* (servers), each connection gets a
    :class:`StreamWriter` and the callback runs with the reader and writer; a
    coroutine callback runs as a task, and an exception from it closes the
    connection and reaches the loop's exception handler.
    """

    # Reads no larger than what a reader drains at a time (see _base.READ_SIZE_HINT).
    _transport_read_size = DEFAULT_LIMIT

    def __init__(
        self,
        stream_reader: StreamReader,
        client_connected_cb: ClientConnected | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(loop)
        self._stream_reader: StreamReader | None = stream_reader
        self._stream_writer: StreamWriter | None = None
        self._client_connected_cb = client_connected_cb
        self._task: asyncio.Task[None] | None = None
        self._transport: asyncio.BaseTransport | None = None
        self._over_ssl = False
        self._closed: asyncio.Future[None] = self._loop.create_future()

    def _replace_transport(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        self._over_ssl = transport.get_extra_info("sslcontext") is not None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        reader = self._stream_reader
        if reader is not None:
            reader.set_transport(transport)
        self._replace_transport(transport)
        if self._client_connected_cb is None or reader is None:
            return
        assert isinstance(transport, asyncio.WriteTransport)
        self._stream_writer = StreamWriter(transport, self, reader, self._loop)
        outcome = self._client_connected_cb(reader, self._stream_writer)
        if asyncio.iscoroutine(outcome):
            self._task = self._loop.create_task(outcome)
            self._task.add_done_callback(self._client_done)

    def _client_done(self, task: asyncio.Task[None]) -> None:
        self._task = None
        if task.cancelled():
            if self._transport is not None:
                self._transport.close()
            return
        exc = task.exception()
        if exc is not None:
            self._loop.call_exception_handler(
                {
                    "message": "Unhandled exception in client_connected_cb",
                    "exception": exc,
                    "transport": self._transport,
                }
            )
            if self._transport is not None:
                self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        reader = self._stream_reader
        if reader is not None:
            if exc is None:
                reader.feed_eof()
            else:
                reader.set_exception(exc)
        if not self._closed.done():
            if exc is None:
                self._closed.set_result(None)
            else:
                self._closed.set_exception(exc)
        super().connection_lost(exc)
        self._stream_reader = None
        self._stream_writer = None
        self._transport = None

    def data_received(self, data: bytes) -> None:
        if self._stream_reader is not None:
            self._stream_reader.feed_data(data)

    def eof_received(self) -> bool:
        if self._stream_reader is not None:
            self._stream_reader.feed_eof()
        # TLS cannot half-close: closing is the only answer to its EOF.
        return not self._over_ssl

    def _get_close_waiter(self, stream: StreamWriter) -> asyncio.Future[None]:
        return self._closed

    def __del__(self) -> None:
        # Nobody may ever wait for the close: don't log its error as unretrieved.
        try:
            closed = self._closed
        except AttributeError:
            return
        if closed.done() and not closed.cancelled():
            closed.exception()


class StreamWriter(asyncio.StreamWriter):
    """Writing side of a stream connection, wrapping its transport."""

    def __init__(
        self,
        transport: asyncio.WriteTransport,
        protocol: StreamReaderProtocol,
        reader: StreamReader | None,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._transport = transport
        self._protocol = protocol
        self._reader = reader
        self._loop = loop
        self._complete_fut: asyncio.Future[None] = loop.create_future()
        self._complete_fut.set_result(None)
        shortcut(self, StreamWriter, "write", transport.write)

    def __repr__(self) -> str:
        info = [type(self).__name__, f"transport={self._transport!r}"]
        if self._reader is not None:
            info.append(f"reader={self._reader!r}")
        return "<{}>".format(" ".join(info))

    @property
    def transport(self) -> asyncio.WriteTransport:
        """The underlying transport."""
        return self._transport

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Queue *data* for sending; follow with :meth:`drain`."""
        self._transport.write(data)

    def writelines(self, data: Iterable[bytes | bytearray | memoryview]) -> None:
        """Queue each chunk of *data* for sending; follow with :meth:`drain`."""
        self._transport.writelines(data)

    def write_eof(self) -> None:
        """Close the write side after the buffered data."""
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        """Whether the transport supports :meth:`write_eof`."""
        return self._transport.can_write_eof()

    def close(self) -> None:
        """Close the connection after the buffered data; see :meth:`wait_closed`."""
        self._transport.close()

    def is_closing(self) -> bool:
        """Whether the connection is closing or closed."""
        return self._transport.is_closing()

    async def wait_closed(self) -> None:
        """Wait until the connection is closed; raises the error it ended with."""
        await self._protocol._get_close_waiter(self)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """The transport's *name* property ('peername', 'socket', ...)."""
        return self._transport.get_extra_info(name, default)

    async def drain(self) -> None:
        """Wait until the write buffer is below its high-water mark.

        Raises the connection's error (``ConnectionResetError`` when it was
        lost) so a writer does not write into the void forever.
        """
        if self._reader is not None:
            exc = self._reader.exception()
            if exc is not None:
                raise exc
        if self._transport.is_closing():
            # Let connection_lost run so the error (if any) is known below.
            await asyncio.sleep(0)
        protocol = self._protocol
        if protocol._paused or protocol._connection_lost:
            # Only then a coroutine more: drain() runs after every write.
            await protocol._drain_helper()

    async def start_tls(
        self,
        sslcontext: ssl.SSLContext,
        *,
        server_hostname: str | None = None,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
    ) -> None:
        """Upgrade the connection to TLS in place (needs loop-ssl on our loop)."""
        server_side = self._protocol._client_connected_cb is not None
        await self.drain()
        transport = await self._loop.start_tls(
            self._transport,
            self._protocol,
            sslcontext,
            server_side=server_side,
            server_hostname=server_hostname,
            ssl_handshake_timeout=ssl_handshake_timeout,
            ssl_shutdown_timeout=ssl_shutdown_timeout,
        )
        if transport is None:
            raise ConnectionResetError("the connection closed during the TLS handshake")
        self._transport = transport
        shortcut(self, StreamWriter, "write", transport.write)
        self._protocol._replace_transport(transport)


def _stream_pair(
    loop: asyncio.AbstractEventLoop, limit: int
) -> tuple[StreamReader, StreamReaderProtocol]:
    reader = StreamReader(limit=limit, loop=loop)
    return reader, StreamReaderProtocol(reader, loop=loop)


async def open_connection(
    host: str | None = None,
    port: int | str | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
    **kwds: Any,
) -> tuple[StreamReader, StreamWriter]:
    """Connect with ``loop.create_connection`` and return a reader and a writer."""
    loop = asyncio.get_running_loop()
    reader, protocol = _stream_pair(loop, limit)
    # typeshed wants host and port, but asyncio accepts None for both with sock=.
    transport, _ = await loop.create_connection(lambda: protocol, host, port, **kwds)  # type: ignore[arg-type]
    return reader, StreamWriter(transport, protocol, reader, loop)


async def open_unix_connection(
    path: str | None = None, *, limit: int = DEFAULT_LIMIT, **kwds: Any
) -> tuple[StreamReader, StreamWriter]:
    """Like :func:`open_connection`, over a Unix socket."""
    loop = asyncio.get_running_loop()
    reader, protocol = _stream_pair(loop, limit)
    transport, _ = await loop.create_unix_connection(lambda: protocol, path, **kwds)
    return reader, StreamWriter(transport, protocol, reader, loop)


async def start_server(
    client_connected_cb: ClientConnected,
    host: str | None = None,
    port: int | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
    **kwds: Any,
) -> asyncio.Server:
    """Start a server calling ``client_connected_cb(reader, writer)`` per connection."""
    loop = asyncio.get_running_loop()

    def factory() -> StreamReaderProtocol:
        reader = StreamReader(limit=limit, loop=loop)
        return StreamReaderProtocol(reader, client_connected_cb, loop=loop)

    return await loop.create_server(factory, host, port, **kwds)


async def start_unix_server(
    client_connected_cb: ClientConnected,
    path: str | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
    **kwds: Any,
) -> asyncio.Server:
    """Like :func:`start_server`, on a Unix socket."""
    loop = asyncio.get_running_loop()

    def factory() -> StreamReaderProtocol:
        reader = StreamReader(limit=limit, loop=loop)
        return StreamReaderProtocol(reader, client_connected_cb, loop=loop)

    return await loop.create_unix_server(factory, path, **kwds)
