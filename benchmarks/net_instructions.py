"""Instructions per request of one network benchmark server, counted by callgrind.

``python benchmarks/net_instructions.py [--pure-path PATH] [--short S] [--long S]
[--keep DIR] IMPL ROW`` serves row ROW of ``net_cpu.py`` (its index in
``net_cpu.ROWS``) with ``net_server.py`` on IMPL (``compiled``, ``pure``,
``uvloop``, ``rloop`` or ``asyncio``) under ``valgrind --tool=callgrind``
twice, the row's load generator running S seconds each time, and prints the
difference in instructions over the difference in requests: the server's
user-space instructions per request, start-up and shutdown cancelled out.
Unlike CPU time this does not move with what else the machine does, so it
shows changes of a percent that the CPU-time table cannot (``--keep`` leaves
the callgrind files there for ``callgrind_annotate``). Needs valgrind and gcc.
A row that makes its own load (the subprocess pipes) runs S seconds each time
and counts what it made itself; its start-up cancels out all the same.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from callgrind_runs import add_common_arguments, instructions_reported, keep_files
from net_cpu import (
    ROWS,
    Certificates,
    Row,
    _client_command,
    build_loadgen,
    make_certificates,
    start_server,
)


def count(
    impl: str,
    row: Row,
    seconds: float,
    folder: Path,
    loadgen: Path,
    pure_path: str,
    certificates: Certificates | None,
) -> tuple[int, int]:
    """Serve *row* under callgrind for *seconds* of load; return the
    instructions the server ran and the requests it answered."""
    output = folder / f"callgrind.{impl}.{row.workload}.{seconds:g}s"
    callgrind = ("valgrind", "--tool=callgrind", f"--callgrind-out-file={output}")
    server, bound = start_server(impl, row, folder, pure_path, certificates, callgrind)
    try:
        if row.transport == "self":
            # The server makes its own load from the start and counts it:
            # asked after *seconds*, it answers "cpu user requests".
            assert server.stdin is not None
            assert server.stdout is not None
            time.sleep(seconds)
            server.stdin.write("\n")
            server.stdin.flush()
            requests = int(server.stdout.readline().split()[2])
        else:
            done = subprocess.run(
                _client_command(row, loadgen, bound, seconds, certificates),
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            requests = int(done.stdout.strip())
        # Closes the server's input, which stops it.
        _, report = server.communicate(timeout=300)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    return instructions_reported(report), requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_common_arguments(parser, "net_cpu.ROWS")
    parser.add_argument("--short", type=float, default=2.0)
    parser.add_argument("--long", type=float, default=5.0)
    args = parser.parse_args()
    row = ROWS[args.row]
    for tool in ("valgrind", "gcc"):
        if shutil.which(tool) is None:
            raise SystemExit(f"net_instructions.py needs {tool}")
    with tempfile.TemporaryDirectory(prefix="net-instructions-") as folder_name:
        folder = Path(folder_name)
        loadgen = build_loadgen(folder)
        certificates = make_certificates(folder)
        runs = [
            count(args.impl, row, seconds, folder, loadgen, args.pure_path, certificates)
            for seconds in (args.short, args.long)
        ]
        keep_files(folder, args.keep)
    (short_instructions, short_requests), (long_instructions, long_requests) = runs
    if long_requests <= short_requests:
        raise SystemExit("the longer run answered no more requests: lengthen --long")
    per_request = (long_instructions - short_instructions) / (long_requests - short_requests)
    print(f"{row.label}, {args.impl}: {per_request:,.0f} instructions per request")


if __name__ == "__main__":
    main()
