"""asyncio's own toolkit (gather, sleep, TaskGroup, timeout, Lock) on every loop.

The same program runs on loop-core, stock asyncio and uvloop and must give the
same answers; on loop-core, ``asyncio.get_running_loop()`` must be ours.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import threading

import pytest
from conftest import LoopFactory

import loop_core


async def program() -> dict[str, object]:
    loop = asyncio.get_running_loop()
    gathered = await asyncio.gather(asyncio.sleep(0.001, "a"), asyncio.sleep(0.002, "b"))
    async with asyncio.TaskGroup() as group:
        children = [group.create_task(asyncio.sleep(0, i)) for i in range(5)]
    try:
        async with asyncio.timeout(0.01):
            await asyncio.sleep(10)
        timed_out = False
    except TimeoutError:
        timed_out = True
    lock = asyncio.Lock()
    order: list[int] = []

    async def locked(i: int) -> None:
        async with lock:
            order.append(i)
            await asyncio.sleep(0)

    await asyncio.gather(*(locked(i) for i in range(5)))
    waited = await asyncio.wait_for(asyncio.sleep(0, "waited"), timeout=1)
    return {
        "loop": type(loop).__module__.split(".")[0],
        "gathered": gathered,
        "children": [c.result() for c in children],
        "timed_out": timed_out,
        "lock order": order,
        "wait_for": waited,
        "current task seen": asyncio.current_task() in asyncio.all_tasks(),
    }


EXPECTED = {
    "gathered": ["a", "b"],
    "children": [0, 1, 2, 3, 4],
    "timed_out": True,
    "lock order": [0, 1, 2, 3, 4],
    "wait_for": "waited",
    "current task seen": True,
}


def test_toolkit_program_gives_the_same_answers(loop_factory: LoopFactory) -> None:
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        result = runner.run(program())
    loop_name = result.pop("loop")
    assert result == EXPECTED
    if loop_factory is loop_core.new_event_loop:
        assert loop_name == "loop_core"


def test_loop_core_run_uses_our_loop() -> None:
    result = loop_core.run(program())
    assert result.pop("loop") == "loop_core"
    assert result == EXPECTED


@pytest.mark.skipif(sys.version_info < (3, 12), reason="asyncio.run(loop_factory=) is 3.12+")
def test_asyncio_run_with_loop_factory() -> None:
    result = asyncio.run(program(), loop_factory=loop_core.new_event_loop)  # type: ignore[call-arg,unused-ignore]
    assert result.pop("loop") == "loop_core"
    assert result == EXPECTED


def test_threadsafe_calls_from_many_threads(loop_factory: LoopFactory) -> None:
    async def main() -> int:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        counter = [0]
        total = 4 * 200

        def bump() -> None:
            counter[0] += 1
            if counter[0] == total and not done.done():
                done.set_result(counter[0])

        def worker() -> None:
            for _ in range(200):
                loop.call_soon_threadsafe(bump)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        result: int = await asyncio.wait_for(done, timeout=10)
        for thread in threads:
            thread.join()
        return result

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        assert runner.run(main()) == 800


def test_sock_echo_between_loops_in_two_threads(loop_factory: LoopFactory) -> None:
    """A loop-core echo server in a thread, a client on each other loop."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    port = listener.getsockname()[1]

    async def serve_once() -> None:
        loop = asyncio.get_running_loop()
        conn, _ = await loop.sock_accept(listener)
        with conn:
            while data := await loop.sock_recv(conn, 65536):
                await loop.sock_sendall(conn, data)

    server = threading.Thread(target=loop_core.run, args=(serve_once(),))
    server.start()

    async def client() -> bytes:
        loop = asyncio.get_running_loop()
        with socket.socket() as sock:
            sock.setblocking(False)
            await loop.sock_connect(sock, ("127.0.0.1", port))
            payload = bytes(range(256)) * 1000
            await loop.sock_sendall(sock, payload)
            sock.shutdown(socket.SHUT_WR)
            received = bytearray()
            while chunk := await loop.sock_recv(sock, 65536):
                received += chunk
            return bytes(received)

    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            assert runner.run(client()) == bytes(range(256)) * 1000
    finally:
        server.join(timeout=10)
        listener.close()
