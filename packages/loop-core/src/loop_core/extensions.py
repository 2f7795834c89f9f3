"""Extensions: the loop methods that live in optional packages.

loop-core is a complete loop for tasks, timers, file descriptors, signals and
low-level socket calls. The methods of :class:`asyncio.AbstractEventLoop` that
need more (thread pools and name resolution, transports, TLS) delegate to an
extension object of one of the shapes below. A sibling package provides it by
declaring an entry point in the ``loop_core.extensions`` group whose name is the
extension kind (``"executor"``, ``"network"`` or ``"tls"``) and whose value is a
factory called with the loop; a loop can also be handed factories directly
(``EventLoop(extensions={...})``) for frozen applications.

Two methods are optional on every extension: ``close()``, called as the loop
closes, and ``real_time_work_in_flight() -> bool``, which a virtual-clock loop
(:mod:`loop_core.testing.virtual_clock`) asks before it lets its clock jump:
``True`` while a thread or a child process of the extension is at work.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import ssl
import subprocess
import warnings
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import entry_points
from typing import IO, Any, Literal, Protocol, TypeAlias, TypeVar, TypeVarTuple

__all__ = [
    "ENTRY_POINT_GROUP",
    "EXTENSION_PACKAGES",
    "ExecutorExtension",
    "ExtensionFactory",
    "MissingExtensionError",
    "NetworkExtension",
    "SSLOption",
    "TLSExtension",
    "discover_extensions",
]

ENTRY_POINT_GROUP = "loop_core.extensions"

#: The distribution that provides each extension kind.
EXTENSION_PACKAGES: Mapping[str, str] = {
    "executor": "loop-executor",
    "network": "loop-transports",
    "tls": "loop-ssl",
}

_T = TypeVar("_T")
_ProtocolT = TypeVar("_ProtocolT", bound=asyncio.BaseProtocol)
_Ts = TypeVarTuple("_Ts")

#: What the ``ssl`` argument of the connection methods takes (typeshed's ``_SSLContext``).
SSLOption: TypeAlias = "ssl.SSLContext | bool | None"

#: Called with the loop, returns the extension object serving that loop.
ExtensionFactory = Callable[[asyncio.AbstractEventLoop], object]


class MissingExtensionError(RuntimeError):
    """A loop method was called whose package is not installed."""

    def __init__(self, method: str, kind: str) -> None:
        package = EXTENSION_PACKAGES.get(kind, kind)
        super().__init__(
            f"loop.{method}() needs the {package} package, which is not installed "
            f"(pip install {package})"
        )
        self.method = method
        self.kind = kind
        self.package = package


class ExecutorExtension(Protocol):
    """Thread-pool bridging and name resolution (provided by loop-executor)."""

    def run_in_executor(
        self,
        executor: concurrent.futures.Executor | None,
        func: Callable[[*_Ts], _T],
        *args: *_Ts,
    ) -> asyncio.Future[_T]: ...

    def set_default_executor(self, executor: concurrent.futures.Executor) -> None: ...

    async def shutdown_default_executor(self, timeout: float | None = None) -> None: ...

    async def getaddrinfo(
        self,
        host: bytes | str | None,
        port: bytes | str | int | None,
        *,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[
        tuple[
            socket.AddressFamily,
            socket.SocketKind,
            int,
            str,
            tuple[str, int] | tuple[str, int, int, int] | tuple[int, bytes],
        ]
    ]: ...

    async def getnameinfo(
        self, sockaddr: tuple[str, int] | tuple[str, int, int, int], flags: int = 0
    ) -> tuple[str, str]: ...

    def close(self) -> None:
        """Release what the extension holds when its loop closes, without blocking."""


class NetworkExtension(Protocol):
    """Transports, servers, pipes and subprocesses (provided by loop-transports).

    Each method is the loop method of the same name with the loop as its first
    argument, so an implementation can be the function itself, with no layer
    in between; the signatures are asyncio's (typeshed's), written out.
    """

    async def create_connection(
        self,
        loop: asyncio.AbstractEventLoop,
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
    ) -> tuple[asyncio.Transport, _ProtocolT]: ...

    async def create_server(
        self,
        loop: asyncio.AbstractEventLoop,
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
    ) -> asyncio.Server: ...

    async def create_unix_connection(
        self,
        loop: asyncio.AbstractEventLoop,
        protocol_factory: Callable[[], _ProtocolT],
        path: str | bytes | os.PathLike[str] | None = None,
        *,
        ssl: SSLOption = None,
        sock: socket.socket | None = None,
        server_hostname: str | None = None,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
    ) -> tuple[asyncio.Transport, _ProtocolT]: ...

    async def create_unix_server(
        self,
        loop: asyncio.AbstractEventLoop,
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
    ) -> asyncio.Server: ...

    async def create_datagram_endpoint(
        self,
        loop: asyncio.AbstractEventLoop,
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
    ) -> tuple[asyncio.DatagramTransport, _ProtocolT]: ...

    async def connect_accepted_socket(
        self,
        loop: asyncio.AbstractEventLoop,
        protocol_factory: Callable[[], _ProtocolT],
        sock: socket.socket,
        *,
        ssl: SSLOption = None,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
    ) -> tuple[asyncio.Transport, _ProtocolT]: ...

    async def connect_read_pipe(
        self,
        loop: asyncio.AbstractEventLoop,
        protocol_factory: Callable[[], _ProtocolT],
        pipe: Any,
    ) -> tuple[asyncio.ReadTransport, _ProtocolT]: ...

    async def connect_write_pipe(
        self,
        loop: asyncio.AbstractEventLoop,
        protocol_factory: Callable[[], _ProtocolT],
        pipe: Any,
    ) -> tuple[asyncio.WriteTransport, _ProtocolT]: ...

    async def subprocess_exec(
        self,
        loop: asyncio.AbstractEventLoop,
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
    ) -> tuple[asyncio.SubprocessTransport, _ProtocolT]: ...

    async def subprocess_shell(
        self,
        loop: asyncio.AbstractEventLoop,
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
    ) -> tuple[asyncio.SubprocessTransport, _ProtocolT]: ...

    async def sendfile(
        self,
        loop: asyncio.AbstractEventLoop,
        transport: asyncio.WriteTransport,
        file: IO[bytes],
        offset: int = 0,
        count: int | None = None,
        *,
        fallback: bool = True,
    ) -> int: ...

    async def sock_sendfile(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        file: IO[bytes],
        offset: int = 0,
        count: int | None = None,
        *,
        fallback: bool = True,
    ) -> int: ...


class TLSExtension(Protocol):
    """TLS over any transport (provided by loop-ssl); the loop comes first, as above."""

    async def start_tls(
        self,
        loop: asyncio.AbstractEventLoop,
        transport: asyncio.BaseTransport,
        protocol: asyncio.BaseProtocol,
        sslcontext: ssl.SSLContext,
        *,
        server_side: bool = False,
        server_hostname: str | None = None,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
    ) -> asyncio.Transport | None: ...

    def tls_server_protocol(
        self,
        loop: asyncio.AbstractEventLoop,
        protocol: asyncio.BaseProtocol,
        sslcontext: ssl.SSLContext,
        *,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
    ) -> asyncio.BaseProtocol: ...


_discovered: dict[str, ExtensionFactory] | None = None


def discover_extensions(*, refresh: bool = False) -> dict[str, ExtensionFactory]:
    """Return the installed extension factories by kind, from entry points.

    The scan of installed distributions (file I/O, and the extensions'
    imports) happens once per process, when the first loop is made, never
    inside a running loop; pass ``refresh=True`` after installing a package
    at run time (loops made afterwards see it). An extension that fails to
    load is left out with a warning, and the scan is not repeated for it.
    """
    global _discovered
    if _discovered is None or refresh:
        found: dict[str, ExtensionFactory] = {}
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            if entry_point.name not in EXTENSION_PACKAGES or entry_point.name in found:
                continue
            try:
                found[entry_point.name] = entry_point.load()
            except Exception as exc:
                warnings.warn(
                    f"loop-core extension {entry_point.name!r} ({entry_point.value}) "
                    f"could not be loaded and is left out: {exc!r}",
                    RuntimeWarning,
                    stacklevel=2,
                )
        _discovered = found
    return dict(_discovered)
