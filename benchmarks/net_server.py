"""One server of the server-CPU benchmark, on one loop implementation.

``python benchmarks/net_server.py IMPL WORKLOAD ADDRESS`` serves WORKLOAD
(see :data:`SERVERS`) on a loop of IMPL at ADDRESS (a TCP port, 0 for any,
or a Unix socket path), prints the bound address, then answers each line on
its standard input with the process's CPU time so far (``time.process_time``),
until standard input closes. ``net_cpu.py`` reads the CPU time before and
after a load window; everything the process spends in between is the loop's
and its transports'.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

from net_workloads import Echo, streams_module
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
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


async def _sock_echo(loop: asyncio.AbstractEventLoop, conn: socket.socket) -> None:
    with conn:
        try:
            while data := await loop.sock_recv(conn, 65536):
                await loop.sock_sendall(conn, data)
        except ConnectionError:
            pass  # the load generator left at the end of its run


async def _listen(address: str) -> tuple[socket.socket, str]:
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
    listening, bound = await _listen(address)
    listening.setblocking(False)
    accepting: asyncio.Task[None] | None = None
    if workload in ("protocol", "http"):
        factory: Callable[[], asyncio.Protocol] = Echo if workload == "protocol" else Http
        server: Any = await loop.create_server(factory, sock=listening)
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
        print(f"{time.process_time():.9f}", flush=True)

    loop.add_reader(sys.stdin.fileno(), answer)
    await done
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
