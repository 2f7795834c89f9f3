"""Bad peers and bad input: each fails with a clear exception, the loop keeps
running, the server keeps serving others, and no descriptor leaks (the
fixtures check that after every test)."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import trustme

from loop_transports import StreamReader, StreamWriter, open_connection, start_server


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> Any:
    return loop.run_until_complete(asyncio.wait_for(coro, 60))


async def echo(reader: StreamReader, writer: StreamWriter) -> None:
    try:
        while line := await reader.readline():
            writer.write(line)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    writer.close()


async def good_client_works(port: int, client_context: ssl.SSLContext) -> None:
    reader, writer = await open_connection(
        "127.0.0.1", port, ssl=client_context, server_hostname="localhost"
    )
    writer.write(b"still serving\n")
    assert await reader.readline() == b"still serving\n"
    writer.close()
    await writer.wait_closed()


def client_hello() -> bytes:
    """The first flight of a real TLS client, made with memory BIOs."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    context = ssl.create_default_context()
    sslobj = context.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        sslobj.do_handshake()
    return outgoing.read()


async def raw_peer(
    port: int, behave: Callable[[socket.socket], None], loop: asyncio.AbstractEventLoop
) -> bytes:
    """Run a misbehaving blocking client in a thread; return what it received."""

    def work() -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            behave(sock)
            received = b""
            try:
                while chunk := sock.recv(65536):
                    received += chunk
            except (ConnectionResetError, TimeoutError):
                pass
            return received

    return await loop.run_in_executor(None, work)


@pytest.mark.parametrize(
    "behaviour",
    ["plaintext", "random bytes", "half a ClientHello then close", "silent"],
)
def test_server_survives_a_bad_client(
    any_loop: asyncio.AbstractEventLoop,
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
    behaviour: str,
) -> None:
    hello = client_hello()

    def behave(sock: socket.socket) -> None:
        if behaviour == "plaintext":
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        elif behaviour == "random bytes":
            sock.sendall(os.urandom(4096))
        elif behaviour == "half a ClientHello then close":
            sock.sendall(hello[: len(hello) // 2])
            sock.shutdown(socket.SHUT_WR)
        # "silent" sends nothing: the handshake timeout must end it.

    async def main() -> None:
        server = await start_server(
            echo, "127.0.0.1", 0, ssl=server_context, ssl_handshake_timeout=0.5
        )
        async with server:
            port = server.sockets[0].getsockname()[1]
            started = time.monotonic()
            received = await raw_peer(port, behave, any_loop)
            assert time.monotonic() - started < 8  # closed by the server, not by our timeout
            assert b"still serving" not in received
            await good_client_works(port, client_context)

    run(any_loop, main())


def test_untrusted_certificate(
    any_loop: asyncio.AbstractEventLoop, server_context: ssl.SSLContext
) -> None:
    stranger = ssl.create_default_context()
    trustme.CA().configure_trust(stranger)  # trusts some other CA only

    async def main() -> None:
        server = await start_server(echo, "127.0.0.1", 0, ssl=server_context)
        async with server:
            port = server.sockets[0].getsockname()[1]
            with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
                await open_connection("127.0.0.1", port, ssl=stranger, server_hostname="localhost")

    run(any_loop, main())


def test_expired_certificate(
    any_loop: asyncio.AbstractEventLoop,
    expired_server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
) -> None:
    async def main() -> None:
        server = await start_server(echo, "127.0.0.1", 0, ssl=expired_server_context)
        async with server:
            port = server.sockets[0].getsockname()[1]
            with pytest.raises(ssl.SSLCertVerificationError, match="expired"):
                await open_connection(
                    "127.0.0.1", port, ssl=client_context, server_hostname="localhost"
                )

    run(any_loop, main())


def test_hostname_mismatch(
    any_loop: asyncio.AbstractEventLoop,
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
) -> None:
    async def main() -> None:
        server = await start_server(echo, "127.0.0.1", 0, ssl=server_context)
        async with server:
            port = server.sockets[0].getsockname()[1]
            with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
                await open_connection(
                    "127.0.0.1", port, ssl=client_context, server_hostname="example.org"
                )
            await good_client_works(port, client_context)

    run(any_loop, main())


def test_server_that_stalls_the_handshake(
    any_loop: asyncio.AbstractEventLoop, client_context: ssl.SSLContext
) -> None:
    async def main() -> None:
        with socket.socket() as mute:
            mute.bind(("127.0.0.1", 0))
            mute.listen()  # accepts (in the kernel) and never answers
            with pytest.raises(
                ConnectionAbortedError, match="SSL handshake is taking longer"
            ) as raised:
                await open_connection(
                    *mute.getsockname(),
                    ssl=client_context,
                    server_hostname="localhost",
                    ssl_handshake_timeout=0.3,
                )
            # As asyncio's, not a TimeoutError: an `except TimeoutError` written
            # for stock asyncio must let ours through too.
            assert not isinstance(raised.value, TimeoutError)

    run(any_loop, main())


def test_peer_closing_mid_handshake(
    any_loop: asyncio.AbstractEventLoop, client_context: ssl.SSLContext
) -> None:
    async def main() -> None:
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            listener.setblocking(False)
            connecting = asyncio.ensure_future(
                open_connection(
                    *listener.getsockname(), ssl=client_context, server_hostname="localhost"
                )
            )
            conn, _ = await any_loop.sock_accept(listener)
            await any_loop.sock_recv(conn, 65536)  # the ClientHello
            conn.close()  # and goodbye
            with pytest.raises((ConnectionResetError, ssl.SSLError)):
                await connecting

    run(any_loop, main())


def test_peer_that_never_answers_close_notify(
    any_loop: asyncio.AbstractEventLoop,
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
) -> None:
    ready = threading.Event()
    release = threading.Event()
    address: list[Any] = []

    def lazy_server() -> None:
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            address.append(listener.getsockname())
            ready.set()
            conn, _ = listener.accept()
            with server_context.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"hello\n")
                release.wait(10)  # never reads, so never answers close_notify

    thread = threading.Thread(target=lazy_server)
    thread.start()

    async def main() -> None:
        assert ready.wait(10)
        reader, writer = await open_connection(
            *address[0],
            ssl=client_context,
            server_hostname="localhost",
            ssl_shutdown_timeout=0.3,
        )
        assert await reader.readline() == b"hello\n"
        writer.close()
        started = time.monotonic()
        try:
            await writer.wait_closed()
        except TimeoutError:
            pass  # asyncio reports the shutdown timeout; either way it ends
        assert time.monotonic() - started < 5

    try:
        run(any_loop, main())
    finally:
        release.set()
        thread.join(10)


def test_bad_arguments(any_loop: asyncio.AbstractEventLoop, client_context: ssl.SSLContext) -> None:
    async def main() -> None:
        server = await start_server(echo, "127.0.0.1", 0)
        async with server:
            port = server.sockets[0].getsockname()[1]
            with pytest.raises(ValueError, match="server_hostname is only meaningful with ssl"):
                await open_connection("127.0.0.1", port, server_hostname="localhost")
            with pytest.raises(ValueError, match="ssl_handshake_timeout"):
                await open_connection("127.0.0.1", port, ssl_handshake_timeout=1)
            _, writer = await open_connection("127.0.0.1", port)
            with pytest.raises(TypeError, match="SSLContext"):
                await writer.start_tls("not a context")  # type: ignore[arg-type]
            writer.close()
            await writer.wait_closed()

    run(any_loop, main())


def test_failing_connection_made_of_a_tls_server_is_reported(
    any_loop: asyncio.AbstractEventLoop,
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
) -> None:
    # The server protocol's bug reaches the exception handler (asyncio: as a
    # fatal error of the connection) and the server goes on serving.
    contexts: list[dict[str, Any]] = []
    any_loop.set_exception_handler(lambda _, context: contexts.append(context))
    failures = iter([True])

    class Protocol(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            if next(failures, False):
                raise ZeroDivisionError("connection_made failed")
            self.transport = transport

        def data_received(self, data: bytes) -> None:
            assert isinstance(self.transport, asyncio.WriteTransport)
            self.transport.write(data)

    async def main() -> None:
        server = await any_loop.create_server(Protocol, "127.0.0.1", 0, ssl=server_context)
        async with server:
            port = server.sockets[0].getsockname()[1]
            try:
                reader, writer = await open_connection(
                    "127.0.0.1", port, ssl=client_context, server_hostname="localhost"
                )
                await reader.read()  # the server aborts the connection
                writer.close()
                await writer.wait_closed()
            except (ConnectionError, ssl.SSLError):
                pass
            while not contexts:
                await asyncio.sleep(0.001)
            reader, writer = await open_connection(
                "127.0.0.1", port, ssl=client_context, server_hostname="localhost"
            )
            writer.write(b"ping")
            assert await reader.readexactly(4) == b"ping"
            writer.close()
            await writer.wait_closed()

    run(any_loop, main())
    assert isinstance(contexts[0]["exception"], ZeroDivisionError)
    assert {"message", "exception", "transport", "protocol"} <= contexts[0].keys()
