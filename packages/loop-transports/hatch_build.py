"""Hatch build hook that compiles a package's hot modules with mypyc.

Off by default: the wheel is pure Python. With ``LOOP_MYPYC=1`` in the
environment, the modules listed under ``mypyc-modules`` in the package's
``[tool.hatch.build.hooks.custom]`` table are compiled in a temporary copy of
the source tree and the resulting extension modules are added to a platform
wheel. Editable installs and sdists are never compiled, and nothing is written
into ``src/``, so a stale extension can never shadow an edited ``.py`` file.

Every package carries a byte-identical copy of this file, because an sdist must
build on its own; ``nox -s lint`` fails when the copies drift apart.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SWITCH = "LOOP_MYPYC"
# Set by the noxfile: the source roots of every package in the monorepo.
SIBLING_PATH = "LOOP_MYPYC_PATH"
# Kept in step with the mypy pin of the development requirements: mypyc's
# output depends on its version, so the build must not float.
MYPY_REQUIREMENT = "mypy==2.4.1"
EXTENSION_SUFFIXES = (".so", ".pyd")


def compile_requested() -> bool:
    return os.environ.get(SWITCH, "").strip().lower() in {"1", "true", "yes", "on"}


class MypycBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def dependencies(self) -> list[str]:
        if self.target_name != "wheel" or not compile_requested():
            return []
        if not self.config.get("mypyc-modules"):
            return []
        required = [MYPY_REQUIREMENT, "setuptools>=69", "mypy_extensions>=1.0"]
        if not os.environ.get(SIBLING_PATH):
            # mypyc must see the real types of the sibling packages the
            # compiled modules import; without their sources, install them.
            siblings = [d for d in self.metadata.core.dependencies if d.startswith("loop-")]
            required.extend(siblings)
        return required

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        if not compile_requested():
            return
        modules: list[str] = list(self.config.get("mypyc-modules", []))
        if not modules:
            return
        self._output = Path(tempfile.mkdtemp(prefix="loop-mypyc-"))
        for built, relative in self._compile(modules):
            build_data["force_include"][str(built)] = relative
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        output = getattr(self, "_output", None)
        if output is not None:
            shutil.rmtree(output, ignore_errors=True)

    def _compile(self, modules: list[str]) -> list[tuple[Path, str]]:
        source_root = Path(self.root) / "src"
        work = self._output / "tree"
        shutil.copytree(source_root, work, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
        package = modules[0].split("/")[0]
        script = (
            "import sys\n"
            "from setuptools import setup\n"
            "from mypyc.build import mypycify\n"
            "setup(name='build', ext_modules=mypycify(sys.argv[1:], opt_level='3',"
            f" group_name={package!r}, strict_dunder_typing=True),"
            " script_args=['build_ext', '--inplace'])\n"
        )
        env = dict(os.environ)
        # Siblings' sources let mypyc see real types across packages; a lone
        # sdist gets them installed as build dependencies instead.
        extra_path = env.get(SIBLING_PATH, "")
        env["MYPYPATH"] = os.pathsep.join(p for p in (str(work), extra_path) if p)
        command = [sys.executable, "-c", script, *modules]
        subprocess.run(command, cwd=work, env=env, check=True)
        built: list[tuple[Path, str]] = []
        for path in sorted(work.rglob("*")):
            # setuptools leaves a second copy of everything under build/.
            if path.relative_to(work).parts[0] == "build":
                continue
            if path.suffix in EXTENSION_SUFFIXES and path.is_file():
                relative = path.relative_to(work).as_posix()
                built.append((path, relative))
        compiled = {relative.split(".")[0] for _, relative in built}
        missing = [m for m in modules if m.removesuffix(".py") not in compiled]
        if missing:
            raise RuntimeError(f"mypyc produced no extension for: {', '.join(missing)}")
        return built
