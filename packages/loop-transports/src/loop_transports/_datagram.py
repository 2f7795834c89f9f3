"""Datagram transports (UDP and Unix datagram sockets) and ``create_datagram_endpoint``.

A datagram goes out at once when the socket takes it; otherwise it waits, whole,
in a queue drained when the socket is writable. Errors the socket reports for
one datagram (ICMP port unreachable, say) reach ``error_received`` and the
transport stays open.
"""

from __future__ import annotations

import asyncio
import os
import socket
import stat
from collections.abc import Callable
from typing import Any

from loop_transports._abstractions import DatagramTransport
from loop_transports._base import check_port, logger
from loop_transports._cores import DatagramCore, is_inet, shortcut
from loop_transports._descriptor import ReadingTransport
from loop_transports._socket_transport import socket_extra_info

__all__ = ["SocketDatagramTransport", "create_datagram_endpoint"]

# No IPv4 or IPv6 datagram carries more than 64 KiB, and asking for more makes
# every recvfrom() map and unmap memory (see base.MAX_READ_SIZE);
# Unix datagrams can be larger.
MAX_INET_DATAGRAM_SIZE = 64 * 1024
MAX_DATAGRAM_SIZE = 256 * 1024


class SocketDatagramTransport(ReadingTransport, DatagramTransport, asyncio.Transport):
    """A :class:`~asyncio.DatagramTransport` over a non-blocking datagram socket.

    *address* is the connected peer, if any: then ``sendto`` accepts only it
    (or ``None``). Like stock asyncio's, it is also an :class:`asyncio.Transport`
    (code checks for that), so reading can be paused; the stream-only calls
    (``write``, ``write_eof``) are refused.
    """

    _core: DatagramCore

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        protocol: asyncio.BaseProtocol,
        address: Any = None,
        waiter: asyncio.Future[None] | None = None,
    ) -> None:
        self._extra = socket_extra_info(sock)
        sock.setblocking(False)
        self._sock = sock
        read_size = MAX_INET_DATAGRAM_SIZE if is_inet(sock) else MAX_DATAGRAM_SIZE
        connected = self._extra.get("peername") is not None
        core = DatagramCore(self, loop, sock, protocol, read_size, address, connected)
        self._core = core
        shortcut(self, SocketDatagramTransport, "sendto", core.sendto)
        loop.call_soon(core.start, waiter)

    def can_write_eof(self) -> bool:
        """Datagrams have no end of stream: always false."""
        return False

    def write(self, data: Any) -> None:
        """Refused: a datagram transport sends with :meth:`sendto`."""
        raise NotImplementedError("a datagram transport has no write(); use sendto()")

    def writelines(self, list_of_data: Any) -> None:
        """Refused: a datagram transport sends with :meth:`sendto`."""
        raise NotImplementedError("a datagram transport has no writelines(); use sendto()")

    def write_eof(self) -> None:
        """Refused: datagrams have no end of stream."""
        raise NotImplementedError("a datagram transport has no write_eof()")

    def sendto(self, data: bytes | bytearray | memoryview, addr: Any = None) -> None:
        """Send one datagram to *addr* (the connected peer when ``None``)."""
        self._core.sendto(data, addr)


def _check_sock_only(sock: socket.socket, modifiers: dict[str, Any]) -> None:
    if sock.type != socket.SOCK_DGRAM:
        raise ValueError(f"A datagram socket was expected, got {sock!r}")
    given = ", ".join(f"{name}={value!r}" for name, value in modifiers.items() if value)
    if given:
        raise ValueError(
            f"socket modifier keyword arguments can not be used when sock is specified. ({given})"
        )


async def _resolved_pairs(
    loop: asyncio.AbstractEventLoop,
    local_addr: Any,
    remote_addr: Any,
    family: int,
    proto: int,
    flags: int,
) -> list[tuple[tuple[int, int], tuple[Any, Any]]]:
    if family == socket.AF_UNIX:
        for addr in (local_addr, remote_addr):
            if addr is not None and not isinstance(addr, (str, bytes)):
                raise TypeError("string is expected")
        if local_addr and local_addr[0] not in (0, "\x00"):
            try:
                if stat.S_ISSOCK(os.stat(local_addr).st_mode):
                    os.remove(local_addr)
            except FileNotFoundError:
                pass
            except OSError as exc:
                logger.error("Unable to check or remove stale UNIX socket %r: %r", local_addr, exc)
        return [((family, proto), (local_addr, remote_addr))]
    by_family: dict[tuple[int, int], list[Any]] = {}
    for index, addr in enumerate((local_addr, remote_addr)):
        if addr is None:
            continue
        if not (isinstance(addr, tuple) and len(addr) == 2):
            raise TypeError("2-tuple is expected")
        check_port(addr[1], "bind" if index == 0 else "connect")
        infos = await loop.getaddrinfo(
            *addr, family=family, type=socket.SOCK_DGRAM, proto=proto, flags=flags
        )
        if not infos:
            raise OSError("getaddrinfo() returned empty list")
        for fam, _, pro, _, address in infos:
            slot = by_family.setdefault((fam, pro), [None, None])
            if slot[index] is None:
                slot[index] = address
    pairs = [
        (key, (local, remote))
        for key, (local, remote) in by_family.items()
        if (local_addr is None or local is not None) and (remote_addr is None or remote is not None)
    ]
    if not pairs:
        raise ValueError("can not get address information")
    return pairs


async def create_datagram_endpoint(
    loop: asyncio.AbstractEventLoop,
    protocol_factory: Callable[[], Any],
    local_addr: Any = None,
    remote_addr: Any = None,
    *,
    family: int = 0,
    proto: int = 0,
    flags: int = 0,
    reuse_port: bool | None = None,
    allow_broadcast: bool | None = None,
    sock: socket.socket | None = None,
) -> tuple[Any, Any]:
    """Open a datagram endpoint; see the loop method."""
    remote: Any = None
    if sock is not None:
        _check_sock_only(
            sock,
            {
                "local_addr": local_addr,
                "remote_addr": remote_addr,
                "family": family,
                "proto": proto,
                "flags": flags,
                "reuse_port": reuse_port,
                "allow_broadcast": allow_broadcast,
            },
        )
    else:
        if not (local_addr or remote_addr):
            if family == 0:
                raise ValueError("unexpected address family")
            pairs: list[tuple[tuple[int, int], tuple[Any, Any]]] = [((family, proto), (None, None))]
        else:
            pairs = await _resolved_pairs(loop, local_addr, remote_addr, family, proto, flags)
        if reuse_port and not hasattr(socket, "SO_REUSEPORT"):
            raise ValueError("reuse_port not supported by socket module")
        errors: list[OSError] = []
        for (fam, pro), (local, remote_address) in pairs:
            candidate = socket.socket(fam, socket.SOCK_DGRAM, pro)
            try:
                if reuse_port:
                    candidate.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                if allow_broadcast:
                    candidate.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
                candidate.setblocking(False)
                if local is not None:
                    candidate.bind(local)
                if remote_address is not None:
                    if not allow_broadcast:
                        await loop.sock_connect(candidate, remote_address)
                    remote = remote_address
            except OSError as exc:
                candidate.close()
                errors.append(exc)
                continue
            except BaseException:
                candidate.close()
                raise
            sock = candidate
            break
        else:
            raise errors[0]
    protocol = protocol_factory()
    waiter: asyncio.Future[None] = loop.create_future()
    transport = SocketDatagramTransport(loop, sock, protocol, remote, waiter)
    try:
        await waiter
    except BaseException:
        transport.close()
        raise
    return transport, protocol
