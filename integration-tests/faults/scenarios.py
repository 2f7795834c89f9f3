"""Fault scenarios: what a demanding user does to a loop, run on any loop.

Each scenario is an ``async def`` taking a :class:`Probe` and returning its
figure (a short text: bytes buffered before a pause, connections served,
...); it raises ``AssertionError`` when the loop misbehaves. Run as a script,
one scenario on one loop in this process::

    python scenarios.py <loop_core|asyncio|uvloop> <scenario>

prints one JSON line: the outcome, the figure, and the process's descriptor
count and resident memory before the loop was made and after it was closed
and collected. A process of its own per run keeps the counts honest and lets
a scenario lower its own descriptor limit. Loopback only; every scenario is
bounded in count and time.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import importlib
import json
import os
import random
import resource
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import trustme

import loop_core

Scenario = Callable[["Probe"], Awaitable[str]]

SCENARIOS: dict[str, Scenario] = {}
# Growth of resident memory a scenario may cause, in MiB (default 32): the
# allocator keeps some of what a large scenario touched.
RSS_ALLOWANCE_MIB: dict[str, int] = {"many_connections": 96}
TIME_LIMIT = 30.0


def scenario(function: Scenario) -> Scenario:
    SCENARIOS[function.__name__] = function
    return function


class Probe:
    """The loop under test and the contexts its exception handler received."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.contexts: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _, context: self.contexts.append(context))

    def take_contexts(self) -> list[dict[str, Any]]:
        """The handler calls so far, which the scenario expected."""
        taken, self.contexts = self.contexts, []
        return taken


def make_loop(kind: str) -> asyncio.AbstractEventLoop:
    if kind == "loop_core":
        return loop_core.new_event_loop()
    if kind == "asyncio":
        return asyncio.SelectorEventLoop()
    if kind == "uvloop":
        # Optional: imported only when asked for.
        loop: asyncio.AbstractEventLoop = importlib.import_module("uvloop").new_event_loop()
        return loop
    raise ValueError(f"unknown loop kind {kind!r}")


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd")) - 1  # the listing's own


def resident_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGESIZE") // 1024


def mib(count: int) -> str:
    return f"{count / 2**20:.1f} MiB"


# TLS material, made once per process with trustme.


def tls_contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    authority = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server)
    client = ssl.create_default_context()
    authority.configure_trust(client)
    return server, client


class Flood(asyncio.Protocol):
    """Writes 64 KiB chunks until told to pause (or a cap), then notes how much."""

    chunk = b"x" * 65536
    cap = 64 * 2**20

    def __init__(self, write_on_connect: bool) -> None:
        self.write_on_connect = write_on_connect
        self.paused = False
        self.written: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport  # uvloop's is no asyncio.Transport subclass
        if self.write_on_connect:
            self.flood()

    def data_received(self, data: bytes) -> None:
        self.flood()

    def flood(self) -> None:
        written = 0
        while not self.paused and written < self.cap:
            self.transport.write(self.chunk)
            written += len(self.chunk)
        if not self.written.done():
            self.written.set_result(written)

    def pause_writing(self) -> None:
        self.paused = True


class StillReader(asyncio.Protocol):
    """A client that stops reading at once."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        reading: Any = transport  # uvloop's is no asyncio.ReadTransport subclass
        reading.pause_reading()


async def echo_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def echo_round_trip(port: int, payload: bytes = b"ping\n", **options: Any) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, **options)
    try:
        writer.write(payload)
        return await reader.readexactly(len(payload))
    finally:
        writer.close()
        await writer.wait_closed()


# Flow control


async def flood_until_paused(
    probe: Probe,
    write_on_connect: bool,
    connect: Callable[[int], Awaitable[Any]],
    server_ssl: ssl.SSLContext | None = None,
) -> str:
    """Serve a Flood to the client *connect* opens (it returns its transport),
    which never reads; check how much the server wrote before the pause."""
    floods: list[Flood] = []

    def factory() -> Flood:
        floods.append(Flood(write_on_connect))
        return floods[-1]

    server = await probe.loop.create_server(factory, "127.0.0.1", 0, ssl=server_ssl)
    client = await connect(server.sockets[0].getsockname()[1])
    while not floods:
        await asyncio.sleep(0.001)
    written = await floods[0].written
    assert written < 16 * 2**20, f"{mib(written)} accepted before pause_writing"
    floods[0].transport.abort()
    client.abort()
    server.close()
    await server.wait_closed()
    return f"paused after {mib(written)}"


@scenario
async def slow_reader(probe: Probe) -> str:
    """A server writes until paused to a client that does not read."""

    async def connect(port: int) -> Any:
        transport, _ = await probe.loop.create_connection(StillReader, "127.0.0.1", port)
        return transport

    return await flood_until_paused(probe, True, connect)


@scenario
async def tls_slow_reader(probe: Probe) -> str:
    """A TLS server answers from data_received until paused; the client does not read."""
    server_context, client_context = tls_contexts()

    async def connect(port: int) -> Any:
        _, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=client_context, server_hostname="localhost"
        )
        writer.write(b"go")
        return writer.transport

    return await flood_until_paused(probe, False, connect, server_context)


# Many peers


@scenario
async def many_connections(probe: Probe) -> str:
    """2000 clients connected at once, each echoed (fewer where descriptors are scarce)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * 2000 + 200
    if soft < wanted and (hard == resource.RLIM_INFINITY or hard >= wanted):
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    count = min(2000, (soft - 200) // 2)
    server = await asyncio.start_server(echo_handler, "127.0.0.1", 0, backlog=count)
    port = server.sockets[0].getsockname()[1]
    streams = [await asyncio.open_connection("127.0.0.1", port) for _ in range(count)]
    for index, (_, writer) in enumerate(streams):
        writer.write(b"%d\n" % index)
    answers = await asyncio.gather(*(reader.readline() for reader, _ in streams))
    assert answers == [b"%d\n" % i for i in range(count)]
    for _, writer in streams:
        writer.close()
    await asyncio.gather(*(writer.wait_closed() for _, writer in streams))
    server.close()
    await server.wait_closed()
    return f"{count} connections echoed"


@scenario
async def out_of_descriptors(probe: Probe) -> str:
    """accept() hits EMFILE: reported, and the server accepts again once descriptors free up."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    accepted: list[asyncio.BaseTransport] = []

    class Keep(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted.append(transport)

    server = await probe.loop.create_server(Keep, "127.0.0.1", 0, backlog=32)
    port = server.sockets[0].getsockname()[1]
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
    try:
        # Room for two more descriptors: the third accept fails.
        resource.setrlimit(resource.RLIMIT_NOFILE, (open_descriptors() + 2, hard))
        try:
            deadline = time.monotonic() + 3
            while len(accepted) < 2 or not probe.contexts:
                assert time.monotonic() < deadline, "accept() never ran out of descriptors"
                await asyncio.sleep(0.01)
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        reports = probe.take_contexts()
        errors = [c.get("exception") for c in reports]
        assert any(isinstance(e, OSError) and e.errno == errno.EMFILE for e in errors), (
            f"reported: {reports!r}"
        )
        deadline = time.monotonic() + 10
        while len(accepted) < len(clients):
            assert time.monotonic() < deadline, f"only {len(accepted)} accepted after recovery"
            await asyncio.sleep(0.01)
        probe.take_contexts()  # a loop may report again before it recovers
        await connect_and_close(port)  # the server still accepts
    finally:
        for client in clients:
            client.close()
        for transport in accepted:
            transport.close()
        server.close()
        await server.wait_closed()
    return f"{len(reports)} report(s), then all {len(clients)} accepted"


async def connect_and_close(port: int) -> None:
    """Open a connection and close it: raises unless the server still accepts."""
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.close()
    await writer.wait_closed()


# Resets and half-close


@scenario
async def peer_reset(probe: Probe) -> str:
    """A client sends, then resets; the server hears connection_lost once and goes on."""
    losses: list[BaseException | None] = []
    lost = probe.loop.create_future()

    class Record(asyncio.Protocol):
        def data_received(self, data: bytes) -> None:
            pass

        def connection_lost(self, exc: BaseException | None) -> None:
            losses.append(exc)
            if not lost.done():
                lost.set_result(None)

    server = await probe.loop.create_server(Record, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(b"x" * 1000)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    await asyncio.wait_for(lost, 5)
    await asyncio.sleep(0.05)
    assert len(losses) == 1
    await connect_and_close(port)  # the server goes on
    server.close()
    await server.wait_closed()
    return f"connection_lost({type(losses[0]).__name__})"


@scenario
async def half_close(probe: Probe) -> str:
    """The client half-closes after its request; the server answers after EOF."""

    async def answer_at_eof(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.read()
        writer.write(request.upper())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer_at_eof, "127.0.0.1", 0)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
    payload = b"half-closed " * 10000
    writer.write(payload)
    assert writer.can_write_eof()
    writer.write_eof()
    answer = await reader.read()
    assert answer == payload.upper()
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    return f"{len(answer)} bytes after EOF"


# Closing with everything still open


@scenario
async def close_with_live_resources(probe: Probe) -> str:
    """The loop is closed with a server, connections, a child, timers and tasks alive."""
    server = await asyncio.start_server(echo_handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    streams = [await asyncio.open_connection("127.0.0.1", port) for _ in range(5)]
    child = await asyncio.create_subprocess_exec("sleep", "0.3")
    probe.loop.call_later(3600, print, "never")
    probe.loop.create_task(asyncio.sleep(3600))
    LEFT_OPEN.update(pid=child.pid, streams=len(streams))
    return f"{len(streams)} connections, 1 child left open"


LEFT_OPEN: dict[str, int] = {}


# Threads and signals


@scenario
async def threadsafe_storm(probe: Probe) -> str:
    """Four threads call call_soon_threadsafe 20000 times each; every call arrives, in order."""
    threads, per_thread = 4, 20000
    arrived: list[list[int]] = [[] for _ in range(threads)]
    done = probe.loop.create_future()
    remaining = [threads * per_thread]

    def note(thread: int, index: int) -> None:
        arrived[thread].append(index)
        remaining[0] -= 1
        if not remaining[0]:
            done.set_result(None)

    def send(thread: int) -> None:
        for index in range(per_thread):
            probe.loop.call_soon_threadsafe(note, thread, index)

    workers = [threading.Thread(target=send, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    await asyncio.wait_for(done, 20)
    for worker in workers:
        worker.join()
    assert all(calls == list(range(per_thread)) for calls in arrived)
    return f"{threads * per_thread} calls in order"


@scenario
async def signal_storm(probe: Probe) -> str:
    """2000 SIGUSR1 from a thread while timers run; the handler runs, the loop goes on."""
    calls = [0]
    probe.loop.add_signal_handler(signal.SIGUSR1, lambda: calls.__setitem__(0, calls[0] + 1))
    try:
        pid = os.getpid()

        def storm() -> None:
            for _ in range(2000):
                os.kill(pid, signal.SIGUSR1)

        ticks = [0]

        async def tick() -> None:
            while True:
                await asyncio.sleep(0.001)
                ticks[0] += 1

        ticking = asyncio.ensure_future(tick())
        await asyncio.to_thread(storm)
        await asyncio.sleep(0.05)
        ticking.cancel()
        assert calls[0] >= 1
        assert ticks[0] >= 1
    finally:
        assert probe.loop.remove_signal_handler(signal.SIGUSR1)
    return f"{calls[0]} handler calls for 2000 signals"


# Timers


@scenario
async def timer_order(probe: Probe) -> str:
    """20000 timers over 50 distinct deadlines, a third cancelled: the rest fire by deadline."""
    loop = probe.loop
    base = loop.time() + 0.02
    fired: list[float] = []
    handles = []
    rng = random.Random(7)
    for _ in range(20000):
        when = base + rng.randrange(50) / 1000
        handles.append(loop.call_at(when, fired.append, when))
    for handle in handles[::3]:
        handle.cancel()
    await asyncio.sleep(0.2)
    expected = len(handles) - len(handles[::3])
    assert len(fired) == expected, f"{len(fired)} fired, {expected} expected"
    assert fired == sorted(fired), "timers fired out of deadline order"
    return f"{len(fired)} fired in order"


# Errors reported with asyncio's context keys


@scenario
async def exception_contexts(probe: Probe) -> str:
    """A failing callback, an unretrieved future exception and task exception are reported."""

    def fail() -> None:
        raise ZeroDivisionError("callback")

    async def failing_task() -> None:
        raise ZeroDivisionError("task")

    probe.loop.call_soon(fail)
    future = probe.loop.create_future()
    future.set_exception(ZeroDivisionError("future"))
    task = probe.loop.create_task(failing_task())
    await asyncio.sleep(0.01)
    del future, task
    gc.collect()
    await asyncio.sleep(0.01)
    reports = probe.take_contexts()
    keys = sorted("/".join(sorted(set(c) - {"source_traceback"})) for c in reports)
    assert len(reports) == 3, f"{len(reports)} reports: {keys!r}"
    assert all(isinstance(c.get("exception"), ZeroDivisionError) for c in reports)
    assert keys == ["exception/future/message"] * 2 + ["exception/handle/message"], keys
    return "; ".join(keys)


@scenario
async def failing_connection_made(probe: Probe) -> str:
    """A server protocol raises in connection_made: reported, and the server goes on."""
    made = [0]

    class Fails(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            made[0] += 1
            if made[0] == 1:
                raise ZeroDivisionError("connection_made")

    server = await probe.loop.create_server(Fails, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    for _ in range(2):
        transport, _ = await probe.loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
        while not probe.contexts and made[0] < 2:
            await asyncio.sleep(0.001)
        transport.close()
    while made[0] < 2:
        await asyncio.sleep(0.001)
    reports = probe.take_contexts()
    assert len(reports) == 1
    assert isinstance(reports[0]["exception"], ZeroDivisionError)
    server.close()
    await server.wait_closed()
    return f"reported as {reports[0]['message'][:32]!r}"


# Children


@scenario
async def two_hundred_children(probe: Probe) -> str:
    """200 children at once, each waited for."""
    started = time.monotonic()
    children = await asyncio.gather(
        *(asyncio.create_subprocess_exec("true", stdout=subprocess.DEVNULL) for _ in range(200))
    )
    codes = await asyncio.gather(*(child.wait() for child in children))
    assert codes == [0] * 200
    return f"200 exited 0 in {time.monotonic() - started:.2f} s"


# Datagrams


@scenario
async def udp_to_closed_port(probe: Probe) -> str:
    """Datagrams to a closed port: error_received, and the endpoint keeps working."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        closed = probe_socket.getsockname()
    errors: list[Exception] = []

    class Errors(asyncio.DatagramProtocol):
        def error_received(self, exc: Exception) -> None:
            errors.append(exc)

    transport, _ = await probe.loop.create_datagram_endpoint(Errors, remote_addr=closed)
    for _ in range(10):
        transport.sendto(b"anyone?")
        await asyncio.sleep(0.005)
    assert errors
    assert all(isinstance(e, ConnectionRefusedError) for e in errors)
    assert not transport.is_closing()
    transport.close()
    return f"{len(errors)} ConnectionRefusedError for 10 datagrams"


# Bad peers


@scenario
async def bad_tls_peers(probe: Probe) -> str:
    """Plaintext, random bytes and a silent client on a TLS port; a good client is served."""
    server_context, client_context = tls_contexts()
    server = await asyncio.start_server(
        echo_handler, "127.0.0.1", 0, ssl=server_context, ssl_handshake_timeout=0.5
    )
    port = server.sockets[0].getsockname()[1]

    def misbehave(send: bytes) -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            if send:
                sock.sendall(send)
            try:
                while sock.recv(65536):
                    pass
            except (ConnectionResetError, TimeoutError):
                pass

    bad = [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", random.Random(3).randbytes(4096), b""]
    started = time.monotonic()
    await asyncio.gather(*(asyncio.to_thread(misbehave, send) for send in bad))
    dropped_in = time.monotonic() - started
    answer = await echo_round_trip(
        port, ssl=client_context, server_hostname="localhost", ssl_handshake_timeout=5
    )
    assert answer == b"ping\n"
    server.close()
    await server.wait_closed()
    return f"3 bad peers dropped in {dropped_in:.2f} s, good client served"


@scenario
async def slowloris(probe: Probe) -> str:
    """50 clients drip a request byte by byte; a server with a read deadline drops them
    and answers a normal client meanwhile."""

    async def with_deadline(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 0.3)
            writer.write(line)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(with_deadline, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    async def drip() -> bool:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for _ in range(40):
                writer.write(b"x")
                await asyncio.sleep(0.02)
                if reader.at_eof():
                    break
            return await asyncio.wait_for(reader.read(), 2) == b""
        except ConnectionError:
            return True
        finally:
            writer.close()

    drips = [asyncio.ensure_future(drip()) for _ in range(50)]
    await asyncio.sleep(0.1)
    started = time.monotonic()
    assert await echo_round_trip(port) == b"ping\n"
    latency = time.monotonic() - started
    dropped = sum(await asyncio.gather(*drips))
    assert dropped == 50, f"{dropped} of 50 dripping clients dropped"
    assert latency < 0.25, f"the normal client waited {latency:.3f} s"
    server.close()
    await server.wait_closed()
    return f"50 dropped, normal client in {latency * 1000:.1f} ms"


# Bad arguments


@scenario
async def bad_arguments(probe: Probe) -> str:
    """Bad input gets a clear exception at the public boundary; the loop goes on."""
    loop = probe.loop

    async def coroutine_function() -> None:
        pass

    attempts: list[tuple[str, type[BaseException], Callable[[], Any]]] = [
        (
            "create_server port 70000",
            OverflowError,
            lambda: loop.create_server(asyncio.Protocol, "127.0.0.1", 70000),
        ),
        (
            "create_connection port 65536",
            OverflowError,
            lambda: loop.create_connection(asyncio.Protocol, "127.0.0.1", 65536),
        ),
        ("call_soon(42)", TypeError, lambda: loop.call_soon(42)),  # type: ignore[arg-type]
        ("call_at(None)", TypeError, lambda: loop.call_at(None, print)),  # type: ignore[arg-type]
        (
            "run_in_executor(coroutine function)",
            TypeError,
            lambda: loop.run_in_executor(None, coroutine_function),
        ),
        (
            "server_hostname without ssl",
            ValueError,
            lambda: loop.create_connection(
                asyncio.Protocol, "127.0.0.1", 1, server_hostname="example.org"
            ),
        ),
        ("add_signal_handler(10000)", ValueError, lambda: loop.add_signal_handler(10_000, print)),
        (
            "create_unix_server(None)",
            ValueError,
            lambda: loop.create_unix_server(asyncio.Protocol, None),
        ),
    ]
    refused = 0
    problems: list[str] = []
    for call, expected, attempt in attempts:
        try:
            result = attempt()
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                await result
        except expected:
            refused += 1
        except Exception as exc:
            problems.append(f"{call}: {exc!r}, not {expected.__name__}")
        else:
            problems.append(f"{call} accepted")
        await asyncio.sleep(0.01)
        probe.take_contexts()  # what an accepted bad call did later, inside the loop
    try:
        off_main: object = await asyncio.to_thread(loop.remove_signal_handler, signal.SIGUSR2)
    except Exception as exc:
        off_main = exc
    if off_main is not False:
        problems.append(f"remove_signal_handler off the main thread gave {off_main!r}, not False")
    assert not problems, "; ".join(problems)
    return f"{refused} refused, the loop went on"


# Cancellation


@scenario
async def cancellation_storm(probe: Probe) -> str:
    """10000 tasks blocked on events, sleeps, locks and wait_for are all cancelled."""
    event = asyncio.Event()
    lock = asyncio.Lock()
    await lock.acquire()

    async def blocked(index: int) -> None:
        kind = index % 4
        if kind == 0:
            await event.wait()
        elif kind == 1:
            await asyncio.sleep(3600)
        elif kind == 2:
            async with lock:
                pass
        else:
            await asyncio.wait_for(event.wait(), 3600)

    before = asyncio.all_tasks()
    tasks = [asyncio.ensure_future(blocked(i)) for i in range(10000)]
    await asyncio.sleep(0.01)
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    assert asyncio.all_tasks() == before
    lock.release()
    return "10000 cancelled, none left"


# Running one scenario in this process


def run(kind: str, name: str) -> dict[str, Any]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    warm = make_loop(kind)  # imports and lazy set-up happen before the counts
    warm.run_until_complete(asyncio.sleep(0))
    warm.close()
    del warm
    gc.collect()
    fds_before, rss_before = open_descriptors(), resident_kib()
    outcome: dict[str, Any] = {"loop": kind, "scenario": name, "ok": True, "error": None}
    started = time.monotonic()
    loop = make_loop(kind)
    probe = Probe(loop)
    try:
        coroutine = SCENARIOS[name](probe)
        outcome["figure"] = loop.run_until_complete(asyncio.wait_for(coroutine, TIME_LIMIT))
        loop.run_until_complete(asyncio.sleep(0.01))
        if probe.contexts and name != "close_with_live_resources":
            raise AssertionError(f"unexpected exception handler calls: {probe.contexts!r}")
    except BaseException as exc:
        outcome.update(ok=False, figure="", error="".join(traceback.format_exception(exc))[-3000:])
    finally:
        with warnings.catch_warnings():
            # Scenarios such as close_with_live_resources leave transports to the collector.
            warnings.simplefilter("ignore", ResourceWarning)
            loop.close()
            del loop, probe
            gc.collect()
            gc.collect()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if "pid" in LEFT_OPEN:
        outcome["child_reaped"] = wait_reaped(LEFT_OPEN["pid"])
        if not outcome["child_reaped"] and outcome["ok"]:
            outcome.update(ok=False, error="the child left running at close was never reaped")
    outcome["seconds"] = round(time.monotonic() - started, 3)
    outcome["fds_before"], outcome["fds_after"] = fds_before, open_descriptors()
    outcome["rss_growth_kib"] = resident_kib() - rss_before
    return outcome


def wait_reaped(pid: int, limit: float = 3.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if not os.path.exists(f"/proc/{pid}"):
            return True
        time.sleep(0.02)
    return False


def main() -> None:
    if sys.argv[1:] == ["--list"]:
        print(json.dumps({name: (f.__doc__ or "").split("\n")[0] for name, f in SCENARIOS.items()}))
        return
    kind, name = sys.argv[1:3]
    print(json.dumps(run(kind, name)))


if __name__ == "__main__":
    main()
