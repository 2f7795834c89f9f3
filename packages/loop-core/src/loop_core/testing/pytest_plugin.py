"""Opt-in pytest plugin: running loops for tests, with leak and error checks.

Enable it with ``-p loop_core.testing.pytest_plugin`` (or list it in
``pytest_plugins``). Fixtures:

``loop``
    A fresh loop-core :class:`~loop_core.EventLoop`, closed after the test.
``any_loop``
    The same test on a loop-core loop and on a stock asyncio loop.

Both fail the test when the loop's exception handler was called (a callback
raised, a future's exception was never retrieved, ...) or when the test left
file descriptors open. A test that expects handler calls installs its own
handler with ``loop.set_exception_handler``.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from loop_core.loop import EventLoop

__all__ = ["LOOP_KINDS", "any_loop", "loop", "make_loop", "open_file_descriptors"]

LOOP_KINDS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "loop_core": EventLoop,
    "asyncio": asyncio.SelectorEventLoop,
}


def make_loop(kind: str) -> asyncio.AbstractEventLoop:
    """Create a loop of *kind* (a key of :data:`LOOP_KINDS`)."""
    return LOOP_KINDS[kind]()


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


def _checked_loop(kind: str) -> Iterator[asyncio.AbstractEventLoop]:
    gc.collect()
    before = open_file_descriptors()
    event_loop = make_loop(kind)
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
        messages = [str(c.get("message")) + f" ({c.get('exception')!r})" for c in reported]
        problems.append("unexpected exception-handler calls: " + "; ".join(messages))
    if leaked:
        problems.append(f"leaked file descriptors: {leaked}")
    if problems:
        pytest.fail("\n".join(problems))


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh loop-core loop; fails the test on handler calls or leaked descriptors."""
    yield from _checked_loop("loop_core")


@pytest.fixture(params=sorted(LOOP_KINDS))
def any_loop(request: pytest.FixtureRequest) -> Iterator[asyncio.AbstractEventLoop]:
    """Each loop kind in turn, with the same checks as :func:`loop`."""
    yield from _checked_loop(str(request.param))
