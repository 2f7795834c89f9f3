"""Stream servers: ``create_server``, ``create_unix_server`` and :class:`Server`.

A listening socket is watched for readability; each readiness event accepts
one connection and gives it a :class:`SocketTransport` and a fresh protocol at
once (TLS connections are handed to ``start_tls`` in a task).
The server counts the transports it made, so ``wait_closed`` returns only when
the server is closed and every connection it accepted is gone.
"""

from __future__ import annotations

import asyncio
import collections.abc
import errno
import functools
import os
import socket
import stat
import sys
from collections.abc import Callable, Iterable
from typing import Any

from loop_transports._base import check_port, logger
from loop_transports._connect import check_ssl_arguments, loop_ssl_for, wrap_connected_socket
from loop_transports._cores import Acceptor
from loop_transports._socket_transport import SocketTransport

__all__ = ["Server", "create_server", "create_unix_server"]

# After running out of descriptors, wait this long before accepting again
# (asyncio's value): the pressure has a chance to ease meanwhile.
ACCEPT_RETRY_DELAY = 1.0
# 3.12 made Server.wait_closed wait for the accepted connections too.
_WAIT_CLOSED_RETURNS_ONCE_CLOSED = sys.version_info < (3, 12)


class Server(asyncio.Server):
    """A listening server, as returned by ``create_server``.

    Use it as an async context manager (closing and waiting on exit), or call
    :meth:`serve_forever`, :meth:`close` and :meth:`wait_closed`. It is an
    :class:`asyncio.Server` for ``isinstance`` checks and type checkers, with
    every method its own (asyncio's constructor is never run).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sockets: list[socket.socket],
        protocol_factory: Callable[[], Any],
        ssl_context: Any,
        backlog: int,
        ssl_handshake_timeout: float | None,
        ssl_shutdown_timeout: float | None,
        unix_path: str | None = None,
    ) -> None:  # asyncio.Server.__init__ is deliberately not called: its state is not ours
        self._loop = loop
        self._sockets: list[socket.socket] | None = sockets
        self._protocol_factory = protocol_factory
        self._ssl_context = ssl_context
        self._backlog = backlog
        self._ssl_handshake_timeout = ssl_handshake_timeout
        self._ssl_shutdown_timeout = ssl_shutdown_timeout
        self._unix_path = unix_path
        self._unix_inode = _inode(unix_path)
        self._serving = False
        self._serving_forever: asyncio.Future[None] | None = None
        self._clients: set[asyncio.BaseTransport] = set()
        self._waiters: list[asyncio.Future[None]] | None = []
        self._handshakes: set[asyncio.Task[Any]] = set()
        self._serve_tls = None if ssl_context is None else _tls_server_protocol_of(loop)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} sockets={self.sockets!r}>"

    # Connection accounting, called by the transports.

    def _clients_gone(self) -> None:
        if self._sockets is None:
            self._wake_waiters()

    def _wake_waiters(self) -> None:
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    # Public interface

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        """The listening sockets; empty once closed."""
        return tuple(self._sockets or ())

    def get_loop(self) -> asyncio.AbstractEventLoop:
        """The loop the server runs on."""
        return self._loop

    def is_serving(self) -> bool:
        """Whether the server accepts new connections."""
        return self._serving

    async def start_serving(self) -> None:
        """Start accepting connections (a no-op when already serving)."""
        self._start_serving()
        # Let the loop register the sockets before the caller goes on.
        await asyncio.sleep(0)

    def _start_serving(self) -> None:
        if self._serving or self._sockets is None:
            return
        self._serving = True
        for sock in self._sockets:
            sock.listen(self._backlog)
            self._watch(sock)

    def _watch(self, listener: socket.socket) -> None:
        self._loop.add_reader(listener.fileno(), Acceptor(self, listener, SocketTransport).ready)

    async def serve_forever(self) -> None:
        """Accept connections until cancelled; cancelling closes the server."""
        if self._serving_forever is not None:
            raise RuntimeError(f"server {self!r} is already being awaited on serve_forever()")
        if self._sockets is None:
            raise RuntimeError(f"server {self!r} is closed")
        self._start_serving()
        self._serving_forever = self._loop.create_future()
        try:
            await self._serving_forever
        except asyncio.CancelledError:
            try:
                self.close()
                await self.wait_closed()
            finally:
                raise
        finally:
            self._serving_forever = None

    def close(self) -> None:
        """Stop listening and close the listening sockets; connections stay open."""
        sockets, self._sockets = self._sockets, None
        if sockets is None:
            return
        for sock in sockets:
            if self._serving:
                self._loop.remove_reader(sock.fileno())
            sock.close()
        self._serving = False
        self._remove_unix_socket_file()
        if self._serving_forever is not None and not self._serving_forever.done():
            self._serving_forever.cancel()
        if not self._clients:
            self._wake_waiters()

    def close_clients(self) -> None:
        """Close every connection the server accepted (after flushing their buffers)."""
        for transport in list(self._clients):
            transport.close()

    def abort_clients(self) -> None:
        """Abort every connection the server accepted, dropping buffered data."""
        for transport in list(self._clients):
            abort = getattr(transport, "abort", None)
            if abort is not None:
                abort()
            else:
                transport.close()

    async def wait_closed(self) -> None:
        """Wait until the server is closed and all its connections are gone.

        As the running Python's asyncio does: before 3.12 a server already
        closed returns at once, its connections still open or not.
        """
        if self._waiters is None or (_WAIT_CLOSED_RETURNS_ONCE_CLOSED and self._sockets is None):
            return
        waiter = self._loop.create_future()
        self._waiters.append(waiter)
        await waiter

    async def __aenter__(self) -> Server:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
        await self.wait_closed()

    # Accepting

    def _pause_accepting(self, listener: socket.socket, exc: OSError) -> None:
        """Out of descriptors or memory: report, and try again in a while."""
        self._loop.call_exception_handler(
            {
                "message": "socket.accept() out of system resource",
                "exception": exc,
                "socket": listener,
            }
        )
        self._loop.remove_reader(listener.fileno())
        self._loop.call_later(ACCEPT_RETRY_DELAY, self._resume_accepting, listener)

    def _resume_accepting(self, listener: socket.socket) -> None:
        if self._serving and self._sockets is not None and listener in self._sockets:
            self._watch(listener)

    def _start_handshake(self, conn: socket.socket, address: Any) -> None:
        task = self._loop.create_task(self._accept_tls(conn, address))
        self._handshakes.add(task)
        task.add_done_callback(self._handshakes.discard)

    async def _accept_tls(self, conn: socket.socket, address: Any) -> None:
        try:
            await wrap_connected_socket(
                self._loop,
                conn,
                self._protocol_factory,
                ssl=self._ssl_context,
                server_side=True,
                peername=address,
                ssl_handshake_timeout=self._ssl_handshake_timeout,
                ssl_shutdown_timeout=self._ssl_shutdown_timeout,
                server=self,
            )
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            conn.close()
            # A failed handshake is a bad peer, not a bug of ours: only debug mode reports it.
            if self._loop.get_debug() and not isinstance(exc, asyncio.CancelledError):
                self._loop.call_exception_handler(
                    {
                        "message": "Error on transport creation for incoming connection",
                        "exception": exc,
                    }
                )

    def _remove_unix_socket_file(self) -> None:
        path, self._unix_path = self._unix_path, None
        if path is None or self._unix_inode is None:
            return
        # Only our own socket file: another server may have replaced it since.
        if _inode(path) == self._unix_inode:
            try:
                os.unlink(path)
            except OSError as exc:
                logger.error("Unable to remove the Unix socket %r: %r", path, exc)


def _tls_server_protocol_of(loop: asyncio.AbstractEventLoop) -> Callable[..., Any] | None:
    """What makes an accepted connection's protocol serve TLS: the loop's
    ``tls_server_protocol`` (loop-core's loops), else loop-ssl's own, which
    needs only the loop's public methods. Each connection is then served
    without a task; ``None`` (loop-ssl missing on another loop) leaves it to
    that loop's ``start_tls``, in a task per connection.
    """
    tls = loop_ssl_for(loop)
    if tls is not None:
        return functools.partial(tls.tls_server_protocol, loop)
    method: Callable[..., Any] | None = getattr(loop, "tls_server_protocol", None)
    return method


def _inode(path: str | None) -> int | None:
    if path is None or path.startswith("\0"):
        return None
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino if stat.S_ISSOCK(info.st_mode) else None


def _check_server_ssl(ssl: Any, ssl_handshake_timeout: Any, ssl_shutdown_timeout: Any) -> None:
    if isinstance(ssl, bool):
        raise TypeError("ssl argument must be an SSLContext or None")
    check_ssl_arguments(ssl, None, ssl_handshake_timeout, ssl_shutdown_timeout)


def _hosts(host: Any) -> list[Any]:
    if host == "":
        return [None]
    if isinstance(host, str) or not isinstance(host, collections.abc.Iterable):
        return [host]
    return list(host)


def _bind_error(exc: OSError, address: Any) -> OSError:
    reason = (exc.strerror or str(exc)).lower()
    return OSError(exc.errno, f"error while attempting to bind on address {address!r}: {reason}")


async def _listening_sockets(
    loop: asyncio.AbstractEventLoop,
    host: Any,
    port: Any,
    family: int,
    flags: int,
    reuse_address: bool | None,
    reuse_port: bool | None,
    keep_alive: bool | None,
) -> list[socket.socket]:
    if reuse_port and not hasattr(socket, "SO_REUSEPORT"):
        raise ValueError("reuse_port not supported by socket module")
    if reuse_address is None:
        reuse_address = os.name == "posix" and sys.platform != "cygwin"
    check_port(port, "bind")
    lookups = [
        loop.getaddrinfo(h, port, family=family, type=socket.SOCK_STREAM, flags=flags)
        for h in _hosts(host)
    ]
    infos: list[Any] = []
    for answer in await asyncio.gather(*lookups):
        for info in answer:
            if info not in infos:
                infos.append(info)
    if not infos:
        raise OSError("getaddrinfo() returned empty list")
    sockets: list[socket.socket] = []
    try:
        for af, socktype, proto, _, address in infos:
            try:
                sock = socket.socket(af, socktype, proto)
            except OSError:
                # This family is not available here (IPv6 switched off, say).
                if loop.get_debug():
                    logger.warning(
                        "create_server() failed to create socket.socket(%r, %r, %r)",
                        af,
                        socktype,
                        proto,
                        exc_info=True,
                    )
                continue
            sockets.append(sock)
            if reuse_address:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, True)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, True)
            if keep_alive:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, True)
            if af == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
                # Each family gets its own socket, so v6 must not claim v4 too.
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, True)
            try:
                sock.bind(address)
            except OSError as exc:
                raise _bind_error(exc, address) from None
        if not sockets:
            raise OSError(f"could not create a listening socket for any of {infos!r}")
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


async def create_server(
    loop: asyncio.AbstractEventLoop,
    protocol_factory: Callable[[], Any],
    host: str | Iterable[str] | None = None,
    port: int | str | None = None,
    *,
    family: int = socket.AF_UNSPEC,
    flags: int = socket.AI_PASSIVE,
    sock: socket.socket | None = None,
    backlog: int = 100,
    ssl: Any = None,
    reuse_address: bool | None = None,
    reuse_port: bool | None = None,
    keep_alive: bool | None = None,
    ssl_handshake_timeout: float | None = None,
    ssl_shutdown_timeout: float | None = None,
    start_serving: bool = True,
) -> Server:
    """Listen on every address *host* resolves to (or on *sock*); see the loop method."""
    _check_server_ssl(ssl, ssl_handshake_timeout, ssl_shutdown_timeout)
    if host is not None or port is not None:
        if sock is not None:
            raise ValueError("host/port and sock can not be specified at the same time")
        sockets = await _listening_sockets(
            loop, host, port, family, flags, reuse_address, reuse_port, keep_alive
        )
    else:
        if sock is None:
            raise ValueError("Neither host/port nor sock were specified")
        if sock.type != socket.SOCK_STREAM:
            raise ValueError(f"A Stream Socket was expected, got {sock!r}")
        sockets = [sock]
    for listener in sockets:
        listener.setblocking(False)
    server = Server(
        loop,
        sockets,
        protocol_factory,
        ssl,
        backlog,
        ssl_handshake_timeout,
        ssl_shutdown_timeout,
    )
    if start_serving:
        await server.start_serving()
    return server


async def create_unix_server(
    loop: asyncio.AbstractEventLoop,
    protocol_factory: Callable[[], Any],
    path: str | bytes | os.PathLike[str] | None = None,
    *,
    sock: socket.socket | None = None,
    backlog: int = 100,
    ssl: Any = None,
    ssl_handshake_timeout: float | None = None,
    ssl_shutdown_timeout: float | None = None,
    start_serving: bool = True,
    cleanup_socket: bool = True,
) -> Server:
    """Listen on the Unix socket *path* (or on *sock*); the file goes when the server closes."""
    _check_server_ssl(ssl, ssl_handshake_timeout, ssl_shutdown_timeout)
    unix_path: str | None = None
    if path is not None:
        if sock is not None:
            raise ValueError("path and sock can not be specified at the same time")
        text_path = os.fsdecode(os.fspath(path))
        if not text_path.startswith("\0"):
            _remove_stale_socket_file(text_path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(text_path)
        except BaseException as exc:
            sock.close()
            if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
                raise OSError(
                    errno.EADDRINUSE, f"Address {text_path!r} is already in use"
                ) from None
            raise
        unix_path = text_path
    else:
        if sock is None:
            raise ValueError("path was not specified, and no sock specified")
        if sock.family != socket.AF_UNIX or sock.type != socket.SOCK_STREAM:
            raise ValueError(f"A UNIX Domain Stream Socket was expected, got {sock!r}")
        name = sock.getsockname()
        if isinstance(name, str) and name:
            unix_path = name
    sock.setblocking(False)
    server = Server(
        loop,
        [sock],
        protocol_factory,
        ssl,
        backlog,
        ssl_handshake_timeout,
        ssl_shutdown_timeout,
        unix_path=unix_path if cleanup_socket else None,
    )
    if start_serving:
        try:
            await server.start_serving()
        except BaseException:
            server.close()
            raise
    return server


def _remove_stale_socket_file(path: str) -> None:
    # A socket file left by a server that died; anything else is not ours to remove.
    try:
        if stat.S_ISSOCK(os.stat(path).st_mode):
            os.remove(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        logger.error("Unable to check or remove stale UNIX socket %r: %r", path, exc)
