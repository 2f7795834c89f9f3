"""The echo server of the asyncio documentation, served by our loop.

``EchoServer`` is the documentation's protocol: it answers every message with
``Re: <message>`` and closes a connection that stays silent for TIMEOUT
seconds, restarting that timer on each message. It runs on loop-core's loop
with loop-transports' TCP server; a client written with loop-transports'
streams talks to it, then stays silent so the timeout closes the connection.

Run it with ``python3 dev.py demo`` (or ``nox -s demo``).
"""

from __future__ import annotations

import asyncio

import loop_core
from loop_transports import Protocol, open_connection

TIMEOUT = 1.0  # the documentation uses 5 seconds; the demo need not wait that long
MESSAGES = ["hello", "echo from loop", "goodbye"]


class EchoServer(Protocol):
    TIMEOUT = TIMEOUT

    def timeout(self) -> None:
        print("server: connection timeout, closing.")
        self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        print("server: connection made")
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.h_timeout = asyncio.get_running_loop().call_later(self.TIMEOUT, self.timeout)

    def data_received(self, data: bytes) -> None:
        print("server: data received:", data.decode())
        self.transport.write(b"Re: " + data)
        self.h_timeout.cancel()
        self.h_timeout = asyncio.get_running_loop().call_later(self.TIMEOUT, self.timeout)

    def eof_received(self) -> None:
        pass

    def connection_lost(self, exc: Exception | None) -> None:
        print("server: connection lost:", exc)
        self.h_timeout.cancel()


async def client(host: str, port: int) -> list[str]:
    reader, writer = await open_connection(host, port)
    replies = []
    for message in MESSAGES:
        writer.write(message.encode())
        await writer.drain()
        reply = (await reader.read(1024)).decode()
        print("client: got", repr(reply))
        replies.append(reply)
    # Say nothing more: the server's timeout closes the connection.
    closed_by_server = await reader.read() == b""
    print("client: server closed the connection:", closed_by_server)
    writer.close()
    await writer.wait_closed()
    return replies


async def main() -> None:
    loop = asyncio.get_running_loop()
    print(f"running on {type(loop).__module__}.{type(loop).__qualname__}")
    server = await loop.create_server(EchoServer, "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"server: listening on {host}:{port}")
    async with server:
        replies = await client(host, port)
    expected = [f"Re: {m}" for m in MESSAGES]
    if replies != expected:
        raise SystemExit(f"demo failed: expected {expected}, got {replies}")
    print("demo: every message came back")


if __name__ == "__main__":
    loop_core.run(main())
