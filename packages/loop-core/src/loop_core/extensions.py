"""Extensions: the loop methods that live in optional packages.

loop-core is a complete loop for tasks, timers, file descriptors, signals and
low-level socket calls. The methods of :class:`asyncio.AbstractEventLoop` that
need more (thread pools and name resolution, transports, TLS) delegate to an
extension object of one of the shapes below. A sibling package provides it by
declaring an entry point in the ``loop_core.extensions`` group whose name is the
extension kind (``"executor"``, ``"network"`` or ``"tls"``) and whose value is a
factory called with the loop; a loop can also be handed factories directly
(``EventLoop(extensions={...})``) for frozen applications.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import ssl
import warnings
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any, Protocol, TypeVar

__all__ = [
    "ENTRY_POINT_GROUP",
    "EXTENSION_PACKAGES",
    "ExecutorExtension",
    "ExtensionFactory",
    "MissingExtensionError",
    "NetworkExtension",
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
        func: Callable[..., _T],
        *args: object,
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

    Each method takes the loop method's arguments; keyword options are passed
    through unchanged so the loop's signatures stay asyncio's own.
    """

    async def create_connection(
        self, protocol_factory: Callable[[], Any], host: Any, port: Any, **options: Any
    ) -> tuple[Any, Any]: ...

    async def create_server(
        self, protocol_factory: Callable[[], Any], host: Any, port: Any, **options: Any
    ) -> Any: ...

    async def create_unix_connection(
        self, protocol_factory: Callable[[], Any], path: Any, **options: Any
    ) -> tuple[Any, Any]: ...

    async def create_unix_server(
        self, protocol_factory: Callable[[], Any], path: Any, **options: Any
    ) -> Any: ...

    async def create_datagram_endpoint(
        self, protocol_factory: Callable[[], Any], **options: Any
    ) -> tuple[Any, Any]: ...

    async def connect_accepted_socket(
        self, protocol_factory: Callable[[], Any], sock: socket.socket, **options: Any
    ) -> tuple[Any, Any]: ...

    async def connect_read_pipe(
        self, protocol_factory: Callable[[], Any], pipe: Any
    ) -> tuple[Any, Any]: ...

    async def connect_write_pipe(
        self, protocol_factory: Callable[[], Any], pipe: Any
    ) -> tuple[Any, Any]: ...

    async def subprocess_exec(
        self, protocol_factory: Callable[[], Any], program: Any, *args: Any, **options: Any
    ) -> tuple[Any, Any]: ...

    async def subprocess_shell(
        self, protocol_factory: Callable[[], Any], cmd: Any, **options: Any
    ) -> tuple[Any, Any]: ...

    async def sendfile(
        self, transport: Any, file: Any, offset: int, count: int | None, *, fallback: bool
    ) -> int: ...

    async def sock_sendfile(
        self, sock: socket.socket, file: Any, offset: int, count: int | None, *, fallback: bool
    ) -> int: ...


class TLSExtension(Protocol):
    """TLS over any transport (provided by loop-ssl)."""

    async def start_tls(
        self,
        transport: Any,
        protocol: Any,
        sslcontext: ssl.SSLContext,
        **options: Any,
    ) -> Any: ...


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
