"""The module-name rule and the API page, held to what the packages export.

A module whose name starts with an underscore is not API; every other module
of the five packages is documented in docs/api.rst. Each package's heading
there documents its top-level ``__all__`` with ``:undoc-members:``, so the page
lists exactly those names, and each of those names exists and is public.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

API_PAGE = Path(__file__).resolve().parents[1] / "docs" / "api.rst"
PACKAGES = ["loop_core", "loop_sync", "loop_executor", "loop_transports", "loop_ssl"]


def _documented() -> dict[str, set[str]]:
    """Each automodule of the API page and its options."""
    page = API_PAGE.read_text()
    found: dict[str, set[str]] = {}
    for match in re.finditer(r"^\.\. automodule:: (\S+)\n((?:   :[^\n]*\n)*)", page, re.M):
        found[match[1]] = set(re.findall(r":([\w-]+):", match[2]))
    return found


DOCUMENTED = _documented()


def _modules(package: str) -> list[str]:
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        names.append(info.name)
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_without_an_underscore_is_documented(package: str) -> None:
    public = [
        name
        for name in _modules(package)
        if not any(part.startswith("_") for part in name.split("."))
    ]
    undocumented = [name for name in public if name not in DOCUMENTED]
    assert undocumented == [], "modules that are API by name but missing from docs/api.rst"


@pytest.mark.parametrize("package", PACKAGES)
def test_the_api_page_lists_exactly_the_package_s_all(package: str) -> None:
    assert {"members", "undoc-members"} <= DOCUMENTED[package]
    assert "exclude-members" not in DOCUMENTED[package]
    module = importlib.import_module(package)
    exported = list(module.__all__)
    assert len(exported) == len(set(exported))
    for name in exported:
        assert name == "__version__" or not name.startswith("_"), name
        assert hasattr(module, name), f"{package}.__all__ names {name}, which is missing"


def test_documented_modules_exist() -> None:
    for name in DOCUMENTED:
        importlib.import_module(name)
