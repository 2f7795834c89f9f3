"""Fault scenarios (faults/scenarios.py) on our loop, stock asyncio and uvloop.

Each scenario runs in a child process of its own per loop. Ours must pass
every scenario, give back every descriptor it opened once closed and
collected, and stay within the scenario's memory allowance; the peers' outcomes
are recorded beside ours, since where a peer fails (uvloop does not range-check
ports, say) the comparison is the point. The outcomes go to
``.reports/faults-<mode>.json``, and with ``LOOP_FAULTS_REPORT=<path>`` also to
the reStructuredText table the docs include (``nox -s faults`` writes it).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "faults" / "scenarios.py"
MODE = "compiled" if os.environ.get("LOOP_EXPECT_COMPILED") == "1" else "pure"
PEERS = ("asyncio", "uvloop")


def _load_scenarios() -> Any:
    spec = importlib.util.spec_from_file_location("fault_scenarios", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCENARIOS = _load_scenarios()
OUTCOMES: dict[str, dict[str, dict[str, Any]]] = {}


def run_scenario(kind: str, name: str) -> dict[str, Any]:
    try:
        completed = subprocess.run(
            [sys.executable, str(SCRIPT), kind, name],
            capture_output=True,
            text=True,
            timeout=SCENARIOS.TIME_LIMIT + 30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"loop": kind, "scenario": name, "ok": False, "figure": "", "error": "timed out"}
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        error = f"exit code {completed.returncode}: {completed.stderr[-3000:]}"
        return {"loop": kind, "scenario": name, "ok": False, "figure": "", "error": error}
    outcome: dict[str, Any] = json.loads(lines[-1])
    return outcome


def has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@pytest.fixture(scope="module", autouse=True)
def write_report() -> Iterator[None]:
    yield
    reports = HERE.parent / ".reports"
    reports.mkdir(exist_ok=True)
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    (reports / f"faults-{version}-{MODE}.json").write_text(json.dumps(OUTCOMES, indent=1))
    target = os.environ.get("LOOP_FAULTS_REPORT")
    if target and OUTCOMES:
        Path(target).write_text(render(OUTCOMES, version))


def render(outcomes: dict[str, dict[str, dict[str, Any]]], version: str) -> str:
    """The docs' table: per scenario, each loop's outcome and figure."""

    def cell(outcome: dict[str, Any] | None) -> str:
        if outcome is None:
            return "not run"
        if outcome["ok"]:
            return f"pass: {outcome['figure']}"
        reason = (outcome.get("error") or "").strip().splitlines()
        return f"**fail**: {reason[-1] if reason else 'no output'}"[:140]

    lines = [
        f"Python {version}, our loop {MODE}; regenerate with ``python3 dev.py nox -s faults``.",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 18 30 27 27",
        "",
        "   * - scenario",
        "     - ours (descriptors before/after, memory growth)",
        "     - asyncio",
        "     - uvloop",
    ]
    for name, by_loop in outcomes.items():
        ours = by_loop.get("loop_core")
        resources = ""
        if ours is not None and "fds_after" in ours:
            resources = (
                f" ({ours['fds_before']}/{ours['fds_after']} fds, "
                f"{ours['rss_growth_kib'] / 1024:+.1f} MiB)"
            )
        lines += [
            f"   * - ``{name}``",
            f"     - {cell(ours)}{resources}",
            f"     - {cell(by_loop.get('asyncio'))}",
            f"     - {cell(by_loop.get('uvloop'))}",
        ]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", list(SCENARIOS.SCENARIOS))
def test_fault_scenario(name: str) -> None:
    outcomes = OUTCOMES.setdefault(name, {})
    for peer in PEERS:
        if has(peer):
            outcomes[peer] = run_scenario(peer, name)
    ours = outcomes["loop_core"] = run_scenario("loop_core", name)
    assert ours["ok"], f"{name} failed on our loop:\n{ours['error']}"
    assert ours["fds_after"] == ours["fds_before"], f"{name} left descriptors open: {ours!r}"
    allowance = SCENARIOS.RSS_ALLOWANCE_MIB.get(name, 32) * 1024
    assert ours["rss_growth_kib"] <= allowance, f"{name} grew by {ours['rss_growth_kib']} KiB"
