"""loop_core.testing: the virtual clock and the pytest plugin."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

import loop_core as lc
from loop_core.testing.virtual_clock import (
    StalledLoopError,
    VirtualClockLoop,
    new_virtual_clock_loop,
)


def test_an_hour_of_sleep_passes_at_once(virtual_loop: VirtualClockLoop) -> None:
    async def main() -> float:
        await asyncio.sleep(3600)
        return virtual_loop.time()

    started = time.monotonic()
    assert virtual_loop.run_until_complete(main()) == 3600
    assert time.monotonic() - started < 5


def test_timers_fire_in_order_at_their_virtual_times(virtual_loop: VirtualClockLoop) -> None:
    fired: list[tuple[str, float]] = []

    def record(name: str) -> None:
        fired.append((name, virtual_loop.time()))

    for name, delay in (("c", 30.0), ("a", 10.0), ("b", 20.0)):
        virtual_loop.call_later(delay, record, name)
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


@pytest.mark.asyncio(loop_factories=["virtual"])
async def test_async_test_on_virtual_clock() -> None:
    loop = asyncio.get_running_loop()
    assert isinstance(loop, VirtualClockLoop)
    await asyncio.sleep(1000)
    assert loop.time() == 1000


@pytest.mark.asyncio
async def test_async_test_runs_on_our_loop_by_default() -> None:
    loop = asyncio.get_running_loop()
    assert type(loop) is lc.EventLoop
    assert asyncio.current_task() is not None


def test_stalled_loop_names_the_waiting_task(virtual_loop: VirtualClockLoop) -> None:
    async def waits_forever() -> None:
        await asyncio.Event().wait()

    started = time.monotonic()
    with pytest.raises(StalledLoopError, match="cannot make progress") as caught:
        virtual_loop.run_until_complete(waits_forever())
    assert time.monotonic() - started < 30  # one second of grace, not forever
    assert "waits_forever()" in str(caught.value)
    [task] = caught.value.tasks
    assert "waits_forever" in repr(task)
    # The loop is still usable: the task can be cancelled and awaited.
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        virtual_loop.run_until_complete(task)


def test_an_outside_wake_up_within_the_grace_is_not_a_stall() -> None:
    virtual_loop = VirtualClockLoop(stall_timeout=10)
    try:
        done = virtual_loop.create_future()
        threading.Timer(0.2, virtual_loop.call_soon_threadsafe, (done.set_result, 7)).start()
        assert virtual_loop.run_until_complete(done) == 7
        assert virtual_loop.time() == 0  # waiting for the outside did not move the clock
    finally:
        virtual_loop.close()


def test_stall_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="stall_timeout"):
        VirtualClockLoop(stall_timeout=0)


def test_clock_follows_real_time_while_a_descriptor_waits_to_be_written(
    virtual_loop: VirtualClockLoop,
) -> None:
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    with reader, writer:
        while True:  # fill the send buffer
            try:
                writer.send(b"x" * 65536)
            except BlockingIOError:
                break
        # A thread drains the peer after 0.2 s of real time; the write waits for it.
        drainer = threading.Timer(0.2, _drain, (reader,))
        drainer.start()

        async def main() -> float:
            await lc.wait_for(virtual_loop.sock_sendall(writer, b"y" * 1024), 30)
            return virtual_loop.time()

        try:
            elapsed = virtual_loop.run_until_complete(main())
        finally:
            writer.close()  # the drainer reads to the end
            drainer.join()
    assert 0.1 < elapsed < 30  # real time passed on the clock; the timeout did not fire


def _drain(sock: socket.socket) -> None:
    while sock.recv(1 << 20):
        pass


def run_with_plugin(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(
        "-p", "loop_core.testing.pytest_plugin",
        "-o", "asyncio_default_fixture_loop_scope=function",
        "-p", "no:looptime_plugin",  # where installed, it would patch the loops under test
        *args,
    )  # fmt: skip


def test_plugin_fails_a_test_that_leaks_a_descriptor(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import os

        LEAKED = []

        def test_leaks(loop):
            LEAKED.append(os.pipe())
        """
    )
    result = run_with_plugin(pytester)
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
    result = run_with_plugin(pytester)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*unexpected exception-handler calls*unnoticed*"])


USER_MODULE = """
    import asyncio
    import pytest
    import pytest_asyncio
    import loop_core

    @pytest_asyncio.fixture
    async def server_port():
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
        yield server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()

    @pytest.fixture
    def expected_loop(request):
        ours = "loop_core" in request.node.name
        return loop_core.EventLoop if ours else asyncio.SelectorEventLoop

    {marker}
    async def test_async_fixture_on_the_same_loop(server_port, expected_loop):
        assert type(asyncio.get_running_loop()) is expected_loop
        reader, writer = await asyncio.open_connection("127.0.0.1", server_port)
        assert await reader.read() == b""
        writer.close()
        await writer.wait_closed()
"""


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_user_module_runs_on_our_loop_and_stock_asyncio(
    pytester: pytest.Pytester, mode: str
) -> None:
    pytest.importorskip("loop_transports", reason="the module opens a server")
    pytester.makeini(
        f"[pytest]\nasyncio_mode = {mode}\nasyncio_default_fixture_loop_scope = function\n"
        "loop_core_loop_factories = loop_core asyncio\n"
    )
    marker = "@pytest.mark.asyncio" if mode == "strict" else ""
    pytester.makepyfile(USER_MODULE.format(marker=marker))
    result = run_with_plugin(pytester, "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*[[]loop_core[]] PASSED*", "*[[]asyncio[]] PASSED*"])


def test_auto_mode_honours_a_virtual_clock_choice(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_mode = auto\n")
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        from loop_core.testing.virtual_clock import VirtualClockLoop

        @pytest.mark.asyncio(loop_factories=["virtual"])
        async def test_an_hour():
            assert isinstance(asyncio.get_running_loop(), VirtualClockLoop)
            await asyncio.sleep(3600)
        """
    )
    result = run_with_plugin(pytester, "--durations=0")
    result.assert_outcomes(passed=1)


def test_a_deadlocked_async_test_fails_with_a_clear_message(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.mark.asyncio(loop_factories=["virtual"])
        async def test_deadlock():
            await asyncio.Event().wait()
        """
    )
    result = run_with_plugin(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*StalledLoopError: the virtual-clock loop cannot make progress*", "*test_deadlock()*"]
    )


def test_loop_checks_fixture_reports_what_an_async_test_left_behind(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\nusefixtures = loop_checks\n")
    pytester.makepyfile(
        """
        import asyncio
        import os
        import pytest

        LEAKED = []

        @pytest.mark.asyncio
        async def test_unretrieved():
            asyncio.get_running_loop().call_soon(lambda: 1 / 0)
            await asyncio.sleep(0)

        @pytest.mark.asyncio
        async def test_leak():
            LEAKED.append(os.pipe())

        @pytest.mark.asyncio
        async def test_clean():
            await asyncio.sleep(0)
        """
    )
    result = run_with_plugin(pytester)
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(["*unexpected exception-handler calls*ZeroDivisionError*"])
    result.stdout.fnmatch_lines(["*leaked file descriptors*pipe*"])


def test_loop_fixtures_refuse_async_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio
        async def test_confused(loop):
            pass
        """
    )
    result = run_with_plugin(pytester)
    result.stdout.fnmatch_lines(["*loop fixture is for synchronous tests*"])


def test_the_retired_marker_says_what_replaces_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.loop_core
        async def test_old():
            pass
        """
    )
    result = run_with_plugin(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*loop_core marker is gone*mark.asyncio(loop_factories*"])
