"""pytest plugin that runs a library's own suite on the loop under test.

Loaded with ``-p loop_ecosystem_plugin`` (this folder on ``PYTHONPATH``).
``LOOP_ECOSYSTEM_LOOP`` chooses the loop: ``asyncio`` leaves stock asyncio in
place, ``loop_core`` installs our event-loop policy, so every loop that
``asyncio.run``, ``asyncio.Runner`` and anyio's asyncio backend make is ours
(the way these libraries let an application choose its loop). Only the
asyncio backend's plain variant of anyio-parametrized tests is kept (not
trio, not uvloop). Each test's outcome goes to the JSON file named by
``LOOP_ECOSYSTEM_OUTCOMES``.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import pytest

_outcomes: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("LOOP_ECOSYSTEM_LOOP") == "loop_core":
        import loop_core  # noqa: PLC0415 - only when asked for

        asyncio.set_event_loop_policy(loop_core.EventLoopPolicy())


def _plain_asyncio(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    backend: Any = callspec.params.get("anyio_backend") if callspec is not None else None
    if backend is None or backend == "asyncio":
        return True
    return (
        isinstance(backend, tuple)
        and backend[0] == "asyncio"
        and "loop_factory" not in (backend[1] if len(backend) > 1 else {})
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept = [item for item in items if _plain_asyncio(item)]
    dropped = [item for item in items if not _plain_asyncio(item)]
    items[:] = kept
    if dropped:
        config.hook.pytest_deselected(items=dropped)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Called on the controller for every worker's reports too (xdist).
    previous = _outcomes.get(report.nodeid)
    if report.failed:
        outcome = "failed"
    elif report.skipped:
        outcome = "xfailed" if hasattr(report, "wasxfail") else "skipped"
    elif report.when == "call":
        outcome = "passed"
    else:
        return
    if previous != "failed":  # a failing teardown after a passing call is a failure
        _outcomes[report.nodeid] = outcome


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("LOOP_ECOSYSTEM_OUTCOMES")
    if target and not hasattr(session.config, "workerinput"):  # the controller writes
        with open(target, "w") as file:
            json.dump(_outcomes, file, indent=0, sort_keys=True)
