"""Socket transports against real peers on 127.0.0.1 and Unix sockets.

Every test runs on loop-core's loop (our transports) and on a stock asyncio
loop (asyncio's transports), so behaviour is compared side by side; the
fixture fails a test that leaks a descriptor or calls the exception handler.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import hashlib
import logging
import os
import socket
import struct
import tempfile
import threading
import warnings
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest

import loop_core
import loop_transports


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> Any:
    return loop.run_until_complete(asyncio.wait_for(coro, 30))


class Recorder(asyncio.Protocol):
    """Records every event, in order, and signals the end."""

    def __init__(self, keep_open_on_eof: bool = False) -> None:
        self.events: list[str] = []
        self.data = bytearray()
        self.transport: asyncio.Transport | None = None
        self.keep_open_on_eof = keep_open_on_eof
        self.lost: asyncio.Future[BaseException | None] = asyncio.get_event_loop().create_future()
        self.eof = asyncio.get_event_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.events.append("made")

    def data_received(self, data: bytes) -> None:
        self.data += data

    def eof_received(self) -> bool:
        self.events.append("eof")
        self.eof.set_result(None)
        return self.keep_open_on_eof

    def pause_writing(self) -> None:
        self.events.append("pause")

    def resume_writing(self) -> None:
        self.events.append("resume")

    def connection_lost(self, exc: Exception | None) -> None:
        self.events.append("lost")
        self.lost.set_result(exc)


class Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


@pytest.fixture(params=["tcp", "unix"])
def family(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def unix_path() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as directory:
        yield os.path.join(directory, "sock")


async def serve(
    loop: asyncio.AbstractEventLoop,
    factory: Callable[[], asyncio.BaseProtocol],
    family: str,
    path: str,
) -> tuple[asyncio.AbstractServer, Callable[[Callable[[], Any]], Coroutine[Any, Any, Any]]]:
    if family == "tcp":
        server = await loop.create_server(factory, "127.0.0.1", 0)
        address = server.sockets[0].getsockname()

        async def dial(client: Callable[[], Any]) -> Any:
            return await loop.create_connection(client, *address)
    else:
        server = await loop.create_unix_server(factory, path)

        async def dial(client: Callable[[], Any]) -> Any:
            return await loop.create_unix_connection(client, path)

    return server, dial


def test_echo_round_trip_and_close_order(
    any_loop: asyncio.AbstractEventLoop, family: str, unix_path: str
) -> None:
    async def main() -> None:
        server, dial = await serve(any_loop, Echo, family, unix_path)
        async with server:
            transport, client = await dial(Recorder)
            assert client.events == ["made"]
            transport.write(b"ping ")
            transport.writelines([b"pi", bytearray(b"ng"), memoryview(b"!")])
            while len(client.data) < 10:
                await asyncio.sleep(0.001)
            assert bytes(client.data) == b"ping ping!"
            transport.close()
            assert transport.is_closing()
            assert await client.lost is None
            assert client.events == ["made", "lost"]

    run(any_loop, main())


def test_buffered_protocol_fills_its_own_buffer(any_loop: asyncio.AbstractEventLoop) -> None:
    class Collector(asyncio.BufferedProtocol):
        def __init__(self) -> None:
            self.buffer = bytearray(7)  # small on purpose: many refills
            self.received = bytearray()
            self.hints: list[int] = []
            self.done = any_loop.create_future()

        def get_buffer(self, sizehint: int) -> bytearray:
            self.hints.append(sizehint)
            return self.buffer

        def buffer_updated(self, nbytes: int) -> None:
            self.received += self.buffer[:nbytes]

        def eof_received(self) -> None:
            self.done.set_result(bytes(self.received))

    payload = os.urandom(100_000)

    class Sender(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            transport.write(payload)
            transport.write_eof()

    async def main() -> None:
        server = await any_loop.create_server(Sender, "127.0.0.1", 0)
        async with server:
            transport, collector = await any_loop.create_connection(
                Collector, *server.sockets[0].getsockname()
            )
            assert await collector.done == payload
            transport.close()

    run(any_loop, main())


def test_set_protocol_hands_the_next_reads_to_the_new_protocol(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    # Each protocol switches the transport to the next one when its line has
    # come: plain -> buffered -> plain again. Every chunk reaches the protocol
    # in charge when it arrives, and none after it was replaced.
    log: list[tuple[str, bytes]] = []
    finished = any_loop.create_future()

    class Last(asyncio.Protocol):
        def data_received(self, data: bytes) -> None:
            log.append(("last", data))
            if data.endswith(b"3\n"):
                finished.set_result(None)

    class Middle(asyncio.BufferedProtocol):
        def __init__(self, transport: asyncio.Transport) -> None:
            self.transport = transport
            self.buffer = bytearray(64)

        def get_buffer(self, sizehint: int) -> bytearray:
            return self.buffer

        def buffer_updated(self, nbytes: int) -> None:
            log.append(("middle", bytes(self.buffer[:nbytes])))
            self.transport.set_protocol(Last())
            self.transport.write(b"next\n")

    class First(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            self.transport = transport

        def data_received(self, data: bytes) -> None:
            log.append(("first", data))
            self.transport.set_protocol(Middle(self.transport))
            self.transport.write(b"next\n")

    async def main() -> None:
        server = await any_loop.create_server(First, "127.0.0.1", 0)
        async with server:
            reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
            for line in (b"1\n", b"2\n", b"3\n"):
                writer.write(line)
                if line != b"3\n":
                    assert await reader.readline() == b"next\n"
            await finished
            writer.close()
            await writer.wait_closed()

    run(any_loop, main())
    assert log == [("first", b"1\n"), ("middle", b"2\n"), ("last", b"3\n")]


def test_read_sizes_of_plain_and_stream_protocols(loop: loop_core.EventLoop) -> None:
    """A 100 KiB message already queued arrives in one data_received() (reads
    stay under the allocator's mmap threshold, at 120 KiB); a stream reader's
    protocol asks for 64 KiB at a time, what its reader drains in one read."""
    message = os.urandom(100 * 1024)

    class Chunks(asyncio.Protocol):
        def __init__(self) -> None:
            self.sizes: list[int] = []

        def data_received(self, data: bytes) -> None:
            self.sizes.append(len(data))

    class StreamChunks(loop_transports.StreamReaderProtocol):
        def __init__(self) -> None:
            super().__init__(loop_transports.StreamReader(loop=loop), loop=loop)
            self.sizes: list[int] = []

        def data_received(self, data: bytes) -> None:
            self.sizes.append(len(data))
            super().data_received(data)

    async def delivered(factory: Callable[[], Chunks | StreamChunks]) -> list[int]:
        ours, theirs = socket.socketpair()
        with theirs:
            theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
            theirs.sendall(message)
            transport, protocol = await loop.connect_accepted_socket(factory, ours)
            while sum(protocol.sizes) < len(message):
                await asyncio.sleep(0.001)
            transport.close()
        return protocol.sizes

    assert run(loop, delivered(Chunks)) == [len(message)]
    assert run(loop, delivered(StreamChunks)) == [64 * 1024, len(message) - 64 * 1024]


def test_reads_shrink_for_small_messages_and_grow_back(loop: loop_core.EventLoop) -> None:
    """After a few small messages the transport reads small (a bytes object
    CPython's small-object allocator serves); the first read a larger message
    fills takes it back to its full size, and every byte arrives in order."""
    large = os.urandom(50 * 1024)

    class Collect(asyncio.Protocol):
        def __init__(self) -> None:
            self.data = bytearray()

        def data_received(self, data: bytes) -> None:
            self.data += data

    async def main() -> None:
        ours, theirs = socket.socketpair()
        with theirs:
            transport, protocol = await loop.connect_accepted_socket(Collect, ours)
            core = transport._core  # type: ignore[attr-defined]
            full = core.read_now
            expected = bytearray()
            for index in range(6):
                message = b"request %d" % index
                theirs.sendall(message)
                expected += message
                while len(protocol.data) < len(expected):
                    await asyncio.sleep(0.001)
            assert core.read_now < 512 < full
            theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
            theirs.sendall(large)
            expected += large
            while len(protocol.data) < len(expected):
                await asyncio.sleep(0.001)
            assert protocol.data == expected
            assert core.read_now == full
            transport.close()

    run(loop, main())


def test_a_socket_class_with_its_own_recv_and_send_is_used(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    """Plain sockets are read and written with os.read()/os.write(); a socket
    subclass that brings its own recv() and send() gets them called."""
    calls: list[str] = []

    class CountingSocket(socket.socket):
        def recv(self, bufsize: int, flags: int = 0) -> bytes:
            calls.append("recv")
            return super().recv(bufsize, flags)

        def send(self, data: Any, flags: int = 0) -> int:
            calls.append("send")
            return super().send(data, flags)

    async def main() -> None:
        ours, theirs = socket.socketpair()
        counting = CountingSocket(ours.family, ours.type, fileno=ours.detach())
        with theirs:
            transport, protocol = await any_loop.connect_accepted_socket(Recorder, counting)
            transport.write(b"ping")
            assert theirs.recv(4) == b"ping"
            theirs.sendall(b"pong")
            while len(protocol.data) < 4:
                await asyncio.sleep(0.001)
            transport.close()
            await protocol.lost
        assert "send" in calls
        assert "recv" in calls

    run(any_loop, main())


def test_a_transport_subclass_keeps_its_own_write(loop: loop_core.EventLoop) -> None:
    """The protocol's write() goes straight to the native core only when the
    transport class does not override it."""
    written: list[bytes] = []

    async def main() -> None:
        first, first_peer = socket.socketpair()
        with first_peer:
            transport, protocol = await loop.connect_accepted_socket(Recorder, first)
            transport.close()
            await protocol.lost

        class Shouting(type(transport)):  # type: ignore[misc]
            def write(self, data: bytes) -> None:
                written.append(bytes(data))
                super().write(bytes(data).upper())

        ours, peer = socket.socketpair()
        with peer:
            recorder = Recorder()
            shouting = Shouting(loop, ours, recorder)
            await asyncio.sleep(0)
            assert recorder.transport is shouting
            shouting.write(b"hello")
            assert peer.recv(5) == b"HELLO"
            shouting.close()
            await recorder.lost
        assert written == [b"hello"]

    run(loop, main())


def test_slow_reader_bounds_the_buffer_and_loses_nothing(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    total = 8 * 1024 * 1024
    payload = os.urandom(64 * 1024)

    class SlowReader(asyncio.Protocol):
        def __init__(self) -> None:
            self.digest = hashlib.sha256()
            self.count = 0
            self.done = any_loop.create_future()

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            self.transport = transport
            transport.pause_reading()
            any_loop.call_later(0.05, transport.resume_reading)

        def data_received(self, data: bytes) -> None:
            self.digest.update(data)
            self.count += len(data)
            if self.count >= total:
                self.done.set_result(self.digest.hexdigest())

    async def main() -> None:
        server_side: list[SlowReader] = []

        def factory() -> SlowReader:
            server_side.append(SlowReader())
            return server_side[-1]

        server = await any_loop.create_server(factory, "127.0.0.1", 0)
        async with server:
            transport, client = await any_loop.create_connection(
                Recorder, *server.sockets[0].getsockname()
            )
            transport.set_write_buffer_limits(high=256 * 1024)
            assert transport.get_write_buffer_limits() == (64 * 1024, 256 * 1024)
            expected = hashlib.sha256()
            peak = 0
            for _ in range(total // len(payload)):
                while "pause" in client.events and client.events[-1] == "pause":
                    await asyncio.sleep(0.001)
                transport.write(payload)
                expected.update(payload)
                peak = max(peak, transport.get_write_buffer_size())
            assert await server_side[0].done == expected.hexdigest()
            assert "pause" in client.events
            assert "resume" in client.events
            # One write past the high-water mark at most, never unbounded.
            assert peak <= 256 * 1024 + len(payload)
            transport.close()
            await client.lost

    run(any_loop, main())


def test_half_close_in_both_directions(
    any_loop: asyncio.AbstractEventLoop, family: str, unix_path: str
) -> None:
    class AnswerAfterEof(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            self.transport = transport
            self.received = bytearray()

        def data_received(self, data: bytes) -> None:
            self.received += data

        def eof_received(self) -> bool:
            # The client stopped writing; we may still answer, then close our side.
            self.transport.write(b"got " + bytes(self.received))
            self.transport.write_eof()
            # Half-closed both ways now; close soon so the server can finish.
            asyncio.get_running_loop().call_later(0.05, self.transport.close)
            return True

    async def main() -> None:
        server, dial = await serve(any_loop, AnswerAfterEof, family, unix_path)
        async with server:
            transport, client = await dial(lambda: Recorder(keep_open_on_eof=True))
            assert transport.can_write_eof()
            transport.write(b"question")
            transport.write_eof()
            with pytest.raises(RuntimeError):
                transport.write(b"more")
            await client.eof
            assert bytes(client.data) == b"got question"
            assert not transport.is_closing()  # we kept it open on EOF
            transport.close()
            assert await client.lost is None

    run(any_loop, main())


def test_reset_mid_write_reaches_connection_lost_once(any_loop: asyncio.AbstractEventLoop) -> None:
    class Resetter(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            sock = transport.get_extra_info("socket")
            # SO_LINGER with a zero timeout turns close() into a RST.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            assert isinstance(transport, asyncio.Transport)
            any_loop.call_later(0.05, transport.abort)

    async def main() -> None:
        server = await any_loop.create_server(Resetter, "127.0.0.1", 0)
        async with server:
            transport, client = await any_loop.create_connection(
                Recorder, *server.sockets[0].getsockname()
            )
            chunk = b"x" * 65536
            while not client.lost.done():
                transport.write(chunk)
                await asyncio.sleep(0.001)
            exc = await client.lost
            assert isinstance(exc, (ConnectionResetError, BrokenPipeError))
            assert client.events.count("lost") == 1
            transport.write(b"after the end")  # ignored, no crash
            transport.close()
            await asyncio.sleep(0.01)
            assert client.events.count("lost") == 1

    run(any_loop, main())


class Answering(Recorder):
    """Answers every chunk it receives."""

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        assert self.transport is not None
        self.transport.write(b"answer to " + data)


@pytest.mark.parametrize("queued", [b"", b"sent before the reset"])
@pytest.mark.parametrize("paused", [False, True], ids=["reading", "paused"])
@pytest.mark.parametrize("protocol", [Recorder, Answering])
def test_a_peer_reset_reaches_connection_lost_after_the_data_before_it(
    any_loop: asyncio.AbstractEventLoop, queued: bytes, paused: bool, protocol: type[Recorder]
) -> None:
    # Paused, the reset arrives with the data still queued in the socket:
    # the data is delivered first all the same, then the reset (an answer
    # written to the reset peer fails for the reset too).
    async def main() -> None:
        protocols: list[Recorder] = []

        def factory() -> Recorder:
            protocols.append(protocol())
            return protocols[-1]

        server = await any_loop.create_server(factory, "127.0.0.1", 0)
        async with server:
            client = socket.create_connection(server.sockets[0].getsockname())
            while not protocols or protocols[0].transport is None:
                await asyncio.sleep(0.001)
            served = protocols[0]
            assert served.transport is not None
            if paused:
                served.transport.pause_reading()
            client.sendall(queued)
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
            if paused:
                await asyncio.sleep(0.05)  # the reset is in by then, in the same socket
                assert not served.lost.done()
                served.transport.resume_reading()
            exc = await served.lost
            assert bytes(served.data) == queued
            assert isinstance(exc, ConnectionResetError)
            assert exc.errno == errno.ECONNRESET
            assert exc.strerror == os.strerror(errno.ECONNRESET)
            assert served.events == ["made", "lost"]
            told_by_poller = "epoll" in loop_core.available_pollers()
            if isinstance(any_loop, loop_core.EventLoop) and told_by_poller:
                # Not raised by a read.
                assert exc.__traceback__ is None

    run(any_loop, main())


def test_bad_input_is_refused_and_the_transport_lives_on(
    any_loop: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        server = await any_loop.create_server(Echo, "127.0.0.1", 0)
        async with server:
            transport, client = await any_loop.create_connection(
                Recorder, *server.sockets[0].getsockname()
            )
            with pytest.raises(TypeError, match="bytes-like"):
                transport.write("text")  # type: ignore[arg-type]
            with pytest.raises(TypeError):
                transport.writelines([b"ok", 42])  # type: ignore[list-item]
            with pytest.raises(ValueError, match="must be >= low"):
                transport.set_write_buffer_limits(high=1, low=2)
            transport.write(b"still works")
            while len(client.data) < 11:
                await asyncio.sleep(0.001)
            transport.abort()
            await client.lost
            with caplog.at_level(logging.WARNING):
                for _ in range(8):
                    transport.write(b"into the void")
            assert any("raised exception" in r.getMessage() for r in caplog.records)

    run(any_loop, main())


def test_extra_info(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        server = await any_loop.create_server(Echo, "127.0.0.1", 0)
        async with server:
            address = server.sockets[0].getsockname()
            transport, _ = await any_loop.create_connection(Recorder, *address)
            assert transport.get_extra_info("peername") == address
            sockname = transport.get_extra_info("sockname")
            assert sockname[0] == "127.0.0.1"
            sock = transport.get_extra_info("socket")
            assert sock.getsockname() == sockname
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            assert transport.get_extra_info("missing", "default") == "default"
            transport.close()

    run(any_loop, main())


def _asyncio_echo_server_in_thread() -> Iterator[tuple[str, int]]:
    ready: list[tuple[str, int]] = []
    started = threading.Event()
    stop: list[Callable[[], object]] = []

    def serve_forever() -> None:
        loop = asyncio.new_event_loop()

        async def main() -> None:
            server = await loop.create_server(Echo, "127.0.0.1", 0)
            ready.append(server.sockets[0].getsockname())
            stopped = loop.create_future()
            stop.append(lambda: loop.call_soon_threadsafe(stopped.set_result, None))
            started.set()
            async with server:
                await stopped

        loop.run_until_complete(main())
        loop.close()

    thread = threading.Thread(target=serve_forever)
    thread.start()
    started.wait(10)
    try:
        yield ready[0]
    finally:
        stop[0]()
        thread.join(10)


def test_our_client_against_stock_asyncio_server(loop: loop_core.EventLoop) -> None:
    for address in _asyncio_echo_server_in_thread():

        async def main(address: tuple[str, int] = address) -> None:
            transport, client = await loop.create_connection(Recorder, *address)
            transport.write(b"hello asyncio")
            while len(client.data) < 13:
                await asyncio.sleep(0.001)
            transport.close()
            await client.lost

        run(loop, main())


def test_stock_asyncio_client_against_our_server(loop: loop_core.EventLoop) -> None:
    async def main() -> None:
        server = await loop.create_server(Echo, "127.0.0.1", 0)
        async with server:
            address = server.sockets[0].getsockname()

            def client() -> bytes:
                async def talk() -> bytes:
                    reader, writer = await asyncio.open_connection(*address)
                    writer.write(b"from asyncio")
                    data = await reader.readexactly(12)
                    writer.close()
                    await writer.wait_closed()
                    return data

                return asyncio.run(talk())

            assert await loop.run_in_executor(None, client) == b"from asyncio"

    run(loop, main())


def test_thousand_concurrent_connections(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        server = await any_loop.create_server(Echo, "127.0.0.1", 0, backlog=1024)
        async with server:
            address = server.sockets[0].getsockname()

            async def one(i: int) -> bytes:
                transport, client = await any_loop.create_connection(Recorder, *address)
                message = f"{i:05d}".encode()
                transport.write(message)
                while len(client.data) < len(message):
                    await asyncio.sleep(0.005)
                transport.close()
                await client.lost
                return bytes(client.data)

            answers = await asyncio.gather(*(one(i) for i in range(1000)))
            assert answers == [f"{i:05d}".encode() for i in range(1000)]

    run(any_loop, main())


def test_an_unclosed_transport_warns_and_closes_its_socket(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    # Reading paused, nothing but the application holds the transport: once
    # it lets go, the collector finds it unclosed.
    async def main() -> tuple[socket.socket, socket.socket]:
        ours, peer = socket.socketpair()
        ours.setblocking(False)
        transport, _ = await any_loop.connect_accepted_socket(asyncio.Protocol, ours)
        assert isinstance(transport, asyncio.ReadTransport)
        transport.pause_reading()
        return ours, peer

    ours, peer = run(any_loop, main())
    with peer, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()
        unclosed = [w for w in caught if "unclosed transport" in str(w.message)]
        assert len(unclosed) == 1
        assert unclosed[0].category is ResourceWarning
        assert ours.fileno() == -1
        assert peer.recv(10) == b""  # the peer sees the end of the connection
