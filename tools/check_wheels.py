"""Check built wheels: pure ones hold no binaries; compiled ones hold every listed module.

``python tools/check_wheels.py DIR --pure|--compiled`` looks at each wheel in
DIR. A compiled wheel must carry an extension module for every entry of its
package's ``mypyc-modules`` and must not be tagged ``py3-none-any``.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def listed_modules(distribution: str) -> list[str]:
    pyproject = ROOT / "packages" / distribution / "pyproject.toml"
    with pyproject.open("rb") as f:
        config = tomllib.load(f)
    modules: list[str] = config["tool"]["hatch"]["build"]["hooks"]["custom"]["mypyc-modules"]
    return [m.removesuffix(".py") for m in modules]


def check(wheel: Path, compiled: bool) -> list[str]:
    distribution = wheel.name.split("-")[0].replace("_", "-")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    binaries = {n.split(".")[0] for n in names if n.endswith((".so", ".pyd"))}
    problems: list[str] = []
    if not compiled:
        if binaries or not wheel.name.endswith("-py3-none-any.whl"):
            problems.append(f"{wheel.name}: a pure wheel must hold no extension modules")
        return problems
    wanted = listed_modules(distribution)
    missing = [m for m in wanted if m not in binaries]
    if missing:
        problems.append(f"{wheel.name}: no compiled module for {', '.join(missing)}")
    if wanted and wheel.name.endswith("-none-any.whl"):
        problems.append(f"{wheel.name}: compiled modules in a wheel tagged as pure")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--pure", action="store_true")
    mode.add_argument("--compiled", action="store_true")
    args = parser.parse_args()
    wheels = sorted(args.folder.glob("*.whl"))
    if not wheels:
        print(f"no wheels in {args.folder}", file=sys.stderr)
        return 1
    problems = [p for wheel in wheels for p in check(wheel, args.compiled)]
    for problem in problems:
        print(problem, file=sys.stderr)
    kind = "compiled" if args.compiled else "pure"
    print(f"checked {len(wheels)} {kind} wheels: {'FAILED' if problems else 'ok'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
