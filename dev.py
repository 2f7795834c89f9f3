"""Run the project's workflows on a machine that has only python3 and pip.

    python3 dev.py test     the whole test suite, as CI runs it
    python3 dev.py demo     the echo-server demo on our loop
    python3 dev.py nox ...  any other nox command (``nox -l`` lists sessions)

The first call makes ``.venv-dev`` with the pinned nox of
``requirements/dev.txt``; nox makes every other environment itself. ``test``
ends with one line that totals the test reports of all sessions, and fails
when a session failed or when no test ran at all.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import venv
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent
DEV_VENV = ROOT / ".venv-dev"
REQUIREMENTS = ROOT / "requirements" / "dev.txt"
REPORTS = ROOT / ".reports"


def _venv_python() -> Path:
    return DEV_VENV / ("Scripts" if os.name == "nt" else "bin") / "python"


def ensure_dev_venv() -> Path:
    """Create or refresh .venv-dev when requirements/dev.txt changed."""
    stamp = DEV_VENV / ".requirements-sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    python = _venv_python()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    print(f"dev.py: preparing {DEV_VENV.name} with {REQUIREMENTS.relative_to(ROOT)}", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(DEV_VENV)
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "install", "-r", str(REQUIREMENTS)], check=True)
    stamp.write_text(wanted)
    return python


def run_nox(*args: str) -> int:
    python = ensure_dev_venv()
    return subprocess.run(
        [str(python), "-m", "nox", "--noxfile", str(ROOT / "noxfile.py"), *args],
        cwd=ROOT,
        check=False,
    ).returncode


def count_reports(since: float) -> dict[str, int]:
    """Total the JUnit reports written after *since*."""
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    for report in sorted(REPORTS.glob("*.xml")) if REPORTS.exists() else []:
        if report.stat().st_mtime < since:
            continue
        root = ElementTree.parse(report).getroot()
        suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
        for suite in suites:
            tests = int(suite.get("tests", 0))
            failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skipped = int(suite.get("skipped", 0))
            totals["passed"] += tests - failed - skipped
            totals["failed"] += failed
            totals["skipped"] += skipped
    return totals


def test(extra: list[str]) -> int:
    started = time.time()
    status = run_nox(*extra)
    totals = count_reports(started)
    print(f"nox sessions {'passed' if status == 0 else 'FAILED'}")
    print(f"{totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
    if status != 0:
        return status
    if totals["failed"]:
        return 1
    if totals["passed"] == 0:
        print("dev.py: no test ran", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "test":
        return test(rest)
    if command == "demo":
        return run_nox("-s", "demo", *(["--", *rest] if rest else []))
    if command == "nox":
        return run_nox(*rest)
    print(f"dev.py: unknown command {command!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
