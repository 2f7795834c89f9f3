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
from typing import Any

from loop_transports._cores import shortcut
from loop_transports._stream_core import DEFAULT_LIMIT, ProtocolCore, ReaderCore, WriterCore

__all__ = [
    "StreamReader",
    "StreamReaderProtocol",
    "StreamWriter",
    "open_connection",
    "open_unix_connection",
    "start_server",
    "start_unix_server",
]

ClientConnected = Callable[["StreamReader", "StreamWriter"], Awaitable[None] | None]


class StreamReader(ReaderCore, asyncio.StreamReader):
    """Bytes received from a transport, read by coroutines.

    *limit* bounds a line or separated chunk (``LimitOverrunError`` past it)
    and sets the buffer size at which reading from the transport pauses.
    Buffering and reading are :class:`~loop_transports._stream_core.ReaderCore`'s.
    """

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


class StreamReaderProtocol(ProtocolCore, _FlowControl):
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
        self._stream_reader = stream_reader
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
        # Only the callback holds the writer (as asyncio does from 3.13): one
        # dropped unclosed is collected, and says so (ResourceWarning) from 3.12.
        outcome = self._client_connected_cb(
            reader, StreamWriter(transport, self, reader, self._loop)
        )
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
        self._transport = None

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


class StreamWriter(WriterCore, asyncio.StreamWriter):
    """Writing side of a stream connection, wrapping its transport
    (``drain`` is :class:`~loop_transports._stream_core.WriterCore`'s)."""

    def __init__(
        self,
        transport: asyncio.WriteTransport,
        protocol: StreamReaderProtocol,
        reader: StreamReader | None,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__(transport, protocol, reader, loop)
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
