"""The package as installed: build mode, version metadata, typing marker."""

from __future__ import annotations

from pathlib import Path

import loop_core
from loop_core.testing.build_mode import (
    check_build_mode,
    check_installed_distribution,
    listed_hot_modules,
)

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_hot_modules_are_compiled_exactly_when_requested() -> None:
    mode = check_build_mode(PYPROJECT)
    print(f"loop-core runs {mode}")
    assert mode in {"pure", "compiled"}


def test_hot_module_list_is_not_empty() -> None:
    assert "loop_core._core" in listed_hot_modules(PYPROJECT)


def test_installed_with_metadata_and_typing_marker() -> None:
    check_installed_distribution("loop-core", loop_core)
