"""Thread-bridge benchmarks, for one loop and one set of bridge helpers.

``python benchmarks/executor_workloads.py LOOP HELPERS [REPEATS]`` prints a JSON
object mapping each workload to its best time in seconds. LOOP is
``loop_core``, ``asyncio`` or ``uvloop``; HELPERS is ``loop_executor`` or
``asyncio`` (the stdlib's ``to_thread`` and ``run_coroutine_threadsafe``). The
loop's own ``run_in_executor`` and ``getaddrinfo`` are used as they are: on
loop-core's loop they come from the loop-executor extension.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from types import ModuleType
from typing import Any

from workloads import make_loop

Workload = Callable[[ModuleType], Coroutine[Any, Any, None]]

CALLS = 10_000
ROUND_TRIPS = 2_000
THREADS = 4
LOOKUPS = 2_000


def _nothing() -> None:
    return None


async def run_in_executor_throughput(helpers: ModuleType) -> None:
    loop = asyncio.get_running_loop()
    # Keep the pool busy: batches in flight, as a server offloading work would.
    for _ in range(CALLS // 100):
        await asyncio.gather(*(loop.run_in_executor(None, _nothing) for _ in range(100)))


async def to_thread_round_trip(helpers: ModuleType) -> None:
    for _ in range(ROUND_TRIPS):
        await helpers.to_thread(_nothing)


async def run_coroutine_threadsafe_from_threads(helpers: ModuleType) -> None:
    loop = asyncio.get_running_loop()

    async def echo(value: int) -> int:
        return value

    def client() -> None:
        for i in range(ROUND_TRIPS // THREADS):
            assert helpers.run_coroutine_threadsafe(echo(i), loop).result() == i

    threads = [threading.Thread(target=client) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        await asyncio.sleep(0.001)
    for thread in threads:
        thread.join()


# As create_connection asks: a socket type is given, so the answer is one entry.
async def getaddrinfo_numeric(helpers: ModuleType) -> None:
    loop = asyncio.get_running_loop()
    for _ in range(LOOKUPS):
        await loop.getaddrinfo("127.0.0.1", 80, type=socket.SOCK_STREAM)


async def getaddrinfo_named(helpers: ModuleType) -> None:
    loop = asyncio.get_running_loop()
    for _ in range(LOOKUPS):
        await loop.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)


WORKLOADS: dict[str, Workload] = {
    f"run_in_executor, trivial function ({CALLS // 1000}k)": run_in_executor_throughput,
    f"to_thread round trip ({ROUND_TRIPS // 1000}k)": to_thread_round_trip,
    f"run_coroutine_threadsafe from {THREADS} threads ({ROUND_TRIPS // 1000}k)": (
        run_coroutine_threadsafe_from_threads
    ),
    f"getaddrinfo numeric ({LOOKUPS // 1000}k)": getaddrinfo_numeric,
    f"getaddrinfo 'localhost' ({LOOKUPS // 1000}k)": getaddrinfo_named,
}


def helper_module(name: str) -> ModuleType:
    if name == "loop_executor":
        import loop_executor

        return loop_executor
    return asyncio


def best_time(loop_name: str, helpers: ModuleType, workload: Workload, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        loop = make_loop(loop_name)
        try:
            # The pool's threads start on first use; that cost is not the workload's.
            loop.run_until_complete(loop.run_in_executor(None, _nothing))
            started = time.perf_counter()
            loop.run_until_complete(workload(helpers))
            best = min(best, time.perf_counter() - started)
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()
    return best


def main() -> None:
    loop_name, helpers_name = sys.argv[1], sys.argv[2]
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    helpers = helper_module(helpers_name)
    results = {name: best_time(loop_name, helpers, w, repeats) for name, w in WORKLOADS.items()}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
