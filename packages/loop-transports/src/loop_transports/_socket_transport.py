"""The stream transport over a connected socket (TCP or Unix).

:class:`SocketTransport` is asyncio's :class:`~asyncio.Transport` over a
:class:`~loop_transports._cores.StreamSocketCore`, which reads and writes;
this module adds the socket's setup, its ``get_extra_info`` entries and what
``sendfile`` needs to take the socket over for a while.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from loop_transports._abstractions import Transport
from loop_transports._base import ConnectionOwner
from loop_transports._cores import StreamSocketCore, read_size_for, start_socket_transport
from loop_transports._descriptor import ReadingTransport

__all__ = ["SocketTransport", "socket_extra_info"]

_ADDRESS_QUERIES = {"sockname": "getsockname", "peername": "getpeername"}


def _ask_address(sock: socket.socket, name: str) -> Any:
    try:
        return getattr(sock, _ADDRESS_QUERIES[name])()
    except OSError:
        return None  # closed, or (peername) not connected


def socket_extra_info(sock: socket.socket) -> dict[str, Any]:
    """The 'socket', 'sockname' and 'peername' entries of ``get_extra_info``, asked now."""
    return {
        "socket": sock,
        "sockname": _ask_address(sock, "sockname"),
        "peername": _ask_address(sock, "peername"),
    }


class SocketTransport(ReadingTransport, Transport):
    """A :class:`~asyncio.Transport` over a connected, non-blocking stream socket.

    The protocol's ``connection_made`` runs on the next loop iteration,
    reading starts right after it, and *waiter* (if given) is resolved then.
    """

    _start_tls_compatible = True  # loop-ssl can layer TLS over it
    _core: StreamSocketCore
    _sock: socket.socket

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        protocol: asyncio.BaseProtocol,
        waiter: asyncio.Future[None] | None = None,
        extra: dict[str, Any] | None = None,
        server: ConnectionOwner | None = None,
    ) -> None:
        entries = {"socket": sock, **extra} if extra else {"socket": sock}
        # 'sockname' is asked of the socket when first wanted (it is still
        # open in connection_lost, as in asyncio): a system call and an
        # address formatted (about 2,500 instructions, most of them
        # inet_ntop's sprintf) per connection that most servers never look
        # at. The peer's address must be known before a reset can lose it;
        # a server has it from accept() and passes it in *extra*.
        if "peername" not in entries:
            entries["peername"] = _ask_address(sock, "peername")
        start_socket_transport(self, SocketTransport, loop, sock, protocol, waiter, server, entries)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """Return the transport's *name* property ('socket', 'sockname', 'peername', ...)."""
        extra = self._extra
        if name == "sockname" and name not in extra:
            extra[name] = _ask_address(self._sock, name)
        return extra.get(name, default)

    def set_protocol(self, protocol: Any) -> None:
        """Hand further events to *protocol*, buffered or not."""
        self._core.set_protocol(protocol, read_size_for(protocol))

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Send *data*, buffering what the socket cannot take now; never blocks."""
        self._core.write(data)

    def writelines(self, list_of_data: Any) -> None:
        """Write every bytes-like object of an iterable, in one send when possible."""
        self._core.writelines(list_of_data)

    def can_write_eof(self) -> bool:
        """Stream sockets can half-close: always true."""
        return True

    def write_eof(self) -> None:
        """Close the write side once the buffer is flushed; reading goes on."""
        self._core.write_eof()

    # What sendfile() asks of the transport

    async def _take_socket(self) -> socket.socket:
        """Wait until the write buffer is empty and hold off :meth:`write`:
        ``sendfile`` then writes to the socket directly."""
        core = self._core
        if core.flushed is not None:
            raise RuntimeError("sendfile is already in progress on this transport")
        flushed: asyncio.Future[None] = core.loop.create_future()
        core.flushed = flushed
        if not core.buffer:
            flushed.set_result(None)
        try:
            await flushed
        except BaseException:
            core.flushed = None
            raise
        if core.conn_lost:
            core.flushed = None
            raise ConnectionError("Connection closed by peer")
        return self._sock

    def _release_socket(self) -> None:
        self._core.flushed = None

    def _check_open(self) -> None:
        if self._core.conn_lost:
            raise ConnectionError("Connection closed by peer")

    async def _wait_writable(self) -> None:
        """For ``sendfile``: wait until the socket takes more; ``ConnectionError``
        if the connection is lost meanwhile (the socket is then closed)."""
        self._check_open()
        core = self._core
        writable: asyncio.Future[None] = core.loop.create_future()
        core.wait_writable(writable)
        try:
            await writable
        finally:
            core.writable = None
            core.stop_writing()
        self._check_open()
