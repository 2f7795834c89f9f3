"""Run every loop benchmark for each implementation and print a ratio table.

Implementations, each in its own process: loop-core compiled (the installed
wheel), loop-core pure (its sources put first on the path), stock asyncio,
uvloop and (for the scheduling rows) rloop. Ratios are "times faster than" the
reference, the peer's time over ours: above 1 means ours is faster.
``--output FILE`` also writes the table as Markdown.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent


def measure(script: str, arguments: list[str], pure_path: str | None) -> dict[str, float]:
    """Run *script* once in a fresh process; return its workload timings."""
    env = dict(os.environ)
    if pure_path:
        env["PYTHONPATH"] = pure_path
    output = subprocess.run(
        [sys.executable, str(HERE / script), *arguments],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=HERE,
    ).stdout
    results: dict[str, float] = json.loads(output)
    return results


Run = Callable[[], dict[str, float]]


def interleaved(runs: dict[str, Run], rounds: int) -> dict[str, dict[str, float]]:
    """Best time of every workload over *rounds*, the implementations taking
    turns in each round, so that a machine that speeds up or slows down
    during the run does so for all of them alike."""
    best: dict[str, dict[str, float]] = {key: {} for key in runs}
    for _ in range(rounds):
        for key, run in runs.items():
            for name, seconds in run().items():
                best[key][name] = min(seconds, best[key].get(name, float("inf")))
    return best


def one_repeat(script: str, *arguments: str, pure_path: str | None = None) -> Run:
    return functools.partial(measure, script, [*arguments, "1"], pure_path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pure-path", required=True, help="PYTHONPATH that imports pure sources")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    pure = args.pure_path
    runs = interleaved(
        {
            "compiled": one_repeat("workloads.py", "loop_core"),
            "pure": one_repeat("workloads.py", "loop_core", pure_path=pure),
            "asyncio": one_repeat("workloads.py", "asyncio"),
            "uvloop": one_repeat("workloads.py", "uvloop"),
            "rloop": one_repeat("workloads.py", "rloop"),
            "compiled, ours": one_repeat("workloads.py", "loop_core_combinators"),
            "compiled, asyncio's": one_repeat("workloads.py", "loop_core_asyncio_combinators"),
            "pure, ours": one_repeat("workloads.py", "loop_core_combinators", pure_path=pure),
            "pure, asyncio's": one_repeat(
                "workloads.py", "loop_core_asyncio_combinators", pure_path=pure
            ),
        },
        args.repeats,
    )
    for key, run in runs.items():
        if key.startswith("compiled") and run.pop("_compiled") != 1.0:
            print("a 'compiled' run imported pure Python: build with LOOP_MYPYC=1", file=sys.stderr)
            return 1
        if key.startswith("pure") and run.pop("_compiled") != 0.0:
            print("a 'pure' run imported compiled modules", file=sys.stderr)
            return 1

    loop_table = _loop_table(runs)
    combinator_table = _combinator_table(runs)
    sync_table = _sync_table(args.repeats, None)
    sync_pure_table = _sync_table(args.repeats, args.pure_path)
    executor_table = _executor_table(args.repeats, args.pure_path)
    network_table = _network_table(args.repeats, args.pure_path)
    machine = f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores"
    print(machine)
    print(loop_table)
    print()
    print(combinator_table)
    print()
    print(sync_table)
    print()
    print(sync_pure_table)
    print()
    print(executor_table)
    print()
    print(network_table)
    if args.output:
        args.output.write_text(
            "# Benchmark results\n\n"
            "Made by `python3 dev.py nox -s bench -- --output benchmarks/RESULTS.md` "
            f"({machine}). Best of {args.repeats} rounds (3 for the network table), "
            "the implementations taking turns in each round; ratios above 1 mean ours is "
            "faster.\n\n## The loop (loop-core)\n\n"
            "CPU time per operation (`time.process_time`), in nanoseconds; each "
            "implementation in its own process, each process with all of them "
            "imported (the cycle collector's cost grows with the heap, see "
            "`level_the_heap` in workloads.py); the ratios are the peer's time over "
            "ours.\n\n" + loop_table + "\n\n### Combinators on our loop\n\n"
            "The same programs on loop-core's loop with loop-core's `gather`, `wait`, "
            "`as_completed`, `shield` and `wait_for` and with asyncio's; nanoseconds "
            "per awaited task.\n\n"
            + combinator_table
            + "\n\n## Synchronization primitives (loop-sync)\n\n"
            "Each loop runs the same workload with loop-sync's primitives and with "
            "asyncio's own; the ratio compares the two on that loop. The loop_core "
            "columns run on loop-core in the same build mode as loop-sync.\n\n"
            "### Compiled\n\n"
            + sync_table
            + "\n\n### Pure Python\n\n"
            + sync_pure_table
            + "\n\n## Threads and name resolution (loop-executor, pure Python)\n\n"
            "Ours is loop-core's loop (compiled or pure) with loop-executor's extension "
            "and helpers; asyncio and uvloop use their own run_in_executor and getaddrinfo "
            "with asyncio's to_thread and run_coroutine_threadsafe.\n\n"
            + executor_table
            + "\n\n## Network, processes and TLS (loop-transports and loop-ssl, pure Python)\n\n"
            "The client runs in its own process on blocking sockets; times are what it "
            "measured. Ours is loop-core's loop (compiled or pure) with loop-transports and "
            "loop-ssl; asyncio and uvloop use their own transports and asyncio's streams. "
            "Most rows are ping-pong: each side waits on the other, and wake-up latency "
            "dominates; two runs of the same loop differ by up to about 10% on them "
            "(more on a busy virtual machine), so ratios between 0.9 and 1.1 mean parity. "
            "What each loop spends per request while serving is the next table's measure.\n\n"
            + network_table
            + "\n\n"
            + _server_cpu_section()
        )
    return 0


def _server_cpu_section() -> str:
    """The server-CPU table of RESULTS-network.md (``nox -s bench_network``), with its
    command: it takes its own run (each server under a load generator)."""
    results = HERE / "RESULTS-network.md"
    if not results.exists():
        return "## Serving: CPU per request\n\nNot measured yet: run `nox -s bench_network`.\n"
    body = results.read_text().split("\n", 1)[1].lstrip("\n").replace("\n## ", "\n### ")
    return "## Serving: CPU per request (copied from RESULTS-network.md)\n\n" + body


def _sync_table(repeats: int, pure_path: str | None) -> str:
    loops = ("loop_core", "asyncio", "uvloop")
    pairs = [(loop, prims) for loop in loops for prims in ("loop_sync", "asyncio")]
    runs = interleaved(
        {
            f"{loop} {prims}": one_repeat("sync_workloads.py", loop, prims, pure_path=pure_path)
            for loop, prims in pairs
        },
        repeats,
    )
    timings = {(loop, prims): runs[f"{loop} {prims}"] for loop, prims in pairs}
    header = (
        "| workload | "
        + " | ".join(f"{loop}: loop-sync (ms) | {loop}: asyncio's (ms) | ratio" for loop in loops)
        + " |"
    )
    lines = [header, "|" + "---|" * (1 + 3 * len(loops))]
    for name in timings[("asyncio", "asyncio")]:
        cells = []
        for loop in loops:
            ours, theirs = timings[(loop, "loop_sync")][name], timings[(loop, "asyncio")][name]
            cells.append(f"{ours * 1e3:.1f} | {theirs * 1e3:.1f} | {theirs / ours:.2f}x")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _executor_table(repeats: int, pure_path: str) -> str:
    script = "executor_workloads.py"
    runs = interleaved(
        {
            "compiled": one_repeat(script, "loop_core", "loop_executor"),
            "pure": one_repeat(script, "loop_core", "loop_executor", pure_path=pure_path),
            "asyncio": one_repeat(script, "asyncio", "asyncio"),
            "uvloop": one_repeat(script, "uvloop", "asyncio"),
        },
        repeats,
    )
    return _ratio_table(runs)


def _network_table(repeats: int, pure_path: str) -> str:
    script = "net_workloads.py"
    runs = interleaved(
        {
            "compiled": one_repeat(script, "loop_core"),
            "pure": one_repeat(script, "loop_core", pure_path=pure_path),
            "asyncio": one_repeat(script, "asyncio"),
            "uvloop": one_repeat(script, "uvloop"),
        },
        max(1, min(repeats, 3)),
    )
    return _ratio_table(runs)


def _loop_table(runs: dict[str, dict[str, float]]) -> str:
    peers = ("uvloop", "rloop", "asyncio")
    header = (
        "| workload | compiled (ns) | pure (ns) | "
        + " | ".join(f"{peer} (ns)" for peer in peers)
        + " | "
        + " | ".join(f"compiled vs {peer}" for peer in peers)
        + " | pure vs asyncio |"
    )
    lines = [header, "|" + "---|" * (4 + 2 * len(peers))]
    for name in runs["asyncio"]:
        compiled, pure = runs["compiled"][name], runs["pure"][name]
        theirs = [runs[peer][name] for peer in peers]
        lines.append(
            f"| {name} | {compiled * 1e9:.0f} | {pure * 1e9:.0f} | "
            + " | ".join(f"{t * 1e9:.0f}" for t in theirs)
            + " | "
            + " | ".join(f"{t / compiled:.2f}x" for t in theirs)
            + f" | {runs['asyncio'][name] / pure:.2f}x |"
        )
    return "\n".join(lines)


def _combinator_table(runs: dict[str, dict[str, float]]) -> str:
    header = (
        "| workload | compiled: ours (ns) | compiled: asyncio's (ns) | ratio "
        "| pure: ours (ns) | pure: asyncio's (ns) | ratio |"
    )
    lines = [header, "|" + "---|" * 7]
    for name in runs["compiled, ours"]:
        cells = []
        for mode in ("compiled", "pure"):
            ours, theirs = runs[f"{mode}, ours"][name], runs[f"{mode}, asyncio's"][name]
            cells.append(f"{ours * 1e9:.0f} | {theirs * 1e9:.0f} | {theirs / ours:.2f}x")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _ratio_table(runs: dict[str, dict[str, float]]) -> str:
    header = (
        "| workload | compiled (ms) | pure (ms) | asyncio (ms) | uvloop (ms) "
        "| compiled vs asyncio | compiled vs uvloop | pure vs asyncio |"
    )
    lines = [header, "|" + "---|" * 8]
    for name in runs["asyncio"]:
        c, p = runs["compiled"][name], runs["pure"][name]
        a, u = runs["asyncio"][name], runs["uvloop"][name]
        lines.append(
            f"| {name} | {c * 1e3:.1f} | {p * 1e3:.1f} | {a * 1e3:.1f} | {u * 1e3:.1f} "
            f"| {a / c:.2f}x | {u / c:.2f}x | {a / p:.2f}x |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
