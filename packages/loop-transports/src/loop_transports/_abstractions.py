"""The transport and protocol interfaces, with asyncio's names and semantics.

Each class here subclasses asyncio's class of the same name, so a protocol
written for asyncio works over our transports, a protocol written against ours
works on any asyncio loop, and ``isinstance(t, asyncio.Transport)`` holds for our
transports. The concrete transports live in their own modules.
"""

from __future__ import annotations

import asyncio

__all__ = [
    "BaseProtocol",
    "BaseTransport",
    "BufferedProtocol",
    "DatagramProtocol",
    "DatagramTransport",
    "Protocol",
    "ReadTransport",
    "SubprocessProtocol",
    "SubprocessTransport",
    "Transport",
    "WriteTransport",
]


class BaseProtocol(asyncio.BaseProtocol):
    """What every protocol hears: ``connection_made``, ``connection_lost`` (once),
    and ``pause_writing``/``resume_writing`` when the transport's write buffer
    crosses its high and low water marks."""

    __slots__ = ()


class Protocol(BaseProtocol, asyncio.Protocol):
    """A stream protocol: ``data_received(data)`` for every chunk read, then
    ``eof_received()`` when the peer stops writing; returning a true value from
    it keeps the transport open for writing (half-close), otherwise it closes."""

    __slots__ = ()


class BufferedProtocol(BaseProtocol, asyncio.BufferedProtocol):
    """A stream protocol that lends its own buffer: ``get_buffer(sizehint)``
    returns a writable buffer, ``buffer_updated(nbytes)`` says how much of it was
    filled, so reading copies nothing."""

    __slots__ = ()


class DatagramProtocol(BaseProtocol, asyncio.DatagramProtocol):
    """A datagram protocol: ``datagram_received(data, addr)`` per datagram and
    ``error_received(exc)`` for errors reported by the socket."""

    __slots__ = ()


class SubprocessProtocol(BaseProtocol, asyncio.SubprocessProtocol):
    """A child-process protocol: ``pipe_data_received(fd, data)``,
    ``pipe_connection_lost(fd, exc)`` and ``process_exited()``."""

    __slots__ = ()


class BaseTransport(asyncio.BaseTransport):
    """What every transport offers: ``get_extra_info``, ``close``,
    ``is_closing``, ``set_protocol`` and ``get_protocol``."""

    __slots__ = ()


class ReadTransport(BaseTransport, asyncio.ReadTransport):
    """A transport that reads: ``pause_reading``, ``resume_reading``, ``is_reading``."""

    __slots__ = ()


class WriteTransport(BaseTransport, asyncio.WriteTransport):
    """A transport that writes, buffering what the peer cannot take yet:
    ``write``, ``writelines``, ``write_eof``, ``can_write_eof``, ``abort``, and
    flow control through ``set_write_buffer_limits`` and
    ``get_write_buffer_size``."""

    __slots__ = ()


class Transport(ReadTransport, WriteTransport, asyncio.Transport):
    """A bidirectional stream transport."""

    __slots__ = ()


class DatagramTransport(BaseTransport, asyncio.DatagramTransport):
    """A datagram transport: ``sendto(data, addr)`` and ``abort``."""

    __slots__ = ()


class SubprocessTransport(BaseTransport, asyncio.SubprocessTransport):
    """A child process: ``get_pid``, ``get_returncode``, ``get_pipe_transport``,
    ``send_signal``, ``terminate`` and ``kill``."""

    __slots__ = ()
