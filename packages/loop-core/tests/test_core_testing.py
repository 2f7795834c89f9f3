"""loop_core.testing: the virtual clock and the pytest plugin."""

from __future__ import annotations

import asyncio
import time

import pytest

import loop_core as lc
from loop_core.testing.virtual_clock import VirtualClockLoop, new_virtual_clock_loop


def test_an_hour_of_sleep_passes_at_once(virtual_loop: VirtualClockLoop) -> None:
    async def main() -> float:
        await asyncio.sleep(3600)
        return virtual_loop.time()

    started = time.monotonic()
    assert virtual_loop.run_until_complete(main()) == 3600
    assert time.monotonic() - started < 5


def test_timers_fire_in_order_at_their_virtual_times(virtual_loop: VirtualClockLoop) -> None:
    fired: list[tuple[str, float]] = []
    for name, delay in (("c", 30.0), ("a", 10.0), ("b", 20.0)):
        virtual_loop.call_later(delay, lambda n=name: fired.append((n, virtual_loop.time())))
    virtual_loop.call_later(40, virtual_loop.stop)
    virtual_loop.run_forever()
    assert fired == [("a", 10.0), ("b", 20.0), ("c", 30.0)]


def test_timeouts_are_deterministic(virtual_loop: VirtualClockLoop) -> None:
    async def main() -> float:
        with pytest.raises(TimeoutError):
            await lc.wait_for(asyncio.sleep(100), timeout=5)
        return virtual_loop.time()

    assert virtual_loop.run_until_complete(main()) == 5


def test_clock_stands_still_while_callbacks_run(virtual_loop: VirtualClockLoop) -> None:
    async def main() -> tuple[float, float]:
        before = virtual_loop.time()
        time.sleep(0.01)
        return before, virtual_loop.time()

    before, after = virtual_loop.run_until_complete(main())
    assert before == after


def test_advance_moves_the_clock(virtual_loop: VirtualClockLoop) -> None:
    fired: list[float] = []
    virtual_loop.call_later(10, lambda: fired.append(virtual_loop.time()))
    virtual_loop.advance(15)
    virtual_loop.call_soon(virtual_loop.stop)
    virtual_loop.run_forever()
    assert fired == [15]
    with pytest.raises(ValueError, match="cannot go back"):
        virtual_loop.advance(-1)


def test_virtual_loop_as_loop_factory() -> None:
    async def main() -> float:
        await asyncio.sleep(86400)
        return asyncio.get_running_loop().time()

    assert lc.run(main(), loop_factory=new_virtual_clock_loop) == 86400


@pytest.mark.loop_core(clock="virtual")
async def test_async_test_on_virtual_clock() -> None:
    loop = asyncio.get_running_loop()
    assert isinstance(loop, VirtualClockLoop)
    await asyncio.sleep(1000)
    assert loop.time() == 1000


@pytest.mark.loop_core
async def test_async_test_on_real_clock() -> None:
    loop = asyncio.get_running_loop()
    assert type(loop) is lc.EventLoop
    assert asyncio.current_task() is not None


@pytest.mark.loop_core
async def test_async_test_uses_requested_loop_fixture(loop: lc.EventLoop) -> None:
    assert asyncio.get_running_loop() is loop


def test_plugin_fails_a_test_that_leaks_a_descriptor(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import os

        LEAKED = []

        def test_leaks(loop):
            LEAKED.append(os.pipe())
        """
    )
    result = pytester.runpytest("-p", "loop_core.testing.pytest_plugin")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*leaked file descriptors*"])


def test_plugin_fails_a_test_with_an_unexpected_handler_call(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_callback_raises(loop):
            def broken():
                raise ValueError("unnoticed")
            loop.call_soon(broken)
            loop.call_soon(loop.stop)
            loop.run_forever()
        """
    )
    result = pytester.runpytest("-p", "loop_core.testing.pytest_plugin")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*unexpected exception-handler calls*unnoticed*"])


def test_plugin_auto_mode_runs_async_tests(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nloop_core_auto = true\n")
    pytester.makepyfile(
        """
        import asyncio
        import loop_core

        async def test_runs_on_our_loop():
            assert isinstance(asyncio.get_running_loop(), loop_core.EventLoop)
        """
    )
    result = pytester.runpytest("-p", "loop_core.testing.pytest_plugin")
    result.assert_outcomes(passed=1)
