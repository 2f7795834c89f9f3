"""Pipe transports over os.pipe() and socket pairs."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Coroutine
from typing import Any

import pytest


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> Any:
    return loop.run_until_complete(asyncio.wait_for(coro, 30))


class Reader(asyncio.Protocol):
    def __init__(self) -> None:
        self.data = bytearray()
        self.events: list[str] = []
        self.lost = asyncio.get_event_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.data += data

    def eof_received(self) -> None:
        self.events.append("eof")

    def connection_lost(self, exc: Exception | None) -> None:
        self.events.append("lost")
        self.lost.set_result(exc)


def test_write_pipe_to_read_pipe(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        read_fd, write_fd = os.pipe()
        read_transport, reader = await any_loop.connect_read_pipe(Reader, os.fdopen(read_fd, "rb"))
        write_transport, writer = await any_loop.connect_write_pipe(
            Reader, os.fdopen(write_fd, "wb")
        )
        assert read_transport.get_extra_info("pipe").fileno() == read_fd
        payload = os.urandom(1024 * 1024)  # bigger than the pipe buffer
        write_transport.write(payload)
        assert write_transport.get_write_buffer_size() > 0
        write_transport.close()
        assert await reader.lost is None
        assert bytes(reader.data) == payload
        assert reader.events == ["eof", "lost"]
        assert await writer.lost is None

    run(any_loop, main())


def test_write_pipe_notices_the_reader_going_away(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        read_fd, write_fd = os.pipe()
        transport, writer = await any_loop.connect_write_pipe(Reader, os.fdopen(write_fd, "wb"))
        os.close(read_fd)
        # No write needed: readability of our end tells the reader is gone.
        await writer.lost
        assert transport.is_closing()

    run(any_loop, main())


def test_pause_and_resume_reading(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        read_fd, write_fd = os.pipe()
        transport, reader = await any_loop.connect_read_pipe(Reader, os.fdopen(read_fd, "rb"))
        transport.pause_reading()
        assert not transport.is_reading()
        os.write(write_fd, b"held back")
        await asyncio.sleep(0.02)
        assert reader.data == b""
        transport.resume_reading()
        while not reader.data:
            await asyncio.sleep(0.001)
        assert reader.data == b"held back"
        os.close(write_fd)
        await reader.lost

    run(any_loop, main())


def test_regular_file_is_refused(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        with tempfile.TemporaryFile() as regular:
            with pytest.raises(ValueError, match="pipes"):
                await any_loop.connect_read_pipe(Reader, regular)
            with pytest.raises(ValueError, match="pipes"):
                await any_loop.connect_write_pipe(Reader, regular)

    run(any_loop, main())
