"""Server CPU per request: each loop serving while a C client keeps it busy.

``python benchmarks/net_cpu.py --pure-path PATH [--rounds N] [--seconds S]``
builds ``loadgen.c`` with gcc, then for every row and implementation (taking
turns within each round) starts ``net_server.py`` in its own process, lets
the load generator keep several connections busy for S seconds, and reads
the server's CPU time before and after. The TLS rows use ``tls_loadgen.py``
(certificates made with trustme; without it they are left out) and the
subprocess row makes its own load. It prints a JSON object: per
implementation and row, the best CPU microseconds per request and the
requests per second of that run. CPU per request, not wall-clock time, is
what compares loops on a 2-core machine: a ping-pong client measures
wake-up latency, which is the same for all of them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from net_server import HTTP_RESPONSE, PIPE_CHILDREN, PIPE_MESSAGE

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Row:
    label: str
    workload: str
    # What loadgen.c dials ("tcp", "unix", "udp" or "connect"), what
    # tls_loadgen.py does ("tls" echo or "handshake"), or "self" for a server
    # that makes its own load (the subprocess pipes).
    transport: str
    connections: int
    request: int
    response: int
    http: bool = False


ROWS = [
    Row("Protocol echo, TCP, 1 KiB", "protocol", "tcp", 8, 1024, 1024),
    Row("Protocol echo, TCP, 10 KiB", "protocol", "tcp", 8, 10240, 10240),
    Row("Protocol echo, TCP, 100 KiB", "protocol", "tcp", 8, 102400, 102400),
    Row("Protocol echo, Unix socket, 1 KiB", "protocol", "unix", 8, 1024, 1024),
    Row("streams echo, 1 KiB", "streams", "tcp", 8, 1024, 1024),
    Row("streams echo, 100 KiB", "streams", "tcp", 8, 102400, 102400),
    Row("sock_recv/sock_sendall echo, 1 KiB", "sock", "tcp", 8, 1024, 1024),
    Row("2000 connections, all active", "protocol", "tcp", 2000, 1024, 1024),
    Row("connect + 64 B + close, 32 in flight", "connect", "connect", 32, 64, 64),
    Row("minimal HTTP/1.1 keep-alive server", "http", "tcp", 8, 0, len(HTTP_RESPONSE), True),
    Row("TLS echo, 1 KiB", "tls", "tls", 8, 1024, 1024),
    Row("TLS handshakes, 8 in flight", "tls", "handshake", 8, 0, 0),
    Row("UDP echo, 1 KiB", "udp", "udp", 8, 1024, 1024),
    Row(
        f"subprocess pipes, {PIPE_MESSAGE} B through {PIPE_CHILDREN} cat children",
        "pipes",
        "self",
        PIPE_CHILDREN,
        PIPE_MESSAGE,
        PIPE_MESSAGE,
    ),
]
IMPLEMENTATIONS = ["compiled", "pure", "uvloop", "rloop", "asyncio"]
# rloop has no Unix-socket servers and no TLS.
SKIPPED = {("rloop", "unix"), ("rloop", "tls"), ("rloop", "handshake")}
TLS_CLIENTS = ("tls", "handshake")


def build_loadgen(folder: Path) -> Path:
    binary = folder / "loadgen"
    subprocess.run(["gcc", "-O2", "-o", str(binary), str(HERE / "loadgen.c")], check=True)
    return binary


@dataclass(frozen=True)
class Certificates:
    """A CA file for the TLS client and a certificate and key for the server."""

    ca_file: str
    cert_file: str
    key_file: str


def make_certificates(folder: Path) -> Certificates | None:
    try:
        import trustme
    except ImportError:
        return None
    ca = trustme.CA()
    issued = ca.issue_cert("localhost", "127.0.0.1")
    paths = Certificates(*(str(folder / name) for name in ("ca.pem", "cert.pem", "key.pem")))
    ca.cert_pem.write_to_path(paths.ca_file)
    issued.cert_chain_pems[0].write_to_path(paths.cert_file)
    issued.private_key_pem.write_to_path(paths.key_file)
    return paths


def _client_command(
    row: Row, loadgen: Path, bound: str, seconds: float, certificates: Certificates | None
) -> list[str]:
    if row.transport in TLS_CLIENTS:
        assert certificates is not None
        return [
            sys.executable, str(HERE / "tls_loadgen.py"), bound, certificates.ca_file,
            str(row.connections), str(row.request), str(seconds),
            *(["handshake"] if row.transport == "handshake" else []),
        ]  # fmt: skip
    return [
        str(loadgen), row.transport, bound, str(row.connections),
        str(row.request), str(row.response), str(seconds), *(["http"] if row.http else []),
    ]  # fmt: skip


def _server_command(impl: str, row: Row, address: str) -> list[str]:
    loop = "loop_core" if impl in ("compiled", "pure") else impl
    return [sys.executable, str(HERE / "net_server.py"), loop, row.workload, address]


def start_server(
    impl: str,
    row: Row,
    folder: Path,
    pure_path: str,
    certificates: Certificates | None,
    wrapper: tuple[str, ...] = (),
) -> tuple[subprocess.Popen[str], str]:
    """Start the server of *row* on *impl* and return it with the address it
    bound. *wrapper* runs it under another command (valgrind); its standard
    error is then captured too, for what that command reports."""
    env = dict(os.environ)
    if impl == "pure":
        env["PYTHONPATH"] = pure_path
    if certificates is not None:
        env["NET_SERVER_CERTFILE"] = certificates.cert_file
        env["NET_SERVER_KEYFILE"] = certificates.key_file
    address = str(folder / "server.sock") if row.transport == "unix" else "0"
    server = subprocess.Popen(
        [*wrapper, *_server_command(impl, row, address)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if wrapper else None,
        text=True,
        env=env,
        cwd=HERE,
    )
    assert server.stdout is not None
    bound = server.stdout.readline().strip()
    if not bound:
        server.kill()
        server.communicate()
        raise RuntimeError(f"{impl} did not start serving {row.label}")
    return server, bound


def run_one(
    impl: str,
    row: Row,
    loadgen: Path,
    folder: Path,
    seconds: float,
    pure_path: str,
    certificates: Certificates | None,
) -> tuple[float, float, float]:
    """Serve *row* on *impl* under load; return CPU µs per request, requests per
    second, and user CPU µs per request."""
    server, bound = start_server(impl, row, folder, pure_path, certificates)
    assert server.stdin is not None
    try:

        def counters() -> tuple[float, float, int]:
            """The server's CPU and user CPU seconds so far, and the requests it made itself."""
            server.stdin.write("\n")  # type: ignore[union-attr]
            server.stdin.flush()  # type: ignore[union-attr]
            cpu, user, made = server.stdout.readline().split()  # type: ignore[union-attr]
            return float(cpu), float(user), int(made)

        if row.transport == "self":
            time.sleep(0.3)  # warm-up
            cpu_before, user_before, made_before = counters()
            started = time.monotonic()
            time.sleep(seconds)
            cpu_after, user_after, made_after = counters()
            requests = made_after - made_before
        else:
            # A short warm-up run, so connections and buffers exist before measuring.
            subprocess.run(
                _client_command(row, loadgen, bound, 0.3, certificates),
                check=True, capture_output=True,
            )  # fmt: skip
            cpu_before, user_before, _ = counters()
            started = time.monotonic()
            done = subprocess.run(
                _client_command(row, loadgen, bound, seconds, certificates),
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            cpu_after, user_after, _ = counters()
            requests = int(done.stdout.strip())
        elapsed = time.monotonic() - started
        return (
            (cpu_after - cpu_before) / requests * 1e6,
            requests / elapsed,
            (user_after - user_before) / requests * 1e6,
        )
    finally:
        server.stdin.close()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pure-path", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rows", default="", help="comma-separated row numbers (default: all)")
    parser.add_argument(
        "--implementations",
        default=",".join(IMPLEMENTATIONS),
        help="comma-separated, for a quick comparison (default: all; the table needs all)",
    )
    parser.add_argument("--output", type=Path, help="also write the table as Markdown here")
    args = parser.parse_args()
    implementations = args.implementations.split(",")
    if args.output and set(implementations) != set(IMPLEMENTATIONS):
        raise SystemExit("--output needs every implementation")
    rows = [ROWS[int(i)] for i in args.rows.split(",")] if args.rows else ROWS
    if shutil.which("gcc") is None:
        raise SystemExit("net_cpu.py needs gcc to build its load generator")
    results: dict[str, dict[str, list[float]]] = {impl: {} for impl in implementations}
    with tempfile.TemporaryDirectory(prefix="net-cpu-") as folder_name:
        folder = Path(folder_name)
        loadgen = build_loadgen(folder)
        certificates = make_certificates(folder)
        if certificates is None and any(row.transport in TLS_CLIENTS for row in rows):
            print("trustme is not installed: the TLS rows are left out", file=sys.stderr)
            rows = [row for row in rows if row.transport not in TLS_CLIENTS]
        for _ in range(args.rounds):
            for row in rows:
                for impl in implementations:
                    if (impl, row.transport) in SKIPPED:
                        continue
                    measured = run_one(
                        impl, row, loadgen, folder, args.seconds, args.pure_path, certificates
                    )
                    best = results[impl].get(row.label)
                    if best is None or measured[0] < best[0]:
                        results[impl][row.label] = list(measured)
    print(json.dumps(results))
    if args.output:
        args.output.write_text(markdown(results, rows, args.rounds, args.seconds))


def markdown(
    results: dict[str, dict[str, list[float]]], rows: list[Row], rounds: int, seconds: float
) -> str:
    """The table: CPU µs per request per implementation, and ours against the best peer."""
    machine = f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores"
    lines = [
        "# Network benchmark: server CPU per request",
        "",
        "Made by `python3 dev.py nox -s bench_network -- --output benchmarks/RESULTS-network.md`"
        f" ({machine}); best of {rounds} rounds of {seconds:g} s, the implementations taking"
        " turns in each round. Each server runs in its own process; `loadgen.c` (built with"
        " gcc) keeps the row's connections busy, each sending a request and waiting for the"
        " whole answer (`tls_loadgen.py`, in Python, for the TLS rows; the subprocess row's"
        " server keeps its `cat` children busy itself); the figure is the server process's"
        " CPU time (user and system) per request, in microseconds: lower is better."
        " Throughput is requests per second of that run. `compiled vs best peer` is the best"
        " of uvloop and rloop over ours (above 1: ours spends less). The system time includes"
        " waking the load generator up after each answer, which costs more the more often it"
        " sleeps: a server that answers faster also pays less for the wake-ups.",
        "",
        "| workload | "
        + " | ".join(f"{impl} (µs)" for impl in IMPLEMENTATIONS)
        + " | compiled vs best peer | pure vs asyncio | compiled req/s |",
        "|---|" + "---|" * (len(IMPLEMENTATIONS) + 3),
    ]
    for row in rows:
        cells = []
        for impl in IMPLEMENTATIONS:
            found = results[impl].get(row.label)
            cells.append(f"{found[0]:.1f}" if found else "n/a")
        ours = results["compiled"][row.label][0]
        peers = [results[p][row.label][0] for p in ("uvloop", "rloop") if row.label in results[p]]
        pure = results["pure"][row.label][0]
        stock = results["asyncio"][row.label][0]
        throughput = results["compiled"][row.label][1]
        lines.append(
            f"| {row.label} | "
            + " | ".join(cells)
            + f" | {min(peers) / ours:.2f}x | {stock / pure:.2f}x | {throughput:,.0f} |"
        )
    lines += [
        "",
        "## User CPU per request",
        "",
        "The user part of the same runs (`getrusage`), in microseconds: the loop's, the"
        " transports' and the interpreter's own work, without the kernel's networking and"
        " wake-ups, which dominate the total on the small-message rows and grow when the"
        " server idles more between requests.",
        "",
        "| workload | "
        + " | ".join(f"{impl} (µs)" for impl in IMPLEMENTATIONS)
        + " | compiled vs best peer | pure vs asyncio |",
        "|---|" + "---|" * (len(IMPLEMENTATIONS) + 2),
    ]
    for row in rows:
        user = {
            impl: results[impl][row.label][2]
            for impl in IMPLEMENTATIONS
            if row.label in results[impl]
        }
        cells = [f"{user[impl]:.1f}" if impl in user else "n/a" for impl in IMPLEMENTATIONS]
        peers = [user[p] for p in ("uvloop", "rloop") if p in user]
        lines.append(
            f"| {row.label} | "
            + " | ".join(cells)
            + f" | {min(peers) / user['compiled']:.2f}x | {user['asyncio'] / user['pure']:.2f}x |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
