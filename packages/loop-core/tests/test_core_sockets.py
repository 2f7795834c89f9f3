"""The loop's low-level socket coroutines against real loopback peers."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from loop_core import EventLoop


@contextlib.contextmanager
def _nonblocking_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair()
    with left, right:
        left.setblocking(False)
        right.setblocking(False)
        yield left, right


@contextlib.contextmanager
def _udp_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b,
    ):
        for sock in (a, b):
            sock.bind(("127.0.0.1", 0))
            sock.setblocking(False)
        yield a, b


async def _tcp_pair(loop: EventLoop) -> tuple[socket.socket, socket.socket, socket.socket]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    client = socket.socket()
    client.setblocking(False)
    accepted, (connected, _) = await asyncio.gather(
        loop.sock_connect(client, listener.getsockname()), loop.sock_accept(listener)
    )
    del accepted
    return listener, client, connected


def test_tcp_echo_round_trip(loop: EventLoop) -> None:
    async def main() -> bytes:
        listener, client, server = await _tcp_pair(loop)
        with listener, client, server:
            payload = b"x" * 3_000_000  # larger than the socket buffers
            sender = loop.create_task(loop.sock_sendall(client, payload))
            received = bytearray()
            while len(received) < len(payload):
                chunk = await loop.sock_recv(server, 65536)
                assert chunk
                received += chunk
            await sender
            return bytes(received)

    assert len(loop.run_until_complete(main())) == 3_000_000


def test_recv_into_and_eof(loop: EventLoop) -> None:
    async def main() -> tuple[int, bytes, int]:
        listener, client, server = await _tcp_pair(loop)
        with listener, client, server:
            buffer = bytearray(16)
            loop.call_later(0.01, client.send, b"hello")
            count = await loop.sock_recv_into(server, buffer)
            client.shutdown(socket.SHUT_WR)
            eof = await loop.sock_recv_into(server, buffer)
            return count, bytes(buffer[:count]), eof

    assert loop.run_until_complete(main()) == (5, b"hello", 0)


def test_udp_sendto_and_recvfrom(loop: EventLoop) -> None:
    async def main() -> tuple[bytes, int]:
        with _udp_pair() as (a, b):
            waiting = loop.create_task(loop.sock_recvfrom(b, 100))
            await asyncio.sleep(0)
            await loop.sock_sendto(a, b"datagram", b.getsockname())
            data, address = await waiting
            assert address == a.getsockname()
            buffer = bytearray(100)
            await loop.sock_sendto(a, b"again", b.getsockname())
            count, _ = await loop.sock_recvfrom_into(b, buffer)
            return data, count

    assert loop.run_until_complete(main()) == (b"datagram", 5)


def test_unix_socket_pair(loop: EventLoop) -> None:
    async def main() -> bytes:
        with _nonblocking_pair() as (left, right):
            await loop.sock_sendall(left, b"unix")
            return await loop.sock_recv(right, 10)

    assert loop.run_until_complete(main()) == b"unix"


def test_connect_refused_raises(loop: EventLoop) -> None:
    async def main() -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with socket.socket() as client:
            client.setblocking(False)
            await loop.sock_connect(client, ("127.0.0.1", port))

    with pytest.raises(ConnectionRefusedError):
        loop.run_until_complete(main())


def test_cancelled_recv_stops_watching(loop: EventLoop) -> None:
    async def main() -> None:
        left, right = socket.socketpair()
        with left, right:
            right.setblocking(False)
            task = loop.create_task(loop.sock_recv(right, 10))
            await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert right.fileno() not in loop._readers

    loop.run_until_complete(main())


def test_blocking_socket_is_rejected(loop: EventLoop) -> None:
    async def main() -> None:
        with socket.socket() as blocking:
            await loop.sock_recv(blocking, 1)

    with pytest.raises(ValueError, match="non-blocking"):
        loop.run_until_complete(main())


def test_non_socket_is_rejected(loop: EventLoop) -> None:
    async def main() -> None:
        await loop.sock_recv(42, 1)  # type: ignore[arg-type]

    with pytest.raises(TypeError, match=r"socket\.socket"):
        loop.run_until_complete(main())


def test_large_requests_return_exactly_what_arrived(loop: EventLoop) -> None:
    # Requests between 64 and 256 KiB read through a per-thread scratch
    # buffer: each result must be its own bytes object of the received size.
    async def main() -> None:
        with _nonblocking_pair() as (left, right):
            await loop.sock_sendall(left, b"first")
            first = await loop.sock_recv(right, 256 * 1024)  # data already there
            waiting = loop.create_task(loop.sock_recv(right, 100_000))  # must wait
            await asyncio.sleep(0)
            await loop.sock_sendall(left, b"second")
            second = await waiting
            assert (first, second) == (b"first", b"second")
            assert type(first) is bytes
            big = bytes(range(256)) * 1024  # 256 KiB
            sending = loop.create_task(loop.sock_sendall(left, big))
            received = b""
            while len(received) < len(big):
                received += await loop.sock_recv(right, 200_000)
            await sending
            assert received == big
            assert first == b"first"  # untouched by the reads that followed

        with _udp_pair() as (a, b):
            datagram = bytes(range(256)) * 200
            await loop.sock_sendto(a, datagram, b.getsockname())
            data, address = await loop.sock_recvfrom(b, 128 * 1024)
            assert (data, address) == (datagram, a.getsockname())

    loop.run_until_complete(main())


def test_large_requests_in_loops_on_two_threads() -> None:
    def one_loop(results: list[bool], marker: int) -> None:
        loop = EventLoop()
        try:

            async def main() -> bool:
                with _nonblocking_pair() as (left, right):
                    payload = bytes([marker]) * 150_000
                    for _ in range(50):
                        sending = loop.create_task(loop.sock_sendall(left, payload))
                        received = b""
                        while len(received) < len(payload):
                            received += await loop.sock_recv(right, 150_000)
                        await sending
                        if received != payload:
                            return False
                return True

            results.append(loop.run_until_complete(main()))
        finally:
            loop.close()

    results: list[bool] = []
    threads = [threading.Thread(target=one_loop, args=(results, n)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [True, True]


class _Patchable(socket.socket):
    """A socket whose methods a test may replace on the instance."""


def test_a_waiting_call_uses_the_socket_method_of_each_attempt(loop: EventLoop) -> None:
    # As asyncio's own retries do: a sendto replaced while the call waits
    # (CPython's test_sendto_blocking swaps a mock's) is what the next try uses.
    async def main() -> None:
        with _Patchable(socket.AF_INET, socket.SOCK_DGRAM) as sock, _udp_pair() as (_, peer):
            sock.setblocking(False)

            def full(*args: object) -> int:
                raise BlockingIOError

            sock.sendto = full  # type: ignore[method-assign]
            loop.call_soon(delattr, sock, "sendto")  # the real method again
            async with asyncio.timeout(5):  # the call starts now, before delattr runs
                sent = await loop.sock_sendto(sock, b"late", peer.getsockname())
            assert sent == 4
            data, _ = await asyncio.wait_for(loop.sock_recvfrom(peer, 16), 5)
            assert data == b"late"

    loop.run_until_complete(main())


def test_data_already_queued_comes_without_a_loop_iteration(loop: EventLoop) -> None:
    # Each call tries the socket before watching it, also right after a call
    # that had to wait: what is queued comes before the loop runs anything else.
    async def main() -> None:
        with _nonblocking_pair() as (left, sock):
            loop.call_later(0.01, left.send, b"abcdefgh")
            async with asyncio.timeout(5):
                assert await loop.sock_recv(sock, 4) == b"abcd"
            ran: list[bool] = []
            loop.call_soon(ran.append, True)
            assert await loop.sock_recv(sock, 4) == b"efgh"
            assert ran == []

    loop.run_until_complete(main())


def test_a_subclass_keeps_its_own_sock_methods() -> None:
    # The loop binds its sock_* names straight to loop-core's coroutine
    # functions, but never over a subclass's own method.
    received: list[int] = []

    class Recording(EventLoop):
        async def sock_recv(self, sock: socket.socket, nbytes: int) -> bytes:
            received.append(nbytes)
            return await super().sock_recv(sock, nbytes)

    loop = Recording()
    try:

        async def main() -> bytes:
            with _nonblocking_pair() as (left, right):
                await loop.sock_sendall(left, b"mine")
                return await loop.sock_recv(right, 10)

        assert loop.run_until_complete(main()) == b"mine"
        assert received == [10]
    finally:
        loop.close()
    assert "sock_recv" not in vars(loop)  # nor after close()


class _SlowResolver(EventLoop):
    """Resolves host names never: a sock_connect to one waits in an
    interpreted coroutine."""

    async def getaddrinfo(self, *args: object, **kwargs: object) -> list[Any]:
        await self.create_future()
        raise AssertionError("unreachable")


@pytest.mark.parametrize("operation", ["recv", "accept", "sendall", "connect-resolving"])
def test_cancelling_a_waiting_call_does_not_warn(operation: str) -> None:
    # Compiled, these coroutines pass a cancellation on to what they await;
    # Python 3.12 deprecated the throw() signature that compiled code uses.
    loop = _SlowResolver()

    async def wait(sock: socket.socket, listener: socket.socket, client: socket.socket) -> object:
        if operation == "recv":
            return await loop.sock_recv(sock, 10)
        if operation == "accept":
            return await loop.sock_accept(listener)
        if operation == "sendall":
            await loop.sock_sendall(sock, b"x" * (64 << 20))
        else:
            await loop.sock_connect(client, ("name.invalid", 80))
        return None

    async def main() -> None:
        with (
            _nonblocking_pair() as (sock, _),
            socket.socket() as listener,
            socket.socket() as client,
        ):
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            for unready in (listener, client):
                unready.setblocking(False)
            task = loop.create_task(wait(sock, listener, client))
            for _ in range(3):
                await asyncio.sleep(0)
            assert not task.done()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loop.run_until_complete(main())
    finally:
        loop.close()
    assert [str(w.message) for w in caught] == []
