"""create_connection: resolution, Happy Eyeballs, local addresses, errors."""

from __future__ import annotations

import asyncio
import gc
import socket
from collections.abc import Coroutine
from typing import Any

import pytest

import loop_core
from loop_core import MissingExtensionError
from loop_core.extensions import discover_extensions
from loop_transports._connect import _race, interleave_families


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> Any:
    return loop.run_until_complete(asyncio.wait_for(coro, 30))


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def info(family: int, n: int) -> tuple[int, int, int, str, Any]:
    return (family, socket.SOCK_STREAM, 6, "", (f"addr{n}", 80))


def test_interleave_families_alternates() -> None:
    six, four = socket.AF_INET6, socket.AF_INET
    infos = [info(six, 1), info(six, 2), info(six, 3), info(four, 4), info(four, 5)]
    ordered = interleave_families(infos, 1)
    assert [i[4][0] for i in ordered] == ["addr1", "addr4", "addr2", "addr5", "addr3"]
    ordered = interleave_families(infos, 2)
    assert [i[4][0] for i in ordered] == ["addr1", "addr2", "addr4", "addr3", "addr5"]
    assert interleave_families([], 1) == []


def test_unresolvable_host_is_a_gaierror(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        with pytest.raises(socket.gaierror):
            await any_loop.create_connection(asyncio.Protocol, "no-such-host.invalid", 80)
        await asyncio.sleep(0)  # the loop goes on

    run(any_loop, main())


def test_refused_connection(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        with pytest.raises(ConnectionRefusedError):
            await any_loop.create_connection(asyncio.Protocol, "127.0.0.1", closed_port())

    run(any_loop, main())


@pytest.mark.parametrize("port", [70000, 65536, -1, "70000"])
def test_ports_out_of_range_are_refused(any_loop: asyncio.AbstractEventLoop, port: Any) -> None:
    # getaddrinfo wraps a port modulo 65536 (70000 would listen on 4464): the
    # check must come first, with the OverflowError asyncio raises.
    async def main() -> None:
        with pytest.raises(OverflowError, match="port must be 0-65535"):
            await any_loop.create_server(asyncio.Protocol, "127.0.0.1", port)
        with pytest.raises(OverflowError, match="port must be 0-65535"):
            await any_loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
        with pytest.raises(OverflowError, match="port must be 0-65535"):
            await any_loop.create_connection(
                asyncio.Protocol, "127.0.0.1", closed_port(), local_addr=("127.0.0.1", port)
            )
        with pytest.raises(OverflowError, match="port must be 0-65535"):
            await any_loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, local_addr=("127.0.0.1", port)
            )
        with pytest.raises(OverflowError, match="port must be 0-65535"):
            await any_loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, remote_addr=("127.0.0.1", port)
            )
        # The loop goes on.
        server = await any_loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
        server.close()
        await server.wait_closed()

    run(any_loop, main())


@pytest.mark.parametrize("happy_eyeballs_delay", [None, 0.05])
def test_a_failed_connect_leaves_no_reference_cycle(
    any_loop: asyncio.AbstractEventLoop, happy_eyeballs_delay: float | None
) -> None:
    # The failure's traceback holds the frames it passed through; none of
    # them may hold the failure back (through a list of errors, a future),
    # or it stays, with its frames and sockets, until the collector runs.
    # anyio checks exactly this (its test_happy_eyeballs_refcycles).
    async def main() -> None:
        failures: list[OSError] = []

        async def attempt() -> None:
            try:
                await any_loop.create_connection(
                    asyncio.Protocol,
                    "127.0.0.1",
                    closed_port(),
                    happy_eyeballs_delay=happy_eyeballs_delay,
                )
            except OSError as exc:
                failures.append(exc)

        await asyncio.ensure_future(attempt())
        await asyncio.sleep(0)  # the callbacks that carried the failure have run
        referrers = gc.get_referrers(failures[0])
        if isinstance(any_loop, loop_core.EventLoop) or happy_eyeballs_delay is None:
            # (stock 3.11's Happy Eyeballs path still leaves cycles)
            assert referrers == [failures]

    run(any_loop, main())


def localhost_addresses(port: int) -> list[Any]:
    """Where 'localhost' resolves to both ::1 and 127.0.0.1, a first address
    that refuses and a second that may answer come from the real resolver."""
    try:
        infos = socket.getaddrinfo("localhost", port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return []
    return infos


@pytest.mark.parametrize("delay", [None, 0.05])
def test_falls_through_to_the_address_that_answers(
    loop: loop_core.EventLoop, delay: float | None
) -> None:
    async def main() -> None:
        server = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        infos = localhost_addresses(port)
        if len(infos) < 2 or infos[0][4][0] != "::1":
            server.close()
            pytest.skip("'localhost' does not resolve to ::1 and then 127.0.0.1 here")
        # ::1 refuses (the server listens on IPv4 only); 127.0.0.1 must win.
        transport, _ = await loop.create_connection(
            asyncio.Protocol, "localhost", port, happy_eyeballs_delay=delay
        )
        assert transport.get_extra_info("peername") == ("127.0.0.1", port)
        transport.close()
        server.close()
        await server.wait_closed()

    run(loop, main())


def test_all_errors_and_multiple_exceptions(loop: loop_core.EventLoop) -> None:
    port = closed_port()
    if len(localhost_addresses(port)) < 2:
        pytest.skip("'localhost' resolves to a single address here")

    async def main() -> None:
        with pytest.raises(ExceptionGroup) as group:
            await loop.create_connection(asyncio.Protocol, "localhost", port, all_errors=True)
        assert len(group.value.exceptions) == 2
        assert all(isinstance(e, ConnectionRefusedError) for e in group.value.exceptions)
        with pytest.raises(OSError, match="Multiple exceptions") as plain:
            await loop.create_connection(asyncio.Protocol, "localhost", port)
        assert type(plain.value) is OSError

    run(loop, main())


def test_local_addr_and_sock(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        server = await any_loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
        address = server.sockets[0].getsockname()
        transport, _ = await any_loop.create_connection(
            asyncio.Protocol, *address, local_addr=("127.0.0.1", 0)
        )
        assert transport.get_extra_info("sockname")[0] == "127.0.0.1"
        transport.close()
        sock = socket.create_connection(address)
        sock.setblocking(False)
        transport, _ = await any_loop.create_connection(asyncio.Protocol, sock=sock)
        assert transport.get_extra_info("socket").fileno() == sock.fileno()
        transport.close()
        server.close()
        await server.wait_closed()

    run(any_loop, main())


def test_bad_arguments(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        with pytest.raises(ValueError, match="server_hostname is only meaningful with ssl"):
            await any_loop.create_connection(
                asyncio.Protocol, "127.0.0.1", 1, server_hostname="example.org"
            )
        with pytest.raises(ValueError, match="host and port was not specified"):
            await any_loop.create_connection(asyncio.Protocol)
        with (
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
            pytest.raises(ValueError, match="Stream Socket was expected"),
        ):
            await any_loop.create_connection(asyncio.Protocol, sock=udp)

    run(any_loop, main())


def test_ssl_without_loop_ssl_names_the_package(loop: loop_core.EventLoop) -> None:
    if "tls" in discover_extensions():
        pytest.skip("loop-ssl is installed")

    async def main() -> None:
        server = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
        with pytest.raises(MissingExtensionError, match="loop-ssl"):
            await loop.create_connection(
                asyncio.Protocol, *server.sockets[0].getsockname(), ssl=True
            )
        server.close()
        await server.wait_closed()

    run(loop, main())


@pytest.mark.parametrize("delay", [None, 0.0, 0.05])
def test_race_over_real_addresses(any_loop: asyncio.AbstractEventLoop, delay: float | None) -> None:
    # The address list as getaddrinfo would give it: a refusing one first.
    async def main() -> None:
        server = await any_loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
        live = server.sockets[0].getsockname()
        infos: list[Any] = [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", closed_port())),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", live),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", closed_port())),
        ]
        errors: list[OSError] = []
        winner = await _race(any_loop, infos, None, delay, errors)
        assert winner is not None
        assert winner.getpeername() == live
        assert all(isinstance(e, ConnectionRefusedError) for e in errors)
        winner.close()
        errors.clear()
        assert await _race(any_loop, [infos[0], infos[2]], None, delay, errors) is None
        assert len(errors) == 2
        server.close()
        await server.wait_closed()

    run(any_loop, main())


class Greeted(asyncio.Protocol):
    def __init__(self) -> None:
        self.events: list[str] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.events.append("made")

    def data_received(self, data: bytes) -> None:
        self.events.append(data.decode())


def test_create_connection_returns_before_the_first_data_received(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    # As in asyncio: even when the peer's first bytes are already waiting,
    # the task that awaits create_connection resumes before data_received,
    # so it can finish setting the protocol up.
    async def main() -> None:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            sock = socket.create_connection(listener.getsockname())
            peer, _ = listener.accept()
            with peer:
                peer.sendall(b"hello")
                sock.settimeout(5)
                assert sock.recv(5, socket.MSG_PEEK) == b"hello"  # waiting in the socket
                transport, protocol = await any_loop.create_connection(Greeted, sock=sock)
                assert protocol.events == ["made"]
                while len(protocol.events) < 2:
                    await asyncio.sleep(0.001)
                assert protocol.events == ["made", "hello"]
                transport.close()

    run(any_loop, main())
