"""The loop methods that belong to optional packages, as delegations.

:class:`ExtensionMethods` is a base of :class:`~loop_core.EventLoop`: each
method finds (once per loop) the extension of its kind, from the factories the
loop was given or those installed packages registered (see
:mod:`loop_core.extensions`), and hands the call on. A missing package gives
:class:`~loop_core.MissingExtensionError`, which names it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import ssl
import subprocess
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any, Literal, TypeVar, TypeVarTuple, cast, overload

from loop_core.extensions import (
    ExecutorExtension,
    ExtensionFactory,
    MissingExtensionError,
    NetworkExtension,
    SSLOption,
    TLSExtension,
    discover_extensions,
)

__all__ = ["ExtensionMethods"]

_T = TypeVar("_T")
_ProtocolT = TypeVar("_ProtocolT", bound=asyncio.BaseProtocol)
_Ts = TypeVarTuple("_Ts")


class ExtensionMethods:
    """Delegations of the extension methods of :class:`asyncio.AbstractEventLoop`."""

    _closed: bool
    _extension_factories: Mapping[str, ExtensionFactory]
    _extensions: dict[str, object]

    def _init_extensions(self, given: Mapping[str, ExtensionFactory] | None) -> None:
        # Discovered here, as the loop is made: never by a call inside the
        # running loop (the scan reads files, which blocking-call detectors
        # flag, and takes milliseconds).
        self._extension_factories = {**discover_extensions(), **(given or {})}
        self._extensions = {}

    def _extension(self, kind: str, method: str) -> Any:
        extension = self._extensions.get(kind)
        if extension is None:
            if self._closed:
                raise RuntimeError("Event loop is closed")
            factory = self._extension_factories.get(kind)
            if factory is None:
                raise MissingExtensionError(method, kind)
            extension = factory(self)  # type: ignore[arg-type]  # a mixin of EventLoop
            self._extensions[kind] = extension
        return extension

    def _close_extensions(self) -> None:
        for extension in self._extensions.values():
            close = getattr(extension, "close", None)
            if close is not None:
                close()
        self._extensions.clear()

    def _executor(self, method: str) -> ExecutorExtension:
        extension: ExecutorExtension = self._extension("executor", method)
        return extension

    def _network(self, method: str) -> NetworkExtension:
        extension: NetworkExtension = self._extension("network", method)
        return extension

    def _tls(self, method: str) -> TLSExtension:
        extension: TLSExtension = self._extension("tls", method)
        return extension

    @property
    def _default_executor(self) -> concurrent.futures.Executor | None:
        """The default pool, if loop-executor made one: asyncio's attribute, which
        test helpers and debugging tools read."""
        pool: concurrent.futures.Executor | None = getattr(
            self._extensions.get("executor"), "default_executor", None
        )
        return pool

    def run_in_executor(
        self,
        executor: concurrent.futures.Executor | None,
        func: Callable[[*_Ts], _T],
        *args: *_Ts,
    ) -> asyncio.Future[_T]:
        """Run ``func(*args)`` in *executor* (``None``: the default pool). Needs loop-executor."""
        if self._closed:
            raise RuntimeError("Event loop is closed")
        return self._executor("run_in_executor").run_in_executor(executor, func, *args)

    def set_default_executor(self, executor: concurrent.futures.Executor) -> None:
        """Set the pool :meth:`run_in_executor` uses for ``None``. Needs loop-executor."""
        self._executor("set_default_executor").set_default_executor(executor)

    async def shutdown_default_executor(self, timeout: float | None = None) -> None:
        """Shut the default pool down, waiting up to *timeout* seconds. Needs loop-executor."""
        if "executor" not in self._extensions:
            return  # no pool was ever made, so there is nothing to shut down
        await self._executor("shutdown_default_executor").shutdown_default_executor(timeout)

    async def getaddrinfo(
        self,
        host: bytes | str | None,
        port: bytes | str | int | None,
        *,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[Any]:
        """Resolve *host* and *port* like :func:`socket.getaddrinfo`. Needs loop-executor."""
        return await self._executor("getaddrinfo").getaddrinfo(
            host, port, family=family, type=type, proto=proto, flags=flags
        )

    async def getnameinfo(
        self, sockaddr: tuple[str, int] | tuple[str, int, int, int], flags: int = 0
    ) -> tuple[str, str]:
        """Look up the name of *sockaddr* like :func:`socket.getnameinfo`. Needs loop-executor."""
        return await self._executor("getnameinfo").getnameinfo(sockaddr, flags)

    # typeshed's overloads: an address to resolve, or a connected socket.
    @overload
    async def create_connection(
        self,
        protocol_factory: Callable[[], _ProtocolT],
        host: str = ...,
        port: int | str = ...,
        *,
        ssl: SSLOption = None,
        family: int = 0,
        proto: int = 0,
        flags: int = 0,
        sock: None = None,
        local_addr: tuple[str, int] | None = None,
        server_hostname: str | None = None,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
        happy_eyeballs_delay: float | None = None,
        interleave: int | None = None,
        all_errors: bool = False,
    ) -> tuple[asyncio.Transport, _ProtocolT]: ...

    @overload
    async def create_connection(
        self,
        protocol_factory: Callable[[], _ProtocolT],
        host: None = None,
        port: None = None,
        *,
        ssl: SSLOption = None,
        family: int = 0,
        proto: int = 0,
        flags: int = 0,
        sock: socket.socket,
        local_addr: None = None,
        server_hostname: str | None = None,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
        happy_eyeballs_delay: float | None = None,
        interleave: int | None = None,
        all_errors: bool = False,
    ) -> tuple[asyncio.Transport, _ProtocolT]: ...

    async def create_connection(
        self,
        protocol_factory: Callable[[], _ProtocolT],
        host: str | None = None,
        port: int | str | None = None,
        *,
        ssl: SSLOption = None,
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
    ) -> tuple[asyncio.Transport, _ProtocolT]:
        """Open a stream connection; see :mod:`loop_transports`. Needs loop-transports."""
        return await self._network("create_connection").create_connection(
            self._as_loop(),
            protocol_factory,
            host,
            port,
            ssl=ssl,
            family=family,
            proto=proto,
            flags=flags,
            sock=sock,
            local_addr=local_addr,
            server_hostname=server_hostname,
            ssl_handshake_timeout=ssl_handshake_timeout,
            ssl_shutdown_timeout=ssl_shutdown_timeout,
            happy_eyeballs_delay=happy_eyeballs_delay,
            interleave=interleave,
            all_errors=all_errors,
        )

    # typeshed's overloads: where to listen, or a listening socket.
    @overload
    async def create_server(
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        host: str | Sequence[str] | None,
        port: int | str,
        *,
        family: int = socket.AF_UNSPEC,
        flags: int = socket.AI_PASSIVE,
        sock: None = None,
        backlog: int = 100,
        ssl: SSLOption = None,
        reuse_address: bool | None = None,
        reuse_port: bool | None = None,
        keep_alive: bool | None = None,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
        start_serving: bool = True,
    ) -> asyncio.Server: ...

    @overload
    async def create_server(
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        host: str | Sequence[str],
        port: int | str | None = None,
        *,
        family: int = socket.AF_UNSPEC,
        flags: int = socket.AI_PASSIVE,
        sock: None = None,
        backlog: int = 100,
        ssl: SSLOption = None,
        reuse_address: bool | None = None,
        reuse_port: bool | None = None,
        keep_alive: bool | None = None,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
        start_serving: bool = True,
    ) -> asyncio.Server: ...

    @overload
    async def create_server(
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        host: None = None,
        *,
        port: int | str,
        family: int = socket.AF_UNSPEC,
        flags: int = socket.AI_PASSIVE,
        sock: None = None,
        backlog: int = 100,
        ssl: SSLOption = None,
        reuse_address: bool | None = None,
        reuse_port: bool | None = None,
        keep_alive: bool | None = None,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
        start_serving: bool = True,
    ) -> asyncio.Server: ...

    @overload
    async def create_server(
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        host: None = None,
        port: None = None,
        *,
        family: int = socket.AF_UNSPEC,
        flags: int = socket.AI_PASSIVE,
        sock: socket.socket,
        backlog: int = 100,
        ssl: SSLOption = None,
        reuse_address: bool | None = None,
        reuse_port: bool | None = None,
        keep_alive: bool | None = None,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
        start_serving: bool = True,
    ) -> asyncio.Server: ...

    async def create_server(
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        host: str | Sequence[str] | None = None,
        port: int | str | None = None,
        *,
        family: int = socket.AF_UNSPEC,
        flags: int = socket.AI_PASSIVE,
        sock: socket.socket | None = None,
        backlog: int = 100,
        ssl: SSLOption = None,
        reuse_address: bool | None = None,
        reuse_port: bool | None = None,
        keep_alive: bool | None = None,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
        start_serving: bool = True,
    ) -> asyncio.Server:
        """Start a stream server; see :mod:`loop_transports`. Needs loop-transports."""
        return await self._network("create_server").create_server(
            self._as_loop(),
            protocol_factory,
            host,
            port,
            family=family,
            flags=flags,
            sock=sock,
            backlog=backlog,
            ssl=ssl,
            reuse_port=reuse_port,
            keep_alive=keep_alive,
            ssl_handshake_timeout=ssl_handshake_timeout,
            ssl_shutdown_timeout=ssl_shutdown_timeout,
            start_serving=start_serving,
        )

    async def create_unix_connection(
        self,
        protocol_factory: Callable[[], _ProtocolT],
        path: str | bytes | os.PathLike[str] | None = None,
        *,
        ssl: SSLOption = None,
        sock: socket.socket | None = None,
        server_hostname: str | None = None,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
    ) -> tuple[asyncio.Transport, _ProtocolT]:
        """Open a Unix stream connection. Needs loop-transports."""
        return await self._network("create_unix_connection").create_unix_connection(
            self._as_loop(),
            protocol_factory,
            path,
            ssl=ssl,
            sock=sock,
            server_hostname=server_hostname,
            ssl_handshake_timeout=ssl_handshake_timeout,
            ssl_shutdown_timeout=ssl_shutdown_timeout,
        )

    async def create_unix_server(
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        path: str | bytes | os.PathLike[str] | None = None,
        *,
        sock: socket.socket | None = None,
        backlog: int = 100,
        ssl: SSLOption = None,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
        start_serving: bool = True,
        cleanup_socket: bool = True,
    ) -> asyncio.Server:
        """Start a Unix stream server. Needs loop-transports."""
        return await self._network("create_unix_server").create_unix_server(
            self._as_loop(),
            protocol_factory,
            path,
            sock=sock,
            backlog=backlog,
            ssl=ssl,
            ssl_handshake_timeout=ssl_handshake_timeout,
            ssl_shutdown_timeout=ssl_shutdown_timeout,
            start_serving=start_serving,
            cleanup_socket=cleanup_socket,
        )

    async def create_datagram_endpoint(
        self,
        protocol_factory: Callable[[], _ProtocolT],
        local_addr: tuple[str, int] | str | None = None,
        remote_addr: tuple[str, int] | str | None = None,
        *,
        family: int = 0,
        proto: int = 0,
        flags: int = 0,
        reuse_port: bool | None = None,
        allow_broadcast: bool | None = None,
        sock: socket.socket | None = None,
    ) -> tuple[asyncio.DatagramTransport, _ProtocolT]:
        """Open a datagram endpoint. Needs loop-transports."""
        return await self._network("create_datagram_endpoint").create_datagram_endpoint(
            self._as_loop(),
            protocol_factory,
            local_addr,
            remote_addr,
            family=family,
            proto=proto,
            flags=flags,
            reuse_port=reuse_port,
            allow_broadcast=allow_broadcast,
            sock=sock,
        )

    async def connect_accepted_socket(
        self,
        protocol_factory: Callable[[], _ProtocolT],
        sock: socket.socket,
        *,
        ssl: SSLOption = None,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
    ) -> tuple[asyncio.Transport, _ProtocolT]:
        """Wrap an accepted socket in a transport. Needs loop-transports."""
        return await self._network("connect_accepted_socket").connect_accepted_socket(
            self._as_loop(),
            protocol_factory,
            sock,
            ssl=ssl,
            ssl_handshake_timeout=ssl_handshake_timeout,
            ssl_shutdown_timeout=ssl_shutdown_timeout,
        )

    async def connect_read_pipe(
        self, protocol_factory: Callable[[], _ProtocolT], pipe: Any
    ) -> tuple[asyncio.ReadTransport, _ProtocolT]:
        """Wrap the read end of a pipe in a transport. Needs loop-transports."""
        return await self._network("connect_read_pipe").connect_read_pipe(
            self._as_loop(), protocol_factory, pipe
        )

    async def connect_write_pipe(
        self, protocol_factory: Callable[[], _ProtocolT], pipe: Any
    ) -> tuple[asyncio.WriteTransport, _ProtocolT]:
        """Wrap the write end of a pipe in a transport. Needs loop-transports."""
        return await self._network("connect_write_pipe").connect_write_pipe(
            self._as_loop(), protocol_factory, pipe
        )

    async def subprocess_exec(
        self,
        protocol_factory: Callable[[], _ProtocolT],
        program: Any,
        *args: Any,
        stdin: int | IO[Any] | None = subprocess.PIPE,
        stdout: int | IO[Any] | None = subprocess.PIPE,
        stderr: int | IO[Any] | None = subprocess.PIPE,
        universal_newlines: Literal[False] = False,
        shell: Literal[False] = False,
        bufsize: Literal[0] = 0,
        encoding: None = None,
        errors: None = None,
        text: Literal[False] | None = None,
        **kwargs: Any,  # the rest of subprocess.Popen's keywords, as typeshed has them
    ) -> tuple[asyncio.SubprocessTransport, _ProtocolT]:
        """Run *program* as a child process. Needs loop-transports."""
        return await self._network("subprocess_exec").subprocess_exec(
            self._as_loop(),
            protocol_factory,
            program,
            *args,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            universal_newlines=universal_newlines,
            shell=shell,
            bufsize=bufsize,
            encoding=encoding,
            errors=errors,
            text=text,
            **kwargs,
        )

    async def subprocess_shell(
        self,
        protocol_factory: Callable[[], _ProtocolT],
        cmd: bytes | str,
        *,
        stdin: int | IO[Any] | None = subprocess.PIPE,
        stdout: int | IO[Any] | None = subprocess.PIPE,
        stderr: int | IO[Any] | None = subprocess.PIPE,
        universal_newlines: Literal[False] = False,
        shell: Literal[True] = True,
        bufsize: Literal[0] = 0,
        encoding: None = None,
        errors: None = None,
        text: Literal[False] | None = None,
        **kwargs: Any,  # the rest of subprocess.Popen's keywords, as typeshed has them
    ) -> tuple[asyncio.SubprocessTransport, _ProtocolT]:
        """Run *cmd* through the shell. Needs loop-transports."""
        return await self._network("subprocess_shell").subprocess_shell(
            self._as_loop(),
            protocol_factory,
            cmd,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            universal_newlines=universal_newlines,
            shell=shell,
            bufsize=bufsize,
            encoding=encoding,
            errors=errors,
            text=text,
            **kwargs,
        )

    async def sendfile(
        self,
        transport: asyncio.WriteTransport,
        file: IO[bytes],
        offset: int = 0,
        count: int | None = None,
        *,
        fallback: bool = True,
    ) -> int:
        """Send a file over a transport. Needs loop-transports."""
        return await self._network("sendfile").sendfile(
            self._as_loop(), transport, file, offset, count, fallback=fallback
        )

    async def sock_sendfile(
        self,
        sock: socket.socket,
        file: IO[bytes],
        offset: int = 0,
        count: int | None = None,
        *,
        fallback: bool | None = True,
    ) -> int:
        """Send a file over a socket. Needs loop-transports."""
        return await self._network("sock_sendfile").sock_sendfile(
            self._as_loop(), sock, file, offset, count, fallback=bool(fallback)
        )

    async def start_tls(
        self,
        transport: asyncio.BaseTransport,
        protocol: asyncio.BaseProtocol,
        sslcontext: ssl.SSLContext,
        *,
        server_side: bool = False,
        server_hostname: str | None = None,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
    ) -> asyncio.Transport | None:
        """Upgrade a connection to TLS. Needs loop-ssl."""
        return await self._tls("start_tls").start_tls(
            self._as_loop(),
            transport,
            protocol,
            sslcontext,
            server_side=server_side,
            server_hostname=server_hostname,
            ssl_handshake_timeout=ssl_handshake_timeout,
            ssl_shutdown_timeout=ssl_shutdown_timeout,
        )

    def tls_server_protocol(
        self,
        protocol: asyncio.BaseProtocol,
        sslcontext: ssl.SSLContext,
        *,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
    ) -> asyncio.BaseProtocol:
        """The protocol for an accepted connection's transport that serves
        TLS to *protocol*: it answers the handshake, then calls
        ``protocol.connection_made`` with the TLS transport (a failed
        handshake aborts the connection). What a server does with each
        connection, without a task per connection as ``start_tls`` needs.
        Needs loop-ssl."""
        return self._tls("tls_server_protocol").tls_server_protocol(
            self._as_loop(),
            protocol,
            sslcontext,
            ssl_handshake_timeout=ssl_handshake_timeout,
            ssl_shutdown_timeout=ssl_shutdown_timeout,
        )

    def _as_loop(self) -> asyncio.AbstractEventLoop:
        # This mixin is only ever a base of EventLoop, an AbstractEventLoop.
        return cast("asyncio.AbstractEventLoop", self)
