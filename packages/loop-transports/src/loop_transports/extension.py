"""loop-core's ``network`` extension: the loop methods this package provides.

Registered under the ``loop_core.extensions`` entry-point group, so installing
loop-transports is all it takes for ``loop.create_connection`` and the rest to
work on loop-core's loop. Each method forwards to the module that implements
it; those modules use only the loop's public interface.
"""

from __future__ import annotations

import asyncio
import socket
import weakref
from collections.abc import Callable, Coroutine
from typing import Any

from loop_transports import connect, datagram, pipes, sendfile, servers, subprocess_transport

__all__ = ["NetworkMethods", "create_extension"]


class NetworkMethods:
    """The network methods of one loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        # Children being started or still running: work in real time that a
        # virtual clock must not jump past (see real_time_work_in_flight).
        self._starting = 0
        self._children: weakref.WeakSet[asyncio.SubprocessTransport] = weakref.WeakSet()

    def real_time_work_in_flight(self) -> bool:
        """Whether a child process is being started or is still running."""
        return self._starting > 0 or any(child.get_returncode() is None for child in self._children)

    async def _child(self, starting: Coroutine[Any, Any, tuple[Any, Any]]) -> tuple[Any, Any]:
        self._starting += 1
        try:
            transport, protocol = await starting
        finally:
            self._starting -= 1
        self._children.add(transport)
        return transport, protocol

    async def create_connection(
        self, protocol_factory: Callable[[], Any], host: Any, port: Any, **options: Any
    ) -> tuple[Any, Any]:
        return await connect.create_connection(self._loop, protocol_factory, host, port, **options)

    async def create_server(
        self, protocol_factory: Callable[[], Any], host: Any, port: Any, **options: Any
    ) -> Any:
        return await servers.create_server(self._loop, protocol_factory, host, port, **options)

    async def create_unix_connection(
        self, protocol_factory: Callable[[], Any], path: Any, **options: Any
    ) -> tuple[Any, Any]:
        return await connect.create_unix_connection(self._loop, protocol_factory, path, **options)

    async def create_unix_server(
        self, protocol_factory: Callable[[], Any], path: Any, **options: Any
    ) -> Any:
        return await servers.create_unix_server(self._loop, protocol_factory, path, **options)

    async def create_datagram_endpoint(
        self, protocol_factory: Callable[[], Any], **options: Any
    ) -> tuple[Any, Any]:
        return await datagram.create_datagram_endpoint(self._loop, protocol_factory, **options)

    async def connect_accepted_socket(
        self, protocol_factory: Callable[[], Any], sock: socket.socket, **options: Any
    ) -> tuple[Any, Any]:
        return await connect.connect_accepted_socket(self._loop, protocol_factory, sock, **options)

    async def connect_read_pipe(
        self, protocol_factory: Callable[[], Any], pipe: Any
    ) -> tuple[Any, Any]:
        return await pipes.connect_read_pipe(self._loop, protocol_factory, pipe)

    async def connect_write_pipe(
        self, protocol_factory: Callable[[], Any], pipe: Any
    ) -> tuple[Any, Any]:
        return await pipes.connect_write_pipe(self._loop, protocol_factory, pipe)

    async def subprocess_exec(
        self, protocol_factory: Callable[[], Any], program: Any, *args: Any, **options: Any
    ) -> tuple[Any, Any]:
        return await self._child(
            subprocess_transport.subprocess_exec(
                self._loop, protocol_factory, program, *args, **options
            )
        )

    async def subprocess_shell(
        self, protocol_factory: Callable[[], Any], cmd: Any, **options: Any
    ) -> tuple[Any, Any]:
        return await self._child(
            subprocess_transport.subprocess_shell(self._loop, protocol_factory, cmd, **options)
        )

    async def sendfile(
        self, transport: Any, file: Any, offset: int, count: int | None, *, fallback: bool
    ) -> int:
        return await sendfile.sendfile(
            self._loop, transport, file, offset, count, fallback=fallback
        )

    async def sock_sendfile(
        self, sock: socket.socket, file: Any, offset: int, count: int | None, *, fallback: bool
    ) -> int:
        return await sendfile.sock_sendfile(
            self._loop, sock, file, offset, count, fallback=fallback
        )

    def close(self) -> None:
        """The loop is closing: hand its running children's exit to threads.

        Transports and servers close themselves; a child process outlives
        the loop, and must still be reaped when it exits.
        """
        subprocess_transport.release_exit_watchers(self._loop)


def create_extension(loop: asyncio.AbstractEventLoop) -> NetworkMethods:
    """Entry point of the ``network`` extension."""
    return NetworkMethods(loop)
