"""Which of a package's modules are mypyc-compiled, and a check of it.

The compiled test runs set ``LOOP_EXPECT_COMPILED=1``; :func:`check_build_mode`
then fails unless every module a package lists for mypyc was imported from an
extension module, so a "compiled" run can never silently test the interpreter.
With ``LOOP_EXPECT_COMPILED=0`` it checks the opposite.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import tomllib
from pathlib import Path
from types import ModuleType

__all__ = [
    "check_build_mode",
    "check_installed_distribution",
    "compiled_modules",
    "expected_mode",
    "listed_hot_modules",
]

_EXTENSION_SUFFIXES = (".so", ".pyd")


def listed_hot_modules(pyproject: Path) -> list[str]:
    """Return the dotted names listed under ``mypyc-modules`` in *pyproject*."""
    with pyproject.open("rb") as f:
        config = tomllib.load(f)
    paths = config["tool"]["hatch"]["build"]["hooks"]["custom"].get("mypyc-modules", [])
    return [str(p).removesuffix(".py").replace("/", ".") for p in paths]


def compiled_modules(names: list[str]) -> dict[str, bool]:
    """Import each of *names* and say whether it came from an extension module."""
    result: dict[str, bool] = {}
    for name in names:
        module = importlib.import_module(name)
        result[name] = str(getattr(module, "__file__", "")).endswith(_EXTENSION_SUFFIXES)
    return result


def expected_mode() -> str | None:
    """Return ``"compiled"``, ``"pure"`` or ``None`` (no expectation) from the environment."""
    value = os.environ.get("LOOP_EXPECT_COMPILED")
    if value is None or value == "":
        return None
    return "compiled" if value.strip().lower() in {"1", "true", "yes"} else "pure"


def check_build_mode(pyproject: Path) -> str:
    """Check the imported modules against ``LOOP_EXPECT_COMPILED``; return the mode seen.

    Raises :class:`AssertionError` when the run asked for compiled modules and
    got pure ones, or the reverse.
    """
    status = compiled_modules(listed_hot_modules(pyproject))
    if not status:
        return "pure"
    seen = "compiled" if all(status.values()) else "pure" if not any(status.values()) else "mixed"
    wanted = expected_mode()
    if wanted is not None and seen != wanted:
        detail = ", ".join(f"{name}={'compiled' if c else 'pure'}" for name, c in status.items())
        raise AssertionError(f"expected {wanted} modules, imported {seen}: {detail}")
    return seen


def check_installed_distribution(distribution: str, package: ModuleType) -> None:
    """Fail unless *package* comes with *distribution*'s metadata and its ``py.typed``."""
    installed = importlib.metadata.version(distribution)
    version = getattr(package, "__version__", None)
    if installed != version:
        raise AssertionError(
            f"{distribution} metadata says {installed}, {package.__name__} says {version}"
        )
    marker = Path(str(package.__file__)).parent / "py.typed"
    if not marker.is_file():
        raise AssertionError(f"{package.__name__} ships no py.typed marker")
