"""The typed programs of typed_programs/ run, on every loop build.

``nox -s types`` checks them with ``mypy --strict`` (their ``assert_type``
calls pin the public API's types); here they run, so what they state about
types is also what the code does.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

PROGRAMS = Path(__file__).resolve().parent / "typed_programs"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, PROGRAMS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_core_program_runs() -> None:
    seen = _load("typing_core").main()
    assert seen == ["typed", ["text", 7], [7, 7, 7], [7, 7], 7, 7, 7, 7, 7, 7, "slept", True, 7]


def test_network_program_runs() -> None:
    assert _load("typing_network").main() == [b"typed!", 0, 42]


def test_sync_and_streams_program_runs() -> None:
    assert _load("typing_sync").main() == [[0, 1], 6, b"ping\n", True, True]
