"""Shared fixtures: every scenario runs on loop-core, stock asyncio and uvloop.

``loop_factory`` is parametrized over the implementations; uvloop is skipped
with a message where it is not installed. The session checks once that
loop-core was imported in the mode the run asked for (``LOOP_EXPECT_COMPILED``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

import loop_core
from loop_core.testing.build_mode import check_build_mode

ROOT = Path(__file__).resolve().parents[1]

LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def _uvloop_factory() -> LoopFactory:
    uvloop = pytest.importorskip("uvloop", reason="uvloop is not installed")
    factory: LoopFactory = uvloop.new_event_loop
    return factory


@pytest.fixture(scope="session", autouse=True)
def loop_core_build_mode() -> str:
    """Fail the whole run when loop-core's modules are not in the requested mode."""
    return check_build_mode(ROOT / "packages" / "loop-core" / "pyproject.toml")


@pytest.fixture(params=["loop_core", "asyncio", "uvloop"])
def loop_factory(request: pytest.FixtureRequest) -> LoopFactory:
    """A factory of event loops of each implementation in turn."""
    if request.param == "loop_core":
        return loop_core.new_event_loop
    if request.param == "asyncio":
        return asyncio.SelectorEventLoop
    return _uvloop_factory()
