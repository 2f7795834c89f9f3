"""Datagram endpoints over UDP and Unix datagram sockets."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
from collections.abc import Coroutine
from typing import Any

import pytest

import loop_core


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> Any:
    return loop.run_until_complete(asyncio.wait_for(coro, 30))


class Datagrams(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[bytes, Any]] = asyncio.Queue()
        self.errors: asyncio.Queue[Exception] = asyncio.Queue()
        self.lost = asyncio.get_event_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not an isinstance check: stock asyncio's datagram transport is no
        # asyncio.DatagramTransport on every Python.
        self.transport: Any = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.queue.put_nowait((data, addr))

    def error_received(self, exc: Exception) -> None:
        self.errors.put_nowait(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.set_result(exc)


def test_udp_echo_between_endpoints(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        server, receiver = await any_loop.create_datagram_endpoint(
            Datagrams, local_addr=("127.0.0.1", 0)
        )
        address = server.get_extra_info("sockname")
        client, sender = await any_loop.create_datagram_endpoint(Datagrams, remote_addr=address)
        assert client.get_extra_info("peername") == address
        for n in range(10):
            client.sendto(f"datagram {n}".encode())
        for n in range(10):
            data, source = await receiver.queue.get()
            assert data == f"datagram {n}".encode()
            server.sendto(data.upper(), source)
            assert (await sender.queue.get())[0] == data.upper()
        largest = os.urandom(65507)  # the most an IPv4 UDP datagram carries
        client.sendto(largest)
        assert (await receiver.queue.get())[0] == largest
        if isinstance(any_loop, loop_core.EventLoop) or sys.version_info >= (3, 13):
            client.sendto(b"")  # an empty datagram is a datagram (asyncio before 3.13 drops it)
            assert (await receiver.queue.get())[0] == b""
        with pytest.raises(ValueError, match="Invalid address"):
            client.sendto(b"elsewhere", ("127.0.0.1", 9))
        with pytest.raises(TypeError):
            client.sendto("text")  # type: ignore[arg-type]
        client.close()
        server.close()
        assert await sender.lost is None
        assert await receiver.lost is None

    run(any_loop, main())


def test_refused_datagram_reaches_error_received(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            dead = probe.getsockname()
        client, sender = await any_loop.create_datagram_endpoint(Datagrams, remote_addr=dead)
        client.sendto(b"anyone?")
        await asyncio.sleep(0.05)
        client.sendto(b"anyone?")  # the ICMP error shows up on a later call
        exc = await sender.errors.get()
        assert isinstance(exc, ConnectionRefusedError)
        assert not client.is_closing()
        client.close()
        await sender.lost

    run(any_loop, main())


def test_unix_datagrams(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main(directory: str) -> None:
        server_path = os.path.join(directory, "server")
        client_path = os.path.join(directory, "client")
        server, receiver = await any_loop.create_datagram_endpoint(
            Datagrams, local_addr=server_path, family=socket.AF_UNIX
        )
        client, _ = await any_loop.create_datagram_endpoint(
            Datagrams, local_addr=client_path, remote_addr=server_path, family=socket.AF_UNIX
        )
        client.sendto(b"unix datagram")
        assert await receiver.queue.get() == (b"unix datagram", client_path)
        big = os.urandom(150_000)  # Unix datagrams may exceed IP's 64 KiB
        client.sendto(big)
        assert await receiver.queue.get() == (big, client_path)
        client.close()
        server.close()
        await asyncio.sleep(0.01)

    with tempfile.TemporaryDirectory() as directory:
        run(any_loop, main(directory))


def test_bad_arguments(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        with pytest.raises(ValueError, match="unexpected address family"):
            await any_loop.create_datagram_endpoint(Datagrams)
        with pytest.raises(TypeError, match="reuse_address"):  # gone since Python 3.11
            await any_loop.create_datagram_endpoint(
                Datagrams, local_addr=("127.0.0.1", 0), reuse_address=True
            )
        with (
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
            pytest.raises(ValueError, match="socket modifier"),
        ):
            await any_loop.create_datagram_endpoint(
                Datagrams, sock=sock, local_addr=("127.0.0.1", 0)
            )
        with (
            socket.socket() as stream,
            pytest.raises(ValueError, match=r"(UDP Socket|datagram socket) was expected"),
        ):
            await any_loop.create_datagram_endpoint(Datagrams, sock=stream)

    run(any_loop, main())


def test_broadcast_and_given_socket(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        transport, _ = await any_loop.create_datagram_endpoint(
            Datagrams, local_addr=("127.0.0.1", 0), allow_broadcast=True
        )
        sock = transport.get_extra_info("socket")
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST)
        transport.close()
        own = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        own.bind(("127.0.0.1", 0))
        transport, _ = await any_loop.create_datagram_endpoint(Datagrams, sock=own)
        assert transport.get_extra_info("sockname") == own.getsockname()
        transport.close()
        await asyncio.sleep(0.01)

    run(any_loop, main())


def test_datagram_transport_is_a_transport_that_pauses_reading(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    # Stock asyncio's datagram transport is an asyncio.Transport (CPython's
    # own tests assert it), with pause_reading/resume_reading.
    async def main() -> None:
        transport, receiver = await any_loop.create_datagram_endpoint(
            Datagrams, local_addr=("127.0.0.1", 0)
        )
        assert isinstance(transport, asyncio.Transport)
        assert transport.is_reading()
        transport.pause_reading()
        assert not transport.is_reading()
        address = transport.get_extra_info("sockname")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for n in range(3):
                sender.sendto(b"%d" % n, address)
            await asyncio.sleep(0.05)
            assert receiver.queue.empty()  # held by the kernel meanwhile
            transport.resume_reading()
            got = [(await receiver.queue.get())[0] for _ in range(3)]
        assert got == [b"0", b"1", b"2"]
        with pytest.raises(NotImplementedError):
            transport.write(b"no stream here")  # sendto() is how datagrams go
        if isinstance(any_loop, loop_core.EventLoop):
            assert not transport.can_write_eof()  # stock's raises NotImplementedError
        transport.close()
        assert await receiver.lost is None

    run(any_loop, main())


@pytest.mark.parametrize("stop", ["pause", "close"])
def test_a_protocol_that_stops_reading_mid_burst_gets_no_more(
    any_loop: asyncio.AbstractEventLoop, stop: str
) -> None:
    # Several queued datagrams are read per readiness event; pausing or
    # closing from datagram_received must still end the delivery at once.
    class StopsAtFive(Datagrams):
        def datagram_received(self, data: bytes, addr: Any) -> None:
            super().datagram_received(data, addr)
            if self.queue.qsize() == 5:
                if stop == "pause":
                    self.transport.pause_reading()
                else:
                    self.transport.close()

    async def main() -> None:
        transport, receiver = await any_loop.create_datagram_endpoint(
            StopsAtFive, local_addr=("127.0.0.1", 0)
        )
        address = transport.get_extra_info("sockname")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for round_ in range(3):  # the burst grows from one read per event
                for n in range(40):
                    sender.sendto(b"%d" % (round_ * 40 + n), address)
                await asyncio.sleep(0.05)
                if receiver.queue.qsize() >= 5:
                    break
                while not receiver.queue.empty():  # not stopped yet: start over
                    receiver.queue.get_nowait()
            assert receiver.queue.qsize() == 5
            await asyncio.sleep(0.05)
            assert receiver.queue.qsize() == 5
            if stop == "pause":
                assert isinstance(transport, asyncio.Transport)  # one that pauses (see above)
                transport.resume_reading()
                await asyncio.sleep(0.05)
                assert receiver.queue.qsize() > 5
                transport.close()
            assert await receiver.lost is None

    run(any_loop, main())


def test_bursts_of_datagrams_arrive_whole_and_in_order(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    async def main() -> None:
        transport, receiver = await any_loop.create_datagram_endpoint(
            Datagrams, local_addr=("127.0.0.1", 0)
        )
        address = transport.get_extra_info("sockname")
        sent = [os.urandom(n % 700 + 1) for n in range(200)]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
            for batch in range(0, 200, 50):
                for payload in sent[batch : batch + 50]:
                    sender.sendto(payload, address)
                await asyncio.sleep(0.01)
            got = [(await receiver.queue.get())[0] for _ in range(200)]
        assert got == sent
        transport.close()

    run(any_loop, main())
