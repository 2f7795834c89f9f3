"""The loop's low-level socket coroutines against real loopback peers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import socket
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from loop_core import EventLoop
from loop_core._core import socket_read_is_empty
from loop_core.pollers import EpollPoller


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
            assert right.fileno() not in loop._edge_readers
            assert loop._edge_waiting == 0
            assert await _recv_later(loop, right, left) == b"late"
            assert loop._edge_waiting == 0

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


# How the waits watch their sockets: edge-triggered entries left in place
# between waits (no epoll_ctl per request), and every way one can go stale.

_WAIT = 5.0  # bound on every wait below: a lost wake-up fails, it does not hang


class _CountingEpoll:
    """The real epoll poller, counting the epoll_ctl calls made through it."""

    def __init__(self) -> None:
        self._epoll = EpollPoller()
        self.name = self._epoll.name
        self.controls = 0

    def register(self, fd: int, events: int) -> None:
        self.controls += 1
        self._epoll.register(fd, events)

    def modify(self, fd: int, events: int) -> None:
        self.controls += 1
        self._epoll.modify(fd, events)

    def unregister(self, fd: int) -> None:
        self.controls += 1
        self._epoll.unregister(fd)

    def register_edge(self, fd: int, events: int, known: bool) -> None:
        self.controls += 1
        self._epoll.register_edge(fd, events, known)

    def reregister(self, fd: int, events: int) -> None:
        self.controls += 1
        self._epoll.reregister(fd, events)

    def poll(self, timeout: float) -> list[tuple[int, int]]:
        return self._epoll.poll(timeout)

    def close(self) -> None:
        self._epoll.close()


needs_epoll = pytest.mark.skipif(not hasattr(select, "epoll"), reason="needs epoll")


@needs_epoll
def test_a_socket_served_by_sock_calls_is_registered_once() -> None:
    poller = _CountingEpoll()
    loop = EventLoop(poller=poller)

    async def echo_rounds(rounds: int) -> None:
        with _nonblocking_pair() as (client, server):
            for index in range(rounds):
                message = b"request %d" % index
                # The answer is sent after the server waits: every recv below waits.
                loop.call_later(0.001, client.send, message)
                assert await loop.sock_recv(server, 100) == message
                await loop.sock_sendall(server, message)
                assert await loop.sock_recv(client, 100) == message

    try:
        before = poller.controls
        loop.run_until_complete(asyncio.wait_for(echo_rounds(20), _WAIT))
        # One registration per socket (server, client), none per round.
        assert poller.controls - before <= 4
    finally:
        loop.close()


async def _recv_later(loop: EventLoop, sock: socket.socket, peer: socket.socket) -> bytes:
    """A sock_recv that has to wait: the data is sent once it does."""
    loop.call_later(0.001, peer.send, b"late")
    return await asyncio.wait_for(loop.sock_recv(sock, 100), _WAIT)


def test_a_new_socket_on_a_closed_ones_descriptor_is_watched_afresh(loop: EventLoop) -> None:
    async def main() -> None:
        with _nonblocking_pair() as (first_peer, first):
            assert await _recv_later(loop, first, first_peer) == b"late"
            number = first.fileno()
        # Both ends closed; a new pair takes the lowest free numbers again.
        with _nonblocking_pair() as (second, second_peer):
            if number not in (second.fileno(), second_peer.fileno()):
                pytest.skip("the descriptor number was not reused")
            reused = second if second.fileno() == number else second_peer
            other = second_peer if reused is second else second
            assert await _recv_later(loop, reused, other) == b"late"

    loop.run_until_complete(main())


def test_a_duplicate_closed_while_its_entry_lingers_confuses_no_one(loop: EventLoop) -> None:
    async def main() -> None:
        with _nonblocking_pair() as (peer, original):
            duplicate = original.dup()
            duplicate.setblocking(False)
            with duplicate:
                assert await _recv_later(loop, duplicate, peer) == b"late"
            # The file is still open through *original*: a stale entry may
            # be left under the duplicate's old number. Both keep working.
            with _nonblocking_pair() as (fresh_peer, fresh):
                assert await _recv_later(loop, fresh, fresh_peer) == b"late"
                assert await _recv_later(loop, original, peer) == b"late"
                peer.send(b"unread")  # an edge for the stale entry, if any
                assert await _recv_later(loop, fresh, fresh_peer) == b"late"

    loop.run_until_complete(main())


def test_add_reader_takes_over_a_socket_left_by_sock_recv(loop: EventLoop) -> None:
    async def main() -> None:
        with _nonblocking_pair() as (peer, sock):
            assert await _recv_later(loop, sock, peer) == b"late"
            readable: asyncio.Future[bytes] = loop.create_future()

            def on_readable() -> None:
                if not readable.done():
                    readable.set_result(sock.recv(100))

            loop.add_reader(sock, on_readable)
            peer.send(b"watched")
            assert await asyncio.wait_for(readable, _WAIT) == b"watched"
            assert loop.remove_reader(sock)
            # And back to waiting calls on the same socket.
            assert await _recv_later(loop, sock, peer) == b"late"

    loop.run_until_complete(main())


def test_a_wait_started_under_add_writer_keeps_its_reader(loop: EventLoop) -> None:
    async def main() -> None:
        with _nonblocking_pair() as (peer, sock):
            receiving = loop.create_task(loop.sock_recv(sock, 100))
            await asyncio.sleep(0)  # the recv waits now
            writable: asyncio.Future[None] = loop.create_future()

            def on_writable() -> None:
                if not writable.done():
                    writable.set_result(None)

            loop.add_writer(sock, on_writable)
            await asyncio.wait_for(writable, _WAIT)
            assert loop.remove_writer(sock)
            peer.send(b"still read")
            assert await asyncio.wait_for(receiving, _WAIT) == b"still read"
            assert loop._edge_waiting == 0

    loop.run_until_complete(main())


def _fill(sock: socket.socket) -> int:
    sent = 0
    with contextlib.suppress(BlockingIOError):
        while True:
            sent += sock.send(b"x" * 65536)
    return sent


def test_one_socket_waits_to_read_and_to_write_at_once(loop: EventLoop) -> None:
    async def main() -> None:
        with _nonblocking_pair() as (peer, sock):
            queued = _fill(sock)
            receiving = loop.create_task(loop.sock_recv(sock, 100))
            sending = loop.create_task(loop.sock_sendall(sock, b"y" * 100_000))
            await asyncio.sleep(0.01)
            assert not receiving.done()
            assert not sending.done()
            peer.send(b"answer")
            assert await asyncio.wait_for(receiving, _WAIT) == b"answer"
            drained = 0
            while drained < queued + 100_000:
                drained += len(await asyncio.wait_for(loop.sock_recv(peer, 1 << 20), _WAIT))
            await asyncio.wait_for(sending, _WAIT)
            assert loop._edge_waiting == 0

    loop.run_until_complete(main())


def test_an_edge_nobody_waits_for_drops_the_entry(loop: EventLoop) -> None:
    async def main() -> None:
        with _nonblocking_pair() as (peer, sock):
            assert await _recv_later(loop, sock, peer) == b"late"
            peer.send(b"unasked")
            for _ in range(3):
                await asyncio.sleep(0.005)
            if loop._edge_poller is not None:
                assert sock.fileno() not in loop._edge_masks
            assert sock.recv(100) == b"unasked"
            assert await _recv_later(loop, sock, peer) == b"late"

    loop.run_until_complete(main())


@contextlib.contextmanager
def _connected(kind: str) -> Iterator[tuple[socket.socket, socket.socket]]:
    """A non-blocking stream pair of *kind*: ``tcp`` on 127.0.0.1 or ``unix``."""
    if kind == "unix":
        with _nonblocking_pair() as pair:
            yield pair
        return
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
        with client, server:
            client.setblocking(False)
            server.setblocking(False)
            yield client, server


@pytest.mark.parametrize("kind", ["tcp", "unix"])
def test_the_end_of_stream_after_a_reply_in_one_edge_is_read(loop: EventLoop, kind: str) -> None:
    # After a short read the loop takes the socket for empty until its next
    # edge. Here the next edge brings a reply and the peer's close at once:
    # the reply is a short read again, and the close must still be found.
    async def main() -> None:
        with _connected(kind) as (peer, sock):
            for _ in range(3):
                assert await _recv_later(loop, sock, peer) == b"late"

            def reply_and_close() -> None:
                peer.send(b"last")
                peer.shutdown(socket.SHUT_WR)

            receiving = loop.create_task(loop.sock_recv(sock, 100))
            await asyncio.sleep(0)  # it waits now
            loop.call_soon(reply_and_close)
            assert await asyncio.wait_for(receiving, _WAIT) == b"last"
            assert await asyncio.wait_for(loop.sock_recv(sock, 100), _WAIT) == b""
            assert await asyncio.wait_for(loop.sock_recv(sock, 100), _WAIT) == b""

    loop.run_until_complete(main())


@needs_epoll
def test_the_loop_knows_when_a_stream_socket_is_empty() -> None:
    loop = EventLoop(poller=EpollPoller())

    class OwnSocket(socket.socket):
        pass

    async def main() -> None:
        with _connected("tcp") as (peer, sock):
            fd = sock.fileno()
            assert await _recv_later(loop, sock, peer) == b"late"
            assert socket_read_is_empty(loop, sock, fd)  # 4 of 100 bytes: all there was
            peer.send(b"0123456789")  # an edge the next call waits for
            assert await asyncio.wait_for(loop.sock_recv(sock, 5), _WAIT) == b"01234"
            assert not socket_read_is_empty(loop, sock, fd)  # a full read may leave more
            assert await loop.sock_recv(sock, 100) == b"56789"
            assert socket_read_is_empty(loop, sock, fd)
            peer.send(b"more")
            assert await asyncio.wait_for(loop.sock_recv(sock, 100), _WAIT) == b"more"
            peer.shutdown(socket.SHUT_WR)
            assert await asyncio.wait_for(loop.sock_recv(sock, 100), _WAIT) == b""
            assert not socket_read_is_empty(loop, sock, fd)  # the end of stream stays
            assert await loop.sock_recv(sock, 100) == b""
            # Another socket object on the descriptor knows nothing.
            with socket.socket(fileno=os.dup(fd)) as other:
                assert not socket_read_is_empty(loop, other, fd)
        with _connected("unix") as (peer, sock):
            buffer = bytearray(100)
            loop.call_later(0.001, peer.send, b"into")
            assert await asyncio.wait_for(loop.sock_recv_into(sock, buffer), _WAIT) == 4
            assert socket_read_is_empty(loop, sock, sock.fileno())
        # Sockets that may keep data of their own, and datagram sockets, never.
        plain, right = socket.socketpair()
        left = OwnSocket(fileno=plain.detach())
        with left, right, _udp_pair() as (a, b):
            for reader, writer in ((left, right), (a, b)):
                reader.setblocking(False)
                if reader is a:
                    loop.call_later(0.001, writer.sendto, b"late", a.getsockname())
                    assert await asyncio.wait_for(loop.sock_recv(reader, 100), _WAIT) == b"late"
                else:
                    assert await _recv_later(loop, reader, writer) == b"late"
                assert not socket_read_is_empty(loop, reader, reader.fileno())

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
