"""TLS connections: our client and server, stock asyncio and openssl on the other end.

Tests that take ``any_loop`` run on loop-core's loop (loop-ssl's TLS) and on a
stock asyncio loop (asyncio's TLS), side by side.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trustme

import loop_core
from loop_ssl import TLSHalfCloseError, remember_sessions
from loop_transports import (
    StreamReader,
    StreamWriter,
    create_subprocess_exec,
    open_connection,
    start_server,
)

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> Any:
    return loop.run_until_complete(asyncio.wait_for(coro, 60))


async def upper_lines(reader: Any, writer: Any) -> None:
    """Answer each line in capitals; takes our streams and asyncio's alike."""
    try:
        while line := await reader.readline():
            writer.write(line.upper())
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    writer.close()


@asynccontextmanager
async def tls_connection(
    handler: Callable[[Any, Any], Coroutine[Any, Any, None]],
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
) -> AsyncIterator[tuple[Any, Any, int]]:
    """A TLS server running *handler* and one client's (reader, writer, port);
    the client is closed, then the server, when the block ends."""
    server = await start_server(handler, "127.0.0.1", 0, ssl=server_context)
    async with server:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await open_connection(
            "127.0.0.1", port, ssl=client_context, server_hostname="localhost"
        )
        yield reader, writer, port
        writer.close()
        await writer.wait_closed()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_round_trip_extra_info_and_clean_close(
    any_loop: asyncio.AbstractEventLoop,
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
) -> None:
    server_side: list[tuple[Any, Any]] = []

    async def answer(reader: Any, writer: Any) -> None:
        # The accepted connection's addresses, as the server sees them.
        server_side.append((writer.get_extra_info("peername"), writer.get_extra_info("sockname")))
        await upper_lines(reader, writer)

    async def main() -> None:
        async with tls_connection(answer, server_context, client_context) as (reader, writer, port):
            writer.write(b"hello tls\n")
            assert await reader.readline() == b"HELLO TLS\n"
            big = os.urandom(20_000).hex().encode() + b"\n"  # under the 64 KiB line limit
            writer.write(big)
            assert await reader.readline() == big.upper()
            ssl_object = writer.get_extra_info("ssl_object")
            assert isinstance(ssl_object, ssl.SSLObject)
            assert writer.get_extra_info("peercert")["subjectAltName"][0] == ("DNS", "localhost")
            assert writer.get_extra_info("cipher")[1].startswith("TLSv1")
            assert writer.get_extra_info("compression") is None
            assert writer.get_extra_info("sslcontext") is client_context
            assert writer.get_extra_info("peername") == ("127.0.0.1", port)
            assert server_side == [(writer.get_extra_info("sockname"), ("127.0.0.1", port))]
            assert not writer.can_write_eof()

    run(any_loop, main())


def test_an_sslobject_subclass_of_the_context_is_used(
    any_loop: asyncio.AbstractEventLoop,
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
) -> None:
    # SSLContext.sslobject_class: the engine's reads and writes go through the
    # subclass's methods, as they do in asyncio's TLS.
    calls: list[str] = []

    class Counting(ssl.SSLObject):
        def read(self, len: int = 1024, buffer: Any = None) -> Any:
            calls.append("read")
            return super().read(len, buffer)

        def write(self, data: Any) -> int:
            calls.append("write")
            return super().write(data)

    server_context.sslobject_class = Counting

    async def main() -> None:
        connection = tls_connection(upper_lines, server_context, client_context)
        async with connection as (reader, writer, _):
            writer.write(b"through the subclass\n")
            assert await reader.readline() == b"THROUGH THE SUBCLASS\n"

    run(any_loop, main())
    assert "read" in calls
    assert "write" in calls


def test_write_eof_is_refused(
    loop: loop_core.EventLoop, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async def main() -> None:
        server = await start_server(upper_lines, "127.0.0.1", 0, ssl=server_context)
        async with server:
            port = server.sockets[0].getsockname()[1]
            _, writer = await open_connection(
                "127.0.0.1", port, ssl=client_context, server_hostname="localhost"
            )
            with pytest.raises(TLSHalfCloseError):
                writer.write_eof()
            with pytest.raises(NotImplementedError):  # what asyncio raises there
                writer.write_eof()
            writer.close()
            await writer.wait_closed()

    run(loop, main())


def test_session_is_resumed_on_the_next_connection(
    loop: loop_core.EventLoop, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    remember_sessions(client_context)

    async def main() -> list[bool]:
        server = await start_server(upper_lines, "127.0.0.1", 0, ssl=server_context)
        reused = []
        async with server:
            port = server.sockets[0].getsockname()[1]
            for _ in range(2):
                reader, writer = await open_connection(
                    "127.0.0.1", port, ssl=client_context, server_hostname="localhost"
                )
                writer.write(b"x\n")
                await reader.readline()  # TLS 1.3 tickets arrive after the handshake
                reused.append(writer.get_extra_info("ssl_object").session_reused)
                writer.close()
                await writer.wait_closed()
        return reused

    assert run(loop, main()) == [False, True]


def test_sessions_are_not_remembered_unless_asked(
    loop: loop_core.EventLoop, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    # Remembering a session keeps its context alive, so it is opt-in.
    async def main() -> list[bool]:
        server = await start_server(upper_lines, "127.0.0.1", 0, ssl=server_context)
        reused = []
        async with server:
            port = server.sockets[0].getsockname()[1]
            for _ in range(2):
                reader, writer = await open_connection(
                    "127.0.0.1", port, ssl=client_context, server_hostname="localhost"
                )
                writer.write(b"x\n")
                await reader.readline()
                reused.append(writer.get_extra_info("ssl_object").session_reused)
                writer.close()
                await writer.wait_closed()
        return reused

    assert run(loop, main()) == [False, False]
    with pytest.raises(ValueError, match="positive"):
        remember_sessions(client_context, 0)


def test_alpn_and_sni(
    any_loop: asyncio.AbstractEventLoop,
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
) -> None:
    seen_names: list[str | None] = []

    def sni(ssl_object: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        seen_names.append(name)

    server_context.sni_callback = sni
    server_context.set_alpn_protocols(["h2", "http/1.1"])
    client_context.set_alpn_protocols(["http/1.1"])

    async def main() -> str | None:
        server = await start_server(upper_lines, "127.0.0.1", 0, ssl=server_context)
        async with server:
            port = server.sockets[0].getsockname()[1]
            _, writer = await open_connection(
                "127.0.0.1", port, ssl=client_context, server_hostname="localhost"
            )
            chosen: str | None = writer.get_extra_info("ssl_object").selected_alpn_protocol()
            writer.close()
            await writer.wait_closed()
            return chosen

    assert run(any_loop, main()) == "http/1.1"
    assert seen_names == ["localhost"]


def test_buffered_protocol_and_flow_control_through_tls(
    any_loop: asyncio.AbstractEventLoop,
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
) -> None:
    total = 4 * 1024 * 1024

    class Counter(asyncio.BufferedProtocol):
        def __init__(self) -> None:
            self.buffer = bytearray(4096)
            self.count = 0
            self.done = any_loop.create_future()

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            # A slow application: reading pauses now and then.
            transport.pause_reading()
            any_loop.call_later(0.05, transport.resume_reading)

        def get_buffer(self, sizehint: int) -> bytearray:
            return self.buffer

        def buffer_updated(self, nbytes: int) -> None:
            self.count += nbytes
            if self.count >= total and not self.done.done():
                self.done.set_result(self.count)

    class Pusher(asyncio.Protocol):
        def __init__(self) -> None:
            self.paused = 0

        def pause_writing(self) -> None:
            self.paused += 1

    async def main() -> None:
        counters: list[Counter] = []

        def factory() -> Counter:
            counters.append(Counter())
            return counters[-1]

        server = await any_loop.create_server(factory, "127.0.0.1", 0, ssl=server_context)
        async with server:
            transport, pusher = await any_loop.create_connection(
                Pusher,
                *server.sockets[0].getsockname(),
                ssl=client_context,
                server_hostname="localhost",
            )
            chunk = b"z" * 65536
            for _ in range(total // len(chunk)):
                transport.write(chunk)
            if isinstance(any_loop, loop_core.EventLoop):
                # Ours counts unencrypted data too, so 4 MiB written at once
                # pauses the writer at once; asyncio only once records pile up.
                assert pusher.paused >= 1
            assert await counters[0].done == total
            transport.close()

    run(any_loop, main())


def test_writes_inside_data_received_are_flow_controlled(
    any_loop: asyncio.AbstractEventLoop,
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
) -> None:
    # A server that answers from data_received, writing until told to pause,
    # to a client that does not read: the pause must come while the data is
    # still a few MiB, not after everything it could write (capped here).
    chunk = b"x" * 65536
    cap = 64 * 1024 * 1024

    class Flood(asyncio.Protocol):
        def __init__(self) -> None:
            self.paused = False
            self.written_at_pause = any_loop.create_future()

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            self.transport = transport

        def data_received(self, data: bytes) -> None:
            written = 0
            while not self.paused and written < cap:
                self.transport.write(chunk)
                written += len(chunk)
            if not self.written_at_pause.done():
                self.written_at_pause.set_result(written)

        def pause_writing(self) -> None:
            self.paused = True

    async def main() -> None:
        floods: list[Flood] = []

        def factory() -> Flood:
            floods.append(Flood())
            return floods[-1]

        server = await any_loop.create_server(factory, "127.0.0.1", 0, ssl=server_context)
        async with server:
            _, writer = await open_connection(
                *server.sockets[0].getsockname(), ssl=client_context, server_hostname="localhost"
            )
            writer.write(b"go")
            written = await floods[0].written_at_pause
            assert written < 8 * 1024 * 1024
            floods[0].transport.abort()
            writer.transport.abort()

    run(any_loop, main())


def test_start_tls_upgrades_a_live_connection_and_tls_in_tls(
    loop: loop_core.EventLoop, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async def serve(reader: StreamReader, writer: StreamWriter) -> None:
        assert await reader.readline() == b"STARTTLS\n"
        writer.write(b"go ahead\n")
        await writer.drain()
        await writer.start_tls(server_context)
        assert await reader.readline() == b"again\n"
        writer.write(b"ok\n")
        await writer.drain()
        await writer.start_tls(server_context)  # a second layer inside the first
        await upper_lines(reader, writer)

    async def main() -> None:
        server = await start_server(serve, "127.0.0.1", 0)
        async with server:
            reader, writer = await open_connection(*server.sockets[0].getsockname())
            writer.write(b"STARTTLS\n")
            assert await reader.readline() == b"go ahead\n"
            await writer.start_tls(client_context, server_hostname="localhost")
            assert writer.get_extra_info("ssl_object") is not None
            writer.write(b"again\n")
            assert await reader.readline() == b"ok\n"
            await writer.start_tls(client_context, server_hostname="localhost")
            writer.write(b"inside two layers\n")
            assert await reader.readline() == b"INSIDE TWO LAYERS\n"
            writer.close()
            await writer.wait_closed()

    run(loop, main())


def test_stock_asyncio_client_against_our_server(
    loop: loop_core.EventLoop, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async def main() -> None:
        server = await start_server(upper_lines, "127.0.0.1", 0, ssl=server_context)
        async with server:
            port = server.sockets[0].getsockname()[1]

            def client() -> bytes:
                async def talk() -> bytes:
                    reader, writer = await asyncio.open_connection(
                        "127.0.0.1", port, ssl=client_context, server_hostname="localhost"
                    )
                    writer.write(b"from stock asyncio\n")
                    line = await reader.readline()
                    writer.close()
                    await writer.wait_closed()
                    return line

                return asyncio.run(talk())

            assert await loop.run_in_executor(None, client) == b"FROM STOCK ASYNCIO\n"

    run(loop, main())


def test_our_client_against_stock_asyncio_server(
    loop: loop_core.EventLoop, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    ready = threading.Event()
    stop = threading.Event()
    ports: list[int] = []

    def serve() -> None:
        async def main() -> None:
            server = await asyncio.start_server(
                upper_lines,
                "127.0.0.1",
                0,
                ssl=server_context,
            )
            ports.append(server.sockets[0].getsockname()[1])
            ready.set()
            async with server:
                while not stop.is_set():
                    await asyncio.sleep(0.01)

        asyncio.run(main())

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        assert ready.wait(10)

        async def main() -> bytes:
            reader, writer = await open_connection(
                "127.0.0.1", ports[0], ssl=client_context, server_hostname="localhost"
            )
            writer.write(b"to stock asyncio\n")
            line = await reader.readline()
            writer.close()
            await writer.wait_closed()
            return line

        assert run(loop, main()) == b"TO STOCK ASYNCIO\n"
    finally:
        stop.set()
        thread.join(10)


@needs_openssl
def test_openssl_s_client_against_our_server(
    any_loop: asyncio.AbstractEventLoop, server_context: ssl.SSLContext, ca_pem: Path
) -> None:
    async def once(reader: StreamReader, writer: StreamWriter) -> None:
        line = await reader.readline()
        writer.write(b"server says " + line)
        await writer.drain()
        writer.close()

    async def main() -> bytes:
        server = await start_server(once, "127.0.0.1", 0, ssl=server_context)
        async with server:
            port = server.sockets[0].getsockname()[1]
            assert OPENSSL is not None
            process = await create_subprocess_exec(
                OPENSSL,
                "s_client",
                "-connect",
                f"127.0.0.1:{port}",
                "-CAfile",
                str(ca_pem),
                "-servername",
                "localhost",
                "-verify_return_error",
                "-quiet",
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            out, _ = await process.communicate(b"hi from openssl\n")
            assert process.returncode == 0
            assert out is not None
            return out

    assert run(any_loop, main()) == b"server says hi from openssl\n"


@needs_openssl
def test_our_client_against_openssl_s_server(
    any_loop: asyncio.AbstractEventLoop, client_context: ssl.SSLContext, server_pem: Path
) -> None:
    async def main() -> bytes:
        port = free_port()
        assert OPENSSL is not None
        # -rev answers each line reversed; -naccept 1 exits after one client.
        process = await create_subprocess_exec(
            OPENSSL,
            "s_server",
            "-accept",
            f"127.0.0.1:{port}",
            "-cert",
            str(server_pem),
            "-rev",
            "-naccept",
            "1",
            "-quiet",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(200):
                try:
                    reader, writer = await open_connection(
                        "127.0.0.1", port, ssl=client_context, server_hostname="localhost"
                    )
                    break
                except ConnectionRefusedError:
                    await asyncio.sleep(0.02)
            else:
                raise AssertionError("openssl s_server did not start")
            writer.write(b"loop\n")
            line = await reader.readline()
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, ssl.SSLError):
                pass  # s_server may drop the connection without answering close_notify
            return line
        finally:
            if process.returncode is None:
                process.kill()
            await process.wait()

    assert run(any_loop, main()).strip() == b"pool"


def test_ssl_true_means_a_verifying_default_context(loop: loop_core.EventLoop) -> None:
    # Our test CA is not in the system store, so ssl=True must refuse the server.
    cert_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("localhost").configure_cert(cert_ctx)

    async def main() -> None:
        server = await start_server(upper_lines, "127.0.0.1", 0, ssl=cert_ctx)
        async with server:
            port = server.sockets[0].getsockname()[1]
            with pytest.raises(ssl.SSLCertVerificationError):
                await open_connection("localhost", port, ssl=True)

    run(loop, main())


class AnswerThenClose(asyncio.Protocol):
    """Answers a line with several writes and closes, all inside data_received."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.received = b""

    def data_received(self, data: bytes) -> None:
        self.received += data
        if self.received.endswith(b"\n"):
            for part in (b"one ", b"two ", os.urandom(30_000).hex().encode(), b"\n"):
                self.transport.write(part)
            self.transport.close()


class Collect(asyncio.Protocol):
    def __init__(self) -> None:
        self.events: list[str] = []
        self.size = 0
        self.lost = asyncio.get_event_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.size += len(data)
        self.events.append("data")

    def eof_received(self) -> None:
        self.events.append(f"eof after {self.size}")

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.set_result(exc)


def test_writes_and_close_inside_data_received_all_arrive(
    any_loop: asyncio.AbstractEventLoop,
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
) -> None:
    async def main() -> None:
        server = await any_loop.create_server(AnswerThenClose, "127.0.0.1", 0, ssl=server_context)
        async with server:
            port = server.sockets[0].getsockname()[1]
            reader, writer = await open_connection(
                "127.0.0.1", port, ssl=client_context, server_hostname="localhost"
            )
            writer.write(b"question\n")
            answer = await reader.read()  # to the server's close_notify
            assert answer.startswith(b"one two ")
            assert answer.endswith(b"\n")
            assert len(answer) == len(b"one two ") + 60_000 + 1
            writer.close()
            await writer.wait_closed()

    run(any_loop, main())


def test_data_then_close_notify_in_one_flight(
    any_loop: asyncio.AbstractEventLoop,
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
) -> None:
    collectors: list[Collect] = []

    def factory() -> Collect:
        collectors.append(Collect())
        return collectors[-1]

    async def main() -> None:
        server = await any_loop.create_server(factory, "127.0.0.1", 0, ssl=server_context)
        async with server:
            port = server.sockets[0].getsockname()[1]
            _, writer = await open_connection(
                "127.0.0.1", port, ssl=client_context, server_hostname="localhost"
            )
            writer.write(b"x" * 100_000)
            writer.close()  # close_notify right behind the data
            await writer.wait_closed()
            await collectors[0].lost
            assert collectors[0].size == 100_000
            assert collectors[0].events[-1] == "eof after 100000"

    run(any_loop, main())


def test_start_tls_on_a_transport_closed_before_the_handshake(
    any_loop: asyncio.AbstractEventLoop, client_context: ssl.SSLContext
) -> None:
    # asyncio returns None then (it does not raise): code written for it
    # checks for None.
    async def main() -> None:
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            transport, protocol = await any_loop.create_connection(
                asyncio.Protocol, *listener.getsockname()
            )
            transport.close()
            upgraded = await any_loop.start_tls(
                transport, protocol, client_context, server_hostname="localhost"
            )
            assert upgraded is None

    run(any_loop, main())
