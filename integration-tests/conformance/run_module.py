"""Run one CPython asyncio test module against our code; print the outcome as JSON.

``python run_module.py test_tasks`` prints ``{"package": ..., "tests": {id:
outcome}}`` where an outcome is ``passed``, ``failed``, ``error``,
``skipped`` or ``excluded`` (with the reason from ``exclusions.py``). Each
module runs in its own process, so patches never leak between modules and a
hang is bounded by the parent's timeout.
"""

from __future__ import annotations

import fnmatch
import io
import json
import sys
import traceback
import unittest
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from exclusions import EXCLUDED
from suites import load_module_suite


def _flatten(suite: unittest.TestSuite) -> list[unittest.TestCase]:
    tests: list[unittest.TestCase] = []
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            tests.extend(_flatten(item))
        else:
            tests.append(item)
    return tests


def exclusion_reason(test_id: str) -> str | None:
    for pattern, reason in EXCLUDED.items():
        if fnmatch.fnmatchcase(test_id, pattern):
            return reason
    return None


class Collector(unittest.TestResult):
    def __init__(self) -> None:
        super().__init__()
        self.outcomes: dict[str, dict[str, str]] = {}

    def _record(self, test: unittest.TestCase, outcome: str, detail: str = "") -> None:
        self.outcomes[_short_id(test)] = {"outcome": outcome, "detail": detail[-3000:]}

    def addSuccess(self, test: unittest.TestCase) -> None:
        self._record(test, "passed")

    def addFailure(self, test: unittest.TestCase, err: Any) -> None:
        self._record(test, "failed", "".join(traceback.format_exception(*err)))

    def addError(self, test: unittest.TestCase, err: Any) -> None:
        self._record(test, "error", "".join(traceback.format_exception(*err)))

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        self._record(test, "skipped", reason)

    def addExpectedFailure(self, test: unittest.TestCase, err: Any) -> None:
        self._record(test, "passed", "expected failure")

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:
        self._record(test, "failed", "unexpected success")


def _short_id(test: unittest.TestCase) -> str:
    # "test.test_asyncio.test_tasks.Class.test_x" -> "test_tasks.Class.test_x"
    return test.id().removeprefix("test.test_asyncio.")


def main() -> None:
    name = sys.argv[1]
    package, suite = load_module_suite(name)
    to_run = unittest.TestSuite()
    result = Collector()
    for test in _flatten(suite):
        reason = exclusion_reason(_short_id(test))
        if reason is None:
            to_run.addTest(test)
        else:
            result.outcomes[_short_id(test)] = {"outcome": "excluded", "detail": reason}
    # CPython's tests print to stderr at times; keep the JSON on stdout clean.
    real_stdout, sys.stdout = sys.stdout, io.StringIO()
    try:
        to_run.run(result)
    finally:
        sys.stdout = real_stdout
    print(json.dumps({"package": package, "tests": result.outcomes}))


if __name__ == "__main__":
    main()
