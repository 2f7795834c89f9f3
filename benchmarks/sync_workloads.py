"""Synchronization-primitive benchmarks, for one loop and one primitive set.

``python benchmarks/sync_workloads.py LOOP PRIMITIVES [REPEATS]`` prints a JSON
object mapping each workload to its best time in seconds. LOOP is
``loop_core``, ``asyncio`` or ``uvloop``; PRIMITIVES is ``loop_sync`` or
``asyncio`` (the stdlib's own Lock, Event, Queue, ...).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable, Coroutine
from types import ModuleType
from typing import Any

from workloads import make_loop

Workload = Callable[[ModuleType], Coroutine[Any, Any, None]]


async def uncontended_lock(prims: ModuleType) -> None:
    lock = prims.Lock()
    for _ in range(100_000):
        async with lock:
            pass


async def contended_lock(prims: ModuleType) -> None:
    lock = prims.Lock()

    async def worker() -> None:
        for _ in range(100):
            async with lock:
                await asyncio.sleep(0)

    await asyncio.gather(*(worker() for _ in range(100)))


async def event_with_1000_waiters(prims: ModuleType) -> None:
    for _ in range(20):
        event = prims.Event()
        waiters = [asyncio.ensure_future(event.wait()) for _ in range(1000)]
        await asyncio.sleep(0)
        event.set()
        await asyncio.gather(*waiters)


async def _queue_throughput(prims: ModuleType, pairs: int, items: int) -> None:
    queue = prims.Queue(maxsize=100)

    async def producer() -> None:
        for i in range(items):
            await queue.put(i)

    async def consumer() -> None:
        for _ in range(items):
            await queue.get()
            queue.task_done()

    await asyncio.gather(*(producer() for _ in range(pairs)), *(consumer() for _ in range(pairs)))


async def queue_one_pair(prims: ModuleType) -> None:
    await _queue_throughput(prims, 1, 100_000)


async def queue_ten_pairs(prims: ModuleType) -> None:
    await _queue_throughput(prims, 10, 10_000)


async def semaphore_fan_out(prims: ModuleType) -> None:
    semaphore = prims.Semaphore(10)

    async def job() -> None:
        async with semaphore:
            await asyncio.sleep(0)

    await asyncio.gather(*(job() for _ in range(20_000)))


WORKLOADS: dict[str, Workload] = {
    "uncontended Lock (100k)": uncontended_lock,
    "Lock contended by 100 tasks": contended_lock,
    "Event set, 1000 waiters (x20)": event_with_1000_waiters,
    "Queue, 1 producer/consumer (100k)": queue_one_pair,
    "Queue, 10 producers/consumers (100k)": queue_ten_pairs,
    "Semaphore(10) fan-out (20k)": semaphore_fan_out,
}


def primitives(name: str) -> ModuleType:
    if name == "loop_sync":
        import loop_sync

        return loop_sync
    return asyncio


def best_time(loop_name: str, prims: ModuleType, workload: Workload, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        loop = make_loop(loop_name)
        try:
            started = time.perf_counter()
            loop.run_until_complete(workload(prims))
            best = min(best, time.perf_counter() - started)
        finally:
            loop.close()
    return best


def main() -> None:
    loop_name, prims_name = sys.argv[1], sys.argv[2]
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    prims = primitives(prims_name)
    results = {name: best_time(loop_name, prims, w, repeats) for name, w in WORKLOADS.items()}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
