"""How the sock_* calls watch their sockets: edge-triggered entries left in
place between waits, and every way such an entry can go stale."""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
from collections.abc import Iterator

import pytest

from loop_core import EventLoop
from loop_core.pollers import EpollPoller

_WAIT = 5.0  # bound on every wait below: a lost wake-up fails, it does not hang


@contextlib.contextmanager
def _pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair()
    with left, right:
        left.setblocking(False)
        right.setblocking(False)
        yield left, right


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
        with _pair() as (client, server):
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
        with _pair() as (first_peer, first):
            assert await _recv_later(loop, first, first_peer) == b"late"
            number = first.fileno()
        # Both ends closed; a new pair takes the lowest free numbers again.
        with _pair() as (second, second_peer):
            if number not in (second.fileno(), second_peer.fileno()):
                pytest.skip("the descriptor number was not reused")
            reused = second if second.fileno() == number else second_peer
            other = second_peer if reused is second else second
            assert await _recv_later(loop, reused, other) == b"late"

    loop.run_until_complete(main())


def test_a_duplicate_closed_while_its_entry_lingers_confuses_no_one(loop: EventLoop) -> None:
    async def main() -> None:
        with _pair() as (peer, original):
            duplicate = original.dup()
            duplicate.setblocking(False)
            with duplicate:
                assert await _recv_later(loop, duplicate, peer) == b"late"
            # The file is still open through *original*: a stale entry may
            # be left under the duplicate's old number. Both keep working.
            with _pair() as (fresh_peer, fresh):
                assert await _recv_later(loop, fresh, fresh_peer) == b"late"
                assert await _recv_later(loop, original, peer) == b"late"
                peer.send(b"unread")  # an edge for the stale entry, if any
                assert await _recv_later(loop, fresh, fresh_peer) == b"late"

    loop.run_until_complete(main())


def test_add_reader_takes_over_a_socket_left_by_sock_recv(loop: EventLoop) -> None:
    async def main() -> None:
        with _pair() as (peer, sock):
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
        with _pair() as (peer, sock):
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


async def _fill(sock: socket.socket) -> int:
    sent = 0
    with contextlib.suppress(BlockingIOError):
        while True:
            sent += sock.send(b"x" * 65536)
    return sent


def test_one_socket_waits_to_read_and_to_write_at_once(loop: EventLoop) -> None:
    async def main() -> None:
        with _pair() as (peer, sock):
            queued = await _fill(sock)
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
        with _pair() as (peer, sock):
            assert await _recv_later(loop, sock, peer) == b"late"
            peer.send(b"unasked")
            for _ in range(3):
                await asyncio.sleep(0.005)
            if loop._edge_poller is not None:
                assert sock.fileno() not in loop._edge_masks
            assert sock.recv(100) == b"unasked"
            assert await _recv_later(loop, sock, peer) == b"late"

    loop.run_until_complete(main())


def test_a_cancelled_wait_leaves_nothing_waiting(loop: EventLoop) -> None:
    async def main() -> None:
        with _pair() as (peer, sock):
            task = loop.create_task(loop.sock_recv(sock, 10))
            await asyncio.sleep(0.005)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert sock.fileno() not in loop._readers
            assert sock.fileno() not in loop._edge_readers
            assert loop._edge_waiting == 0
            assert await _recv_later(loop, sock, peer) == b"late"
            assert loop._edge_waiting == 0

    loop.run_until_complete(main())
