"""The virtual clock never lies: scenarios where real work races a timeout.

Each scenario runs on our :class:`~loop_core.testing.virtual_clock.VirtualClockLoop`
and on looptime (the fake-time plugin for stock asyncio) side by side. A
virtual clock may skip idle time only; where real work (a thread, a child
process, a name lookup) is in flight, the outcome must be what a real clock
gives. looptime's known differences are strict xfails, so a looptime release
that fixes one shows up here.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from loop_core.testing.virtual_clock import StalledLoopError, VirtualClockLoop

Scenario = Callable[[], Coroutine[Any, Any, object]]


async def thread_beats_its_timeout() -> object:
    await asyncio.wait_for(asyncio.to_thread(time.sleep, 0.2), 5)
    return "done"


async def thread_loses_to_its_timeout() -> object:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(asyncio.to_thread(time.sleep, 0.5), 0.1)
    return "timed out"


async def child_beats_its_timeout() -> object:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import time; time.sleep(0.2)"
    )
    return await asyncio.wait_for(child.wait(), 5)


async def name_lookup_beats_its_timeout() -> object:
    loop = asyncio.get_running_loop()
    found = await asyncio.wait_for(loop.getaddrinfo("localhost", 80), 1)
    return bool(found)


async def executor_shutdown_waits_for_its_thread() -> object:
    loop = asyncio.get_running_loop()
    worker = loop.run_in_executor(None, time.sleep, 0.3)
    # A timeout is asyncio's on 3.12 and newer (asyncio.run passes 300 s).
    limit: dict[str, float] = {"timeout": 5} if sys.version_info >= (3, 12) else {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await loop.shutdown_default_executor(**limit)
    await worker
    return [str(w.message) for w in caught]


async def an_hour_of_sleep() -> object:
    await asyncio.sleep(3600)
    return asyncio.get_running_loop().time()


SCENARIOS: dict[str, tuple[Scenario, object]] = {
    "thread_beats_its_timeout": (thread_beats_its_timeout, "done"),
    "thread_loses_to_its_timeout": (thread_loses_to_its_timeout, "timed out"),
    "child_beats_its_timeout": (child_beats_its_timeout, 0),
    "name_lookup_beats_its_timeout": (name_lookup_beats_its_timeout, True),
    "executor_shutdown_waits_for_its_thread": (executor_shutdown_waits_for_its_thread, []),
    "an_hour_of_sleep": (an_hour_of_sleep, 3600),
}

LOOPTIME_DIFFERENCES = {
    "child_beats_its_timeout": "looptime jumps past a running child process: TimeoutError",
}


def _run_on_looptime(scenario: Scenario) -> object:
    looptime = pytest.importorskip("looptime", reason="looptime is not installed")
    loop = looptime.new_event_loop(start=0)  # time compaction on from the start
    try:
        return loop.run_until_complete(scenario())
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


def _run_on_ours(scenario: Scenario) -> object:
    loop = VirtualClockLoop()
    try:
        return loop.run_until_complete(scenario())
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


@pytest.mark.parametrize("name", list(SCENARIOS))
@pytest.mark.parametrize("clock", ["loop_core", "looptime"])
def test_real_work_is_never_overtaken(clock: str, name: str) -> None:
    scenario, expected = SCENARIOS[name]
    started = time.monotonic()
    if clock == "loop_core":
        outcome = _run_on_ours(scenario)
    else:
        try:
            outcome = _run_on_looptime(scenario)
        except Exception as exc:
            if name in LOOPTIME_DIFFERENCES:
                pytest.xfail(f"{LOOPTIME_DIFFERENCES[name]} ({exc!r})")
            raise
        if name in LOOPTIME_DIFFERENCES:
            pytest.fail(f"looptime no longer differs on {name}: update LOOPTIME_DIFFERENCES")
    assert outcome == expected
    assert time.monotonic() - started < 30


def _stop_from_outside(loop: asyncio.AbstractEventLoop, after: float) -> threading.Timer:
    watchdog = threading.Timer(after, loop.call_soon_threadsafe, (loop.stop,))
    watchdog.start()
    return watchdog


def test_a_deadlock_fails_within_seconds_on_ours() -> None:
    loop = VirtualClockLoop()
    try:
        started = time.monotonic()
        with pytest.raises(StalledLoopError, match="cannot make progress") as caught:
            loop.run_until_complete(asyncio.Event().wait())
        assert time.monotonic() - started < 10
        [waiting] = caught.value.tasks
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            loop.run_until_complete(waiting)
    finally:
        loop.close()


def test_a_deadlock_hangs_on_looptime() -> None:
    """looptime, as configured by default, waits for ever: stopped from outside here."""
    looptime = pytest.importorskip("looptime", reason="looptime is not installed")

    loop = looptime.new_event_loop(start=0)
    try:
        watchdog = _stop_from_outside(loop, 2.0)
        main = loop.create_task(asyncio.Event().wait())
        with pytest.raises(RuntimeError, match="Event loop stopped before Future completed"):
            loop.run_until_complete(main)
        watchdog.join()
        main.cancel()
        with pytest.raises(asyncio.CancelledError):
            loop.run_until_complete(main)
    finally:
        loop.close()
