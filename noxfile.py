"""Every workflow of the loop monorepo.

Plain ``nox`` runs what CI needs: lint, types, tests (each package on every
Python, pure and compiled), integration, docs, build and alone. ``demo``,
``bench`` and ``faults`` (the fault scenarios alone, rewriting their table in
the docs) run on request. Siblings are always installed from wheels built
here from the checkout, never from a package index, and compiled wheels are
cached under ``.nox-wheels/`` by a hash of their sources.

Python 3.12 and 3.13 are looked up on PATH and under pyenv; a missing one is
reported and its sessions are skipped.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import nox

ROOT = Path(__file__).resolve().parent
PACKAGES_DIR = ROOT / "packages"
WHEELHOUSE = ROOT / ".nox-wheels"
REPORTS = ROOT / ".reports"
DIST = ROOT / "dist"

# Distribution -> import name, in dependency order.
PACKAGES: dict[str, str] = {
    "loop-core": "loop_core",
    "loop-sync": "loop_sync",
    "loop-executor": "loop_executor",
    "loop-transports": "loop_transports",
    "loop-ssl": "loop_ssl",
}
# Each package's siblings, transitively (what `alone` may install with it).
SIBLINGS: dict[str, list[str]] = {
    "loop-core": [],
    "loop-sync": ["loop-core"],
    "loop-executor": ["loop-core"],
    "loop-transports": ["loop-core", "loop-executor"],
    "loop-ssl": ["loop-core", "loop-executor", "loop-transports"],
}
# Where a compiled build finds the real types of the packages it imports.
SIBLING_SOURCES = os.pathsep.join(str(PACKAGES_DIR / d / "src") for d in PACKAGES)
PYTHONS = ["3.11", "3.12", "3.13"]
MODES = ["pure", "compiled"]
DEFAULT_PYTHON = "3.11"

TEST_REQUIREMENTS = ["pytest>=8.4,<10", "pytest-asyncio>=1.4,<2", "trustme>=1.1"]
TOOLS = ROOT / "requirements" / "tools.txt"

nox.options.sessions = [
    "lint",
    "types",
    "tests",
    "integration",
    "newer_conformance",
    "ecosystem",
    "docs",
    "build",
    "alone",
]
nox.options.error_on_missing_interpreters = False
nox.options.download_python = "never"
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"


def _find_interpreters() -> None:
    """Put pyenv-installed interpreters of PYTHONS on PATH; report missing ones."""
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    pyenv_executable = shutil.which("pyenv")
    if pyenv_executable:
        result = subprocess.run(
            [pyenv_executable, "root"], capture_output=True, text=True, check=False
        )
        if result.returncode == 0 and result.stdout.strip():
            pyenv_root = result.stdout.strip()
    missing = []
    for version in PYTHONS:
        candidates = sorted(Path(pyenv_root, "versions").glob(f"{version}.*/bin/python{version}"))
        if candidates:
            os.environ["PATH"] = f"{candidates[-1].parent}{os.pathsep}{os.environ['PATH']}"
        elif not _runs(f"python{version}"):
            missing.append(version)
    if missing:
        print(
            f"noxfile: Python {', '.join(missing)} not found on PATH or under "
            f"{pyenv_root}/versions; sessions for it are skipped.",
            file=sys.stderr,
        )


def _runs(command: str) -> bool:
    # pyenv shims exist for versions that are not selected and then fail.
    path = shutil.which(command)
    if path is None:
        return False
    result = subprocess.run([path, "-c", "pass"], capture_output=True, check=False)
    return result.returncode == 0


_find_interpreters()


def _source_digest(dist: str) -> str:
    digest = hashlib.sha256()
    for name in [dist, *SIBLINGS[dist]]:
        package_dir = PACKAGES_DIR / name
        files = [package_dir / "pyproject.toml", package_dir / "hatch_build.py"]
        files += sorted((package_dir / "src").rglob("*.py"))
        for path in files:
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _python_tag(session: nox.Session) -> str:
    tag = session.run(
        "python",
        "-c",
        "import sys; print(f'cp{sys.version_info[0]}{sys.version_info[1]}')",
        silent=True,
    )
    return str(tag).strip()


def build_wheels(session: nox.Session, mode: str) -> dict[str, Path]:
    """Build (or reuse) a wheel of every package for *mode*; return them by name."""
    compiled = mode == "compiled"
    house = WHEELHOUSE / (f"compiled-{_python_tag(session)}" if compiled else "pure")
    env = {
        "LOOP_MYPYC": "1" if compiled else "0",
        "LOOP_MYPYC_PATH": SIBLING_SOURCES,
    }
    wheels: dict[str, Path] = {}
    for dist in PACKAGES:
        target = house / f"{dist}-{_source_digest(dist)}"
        found = sorted(target.glob("*.whl"))
        if not found:
            # Built beside the cache and moved in whole: `dev.py test` runs
            # sessions side by side, and one may look while another builds.
            house.mkdir(parents=True, exist_ok=True)
            building = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=house))
            session.run(
                "python",
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "--quiet",
                "--wheel-dir",
                str(building),
                str(PACKAGES_DIR / dist),
                env=env,
            )
            _move_into_place(building, target)
            found = sorted(target.glob("*.whl"))
        wheels[dist] = found[-1]
    return wheels


def _move_into_place(built: Path, target: Path) -> None:
    """Rename the folder *built* to *target*, unless another session got there first."""
    try:
        built.rename(target)
    except OSError:
        if not any(target.glob("*")):
            raise
        shutil.rmtree(built, ignore_errors=True)


def install_wheels(session: nox.Session, wheels: list[Path], *extra: str) -> None:
    # --force-reinstall: a reused venv must not keep a wheel of the other mode.
    session.install("--force-reinstall", "--no-deps", *map(str, wheels))
    session.install("mypy_extensions>=1.0", *extra)


def run_pytest(
    session: nox.Session,
    target: Path,
    report: str,
    mode: str,
    *args: str,
    env: dict[str, str] | None = None,
) -> None:
    REPORTS.mkdir(exist_ok=True)
    session.run(
        "pytest",
        str(target),
        f"--junitxml={REPORTS / (report + '.xml')}",
        "-q",
        *args,
        *session.posargs,
        env={"LOOP_EXPECT_COMPILED": "1" if mode == "compiled" else "0", **(env or {})},
    )


@nox.session(python=PYTHONS)
@nox.parametrize("mode", MODES)
def tests(session: nox.Session, mode: str) -> None:
    """Each package's own tests, on this Python, pure or compiled."""
    wheels = build_wheels(session, mode)
    install_wheels(session, list(wheels.values()), *TEST_REQUIREMENTS)
    for dist in PACKAGES:
        run_pytest(
            session, PACKAGES_DIR / dist / "tests", f"tests-{session.python}-{mode}-{dist}", mode
        )
    # loop-core again with its own PyFuture and PyTask instead of asyncio's.
    run_pytest(
        session,
        PACKAGES_DIR / "loop-core" / "tests",
        f"tests-{session.python}-{mode}-loop-core-pyfutures",
        mode,
        env={"LOOP_CORE_PYTHON_FUTURES": "1"},
    )
    if session.python == DEFAULT_PYTHON and mode == "pure":
        # loop-core once more on each fallback poller (epoll is the default).
        for poller in ("poll", "select"):
            run_pytest(
                session,
                PACKAGES_DIR / "loop-core" / "tests",
                f"tests-{session.python}-{mode}-loop-core-{poller}",
                mode,
                env={"LOOP_CORE_POLLER": poller},
            )


@nox.session(python=DEFAULT_PYTHON)
@nox.parametrize("mode", MODES)
def integration(session: nox.Session, mode: str) -> None:
    """The shared suite, on our loop, stock asyncio and uvloop side by side."""
    wheels = build_wheels(session, mode)
    install_wheels(
        session,
        list(wheels.values()),
        *TEST_REQUIREMENTS,
        "uvloop>=0.19",
        "aiohttp>=3.9",
        "anyio>=4.4",
        # Compared in test_integration_virtual_clock.py: a new release is a deliberate update.
        "looptime==0.9",
    )
    run_pytest(session, ROOT / "integration-tests", f"integration-{mode}", mode)


ECOSYSTEM = ROOT / "integration-tests" / "ecosystem"
ECOSYSTEM_SOURCES = ROOT / ".ecosystem"


def _ecosystem_suites() -> dict[str, Any]:
    sys.path.insert(0, str(ECOSYSTEM))
    try:
        from libraries import SUITES  # noqa: PLC0415 - lives with the integration suite
    finally:
        sys.path.remove(str(ECOSYSTEM))
    return dict(SUITES)


def _sdist_tests(session: nox.Session, name: str, version: str) -> Path:
    """Download and unpack *name*'s sdist (it carries the tests), once per version."""
    unpacked = ECOSYSTEM_SOURCES / f"{name}-{version}"
    if not (unpacked / "tests").is_dir():
        ECOSYSTEM_SOURCES.mkdir(exist_ok=True)
        # Unpacked beside and moved in whole, as the wheels (see build_wheels).
        work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=ECOSYSTEM_SOURCES))
        session.run(
            "python", "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
            "--dest", str(work), f"{name}=={version}",
        )  # fmt: skip
        archive = next(work.glob(f"{name}-{version}.tar.gz"))
        with tarfile.open(archive) as tar:
            tar.extractall(work, filter="data")
        _move_into_place(work / unpacked.name, unpacked)
        shutil.rmtree(work, ignore_errors=True)
    return unpacked


def _uses_xdist(requirements: tuple[str, ...]) -> bool:
    return any(r.startswith("pytest-xdist") for r in requirements)


@nox.session(python=[DEFAULT_PYTHON, "3.13"])
@nox.parametrize("library", ["anyio", "httpx", "uvicorn"])
def ecosystem(session: nox.Session, library: str) -> None:
    """A library's own test suite on stock asyncio and on our loop, pure and compiled.

    Fails when a test that passes on stock asyncio fails on ours (twice: a
    test that passes when rerun is reported as flaky), apart from the suite's
    listed differences. ``-- --docs`` also writes the table the docs show.
    """
    suite = _ecosystem_suites()[library]
    source = _sdist_tests(session, suite.name, suite.version)
    session.install(str(source), *suite.requirements)
    python = str(session.python)
    results = REPORTS / f"ecosystem-{python}-{library}"
    results.mkdir(parents=True, exist_ok=True)
    plugin = {"PYTHONPATH": str(ECOSYSTEM)}

    def run_suite(loop: str, outcomes: Path, *tests: str) -> None:
        session.run(
            "python", "-m", "pytest", "-p", "loop_ecosystem_plugin", "-q", "-p", "no:cacheprovider",
            *suite.pytest_args, *tests,
            env={**plugin, "LOOP_ECOSYSTEM_LOOP": loop, "LOOP_ECOSYSTEM_OUTCOMES": str(outcomes)},
            success_codes=[0, 1],  # failures are compared below, not taken as they come
        )  # fmt: skip

    stock = results / "stock.json"
    for mode in MODES:
        install_wheels(session, list(build_wheels(session, mode).values()))
        with session.chdir(source):
            if mode == "pure":
                run_suite("asyncio", stock)
            ours = results / f"ours-{mode}.json"
            rerun = results / f"ours-{mode}-rerun.json"
            rerun.unlink(missing_ok=True)
            run_suite("loop_core", ours)
            compare = [str(ECOSYSTEM / "compare.py"), "regressions", library, str(stock), str(ours)]
            regressed = session.run("python", *compare, silent=True)
            output = regressed.splitlines() if isinstance(regressed, str) else []
            failed_here = [test for test in output if test.strip()]
            if failed_here:
                # One process for the rerun, where the suite runs under xdist.
                serial = ("-n", "0") if _uses_xdist(suite.requirements) else ()
                run_suite("loop_core", rerun, *serial, *failed_here)
    report = results / "report.rst"
    try:
        session.run(
            "python", str(ECOSYSTEM / "compare.py"), "report", library, python, str(report),
            str(stock), str(results / "ours-pure.json"), str(results / "ours-compiled.json"),
        )  # fmt: skip
    finally:
        if "--docs" in session.posargs and report.exists():
            target = ROOT / "docs" / "ecosystem" / f"{library}-{python}.inc"
            target.parent.mkdir(exist_ok=True)
            shutil.copyfile(report, target)


@nox.session(python=DEFAULT_PYTHON)
def faults(session: nox.Session) -> None:
    """The fault scenarios alone, compiled, writing the table docs/faults.rst shows."""
    wheels = build_wheels(session, "compiled")
    install_wheels(session, list(wheels.values()), *TEST_REQUIREMENTS, "uvloop>=0.19")
    run_pytest(
        session,
        ROOT / "integration-tests" / "test_integration_faults.py",
        "faults-compiled",
        "compiled",
        env={"LOOP_FAULTS_REPORT": str(ROOT / "docs" / "faults-report.inc")},
    )


@nox.session(python=[v for v in PYTHONS if v != DEFAULT_PYTHON])
@nox.parametrize("mode", MODES)
def newer_conformance(session: nox.Session, mode: str) -> None:
    """CPython's asyncio suites of a newer Python (3.12, 3.13) on our packages.

    The integration session runs them on the default Python with the rest
    of the shared suite; the newer suites test newer asyncio behaviour
    (eager tasks, queue shutdown, server client control) that we provide on
    every Python.
    """
    wheels = build_wheels(session, mode)
    install_wheels(session, list(wheels.values()), *TEST_REQUIREMENTS)
    run_pytest(
        session,
        ROOT / "integration-tests" / "test_integration_conformance.py",
        f"conformance-{session.python}-{mode}",
        mode,
    )


@nox.session(python=DEFAULT_PYTHON)
def types(session: nox.Session) -> None:
    """mypy --strict over every package, its tests, and the repository's scripts."""
    session.install("-r", str(TOOLS))
    session.install(*TEST_REQUIREMENTS, "uvloop>=0.19", "anyio>=4.4", "nox", "hatchling>=1.25")
    for dist in PACKAGES:
        session.install("--no-deps", "-e", str(PACKAGES_DIR / dist), env={"LOOP_MYPYC": "0"})
    targets = [str(PACKAGES_DIR / dist / sub) for dist in PACKAGES for sub in ("src", "tests")]
    targets += [
        str(PACKAGES_DIR / "loop-core" / "hatch_build.py"),
        "integration-tests",
        "benchmarks",
        "demo",
        "tools",
        "noxfile.py",
        "dev.py",
    ]
    # typeshed differs between Pythons (and mypyc checks with the one it builds
    # for), so check against each supported version.
    for version in PYTHONS:
        session.run("mypy", "--python-version", version, *targets, *session.posargs)


@nox.session(python=DEFAULT_PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check, and the build-hook copies in step."""
    session.install("-r", str(TOOLS))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    reference = (PACKAGES_DIR / "loop-core" / "hatch_build.py").read_bytes()
    drifted = [
        d for d in PACKAGES if (PACKAGES_DIR / d / "hatch_build.py").read_bytes() != reference
    ]
    if drifted:
        session.error(f"hatch_build.py differs from loop-core's copy in: {', '.join(drifted)}")


@nox.session(python=DEFAULT_PYTHON)
def docs(session: nox.Session) -> None:
    """Build the Sphinx site with warnings as errors and execute every example."""
    wheels = build_wheels(session, "pure")
    install_wheels(session, list(wheels.values()), "-r", str(ROOT / "docs" / "requirements.txt"))
    out = ROOT / ".docs-build"
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", str(out / "html"))
    session.run("sphinx-build", "-W", "--keep-going", "-b", "doctest", "docs", str(out / "doctest"))


@nox.session(python=DEFAULT_PYTHON)
def build(session: nox.Session) -> None:
    """sdist and wheel of every package, checked with twine; then compiled wheels."""
    session.install("build>=1.2", "twine>=5")
    shutil.rmtree(DIST, ignore_errors=True)
    pure, compiled = DIST / "pure", DIST / "compiled"
    for dist in PACKAGES:
        # The wheel is built from the sdist, which proves the sdist is complete.
        session.run(
            "python",
            "-m",
            "build",
            "--outdir",
            str(pure),
            str(PACKAGES_DIR / dist),
            env={"LOOP_MYPYC": "0"},
        )
        session.run(
            "python",
            "-m",
            "build",
            "--outdir",
            str(compiled),
            str(PACKAGES_DIR / dist),
            env={"LOOP_MYPYC": "1", "LOOP_MYPYC_PATH": SIBLING_SOURCES},
        )
    for folder, expect_binary in ((pure, False), (compiled, True)):
        artifacts = sorted(str(p) for p in folder.iterdir() if p.suffix in {".whl", ".gz"})
        session.run("twine", "check", "--strict", *artifacts)
        session.run(
            "python",
            str(ROOT / "tools" / "check_wheels.py"),
            str(folder),
            "--compiled" if expect_binary else "--pure",
        )


@nox.session(python=DEFAULT_PYTHON, reuse_venv=False)
@nox.parametrize("package", [*PACKAGES, "install-docs"])
def alone(session: nox.Session, package: str) -> None:
    """One package in an empty venv with only its declared dependencies; its tests.

    ``install-docs`` runs the install commands of docs/install.rst as written.
    """
    if package == "install-docs":
        session.run("python", str(ROOT / "tools" / "check_install_docs.py"))
        return
    wheels = build_wheels(session, "pure")
    chosen = [wheels[d] for d in [*SIBLINGS[package], package]]
    session.install(*map(str, chosen), *TEST_REQUIREMENTS)
    session.run("python", str(ROOT / "tools" / "import_all.py"), PACKAGES[package])
    run_pytest(session, PACKAGES_DIR / package / "tests", f"alone-{package}", "pure")


@nox.session(python=DEFAULT_PYTHON)
def demo(session: nox.Session) -> None:
    """The echo server of the asyncio documentation, served on our loop."""
    wheels = build_wheels(session, "pure")
    install_wheels(session, list(wheels.values()))
    session.run("python", str(ROOT / "demo" / "echo.py"), *session.posargs)


@nox.session(python=DEFAULT_PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks: our loop compiled and pure against asyncio, uvloop and rloop, in one run."""
    _run_benchmark(session, "run.py")


@nox.session(python=DEFAULT_PYTHON)
def bench_network(session: nox.Session) -> None:
    """Server CPU per request under a C load generator: ours compiled and pure, uvloop, rloop,
    asyncio (needs gcc)."""
    _run_benchmark(session, "net_cpu.py")


def _run_benchmark(session: nox.Session, script: str) -> None:
    """Run benchmarks/*script* on our compiled wheels beside uvloop and rloop; the pure
    build comes from the sources, put first on the path by the script."""
    wheels = build_wheels(session, "compiled")
    install_wheels(session, list(wheels.values()), "uvloop>=0.19", "rloop>=0.1", "trustme>=1.1")
    session.run(
        "python",
        str(ROOT / "benchmarks" / script),
        "--pure-path",
        os.pathsep.join(str(PACKAGES_DIR / d / "src") for d in PACKAGES),
        *session.posargs,
    )


@nox.session(python=DEFAULT_PYTHON)
def conformance(session: nox.Session) -> None:
    """Regenerate integration-tests/conformance/REPORT.md (CPython's asyncio suites on ours)."""
    wheels = build_wheels(session, "pure")
    install_wheels(session, list(wheels.values()), *TEST_REQUIREMENTS)
    report = ROOT / "integration-tests" / "conformance" / "REPORT.md"
    session.run(
        "python",
        str(ROOT / "integration-tests" / "conformance" / "run_all.py"),
        "--report",
        str(report),
        *session.posargs,
    )


@nox.session(python=False)
def compat(session: nox.Session) -> None:
    """Regenerate docs/compatibility.rst from asyncio on every supported Python."""
    session.run(sys.executable, str(ROOT / "tools" / "compat_table.py"))
