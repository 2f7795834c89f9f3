"""CPython's own asyncio test suites, run against our packages (see conformance/).

The run happens in child processes (one per CPython module) so its patches of
asyncio never reach the other integration tests. It fails on any failing test
that is neither excluded as a test of stdlib internals nor listed, with its
bug, as a known failure, and when a known failure starts passing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def test_cpython_asyncio_suites_pass_on_our_packages() -> None:
    mode = "compiled" if os.environ.get("LOOP_EXPECT_COMPILED") == "1" else "pure"
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    report = ROOT / ".reports" / f"conformance-{version}-{mode}.md"
    completed = subprocess.run(
        [sys.executable, str(HERE / "conformance" / "run_all.py"), "--report", str(report)],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    print(completed.stdout)
    assert completed.returncode == 0, completed.stderr[-20000:]
