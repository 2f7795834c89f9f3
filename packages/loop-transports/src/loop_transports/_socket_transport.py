"""The stream transport over a connected socket (TCP or Unix).

Reading stays registered with the loop while the transport reads and
``recv`` (or ``recv_into`` a :class:`~asyncio.BufferedProtocol`'s own buffer)
runs straight from the readiness callback. Writing tries ``send`` first and
only buffers what the kernel did not take, so a transport whose peer keeps up
never touches the write buffer or the writer registration.
"""

from __future__ import annotations

import _socket
import asyncio
import socket
from collections.abc import Callable
from typing import Any

from loop_transports._abstractions import Transport
from loop_transports._base import (
    LOG_THRESHOLD_FOR_CONNLOST_WRITES,
    ConnectionOwner,
    DescriptorTransport,
    check_bytes_like,
    logger,
    read_size_for,
)

__all__ = ["SocketTransport", "is_inet", "socket_extra_info"]

# The socket's family and type as plain numbers: the ``family`` and ``type``
# properties of socket.socket build an enum member on every access.
_RAW_FAMILY: Callable[[socket.socket], int] = _socket.socket.family.__get__
_RAW_TYPE: Callable[[socket.socket], int] = _socket.socket.type.__get__
_INET_FAMILIES = frozenset({socket.AF_INET, socket.AF_INET6})


def is_inet(sock: socket.socket) -> bool:
    """Whether *sock* is an IPv4 or IPv6 socket."""
    return _RAW_FAMILY(sock) in _INET_FAMILIES


def socket_extra_info(sock: socket.socket, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The 'socket', 'sockname' and 'peername' entries of ``get_extra_info``,
    updated with *extra* (a 'peername' there spares asking the kernel)."""
    info: dict[str, Any] = {"socket": sock}
    try:
        info["sockname"] = sock.getsockname()
    except OSError:
        info["sockname"] = None
    if extra is None or "peername" not in extra:
        try:
            info["peername"] = sock.getpeername()
        except OSError:
            info["peername"] = None
    if extra:
        info.update(extra)
    return info


def _set_nodelay(sock: socket.socket) -> None:
    # Small writes (requests, handshakes) must not wait for Nagle's timer.
    if is_inet(sock) and _RAW_TYPE(sock) == socket.SOCK_STREAM:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


def _set_result_unless_cancelled(waiter: asyncio.Future[None]) -> None:
    if not waiter.cancelled():
        waiter.set_result(None)


class SocketTransport(DescriptorTransport, Transport):
    """A :class:`~asyncio.Transport` over a connected, non-blocking stream socket.

    The protocol's ``connection_made`` runs on the next loop iteration,
    reading starts right after it, and *waiter* (if given) is resolved then.
    """

    _start_tls_compatible = True  # loop-ssl can layer TLS over it

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        protocol: asyncio.BaseProtocol,
        waiter: asyncio.Future[None] | None = None,
        extra: dict[str, Any] | None = None,
        server: ConnectionOwner | None = None,
    ) -> None:
        info = socket_extra_info(sock, extra)
        super().__init__(loop, sock, sock.fileno(), protocol, info, server)
        if sock.gettimeout() != 0.0:
            sock.setblocking(False)
        _set_nodelay(sock)
        self._sock = sock
        self._buffered = isinstance(protocol, asyncio.BufferedProtocol)
        self._read_size = read_size_for(protocol)
        self._buffer = bytearray()
        self._eof = False
        self._paused = False
        self._reading_registered = False
        self._writing_registered = False
        self._flushed: asyncio.Future[None] | None = None  # set while sendfile owns the socket
        self._writable: asyncio.Future[None] | None = None  # sendfile waiting to send more
        self._started = False
        loop.call_soon(self._start, waiter)
        if waiter is None:
            # Nobody awaits this transport (a server's connection): watch the
            # socket from now on, so that data already there comes with the
            # next poll, in the same iteration as connection_made rather than
            # one later. Read events wait for connection_made all the same (a
            # loop may run them before earlier callbacks). With a waiter,
            # reading starts in connection_made's iteration, as in asyncio,
            # so the task awaiting the connection resumes before the first
            # data_received.
            self._add_reader()

    def _start(self, waiter: asyncio.Future[None] | None) -> None:
        self._started = True
        try:
            self._protocol.connection_made(self)
        except BaseException as exc:
            self._force_close(exc)
            if waiter is not None and not waiter.done():
                # Whoever awaits the connection hears of it.
                waiter.set_exception(exc)
                if isinstance(exc, Exception):
                    return
            # Nobody else would: the loop reports it as asyncio does, with
            # this callback's handle ("Exception in callback ...").
            raise
        # connection_made may already have paused reading or closed us.
        if not self._closing and not self._paused:
            self._add_reader()
        if waiter is not None:
            # Right after connection_made, in the same iteration, as asyncio's
            # transports do: code that counts iterations (tests do) sees the
            # same sequence on either.
            _set_result_unless_cancelled(waiter)

    def _add_reader(self) -> None:
        if not self._reading_registered:
            self._reading_registered = True
            self._loop.add_reader(self._fd, self._read_ready)

    def _remove_reader(self) -> None:
        if self._reading_registered:
            self._reading_registered = False
            self._loop.remove_reader(self._fd)

    def _remove_writer(self) -> None:
        if self._writing_registered:
            self._writing_registered = False
            self._loop.remove_writer(self._fd)

    def set_protocol(self, protocol: Any) -> None:
        """Hand further events to *protocol*, buffered or not."""
        self._buffered = isinstance(protocol, asyncio.BufferedProtocol)
        self._read_size = read_size_for(protocol)
        self._protocol = protocol

    # Reading

    def is_reading(self) -> bool:
        """Whether the transport is receiving (not paused, not closing)."""
        return not self._paused and not self._closing

    def pause_reading(self) -> None:
        """Stop calling the protocol's ``data_received`` until :meth:`resume_reading`."""
        if self._closing or self._paused:
            return
        self._paused = True
        self._remove_reader()

    def resume_reading(self) -> None:
        """Resume delivery of received data."""
        if self._closing or not self._paused:
            return
        self._paused = False
        self._add_reader()

    def _read_ready(self) -> None:
        if self._conn_lost or not self._started:
            return
        if self._buffered:
            self._read_into_protocol_buffer()
            return
        try:
            data = self._sock.recv(self._read_size)
        except (BlockingIOError, InterruptedError):
            return
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal read error on socket transport")
            return
        if not data:
            self._eof_received()
            return
        try:
            self._protocol.data_received(data)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal error: protocol.data_received() call failed.")

    def _read_into_protocol_buffer(self) -> None:
        try:
            buffer = self._protocol.get_buffer(-1)
            if not len(buffer):
                raise RuntimeError("get_buffer() returned an empty buffer")
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal error: protocol.get_buffer() call failed.")
            return
        try:
            nbytes = self._sock.recv_into(buffer)
        except (BlockingIOError, InterruptedError):
            return
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal read error on socket transport")
            return
        if not nbytes:
            self._eof_received()
            return
        try:
            self._protocol.buffer_updated(nbytes)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal error: protocol.buffer_updated() call failed.")

    def _eof_received(self) -> None:
        if self._loop.get_debug():
            logger.debug("%r received EOF", self)
        try:
            keep_open = self._protocol.eof_received()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal error: protocol.eof_received() call failed.")
            return
        if keep_open:
            # Half-closed: nothing more will arrive, but we may still write.
            self._remove_reader()
        else:
            self.close()

    # Writing

    def get_write_buffer_size(self) -> int:
        """Bytes accepted by :meth:`write` and not yet taken by the kernel."""
        return len(self._buffer)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Send *data*, buffering what the socket cannot take now; never blocks."""
        check_bytes_like(data, "write()")
        if self._eof:
            raise RuntimeError("Cannot call write() after write_eof()")
        if self._flushed is not None:
            raise RuntimeError("unable to write; sendfile is in progress")
        if not data:
            return
        if self._conn_lost:
            if self._conn_lost >= LOG_THRESHOLD_FOR_CONNLOST_WRITES:
                logger.warning("socket.send() raised exception.")
            self._conn_lost += 1
            return
        if not self._buffer:
            try:
                sent = self._sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self._fatal_error(exc, "Fatal write error on socket transport")
                return
            if sent == len(data):
                return
            self._buffer += memoryview(data)[sent:]
            self._writing_registered = True
            self._loop.add_writer(self._fd, self._write_ready)
        else:
            self._buffer += data
        self._maybe_pause_protocol()

    def writelines(self, list_of_data: Any) -> None:
        """Write every bytes-like object of an iterable, in one send when possible."""
        chunks = list(list_of_data)
        for chunk in chunks:
            check_bytes_like(chunk, "writelines()")
        self.write(b"".join(chunks))

    def _write_ready(self) -> None:
        if self._conn_lost:
            return
        try:
            sent = self._sock.send(self._buffer)
        except (BlockingIOError, InterruptedError):
            return
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._remove_writer()
            self._buffer.clear()
            self._fatal_error(exc, "Fatal write error on socket transport")
            return
        if sent:
            del self._buffer[:sent]
        self._maybe_resume_protocol()
        if self._buffer:
            return
        self._remove_writer()
        if self._flushed is not None and not self._flushed.done():
            self._flushed.set_result(None)
        if self._closing:
            self._call_connection_lost(None)
        elif self._eof:
            self._shutdown_write()

    def _shutdown_write(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            self._fatal_error(exc, "Fatal error on socket.shutdown(SHUT_WR)")

    def can_write_eof(self) -> bool:
        """Stream sockets can half-close: always true."""
        return True

    def write_eof(self) -> None:
        """Close the write side once the buffer is flushed; reading goes on."""
        if self._closing or self._eof:
            return
        self._eof = True
        if not self._buffer:
            self._shutdown_write()

    async def _take_socket(self) -> socket.socket:
        """Wait until the write buffer is empty and hold off :meth:`write`:
        ``sendfile`` then writes to the socket directly."""
        if self._flushed is not None:
            raise RuntimeError("sendfile is already in progress on this transport")
        self._flushed = self._loop.create_future()
        if not self._buffer:
            self._flushed.set_result(None)
        try:
            await self._flushed
        except BaseException:
            self._flushed = None
            raise
        if self._conn_lost:
            self._flushed = None
            raise ConnectionError("Connection closed by peer")
        return self._sock

    def _release_socket(self) -> None:
        self._flushed = None

    def _check_open(self) -> None:
        if self._conn_lost:
            raise ConnectionError("Connection closed by peer")

    async def _wait_writable(self) -> None:
        """For ``sendfile``: wait until the socket takes more; ``ConnectionError``
        if the connection is lost meanwhile (the socket is then closed)."""
        self._check_open()
        writable: asyncio.Future[None] = self._loop.create_future()
        self._writable = writable
        self._writing_registered = True
        self._loop.add_writer(self._fd, _set_result_unless_cancelled, writable)
        try:
            await writable
        finally:
            self._writable = None
            self._remove_writer()
        self._check_open()

    # Closing

    def close(self) -> None:
        """Close after flushing the write buffer; ``connection_lost(None)`` follows."""
        if self._closing:
            return
        self._closing = True
        self._remove_reader()
        if not self._buffer:
            self._conn_lost += 1
            self._loop.call_soon(self._call_connection_lost, None)

    def abort(self) -> None:
        """Close at once, dropping buffered data; ``connection_lost(None)`` follows."""
        self._force_close(None)

    def _force_close(self, exc: BaseException | None) -> None:
        if self._conn_lost:
            return
        for waiter in (self._flushed, self._writable):
            if waiter is not None and not waiter.done():
                waiter.set_result(None)  # the sendfile side sees _conn_lost and raises
        if self._buffer:
            self._buffer.clear()
        self._remove_writer()
        if not self._closing:
            self._closing = True
            self._remove_reader()
        self._conn_lost += 1
        self._loop.call_soon(self._call_connection_lost, exc)

    def _call_connection_lost(self, exc: BaseException | None) -> None:
        # Writes that completed during close() land here directly, so the
        # counter may still be zero.
        if not self._conn_lost:
            self._conn_lost += 1
        self._remove_reader()
        self._remove_writer()
        super()._call_connection_lost(exc)
