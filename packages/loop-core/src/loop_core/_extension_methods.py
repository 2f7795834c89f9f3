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
import socket
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from loop_core.extensions import (
    ExecutorExtension,
    ExtensionFactory,
    MissingExtensionError,
    NetworkExtension,
    TLSExtension,
    discover_extensions,
)

__all__ = ["ExtensionMethods"]

_T = TypeVar("_T")


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
        self, executor: concurrent.futures.Executor | None, func: Callable[..., _T], *args: Any
    ) -> asyncio.Future[_T]:
        """Run ``func(*args)`` in *executor* (``None``: the default pool). Needs loop-executor."""
        if self._closed:
            raise RuntimeError("Event loop is closed")
        return self._executor("run_in_executor").run_in_executor(executor, func, *args)

    def set_default_executor(self, executor: Any) -> None:
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

    async def getnameinfo(self, sockaddr: Any, flags: int = 0) -> tuple[str, str]:
        """Look up the name of *sockaddr* like :func:`socket.getnameinfo`. Needs loop-executor."""
        return await self._executor("getnameinfo").getnameinfo(sockaddr, flags)

    async def create_connection(
        self,
        protocol_factory: Callable[[], Any],
        host: Any = None,
        port: Any = None,
        **options: Any,
    ) -> tuple[Any, Any]:
        """Open a stream connection; see :mod:`loop_transports`. Needs loop-transports."""
        return await self._network("create_connection").create_connection(
            protocol_factory, host, port, **options
        )

    async def create_server(
        self,
        protocol_factory: Callable[[], Any],
        host: Any = None,
        port: Any = None,
        **options: Any,
    ) -> Any:
        """Start a stream server; see :mod:`loop_transports`. Needs loop-transports."""
        return await self._network("create_server").create_server(
            protocol_factory, host, port, **options
        )

    async def create_unix_connection(
        self, protocol_factory: Callable[[], Any], path: str | None = None, **options: Any
    ) -> tuple[Any, Any]:
        """Open a Unix stream connection. Needs loop-transports."""
        return await self._network("create_unix_connection").create_unix_connection(
            protocol_factory, path, **options
        )

    async def create_unix_server(
        self, protocol_factory: Callable[[], Any], path: str | None = None, **options: Any
    ) -> Any:
        """Start a Unix stream server. Needs loop-transports."""
        return await self._network("create_unix_server").create_unix_server(
            protocol_factory, path, **options
        )

    async def create_datagram_endpoint(
        self,
        protocol_factory: Callable[[], Any],
        local_addr: Any = None,
        remote_addr: Any = None,
        **options: Any,
    ) -> tuple[Any, Any]:
        """Open a datagram endpoint. Needs loop-transports."""
        return await self._network("create_datagram_endpoint").create_datagram_endpoint(
            protocol_factory, local_addr=local_addr, remote_addr=remote_addr, **options
        )

    async def connect_accepted_socket(
        self, protocol_factory: Callable[[], Any], sock: socket.socket, **options: Any
    ) -> tuple[Any, Any]:
        """Wrap an accepted socket in a transport. Needs loop-transports."""
        return await self._network("connect_accepted_socket").connect_accepted_socket(
            protocol_factory, sock, **options
        )

    async def connect_read_pipe(
        self, protocol_factory: Callable[[], Any], pipe: Any
    ) -> tuple[Any, Any]:
        """Wrap the read end of a pipe in a transport. Needs loop-transports."""
        return await self._network("connect_read_pipe").connect_read_pipe(protocol_factory, pipe)

    async def connect_write_pipe(
        self, protocol_factory: Callable[[], Any], pipe: Any
    ) -> tuple[Any, Any]:
        """Wrap the write end of a pipe in a transport. Needs loop-transports."""
        return await self._network("connect_write_pipe").connect_write_pipe(protocol_factory, pipe)

    async def subprocess_exec(
        self, protocol_factory: Callable[[], Any], program: Any, *args: Any, **options: Any
    ) -> tuple[Any, Any]:
        """Run *program* as a child process. Needs loop-transports."""
        return await self._network("subprocess_exec").subprocess_exec(
            protocol_factory, program, *args, **options
        )

    async def subprocess_shell(
        self, protocol_factory: Callable[[], Any], cmd: Any, **options: Any
    ) -> tuple[Any, Any]:
        """Run *cmd* through the shell. Needs loop-transports."""
        return await self._network("subprocess_shell").subprocess_shell(
            protocol_factory, cmd, **options
        )

    async def sendfile(
        self,
        transport: Any,
        file: Any,
        offset: int = 0,
        count: int | None = None,
        *,
        fallback: bool = True,
    ) -> int:
        """Send a file over a transport. Needs loop-transports."""
        return await self._network("sendfile").sendfile(
            transport, file, offset, count, fallback=fallback
        )

    async def sock_sendfile(
        self,
        sock: socket.socket,
        file: Any,
        offset: int = 0,
        count: int | None = None,
        *,
        fallback: bool | None = True,
    ) -> int:
        """Send a file over a socket. Needs loop-transports."""
        return await self._network("sock_sendfile").sock_sendfile(
            sock, file, offset, count, fallback=bool(fallback)
        )

    async def start_tls(
        self, transport: Any, protocol: Any, sslcontext: Any, **options: Any
    ) -> Any:
        """Upgrade a connection to TLS. Needs loop-ssl."""
        return await self._tls("start_tls").start_tls(transport, protocol, sslcontext, **options)
