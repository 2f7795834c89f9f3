"""What net_instructions.py and loop_instructions.py share: the options that
name the pure build and a folder to keep callgrind's files in, reading the
instruction count valgrind reports, and keeping the files."""

from __future__ import annotations

import argparse
import os
import re
import shutil
from pathlib import Path

from net_cpu import IMPLEMENTATIONS

HERE = Path(__file__).resolve().parent


def add_common_arguments(parser: argparse.ArgumentParser, rows: str) -> None:
    """IMPL, ROW (an index into *rows*), --pure-path (the packages' sources,
    for the pure build) and --keep."""
    parser.add_argument("impl", choices=IMPLEMENTATIONS)
    parser.add_argument("row", type=int, help=f"index into {rows}")
    parser.add_argument("--pure-path", default=os.pathsep.join(
        str(source) for source in sorted((HERE.parent / "packages").glob("*/src"))
    ))  # fmt: skip
    parser.add_argument("--keep", type=Path, help="folder to keep the callgrind files in")


def instructions_reported(report: str) -> int:
    """The instruction count ("I refs") in valgrind's report."""
    found = re.search(r"refs:\s+([\d,]+)", report)
    if found is None:
        raise RuntimeError(f"no instruction count from valgrind:\n{report}")
    return int(found.group(1).replace(",", ""))


def keep_files(folder: Path, keep: Path | None) -> None:
    """Copy the callgrind files of *folder* into *keep*, when given."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        for kept in folder.glob("callgrind.*"):
            shutil.copy(kept, keep / kept.name)
