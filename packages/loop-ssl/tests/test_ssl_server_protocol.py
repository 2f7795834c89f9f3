"""A TLS server's accepted connections: ``loop.tls_server_protocol`` serves
each one without a task, and what nobody awaits is still reported."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from loop_core import EventLoop
from loop_core.extensions import discover_extensions
from loop_core.interfaces import TLSServingLoop
from loop_transports import open_connection


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> Any:
    return loop.run_until_complete(asyncio.wait_for(coro, 60))


class Echo(asyncio.Protocol):
    """Echoes what it receives; records the transport it was given."""

    transports: list[asyncio.BaseTransport]

    def __init__(self) -> None:
        self.transports = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.transports.append(transport)

    def data_received(self, data: bytes) -> None:
        assert isinstance(self.transport, asyncio.WriteTransport)
        self.transport.write(data)


async def echoed(port: int, client_context: ssl.SSLContext, line: bytes) -> bytes:
    reader, writer = await open_connection(
        "127.0.0.1", port, ssl=client_context, server_hostname="localhost"
    )
    writer.write(line)
    answer = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return answer


def recording_handler(loop: asyncio.AbstractEventLoop) -> list[dict[str, Any]]:
    contexts: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _, context: contexts.append(context))
    return contexts


def test_the_connection_gets_the_tls_transport_and_the_server_makes_no_task_for_it(
    loop: EventLoop, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    made: list[asyncio.Task[Any]] = []

    def counting_factory(
        owner: asyncio.AbstractEventLoop, coro: Any, **options: Any
    ) -> asyncio.Task[Any]:
        task = asyncio.Task(coro, loop=owner, **options)
        made.append(task)
        return task

    protocols: list[Echo] = []

    def factory() -> Echo:
        protocols.append(Echo())
        return protocols[-1]

    async def serve(clients: int) -> int:
        before = len(made)
        server = await loop.create_server(factory, "127.0.0.1", 0, ssl=server_context)
        async with server:
            port = server.sockets[0].getsockname()[1]
            for number in range(clients):
                line = f"client {number}\n".encode()
                assert await echoed(port, client_context, line) == line
        return len(made) - before

    loop.set_task_factory(counting_factory)
    # With a task per connection, five clients would make four more than one.
    assert run(loop, serve(1)) == run(loop, serve(5))
    assert len(protocols) == 6
    for protocol in protocols:
        [transport] = protocol.transports
        assert isinstance(transport, asyncio.Transport)
        assert isinstance(transport.get_extra_info("ssl_object"), ssl.SSLObject)
        assert transport.get_extra_info("peername")[0] == "127.0.0.1"


def test_tls_server_protocol_serves_a_socket_accepted_by_hand(
    loop: EventLoop, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    serving: TLSServingLoop = loop
    echo = Echo()

    async def main() -> None:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            listener.setblocking(False)
            port = listener.getsockname()[1]
            answer = asyncio.ensure_future(echoed(port, client_context, b"by hand\n"))
            conn, _ = await loop.sock_accept(listener)
            plain, layer = await loop.connect_accepted_socket(
                lambda: serving.tls_server_protocol(echo, server_context), conn
            )
            assert await answer == b"by hand\n"
            assert layer is not echo
            assert isinstance(echo.transport, asyncio.Transport)
            assert echo.transport is not plain
            assert echo.transport.get_extra_info("cipher") is not None

    run(loop, main())


def test_tls_server_protocol_refuses_bad_arguments(
    loop: EventLoop, server_context: ssl.SSLContext
) -> None:
    with pytest.raises(TypeError, match="SSLContext"):
        loop.tls_server_protocol(Echo(), "not a context")  # type: ignore[arg-type]
    for name in ("ssl_handshake_timeout", "ssl_shutdown_timeout"):
        for value in (0, -1.0):
            with pytest.raises(ValueError, match=name):
                loop.tls_server_protocol(Echo(), server_context, **{name: value})
    assert loop.run_until_complete(asyncio.sleep(0, "still running")) == "still running"


async def plaintext_peer(port: int, loop: asyncio.AbstractEventLoop) -> bytes:
    """A client that speaks HTTP to a TLS server; what it hears back."""

    def work() -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            received = b""
            try:
                while chunk := sock.recv(65536):
                    received += chunk
            except ConnectionResetError:
                pass
            return received

    return await loop.run_in_executor(None, work)


@pytest.mark.parametrize("debug", [False, True], ids=["quiet", "debug"])
def test_a_failed_handshake_is_reported_only_when_debugging(
    any_loop: asyncio.AbstractEventLoop,
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
    debug: bool,
) -> None:
    # As asyncio's servers do: a bad peer is not the server's bug.
    any_loop.set_debug(debug)
    contexts = recording_handler(any_loop)

    async def main() -> None:
        server = await any_loop.create_server(Echo, "127.0.0.1", 0, ssl=server_context)
        async with server:
            port = server.sockets[0].getsockname()[1]
            assert b"HTTP" not in await plaintext_peer(port, any_loop)
            assert await echoed(port, client_context, b"next\n") == b"next\n"

    run(any_loop, main())
    failures = [c for c in contexts if c["message"].startswith("Error on transport creation")]
    if debug:
        assert failures, contexts
        assert isinstance(failures[0]["exception"], ssl.SSLError)
    else:
        assert contexts == []


def test_a_failing_protocol_factory_of_a_tls_server_is_reported(
    loop: EventLoop, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    contexts = recording_handler(loop)
    failures = iter([True])

    def factory() -> Echo:
        if next(failures, False):
            raise ZeroDivisionError("no protocol today")
        return Echo()

    async def main() -> None:
        server = await loop.create_server(factory, "127.0.0.1", 0, ssl=server_context)
        async with server:
            port = server.sockets[0].getsockname()[1]
            with pytest.raises((ConnectionError, ssl.SSLError)):
                await echoed(port, client_context, b"lost\n")
            assert await echoed(port, client_context, b"served\n") == b"served\n"

    run(loop, main())
    [context] = contexts
    assert context["message"] == "Error on transport creation for incoming connection"
    assert isinstance(context["exception"], ZeroDivisionError)


def test_a_server_on_another_loop_serves_tls_through_loop_ssl_too(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    # loop-transports' server on asyncio's own loop, which has no
    # tls_server_protocol: loop-ssl's layer serves each connection all the
    # same (asyncio's start_tls, in a task, would hand the first data to
    # the protocol before its connection_made).
    network: Callable[[asyncio.AbstractEventLoop], Any] = discover_extensions()["network"]
    foreign = asyncio.new_event_loop()
    assert not hasattr(foreign, "tls_server_protocol")
    echoes: list[Echo] = []

    def factory() -> Echo:
        echoes.append(Echo())
        return echoes[-1]

    async def main() -> None:
        server = await network(foreign).create_server(
            foreign, factory, "127.0.0.1", 0, ssl=server_context
        )
        async with server:
            port = server.sockets[0].getsockname()[1]
            tasks = len(asyncio.all_tasks())
            answer = asyncio.ensure_future(echoed(port, client_context, b"served\n"))
            while not echoes:
                await asyncio.sleep(0.001)
            assert len(asyncio.all_tasks()) == tasks + 1  # the client's, no other
            assert await answer == b"served\n"
            assert isinstance(echoes[0].transport.get_extra_info("ssl_object"), ssl.SSLObject)

    try:
        run(foreign, main())
    finally:
        foreign.close()


def test_a_client_on_another_loop_hears_the_server_after_its_connection_made(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    # loop-transports' create_connection on asyncio's own loop, against a
    # TLS 1.2 server that speaks first: its greeting comes in the same read
    # as its Finished message. Upgraded by asyncio's start_tls, the client's
    # protocol got it before connection_made; loop-ssl's layer is used.
    server_context.maximum_version = ssl.TLSVersion.TLSv1_2
    network: Callable[[asyncio.AbstractEventLoop], Any] = discover_extensions()["network"]
    foreign = asyncio.new_event_loop()

    class Greeter(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(b"hello\n")

    class Client(asyncio.Protocol):
        def __init__(self) -> None:
            self.events: list[str] = []
            self.greeted = foreign.create_future()

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.events.append("connection_made")

        def data_received(self, data: bytes) -> None:
            self.events.append("data_received")
            if not self.greeted.done():
                self.greeted.set_result(data)

    async def main() -> list[str]:
        server = await foreign.create_server(Greeter, "127.0.0.1", 0, ssl=server_context)
        async with server:
            port = server.sockets[0].getsockname()[1]
            transport, client = await network(foreign).create_connection(
                foreign, Client, "127.0.0.1", port, ssl=client_context,
                server_hostname="localhost",
            )  # fmt: skip
            assert await client.greeted == b"hello\n"
            transport.close()
            return list(client.events)

    try:
        for _ in range(5):
            events = run(foreign, main())
            assert events[0] == "connection_made", events
    finally:
        foreign.close()
