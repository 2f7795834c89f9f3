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
the callgrind files there for ``callgrind_annotate``). Needs valgrind and gcc;
rows that make their own load (the subprocess pipes) are not supported.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from net_cpu import (
    HERE,
    ROWS,
    Certificates,
    Row,
    _client_command,
    build_loadgen,
    make_certificates,
    start_server,
)

IMPLEMENTATIONS = ("compiled", "pure", "uvloop", "rloop", "asyncio")


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
    found = re.search(r"refs:\s+([\d,]+)", report)
    if found is None:
        raise RuntimeError(f"no instruction count from valgrind:\n{report}")
    return int(found.group(1).replace(",", "")), requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("impl", choices=IMPLEMENTATIONS)
    parser.add_argument("row", type=int, help="index into net_cpu.ROWS")
    parser.add_argument("--pure-path", default=os.pathsep.join(
        str(source) for source in sorted((HERE.parent / "packages").glob("*/src"))
    ))  # fmt: skip
    parser.add_argument("--short", type=float, default=2.0)
    parser.add_argument("--long", type=float, default=5.0)
    parser.add_argument("--keep", type=Path, help="folder to keep the callgrind files in")
    args = parser.parse_args()
    row = ROWS[args.row]
    if row.transport == "self":
        raise SystemExit(f"{row.label!r} makes its own load: not supported here")
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
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            for kept in folder.glob("callgrind.*"):
                shutil.copy(kept, args.keep / kept.name)
    (short_instructions, short_requests), (long_instructions, long_requests) = runs
    if long_requests <= short_requests:
        raise SystemExit("the longer run answered no more requests: lengthen --long")
    per_request = (long_instructions - short_instructions) / (long_requests - short_requests)
    print(f"{row.label}, {args.impl}: {per_request:,.0f} instructions per request")


if __name__ == "__main__":
    main()
