"""Network and process benchmarks, for one loop implementation.

``python benchmarks/net_workloads.py IMPL [REPEATS]`` serves each workload on
a loop of IMPL (``loop_core``, ``asyncio`` or ``uvloop``) while
``echo_client.py`` drives it from another process, and prints a JSON object
mapping each workload to its best time in seconds (as the client measured
it). On loop-core's loop the servers use loop-transports (its streams too);
on the others, the loop's own transports and asyncio's streams.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import ModuleType
from typing import Any

from workloads import make_loop

HERE = Path(__file__).resolve().parent
Workload = Callable[[ModuleType], Coroutine[Any, Any, float]]


class Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


class BufferedEcho(asyncio.BufferedProtocol):
    def __init__(self) -> None:
        self.buffer = bytearray(256 * 1024)
        self.view = memoryview(self.buffer)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.view

    def buffer_updated(self, nbytes: int) -> None:
        self.transport.write(self.view[:nbytes])


class DatagramEcho(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.transport.sendto(data, addr)


async def drive(
    kind: str, host: str, port: int, size: int, count: int, env: dict[str, str] | None = None
) -> float:
    loop = asyncio.get_running_loop()
    client = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "echo_client.py"),
            kind,
            host,
            str(port),
            str(size),
            str(count),
        ],
        stdout=subprocess.PIPE,
        env=env,
    )
    out, _ = await loop.run_in_executor(None, client.communicate)
    if client.returncode:
        raise SystemExit(f"echo_client.py {kind} failed")
    return float(out)


async def tcp_with(factory: Callable[[], asyncio.BaseProtocol], size: int, count: int) -> float:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", 0)
    async with server:
        return await drive("tcp", "127.0.0.1", server.sockets[0].getsockname()[1], size, count)


async def protocol_1k(streams: ModuleType) -> float:
    return await tcp_with(Echo, 1024, 10_000)


async def protocol_10k(streams: ModuleType) -> float:
    return await tcp_with(Echo, 10 * 1024, 5_000)


async def protocol_100k(streams: ModuleType) -> float:
    return await tcp_with(Echo, 100 * 1024, 1_000)


async def buffered_1k(streams: ModuleType) -> float:
    return await tcp_with(BufferedEcho, 1024, 10_000)


async def buffered_100k(streams: ModuleType) -> float:
    return await tcp_with(BufferedEcho, 100 * 1024, 1_000)


async def _streams_echo(streams: ModuleType, size: int, count: int) -> float:
    async def handle(reader: Any, writer: Any) -> None:
        while data := await reader.read(256 * 1024):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await streams.start_server(handle, "127.0.0.1", 0)
    async with server:
        return await drive("tcp", "127.0.0.1", server.sockets[0].getsockname()[1], size, count)


async def streams_1k(streams: ModuleType) -> float:
    return await _streams_echo(streams, 1024, 10_000)


async def streams_100k(streams: ModuleType) -> float:
    return await _streams_echo(streams, 100 * 1024, 1_000)


async def unix_10k(streams: ModuleType) -> float:
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "echo.sock")
        server = await loop.create_unix_server(Echo, path)
        async with server:
            return await drive("unix", path, 0, 10 * 1024, 5_000)


async def connect_accept(streams: ModuleType) -> float:
    return await tcp_connect_rate()


async def tcp_connect_rate() -> float:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, "127.0.0.1", 0, backlog=1000)
    async with server:
        return await drive("connect", "127.0.0.1", server.sockets[0].getsockname()[1], 1, 1000)


async def udp_1k(streams: ModuleType) -> float:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(DatagramEcho, local_addr=("127.0.0.1", 0))
    try:
        port = transport.get_extra_info("sockname")[1]
        return await drive("udp", "127.0.0.1", port, 1024, 10_000)
    finally:
        transport.close()


async def sock_calls_10k(streams: ModuleType) -> float:
    loop = asyncio.get_running_loop()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)

        async def serve() -> None:
            conn, _ = await loop.sock_accept(listener)
            with conn:
                while data := await loop.sock_recv(conn, 256 * 1024):
                    await loop.sock_sendall(conn, data)

        serving = asyncio.ensure_future(serve())
        elapsed = await drive("tcp", "127.0.0.1", listener.getsockname()[1], 10 * 1024, 5_000)
        await serving
        return elapsed


async def subprocess_communicate(streams: ModuleType) -> float:
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(50):
        process = await streams.create_subprocess_exec(
            "cat", stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        out, _ = await process.communicate(b"x" * 4096)
        assert len(out) == 4096
    return loop.time() - started


class _Certificates:
    """A CA and a server certificate for localhost, made once per process."""

    def __init__(self) -> None:
        import trustme

        self._directory = tempfile.TemporaryDirectory()
        ca = trustme.CA()
        self.ca_file = os.path.join(self._directory.name, "ca.pem")
        ca.cert_pem.write_to_path(self.ca_file)
        self.server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("localhost", "127.0.0.1").configure_cert(self.server_context)


_certificates: list[_Certificates] = []


def certificates() -> _Certificates:
    if not _certificates:
        _certificates.append(_Certificates())
    return _certificates[0]


async def _tls(kind: str, size: int, count: int) -> float:
    loop = asyncio.get_running_loop()
    certs = certificates()
    server = await loop.create_server(Echo, "127.0.0.1", 0, ssl=certs.server_context)
    env = dict(os.environ, ECHO_CLIENT_CAFILE=certs.ca_file)
    async with server:
        port = server.sockets[0].getsockname()[1]
        return await drive(kind, "127.0.0.1", port, size, count, env)


async def tls_1k(streams: ModuleType) -> float:
    return await _tls("tls", 1024, 5_000)


async def tls_100k(streams: ModuleType) -> float:
    return await _tls("tls", 100 * 1024, 500)


async def tls_handshakes(streams: ModuleType) -> float:
    return await _tls("handshake", 1, 200)


WORKLOADS: dict[str, Workload] = {
    "TCP echo, Protocol, 1 KiB (10k)": protocol_1k,
    "TCP echo, Protocol, 10 KiB (5k)": protocol_10k,
    "TCP echo, Protocol, 100 KiB (1k)": protocol_100k,
    "TCP echo, BufferedProtocol, 1 KiB (10k)": buffered_1k,
    "TCP echo, BufferedProtocol, 100 KiB (1k)": buffered_100k,
    "TCP echo, streams, 1 KiB (10k)": streams_1k,
    "TCP echo, streams, 100 KiB (1k)": streams_100k,
    "Unix echo, Protocol, 10 KiB (5k)": unix_10k,
    "connect + accept (1000)": connect_accept,
    "UDP echo, 1 KiB (10k)": udp_1k,
    "sock_recv/sock_sendall echo, 10 KiB (5k)": sock_calls_10k,
    "subprocess spawn + communicate (50)": subprocess_communicate,
    "TLS echo, Protocol, 1 KiB (5k)": tls_1k,
    "TLS echo, Protocol, 100 KiB (500)": tls_100k,
    "TLS handshakes (200)": tls_handshakes,
}


def streams_module(impl: str) -> ModuleType:
    if impl == "loop_core":
        import loop_transports

        return loop_transports
    return asyncio


def best_time(impl: str, workload: Workload, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        loop = make_loop(impl)
        try:
            best = min(best, loop.run_until_complete(workload(streams_module(impl))))
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()
    return best


def main() -> None:
    impl = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    print(json.dumps({name: best_time(impl, w, repeats) for name, w in WORKLOADS.items()}))


if __name__ == "__main__":
    main()
