"""One server of the server-CPU benchmark, on one loop implementation.

``python benchmarks/net_server.py IMPL WORKLOAD ADDRESS`` serves WORKLOAD
on a loop of IMPL at ADDRESS (a TCP or UDP port, 0 for any, or a Unix socket
path), prints the bound address, then answers each line on its standard
input with the process's CPU time so far (``time.process_time``), the user
part of it (``getrusage``) and the number of requests it made itself, until
standard input closes. ``net_cpu.py``
reads both before and after a load window; everything the process spends in
between is the loop's and its transports'.

Most workloads answer a load generator (``tls`` with the certificate and key
files named by ``NET_SERVER_CERTFILE`` and ``NET_SERVER_KEYFILE``). ``pipes``
makes its own load: it
keeps PIPE_CHILDREN ``cat`` processes busy echoing PIPE_MESSAGE-byte messages
through their standard input and output, and counts the round trips.
"""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import ssl
import sys
import time
from collections.abc import Callable
from typing import Any

from net_workloads import DatagramEcho, Echo, streams_module
from workloads import make_loop

HTTP_RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n\r\nHello, world!"
)


class Http(asyncio.Protocol):
    """A minimal HTTP/1.1 keep-alive server: one fixed answer per request."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport
        self.pending = b""

    def data_received(self, data: bytes) -> None:
        self.pending += data
        while True:
            end = self.pending.find(b"\r\n\r\n")
            if end < 0:
                return
            self.pending = self.pending[end + 4 :]
            self.transport.write(HTTP_RESPONSE)


async def _streams_echo(reader: Any, writer: Any) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass  # the load generator left at the end of its run
    writer.close()


async def _sock_echo(loop: asyncio.AbstractEventLoop, conn: socket.socket) -> None:
    with conn:
        try:
            while data := await loop.sock_recv(conn, 65536):
                await loop.sock_sendall(conn, data)
        except ConnectionError:
            pass  # the load generator left at the end of its run


def _server_tls_context() -> ssl.SSLContext:
    """The certificate and key ``net_cpu.py`` made, named in the environment."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(os.environ["NET_SERVER_CERTFILE"], os.environ["NET_SERVER_KEYFILE"])
    return context


PIPE_CHILDREN = 4
PIPE_MESSAGE = 1024
_PIPE_PAYLOAD = b"x" * PIPE_MESSAGE


class PipeEcho(asyncio.SubprocessProtocol):
    """Sends a message to a ``cat`` child and the next one when it came back."""

    exchanges = 0  # round trips made by every instance, together

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport
        self.stdin: Any = None
        self.pending = 0

    def send(self) -> None:
        if self.stdin is None:
            self.stdin = self.transport.get_pipe_transport(0)
        self.pending = PIPE_MESSAGE
        self.stdin.write(_PIPE_PAYLOAD)

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        self.pending -= len(data)
        if self.pending <= 0:
            PipeEcho.exchanges += 1
            self.send()


async def _keep_pipes_busy(loop: asyncio.AbstractEventLoop) -> list[Any]:
    transports = []
    for _ in range(PIPE_CHILDREN):
        transport, protocol = await loop.subprocess_exec(PipeEcho, "cat")
        protocol.send()
        transports.append(transport)
    return transports


async def _listen(address: str, workload: str) -> tuple[socket.socket, str]:
    if workload == "udp":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", int(address)))
        return sock, str(sock.getsockname()[1])
    if address.isdigit():
        sock = socket.create_server(("127.0.0.1", int(address)), backlog=4096)
        return sock, str(sock.getsockname()[1])
    if os.path.exists(address):
        os.unlink(address)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(address)
    sock.listen(4096)
    return sock, address


async def serve(impl: str, workload: str, address: str) -> None:
    loop = asyncio.get_running_loop()
    listening, bound = await _listen(address, workload)
    listening.setblocking(False)
    accepting: asyncio.Task[None] | None = None
    children: list[Any] = []
    if workload in ("protocol", "connect", "http"):
        factory: Callable[[], asyncio.Protocol] = Http if workload == "http" else Echo
        server: Any = await loop.create_server(factory, sock=listening)
    elif workload == "tls":
        server = await loop.create_server(Echo, sock=listening, ssl=_server_tls_context())
    elif workload == "udp":
        server, _ = await loop.create_datagram_endpoint(DatagramEcho, sock=listening)
    elif workload == "pipes":
        server = None
        children = await _keep_pipes_busy(loop)
    elif workload == "streams":
        server = await streams_module(impl).start_server(_streams_echo, sock=listening)
    elif workload == "sock":
        server = None
        # Strong references: the loop keeps only weak ones to its tasks.
        echoing: set[asyncio.Task[None]] = set()

        async def accept_forever() -> None:
            while True:
                conn, _ = await loop.sock_accept(listening)
                conn.setblocking(False)
                task = loop.create_task(_sock_echo(loop, conn))
                echoing.add(task)
                task.add_done_callback(echoing.discard)

        accepting = loop.create_task(accept_forever())
    else:
        raise SystemExit(f"unknown workload {workload!r}")
    print(bound, flush=True)
    done = loop.create_future()

    def answer() -> None:
        line = sys.stdin.readline()
        if not line:
            loop.remove_reader(sys.stdin.fileno())
            done.set_result(None)
            return
        user = resource.getrusage(resource.RUSAGE_SELF).ru_utime
        print(f"{time.process_time():.9f} {user:.6f} {PipeEcho.exchanges}", flush=True)

    loop.add_reader(sys.stdin.fileno(), answer)
    await done
    for child in children:
        child.close()
    if server is not None:
        server.close()
    elif accepting is not None:
        accepting.cancel()
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


def main() -> None:
    impl, workload, address = sys.argv[1:4]
    loop = make_loop(impl)
    try:
        loop.run_until_complete(serve(impl, workload, address))
    finally:
        loop.close()


if __name__ == "__main__":
    main()
