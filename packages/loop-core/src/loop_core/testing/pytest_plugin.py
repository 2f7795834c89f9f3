"""Opt-in pytest plugin: our loops for pytest-asyncio, loop fixtures, cheap checks.

Enable it with ``-p loop_core.testing.pytest_plugin`` (or list it in
``pytest_plugins``). Async tests and async fixtures are pytest-asyncio's
business (1.4 or newer, installed by ``loop-core[testing]``); this plugin
offers it our loops through its ``pytest_asyncio_loop_factories`` hook, so
its markers, modes and loop scopes work as usual:

``loop_core``
    A loop-core :class:`~loop_core.EventLoop`.
``virtual``
    A :class:`~loop_core.testing.virtual_clock.VirtualClockLoop`.
``asyncio``
    Stock asyncio's loop, to run the same test on both.

Every async test runs on the factories named by the ``loop_core_loop_factories``
setting (default: ``loop_core``); ``@pytest.mark.asyncio(loop_factories=["virtual"])``
picks others for one test. For synchronous tests that drive a loop themselves
there are fixtures:

``loop``
    A fresh loop-core loop, closed after the test.
``virtual_loop``
    A fresh :class:`~loop_core.testing.virtual_clock.VirtualClockLoop`.
``any_loop``
    A loop-core loop and a stock asyncio loop in turn.
``loop_checks``
    Fails the test when a loop made by this plugin called its exception
    handler (a callback raised, a future's exception was never retrieved, ...)
    or when the test left file descriptors open. Request it per test, with
    ``@pytest.mark.usefixtures("loop_checks")``, or for a whole suite with
    ``usefixtures = loop_checks`` in the pytest configuration. A test that
    expects handler calls installs its own handler with
    ``loop.set_exception_handler``.

The three loop fixtures always apply those checks to their loop.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import Any

import pytest

from loop_core._loop import EventLoop
from loop_core.testing.virtual_clock import VirtualClockLoop

__all__ = ["LOOP_KINDS", "LoopChecks", "checked_loop", "open_file_descriptors"]

LOOP_KINDS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "loop_core": EventLoop,
    "virtual": VirtualClockLoop,
    "asyncio": asyncio.SelectorEventLoop,
}

_FACTORIES_SETTING = "loop_core_loop_factories"


_FD_DIR = "/proc/self/fd"


def _descriptor_numbers() -> set[int]:
    try:
        return {int(entry) for entry in os.listdir(_FD_DIR)}
    except OSError:
        return set()  # not Linux: no descriptor checks


def _targets(descriptors: set[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for fd in descriptors:
        try:
            found[fd] = os.readlink(os.path.join(_FD_DIR, str(fd)))
        except OSError:
            continue  # the descriptor listdir itself used, already closed
    return found


def open_file_descriptors() -> dict[int, str]:
    """Return this process's open descriptors and what they point at (Linux only)."""
    return _targets(_descriptor_numbers())


class LoopChecks:
    """What one test must not do: call a loop's exception handler, leak descriptors."""

    def __init__(self) -> None:
        self.reported: list[dict[str, Any]] = []
        # Numbers only (one directory read): what they point at is looked up
        # for the new ones alone, when there are any.
        self._descriptors = _descriptor_numbers()

    def record(self, _loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """An exception handler that keeps what it is given."""
        self.reported.append(context)

    def _leaked(self) -> dict[int, str]:
        return _targets(_descriptor_numbers() - self._descriptors)

    def problems(self) -> list[str]:
        """Describe what went wrong since the checks started (an empty list: nothing)."""
        leaked = self._leaked()
        if leaked:
            # Only now, as it costs milliseconds: objects in reference cycles
            # close their descriptors (and report lost exceptions) when collected.
            gc.collect()
            leaked = self._leaked()
        found: list[str] = []
        if self.reported:
            messages = [f"{c.get('message')} ({c.get('exception')!r})" for c in self.reported]
            found.append("unexpected exception-handler calls: " + "; ".join(messages))
        if leaked:
            found.append(f"leaked file descriptors: {leaked}")
        return found


# The checks of the running test, if it asked for them (loop_checks).
_active_checks: LoopChecks | None = None
_CHECKS_KEY = pytest.StashKey[LoopChecks]()


def _report(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    if _active_checks is not None:
        _active_checks.record(loop, context)
    else:
        loop.default_exception_handler(context)


def _checked_factory(kind: str) -> Callable[[], asyncio.AbstractEventLoop]:
    make = LOOP_KINDS[kind]

    def make_loop() -> asyncio.AbstractEventLoop:
        event_loop = make()
        event_loop.set_exception_handler(_report)
        return event_loop

    make_loop.__name__ = make_loop.__qualname__ = f"new_{kind}_loop"
    return make_loop


def checked_loop(kind: str) -> Generator[asyncio.AbstractEventLoop, None, None]:
    """Yield a loop of *kind*; afterwards close it and fail on errors or leaks."""
    checks = LoopChecks()
    event_loop = LOOP_KINDS[kind]()
    event_loop.set_exception_handler(checks.record)
    try:
        yield event_loop
    finally:
        if not event_loop.is_closed():
            event_loop.run_until_complete(event_loop.shutdown_asyncgens())
            event_loop.close()
    problems = checks.problems()
    if problems:
        pytest.fail("\n".join(problems))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        _FACTORIES_SETTING,
        "the loops pytest-asyncio runs each async test on, of: " + ", ".join(LOOP_KINDS),
        type="args",
        default=["loop_core"],
    )


def pytest_configure(config: pytest.Config) -> None:
    unknown = [name for name in config.getini(_FACTORIES_SETTING) if name not in LOOP_KINDS]
    if unknown:
        raise pytest.UsageError(
            f"{_FACTORIES_SETTING}: unknown loop {unknown[0]!r}; the loops are "
            + ", ".join(LOOP_KINDS)
        )


@pytest.hookimpl(optionalhook=True)
def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Offer our loops to pytest-asyncio (see the module docs)."""
    marker = item.get_closest_marker("asyncio")
    if marker is not None and "loop_factories" in marker.kwargs:
        names: list[str] = list(LOOP_KINDS)  # the test picks among all of them
    else:
        names = config.getini(_FACTORIES_SETTING)
    return {name: _checked_factory(name) for name in names}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("loop_core") is not None:
            raise pytest.UsageError(
                f"{item.nodeid}: the loop_core marker is gone; async tests run through "
                "pytest-asyncio: @pytest.mark.asyncio(loop_factories=['virtual']) "
                "(or ['loop_core'])"
            )


def _refuse_async_test(request: pytest.FixtureRequest) -> None:
    test = getattr(request.node, "obj", None)
    if inspect.iscoroutinefunction(test):
        raise pytest.UsageError(
            f"{request.node.nodeid}: the {request.fixturename} fixture is for synchronous "
            "tests; an async test runs on the loop of its pytest-asyncio loop factory "
            "(asyncio.get_running_loop())"
        )


@pytest.fixture
def loop(request: pytest.FixtureRequest) -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh loop-core loop; fails the test on handler calls or leaked descriptors."""
    _refuse_async_test(request)
    yield from checked_loop("loop_core")


@pytest.fixture
def virtual_loop(request: pytest.FixtureRequest) -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh virtual-clock loop, with the same checks as :func:`loop`."""
    _refuse_async_test(request)
    yield from checked_loop("virtual")


@pytest.fixture(params=["loop_core", "asyncio"])
def any_loop(request: pytest.FixtureRequest) -> Iterator[asyncio.AbstractEventLoop]:
    """A loop-core loop and a stock asyncio loop in turn, with the same checks."""
    _refuse_async_test(request)
    yield from checked_loop(str(request.param))


@pytest.fixture
def loop_checks(request: pytest.FixtureRequest) -> None:
    """Fail the test on exception-handler calls of our loops or leaked descriptors.

    The verdict comes after the test's whole teardown, once pytest-asyncio
    has closed the loop.
    """
    global _active_checks
    checks = LoopChecks()
    request.node.stash[_CHECKS_KEY] = checks
    _active_checks = checks


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    global _active_checks
    checks = item.stash.get(_CHECKS_KEY, None)
    try:
        yield
    finally:
        if checks is not None:
            _active_checks = None
            del item.stash[_CHECKS_KEY]
    problems = checks.problems() if checks is not None else []
    if problems:
        pytest.fail("\n".join(problems))
