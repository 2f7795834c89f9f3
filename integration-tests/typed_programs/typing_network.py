"""A program typed against the loop's network, process, TLS and thread methods.

Checked by ``mypy --strict`` in ``nox -s types`` (``assert_type`` pins what
each method returns: the protocol type the factory makes, asyncio's transport
classes) and run by test_integration_typing.py.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import assert_type

import loop_core


class Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


class Collect(asyncio.Protocol):
    def __init__(self) -> None:
        self.received = bytearray()
        self.done: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.received += data
        if self.received.endswith(b"!"):
            self.done.set_result(bytes(self.received))


class Child(asyncio.SubprocessProtocol):
    def __init__(self) -> None:
        self.exited: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def process_exited(self) -> None:
        self.exited.set_result(None)


class Datagrams(asyncio.DatagramProtocol):
    pass


def double(value: int) -> int:
    return value * 2


async def network(loop: loop_core.EventLoop) -> list[object]:
    server = await loop.create_server(Echo, "127.0.0.1", 0)
    assert_type(server, asyncio.Server)
    port = server.sockets[0].getsockname()[1]
    transport, protocol = await loop.create_connection(Collect, "127.0.0.1", port)
    assert_type(transport, asyncio.Transport)
    assert_type(protocol, Collect)
    transport.write(b"typed!")
    echoed = await protocol.done
    transport.close()
    server.close()
    await server.wait_closed()

    endpoint, datagrams = await loop.create_datagram_endpoint(
        Datagrams, local_addr=("127.0.0.1", 0)
    )
    assert_type(endpoint, asyncio.DatagramTransport)
    assert_type(datagrams, Datagrams)
    endpoint.close()

    child, watcher = await loop.subprocess_exec(
        Child, sys.executable, "-c", "pass", stdin=None, stdout=None, stderr=None
    )
    assert_type(child, asyncio.SubprocessTransport)
    assert_type(watcher, Child)
    await watcher.exited
    code = child.get_returncode()
    child.close()

    doubled = loop.run_in_executor(None, double, 21)
    assert_type(doubled, asyncio.Future[int])
    return [echoed, code, await doubled]


async def mistakes_mypy_catches(loop: loop_core.EventLoop, sock: socket.socket) -> None:
    """Never run. Each line is a mistake mypy must reject: were it accepted, the
    ignore comment would be unused, which --strict reports as an error."""
    await loop.create_connection(Collect, "127.0.0.1", 1, sock=sock)  # type: ignore[call-overload]
    await loop.create_server(Echo)  # type: ignore[call-overload]
    await loop.create_connection(Collect, "127.0.0.1", 1, sssl=None)  # type: ignore[call-overload]
    await loop.create_datagram_endpoint(Datagrams, local_adr=("127.0.0.1", 0))  # type: ignore[call-arg]
    await loop.subprocess_exec(Child, "true", text=True)  # type: ignore[arg-type]


def main() -> list[object]:
    loop = loop_core.new_event_loop()
    try:
        return loop.run_until_complete(network(loop))
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


if __name__ == "__main__":
    print(main())
