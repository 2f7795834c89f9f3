"""TLS load generator for benchmarks/net_cpu.py: keeps N TLS connections busy.

``python tls_loadgen.py PORT CAFILE CONNS SIZE SECONDS [handshake]`` prints
the number of requests completed in SECONDS. Without ``handshake``, each of
CONNS connections (handshaken before the clock starts) sends SIZE bytes and
waits for their echo before sending again; with it, CONNS handshakes are kept
in progress, each connection closed as soon as its handshake is done.

Python, not C like ``loadgen.c``: a C client would need OpenSSL's headers,
which a machine with only Python and gcc lacks. The client's CPU is its own
process's; the figure ``net_cpu.py`` reports is the server's.
"""

from __future__ import annotations

import selectors
import socket
import ssl
import sys
import time


def _connect(port: int, context: ssl.SSLContext) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", port))
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    raw.setblocking(False)
    return context.wrap_socket(raw, server_hostname="localhost", do_handshake_on_connect=False)


def _handshake_step(sock: ssl.SSLSocket) -> int:
    """Advance the handshake: 0 when done, else the event to wait for."""
    try:
        sock.do_handshake()
    except ssl.SSLWantReadError:
        return selectors.EVENT_READ
    except ssl.SSLWantWriteError:
        return selectors.EVENT_WRITE
    return 0


def echo(port: int, context: ssl.SSLContext, conns: int, size: int, seconds: float) -> int:
    message = b"x" * size
    selector = selectors.DefaultSelector()
    received: dict[ssl.SSLSocket, int] = {}
    for _ in range(conns):
        sock = _connect(port, context)
        sock.setblocking(True)
        sock.do_handshake()
        sock.setblocking(False)
        sock.sendall(message)
        received[sock] = 0
        selector.register(sock, selectors.EVENT_READ)
    done = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for key, _ in selector.select(0.1):
            sock = key.fileobj  # type: ignore[assignment]
            while True:  # drain what TLS already decrypted, too
                try:
                    data = sock.recv(65536)
                except ssl.SSLWantReadError:
                    break
                if not data:
                    raise SystemExit("the server closed the connection")
                received[sock] += len(data)
                if received[sock] >= size:
                    received[sock] -= size
                    done += 1
                    sock.sendall(message)
    return done


def handshakes(port: int, context: ssl.SSLContext, conns: int, seconds: float) -> int:
    selector = selectors.DefaultSelector()

    def start() -> None:
        sock = _connect(port, context)
        selector.register(sock, _handshake_step(sock) or selectors.EVENT_READ)

    for _ in range(conns):
        start()
    done = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for key, _ in selector.select(0.1):
            sock = key.fileobj
            assert isinstance(sock, ssl.SSLSocket)
            wanted = _handshake_step(sock)
            if wanted:
                selector.modify(sock, wanted)
                continue
            selector.unregister(sock)
            sock.close()
            done += 1
            start()
    return done


def main() -> None:
    port, cafile, conns, size, seconds = sys.argv[1:6]
    context = ssl.create_default_context(cafile=cafile)
    if sys.argv[6:] == ["handshake"]:
        print(handshakes(int(port), context, int(conns), float(seconds)))
    else:
        print(echo(int(port), context, int(conns), int(size), float(seconds)))


if __name__ == "__main__":
    main()
