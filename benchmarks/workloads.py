"""Scheduling benchmarks, run in one process for one loop implementation.

``python benchmarks/workloads.py IMPL [REPEATS]`` prints a JSON object mapping
each workload to its best CPU time per operation, in seconds. IMPL is
``loop_core``, ``asyncio``, ``uvloop`` or ``rloop``; which loop_core (pure or
compiled) is imported depends on the interpreter's path, which ``run.py``
sets. CPU time (``time.process_time``), not wall time: on a small shared
machine wall time also counts what other processes do.

The ``combinator`` rows run the same program on our loop twice, with
loop-core's ``gather``/``wait``/``shield``/``wait_for``/``as_completed`` and
with asyncio's (``IMPL`` ``loop_core_asyncio_combinators``).
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import json
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

Workload = Callable[[asyncio.AbstractEventLoop, ModuleType], int]

CHAIN = 300_000
TIMERS = 100_000
TASKS = 50_000
SWITCHES = 100_000
FUTURES = 100_000
GATHERED = 10_000
GATHER_ROUNDS = 3
COMBINED = 20_000


def call_soon_chain(loop: asyncio.AbstractEventLoop, toolkit: ModuleType) -> int:
    remaining = [CHAIN]

    def tick() -> None:
        remaining[0] -= 1
        if remaining[0]:
            loop.call_soon(tick)
        else:
            loop.stop()

    # A few chains side by side, as in a loop serving several connections.
    for _ in range(8):
        loop.call_soon(tick)
    loop.run_forever()
    return CHAIN


def timers_half_cancelled(loop: asyncio.AbstractEventLoop, toolkit: ModuleType) -> int:
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
    return TIMERS


def task_create_and_await(loop: asyncio.AbstractEventLoop, toolkit: ModuleType) -> int:
    async def child() -> int:
        return 1

    async def main() -> None:
        for _ in range(TASKS):
            await loop.create_task(child())

    loop.run_until_complete(main())
    return TASKS


def sleep_zero_switches(loop: asyncio.AbstractEventLoop, toolkit: ModuleType) -> int:
    async def main() -> None:
        for _ in range(SWITCHES):
            await asyncio.sleep(0)

    loop.run_until_complete(main())
    return SWITCHES


def future_set_result_and_await(loop: asyncio.AbstractEventLoop, toolkit: ModuleType) -> int:
    async def main() -> None:
        for i in range(FUTURES):
            future = loop.create_future()
            loop.call_soon(future.set_result, i)
            await future

    loop.run_until_complete(main())
    return FUTURES


async def _switch_once(value: int) -> int:
    """What each task of the combinator rows does: give way once, then finish."""
    await asyncio.sleep(0)
    return value


def gather_10k_tasks(loop: asyncio.AbstractEventLoop, toolkit: ModuleType) -> int:
    async def main() -> None:
        for _ in range(GATHER_ROUNDS):
            await toolkit.gather(*(_switch_once(i) for i in range(GATHERED)))

    loop.run_until_complete(main())
    return GATHERED * GATHER_ROUNDS


def wait_and_as_completed(loop: asyncio.AbstractEventLoop, toolkit: ModuleType) -> int:
    async def main() -> None:
        tasks = [loop.create_task(_switch_once(i)) for i in range(COMBINED)]
        await toolkit.wait(tasks)
        tasks = [loop.create_task(_switch_once(i)) for i in range(COMBINED)]
        for next_done in toolkit.as_completed(tasks):
            await next_done

    loop.run_until_complete(main())
    return 2 * COMBINED


def shield_and_wait_for(loop: asyncio.AbstractEventLoop, toolkit: ModuleType) -> int:
    async def main() -> None:
        for i in range(COMBINED):
            await toolkit.shield(_switch_once(i))
            await toolkit.wait_for(_switch_once(i), 10.0)

    loop.run_until_complete(main())
    return 2 * COMBINED


LOOP_WORKLOADS: dict[str, Workload] = {
    "call_soon chain (300k callbacks)": call_soon_chain,
    "timers (100k scheduled, half cancelled)": timers_half_cancelled,
    "create_task + await (50k)": task_create_and_await,
    "sleep(0) switches (100k)": sleep_zero_switches,
    "future set_result + await (100k)": future_set_result_and_await,
    "gather of 10k tasks (x3)": gather_10k_tasks,
}
COMBINATOR_WORKLOADS: dict[str, Workload] = {
    "gather of 10k tasks (x3)": gather_10k_tasks,
    "wait + as_completed (20k tasks each)": wait_and_as_completed,
    "shield + wait_for (20k each)": shield_and_wait_for,
}


def make_loop(impl: str) -> asyncio.AbstractEventLoop:
    if impl.startswith("loop_core"):
        import loop_core

        return loop_core.new_event_loop()
    if impl == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    if impl == "rloop":
        # rloop ships no type information.
        rloop: Any = importlib.import_module("rloop")
        loop: asyncio.AbstractEventLoop = rloop.new_event_loop()
        return loop
    return asyncio.SelectorEventLoop()


def best_cpu_per_operation(
    impl: str, workload: Workload, toolkit: ModuleType, repeats: int
) -> float:
    best = float("inf")
    for _ in range(repeats):
        loop = make_loop(impl)
        gc.collect()
        try:
            started = time.process_time()
            operations = workload(loop, toolkit)
            best = min(best, (time.process_time() - started) / operations)
        finally:
            loop.close()
    return best


def level_the_heap() -> None:
    """Import every implementation, whichever one is measured.

    The cycle collector's full passes visit every tracked object in the
    process, so a bigger import graph makes each pass dearer: the gather row
    spends about 40% of its CPU time in the collector, and loop-core's
    entry-point discovery alone imports importlib.metadata (about 4,400
    objects) that a bare uvloop process lacks. An application has all of
    that and more; with the same imports everywhere, the rows compare the
    loops rather than the size of the heap each process happened to start with.
    """
    for name in ("uvloop", "rloop"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    import loop_core

    loop_core.new_event_loop().close()  # discovers (imports) the extensions
    gc.collect()


def main() -> None:
    impl = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    level_the_heap()
    toolkit: ModuleType = asyncio
    workloads = LOOP_WORKLOADS
    if impl == "loop_core_combinators":
        import loop_core

        toolkit, workloads = loop_core, COMBINATOR_WORKLOADS
    elif impl == "loop_core_asyncio_combinators":
        workloads = COMBINATOR_WORKLOADS
    results = {
        name: best_cpu_per_operation(impl, workload, toolkit, repeats)
        for name, workload in workloads.items()
    }
    if impl.startswith("loop_core"):
        import loop_core._core

        results["_compiled"] = float(str(loop_core._core.__file__).endswith(".so"))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
