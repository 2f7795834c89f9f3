"""Compare a library's per-test outcomes on stock asyncio and on our loop.

    compare.py regressions SUITE STOCK.json OURS.json [RERUN.json]
        print the tests that pass on stock asyncio and not on ours (after the
        rerun, when given), apart from the suite's expected differences
    compare.py report SUITE PYTHON OUT.rst STOCK.json OURS-pure.json OURS-compiled.json
        write the docs' table for one suite and Python; exit 1 if a
        regression is left unexplained

Outcome files are what loop_ecosystem_plugin writes; a rerun file holds the
second run of the tests that failed only on ours, so a test that passes when
run again is counted as flaky, not as a regression.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from libraries import SUITES


def load(path: str) -> dict[str, str]:
    file = Path(path)
    if not file.exists():
        return {}
    outcomes: dict[str, str] = json.loads(file.read_text())
    return outcomes


def regressions(
    suite: str, stock: dict[str, str], ours: dict[str, str], rerun: dict[str, str]
) -> tuple[list[str], list[str]]:
    """(regressions, flaky): tests passing on stock and not on ours; those of
    them that passed on the rerun are flaky."""
    expected = SUITES[suite].expected_differences
    worse = sorted(
        test
        for test, outcome in stock.items()
        if outcome == "passed" and ours.get(test) != "passed" and test not in expected
    )
    flaky = [test for test in worse if rerun.get(test) == "passed"]
    return [test for test in worse if test not in flaky], flaky


def _counts(outcomes: dict[str, str]) -> str:
    counts = Counter(outcomes.values())
    return ", ".join(
        f"{counts[kind]} {kind}"
        for kind in ("passed", "failed", "skipped", "xfailed")
        if counts[kind]
    )


def report(
    suite: str, python: str, stock_path: str, runs: dict[str, tuple[str, str]]
) -> tuple[str, bool]:
    stock = load(stock_path)
    lines = [
        f"**{suite} {SUITES[suite].version}**, its own suite, Python {python}:",
        "",
        f"* stock asyncio: {_counts(stock)}",
    ]
    unexplained = False
    details: list[str] = []
    for mode, (ours_path, rerun_path) in runs.items():
        ours = load(ours_path)
        worse, flaky = regressions(suite, stock, ours, load(rerun_path))
        better = sorted(t for t, o in ours.items() if o == "passed" and stock.get(t) == "failed")
        lines.append(
            f"* our loop, {mode}: {_counts(ours)}; passing on stock only: {len(worse)}"
            f" (flaky, passed when rerun: {len(flaky)}); passing on ours only: {len(better)}"
        )
        unexplained |= bool(worse) or not ours
        details += [f"  * ``{t}`` ({mode}): passes on stock asyncio only" for t in worse]
        details += [f"  * ``{t}`` ({mode}): flaky, passed when rerun" for t in flaky]
    expected = SUITES[suite].expected_differences
    if expected:
        lines.append("* listed differences:")
        lines += [f"  * ``{test}``: {reason}" for test, reason in expected.items()]
    if details:
        lines.append("* differences in this run:")
        lines += details
    return "\n".join(lines) + "\n", unexplained


def main(argv: list[str]) -> int:
    command, suite = argv[0], argv[1]
    if command == "regressions":
        stock, ours = load(argv[2]), load(argv[3])
        rerun = load(argv[4]) if len(argv) > 4 else {}
        worse, _ = regressions(suite, stock, ours, rerun)
        print("\n".join(worse))
        return 0
    if command == "report":
        python, out, stock_path, pure, compiled = argv[2:7]
        runs = {
            "pure": (pure, pure.replace(".json", "-rerun.json")),
            "compiled": (compiled, compiled.replace(".json", "-rerun.json")),
        }
        text, unexplained = report(suite, python, stock_path, runs)
        Path(out).write_text(text)
        print(text)
        return 1 if unexplained else 0
    raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
