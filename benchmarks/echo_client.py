"""The client side of the network benchmarks, in its own process.

Plain blocking sockets, so the client costs the same whatever loop serves it,
as in uvloop's echo benchmark. ``python echo_client.py KIND HOST PORT SIZE COUNT``
prints the seconds the exchange took. KIND is ``tcp`` (ping-pong of SIZE-byte
messages), ``unix`` (the same over the Unix socket at HOST), ``connect``
(COUNT connections, one byte each way), ``udp`` (SIZE-byte datagrams),
``tls`` (ping-pong over TLS; the CA file is in the environment variable
``ECHO_CLIENT_CAFILE``) or ``handshake`` (COUNT TLS handshakes).
"""

from __future__ import annotations

import os
import socket
import ssl
import sys
import time


def _exchange(sock: socket.socket, message: bytes, count: int) -> None:
    size = len(message)
    buffer = bytearray(size)
    view = memoryview(buffer)
    for _ in range(count):
        sock.sendall(message)
        got = 0
        while got < size:
            n = sock.recv_into(view[got:])
            if not n:
                raise SystemExit("the server closed the connection")
            got += n


def stream_echo(family: int, address: str | tuple[str, int], size: int, count: int) -> float:
    message = b"x" * size
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.connect(address)
        if family == socket.AF_INET:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _exchange(sock, message, 10)  # warm-up
        started = time.perf_counter()
        _exchange(sock, message, count)
        return time.perf_counter() - started


def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=os.environ["ECHO_CLIENT_CAFILE"])


def tls_echo(address: tuple[str, int], size: int, count: int) -> float:
    message = b"x" * size
    context = _tls_context()
    with socket.create_connection(address) as raw:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with context.wrap_socket(raw, server_hostname="localhost") as sock:
            _exchange(sock, message, 10)
            started = time.perf_counter()
            _exchange(sock, message, count)
            return time.perf_counter() - started


def tls_handshakes(address: tuple[str, int], count: int) -> float:
    context = _tls_context()
    started = time.perf_counter()
    for _ in range(count):
        with (
            socket.create_connection(address) as raw,
            context.wrap_socket(raw, server_hostname="localhost") as sock,
        ):
            sock.sendall(b"x")
            if sock.recv(1) != b"x":
                raise SystemExit("no echo")
    return time.perf_counter() - started


def connect_rate(address: tuple[str, int], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        with socket.create_connection(address) as sock:
            sock.sendall(b"x")
            if sock.recv(1) != b"x":
                raise SystemExit("no echo")
    return time.perf_counter() - started


def udp_echo(address: tuple[str, int], size: int, count: int) -> float:
    message = b"x" * size
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.connect(address)
        started = time.perf_counter()
        for _ in range(count):
            sock.send(message)
            sock.recv(size + 1)
        return time.perf_counter() - started


def main() -> None:
    kind, host, port, size, count = sys.argv[1:6]
    if kind == "tcp":
        elapsed = stream_echo(socket.AF_INET, (host, int(port)), int(size), int(count))
    elif kind == "unix":
        elapsed = stream_echo(socket.AF_UNIX, host, int(size), int(count))
    elif kind == "connect":
        elapsed = connect_rate((host, int(port)), int(count))
    elif kind == "tls":
        elapsed = tls_echo((host, int(port)), int(size), int(count))
    elif kind == "handshake":
        elapsed = tls_handshakes((host, int(port)), int(count))
    else:
        elapsed = udp_echo((host, int(port)), int(size), int(count))
    print(elapsed)


if __name__ == "__main__":
    main()
