"""Run CPython's asyncio test modules against our packages and report per module.

``python run_all.py [--report FILE] [--timeout SECONDS] [MODULE ...]`` runs each
module of ``suites.MODULES`` (or those named) in its own process, prints a
summary, writes a Markdown report, and exits non-zero when a test outside
``exclusions.KNOWN_FAILURES`` failed, when a known failure now passes (the
list must then shrink), or when a module crashed or timed out.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from exclusions import EXCLUDED, KNOWN_FAILURES  # noqa: E402  (needs the path above)
from suites import MODULES, SKIPPED_CLASSES  # noqa: E402

OUTCOMES = ("passed", "failed", "error", "skipped", "excluded")


def run_module(name: str, timeout: float) -> dict[str, object]:
    if importlib.util.find_spec(f"test.test_asyncio.{name.partition(':')[0]}") is None:
        return {"missing": True}
    try:
        completed = subprocess.run(
            [sys.executable, str(HERE / "run_module.py"), name],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"crash": f"timed out after {timeout} seconds"}
    if completed.returncode != 0 or not completed.stdout.strip():
        return {"crash": (completed.stderr or "no output")[-3000:]}
    result: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("modules", nargs="*", default=list(MODULES))
    parser.add_argument("--report", type=Path)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()

    problems: list[str] = []
    rows: list[str] = []
    known_seen: dict[str, str] = {}
    for name in args.modules:
        package = MODULES[name][0]
        outcome = run_module(name, args.timeout)
        if outcome.get("missing"):
            rows.append(f"| {name} | {package} | not in this Python | | | | |")
            continue
        if "crash" in outcome:
            problems.append(f"{name}: {outcome['crash']}")
            rows.append(f"| {name} | {package} | crashed | | | | |")
            continue
        tests: dict[str, dict[str, str]] = outcome["tests"]  # type: ignore[assignment]
        counts = collections.Counter(v["outcome"] for v in tests.values())
        for test_id, result in sorted(tests.items()):
            failed = result["outcome"] in ("failed", "error")
            if test_id in KNOWN_FAILURES:
                known_seen[test_id] = result["outcome"]
                if not failed:
                    problems.append(f"{test_id} passes now: remove it from KNOWN_FAILURES")
            elif failed:
                problems.append(f"{test_id} {result['outcome']}:\n{result['detail']}")
        known = sum(1 for t in tests if t in KNOWN_FAILURES)
        rows.append(
            f"| {name} | {package} | {counts['passed']} | "
            f"{counts['failed'] + counts['error'] - known} | {known} | "
            f"{counts['skipped']} | {counts['excluded']} |"
        )

    report = _report(rows, known_seen)
    print(report)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(report)
    if problems:
        print("\nCONFORMANCE PROBLEMS:\n" + "\n\n".join(problems), file=sys.stderr)
        return 1
    return 0


def _report(rows: list[str], known_seen: dict[str, str]) -> str:
    lines = [
        "# CPython asyncio conformance",
        "",
        f"CPython's own `test.test_asyncio` suites, from Python {platform.python_version()}, "
        "run against our packages by `integration-tests/conformance/run_all.py` "
        "(`python3 dev.py nox -s conformance` regenerates this file; the "
        "integration session runs it in pure and compiled mode). How each module is "
        "plugged into our code is described in `suites.py`.",
        "",
        "| module | package | passed | failed | known failures | skipped by CPython | excluded |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "## Known failures",
        "",
    ]
    for test_id, why in KNOWN_FAILURES.items():
        lines.append(f"- `{test_id}` ({known_seen.get(test_id, 'not run')}): {why}")
    if not KNOWN_FAILURES:
        lines.append("None in this build mode.")
    lines += ["", "## Excluded tests (stdlib internals)", ""]
    for pattern, why in EXCLUDED.items():
        lines.append(f"- `{pattern}`: {why}")
    lines += ["", "## Test classes not selected (they test stdlib classes only)", ""]
    for class_name, why in SKIPPED_CLASSES.items():
        lines.append(f"- `{class_name}`: {why}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
