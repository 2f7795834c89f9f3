"""Loop benchmarks, run in one process for one loop implementation.

``python benchmarks/workloads.py IMPL`` prints a JSON object mapping each
workload to its best time in seconds. IMPL is ``loop_core``, ``asyncio`` or
``uvloop``; which loop_core (pure or compiled) is imported depends on the
interpreter's path, which ``run.py`` sets.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable

Workload = Callable[[asyncio.AbstractEventLoop], None]

CALLS = 100_000
TIMERS = 100_000
TASKS = 20_000
SWITCHES = 100_000
FUTURES = 50_000
GATHERED = 10_000


def call_soon_throughput(loop: asyncio.AbstractEventLoop) -> None:
    remaining = [CALLS]

    def tick() -> None:
        remaining[0] -= 1
        if remaining[0] == 0:
            loop.stop()

    for _ in range(CALLS):
        loop.call_soon(tick)
    loop.run_forever()


def timers_schedule_fire_cancel(loop: asyncio.AbstractEventLoop) -> None:
    fired = [0]

    def fire() -> None:
        fired[0] += 1

    now = loop.time()
    handles = [loop.call_at(now + (i % 100) * 1e-6, fire) for i in range(TIMERS)]
    for handle in handles[::2]:
        handle.cancel()
    loop.call_at(now + 2e-4, loop.stop)
    loop.run_forever()
    while fired[0] < TIMERS // 2:
        loop.call_soon(loop.stop)
        loop.run_forever()


def task_create_and_await(loop: asyncio.AbstractEventLoop) -> None:
    async def child() -> int:
        return 1

    async def main() -> None:
        for _ in range(TASKS):
            await loop.create_task(child())

    loop.run_until_complete(main())


def sleep_zero_switches(loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        for _ in range(SWITCHES):
            await asyncio.sleep(0)

    loop.run_until_complete(main())


def future_set_result_and_await(loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        for i in range(FUTURES):
            future = loop.create_future()
            loop.call_soon(future.set_result, i)
            await future

    loop.run_until_complete(main())


def gather_10k_tasks(loop: asyncio.AbstractEventLoop) -> None:
    async def child(i: int) -> int:
        await asyncio.sleep(0)
        return i

    async def main() -> None:
        await asyncio.gather(*(child(i) for i in range(GATHERED)))

    loop.run_until_complete(main())


WORKLOADS: dict[str, Workload] = {
    "call_soon (100k callbacks)": call_soon_throughput,
    "timers (100k scheduled, half cancelled)": timers_schedule_fire_cancel,
    "task create and await (20k)": task_create_and_await,
    "sleep(0) switches (100k)": sleep_zero_switches,
    "future set_result and await (50k)": future_set_result_and_await,
    "gather of 10k tasks": gather_10k_tasks,
}


def make_loop(impl: str) -> asyncio.AbstractEventLoop:
    if impl == "loop_core":
        import loop_core

        return loop_core.new_event_loop()
    if impl == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.SelectorEventLoop()


def best_time(impl: str, workload: Workload, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        loop = make_loop(impl)
        try:
            started = time.perf_counter()
            workload(loop)
            best = min(best, time.perf_counter() - started)
        finally:
            loop.close()
    return best


def main() -> None:
    impl = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    results = {name: best_time(impl, workload, repeats) for name, workload in WORKLOADS.items()}
    if impl == "loop_core":
        import loop_core._core

        results["_compiled"] = float(str(loop_core._core.__file__).endswith(".so"))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
