"""Servers: lifecycle, several hosts, Unix socket files, bad input; on our loop and asyncio."""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import struct
import sys
import tempfile
import warnings
from collections.abc import Coroutine
from typing import Any, ClassVar

import pytest

import loop_core
from loop_core.testing.leaks import freed_without_collector
from loop_transports._servers import Server


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> Any:
    return loop.run_until_complete(asyncio.wait_for(coro, 30))


class Hold(asyncio.Protocol):
    """Keeps the connection open and remembers its transport."""

    instances: ClassVar[list[Hold]] = []

    def __init__(self) -> None:
        self.lost = asyncio.get_event_loop().create_future()
        Hold.instances.append(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.set_result(exc)


def has_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def test_start_serving_later_and_serve_forever_cancellation(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    async def main() -> None:
        server = await any_loop.create_server(Hold, "127.0.0.1", 0, start_serving=False)
        assert not server.is_serving()
        assert server.get_loop() is any_loop
        await server.start_serving()
        assert server.is_serving()
        forever = asyncio.ensure_future(server.serve_forever())
        await asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="already being awaited"):
            await server.serve_forever()
        forever.cancel()
        with pytest.raises(asyncio.CancelledError):
            await forever
        assert not server.is_serving()
        assert not server.sockets
        with pytest.raises(RuntimeError, match="is closed"):
            await server.serve_forever()

    run(any_loop, main())


def test_wait_closed_follows_the_running_python(any_loop: asyncio.AbstractEventLoop) -> None:
    # From 3.12 wait_closed waits for the accepted connections; 3.11 code that
    # closes a server with clients connected relies on it returning at once.
    async def main() -> None:
        Hold.instances.clear()
        server = await any_loop.create_server(Hold, "127.0.0.1", 0)
        client, _ = await any_loop.create_connection(Hold, *server.sockets[0].getsockname())
        while len(Hold.instances) < 2:
            await asyncio.sleep(0.001)
        server.close()
        waiting = asyncio.ensure_future(server.wait_closed())
        await asyncio.sleep(0.05)
        # Before 3.12 it is done; from 3.12 the accepted connection holds it.
        assert waiting.done() is (sys.version_info < (3, 12))
        client.close()
        await waiting

    run(any_loop, main())


def test_close_and_abort_clients(loop: loop_core.EventLoop) -> None:
    # close_clients/abort_clients are 3.13 API: ours has them on every Python.
    async def main() -> None:
        Hold.instances.clear()
        server = await loop.create_server(Hold, "127.0.0.1", 0)
        assert isinstance(server, Server)  # close_clients() is asyncio's from 3.13 on
        address = server.sockets[0].getsockname()
        clients = [await loop.create_connection(Hold, *address) for _ in range(4)]
        while len(Hold.instances) < 8:
            await asyncio.sleep(0.001)
        server_sides = [h for h in Hold.instances if h not in {c[1] for c in clients}]
        server.close_clients()
        for held in server_sides:
            assert await held.lost is None
        for transport, _ in clients:
            transport.close()
        server.abort_clients()  # nothing left: a no-op
        server.close()
        await server.wait_closed()

    run(loop, main())


def test_several_hosts_and_reuse_port(any_loop: asyncio.AbstractEventLoop) -> None:
    hosts = ["127.0.0.1"] + (["::1"] if has_ipv6_loopback() else [])

    async def main() -> None:
        server = await any_loop.create_server(Hold, hosts, 0, reuse_port=True)
        families = {s.family for s in server.sockets}
        assert len(server.sockets) == len(hosts)
        assert socket.AF_INET in families
        for sock in server.sockets:
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
        server.close()
        await server.wait_closed()

    run(any_loop, main())


def test_port_in_use_names_the_address(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        server = await any_loop.create_server(Hold, "127.0.0.1", 0, reuse_address=False)
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(OSError, match=rf"127\.0\.0\.1.*{port}") as caught:
            await any_loop.create_server(Hold, "127.0.0.1", port, reuse_address=False)
        assert caught.value.errno == 98 or sys.platform != "linux"  # EADDRINUSE
        server.close()
        await server.wait_closed()
        # The loop is fine afterwards.
        await asyncio.sleep(0)

    run(any_loop, main())


def test_bad_arguments(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        with pytest.raises(ValueError, match="Neither host/port nor sock"):
            await any_loop.create_server(Hold)  # type: ignore[call-overload]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            with pytest.raises(ValueError, match="Stream Socket was expected"):
                await any_loop.create_server(Hold, sock=udp)
            with pytest.raises(ValueError, match="can not be specified at the same time"):
                await any_loop.create_server(Hold, "127.0.0.1", 0, sock=udp)  # type: ignore[call-overload]
        with pytest.raises(TypeError, match="SSLContext"):
            await any_loop.create_server(Hold, "127.0.0.1", 0, ssl=True)

    run(any_loop, main())


def test_unix_server_removes_its_socket_file(any_loop: asyncio.AbstractEventLoop) -> None:
    if sys.version_info < (3, 13) and not isinstance(any_loop, loop_core.EventLoop):
        pytest.skip("stock asyncio removes the socket file from 3.13 on")

    async def main(path: str) -> None:
        # A stale socket file from a dead server is replaced, not an error.
        with socket.socket(socket.AF_UNIX) as stale:
            stale.bind(path)
        server = await any_loop.create_unix_server(Hold, path)
        transport, held = await any_loop.create_unix_connection(Hold, path)
        assert transport.get_extra_info("peername") == path
        transport.close()
        await held.lost
        server.close()
        await server.wait_closed()
        assert not os.path.exists(path)

    with tempfile.TemporaryDirectory() as directory:
        run(any_loop, main(os.path.join(directory, "server.sock")))


def test_unix_server_path_in_use(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main(path: str) -> None:
        with open(path, "w"):
            pass  # a regular file is not ours to remove
        with pytest.raises(OSError, match="already in use"):
            await any_loop.create_unix_server(Hold, path)
        assert os.path.isfile(path)

    with tempfile.TemporaryDirectory() as directory:
        run(any_loop, main(os.path.join(directory, "taken")))


def test_unix_server_bad_path_leaks_no_socket(loop: loop_core.EventLoop) -> None:
    # The stale-file check fails before any socket exists (stock asyncio
    # leaves its socket to the collector here, "unclosed socket").
    async def main(path: str) -> None:
        with pytest.raises(ValueError, match="null"):
            await loop.create_unix_server(Hold, path)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with tempfile.TemporaryDirectory() as directory:
            run(loop, main(os.path.join(directory, "bad\0name")))
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_connect_accepted_socket(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            listener.setblocking(False)
            client, _ = await any_loop.create_connection(Hold, *listener.getsockname())
            accepted, _ = await any_loop.sock_accept(listener)
            transport, held = await any_loop.connect_accepted_socket(Hold, accepted)
            transport.write(b"from the accepted side")
            transport.close()
            await held.lost
            client.close()

    run(any_loop, main())


def test_closing_a_transport_closes_its_socket_as_socket_close_does(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    # A socket with a file of makefile() still open stays open until the file
    # closes; any other is closed with the transport. The accepted side is a
    # socket.socket like any other.
    async def main() -> None:
        accepted: asyncio.Future[asyncio.BaseTransport] = any_loop.create_future()

        class Accepted(Hold):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                super().connection_made(transport)
                accepted.set_result(transport)  # the only connection made

        server = await any_loop.create_server(Accepted, "127.0.0.1", 0)
        address = server.sockets[0].getsockname()
        client, held = await any_loop.create_connection(Hold, *address)
        served = await accepted
        served_socket = served.get_extra_info("socket")
        assert (served_socket.family, served_socket.type) == (socket.AF_INET, socket.SOCK_STREAM)
        assert served_socket.getpeername() == client.get_extra_info("sockname")
        served.close()

        plain, peer = socket.socketpair()
        with plain, peer:
            file = plain.makefile("rb")
            plain.setblocking(False)
            transport, kept = await any_loop.connect_accepted_socket(Hold, plain)
            transport.close()
            await kept.lost
            assert plain.fileno() != -1  # the file still holds it
            file.close()
            assert plain.fileno() == -1
            assert "[closed]" in repr(plain)
        client.close()
        await held.lost
        server.close()
        await server.wait_closed()

    run(any_loop, main())


class PausedAtStart(asyncio.Protocol):
    """Pauses reading in connection_made and records the order of events."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.got_data = asyncio.get_event_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.events.append("made")
        transport.pause_reading()

    def data_received(self, data: bytes) -> None:
        self.events.append(data.decode())
        if not self.got_data.done():
            self.got_data.set_result(None)


def test_data_sent_before_the_accept_waits_for_connection_made_and_pause(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    # The client's bytes are in the socket before the server even accepts:
    # they must still come after connection_made, and not at all while the
    # protocol has reading paused.
    protocols: list[PausedAtStart] = []

    def factory() -> PausedAtStart:
        protocols.append(PausedAtStart())
        return protocols[-1]

    async def main() -> None:
        server = await any_loop.create_server(factory, "127.0.0.1", 0)
        async with server:
            # No await between connecting and sending: the loop cannot
            # accept in between.
            with socket.create_connection(server.sockets[0].getsockname()) as client:
                client.sendall(b"early")
                while not protocols or not protocols[0].events:
                    await asyncio.sleep(0.001)
                for _ in range(20):  # several polls: the waiting data must stay put
                    await asyncio.sleep(0)
                assert protocols[0].events == ["made"]
                protocols[0].transport.resume_reading()
                await protocols[0].got_data
                assert protocols[0].events == ["made", "early"]
                protocols[0].transport.close()

    run(any_loop, main())


def test_accepted_connections_extra_info(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        server = await any_loop.create_server(Hold, "127.0.0.1", 0)
        async with server:
            Hold.instances.clear()
            address = server.sockets[0].getsockname()
            with socket.create_connection(address) as client:
                while not Hold.instances or not hasattr(Hold.instances[0], "transport"):
                    await asyncio.sleep(0.001)
                transport = Hold.instances[0].transport
                assert transport.get_extra_info("peername") == client.getsockname()
                assert transport.get_extra_info("sockname") == address
                sock = transport.get_extra_info("socket")
                assert sock.family == socket.AF_INET
                assert sock.type == socket.SOCK_STREAM
                assert sock.gettimeout() == 0.0
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                transport.close()
                await Hold.instances[0].lost

    run(any_loop, main())


class AddressesWhenLost(asyncio.Protocol):
    """Asks for the addresses only once the peer reset the connection."""

    def __init__(self) -> None:
        self.lost: asyncio.Future[tuple[Any, Any]] = asyncio.get_event_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        info = self.transport.get_extra_info
        self.lost.set_result((info("sockname"), info("peername")))


def test_addresses_are_known_in_connection_lost_after_a_reset(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    # As in asyncio, where both are read when the transport is made: a reset
    # peer must not take them away from a connection_lost that logs them.
    async def main() -> None:
        protocols: list[AddressesWhenLost] = []

        def factory() -> AddressesWhenLost:
            protocols.append(AddressesWhenLost())
            return protocols[-1]

        server = await any_loop.create_server(factory, "127.0.0.1", 0)
        async with server:
            address = server.sockets[0].getsockname()
            client = socket.create_connection(address)
            client_address = client.getsockname()
            while not protocols or not hasattr(protocols[0], "transport"):
                await asyncio.sleep(0.001)
            # SO_LINGER with a zero timeout: close() sends a reset.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
            sockname, peername = await asyncio.wait_for(protocols[0].lost, 5)
            assert sockname == address
            assert peername == client_address

    run(any_loop, main())


def test_a_burst_of_queued_connections_is_accepted(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        server = await any_loop.create_server(Hold, "127.0.0.1", 0, backlog=64)
        async with server:
            Hold.instances.clear()
            address = server.sockets[0].getsockname()
            # All queued in the backlog before the loop polls the listener.
            clients = [socket.create_connection(address) for _ in range(50)]
            try:
                # asyncio makes the protocol before its connection_made runs.
                while len(Hold.instances) < 50 or not all(
                    hasattr(held, "transport") for held in Hold.instances
                ):
                    await asyncio.sleep(0.001)
                for held in Hold.instances:
                    held.transport.close()
                await asyncio.gather(*(held.lost for held in Hold.instances))
            finally:
                for client in clients:
                    client.close()

    run(any_loop, main())


class FailsToStart(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        raise ZeroDivisionError("connection_made failed")


def test_failing_connection_made_reaches_the_exception_handler(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    # A server protocol's bug must be heard (asyncio: "Exception in callback
    # ..."), and the server goes on accepting.
    contexts: list[dict[str, Any]] = []
    any_loop.set_exception_handler(lambda _, context: contexts.append(context))

    async def main() -> None:
        Hold.instances.clear()
        factories = iter([FailsToStart(), Hold()])
        server = await any_loop.create_server(factories.__next__, "127.0.0.1", 0)
        address = server.sockets[0].getsockname()
        first, _ = await any_loop.create_connection(asyncio.Protocol, *address)
        while not contexts:
            await asyncio.sleep(0.001)
        second, _ = await any_loop.create_connection(asyncio.Protocol, *address)
        while not Hold.instances or not hasattr(Hold.instances[0], "transport"):
            await asyncio.sleep(0.001)
        first.close()
        second.close()
        await Hold.instances[0].lost
        server.close()
        await server.wait_closed()

    run(any_loop, main())
    [context] = contexts
    assert isinstance(context["exception"], ZeroDivisionError)
    assert context["message"].startswith("Exception in callback")
    assert "handle" in context


def test_a_closed_loop_that_served_goes_without_the_cycle_collector() -> None:
    # Transports, servers and the executor leave no cycle through the loop.
    async def serve(loop: asyncio.AbstractEventLoop) -> None:
        server = await loop.create_server(Hold, "127.0.0.1", 0)
        transport, _ = await loop.create_connection(Hold, *server.sockets[0].getsockname())
        transport.close()
        server.close()
        await server.wait_closed()
        assert await loop.run_in_executor(None, sum, [1, 2]) == 3

    def use(made: asyncio.AbstractEventLoop) -> None:
        run(made, serve(made))
        made.run_until_complete(made.shutdown_default_executor())
        made.close()
        Hold.instances.clear()  # their futures hold the loop

    assert freed_without_collector(loop_core.new_event_loop, use)


def test_a_burst_of_clients_is_accepted_in_one_iteration(loop: loop_core.EventLoop) -> None:
    # Connections already queued when the listener turns readable are taken
    # together (up to ACCEPTS_PER_EVENT), not one per loop iteration.
    made: list[asyncio.Protocol] = []

    def factory() -> asyncio.Protocol:
        made.append(asyncio.Protocol())
        return made[-1]

    server = run(loop, loop.create_server(factory, "127.0.0.1", 0))
    address = server.sockets[0].getsockname()
    clients = [socket.create_connection(address) for _ in range(5)]
    try:
        loop.call_soon(loop.stop)
        loop.run_forever()  # one iteration
        assert len(made) == 5
    finally:
        for client in clients:
            client.close()
        server.close()
        run(loop, server.wait_closed())
