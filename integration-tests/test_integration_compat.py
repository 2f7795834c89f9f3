"""The compatibility table in docs/compatibility.rst is true for this Python.

It must list every method of asyncio.AbstractEventLoop and every name of
asyncio.__all__; what it lists for this Python must exist in asyncio; and
what it calls implemented must exist in the package it names (loop methods
must be overridden, not inherited from AbstractEventLoop's stubs).
"""

from __future__ import annotations

import asyncio
import csv
import importlib
import sys
from pathlib import Path

import pytest

from loop_core import EventLoop
from loop_core.extensions import EXTENSION_PACKAGES, discover_extensions

TABLE = Path(__file__).resolve().parents[1] / "docs" / "compatibility.rst"
THIS_PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"


def _rows() -> list[dict[str, str]]:
    lines = TABLE.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("name,kind,"))
    body = [line.strip() for line in lines[start:] if line.strip()]
    return list(csv.DictReader(body))


ROWS = _rows()


def _listed(kind: str) -> dict[str, dict[str, str]]:
    return {row["name"]: row for row in ROWS if row["kind"] == kind}


def _for_this_python(row: dict[str, str]) -> bool:
    return row["Python"] == "all" or THIS_PYTHON in [v.strip() for v in row["Python"].split(",")]


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    target: object = importlib.import_module(parts[0])
    for part in parts[1:]:
        target = getattr(target, part)
    return target


def test_every_abstract_loop_method_is_listed() -> None:
    methods = {
        name
        for name, value in vars(asyncio.AbstractEventLoop).items()
        if callable(value) and not name.startswith("__")
    }
    listed = {n for n, row in _listed("loop method").items() if _for_this_python(row)}
    assert sorted(methods - listed) == [], "methods missing from docs/compatibility.rst"
    assert sorted(listed - methods) == [], "listed methods asyncio no longer has"


def test_every_asyncio_name_is_listed() -> None:
    listed = {n for n, row in _listed("asyncio name").items() if _for_this_python(row)}
    names = set(asyncio.__all__)
    assert sorted(names - listed) == [], "names missing from docs/compatibility.rst"
    assert sorted(listed - names) == [], "listed names asyncio does not have on this Python"


@pytest.mark.parametrize(
    "row", [r for r in ROWS if r["status"] == "implemented"], ids=lambda r: r["name"]
)
def test_implemented_rows_exist(row: dict[str, str]) -> None:
    provided = _resolve(row["provided by"])
    if row["kind"] == "loop method":
        inherited = getattr(asyncio.AbstractEventLoop, row["name"])
        assert getattr(EventLoop, row["name"]) is not inherited, "only AbstractEventLoop's stub"
    assert provided is not None


@pytest.mark.parametrize(
    "row", [r for r in ROWS if r["status"].startswith("asyncio")], ids=lambda r: r["name"]
)
def test_asyncio_rows_point_at_asyncio(row: dict[str, str]) -> None:
    if _for_this_python(row):
        assert _resolve(row["provided by"]) is getattr(asyncio, row["name"])


EXTENSION_ROWS = [r for r in ROWS if r["status"].startswith("implemented by the ")]


@pytest.mark.parametrize("row", EXTENSION_ROWS, ids=lambda r: r["name"])
def test_extension_rows_are_served_by_the_installed_package(row: dict[str, str]) -> None:
    package = row["status"].removeprefix("implemented by the ").split()[0]
    kind = next(k for k, p in EXTENSION_PACKAGES.items() if p == package)
    factory = discover_extensions().get(kind)
    assert factory is not None, f"{package} is not registered as the {kind} extension"
    loop = EventLoop()
    try:
        extension = factory(loop)
        assert callable(getattr(extension, row["name"]))
    finally:
        loop.close()
