"""Run the project's workflows on a machine that has only python3 and pip.

    python3 dev.py test     the whole test suite, as CI runs it
    python3 dev.py demo     the echo-server demo on our loop
    python3 dev.py nox ...  any other nox command (``nox -l`` lists sessions)

The first call makes ``.venv-dev`` with the pinned nox of
``requirements/dev.txt``; nox makes every other environment itself. ``test``
runs nox's default sessions two at a time (one per core; ``LOOP_CI_WORKERS``
changes that), each session's output printed whole when it ends, and ends
with one line that totals the test reports of all sessions; it fails when a
session failed or when no test ran at all. ``test ARGS`` passes ARGS to one
nox run instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
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


def nox_command(python: Path, *args: str) -> list[str]:
    return [str(python), "-m", "nox", "--noxfile", str(ROOT / "noxfile.py"), *args]


def run_nox(*args: str) -> int:
    python = ensure_dev_venv()
    return subprocess.run(
        nox_command(python, *args),
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


# Started first, longest first: the sessions that compile the wheels of each
# Python (so two workers build different ones) and the libraries' suites.
# The rest follow in nox's order.
FIRST = (
    "tests-3.11(mode='compiled')",
    "tests-3.13(mode='compiled')",
    "ecosystem-3.11(library='anyio')",
    "tests-3.12(mode='compiled')",
    "ecosystem-3.13(library='anyio')",
    "build",
    "ecosystem-3.11(library='uvicorn')",
    "integration(mode='compiled')",
    "ecosystem-3.13(library='uvicorn')",
)
# Sessions that never run side by side: the libraries' own suites pick a free
# port and bind it again (anyio's multi-listener tests, httpx's test server
# on port 8000), which another suite may take in between.
EXCLUSIVE_PREFIX = "ecosystem-"


def default_sessions(python: Path) -> list[str]:
    listed = subprocess.run(
        nox_command(python, "-l", "--json"),
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    sessions = [entry["session"] for entry in json.loads(listed)]
    first = [name for name in FIRST if name in sessions]
    return first + [name for name in sessions if name not in first]


def run_sessions_in_parallel(python: Path, sessions: list[str], workers: int) -> int:
    """Run each nox session in its own nox process, *workers* at a time.

    Sessions share only the wheel cache, which nox's build step fills
    atomically; each session's output is printed whole when it ends.
    """
    queue = list(sessions)
    failed: list[str] = []
    running: set[str] = set()
    changed = threading.Condition()

    def may_start(session: str) -> bool:
        if not session.startswith(EXCLUSIVE_PREFIX):
            return True
        return not any(other.startswith(EXCLUSIVE_PREFIX) for other in running)

    def work() -> None:
        while True:
            with changed:
                while queue and not any(may_start(name) for name in queue):
                    changed.wait()
                if not queue:
                    return
                session = next(name for name in queue if may_start(name))
                queue.remove(session)
                running.add(session)
            started = time.monotonic()
            with tempfile.TemporaryFile() as log:
                code = subprocess.run(
                    nox_command(python, "-s", session),
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    check=False,
                ).returncode
                log.seek(0)
                output = log.read().decode(errors="replace")
            with changed:
                running.discard(session)
                changed.notify_all()
                print(output, end="", flush=True)
                verdict = "passed" if code == 0 else "FAILED"
                took = time.monotonic() - started
                print(f"dev.py: {session} {verdict} in {took:.0f} s", flush=True)
                if code != 0:
                    failed.append(session)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failed:
        print(f"dev.py: failed sessions: {', '.join(failed)}", flush=True)
    return 1 if failed else 0


def test(extra: list[str]) -> int:
    started = time.time()
    if extra:
        status = run_nox(*extra)
    else:
        python = ensure_dev_venv()
        workers = int(os.environ.get("LOOP_CI_WORKERS", "2"))
        status = run_sessions_in_parallel(python, default_sessions(python), workers)
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
