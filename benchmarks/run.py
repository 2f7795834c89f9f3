"""Run every loop benchmark for each implementation and print a ratio table.

Implementations, each in its own process: loop-core compiled (the installed
wheel), loop-core pure (its sources put first on the path), stock asyncio and
uvloop. Ratios are "times faster than" the reference: above 1 means faster.
``--output FILE`` also writes the table as Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def measure(
    impl: str, repeats: int, pure_path: str | None, script: str = "workloads.py"
) -> dict[str, float]:
    env = dict(os.environ)
    if pure_path:
        env["PYTHONPATH"] = pure_path
    output = subprocess.run(
        [sys.executable, str(HERE / script), impl, str(repeats)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=HERE,
    ).stdout
    results: dict[str, float] = json.loads(output)
    return results


def measure_pair(
    script: str, loop: str, helpers: str, repeats: int, pure_path: str | None
) -> dict[str, float]:
    env = dict(os.environ)
    if pure_path:
        env["PYTHONPATH"] = pure_path
    output = subprocess.run(
        [sys.executable, str(HERE / script), loop, helpers, str(repeats)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=HERE,
    ).stdout
    results: dict[str, float] = json.loads(output)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pure-path", required=True, help="PYTHONPATH that imports pure sources")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    runs = {
        "loop-core compiled": measure("loop_core", args.repeats, None),
        "loop-core pure": measure("loop_core", args.repeats, args.pure_path),
        "asyncio": measure("asyncio", args.repeats, None),
        "uvloop": measure("uvloop", args.repeats, None),
    }
    if runs["loop-core compiled"].pop("_compiled") != 1.0:
        print("the 'compiled' run imported pure Python: build with LOOP_MYPYC=1", file=sys.stderr)
        return 1
    if runs["loop-core pure"].pop("_compiled") != 0.0:
        print("the 'pure' run imported compiled modules", file=sys.stderr)
        return 1

    loop_table = _loop_table(runs)
    sync_table = _sync_table(args.repeats, None)
    sync_pure_table = _sync_table(args.repeats, args.pure_path)
    executor_table = _executor_table(args.repeats, args.pure_path)
    network_table = _network_table(args.repeats, args.pure_path)
    machine = f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores"
    print(machine)
    print(loop_table)
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
            f"({machine}). Best of {args.repeats} runs; ratios above 1 mean ours is "
            "faster.\n\n## The loop (loop-core)\n\n"
            + loop_table
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
            "loop-ssl; asyncio and uvloop use their own transports and asyncio's streams.\n\n"
            + network_table
            + "\n"
        )
    return 0


def _sync_table(repeats: int, pure_path: str | None) -> str:
    loops = ("loop_core", "asyncio", "uvloop")
    timings = {
        (loop, prims): measure_pair("sync_workloads.py", loop, prims, repeats, pure_path)
        for loop in loops
        for prims in ("loop_sync", "asyncio")
    }
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
    runs = {
        "compiled": measure_pair(
            "executor_workloads.py", "loop_core", "loop_executor", repeats, None
        ),
        "pure": measure_pair(
            "executor_workloads.py", "loop_core", "loop_executor", repeats, pure_path
        ),
        "asyncio": measure_pair("executor_workloads.py", "asyncio", "asyncio", repeats, None),
        "uvloop": measure_pair("executor_workloads.py", "uvloop", "asyncio", repeats, None),
    }
    return _ratio_table(runs)


def _network_table(repeats: int, pure_path: str) -> str:
    net_repeats = max(1, min(repeats, 3))
    runs = {
        "compiled": measure("loop_core", net_repeats, None, "net_workloads.py"),
        "pure": measure("loop_core", net_repeats, pure_path, "net_workloads.py"),
        "asyncio": measure("asyncio", net_repeats, None, "net_workloads.py"),
        "uvloop": measure("uvloop", net_repeats, None, "net_workloads.py"),
    }
    return _ratio_table(runs)


def _loop_table(runs: dict[str, dict[str, float]]) -> str:
    return _ratio_table(
        {
            "compiled": runs["loop-core compiled"],
            "pure": runs["loop-core pure"],
            "asyncio": runs["asyncio"],
            "uvloop": runs["uvloop"],
        }
    )


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
