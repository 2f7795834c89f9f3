"""Opening stream connections: ``create_connection`` and its Unix twin.

Names are resolved through the loop's ``getaddrinfo`` (loop-executor on our
loop). With several addresses the attempts run one after another, or as a
Happy Eyeballs race (RFC 8305) when ``happy_eyeballs_delay`` is given: a new
attempt starts whenever the previous one fails or has been pending that long,
and the first to connect wins while the others are cancelled and closed.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import ssl as _ssl
from collections.abc import Callable, Sequence
from typing import Any, cast

from loop_core.extensions import discover_extensions
from loop_transports._base import ConnectionOwner, check_port
from loop_transports._socket_transport import SocketTransport

__all__ = [
    "check_ssl_arguments",
    "connect_accepted_socket",
    "create_connection",
    "create_unix_connection",
    "interleave_families",
    "loop_ssl_for",
    "wrap_connected_socket",
]

_AddrInfo = tuple[int, int, int, str, Any]


def loop_ssl_for(loop: asyncio.AbstractEventLoop) -> Any | None:
    """loop-ssl's ``tls`` extension for *loop* when the loop's own TLS
    methods do not delegate to it; ``None`` for loop-core's loops (they do:
    they have ``tls_server_protocol``) and where loop-ssl is not installed.

    Our transports take TLS from loop-ssl on any loop: another loop's
    ``start_tls`` (asyncio's) hands the data that came with the handshake's
    last flight to the protocol before its caller could call
    ``connection_made``, and calls private methods of asyncio's transports.
    """
    if hasattr(loop, "tls_server_protocol"):
        return None
    factory = discover_extensions().get("tls")
    return None if factory is None else cast(Any, factory(loop))


def check_ssl_arguments(
    ssl: Any,
    server_hostname: str | None,
    ssl_handshake_timeout: float | None,
    ssl_shutdown_timeout: float | None,
) -> None:
    """asyncio's rules for the TLS keywords, checked before any socket is made."""
    if server_hostname is not None and not ssl:
        raise ValueError("server_hostname is only meaningful with ssl")
    if ssl_handshake_timeout is not None and not ssl:
        raise ValueError("ssl_handshake_timeout is only meaningful with ssl")
    if ssl_shutdown_timeout is not None and not ssl:
        raise ValueError("ssl_shutdown_timeout is only meaningful with ssl")
    if ssl is not None and not isinstance(ssl, (bool, _ssl.SSLContext)):
        raise TypeError(f"ssl must be a bool or an ssl.SSLContext, not {type(ssl).__name__!r}")


async def wrap_connected_socket(
    loop: asyncio.AbstractEventLoop,
    sock: socket.socket,
    protocol_factory: Callable[[], Any],
    *,
    ssl: Any = None,
    server_side: bool = False,
    server_hostname: str | None = None,
    ssl_handshake_timeout: float | None = None,
    ssl_shutdown_timeout: float | None = None,
    server: ConnectionOwner | None = None,
    peername: Any = None,
) -> tuple[Any, Any]:
    """Make a transport and protocol for a connected socket; TLS goes through ``start_tls``.

    *peername* is the peer's address when already known (a server has it
    from ``accept()``), which spares asking the socket.
    """
    extra = None if peername is None else {"peername": peername}
    protocol = protocol_factory()
    if ssl:
        # The plain transport carries the TLS records; start_tls (loop-ssl)
        # gives the protocol a TLS transport on top once the handshake is done.
        context = _ssl.create_default_context() if ssl is True else ssl
        if ssl is True and server_side:
            raise ValueError("ssl=True is only meaningful for clients; pass an SSLContext")
        plain = await _plain_transport(loop, sock, _HoldReading(), server, extra)
        try:
            tls_options: dict[str, Any] = {"server_side": server_side}
            if not server_side:
                tls_options["server_hostname"] = server_hostname
            if ssl_handshake_timeout is not None:
                tls_options["ssl_handshake_timeout"] = ssl_handshake_timeout
            if ssl_shutdown_timeout is not None:
                tls_options["ssl_shutdown_timeout"] = ssl_shutdown_timeout
            tls = loop_ssl_for(loop)
            if tls is None:
                transport = await loop.start_tls(plain, protocol, context, **tls_options)
            else:
                transport = await tls.start_tls(loop, plain, protocol, context, **tls_options)
        except BaseException:
            plain.abort()
            raise
        if transport is None:  # start_tls gives None when the connection closed meanwhile
            raise ConnectionResetError("the connection closed during the TLS handshake")
        try:
            protocol.connection_made(transport)
        except BaseException as exc:
            transport.abort()
            if not server_side or not isinstance(exc, Exception):
                raise
            # An accepted connection has nobody awaiting it: the server's
            # protocol bug goes to the exception handler, never silence.
            loop.call_exception_handler(
                {
                    "message": "Exception in protocol.connection_made()",
                    "exception": exc,
                    "transport": transport,
                    "protocol": protocol,
                }
            )
        return transport, protocol
    return await _plain_transport(loop, sock, protocol, server, extra), protocol


class _HoldReading(asyncio.Protocol):
    """Stands in until ``start_tls`` takes over: holds the peer's first bytes
    (a ClientHello, say) in the socket instead of dropping them."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.ReadTransport)
        transport.pause_reading()


async def _plain_transport(
    loop: asyncio.AbstractEventLoop,
    sock: socket.socket,
    protocol: Any,
    server: ConnectionOwner | None = None,
    extra: dict[str, Any] | None = None,
) -> SocketTransport:
    waiter: asyncio.Future[None] = loop.create_future()
    transport = SocketTransport(loop, sock, protocol, waiter, extra, server)
    try:
        await waiter
    except BaseException:
        transport.close()
        raise
    return transport


def interleave_families(infos: Sequence[_AddrInfo], first_family_count: int = 1) -> list[_AddrInfo]:
    """Reorder addresses so families alternate, as RFC 8305 section 4 asks.

    The first *first_family_count* addresses of the first family lead, then
    one of each family in turn.
    """
    by_family: dict[int, list[_AddrInfo]] = {}
    for info in infos:
        by_family.setdefault(info[0], []).append(info)
    groups = list(by_family.values())
    if not groups:
        return []
    ordered = groups[0][: first_family_count - 1]
    groups[0] = groups[0][first_family_count - 1 :]
    for round_ in itertools.zip_longest(*groups):
        ordered.extend(info for info in round_ if info is not None)
    return ordered


async def _resolve(
    loop: asyncio.AbstractEventLoop,
    host: Any,
    port: Any,
    family: int,
    proto: int,
    flags: int,
) -> list[_AddrInfo]:
    infos: list[_AddrInfo] = list(
        await loop.getaddrinfo(
            host, port, family=family, type=socket.SOCK_STREAM, proto=proto, flags=flags
        )
    )
    if not infos:
        raise OSError("getaddrinfo() returned empty list")
    return infos


async def _connect_one(
    loop: asyncio.AbstractEventLoop,
    info: _AddrInfo,
    local_infos: list[_AddrInfo] | None,
) -> socket.socket:
    family, type_, proto, _, address = info
    sock = socket.socket(family=family, type=type_, proto=proto)
    try:
        sock.setblocking(False)
        if local_infos is not None:
            _bind_local(sock, family, local_infos)
        await loop.sock_connect(sock, address)
        return sock
    except BaseException:
        sock.close()
        raise


def _bind_local(sock: socket.socket, family: int, local_infos: list[_AddrInfo]) -> None:
    last: OSError | None = None
    for local_family, _, _, _, local_address in local_infos:
        if local_family != family:
            continue
        try:
            sock.bind(local_address)
            return
        except OSError as exc:
            last = OSError(
                exc.errno,
                f"error while attempting to bind on address {local_address!r}: "
                f"{(exc.strerror or str(exc)).lower()}",
            )
    raise last or OSError(f"no matching local address with family={family} found")


async def _race(
    loop: asyncio.AbstractEventLoop,
    infos: list[_AddrInfo],
    local_infos: list[_AddrInfo] | None,
    delay: float | None,
    errors: list[OSError],
) -> socket.socket | None:
    """Connect to the first address that answers; ``None`` when all failed.

    Every failure is appended to *errors*. A failed attempt's exception holds
    its traceback and so the frames it passed through: no frame of ours may
    keep *errors* (or a task holding one) once the race is over, or each
    failure would stay in a reference cycle, with its frames and sockets,
    until the collector runs.
    """
    pending: set[asyncio.Future[socket.socket]] = set()
    try:
        if delay is None:
            for info in infos:
                try:
                    return await _connect_one(loop, info, local_infos)
                except OSError as exc:
                    errors.append(exc)
            return None
        winner: socket.socket | None = None
        remaining = iter(infos)
        while True:
            if winner is None:
                following = next(remaining, None)
                if following is not None:
                    pending.add(asyncio.ensure_future(_connect_one(loop, following, local_infos)))
            if not pending:
                return winner
            done, _ = await asyncio.wait(
                pending, timeout=delay, return_when=asyncio.FIRST_COMPLETED
            )
            for attempt in done:
                pending.discard(attempt)
                failure = attempt.exception()
                if failure is None:
                    if winner is None:
                        winner = attempt.result()
                    else:
                        attempt.result().close()
                elif isinstance(failure, OSError):
                    errors.append(failure)
                else:
                    raise failure  # not a network failure: a bug, say; the others are cancelled
            if winner is not None:
                return winner
    finally:
        errors = []
        for attempt in pending:
            attempt.cancel()
        if pending:
            late = await asyncio.gather(*pending, return_exceptions=True)
            for outcome in late:
                if isinstance(outcome, socket.socket):
                    outcome.close()


def _combined_error(errors: list[OSError], all_errors: bool) -> BaseException:
    if all_errors:
        return ExceptionGroup("create_connection failed", errors)
    if len(errors) == 1:
        return errors[0]
    if len({str(exc) for exc in errors}) == 1:
        return errors[0]
    return OSError("Multiple exceptions: {}".format(", ".join(str(exc) for exc in errors)))


async def create_connection(
    loop: asyncio.AbstractEventLoop,
    protocol_factory: Callable[[], Any],
    host: Any = None,
    port: Any = None,
    *,
    ssl: Any = None,
    family: int = 0,
    proto: int = 0,
    flags: int = 0,
    sock: socket.socket | None = None,
    local_addr: tuple[str, int] | None = None,
    server_hostname: str | None = None,
    ssl_handshake_timeout: float | None = None,
    ssl_shutdown_timeout: float | None = None,
    happy_eyeballs_delay: float | None = None,
    interleave: int | None = None,
    all_errors: bool = False,
) -> tuple[Any, Any]:
    """Connect to *host* and *port* (or use the connected *sock*); see the loop method."""
    check_ssl_arguments(ssl, server_hostname, ssl_handshake_timeout, ssl_shutdown_timeout)
    if server_hostname is None and ssl and sock is None:
        server_hostname = host  # verify the certificate against the name we dialled
    if happy_eyeballs_delay is not None and interleave is None:
        interleave = 1  # RFC 8305 recommends a First Address Family Count of 1
    if host is not None or port is not None:
        if sock is not None:
            raise ValueError("host/port and sock can not be specified at the same time")
        check_port(port, "connect")
        if local_addr is not None:
            check_port(local_addr[1], "bind")
        infos = await _resolve(loop, host, port, family, proto, flags)
        local_infos = None
        if local_addr is not None:
            local_infos = await _resolve(loop, *local_addr, family, proto, flags)
        if interleave:
            infos = interleave_families(infos, interleave)
        errors: list[OSError] = []
        try:
            connected = await _race(loop, infos, local_infos, happy_eyeballs_delay, errors)
            if connected is None:
                raise _combined_error(errors, all_errors)
        finally:
            errors = []  # break the traceback cycle through the frames
        sock = connected
    elif sock is None:
        raise ValueError("host and port was not specified and no sock specified")
    elif sock.type != socket.SOCK_STREAM:
        raise ValueError(f"A Stream Socket was expected, got {sock!r}")
    try:
        return await wrap_connected_socket(
            loop,
            sock,
            protocol_factory,
            ssl=ssl,
            server_hostname=server_hostname,
            ssl_handshake_timeout=ssl_handshake_timeout,
            ssl_shutdown_timeout=ssl_shutdown_timeout,
        )
    except BaseException:
        sock.close()
        raise


async def create_unix_connection(
    loop: asyncio.AbstractEventLoop,
    protocol_factory: Callable[[], Any],
    path: str | bytes | os.PathLike[str] | None = None,
    *,
    ssl: Any = None,
    sock: socket.socket | None = None,
    server_hostname: str | None = None,
    ssl_handshake_timeout: float | None = None,
    ssl_shutdown_timeout: float | None = None,
) -> tuple[Any, Any]:
    """Connect to the Unix socket at *path* (or use the connected *sock*)."""
    check_ssl_arguments(ssl, server_hostname, ssl_handshake_timeout, ssl_shutdown_timeout)
    if ssl and server_hostname is None:
        raise ValueError("you have to pass server_hostname when using ssl")
    if path is not None:
        if sock is not None:
            raise ValueError("path and sock can not be specified at the same time")
        path = os.fspath(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, 0)
        try:
            sock.setblocking(False)
            await loop.sock_connect(sock, path)
        except BaseException:
            sock.close()
            raise
    else:
        if sock is None:
            raise ValueError("no path and sock were specified")
        if sock.family != socket.AF_UNIX or sock.type != socket.SOCK_STREAM:
            raise ValueError(f"A UNIX Domain Stream Socket was expected, got {sock!r}")
    try:
        return await wrap_connected_socket(
            loop,
            sock,
            protocol_factory,
            ssl=ssl,
            server_hostname=server_hostname,
            ssl_handshake_timeout=ssl_handshake_timeout,
            ssl_shutdown_timeout=ssl_shutdown_timeout,
        )
    except BaseException:
        sock.close()
        raise


async def connect_accepted_socket(
    loop: asyncio.AbstractEventLoop,
    protocol_factory: Callable[[], Any],
    sock: socket.socket,
    *,
    ssl: Any = None,
    ssl_handshake_timeout: float | None = None,
    ssl_shutdown_timeout: float | None = None,
) -> tuple[Any, Any]:
    """Wrap a socket accepted outside the loop in a server-side transport."""
    check_ssl_arguments(ssl, None, ssl_handshake_timeout, ssl_shutdown_timeout)
    if sock.type != socket.SOCK_STREAM:
        raise ValueError(f"A Stream Socket was expected, got {sock!r}")
    return await wrap_connected_socket(
        loop,
        sock,
        protocol_factory,
        ssl=ssl,
        server_side=True,
        ssl_handshake_timeout=ssl_handshake_timeout,
        ssl_shutdown_timeout=ssl_shutdown_timeout,
    )
