"""The native halves of the descriptor transports.

Each public transport (a subclass of asyncio's class, see ``_base``) owns one
core from here. The core holds the descriptor, the write buffer and the
flow-control state and runs the read, write and close paths; the loop calls
its readiness methods directly and the public methods hand straight to it.
mypyc compiles this module: per received or sent message, nothing of a
transport runs in the interpreter but the protocol.

:class:`TransportCore` is the lifecycle every kind shares (start, fatal
errors, water marks, ``connection_lost`` once); :class:`StreamCore` adds the
write path (send at once, buffer only the rest) that sockets and pipes share;
the ``@final`` classes are the kinds: stream sockets, the two ends of a
pipe, and datagram sockets.
"""

from __future__ import annotations

import _socket
import asyncio
import collections
import errno
import os
import socket
import warnings
from collections.abc import Callable
from typing import Any, Final, final

from loop_transports._base import (
    DEFAULT_HIGH_WATER,
    LOG_THRESHOLD_FOR_CONNLOST_WRITES,
    MAX_READ_SIZE,
    READ_SIZE_HINT,
    SOCKET_READ_SIZE,
    check_bytes_like,
    logger,
)

__all__ = [
    "ACCEPTS_PER_EVENT",
    "RAW_FAMILY",
    "RAW_TYPE",
    "Acceptor",
    "DatagramCore",
    "ReadPipeCore",
    "StreamCore",
    "StreamSocketCore",
    "TransportCore",
    "WritePipeCore",
    "is_inet",
    "read_size_for",
    "shortcut",
    "start_socket_transport",
]

_SHUT_WR: Final = socket.SHUT_WR
# Names imported from _base (interpreted) are looked up in this module's
# globals at every use; the ones used per connection or per read are copied
# here once. A pipe's read size stays an object: it only goes to os.read().
_DEFAULT_HIGH_WATER: Final = DEFAULT_HIGH_WATER
_SOCKET_READ_SIZE: Final = SOCKET_READ_SIZE
_MAX_READ_SIZE: Final[Any] = MAX_READ_SIZE
_READ_SIZE_HINT: Final = READ_SIZE_HINT
# Compiled, a module's attribute (socket.socket) or a builtin (OSError) is
# looked up by name at every use (about 250 instructions); these are read once.
_SOCKET_CLASS: Final = socket.socket
_BUFFERED_PROTOCOL: Final = asyncio.BufferedProtocol
_OS_ERROR: Final = OSError
_SOL_SOCKET: Final = int(socket.SOL_SOCKET)
_SO_ERROR: Final = int(socket.SO_ERROR)
# A socket's recv() and send() parse their arguments into a tuple first
# (about 300 instructions a call, callgrind on the 1 KiB echo server);
# os.read() and os.write() take theirs directly. On POSIX, read() and write()
# on a connected stream socket are recv() and send() without flags.
_RAW_IO_POSSIBLE: Final = os.name == "posix"
_PLAIN_RECV: Final[object] = _socket.socket.recv
_PLAIN_SEND: Final[object] = _socket.socket.send
_read: Final = os.read
_write: Final = os.write
_warn: Final = warnings.warn

# An error's message, once per errno: os.strerror() decodes it from the
# locale on every call (about 2,000 instructions).
_ERROR_MESSAGES: Final[dict[int, str]] = {}

# Whether a loop class has add_reader_with_errors (loop_core's), per class.
_REPORTS_ERRORS: Final[dict[type, bool]] = {}


def _reports_errors(loop: object) -> bool:
    """Whether *loop* tells a reader of errors (``add_reader_with_errors``)."""
    kind = type(loop)
    known = _REPORTS_ERRORS.get(kind)
    if known is None:
        known = _REPORTS_ERRORS[kind] = callable(getattr(kind, "add_reader_with_errors", None))
    return known


def _os_error(number: int) -> OSError:
    """The exception a failing call would raise for *number* (an errno):
    ``OSError`` picks the subclass, ``ConnectionResetError`` for ECONNRESET."""
    message = _ERROR_MESSAGES.get(number)
    if message is None:
        message = _ERROR_MESSAGES[number] = os.strerror(number)
    return OSError(number, message)


# A read allocates its whole size before shrinking to what came: asking
# 120 KiB for a 35-byte request takes glibc's large-chunk path every time
# (a consolidation, a split, a free; about 600 instructions a request on the
# minimal HTTP row). After a few small messages in a row, a stream socket
# transport asks for at most what CPython's small-object allocator serves
# (512 bytes with the bytes object's header), and its full size again as soon
# as a read fills that: a larger message then comes in two reads, once.
_SMALL_READ: Final = 512 - 33
_SMALL_MESSAGES_TO_SHRINK: Final = 4

# socket.socket's __init__ and close() are Python frames around the C
# socket's own (about 1,500 instructions a connection between them): for an
# exact socket.socket the acceptor and the transports take both steps
# themselves, setting and reading the two slots socket.py keeps (a socket
# with a makefile() open is closed by its own close(), which waits for it).
_SOCKET_SLOTS_KNOWN: Final = getattr(socket.socket, "__slots__", None) == [
    "__weakref__",
    "_io_refs",
    "_closed",
]
_new_c_socket: Final[Callable[[type], Any]] = _socket.socket.__new__
_init_c_socket: Final[Callable[..., None]] = _socket.socket.__init__
_close_c_socket: Final[Callable[[Any], None]] = _socket.socket.close
# The C socket's methods, called on an exact socket.socket without looking
# them up on it first (about 200 instructions a call).
_accept_c_socket: Final[Callable[[Any], tuple[int, Any]]] = vars(_socket.socket)["_accept"]
_setblocking_c_socket: Final[Callable[[Any, bool], None]] = _socket.socket.setblocking
_setsockopt_c_socket: Final[Callable[[Any, int, int, int], None]] = _socket.socket.setsockopt
_new_object: Final[Callable[[type], Any]] = object.__new__


def _socket_from_descriptor(family: int, kind: int, proto: int, fd: int) -> socket.socket:
    """``socket.socket(family, kind, proto, fd)``, made without its Python frame."""
    if not _SOCKET_SLOTS_KNOWN:
        return socket.socket(family, kind, proto, fd)
    sock: Any = _new_c_socket(_SOCKET_CLASS)
    _init_c_socket(sock, family, kind, proto, fd)
    sock._io_refs = 0
    sock._closed = False
    result: socket.socket = sock
    return result


def _close_file(fileobj: Any) -> None:
    """Close *fileobj* (a socket or a pipe's file object) as its close() would."""
    if _SOCKET_SLOTS_KNOWN and type(fileobj) is _SOCKET_CLASS:
        sock: Any = fileobj  # typeshed does not list socket.py's slots
        if sock._io_refs <= 0:
            sock._closed = True
            _close_c_socket(sock)
            return
    fileobj.close()


# The socket's family and type as plain numbers: the ``family`` and ``type``
# properties of socket.socket build an enum member on every access.
RAW_FAMILY: Final[Callable[[Any], int]] = _socket.socket.family.__get__
RAW_TYPE: Final[Callable[[Any], int]] = _socket.socket.type.__get__
_INET_FAMILIES: Final = frozenset({int(socket.AF_INET), int(socket.AF_INET6)})
_SOCK_STREAM: Final = int(socket.SOCK_STREAM)
_IPPROTO_TCP: Final = int(socket.IPPROTO_TCP)
_TCP_NODELAY: Final = int(socket.TCP_NODELAY)


def is_inet(sock: Any) -> bool:
    """Whether *sock* is an IPv4 or IPv6 socket."""
    return RAW_FAMILY(sock) in _INET_FAMILIES


def read_size_for(protocol: object) -> int:
    """How much a socket transport reads at a time for *protocol* (its
    ``READ_SIZE_HINT`` attribute, within bounds)."""
    # hasattr first: compiled, a getattr with a default makes and drops an
    # AttributeError when the attribute is missing (about 4,500 instructions
    # per connection); hasattr asks without one.
    if not hasattr(protocol, _READ_SIZE_HINT):
        return _SOCKET_READ_SIZE
    size = getattr(protocol, _READ_SIZE_HINT)
    return size if type(size) is int and 0 < size <= _SOCKET_READ_SIZE else _SOCKET_READ_SIZE


def shortcut(instance: object, owner: type, name: str, target: Callable[..., object]) -> None:
    """Let *instance*'s *name* calls (``write``, ``sendto``) go straight to *target*.

    *owner*'s method of that name only hands its arguments on to *target*;
    an instance attribute spares that interpreted call on every message
    (about 300 instructions). A subclass that overrides the method keeps it.
    """
    kind = type(instance)
    if kind is owner or getattr(kind, name) is getattr(owner, name):
        setattr(instance, name, target)


def start_socket_transport(
    transport: Any,
    owner: type,
    loop: Any,
    sock: Any,
    protocol: Any,
    waiter: Any,
    server: Any,
    extra: dict[str, Any],
    tcp: bool | None = None,
) -> None:
    """Set up *transport* over *sock* with the ``get_extra_info`` entries
    *extra*, make its core (``_core``) and set it going: a socket transport's
    ``__init__`` once *extra* is complete (*owner* is its public class).

    *tcp* says whether *sock* is a TCP socket when the caller knows it and
    has made *sock* non-blocking (an acceptor); ``None`` asks the socket.
    The protocol's ``connection_made`` runs on the next loop iteration. Done
    here, in compiled code, for the sake of servers with many short
    connections.
    """
    transport._extra = extra
    transport._sock = sock
    if tcp is None:
        if sock.gettimeout() != 0.0:
            sock.setblocking(False)
        tcp = RAW_TYPE(sock) == _SOCK_STREAM and is_inet(sock)
    # Small writes (requests, handshakes) must not wait for Nagle's timer.
    if tcp:
        try:
            if type(sock) is _SOCKET_CLASS:
                _setsockopt_c_socket(sock, _IPPROTO_TCP, _TCP_NODELAY, 1)
            else:
                sock.setsockopt(_IPPROTO_TCP, _TCP_NODELAY, 1)
        except OSError:
            pass
    core = StreamSocketCore(transport, loop, sock, protocol, server, read_size_for(protocol))
    transport._core = core
    shortcut(transport, owner, "write", core.write)
    loop.call_soon(core.start, waiter)
    if waiter is None:
        # Nobody awaits this transport (a server's connection): watch the
        # socket from now on, so that data already there comes with the
        # next poll, in the same iteration as connection_made rather than
        # one later. Read events wait for connection_made all the same (a
        # loop may run them before earlier callbacks). With a waiter,
        # reading starts in connection_made's iteration, as in asyncio,
        # so the task awaiting the connection resumes before the first
        # data_received.
        core.start_reading()


def _bound_or_none(protocol: Any, name: str) -> Any:
    try:
        return getattr(protocol, name)
    except AttributeError:
        return None


def _resolve(waiter: Any) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class TransportCore:
    """Lifecycle of a transport over one file descriptor.

    *transport* is the public object: the protocol and every error report see
    it. *fileobj* (a socket or a pipe's file object) is closed after the
    protocol's ``connection_lost``; *fd* is what the loop watches.
    """

    transport: Any
    name: str
    loop: Any
    protocol: Any
    fileobj: Any
    # Any, not int, here and for the read sizes: these only go to Python
    # calls (os.read, add_reader), and a compiled int attribute would be
    # boxed into a new object on every call (the sizes are past the small
    # int cache).
    fd: Any
    server: Any
    closing: bool
    # Counts from 1 once connection_lost is scheduled, and on with every
    # write dropped after that (asyncio logs from the fifth on).
    conn_lost: int
    paused: bool
    reading: bool
    writing: bool
    high_water: int
    low_water: int
    protocol_paused: bool

    def __init__(
        self, transport: Any, loop: Any, fileobj: Any, fd: int, protocol: Any, server: Any
    ) -> None:
        self.transport = transport
        self.name = type(transport).__name__
        self.loop = loop
        self.protocol = protocol
        self.fileobj = fileobj
        self.fd = fd
        self.server = server
        self.closing = False
        self.conn_lost = 0
        self.paused = False
        self.reading = False
        self.writing = False
        self.high_water = _DEFAULT_HIGH_WATER
        self.low_water = _DEFAULT_HIGH_WATER // 4
        self.protocol_paused = False
        if server is not None:
            server._clients.add(transport)

    def __del__(self) -> None:
        # A transport and its core go together: by their reference count once
        # connection_lost dropped the core's reference (the descriptor closed
        # by then), by the collector otherwise, which finalizes the core with
        # its transport still whole. Here rather than a __del__ of the public
        # class: that would be an interpreted call for every connection.
        transport = self.transport
        if self.fileobj is not None and transport is not None:
            _warn(f"unclosed transport {transport!r}", ResourceWarning, source=transport)
            self.close_unclosed()

    def describe(self) -> str:
        state = "closed" if self.fileobj is None else "closing" if self.closing else "open"
        return f"<{self.name} fd={self.fd} {state}>"

    def start(self, waiter: Any) -> None:
        """The first callback: ``connection_made``, reading, then *waiter*."""
        self.protocol.connection_made(self.transport)
        self.after_connection_made(waiter)

    def after_connection_made(self, waiter: Any) -> None:
        """After ``connection_made``: start reading, then resolve *waiter*."""
        # connection_made may already have paused reading or closed us.
        if not self.closing and not self.paused:
            self.start_reading()
        if waiter is not None and not waiter.cancelled():
            # Right after connection_made, in the same iteration, as asyncio's
            # transports do: code that counts iterations sees the same
            # sequence on either.
            waiter.set_result(None)

    # Reading

    def read_ready(self) -> None:
        """Called by the loop while the descriptor is readable."""
        # Kinds that read override this; one that only writes never watches.
        self.stop_reading()

    def start_reading(self) -> None:
        if not self.reading:
            self.reading = True
            self.loop.add_reader(self.fd, self.read_ready)

    def stop_reading(self) -> None:
        if self.reading:
            self.reading = False
            self.loop.remove_reader(self.fd)

    def is_reading(self) -> bool:
        return not self.paused and not self.closing

    def pause_reading(self) -> None:
        if self.closing or self.paused:
            return
        self.paused = True
        self.stop_reading()

    def resume_reading(self) -> None:
        if self.closing or not self.paused:
            return
        self.paused = False
        self.start_reading()

    # Flow control

    def buffer_size(self) -> int:
        """Bytes accepted for writing and not yet taken by the kernel."""
        return 0

    def set_write_buffer_limits(self, high: int | None, low: int | None) -> None:
        if high is None:
            high = DEFAULT_HIGH_WATER if low is None else 4 * low
        if low is None:
            low = high // 4
        if not high >= low >= 0:
            raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
        self.high_water = high
        self.low_water = low
        self.maybe_pause_protocol()

    def maybe_pause_protocol(self) -> None:
        if self.protocol_paused or self.buffer_size() <= self.high_water:
            return
        self.protocol_paused = True
        try:
            self.protocol.pause_writing()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self.report("protocol.pause_writing() failed", exc)

    def maybe_resume_protocol(self) -> None:
        if not self.protocol_paused or self.buffer_size() > self.low_water:
            return
        self.protocol_paused = False
        try:
            self.protocol.resume_writing()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self.report("protocol.resume_writing() failed", exc)

    # Errors and the end

    def close(self) -> None:
        """Close once the buffer is flushed; ``connection_lost(None)`` follows."""
        if self.closing:
            return
        self.closing = True
        self.stop_reading()
        if not self.buffer_size():
            self.schedule_connection_lost(None)

    def report(self, message: str, exc: BaseException) -> None:
        self.loop.call_exception_handler(
            {
                "message": message,
                "exception": exc,
                "transport": self.transport,
                "protocol": self.protocol,
            }
        )

    def fatal_error(self, exc: BaseException, message: str) -> None:
        # A peer resetting or vanishing is ordinary network life: it reaches
        # connection_lost, and only debug mode logs it.
        if isinstance(exc, _OS_ERROR):
            if self.loop.get_debug():
                logger.debug("%r: %s", self.transport, message, exc_info=True)
        else:
            self.report(message, exc)
        self.force_close(exc)

    def force_close(self, exc: BaseException | None) -> None:
        """Drop what is buffered, stop watching, schedule ``connection_lost(exc)``."""
        if self.conn_lost:
            return
        self.drop_buffer()
        self.stop_writing()
        self.closing = True
        self.stop_reading()
        self.schedule_connection_lost(exc)

    def drop_buffer(self) -> None:
        """Forget whatever waits to be written (nothing, for kinds that only read)."""

    def stop_writing(self) -> None:
        if self.writing:
            self.writing = False
            self.loop.remove_writer(self.fd)

    def schedule_connection_lost(self, exc: BaseException | None) -> None:
        self.conn_lost += 1
        self.loop.call_soon(self.call_connection_lost, exc)

    def call_connection_lost(self, exc: BaseException | None) -> None:
        # A write that completed during close() lands here directly, so the
        # counter may still be zero.
        if not self.conn_lost:
            self.conn_lost = 1
        self.stop_reading()
        self.stop_writing()
        try:
            self.protocol.connection_lost(exc)
        finally:
            self.close_unclosed()
            server = self.server
            self.server = None
            if server is not None:
                clients = server._clients
                clients.discard(self.transport)
                if not clients:
                    server._clients_gone()
            # A protocol usually holds its transport, and the transport holds
            # this core: drop the other halves of those cycles so all three
            # go as soon as the application lets go.
            self.forget_protocol()
            self.transport = None

    def forget_protocol(self) -> None:
        self.protocol = None

    def close_unclosed(self) -> None:
        """Close the descriptor, if still open (also for a transport nobody closed)."""
        fileobj = self.fileobj
        if fileobj is not None:
            self.fileobj = None
            _close_file(fileobj)


class StreamCore(TransportCore):
    """The write path of a byte stream: send at once, buffer only what is left.

    A transport whose peer keeps up never touches the buffer or the writer
    registration. Subclasses say how bytes leave (:meth:`send`) and what
    happens once the buffer is empty (:meth:`drained`).
    """

    buffer: bytearray
    # write_eof() was called on a socket: write() is refused, and the write
    # side shuts down once the buffer is flushed. (A pipe closes instead.)
    eof: bool
    # While sendfile() owns the socket (resolved when the buffer drains) and
    # while it waits for the socket to take more.
    flushed: Any
    writable: Any
    lost_warning: str

    def __init__(
        self, transport: Any, loop: Any, fileobj: Any, fd: int, protocol: Any, server: Any
    ) -> None:
        super().__init__(transport, loop, fileobj, fd, protocol, server)
        self.buffer = bytearray()
        self.eof = False
        self.flushed = None
        self.writable = None
        self.lost_warning = "socket.send() raised exception."

    def send(self, data: Any) -> int:
        """Write what the descriptor takes of *data* now; how much it took."""
        return 0

    def drained(self) -> None:
        """The buffer was flushed: finish a close or an end of writing."""

    def writes_closed(self) -> bool:
        return self.conn_lost > 0

    def buffer_size(self) -> int:
        return len(self.buffer)

    def write(self, data: Any) -> None:
        if type(data) is not bytes:
            check_bytes_like(data, "write()")
        if self.eof:
            raise RuntimeError("Cannot call write() after write_eof()")
        if self.flushed is not None:
            raise RuntimeError("unable to write; sendfile is in progress")
        if not data:
            return
        if self.writes_closed():
            if self.conn_lost >= LOG_THRESHOLD_FOR_CONNLOST_WRITES:
                logger.warning(self.lost_warning)
            self.conn_lost += 1
            return
        buffer = self.buffer
        if buffer:
            buffer += data
        else:
            try:
                sent = self.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self.fatal_error(exc, self.write_error_message())
                return
            if sent == len(data):
                return
            view = memoryview(data)
            buffer += view[sent:]
            self.writing = True
            self.loop.add_writer(self.fd, self.write_ready)
        self.maybe_pause_protocol()

    def writelines(self, list_of_data: Any) -> None:
        chunks = list(list_of_data)
        for chunk in chunks:
            check_bytes_like(chunk, "writelines()")
        self.write(b"".join(chunks))

    def write_error_message(self) -> str:
        return "Fatal write error on socket transport"

    def write_ready(self) -> None:
        buffer = self.buffer
        try:
            sent = self.send(buffer)
        except (BlockingIOError, InterruptedError):
            return
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self.stop_writing()
            buffer.clear()
            self.fatal_error(exc, self.write_error_message())
            return
        if sent:
            del buffer[:sent]
        self.maybe_resume_protocol()
        if buffer:
            return
        self.stop_writing()
        self.drained()

    def drop_buffer(self) -> None:
        if self.buffer:
            self.buffer.clear()


@final
class StreamSocketCore(StreamCore):
    """A connected stream socket (TCP or Unix): reads, writes, half-closes.

    Reading stays registered while the transport reads, and ``recv`` (or
    ``recv_into`` a :class:`~asyncio.BufferedProtocol`'s own buffer) runs
    straight from the readiness callback.
    """

    sock: Any
    buffered: bool
    # The protocol's get_buffer and buffer_updated, or its data_received.
    get_buffer: Any
    deliver: Any
    read_size: Any
    # What the next read asks for (see _SMALL_READ), and how many reads in a
    # row brought a small message.
    read_now: Any
    small_reads: int
    reading_small: bool
    started: bool
    # Read and write the descriptor with os.read()/os.write() (see
    # _RAW_IO_POSSIBLE); not for a socket class with its own recv or send.
    raw_io: bool
    # The loop calls read_failed when a reset is pending (_reports_errors).
    hears_errors: bool
    # The errno read_failed took from the socket (0: none). Data queued
    # before the reset is still read first; the end of it is the reset,
    # not an end of stream.
    reset: int

    def __init__(
        self,
        transport: Any,
        loop: Any,
        sock: Any,
        protocol: Any,
        server: Any,
        read_size: int,
    ) -> None:
        super().__init__(transport, loop, sock, sock.fileno(), protocol, server)
        self.sock = sock
        self.remember_callbacks(protocol)
        self.read_size = self.read_now = read_size
        self.small_reads = 0
        self.reading_small = False
        self.started = False
        kind = type(sock)
        self.raw_io = _RAW_IO_POSSIBLE and (
            kind is _SOCKET_CLASS
            or (
                getattr(kind, "recv", None) is _PLAIN_RECV
                and getattr(kind, "send", None) is _PLAIN_SEND
            )
        )
        self.hears_errors = _reports_errors(loop)
        self.reset = 0

    def set_protocol(self, protocol: Any, read_size: int) -> None:
        self.remember_callbacks(protocol)
        self.read_size = self.read_now = read_size
        self.small_reads = 0
        self.reading_small = False
        self.protocol = protocol

    def remember_callbacks(self, protocol: Any) -> None:
        # Bound once per protocol (as uvloop does): a method looked up on
        # every read costs a search of the protocol's class and instance. A
        # protocol without the method is told so when data comes, as asyncio
        # does (read_ready then asks the protocol itself).
        self.buffered = buffered = isinstance(protocol, _BUFFERED_PROTOCOL)
        self.get_buffer = _bound_or_none(protocol, "get_buffer") if buffered else None
        self.deliver = _bound_or_none(protocol, "buffer_updated" if buffered else "data_received")

    def forget_protocol(self) -> None:
        self.protocol = self.get_buffer = self.deliver = None

    def start(self, waiter: Any) -> None:
        self.started = True
        try:
            self.protocol.connection_made(self.transport)
        except BaseException as exc:
            self.force_close(exc)
            if waiter is not None and not waiter.done():
                # Whoever awaits the connection hears of it.
                waiter.set_exception(exc)
                if isinstance(exc, Exception):
                    return
            # Nobody else would: the loop reports it as asyncio does, with
            # this callback's handle ("Exception in callback ...").
            raise
        self.after_connection_made(waiter)

    # Reading

    def start_reading(self) -> None:
        if self.reading:
            return
        self.reading = True
        if self.hears_errors:
            self.loop.add_reader_with_errors(self.fd, self.read_ready, self.read_failed)
        else:
            self.loop.add_reader(self.fd, self.read_ready)

    def read_failed(self) -> None:
        """Called instead of :meth:`read_ready` when the poller reports an
        error pending on the socket (a reset): the read that would raise it
        costs an exception with a traceback entry and a message decoded from
        the locale, which a server with many short connections pays for
        each one. The error is taken from the socket instead, and the read
        that follows returns what was queued before it, then the end."""
        if self.conn_lost or not self.started:
            return
        if not self.reset:
            self.reset = self.sock.getsockopt(_SOL_SOCKET, _SO_ERROR)
        self.read_ready()

    def report_reset(self) -> None:
        """End with the error read_failed took, as the read would have."""
        self.fatal_error(_os_error(self.reset), "Fatal read error on socket transport")

    def fatal_error(self, exc: BaseException, message: str) -> None:
        if self.reset and isinstance(exc, _OS_ERROR) and exc.errno != self.reset:
            # Taken from the socket, the reset no longer fails the calls
            # made since (a send says EPIPE): it is what they failed for.
            exc = _os_error(self.reset)
        TransportCore.fatal_error(self, exc, message)

    def read_ready(self) -> None:
        if self.conn_lost or not self.started:
            return
        protocol = self.protocol
        # A BufferedProtocol is read into its own buffer, any other gets bytes.
        buffer: Any = None
        if self.buffered:
            try:
                get_buffer = self.get_buffer
                buffer = get_buffer(-1) if get_buffer is not None else protocol.get_buffer(-1)
                if not len(buffer):
                    raise RuntimeError("get_buffer() returned an empty buffer")
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self.fatal_error(exc, "Fatal error: protocol.get_buffer() call failed.")
                return
        try:
            if buffer is not None:
                received: Any = self.sock.recv_into(buffer)
            elif self.raw_io:
                received = _read(self.fd, self.read_now)
            else:
                received = self.sock.recv(self.read_now)
        except (BlockingIOError, InterruptedError):
            if self.reset:
                # Nothing left and no end of stream: the error taken from
                # the socket is what this read would have raised.
                self.report_reset()
            return
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self.fatal_error(exc, "Fatal read error on socket transport")
            return
        if not received:
            if self.reset:
                self.report_reset()
            else:
                self.eof_received()
            return
        if buffer is None:
            self.size_next_read(len(received))
        try:
            deliver = self.deliver
            if deliver is not None:
                deliver(received)
            elif buffer is None:
                protocol.data_received(received)
            else:
                protocol.buffer_updated(received)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            called = "data_received" if buffer is None else "buffer_updated"
            self.fatal_error(exc, f"Fatal error: protocol.{called}() call failed.")

    def size_next_read(self, count: int) -> None:
        """After a read of *count* bytes: what the next one asks for."""
        # Native comparisons only (the sizes themselves are objects).
        if self.reading_small:
            if count >= _SMALL_READ:
                # Filled: more may be waiting, and messages are not small.
                self.reading_small = False
                self.read_now = self.read_size
                self.small_reads = 0
        elif count > _SMALL_READ:
            self.small_reads = 0
        else:
            self.small_reads += 1
            if self.small_reads >= _SMALL_MESSAGES_TO_SHRINK and self.read_size > _SMALL_READ:
                self.reading_small = True
                self.read_now = _SMALL_READ

    def eof_received(self) -> None:
        if self.loop.get_debug():
            logger.debug("%r received EOF", self.transport)
        try:
            keep_open = self.protocol.eof_received()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self.fatal_error(exc, "Fatal error: protocol.eof_received() call failed.")
            return
        if keep_open:
            # Half-closed: nothing more will arrive, but we may still write.
            self.stop_reading()
        else:
            self.close()

    # Writing

    def send(self, data: Any) -> int:
        if self.raw_io:
            return _write(self.fd, data)
        sent: int = self.sock.send(data)
        return sent

    def write_ready(self) -> None:
        if not self.conn_lost:
            StreamCore.write_ready(self)

    def drained(self) -> None:
        _resolve(self.flushed)
        if self.closing:
            self.call_connection_lost(None)
        elif self.eof:
            self.shutdown_write()

    def shutdown_write(self) -> None:
        try:
            self.sock.shutdown(_SHUT_WR)
        except OSError as exc:
            self.fatal_error(exc, "Fatal error on socket.shutdown(SHUT_WR)")

    def write_eof(self) -> None:
        if self.closing or self.eof:
            return
        self.eof = True
        if not self.buffer:
            self.shutdown_write()

    def wait_writable(self, writable: Any) -> None:
        """Resolve *writable* once the socket takes more (for sendfile)."""
        self.writable = writable
        self.writing = True
        self.loop.add_writer(self.fd, _resolve, writable)

    def force_close(self, exc: BaseException | None) -> None:
        if self.conn_lost:
            return
        # The sendfile side sees conn_lost and raises.
        _resolve(self.flushed)
        _resolve(self.writable)
        TransportCore.force_close(self, exc)


@final
class ReadPipeCore(TransportCore):
    """The reading end of a pipe: delivers data, then EOF and the end."""

    def read_ready(self) -> None:
        try:
            data = _read(self.fd, _MAX_READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.fatal_error(exc, "Fatal read error on pipe transport")
            return
        if data:
            self.protocol.data_received(data)
            return
        if self.loop.get_debug():
            logger.info("%r was closed by peer", self.transport)
        self.closing = True
        self.stop_reading()
        self.conn_lost += 1
        self.loop.call_soon(self.protocol.eof_received)
        self.loop.call_soon(self.call_connection_lost, None)


@final
class WritePipeCore(StreamCore):
    """The writing end of a pipe: closing it is its end of writing.

    It watches its descriptor for readability too (when *watch_peer*): on a
    pipe that only happens when the reading end closed, which is how a
    vanished reader is noticed before the next write.
    """

    watch_peer: bool
    lost_scheduled: bool

    def __init__(
        self, transport: Any, loop: Any, pipe: Any, fd: int, protocol: Any, watch_peer: bool
    ) -> None:
        super().__init__(transport, loop, pipe, fd, protocol, None)
        self.watch_peer = watch_peer
        self.lost_scheduled = False
        self.lost_warning = "pipe closed by peer or os.write(pipe, data) raised exception."

    def after_connection_made(self, waiter: Any) -> None:
        # Reading here is only the watch for a vanished reader.
        if self.watch_peer and not self.conn_lost:
            self.start_reading()
        if waiter is not None and not waiter.cancelled():
            waiter.set_result(None)

    def read_ready(self) -> None:
        self.force_close(BrokenPipeError() if self.buffer else None)

    def send(self, data: Any) -> int:
        return _write(self.fd, data)

    def writes_closed(self) -> bool:
        return self.lost_scheduled or self.closing

    def write_error_message(self) -> str:
        return "Fatal write error on pipe transport"

    def drained(self) -> None:
        if self.closing:
            self.stop_reading()
            self.schedule_connection_lost(None)

    def write_eof(self) -> None:
        if self.closing:
            return
        self.closing = True
        if not self.buffer:
            self.stop_reading()
            self.schedule_connection_lost(None)

    def close(self) -> None:
        if self.fileobj is not None and not self.closing:
            self.write_eof()

    def force_close(self, exc: BaseException | None) -> None:
        self.stop_writing()
        self.stop_reading()
        self.buffer.clear()
        self.closing = True
        self.schedule_connection_lost(exc)

    def schedule_connection_lost(self, exc: BaseException | None) -> None:
        if self.lost_scheduled:
            return
        self.lost_scheduled = True
        TransportCore.schedule_connection_lost(self, exc)


# Datagrams read per readiness event, at most.
_DATAGRAMS_PER_EVENT: Final = 16


@final
class DatagramCore(TransportCore):
    """A datagram socket: a datagram goes out whole at once or waits, whole,
    in a queue drained when the socket is writable.

    Errors the socket reports for one datagram (ICMP port unreachable, say)
    reach the protocol's ``error_received`` and the transport stays open.
    *address* is the peer ``sendto`` is limited to, if any; a *connected*
    socket sends with ``send``.
    """

    sock: Any
    read_size: Any
    address: Any
    connected: bool
    queue: collections.deque[tuple[bytes, Any]]
    queued_bytes: int
    # Datagrams to read at the next readiness event, at most (see read_ready).
    burst: int

    def __init__(
        self,
        transport: Any,
        loop: Any,
        sock: Any,
        protocol: Any,
        read_size: int,
        address: Any,
        connected: bool,
    ) -> None:
        super().__init__(transport, loop, sock, sock.fileno(), protocol, None)
        self.sock = sock
        self.read_size = read_size
        self.address = address
        self.connected = connected
        self.queue = collections.deque()
        self.queued_bytes = 0
        self.burst = 1

    def buffer_size(self) -> int:
        return self.queued_bytes

    def read_ready(self) -> None:
        # Several datagrams per readiness event while they keep coming: each
        # one read here spares a poll and a loop iteration (a busy UDP
        # server has many queued). The burst grows while every read of one
        # finds a datagram and shrinks to what the last one found, so an
        # idle socket pays the failed read (and its exception) on at most
        # every other event.
        burst = self.burst
        for received in range(burst):
            if self.conn_lost or self.paused or self.closing:
                return
            try:
                data, address = self.sock.recvfrom(self.read_size)
            except (BlockingIOError, InterruptedError):
                self.burst = received if received > 1 else 1
                return
            except OSError as exc:
                self.protocol.error_received(exc)
                return
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self.fatal_error(exc, "Fatal read error on datagram transport")
                return
            self.protocol.datagram_received(data, address)
        if burst < _DATAGRAMS_PER_EVENT:
            self.burst = burst * 2

    def sendto(self, data: Any, addr: Any = None) -> None:
        if type(data) is not bytes:
            check_bytes_like(data, "sendto()")
        if self.address is not None:
            if addr is not None and addr != self.address:
                raise ValueError(f"Invalid address: must be None or {self.address}")
            addr = self.address
        elif addr is None and not self.connected:
            raise ValueError("sendto() needs an address: the transport is not connected")
        if self.conn_lost:
            if self.conn_lost >= LOG_THRESHOLD_FOR_CONNLOST_WRITES:
                logger.warning("socket.sendto() raised exception.")
            self.conn_lost += 1
            return
        if not self.queue:
            try:
                self.send(data, addr)
                return
            except (BlockingIOError, InterruptedError):
                self.writing = True
                self.loop.add_writer(self.fd, self.write_ready)
            except OSError as exc:
                self.protocol.error_received(exc)
                return
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self.fatal_error(exc, "Fatal write error on datagram transport")
                return
        self.queue.append((bytes(data), addr))
        self.queued_bytes += len(data)
        self.maybe_pause_protocol()

    def send(self, data: Any, addr: Any) -> None:
        if self.connected:
            self.sock.send(data)
        else:
            self.sock.sendto(data, addr)

    def write_ready(self) -> None:
        queue = self.queue
        while queue:
            data, addr = queue[0]
            try:
                self.send(data, addr)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                queue.popleft()
                self.queued_bytes -= len(data)
                self.protocol.error_received(exc)
                continue
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self.fatal_error(exc, "Fatal write error on datagram transport")
                return
            queue.popleft()
            self.queued_bytes -= len(data)
        self.maybe_resume_protocol()
        if not queue:
            self.stop_writing()
            if self.closing:
                self.call_connection_lost(None)

    def drop_buffer(self) -> None:
        self.queue.clear()
        self.queued_bytes = 0


# Connections accepted per readiness event of a listening socket, at most.
ACCEPTS_PER_EVENT: Final = 16
_OUT_OF_RESOURCES: Final = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


@final
class Acceptor:
    """What a server's listening socket runs when it is readable: accept the
    queued connections and make each one a transport.

    Several connections per readiness event when several are queued (a
    burst of clients): each one accepted here spares a loop iteration and a
    poll. After a single connection, though, the next accept() would most
    often fail, costing an exception on every wake-up of a server that is
    not flooded; and the bound keeps the connections already open served
    while clients keep arriving.

    *transport_class* is set up by :func:`start_socket_transport`, as its
    ``__init__`` does (its ``__init__`` is not called).

    A plain ``socket.socket`` skips its Python-level ``accept()``, which
    converts the listener's family and type to enums on every call: the
    connection gets them as the plain numbers read once here, then one
    ``setblocking`` call. A socket subclass keeps its own ``accept()``.
    """

    def __init__(self, server: Any, listener: Any, transport_class: Any) -> None:
        self.server = server
        self.loop: Any = server._loop
        self.listener = listener
        self.transport_class = transport_class
        self.family = RAW_FAMILY(listener)
        self.type = RAW_TYPE(listener)
        self.proto: int = listener.proto
        self.plain = type(listener) is _SOCKET_CLASS
        # Fixed for the server's life: read once, not per connection.
        self.protocol_factory: Any = server._protocol_factory
        self.ssl_context: Any = server._ssl_context
        self.tcp = self.type == _SOCK_STREAM and is_inet(listener)
        # Makes a TLS server's connection the protocol that answers the
        # handshake, then starts the server's protocol (see Server); without
        # it, a task per connection upgrades it with start_tls.
        self.serve_tls: Any = server._serve_tls
        self.tls_by_task = self.ssl_context is not None and self.serve_tls is None

    def ready(self) -> None:
        server = self.server
        listener = self.listener
        for _ in range(ACCEPTS_PER_EVENT):
            # The accept is made here, not in a method of its own: compiled,
            # an exception gets a traceback entry (a new code object and
            # frame) in every function it leaves, and the last accept of a
            # readiness event usually finds nobody waiting.
            try:
                if self.plain:
                    fd, address = _accept_c_socket(listener)
                    conn = _socket_from_descriptor(self.family, self.type, self.proto, fd)
                    _setblocking_c_socket(conn, False)
                else:
                    conn, address = listener.accept()
                    conn.setblocking(False)
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as exc:
                if exc.errno not in _OUT_OF_RESOURCES:
                    raise
                server._pause_accepting(listener, exc)
                return
            if self.tls_by_task:
                server._start_handshake(conn, address)
            else:
                self.make_transport(conn, address)

    def make_transport(self, conn: Any, address: Any) -> None:
        try:
            protocol = self.protocol_factory()
            if self.serve_tls is not None:
                server = self.server
                protocol = self.serve_tls(
                    protocol,
                    self.ssl_context,
                    ssl_handshake_timeout=server._ssl_handshake_timeout,
                    ssl_shutdown_timeout=server._ssl_shutdown_timeout,
                )
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            conn.close()
            self.loop.call_exception_handler(
                {
                    "message": "Error on transport creation for incoming connection",
                    "exception": exc,
                }
            )
            return
        # What the transport class's __init__ would do, without its
        # interpreted frame: its entries here are complete (the peer's
        # address came with the connection).
        cls = self.transport_class
        transport = _new_object(cls)
        extra = {"socket": conn, "peername": address}
        start_socket_transport(
            transport, cls, self.loop, conn, protocol, None, self.server, extra, self.tcp
        )
