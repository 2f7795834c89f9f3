"""Instructions per operation of one loop workload, counted by callgrind.

``python benchmarks/loop_instructions.py [--pure-path PATH] [--small N] [--large N]
[--keep DIR] IMPL ROW`` runs row ROW of ``workloads.py`` (its index in
``LOOP_WORKLOADS``) on IMPL (``compiled``, ``pure``, ``uvloop``, ``rloop`` or
``asyncio``) under ``valgrind --tool=callgrind`` twice, with N operations of
the row's kind each time, and prints the difference in instructions over the
difference in operations: start-up and shutdown cancel out. The hash seed is
fixed, so two runs of one build agree to a few instructions.

Callgrind counts user-space instructions only: a system call costs next to
nothing here (on Python 3.11 every ``asyncio.get_running_loop()`` makes one,
``getpid``), so check a change that may add one against CPU time as well
(``workloads.py``, ``nox -s bench``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import workloads
from callgrind_runs import add_common_arguments, instructions_reported, keep_files

HERE = Path(__file__).resolve().parent

# The module constant that sets how many operations each row makes.
_COUNTS: dict[workloads.Workload, str] = {
    workloads.call_soon_chain: "CHAIN",
    workloads.timers_half_cancelled: "TIMERS",
    workloads.task_create_and_await: "TASKS",
    workloads.sleep_zero_switches: "SWITCHES",
    workloads.future_set_result_and_await: "FUTURES",
    workloads.gather_10k_tasks: "GATHERED",
}


def run_child(impl: str, row: int, operations: int) -> None:
    """In the measured process: make *operations* of row *row* and print their count."""
    workload = list(workloads.LOOP_WORKLOADS.values())[row]
    workloads.level_the_heap()
    setattr(workloads, _COUNTS[workload], operations)
    loop = workloads.make_loop("loop_core" if impl in ("compiled", "pure") else impl)
    try:
        print(workload(loop, asyncio))
    finally:
        loop.close()


def count(impl: str, row: int, operations: int, folder: Path, pure_path: str) -> tuple[int, int]:
    """Run the row under callgrind; return the instructions and the operations made."""
    env = dict(os.environ, PYTHONHASHSEED="1")
    if impl == "pure":
        env["PYTHONPATH"] = pure_path
    output = folder / f"callgrind.{impl}.{row}.{operations}"
    done = subprocess.run(
        [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={output}",
            sys.executable, str(Path(__file__).resolve()),
            "--child", str(operations), impl, str(row),
        ],
        check=True, capture_output=True, text=True, env=env, cwd=HERE,
    )  # fmt: skip
    return instructions_reported(done.stderr), int(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_common_arguments(parser, "workloads.LOOP_WORKLOADS")
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=51_000)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        run_child(args.impl, args.row, args.child)
        return
    names = list(workloads.LOOP_WORKLOADS)
    if not 0 <= args.row < len(names):
        raise SystemExit(f"row must be 0 to {len(names) - 1}: {', '.join(names)}")
    if shutil.which("valgrind") is None:
        raise SystemExit("loop_instructions.py needs valgrind")
    with tempfile.TemporaryDirectory(prefix="loop-instructions-") as folder_name:
        folder = Path(folder_name)
        (small_instructions, small_operations), (large_instructions, large_operations) = (
            count(args.impl, args.row, operations, folder, args.pure_path)
            for operations in (args.small, args.large)
        )
        keep_files(folder, args.keep)
    if large_operations <= small_operations:
        raise SystemExit("--large must make more operations than --small")
    per_operation = (large_instructions - small_instructions) / (
        large_operations - small_operations
    )
    print(f"{names[args.row]}, {args.impl}: {per_operation:,.0f} instructions per operation")


if __name__ == "__main__":
    main()
