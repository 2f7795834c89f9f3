"""Run the install commands of docs/install.rst as written, each block in a new venv.

A console block preceded by the comment ``.. install-check: DIST ...`` is
checked: its ``$`` lines run in bash, in a new virtual environment whose
``pip`` comes first on ``PATH``, from a work folder that holds the
repository's ``packages`` (blocks share that folder, so a later block can use
the wheels an earlier one built). ``LOOP_GIT`` is the repository itself, as
``git+file://``. Afterwards exactly the named loop distributions must be
installed, and each must import.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^\.\. install-check:\s*(?P<dists>.+)$")


def checked_blocks(text: str) -> list[tuple[set[str], list[str]]]:
    """The (expected distributions, commands) of each marked block, in order."""
    blocks: list[tuple[set[str], list[str]]] = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        found = MARKER.match(line)
        if found is None:
            continue
        commands: list[str] = []
        for following in lines[number + 1 :]:
            if following.startswith(".. install-check:"):
                break
            stripped = following.strip()
            if stripped.startswith("$ "):
                commands.append(stripped[2:])
            elif commands and commands[-1].endswith("\\"):
                commands[-1] = commands[-1][:-1] + " " + stripped
            elif commands and not following.startswith("   "):
                break  # the block ended
        if not commands:
            raise SystemExit(f"install.rst:{number + 1}: a checked block without commands")
        blocks.append((set(found["dists"].split()), commands))
    return blocks


def check_block(work: Path, expected: set[str], commands: list[str]) -> None:
    environment = Path(tempfile.mkdtemp(prefix="install-check-"))
    venv.create(environment, with_pip=True)
    bin_dir = environment / "bin"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(environment),
        "LOOP_GIT": f"git+file://localhost{ROOT}",  # packaging wants a host here
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    for command in commands:
        print(f"$ {command}", flush=True)
        subprocess.run(["bash", "-euc", command], cwd=work, env=env, check=True)
    listed = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "list", "--format=json"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    installed = {p["name"] for p in json.loads(listed.stdout) if p["name"].startswith("loop-")}
    if installed != expected:
        raise SystemExit(f"installed {sorted(installed)}, the docs promise {sorted(expected)}")
    modules = [dist.replace("-", "_") for dist in sorted(expected)]
    subprocess.run(
        [str(bin_dir / "python"), "-c", f"import {', '.join(modules)}"], env=env, check=True
    )
    print(f"ok: {', '.join(sorted(expected))}", flush=True)


def main() -> None:
    blocks = checked_blocks((ROOT / "docs" / "install.rst").read_text())
    if not blocks:
        raise SystemExit("docs/install.rst has no checked install commands")
    with tempfile.TemporaryDirectory(prefix="install-docs-") as folder:
        work = Path(folder)
        (work / "packages").symlink_to(ROOT / "packages")
        for expected, commands in blocks:
            check_block(work, expected, commands)
    print(f"{len(blocks)} install commands of docs/install.rst work as written")


if __name__ == "__main__":
    main()
