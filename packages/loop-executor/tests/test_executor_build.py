"""The package as installed: build mode, version metadata, typing marker."""

from __future__ import annotations

from pathlib import Path

import loop_executor
from loop_core.testing.build_mode import check_build_mode, check_installed_distribution

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_modules_are_compiled_exactly_when_requested() -> None:
    print(f"loop-executor runs {check_build_mode(PYPROJECT)}")


def test_installed_with_metadata_and_typing_marker() -> None:
    check_installed_distribution("loop-executor", loop_executor)
