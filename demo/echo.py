"""The echo server of the asyncio documentation, served by loop-core's loop.

The server answers every message with ``Re: <message>`` and closes a
connection that stays silent for TIMEOUT seconds, restarting that timer on
each message, as the documentation's ``EchoServer`` protocol does. Until
loop-transports lands, the server is written on the loop's low-level
``sock_*`` calls and ``call_later``; a client in the same program talks to it.

Run it with ``python3 dev.py demo`` (or ``nox -s demo``).
"""

from __future__ import annotations

import asyncio
import socket

import loop_core

TIMEOUT = 5.0
MESSAGES = ["hello", "echo from loop-core", "goodbye"]


async def serve_connection(conn: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    print("server: connection made")
    timed_out = asyncio.Event()

    def on_timeout() -> None:
        print("server: connection timeout, closing.")
        timed_out.set()

    timer = loop.call_later(TIMEOUT, on_timeout)
    try:
        while not timed_out.is_set():
            receive = asyncio.ensure_future(loop.sock_recv(conn, 1024))
            expired = asyncio.ensure_future(timed_out.wait())
            done, _ = await asyncio.wait({receive, expired}, return_when=asyncio.FIRST_COMPLETED)
            expired.cancel()
            if receive not in done:
                receive.cancel()
                break
            data = receive.result()
            if not data:
                break
            print("server: data received:", data.decode())
            await loop.sock_sendall(conn, b"Re: " + data)
            timer.cancel()
            timer = loop.call_later(TIMEOUT, on_timeout)
    finally:
        timer.cancel()
        conn.close()
        print("server: connection lost: None")


async def serve(listener: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    conn, _ = await loop.sock_accept(listener)
    await serve_connection(conn)


async def client(port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    replies = []
    with socket.socket() as sock:
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", port))
        for message in MESSAGES:
            await loop.sock_sendall(sock, message.encode())
            reply = (await loop.sock_recv(sock, 1024)).decode()
            print("client: got", repr(reply))
            replies.append(reply)
    return replies


async def main() -> None:
    loop = asyncio.get_running_loop()
    print(f"running on {type(loop).__module__}.{type(loop).__qualname__}")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        print(f"server: listening on 127.0.0.1:{port}")
        server = asyncio.ensure_future(serve(listener))
        replies = await client(port)
        await server
    expected = [f"Re: {m}" for m in MESSAGES]
    if replies != expected:
        raise SystemExit(f"demo failed: expected {expected}, got {replies}")
    print("demo: every message came back")


if __name__ == "__main__":
    loop_core.run(main())
