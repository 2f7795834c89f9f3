"""Opt-in pytest plugin: loops for tests, async tests, leak and error checks.

Enable it with ``-p loop_core.testing.pytest_plugin`` (or list it in
``pytest_plugins``). It gives:

``loop`` fixture
    A fresh loop-core :class:`~loop_core.EventLoop`, closed after the test.
``virtual_loop`` fixture
    A :class:`~loop_core.testing.virtual_clock.VirtualClockLoop`.
``any_loop`` fixture
    The same test on a loop-core loop and on a stock asyncio loop.
``@pytest.mark.loop_core`` / ``@pytest.mark.loop_core(clock="virtual")``
    Runs an ``async def`` test on a loop-core loop (real or virtual clock),
    as a task. With ``loop_core_auto = true`` in the pytest configuration
    every ``async def`` test is run that way.

Every loop the plugin makes fails its test when the loop's exception handler
was called (a callback raised, a future's exception was never retrieved, ...)
or when the test left file descriptors open. A test that expects handler
calls installs its own handler with ``loop.set_exception_handler``.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest

from loop_core.loop import EventLoop
from loop_core.testing.virtual_clock import VirtualClockLoop

__all__ = ["LOOP_KINDS", "checked_loop", "open_file_descriptors"]

LOOP_KINDS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "loop_core": EventLoop,
    "asyncio": asyncio.SelectorEventLoop,
    "virtual": VirtualClockLoop,
}


def open_file_descriptors() -> dict[int, str]:
    """Return this process's open descriptors and what they point at (Linux only)."""
    fd_dir = "/proc/self/fd"
    if not os.path.isdir(fd_dir):
        return {}
    found: dict[int, str] = {}
    for entry in os.listdir(fd_dir):
        try:
            found[int(entry)] = os.readlink(os.path.join(fd_dir, entry))
        except OSError:
            continue  # the descriptor listdir itself used, already closed
    return found


def checked_loop(kind: str) -> Generator[asyncio.AbstractEventLoop, None, None]:
    """Yield a loop of *kind*; afterwards close it and fail on errors or leaks."""
    gc.collect()
    before = open_file_descriptors()
    event_loop = LOOP_KINDS[kind]()
    reported: list[dict[str, Any]] = []
    event_loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        yield event_loop
    finally:
        if not event_loop.is_closed():
            event_loop.run_until_complete(event_loop.shutdown_asyncgens())
            event_loop.close()
        gc.collect()
    after = open_file_descriptors()
    leaked = {fd: target for fd, target in after.items() if before.get(fd) != target}
    problems: list[str] = []
    if reported:
        messages = [f"{c.get('message')} ({c.get('exception')!r})" for c in reported]
        problems.append("unexpected exception-handler calls: " + "; ".join(messages))
    if leaked:
        problems.append(f"leaked file descriptors: {leaked}")
    if problems:
        pytest.fail("\n".join(problems))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "loop_core_auto",
        "run every async def test on a loop-core loop",
        type="bool",
        default=False,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        'loop_core(clock="real"): run this async test on a loop-core loop '
        '(clock="virtual" for a virtual clock)',
    )


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh loop-core loop; fails the test on handler calls or leaked descriptors."""
    yield from checked_loop("loop_core")


@pytest.fixture
def virtual_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh virtual-clock loop, with the same checks as :func:`loop`."""
    yield from checked_loop("virtual")


@pytest.fixture(params=["loop_core", "asyncio"])
def any_loop(request: pytest.FixtureRequest) -> Iterator[asyncio.AbstractEventLoop]:
    """A loop-core loop and a stock asyncio loop in turn, with the same checks."""
    yield from checked_loop(str(request.param))


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    test = pyfuncitem.obj
    if not inspect.iscoroutinefunction(test):
        return None
    marker = pyfuncitem.get_closest_marker("loop_core")
    if marker is None and not pyfuncitem.config.getini("loop_core_auto"):
        return None
    clock = marker.kwargs.get("clock", "real") if marker is not None else "real"
    if clock not in ("real", "virtual"):
        raise pytest.UsageError(f'loop_core(clock=...) takes "real" or "virtual", not {clock!r}')
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    given = [v for v in arguments.values() if isinstance(v, EventLoop)]
    if given:
        given[0].run_until_complete(test(**arguments))
        return True
    checks = checked_loop("virtual" if clock == "virtual" else "loop_core")
    event_loop = next(checks)
    try:
        event_loop.run_until_complete(test(**arguments))
    except BaseException:
        checks.close()  # close the loop; the test's own failure is what counts
        raise
    # Running the generator to its end closes the loop and reports leaks.
    for _ in checks:
        pass
    return True
