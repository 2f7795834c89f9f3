"""Answering ``getaddrinfo`` for numeric addresses without asking the system.

For an IP address literal and a numeric port, with a socket type given, the
answer is known: building it here saves a round trip through the thread pool.
Anything else (names, scope ids, flags, wildcard types) returns ``None`` and
goes to :func:`socket.getaddrinfo` in a thread.
"""

from __future__ import annotations

import socket
from typing import Any

__all__ = ["numeric_addrinfo"]

_PROTOCOL_OF_TYPE: dict[int, int] = {
    socket.SOCK_STREAM: socket.IPPROTO_TCP,
    socket.SOCK_DGRAM: socket.IPPROTO_UDP,
}


def _numeric_port(port: bytes | str | int | None) -> int | None:
    if port is None:
        return 0
    if isinstance(port, int):
        return port if 0 <= port <= 65535 else None
    text = port.decode("ascii", "replace") if isinstance(port, bytes) else port
    if text.isdigit() and text.isascii():
        number = int(text)
        return number if number <= 65535 else None
    return None


def numeric_addrinfo(
    host: bytes | str | None,
    port: bytes | str | int | None,
    *,
    family: int,
    type: int,
    proto: int,
    flags: int,
) -> list[tuple[socket.AddressFamily, socket.SocketKind, int, str, Any]] | None:
    """Return what :func:`socket.getaddrinfo` would, or ``None`` when it must be asked."""
    if host is None or flags or type not in _PROTOCOL_OF_TYPE:
        return None
    if proto == 0:
        proto = _PROTOCOL_OF_TYPE[type]
    elif proto != _PROTOCOL_OF_TYPE[type]:
        return None
    number = _numeric_port(port)
    if number is None:
        return None
    text = host.decode("idna") if isinstance(host, bytes) else host
    if not text or "%" in text:
        return None
    candidates = []
    if family in (socket.AF_UNSPEC, socket.AF_INET):
        candidates.append(socket.AF_INET)
    if family in (socket.AF_UNSPEC, socket.AF_INET6) and socket.has_ipv6:
        candidates.append(socket.AF_INET6)
    for candidate in candidates:
        try:
            packed = socket.inet_pton(candidate, text)
        except (OSError, ValueError):
            continue
        # The system answers with the canonical spelling of the address.
        canonical = socket.inet_ntop(candidate, packed)
        address: Any = (
            (canonical, number) if candidate == socket.AF_INET else (canonical, number, 0, 0)
        )
        return [(socket.AddressFamily(candidate), socket.SocketKind(type), proto, "", address)]
    return None
