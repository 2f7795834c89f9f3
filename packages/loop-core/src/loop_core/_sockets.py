"""Low-level socket operations as coroutines: ``loop.sock_recv`` and friends.

Each operation tries the system call first and only waits for readiness when
it would block, so a socket with data already queued costs no loop iteration.
The functions take any loop that can watch file descriptors; our loop binds
them as its ``sock_*`` methods. Sockets must be non-blocking.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar

from loop_core._core import (
    LoopCore,
    note_socket_read,
    socket_read_is_empty,
    stop_waiting_for_socket,
    wait_for_socket,
)
from loop_core.interfaces import FileDescriptorLoop, FutureLike
from loop_core.suspension import compiled_throw_warns, delegate, suspend

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

__all__ = [
    "sock_accept",
    "sock_connect",
    "sock_recv",
    "sock_recv_into",
    "sock_recvfrom",
    "sock_recvfrom_into",
    "sock_sendall",
    "sock_sendto",
]

_T = TypeVar("_T")

_THROW_WARNS: Final = compiled_throw_warns(__file__)


def _check_socket(sock: object) -> socket.socket:
    if not isinstance(sock, socket.socket):
        raise TypeError(f"a socket.socket is required, not {type(sock).__name__}")
    timeout = sock.gettimeout()
    if timeout is None or timeout != 0.0:
        raise ValueError("the socket must be non-blocking (call sock.setblocking(False))")
    return sock


# recv(n) builds an n-byte bytes object and shrinks it to what arrived. Past
# the C allocator's mmap threshold (128 KiB in glibc) that maps and unmaps
# memory on every call: 15 us for a 10 KiB read with n = 256 KiB, against
# 2 us here. Larger requests are read into a per-thread scratch buffer and
# copied out at their real size; the largest still go straight to recv().
_DIRECT_RECV_MAX: Final = 64 * 1024
_SCRATCH_SIZE: Final = 256 * 1024

# Each thread's scratch view, made on its first large read.
_scratch: Final = threading.local()


def _scratch_view() -> memoryview:
    view: memoryview | None = getattr(_scratch, "view", None)
    if view is None:
        view = memoryview(bytearray(_SCRATCH_SIZE))
        _scratch.view = view
    return view


def _reads_directly(nbytes: int) -> bool:
    return nbytes <= _DIRECT_RECV_MAX or nbytes > _SCRATCH_SIZE


def _recv(sock: socket.socket, nbytes: int) -> bytes:
    if _reads_directly(nbytes):
        return sock.recv(nbytes)
    view = _scratch_view()
    count = sock.recv_into(view, nbytes)
    return bytes(view[:count])


def _recvfrom(sock: socket.socket, nbytes: int) -> tuple[bytes, Any]:
    if _reads_directly(nbytes):
        return sock.recvfrom(nbytes)
    view = _scratch_view()
    count, address = sock.recvfrom_into(view, nbytes)
    return bytes(view[:count]), address


# Which waiting call currently owns the watch on (loop, descriptor, direction).
_watchers: dict[tuple[int, int, bool], object] = {}


class _Watch:
    """One waiting call: the future it awaits and the watch that will resolve it.

    The readiness callback retries the call and, once it stops raising
    BlockingIOError, unwatches and resolves the future itself, so the
    waiting coroutine resumes with nothing left to undo. Only a cancelled
    wait unwatches from the coroutine (:meth:`finish`).
    """

    __slots__ = ("args", "asked", "attempt", "future", "key", "loop", "sock")

    def __init__(
        self,
        loop: FileDescriptorLoop,
        sock: socket.socket,
        fd: int,
        attempt: Callable[..., Any],
        args: tuple[Any, ...],
        write: bool,
        asked: int = 0,
    ) -> None:
        self.loop = loop
        self.sock = sock
        self.attempt = attempt
        self.args = args
        # A stream read's size (0 for other calls): what it returns is told
        # to the loop, which learns from it when the socket is empty.
        self.asked = asked
        self.future: FutureLike[Any] = loop.create_future()
        key = (id(loop), fd, write)
        if isinstance(loop, LoopCore):
            wait_for_socket(loop, sock, fd, write, self.ready)
        elif write:
            loop.add_writer(fd, self.ready)
        else:
            loop.add_reader(fd, self.ready)
        self.key = key
        _watchers[key] = self.future

    def ready(self) -> None:
        future = self.future
        if future.done():
            return  # cancelled: finish() unwatches
        try:
            result = self.attempt(*self.args)
        except (BlockingIOError, InterruptedError):
            return
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self.unwatch()
            future.set_exception(exc)
            del future  # the failure's traceback keeps this frame, not the future
        else:
            self.unwatch()
            if self.asked:
                received = len(result) if isinstance(result, bytes) else int(result)
                _note_read(self.loop, self.sock, self.key[1], received, self.asked)
            future.set_result(result)

    def unwatch(self) -> None:
        # A call made after ours was cancelled may have taken the descriptor
        # over already (cancelled tasks clean up late): leave its watch alone.
        key = self.key
        if _watchers.get(key) is self.future:
            del _watchers[key]
            loop = self.loop
            if isinstance(loop, LoopCore):
                stop_waiting_for_socket(loop, key[1], key[2])
            elif key[2]:
                loop.remove_writer(key[1])
            else:
                loop.remove_reader(key[1])

    def finish(self) -> None:
        """After the wait, however it ended: unwatch, and drop what a failure's
        traceback would otherwise keep in a cycle (future -> exception ->
        traceback -> frame -> this watch -> future)."""
        self.unwatch()
        self.attempt = self.args = self.future = None  # type: ignore[assignment]


# The retried calls look the method up on each attempt, as a call written out
# would: a socket whose method is replaced while waiting (a test's mock) is
# then called through the replacement.


def _recv_into(sock: socket.socket, buf: Any) -> int:
    return sock.recv_into(buf)


def _recvfrom_into(sock: socket.socket, buf: Any, nbytes: int) -> tuple[int, Any]:
    return sock.recvfrom_into(buf, nbytes)


def _sendto(sock: socket.socket, data: ReadableBuffer, address: Any) -> int:
    return sock.sendto(data, address)


async def _when_ready(
    loop: FileDescriptorLoop,
    sock: socket.socket,
    attempt: Callable[..., _T],
    args: tuple[Any, ...],
    *,
    write: bool,
    asked: int = 0,
) -> _T:
    """Retry ``attempt(*args)`` each time *sock* is ready until it stops
    raising BlockingIOError (for the calls that are not on the fast path)."""
    watch = _Watch(loop, sock, sock.fileno(), attempt, args, write, asked)
    try:
        result: _T = await suspend(watch.future, _THROW_WARNS)
        return result
    finally:
        watch.finish()
        del watch


def _read_is_empty(loop: FileDescriptorLoop, sock: socket.socket, fd: int) -> bool:
    return isinstance(loop, LoopCore) and socket_read_is_empty(loop, sock, fd)


def _note_read(
    loop: FileDescriptorLoop, sock: socket.socket, fd: int, received: int, asked: int
) -> None:
    if isinstance(loop, LoopCore):
        note_socket_read(loop, sock, fd, received, asked)


async def sock_recv(loop: FileDescriptorLoop, sock: socket.socket, nbytes: int) -> bytes:
    """Receive up to *nbytes* from *sock*; ``b""`` at end of stream."""
    sock = _check_socket(sock)
    fd = sock.fileno()
    # Tried at once unless the loop knows the socket is empty: then trying
    # costs a failed system call and its BlockingIOError (see _core,
    # "An entry also tells").
    if not _read_is_empty(loop, sock, fd):
        try:
            # The call itself rather than _recv: compiled, an exception gets a
            # traceback entry (a new code object and frame, about 1,900
            # instructions) in every function it leaves.
            data = sock.recv(nbytes) if _reads_directly(nbytes) else _recv(sock, nbytes)
        except (BlockingIOError, InterruptedError):
            pass
        else:
            _note_read(loop, sock, fd, len(data), nbytes)
            return data
    # _when_ready spelled out: a coroutine fewer on the usual way of a server.
    watch = _Watch(loop, sock, fd, _recv, (sock, nbytes), False, nbytes)
    try:
        received: bytes = await suspend(watch.future, _THROW_WARNS)
        return received
    finally:
        watch.finish()
        del watch


async def sock_recv_into(loop: FileDescriptorLoop, sock: socket.socket, buf: Any) -> int:
    """Receive into the writable buffer *buf*; return the number of bytes received."""
    sock = _check_socket(sock)
    fd = sock.fileno()
    if not _read_is_empty(loop, sock, fd):
        try:
            received = sock.recv_into(buf)
        except (BlockingIOError, InterruptedError):
            pass
        else:
            _note_read(loop, sock, fd, received, _writable_size(buf))
            return received
    return await _when_ready(
        loop, sock, _recv_into, (sock, buf), write=False, asked=_writable_size(buf)
    )


def _writable_size(buf: Any) -> int:
    """The size of *buf* in bytes; 0 if it is no buffer (recv_into says so)."""
    try:
        return memoryview(buf).nbytes
    except TypeError:
        return 0


async def sock_recvfrom(
    loop: FileDescriptorLoop, sock: socket.socket, bufsize: int
) -> tuple[bytes, Any]:
    """Receive a datagram of up to *bufsize* bytes; return ``(data, address)``."""
    sock = _check_socket(sock)
    try:
        return _recvfrom(sock, bufsize)
    except (BlockingIOError, InterruptedError):
        pass
    return await _when_ready(loop, sock, _recvfrom, (sock, bufsize), write=False)


async def sock_recvfrom_into(
    loop: FileDescriptorLoop, sock: socket.socket, buf: Any, nbytes: int = 0
) -> tuple[int, Any]:
    """Receive a datagram into *buf*; return ``(nbytes, address)``."""
    sock = _check_socket(sock)
    try:
        return sock.recvfrom_into(buf, nbytes)
    except (BlockingIOError, InterruptedError):
        pass
    return await _when_ready(loop, sock, _recvfrom_into, (sock, buf, nbytes), write=False)


def _send_rest(sock: socket.socket, view: memoryview, progress: list[int]) -> None:
    """Send what is left of *view*; BlockingIOError until all of it went."""
    offset = progress[0]
    progress[0] = offset + sock.send(view[offset:])
    if progress[0] < len(view):
        raise BlockingIOError


async def sock_sendall(loop: FileDescriptorLoop, sock: socket.socket, data: ReadableBuffer) -> None:
    """Send all of *data*, waiting for buffer space as often as needed."""
    sock = _check_socket(sock)
    # bytes, the usual case, is sent as it is: its length counts bytes.
    payload: bytes | memoryview = data if type(data) is bytes else memoryview(data).cast("B")
    try:
        sent = sock.send(payload)
    except (BlockingIOError, InterruptedError):
        sent = 0
    if sent == len(payload):
        return
    rest = (sock, memoryview(payload), [sent])
    await _when_ready(loop, sock, _send_rest, rest, write=True)


async def sock_sendto(
    loop: FileDescriptorLoop, sock: socket.socket, data: ReadableBuffer, address: Any
) -> int:
    """Send the datagram *data* to *address*; return the number of bytes sent."""
    sock = _check_socket(sock)
    try:
        return sock.sendto(data, address)
    except (BlockingIOError, InterruptedError):
        pass
    return await _when_ready(loop, sock, _sendto, (sock, data, address), write=True)


def _is_numeric_host(family: int, host: str) -> bool:
    try:
        socket.inet_pton(family, host.partition("%")[0])
    except (OSError, ValueError):
        return False
    return True


async def _resolve(loop: Any, sock: socket.socket, address: Any) -> Any:
    family = sock.family
    if family not in (socket.AF_INET, socket.AF_INET6):
        return address
    if not isinstance(address, tuple) or len(address) < 2:
        raise TypeError(f"address must be a (host, port) tuple, got {address!r}")
    host = address[0]
    if isinstance(host, str) and _is_numeric_host(family, host):
        return address
    # A host name needs a resolver: the loop's getaddrinfo (loop-executor).
    resolving = loop.getaddrinfo(host, address[1], family=family, type=sock.type, proto=sock.proto)
    infos = await delegate(resolving, _THROW_WARNS)
    if not infos:
        raise OSError(f"getaddrinfo({host!r}) returned an empty list")
    return infos[0][4]


async def sock_connect(loop: FileDescriptorLoop, sock: socket.socket, address: Any) -> None:
    """Connect *sock* to *address*, resolving a host name through the loop."""
    sock = _check_socket(sock)
    address = await _resolve(loop, sock, address)
    try:
        sock.connect(address)
        return
    except (BlockingIOError, InterruptedError):
        pass

    def finish() -> None:
        error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error != 0:
            raise OSError(error, f"Connect call failed {address}")

    await _when_ready(loop, sock, finish, (), write=True)


def _accept(sock: socket.socket) -> tuple[socket.socket, Any]:
    conn, address = sock.accept()
    conn.setblocking(False)
    return conn, address


async def sock_accept(loop: FileDescriptorLoop, sock: socket.socket) -> tuple[socket.socket, Any]:
    """Accept a connection; the new socket is non-blocking."""
    sock = _check_socket(sock)
    try:
        conn, address = sock.accept()  # not _accept: see sock_recv
    except (BlockingIOError, InterruptedError):
        return await _when_ready(loop, sock, _accept, (sock,), write=False)
    conn.setblocking(False)
    return conn, address
