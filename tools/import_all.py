"""Import every module of a package; fail on the first that does not import.

Used by ``nox -s alone`` to prove a package works with only its declared
dependencies installed.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys


def import_all(package_name: str) -> list[str]:
    package = importlib.import_module(package_name)
    names = [package_name]
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
        if info.name.endswith("pytest_plugin"):
            continue  # needs pytest, which is a test requirement only
        importlib.import_module(info.name)
        names.append(info.name)
    return names


if __name__ == "__main__":
    imported = import_all(sys.argv[1])
    print(f"imported {len(imported)} modules of {sys.argv[1]}: {', '.join(imported)}")
