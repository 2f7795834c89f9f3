"""The libraries whose own test suites run on our loop (``nox -s ecosystem``).

Each is pinned: its sdist (which carries its tests) is downloaded from the
package index at run time, never committed, and installed with the test
requirements below. A test that passes on stock asyncio and not on our loop
fails the session unless it is listed in ``expected_differences`` with the
reason: a test of the loop's class, or a limit of the machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Suite:
    name: str
    version: str
    requirements: tuple[str, ...]
    # After the suite's own addopts (xdist workers: the suites are I/O-bound).
    pytest_args: tuple[str, ...] = ()
    expected_differences: dict[str, str] = field(default_factory=dict)


SUITES: dict[str, Suite] = {
    "anyio": Suite(
        name="anyio",
        version="4.16.0",
        requirements=(
            "blockbuster==1.5.29",
            "hypothesis==6.170.27",
            "psutil==7.2.2",
            "pytest==9.2.0",
            "pytest-mock==3.17.0",
            "pytest-timeout==2.4.0",
            "pytest-xdist==3.8.0",
            "trustme==1.2.1",
            "truststore==0.10.5",
            "uvloop==0.23.0",
        ),
        pytest_args=("-n", "2"),
    ),
    "httpx": Suite(
        name="httpx",
        version="0.29.0",
        requirements=(
            "httpx[brotli,cli,http2,socks,zstd]==0.29.0",
            "anyio==4.16.0",
            "chardet==7.7.0",
            "cryptography==50.0.2",
            "pytest==9.2.0",
            "trio==0.35.0",
            "trustme==1.2.1",
            "uvicorn==0.55.0",
        ),
    ),
    "uvicorn": Suite(
        name="uvicorn",
        version="0.54.0",
        requirements=(
            "uvicorn[standard]==0.54.0",
            "a2wsgi==1.10.10",
            "cryptography==50.0.2",
            "httpx2==2.16.2",
            "pytest==9.2.0",
            "pytest-mock==3.15.1",
            "pytest-xdist[psutil]==3.8.0",
            "trustme==1.2.1",
            "wsproto==1.3.2",
            "zttp==0.0.35",
        ),
        pytest_args=("--ignore=tests/benchmarks",),  # with its own -n 8
        expected_differences={
            "tests/test_compat.py::test_asyncio_run__default_loop_factory": (
                "asserts that asyncio.run() made the stdlib's own loop class; under our "
                "policy it is ours, as intended"
            ),
        },
    ),
}
