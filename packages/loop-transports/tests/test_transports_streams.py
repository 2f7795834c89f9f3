"""StreamReader parsing, StreamWriter flow control, open_connection/start_server.

The parsing tests feed a reader directly; the network tests run the same
client and server code over our transports and, as a reference, over stock
asyncio's loop.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import warnings
from collections.abc import Coroutine
from typing import Any

import pytest

from loop_transports import (
    StreamReader,
    StreamWriter,
    open_connection,
    open_unix_connection,
    start_server,
    start_unix_server,
)


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> Any:
    return loop.run_until_complete(asyncio.wait_for(coro, 30))


def fed(
    loop: asyncio.AbstractEventLoop, *chunks: bytes, eof: bool = True, limit: int = 2**16
) -> StreamReader:
    reader = StreamReader(limit=limit, loop=loop)
    for chunk in chunks:
        reader.feed_data(chunk)
    if eof:
        reader.feed_eof()
    return reader


def test_read_readline_readexactly(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        reader = fed(any_loop, b"line one\nline ", b"two\nrest")
        assert await reader.readline() == b"line one\n"
        assert await reader.readline() == b"line two\n"
        assert await reader.readexactly(2) == b"re"
        assert await reader.read(0) == b""
        assert await reader.read() == b"st"
        assert await reader.readline() == b""
        assert reader.at_eof()

        reader = fed(any_loop, b"short")
        with pytest.raises(asyncio.IncompleteReadError) as caught:
            await reader.readexactly(10)
        assert caught.value.partial == b"short"
        assert caught.value.expected == 10

    run(any_loop, main())


def test_readuntil_with_several_separators(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        reader = fed(any_loop, b"a\r\nb\nc;;d")
        # The separator ending first wins, whichever is listed first.
        assert await reader.readuntil((b"\n", b"\r\n")) == b"a\r\n"
        assert await reader.readuntil((b";;", b"\n")) == b"b\n"
        assert await reader.readuntil((b";;",)) == b"c;;"
        with pytest.raises(asyncio.IncompleteReadError) as caught:
            await reader.readuntil(b"!")
        assert caught.value.partial == b"d"
        with pytest.raises(ValueError, match="at least one element"):
            await reader.readuntil(())
        with pytest.raises(ValueError, match="one-byte"):
            await reader.readuntil(b"")

    run(any_loop, main())


def test_limit_overrun_keeps_the_data(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        reader = fed(any_loop, b"x" * 20 + b"\n" + b"tail\n", limit=8)
        with pytest.raises(asyncio.LimitOverrunError) as caught:
            await reader.readuntil(b"\n")
        assert caught.value.consumed == 20
        assert await reader.readexactly(21) == b"x" * 20 + b"\n"  # still readable
        assert await reader.readline() == b"tail\n"

        reader = fed(any_loop, b"y" * 20 + b"\nnext\n", limit=8)
        with pytest.raises(ValueError, match="chunk is longer than limit"):
            await reader.readline()  # readline drops the long line
        assert await reader.readline() == b"next\n"

    run(any_loop, main())


def test_async_iteration_and_exceptions(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        lines = [line async for line in fed(any_loop, b"1\n2\n3")]
        assert lines == [b"1\n", b"2\n", b"3"]
        reader = fed(any_loop, eof=False)
        waiter = asyncio.ensure_future(reader.read(5))
        await asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="already waiting"):
            await reader.read(5)
        reader.set_exception(ConnectionResetError("gone"))
        with pytest.raises(ConnectionResetError):
            await waiter
        with pytest.raises(ValueError, match="Limit"):
            StreamReader(limit=0, loop=any_loop)

    run(any_loop, main())


async def _upper_handler(reader: StreamReader, writer: StreamWriter) -> None:
    async for line in reader:
        writer.write(line.upper())
        await writer.drain()
    writer.close()
    await writer.wait_closed()


def test_open_connection_and_start_server(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        server = await start_server(_upper_handler, "127.0.0.1", 0)
        async with server:
            reader, writer = await open_connection(*server.sockets[0].getsockname())
            assert writer.get_extra_info("peername") == server.sockets[0].getsockname()
            writer.writelines([b"hello\n", b"world\n"])
            await writer.drain()
            assert await reader.readline() == b"HELLO\n"
            assert await reader.readline() == b"WORLD\n"
            assert writer.can_write_eof()
            writer.write_eof()
            assert await reader.read() == b""
            writer.close()
            assert writer.is_closing()
            await writer.wait_closed()

    run(any_loop, main())


def test_unix_streams(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main(path: str) -> None:
        server = await start_unix_server(_upper_handler, path)
        async with server:
            reader, writer = await open_unix_connection(path)
            writer.write(b"over unix\n")
            assert await reader.readline() == b"OVER UNIX\n"
            writer.close()
            await writer.wait_closed()

    with tempfile.TemporaryDirectory() as directory:
        run(any_loop, main(os.path.join(directory, "s")))


def test_drain_applies_backpressure_and_big_transfers_arrive(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    size = 4 * 1024 * 1024
    payload = os.urandom(size)

    async def slow_consumer(reader: StreamReader, writer: StreamWriter) -> None:
        received = bytearray()
        while chunk := await reader.read(65536):
            received += chunk
            await asyncio.sleep(0)
        writer.write(len(received).to_bytes(8, "big") + bytes(received[-16:]))
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def main() -> None:
        server = await start_server(slow_consumer, "127.0.0.1", 0)
        async with server:
            reader, writer = await open_connection(*server.sockets[0].getsockname())
            for offset in range(0, size, 256 * 1024):
                writer.write(payload[offset : offset + 256 * 1024])
                await writer.drain()
                assert writer.transport.get_write_buffer_size() <= 64 * 1024
            writer.write_eof()
            answer = await reader.readexactly(24)
            assert int.from_bytes(answer[:8], "big") == size
            assert answer[8:] == payload[-16:]
            writer.close()
            await writer.wait_closed()

    run(any_loop, main())


def test_drain_after_reset_raises(any_loop: asyncio.AbstractEventLoop) -> None:
    async def abort_at_once(reader: StreamReader, writer: StreamWriter) -> None:
        writer.transport.abort()

    async def main() -> None:
        server = await start_server(abort_at_once, "127.0.0.1", 0)
        async with server:
            reader, writer = await open_connection(*server.sockets[0].getsockname())
            assert await reader.read() == b""
            with pytest.raises(ConnectionError):
                for _ in range(100):
                    writer.write(b"x" * 65536)
                    await writer.drain()
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass

    run(any_loop, main())


@pytest.mark.parametrize("wait", ["read", "readexactly", "readuntil", "drain"])
def test_a_cancelled_wait_does_not_warn_and_the_stream_goes_on(
    any_loop: asyncio.AbstractEventLoop, wait: str
) -> None:
    # Compiled, reads and drain pass a cancellation on to what they await with
    # the throw() signature Python 3.12 deprecated, unless they go between.
    served = asyncio.Event()

    async def echo(reader: StreamReader, writer: StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass  # the drain case: the client aborts
        finally:
            writer.close()
            served.set()

    async def waiting(reader: StreamReader, writer: StreamWriter) -> object:
        if wait == "read":
            return await reader.read(10)
        if wait == "readexactly":
            return await reader.readexactly(10)
        if wait == "readuntil":
            return await reader.readuntil(b"!")
        # Nobody reads the echoes: the writer fills both sides' buffers.
        writer.transport.set_write_buffer_limits(high=1)
        while True:
            writer.write(b"x" * 65536)
            await writer.drain()

    async def main() -> None:
        server = await start_server(echo, "127.0.0.1", 0)
        async with server:
            reader, writer = await open_connection(*server.sockets[0].getsockname())
            task = asyncio.ensure_future(waiting(reader, writer))
            for _ in range(20):
                await asyncio.sleep(0.01)
            assert not task.done()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            if wait == "drain":
                writer.transport.abort()  # both sides' buffers are full: no flush
            else:
                writer.write(b"after!")
                assert await reader.readuntil(b"!") == b"after!"
                writer.close()
            await writer.wait_closed()
            await served.wait()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(any_loop, main())
    assert [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)] == []
