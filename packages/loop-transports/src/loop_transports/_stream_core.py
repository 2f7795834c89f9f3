"""The compiled halves of the stream classes.

:class:`ReaderCore` is a :class:`~loop_transports.StreamReader`'s buffer, its
feeding by the protocol and its reads; :class:`WriterCore` is a
:class:`~loop_transports.StreamWriter`'s ``drain``; :class:`ProtocolCore` is
the per-chunk path of a :class:`~loop_transports.StreamReaderProtocol`. The public classes put
them first in their bases, before asyncio's classes of the same name (as the
loop's core sits under ``EventLoop``), so every read and every drain is
native code, and the attributes keep asyncio's names (``_buffer``,
``_waiter``, ``_eof``, ...) for the code that looks at them.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from mypy_extensions import mypyc_attr

from loop_core.suspension import compiled_throw_warns, delegate, suspend

__all__ = ["DEFAULT_LIMIT", "ProtocolCore", "ReaderCore", "WriterCore"]

DEFAULT_LIMIT: Final = 2**16

_THROW_WARNS: Final = compiled_throw_warns(__file__)


def _size_of(separator: object) -> int:
    if isinstance(separator, bytes):
        return len(separator)
    return memoryview(separator).nbytes  # type: ignore[arg-type]


@mypyc_attr(allow_interpreted_subclasses=True)
class ReaderCore:
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

    # Fed by the protocol

    def exception(self) -> Exception | None:
        """The error the connection ended with, if any."""
        return self._exception

    def set_exception(self, exc: Exception) -> None:
        """Fail the current and every later read with *exc*."""
        self._exception = exc
        waiter = self._waiter
        self._waiter = None
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

    def feed_data(self, data: Any) -> None:
        """Append received *data*; pause the transport when too much waits unread."""
        if self._eof:
            raise RuntimeError("feed_data after feed_eof")
        if not data:
            return
        buffer = self._buffer
        buffer.extend(data)
        self._wake_waiter()
        if self._transport is not None and not self._paused and len(buffer) > 2 * self._limit:
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
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.cancelled():
                waiter.set_result(None)

    def _maybe_resume_transport(self) -> None:
        if self._paused and len(self._buffer) <= self._limit:
            self._paused = False
            assert self._transport is not None
            self._transport.resume_reading()

    def _new_waiter(self, func_name: str) -> asyncio.Future[None]:
        """The future a read waits on for more data (checked, and with reading
        resumed: the buffer may be over the limit with the caller still
        wanting more, a readexactly larger than it)."""
        if self._waiter is not None:
            raise RuntimeError(
                f"{func_name}() called while another coroutine is already waiting for incoming data"
            )
        if self._eof:
            raise RuntimeError(f"{func_name}() waited for data after EOF")
        if self._paused:
            self._paused = False
            assert self._transport is not None
            self._transport.resume_reading()
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._waiter = waiter
        return waiter

    async def _wait_for_data(self, func_name: str) -> None:
        waiter = self._new_waiter(func_name)
        try:
            await suspend(waiter, _THROW_WARNS)
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
            # _wait_for_data spelled out: a coroutine fewer per read.
            waiter = self._new_waiter("read")
            try:
                await suspend(waiter, _THROW_WARNS)
            finally:
                self._waiter = None
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
        buffer = self._buffer
        while len(buffer) < n:
            if self._eof:
                partial = bytes(buffer)
                buffer.clear()
                raise asyncio.IncompleteReadError(partial, n)
            await self._wait_for_data("readexactly")
        if len(buffer) == n:
            data = bytes(buffer)
            buffer.clear()
        else:
            data = bytes(memoryview(buffer)[:n])
            del buffer[:n]
        self._maybe_resume_transport()
        return data

    async def readline(self) -> bytes:
        """Read one line ending in ``\\n``; at EOF, what is left (maybe ``b''``).

        A line longer than the limit raises ``ValueError`` and is dropped.
        """
        try:
            return await self.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            partial: bytes = exc.partial
            return partial
        except asyncio.LimitOverrunError as exc:
            consumed: int = exc.consumed
            if self._buffer.startswith(b"\n", consumed):
                del self._buffer[: consumed + 1]
            else:
                self._buffer.clear()
            self._maybe_resume_transport()
            raise ValueError(exc.args[0]) from None

    async def readuntil(self, separator: Any = b"\n") -> bytes:
        """Read up to and including the first *separator* (or the earliest-ending
        of several), which stays part of the returned bytes.

        At EOF without it: ``IncompleteReadError`` carrying what was there. Past
        the limit: ``LimitOverrunError``, and the data stays in the buffer.
        """
        candidates: tuple[Any, ...] = separator if isinstance(separator, tuple) else (separator,)
        separators = [(each, _size_of(each)) for each in candidates]
        if not separators:
            raise ValueError("Separator should contain at least one element")
        shortest = min(size for _, size in separators)
        longest = max(size for _, size in separators)
        if shortest == 0:
            raise ValueError("Separator should be at least one-byte string")
        if self._exception is not None:
            raise self._exception
        buffer = self._buffer
        offset = 0
        while True:
            if len(buffer) - offset >= shortest:
                start, end = _find_first(buffer, separators, offset)
                if end >= 0:
                    break
                # A separator may straddle what is here and what comes next.
                offset = max(0, len(buffer) + 1 - longest)
                if offset > self._limit:
                    raise asyncio.LimitOverrunError(
                        "Separator is not found, and chunk exceed the limit", offset
                    )
            if self._eof:
                partial = bytes(buffer)
                buffer.clear()
                raise asyncio.IncompleteReadError(partial, None)
            await self._wait_for_data("readuntil")
        if start > self._limit:
            raise asyncio.LimitOverrunError(
                "Separator is found, but chunk is longer than limit", start
            )
        chunk = bytes(memoryview(buffer)[:end])
        del buffer[:end]
        self._maybe_resume_transport()
        return chunk


def _find_first(
    buffer: bytearray, separators: list[tuple[Any, int]], offset: int
) -> tuple[int, int]:
    """Where the earliest-ending separator starts and ends, or ``(-1, -1)``."""
    start, end = -1, -1
    for sep, size in separators:
        found = buffer.find(sep, offset)
        if found != -1 and (end == -1 or found + size < end):
            start, end = found, found + size
    return start, end


@mypyc_attr(allow_interpreted_subclasses=True)
class WriterCore:
    """A stream writer's transport, protocol and reader, and its ``drain``."""

    def __init__(
        self,
        transport: asyncio.WriteTransport,
        protocol: Any,
        reader: ReaderCore | None,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._transport = transport
        # A StreamReaderProtocol (whose module builds on this one).
        self._protocol: Any = protocol
        self._reader = reader
        self._loop = loop
        self._complete_fut: asyncio.Future[None] = loop.create_future()
        self._complete_fut.set_result(None)

    async def drain(self) -> None:
        """Wait until the write buffer is below its high-water mark.

        Raises the connection's error (``ConnectionResetError`` when it was
        lost) so a writer does not write into the void forever.
        """
        reader = self._reader
        if reader is not None:
            exc = reader.exception()
            if exc is not None:
                raise exc
        if self._transport.is_closing():
            # Let connection_lost run so the error (if any) is known below.
            await delegate(asyncio.sleep(0), _THROW_WARNS)
        protocol = self._protocol
        if protocol._paused or protocol._connection_lost:
            # Only then a coroutine more: drain() runs after every write.
            await delegate(protocol._drain_helper(), _THROW_WARNS)


@mypyc_attr(allow_interpreted_subclasses=True)
class ProtocolCore:
    """What a stream protocol does per received chunk: hand it to its reader.

    The reader may be any object with asyncio's reader methods.
    """

    _stream_reader: Any
    _over_ssl: bool

    def data_received(self, data: bytes) -> None:
        reader = self._stream_reader
        if reader is not None:
            reader.feed_data(data)

    def eof_received(self) -> bool:
        reader = self._stream_reader
        if reader is not None:
            reader.feed_eof()
        # TLS cannot half-close: closing is the only answer to its EOF.
        return not self._over_ssl
