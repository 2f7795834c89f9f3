"""sendfile and sock_sendfile: zero-copy, fallback, offsets, bad input."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import tempfile
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest

import loop_core


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> Any:
    return loop.run_until_complete(asyncio.wait_for(coro, 30))


DATA = os.urandom(3 * 1024 * 1024 + 17)


@pytest.fixture
def datafile() -> Iterator[io.BufferedRandom]:
    with tempfile.TemporaryFile() as file:
        file.write(DATA)
        file.seek(0)
        yield file


class Sink(asyncio.Protocol):
    def __init__(self) -> None:
        self.data = bytearray()
        self.done = asyncio.get_event_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.data += data

    def eof_received(self) -> None:
        self.done.set_result(bytes(self.data))


async def _sink_server(loop: asyncio.AbstractEventLoop) -> tuple[asyncio.Server, list[Sink]]:
    sinks: list[Sink] = []

    def factory() -> Sink:
        sinks.append(Sink())
        return sinks[-1]

    return await loop.create_server(factory, "127.0.0.1", 0), sinks


@pytest.mark.parametrize(("offset", "count"), [(0, None), (1000, 5000), (len(DATA) - 10, 100)])
def test_sendfile_over_transport(
    any_loop: asyncio.AbstractEventLoop, datafile: io.BufferedRandom, offset: int, count: int | None
) -> None:
    async def main() -> None:
        server, sinks = await _sink_server(any_loop)
        async with server:
            transport, _ = await any_loop.create_connection(
                asyncio.Protocol, *server.sockets[0].getsockname()
            )
            transport.write(b"header:")
            sent = await any_loop.sendfile(transport, datafile, offset, count)
            expected = DATA[offset : offset + count if count is not None else None]
            assert sent == len(expected)
            assert datafile.tell() == offset + sent
            transport.write(b":trailer")
            transport.write_eof()
            assert await sinks[0].done == b"header:" + expected + b":trailer"
            transport.close()

    run(any_loop, main())


def test_sock_sendfile_and_fallback(
    any_loop: asyncio.AbstractEventLoop, datafile: io.BufferedRandom
) -> None:
    async def main() -> None:
        server, sinks = await _sink_server(any_loop)
        async with server:
            sock = socket.create_connection(server.sockets[0].getsockname())
            sock.setblocking(False)
            assert await any_loop.sock_sendfile(sock, datafile) == len(DATA)
            # Not a regular file: the fallback copies it, or refuses when asked to.
            memory = io.BytesIO(b"from memory")
            with pytest.raises(asyncio.SendfileNotAvailableError):
                await any_loop.sock_sendfile(sock, memory, fallback=False)
            assert await any_loop.sock_sendfile(sock, memory) == 11
            sock.shutdown(socket.SHUT_WR)
            assert await sinks[0].done == DATA + b"from memory"
            sock.close()

    run(any_loop, main())


def test_bad_input(any_loop: asyncio.AbstractEventLoop, datafile: io.BufferedRandom) -> None:
    async def main() -> None:
        if isinstance(any_loop, loop_core.EventLoop):  # asyncio checks only in debug mode
            with socket.socket() as blocking, pytest.raises(ValueError, match="non-blocking"):
                await any_loop.sock_sendfile(blocking, datafile)
        with socket.socket() as sock:
            sock.setblocking(False)
            with pytest.raises(ValueError, match="count must be a positive integer"):
                await any_loop.sock_sendfile(sock, datafile, 0, 0)
            with pytest.raises(ValueError, match="offset must be a non-negative integer"):
                await any_loop.sock_sendfile(sock, datafile, -1)
            with tempfile.TemporaryFile("w+") as text, pytest.raises(ValueError, match="binary"):
                await any_loop.sock_sendfile(sock, text)  # type: ignore[arg-type]

    run(any_loop, main())


def test_sendfile_refuses_a_datagram_transport(
    any_loop: asyncio.AbstractEventLoop, datafile: io.BufferedRandom
) -> None:
    # It is an asyncio.Transport (as stock's is) but has no stream to write to.
    async def main() -> None:
        transport, _ = await any_loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
        )
        try:
            with pytest.raises(RuntimeError, match="not supported"):
                await any_loop.sendfile(transport, datafile)  # type: ignore[arg-type]
        finally:
            transport.close()
        await asyncio.sleep(0)

    run(any_loop, main())
