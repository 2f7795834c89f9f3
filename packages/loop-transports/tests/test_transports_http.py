"""An external client (curl) against a small HTTP/1.1 server on our protocols.

The server is a plain :class:`asyncio.Protocol` parsing requests as they
arrive, with keep-alive; curl runs as a child process started through our own
subprocess support, so one loop serves and supervises at the same time.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Coroutine
from typing import Any

import pytest

from loop_transports import create_subprocess_exec

CURL = shutil.which("curl")
pytestmark = pytest.mark.skipif(CURL is None, reason="curl is not installed")


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> Any:
    return loop.run_until_complete(asyncio.wait_for(coro, 60))


class TinyHTTP(asyncio.Protocol):
    """GET /size/N answers N bytes; POST /echo answers the body; keep-alive."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self._answer_one():
            pass

    def _answer_one(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        method, target, _ = head[0].split(" ", 2)
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in head[1:])
        }
        length = int(headers.get("content-length", "0"))
        if len(self.buffer) < end + 4 + length:
            return False
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        if method == "GET" and target.startswith("/size/"):
            payload = b"x" * int(target.removeprefix("/size/"))
            status = "200 OK"
        elif method == "POST" and target == "/echo":
            payload, status = body, "200 OK"
        else:
            payload, status = b"not found", "404 Not Found"
        self.transport.write(
            f"HTTP/1.1 {status}\r\nContent-Length: {len(payload)}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n".encode()
        )
        self.transport.write(payload)
        if headers.get("connection", "").lower() == "close":
            self.transport.close()
        return True


async def curl(*args: str) -> tuple[int, bytes, bytes]:
    assert CURL is not None
    process = await create_subprocess_exec(
        CURL, "--silent", "--show-error", "--max-time", "20", *args, stdout=-1, stderr=-1
    )
    out, err = await process.communicate()
    assert out is not None
    assert err is not None
    return process.returncode or 0, out, err


def test_curl_talks_to_our_server(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        server = await any_loop.create_server(TinyHTTP, "127.0.0.1", 0)
        async with server:
            base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
            code, out, err = await curl(f"{base}/size/3000000")
            assert (code, len(out), err) == (0, 3_000_000, b"")
            # Two requests on one kept-alive connection, and a request body.
            code, out, _ = await curl(
                f"{base}/size/5", f"{base}/size/7", "--write-out", "%{num_connects}"
            )
            assert out == b"x" * 5 + b"1" + b"x" * 7 + b"0"  # one connect, then reused
            code, out, _ = await curl("--data-binary", "payload", f"{base}/echo")
            assert out == b"payload"
            code, out, _ = await curl("--write-out", "%{http_code}", f"{base}/nope")
            assert out.endswith(b"404")

    run(any_loop, main())
