"""loop-core's ``tls`` extension: ``loop.start_tls`` and ``loop.tls_server_protocol``.

Registered under the ``loop_core.extensions`` entry-point group. With it
installed, the ``ssl=`` arguments of loop-transports (``create_connection``,
``create_server``, the Unix variants, the streams) and
``StreamWriter.start_tls`` work on loop-core's loop: they upgrade a plain
transport through ``start_tls``, and a TLS server gives each connection it
accepts the protocol of ``tls_server_protocol``.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import TYPE_CHECKING, cast

from loop_ssl._layer import TLSLayer

__all__ = ["TLSMethods", "create_extension", "start_tls", "tls_server_protocol"]

if TYPE_CHECKING:
    from loop_core.extensions import TLSExtension


def _check_context(sslcontext: object) -> None:
    if not isinstance(sslcontext, ssl.SSLContext):
        raise TypeError(
            f"sslcontext is expected to be an instance of ssl.SSLContext, got {sslcontext!r}"
        )


def _check_timeout(name: str, value: float | None) -> None:
    if value is not None and value <= 0:
        raise ValueError(f"{name} should be a positive number, got {value}")


async def start_tls(
    loop: asyncio.AbstractEventLoop,
    transport: asyncio.BaseTransport,
    protocol: asyncio.BaseProtocol,
    sslcontext: ssl.SSLContext,
    *,
    server_side: bool = False,
    server_hostname: str | None = None,
    ssl_handshake_timeout: float | None = None,
    ssl_shutdown_timeout: float | None = None,
) -> asyncio.Transport | None:
    """Upgrade *transport* to TLS; return the new transport once the handshake is done.

    *protocol* receives the plaintext; as with asyncio, its ``connection_made``
    is not called (it already saw the plain connection), and ``None`` is
    returned when the transport was closed before the handshake could finish.
    """
    _check_context(sslcontext)
    if not getattr(transport, "_start_tls_compatible", False):
        raise TypeError(f"transport {transport!r} is not supported by start_tls()")
    _check_timeout("ssl_handshake_timeout", ssl_handshake_timeout)
    _check_timeout("ssl_shutdown_timeout", ssl_shutdown_timeout)
    if server_side and server_hostname is not None:
        raise ValueError("server_hostname is only meaningful for the client side")
    waiter: asyncio.Future[None] = loop.create_future()
    layer = TLSLayer(
        loop,
        protocol,
        sslcontext,
        waiter,
        server_side=server_side,
        server_hostname=server_hostname,
        call_connection_made=False,
        handshake_timeout=ssl_handshake_timeout,
        shutdown_timeout=ssl_shutdown_timeout,
    )
    # Nothing may be read between the switch of protocols and the handshake.
    assert isinstance(transport, asyncio.ReadTransport)
    transport.pause_reading()
    # The layer is a protocol by its methods (a compiled class has no asyncio base).
    transport.set_protocol(cast(asyncio.BaseProtocol, layer))
    made = loop.call_soon(layer.connection_made, transport)
    resumed = loop.call_soon(transport.resume_reading)
    try:
        await waiter
    except BaseException:
        transport.close()
        made.cancel()
        resumed.cancel()
        raise
    transport_for_app: asyncio.Transport | None = layer._app_transport
    return transport_for_app


def tls_server_protocol(
    loop: asyncio.AbstractEventLoop,
    protocol: asyncio.BaseProtocol,
    sslcontext: ssl.SSLContext,
    *,
    ssl_handshake_timeout: float | None = None,
    ssl_shutdown_timeout: float | None = None,
) -> asyncio.BaseProtocol:
    """The protocol to give a connection a server accepted, so that it serves
    TLS to *protocol*.

    Given to the plain transport as its protocol from the start, it answers
    the client's handshake, then calls ``protocol.connection_made`` with the
    TLS transport. Nothing awaits it: a failed handshake aborts the
    connection (reported to the loop's exception handler in debug mode, as
    asyncio's servers do), and an exception from ``connection_made`` aborts
    it and goes to the exception handler. ``start_tls`` would need a task
    per connection for the same, and its waiter.
    """
    _check_context(sslcontext)
    _check_timeout("ssl_handshake_timeout", ssl_handshake_timeout)
    _check_timeout("ssl_shutdown_timeout", ssl_shutdown_timeout)
    layer = TLSLayer(
        loop,
        protocol,
        sslcontext,
        None,
        server_side=True,
        call_connection_made=True,
        handshake_timeout=ssl_handshake_timeout,
        shutdown_timeout=ssl_shutdown_timeout,
    )
    # A protocol by its methods (a compiled class has no asyncio base).
    return cast(asyncio.BaseProtocol, layer)


class TLSMethods:
    """The TLS methods of one loop: the functions above, which take the loop first."""

    start_tls = staticmethod(start_tls)
    tls_server_protocol = staticmethod(tls_server_protocol)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def close(self) -> None:
        """Nothing to release: each connection owns its TLS state."""


def create_extension(loop: asyncio.AbstractEventLoop) -> TLSMethods:
    """Entry point of the ``tls`` extension."""
    return TLSMethods(loop)


if TYPE_CHECKING:
    # mypy holds the implementation to loop-core's signature here.
    _conforms: type[TLSExtension] = TLSMethods
