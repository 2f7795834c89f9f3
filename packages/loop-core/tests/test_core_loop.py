"""EventLoop: lifecycle, scheduling order, timers, threads, I/O callbacks, errors."""

from __future__ import annotations

import asyncio
import contextvars
import errno
import gc
import importlib.metadata
import inspect
import math
import os
import select
import signal
import socket
import ssl
import struct
import threading
import time
import warnings
import weakref
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest

from loop_core import EventLoop, Handle, MissingExtensionError, available_pollers, extensions
from loop_core._core import LoopCore
from loop_core.extensions import discover_extensions
from loop_core.testing.leaks import freed_without_collector


@pytest.fixture(params=available_pollers())
def polled_loop(request: pytest.FixtureRequest) -> Iterator[EventLoop]:
    """A loop on each poller this machine offers."""
    event_loop = EventLoop(poller=str(request.param))
    yield event_loop
    event_loop.close()


def test_is_an_asyncio_event_loop(loop: EventLoop) -> None:
    assert isinstance(loop, asyncio.AbstractEventLoop)


def test_call_soon_runs_in_fifo_order(loop: EventLoop) -> None:
    order: list[int] = []
    for i in range(10):
        loop.call_soon(order.append, i)
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert order == list(range(10))


def test_callbacks_scheduled_while_running_wait_for_next_iteration(loop: EventLoop) -> None:
    order: list[str] = []

    def first() -> None:
        order.append("first")
        loop.call_soon(order.append, "scheduled by first")

    loop.call_soon(first)
    loop.call_soon(order.append, "second")
    loop.call_soon(loop.stop)
    loop.run_forever()
    # stop() lets the current iteration finish; the new callback is left over.
    assert order == ["first", "second"]
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert order == ["first", "second", "scheduled by first"]


def test_stop_before_run_forever_runs_one_iteration(loop: EventLoop) -> None:
    ran: list[bool] = []
    loop.call_soon(ran.append, True)
    loop.stop()
    loop.run_forever()
    assert ran == [True]


def test_one_iteration_runs_earlier_callbacks_then_io_then_due_timers(
    polled_loop: EventLoop,
) -> None:
    # asyncio's order within an iteration; what they schedule waits.
    loop = polled_loop
    order: list[str] = []
    left, right = socket.socketpair()
    with left, right:
        left.send(b"x")
        loop.add_reader(right.fileno(), lambda: order.append("io"))
        loop.call_later(0, order.append, "timer")
        time.sleep(0.01)  # the timer is due and the byte is there

        def earlier() -> None:
            order.append("earlier")
            loop.call_soon(order.append, "scheduled")

        loop.call_soon(earlier)
        loop.stop()
        loop.run_forever()
        assert order == ["earlier", "io", "timer"]
        loop.remove_reader(right.fileno())
        loop.stop()
        loop.run_forever()
        assert order == ["earlier", "io", "timer", "scheduled"]


def test_timers_fire_in_time_order(polled_loop: EventLoop) -> None:
    loop = polled_loop
    order: list[float] = []
    for delay in (0.03, 0.01, 0.02):
        loop.call_later(delay, order.append, delay)
    loop.call_later(0.05, loop.stop)
    started = loop.time()
    loop.run_forever()
    assert order == [0.01, 0.02, 0.03]
    assert loop.time() - started >= 0.05


def test_call_at_uses_the_loop_clock(loop: EventLoop) -> None:
    fired: list[float] = []
    when = loop.time() + 0.02
    loop.call_at(when, lambda: fired.append(loop.time()))
    loop.call_at(when + 0.01, loop.stop)
    loop.run_forever()
    assert fired
    assert fired[0] >= when


def test_cancelled_timers_never_fire_and_heap_is_compacted(loop: EventLoop) -> None:
    fired: list[int] = []
    timers = [loop.call_later(0.001, fired.append, i) for i in range(1000)]
    for timer in timers[:900]:
        timer.cancel()
    loop.call_later(0.02, loop.stop)
    loop.run_forever()
    assert fired == list(range(900, 1000)) or sorted(fired) == list(range(900, 1000))
    assert len(loop._scheduled_timers()) == 0


def test_many_cancellations_trigger_compaction(loop: EventLoop) -> None:
    timers = [loop.call_later(3600, print) for _ in range(1000)]
    for timer in timers[:800]:
        timer.cancel()
    loop.call_soon(loop.stop)
    loop.run_forever()
    # 80% cancelled: the heap is rebuilt with only the live timers.
    assert len(loop._scheduled_timers()) == 200
    for timer in timers[800:]:
        timer.cancel()


@pytest.mark.parametrize("far", [1e300, math.inf])
def test_a_far_deadline_does_not_stop_the_loop(polled_loop: EventLoop, far: float) -> None:
    # anyio uses huge deadlines for "no timeout": the poll must wait a capped
    # time instead of raising OverflowError (time_t) out of the iteration.
    loop = polled_loop
    loop.call_at(far, print)

    def worker() -> None:
        time.sleep(0.05)
        loop.call_soon_threadsafe(loop.stop)

    thread = threading.Thread(target=worker)
    thread.start()
    loop.run_forever()  # polls with only the far timer pending
    thread.join()
    assert not loop.is_closed()


def test_call_soon_threadsafe_wakes_a_sleeping_loop(polled_loop: EventLoop) -> None:
    loop = polled_loop
    received: list[str] = []

    def worker() -> None:
        time.sleep(0.05)
        loop.call_soon_threadsafe(received.append, "from thread")
        loop.call_soon_threadsafe(loop.stop)

    thread = threading.Thread(target=worker)
    # Without the wake-up the loop would sleep until this far-away timer.
    guard = loop.call_later(30, loop.stop)
    thread.start()
    started = time.monotonic()
    loop.run_forever()
    thread.join()
    guard.cancel()
    assert received == ["from thread"]
    assert time.monotonic() - started < 10


def test_reader_and_writer_callbacks(polled_loop: EventLoop) -> None:
    loop = polled_loop
    left, right = socket.socketpair()
    left.setblocking(False)
    right.setblocking(False)
    got: list[bytes] = []
    try:

        def on_readable() -> None:
            got.append(right.recv(100))
            loop.remove_reader(right)
            loop.stop()

        def on_writable() -> None:
            left.send(b"ping")
            assert loop.remove_writer(left.fileno())

        loop.add_reader(right, on_readable)
        loop.add_writer(left, on_writable)
        loop.run_forever()
        assert got == [b"ping"]
        assert not loop.remove_reader(right)
        assert not loop.remove_writer(left)
    finally:
        left.close()
        right.close()


def test_add_reader_replaces_previous_callback(loop: EventLoop) -> None:
    left, right = socket.socketpair()
    calls: list[str] = []
    try:
        loop.add_reader(right, calls.append, "old")

        def new_callback() -> None:
            calls.append("new")
            loop.stop()

        loop.add_reader(right, new_callback)
        left.send(b"x")
        loop.run_forever()
        assert calls == ["new"]
    finally:
        loop.remove_reader(right)
        left.close()
        right.close()


def _connected_pair() -> tuple[socket.socket, socket.socket]:
    """Both ends of a TCP connection on 127.0.0.1: the accepted one, then the dialling one."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        dialling = socket.create_connection(listener.getsockname())
        accepted, _ = listener.accept()
    accepted.setblocking(False)
    return accepted, dialling


def _reset(sock: socket.socket, peer: socket.socket) -> None:
    """Close *sock* with a RST and wait until *peer* has it pending."""
    # SO_LINGER with a zero timeout turns close() into a RST.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    # Loopback delivers it at once, unless the kernel defers it to a thread.
    poller = select.poll()
    poller.register(peer, select.POLLERR)
    for _ in range(500):
        if poller.poll(10):
            return
    raise AssertionError("the reset never arrived")


def _run_until_called(loop: EventLoop, calls: list[str], deadline: float = 5.0) -> None:
    """Run *loop* until a callback was recorded in *calls* (or *deadline* passed)."""

    def check() -> None:
        if calls or loop.time() > end:
            loop.stop()
        else:
            loop.call_later(0.001, check)

    end = loop.time() + deadline
    loop.call_soon(check)
    loop.run_forever()


def _record_readiness(loop: EventLoop, sock: socket.socket, calls: list[str]) -> None:
    """Watch *sock* with errors told apart, recording "readable" or "error" in *calls*."""
    loop.add_reader_with_errors(
        sock, lambda: calls.append("readable"), lambda: calls.append("error")
    )


@pytest.mark.parametrize("poller", available_pollers())
@pytest.mark.parametrize("queued", [b"", b"before the reset"])
def test_a_reset_reaches_the_error_callback_where_the_poller_tells_errors(
    poller: str, queued: bytes
) -> None:
    loop = EventLoop(poller=poller)
    accepted, dialling = _connected_pair()
    calls: list[str] = []
    try:
        if queued:
            dialling.sendall(queued)
        _reset(dialling, accepted)
        _record_readiness(loop, accepted, calls)
        _run_until_called(loop, calls)
        loop.remove_reader(accepted)
        if poller == "epoll":
            assert calls[0] == "error"
            # The loop reads nothing itself: the data and the error wait.
            if queued:
                assert accepted.recv(100) == queued
            assert accepted.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == errno.ECONNRESET
        else:
            assert calls[0] == "readable"
            if queued:
                assert accepted.recv(100) == queued
            with pytest.raises(ConnectionResetError):
                accepted.recv(100)
    finally:
        accepted.close()
        loop.close()


def test_remove_reader_drops_the_error_callback_too(loop: EventLoop) -> None:
    accepted, dialling = _connected_pair()
    calls: list[str] = []
    try:
        _record_readiness(loop, accepted, calls)
        assert loop.remove_reader(accepted)
        assert not loop.remove_reader(accepted)
        _reset(dialling, accepted)
        # The error stays pending in the socket, so a watcher would hear of
        # it on the first poll; a second watch afterwards does.
        loop.call_soon(loop.call_soon, loop.stop)
        loop.run_forever()
        assert calls == []
        loop.add_reader(accepted, lambda: calls.append("plain reader"))
        _run_until_called(loop, calls)
        assert set(calls) == {"plain reader"}
    finally:
        loop.remove_reader(accepted)
        accepted.close()


def test_add_reader_replaces_an_error_callback(loop: EventLoop) -> None:
    accepted, dialling = _connected_pair()
    calls: list[str] = []
    try:
        _record_readiness(loop, accepted, calls)
        loop.add_reader(accepted, lambda: calls.append("new reader"))
        _reset(dialling, accepted)
        _run_until_called(loop, calls)
        assert calls[0] == "new reader"
        assert "error" not in calls
    finally:
        loop.remove_reader(accepted)
        accepted.close()


def test_add_reader_with_errors_refuses_bad_input(loop: EventLoop) -> None:
    left, right = socket.socketpair()
    try:
        with pytest.raises(TypeError):
            loop.add_reader_with_errors(left, print, "not callable")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="Invalid file"):
            loop.add_reader_with_errors(-1, print, print)
        assert not loop.remove_reader(left)  # nothing was left half-registered
        loop.close()
        with pytest.raises(RuntimeError, match="closed"):
            loop.add_reader_with_errors(left, print, print)
    finally:
        left.close()
        right.close()


def test_invalid_file_objects_are_rejected(loop: EventLoop) -> None:
    with pytest.raises(ValueError, match="Invalid file"):
        loop.add_reader(-1, print)
    with pytest.raises(ValueError, match="Invalid file object"):
        loop.add_writer(object(), print)


def test_a_closed_socket_object_still_unwatches(any_loop: asyncio.AbstractEventLoop) -> None:
    # Watched by the socket object, closed, then unwatched by the same object
    # (its fileno() is -1 by then): asyncio finds it by the object (anyio
    # relies on it when a socket is closed during a receive).
    for add, remove in (
        (any_loop.add_reader, any_loop.remove_reader),
        (any_loop.add_writer, any_loop.remove_writer),
    ):
        first, second = socket.socketpair()
        add(first, print)
        first.close()
        assert remove(first) is True
        with pytest.raises(ValueError, match="Invalid file"):
            remove(first)  # forgotten now, as by asyncio
        second.close()
    any_loop.run_until_complete(asyncio.sleep(0.01))  # the loop goes on
    with pytest.raises(ValueError, match="Invalid file"):
        any_loop.remove_reader(-1)


def test_run_until_complete_returns_result(loop: EventLoop) -> None:
    async def compute() -> int:
        await asyncio.sleep(0.001)
        return 42

    assert loop.run_until_complete(compute()) == 42


def test_run_until_complete_raises_the_exception(loop: EventLoop) -> None:
    async def fail() -> None:
        raise ValueError("bad")

    with pytest.raises(ValueError, match="bad"):
        loop.run_until_complete(fail())


def test_run_until_complete_on_running_loop_is_an_error(loop: EventLoop) -> None:
    async def nested() -> None:
        coro = asyncio.sleep(0)
        try:
            with pytest.raises(RuntimeError, match="already running"):
                loop.run_until_complete(coro)
        finally:
            coro.close()

    loop.run_until_complete(nested())


def test_run_until_complete_stopped_early(loop: EventLoop) -> None:
    future = loop.create_future()
    loop.call_soon(loop.stop)
    with pytest.raises(RuntimeError, match="stopped before Future completed"):
        loop.run_until_complete(future)
    future.cancel()


def test_closed_loop_refuses_work() -> None:
    loop = EventLoop()
    loop.close()
    loop.close()  # a second close is harmless
    assert loop.is_closed()
    with pytest.raises(RuntimeError, match="closed"):
        loop.call_soon(print)
    with pytest.raises(RuntimeError, match="closed"):
        loop.call_later(1, print)
    with pytest.raises(RuntimeError, match="closed"):
        loop.run_forever()
    coro = asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="closed"):
        loop.run_until_complete(coro)
    coro.close()


def test_close_while_running_is_an_error(loop: EventLoop) -> None:
    errors: list[BaseException] = []

    def try_close() -> None:
        try:
            loop.close()
        except RuntimeError as exc:
            errors.append(exc)
        loop.stop()

    loop.call_soon(try_close)
    loop.run_forever()
    assert len(errors) == 1


def test_unclosed_loop_warns_resource_warning() -> None:
    loop = EventLoop()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del loop
        gc.collect()
    assert any(issubclass(w.category, ResourceWarning) for w in caught)


def test_running_loop_is_visible_to_asyncio(loop: EventLoop) -> None:
    async def which() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    assert loop.run_until_complete(which()) is loop
    assert asyncio._get_running_loop() is None


def test_exception_handler_contract(loop: EventLoop) -> None:
    seen: list[dict[str, Any]] = []

    def handler(the_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        assert the_loop is loop
        seen.append(context)

    loop.set_exception_handler(handler)
    assert loop.get_exception_handler() is handler
    loop.call_exception_handler({"message": "hello"})
    assert seen == [{"message": "hello"}]
    loop.set_exception_handler(None)
    assert loop.get_exception_handler() is None
    with pytest.raises(TypeError):
        loop.set_exception_handler(42)  # type: ignore[arg-type]


def test_failing_exception_handler_is_logged(
    loop: EventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(the_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        raise RuntimeError("handler broke")

    loop.set_exception_handler(broken)
    loop.call_exception_handler({"message": "original"})
    assert "Unhandled error in exception handler" in caplog.text


def test_default_exception_handler_logs_context(
    loop: EventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    try:
        raise KeyError("missing")
    except KeyError as exc:
        loop.default_exception_handler({"message": "it broke", "exception": exc, "extra": 5})
    assert "it broke" in caplog.text
    assert "extra: 5" in caplog.text
    assert "KeyError" in caplog.text


def test_slow_callbacks_are_logged_in_debug_mode(
    loop: EventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    loop.set_debug(True)
    loop.slow_callback_duration = 0.01
    loop.call_soon(time.sleep, 0.03)
    loop.call_soon(loop.stop)
    with caplog.at_level("WARNING", logger="loop_core"):
        loop.run_forever()
    assert "Executing <Handle" in caplog.text
    assert "took" in caplog.text


def test_slow_task_step_is_reported_as_the_task_and_its_coroutine(
    loop: EventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    async def slow_worker() -> None:
        time.sleep(0.03)
        await asyncio.sleep(0)
        time.sleep(0.03)  # a step resumed by the task's wake-up, not its first

    loop.set_debug(True)
    loop.slow_callback_duration = 0.01
    with caplog.at_level("WARNING", logger="loop_core"):
        loop.run_until_complete(slow_worker())
    reports = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Executing")]
    assert len(reports) == 2, reports
    for report in reports:
        assert report.startswith("Executing <Task "), report
        assert "coro=<test_slow_task_step_is_reported_as_the_task_and_its_coroutine." in report
        assert "slow_worker() running at " in report


def test_debug_mode_records_handle_creation(loop: EventLoop) -> None:
    loop.set_debug(True)
    handle = loop.call_soon(print)
    assert handle._source_traceback is not None
    assert "created at" in repr(handle)
    handle.cancel()


def test_handles_record_their_creation_only_in_debug_mode(loop: EventLoop) -> None:
    quiet = [loop.call_soon(print), loop.call_later(1, print)]
    loop.set_debug(True)
    noisy = [loop.call_soon(print), loop.call_later(1, print), loop.call_soon_threadsafe(print)]
    assert [h._source_traceback for h in quiet] == [None, None]
    assert all(h._source_traceback is not None for h in noisy)
    loop.set_debug(False)
    assert loop.call_soon(print)._source_traceback is None
    for handle in quiet + noisy:
        handle.cancel()
    # A handle made by hand asks its loop unless told.
    assert Handle(print, (), loop)._source_traceback is None
    assert Handle(print, (), loop, None, True)._source_traceback is not None
    loop.set_debug(True)
    assert Handle(print, (), loop)._source_traceback is not None
    assert Handle(print, (), loop, None, False)._source_traceback is None


def test_debug_mode_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONASYNCIODEBUG", "1")
    loop = EventLoop()
    try:
        assert loop.get_debug()
    finally:
        loop.close()


def test_task_factory_is_used(loop: EventLoop) -> None:
    made: list[str] = []

    def factory(the_loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        made.append(coro.__qualname__)
        return asyncio.Task(coro, loop=the_loop, **kwargs)

    async def job() -> int:
        return 3

    loop.set_task_factory(factory)
    assert loop.get_task_factory() is factory
    task = loop.create_task(job(), name="named")
    assert task.get_name() == "named"
    assert loop.run_until_complete(task) == 3
    assert made == ["test_task_factory_is_used.<locals>.job"]
    with pytest.raises(TypeError):
        loop.set_task_factory(5)  # type: ignore[arg-type]


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="needs SIGUSR1")
def test_signal_handler_runs_in_loop_again_and_again(loop: EventLoop) -> None:
    # Again and again: the handle keeps its callback after running (compiled,
    # handles let go of theirs unless _signals marks them as repeating).
    received: list[str] = []

    def on_signal() -> None:
        received.append("usr1")
        if len(received) == 3:
            loop.stop()
        else:
            os.kill(os.getpid(), signal.SIGUSR1)

    loop.add_signal_handler(signal.SIGUSR1, on_signal)
    try:
        loop.call_soon(os.kill, os.getpid(), signal.SIGUSR1)
        guard = loop.call_later(10, loop.stop)
        loop.run_forever()
        guard.cancel()
        assert received == ["usr1"] * 3
    finally:
        assert loop.remove_signal_handler(signal.SIGUSR1)
    assert not loop.remove_signal_handler(signal.SIGUSR1)
    assert signal.getsignal(signal.SIGUSR1) is signal.SIG_DFL


def test_signal_handler_bad_input(loop: EventLoop) -> None:
    with pytest.raises(ValueError, match="invalid signal"):
        loop.add_signal_handler(10_000, print)
    with pytest.raises(RuntimeError, match="cannot be caught"):
        loop.add_signal_handler(signal.SIGKILL, print)
    with pytest.raises(TypeError):
        loop.add_signal_handler(signal.SIGUSR1, None)  # type: ignore[arg-type]


def test_signal_handler_outside_main_thread_is_an_error(loop: EventLoop) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            loop.add_signal_handler(signal.SIGUSR1, print)
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert len(errors) == 1
    assert "main thread" in str(errors[0])


def test_removing_a_signal_handler_off_the_main_thread(any_loop: asyncio.AbstractEventLoop) -> None:
    # asyncio answers False for a signal without a handler from any thread;
    # code written for it calls this from worker threads during shutdown.
    outcomes: list[object] = []

    def worker() -> None:
        outcomes.append(any_loop.remove_signal_handler(signal.SIGUSR2))
        try:
            any_loop.remove_signal_handler(signal.SIGUSR1)
        except (RuntimeError, ValueError) as exc:
            outcomes.append(type(exc))

    any_loop.add_signal_handler(signal.SIGUSR1, print)
    try:
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert outcomes[0] is False
        # With a handler, the thread is refused (asyncio: ValueError after
        # forgetting the handler; ours: RuntimeError, keeping it).
        assert len(outcomes) == 2
        if isinstance(any_loop, EventLoop):
            assert outcomes[1] is RuntimeError
            assert any_loop.remove_signal_handler(signal.SIGUSR1)
    finally:
        any_loop.remove_signal_handler(signal.SIGUSR1)
        signal.signal(signal.SIGUSR1, signal.SIG_DFL)


def test_async_generators_are_finalised_on_shutdown(loop: EventLoop) -> None:
    closed: list[bool] = []

    async def agen() -> Any:
        try:
            yield 1
            yield 2
        finally:
            closed.append(True)

    async def main() -> Any:
        gen = agen()
        await gen.__anext__()
        return gen

    gen = loop.run_until_complete(main())
    loop.run_until_complete(loop.shutdown_asyncgens())
    assert closed == [True]
    del gen


def test_missing_extension_names_the_package(loop: EventLoop) -> None:
    if "network" in discover_extensions():
        pytest.skip("loop-transports is installed")

    async def connect() -> None:
        await loop.create_connection(asyncio.Protocol, "127.0.0.1", 1)

    with pytest.raises(MissingExtensionError, match="pip install loop-transports"):
        loop.run_until_complete(connect())


def test_a_misspelt_keyword_of_an_extension_method_fails_at_once(loop: EventLoop) -> None:
    # The loop's own signature names every keyword: the mistake is a TypeError
    # at the call, whether or not the extension package is installed.
    async def connect() -> None:
        await loop.create_connection(  # type: ignore[call-overload]
            asyncio.Protocol, "127.0.0.1", 1, sssl=None
        )

    with pytest.raises(TypeError, match="sssl"):
        loop.run_until_complete(connect())
    with pytest.raises(TypeError, match="keep_alives"):
        loop.run_until_complete(
            loop.create_server(asyncio.Protocol, port=0, keep_alives=True)  # type: ignore[call-overload]
        )
    assert loop.run_until_complete(asyncio.sleep(0, "still running")) == "still running"


def test_extensions_are_discovered_off_the_running_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    # The entry-point scan reads files: it happens as a loop is made, never in
    # a call made inside the running loop (blocking-call detectors flag that).
    scans: list[bool] = []
    real = importlib.metadata.entry_points

    def counting(**selection: Any) -> Any:
        scans.append(asyncio._get_running_loop() is not None)
        return real(**selection)

    monkeypatch.setattr(extensions, "entry_points", counting)
    monkeypatch.setattr(extensions, "_discovered", None)
    made = EventLoop()
    try:
        assert scans == [False]

        async def use_extensions() -> None:
            try:
                await made.getaddrinfo("127.0.0.1", 80)
            except MissingExtensionError:
                pass  # loop-executor not installed: the lookup still must not scan

        made.run_until_complete(use_extensions())
        EventLoop().close()
        assert scans == [False]  # once per process
    finally:
        made.close()


def test_an_extension_that_fails_to_load_is_left_out_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Broken:
        name, value = "tls", "broken_module:create_extension"

        def load(self) -> Any:
            raise ImportError("broken_module")

    scans: list[int] = []

    def broken_scan(**selection: Any) -> list[Broken]:
        scans.append(1)
        return [Broken()]

    monkeypatch.setattr(extensions, "entry_points", broken_scan)
    monkeypatch.setattr(extensions, "_discovered", None)  # restored afterwards
    with pytest.warns(RuntimeWarning, match="'tls'.*left out"):
        assert extensions.discover_extensions(refresh=True) == {}
    assert extensions.discover_extensions() == {}
    assert scans == [1]  # the failure is remembered, not retried per call


def test_a_patched_loop_time_moves_the_timers(any_loop: asyncio.AbstractEventLoop) -> None:
    # asyncio's loop schedules by self.time(): tests (and tools) patch it to
    # move time forward. Ours must follow, and go back to its clock after.
    fired: list[str] = []
    any_loop.call_later(30, fired.append, "due in 30 s")
    real = any_loop.time
    with mock.patch.object(any_loop, "time", side_effect=lambda: real() + 60):
        any_loop.run_until_complete(asyncio.sleep(0.01))
        assert fired == ["due in 30 s"]
        any_loop.call_later(30, fired.append, "30 s after the jump")
    any_loop.run_until_complete(asyncio.sleep(0.01))
    assert fired == ["due in 30 s"]  # the real clock is back: not due for 90 s
    assert any_loop.time() == pytest.approx(real(), abs=1)


def test_the_loop_keeps_its_instance_dictionary_for_its_users() -> None:
    # The loop's own state lives in slots: one entry in its instance
    # dictionary stops CPython from specializing every method lookup made
    # from Python (loop.call_soon, loop.create_future, ...). Users may still
    # attach attributes and take weak references.
    loop = EventLoop()
    try:
        a, b = socket.socketpair()
        a.setblocking(False)
        b.setblocking(False)

        async def main() -> bytes:
            loop.call_later(0.001, print)
            await asyncio.sleep(0.002)
            await loop.sock_sendall(a, b"x")
            return await loop.sock_recv(b, 1)

        with a, b:
            assert loop.run_until_complete(main()) == b"x"
        loop.set_exception_handler(None)
        loop.set_debug(False)
        # Interpreted, the core's own fields are instance attributes too.
        core_fields = set() if LoopCore.__dictoffset__ == 0 else set(LoopCore.__annotations__)
        assert set(vars(loop)) <= core_fields
        loop.note = "attached"
        assert vars(loop)["note"] == "attached"
        # Read from the class, call_soon is still the core's method (compiled,
        # on 3.11, a descriptor in front of it hands asyncio's C Future and
        # Task one bound method per loop).
        assert "context" in inspect.signature(EventLoop.call_soon).parameters
        assert loop.call_soon(print, "x", context=contextvars.copy_context()).get_context()
        assert weakref.ref(loop)() is loop
    finally:
        loop.close()


def test_a_subclass_clock_is_the_loop_clock() -> None:
    class Ahead(EventLoop):
        def time(self) -> float:
            return super().time() + 3600

    ahead = Ahead()
    try:
        fired: list[int] = []
        ahead.call_at(ahead.time() + 0.01, fired.append, 1)
        ahead.call_at(super(Ahead, ahead).time() + 1800, fired.append, 2)  # past, by its clock
        ahead.run_until_complete(asyncio.sleep(0.05))
        assert sorted(fired) == [1, 2]
    finally:
        ahead.close()


def test_a_closed_loop_goes_without_the_cycle_collector() -> None:
    # As stock asyncio's does: code (anyio's tests, say) checks that the loop
    # of a finished asyncio.run is gone as soon as the last reference is.
    def use(made: EventLoop) -> None:
        made.add_signal_handler(signal.SIGUSR1, print)
        made.run_until_complete(asyncio.sleep(0))
        made.remove_signal_handler(signal.SIGUSR1)
        made.add_signal_handler(signal.SIGUSR2, print)  # still installed at close
        made.close()

    assert freed_without_collector(EventLoop, use)


def test_extension_given_explicitly_is_used(loop: EventLoop) -> None:
    class Resolver:
        def __init__(self, owner: asyncio.AbstractEventLoop) -> None:
            self.owner = owner

        async def getnameinfo(self, sockaddr: Any, flags: int = 0) -> tuple[str, str]:
            return ("resolved-by-test", str(sockaddr[1]))

        def close(self) -> None:
            pass

    custom = EventLoop(extensions={"executor": Resolver})
    try:
        result = custom.run_until_complete(custom.getnameinfo(("127.0.0.1", 80)))
        assert result == ("resolved-by-test", "80")
    finally:
        custom.close()


def test_tls_server_protocol_is_the_tls_extensions(ssl_context_for_test: ssl.SSLContext) -> None:
    # The loop hands itself and every argument to the extension, and gives
    # back what it made; without loop-ssl the error names the package.
    calls: list[tuple[Any, ...]] = []
    made = asyncio.Protocol()

    class TLS:
        def __init__(self, owner: asyncio.AbstractEventLoop) -> None:
            self.owner = owner

        def tls_server_protocol(
            self,
            loop: asyncio.AbstractEventLoop,
            protocol: asyncio.BaseProtocol,
            sslcontext: ssl.SSLContext,
            *,
            ssl_handshake_timeout: float | None = None,
            ssl_shutdown_timeout: float | None = None,
        ) -> asyncio.BaseProtocol:
            calls.append((loop, protocol, sslcontext, ssl_handshake_timeout, ssl_shutdown_timeout))
            return made

        def close(self) -> None:
            pass

    given = asyncio.Protocol()
    custom = EventLoop(extensions={"tls": TLS})
    try:
        served = custom.tls_server_protocol(
            given, ssl_context_for_test, ssl_handshake_timeout=5.0, ssl_shutdown_timeout=2.0
        )
        assert served is made
        assert calls == [(custom, given, ssl_context_for_test, 5.0, 2.0)]
    finally:
        custom.close()
    if "tls" not in discover_extensions():  # loop-core alone
        bare = EventLoop()
        try:
            with pytest.raises(MissingExtensionError, match="pip install loop-ssl"):
                bare.tls_server_protocol(given, ssl_context_for_test)
        finally:
            bare.close()


@pytest.fixture
def ssl_context_for_test() -> ssl.SSLContext:
    return ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)


def test_unknown_poller_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown poller"):
        EventLoop(poller="carrier-pigeon")


def test_iterations_of_one_and_of_many_callbacks_keep_their_order(loop: EventLoop) -> None:
    # The ready lists are kept differently after an iteration that ran one
    # callback and one that ran several: alternate the two.
    ran: list[tuple[int, int]] = []

    def step(iteration: int, index: int) -> None:
        ran.append((iteration, index))
        if index == 0 and iteration < 6:
            width = 1 if iteration % 2 else 3
            for following in range(width):
                loop.call_soon(step, iteration + 1, following)
        if iteration == 6 and index == 0:
            loop.stop()

    loop.call_soon(step, 0, 0)
    loop.run_forever()
    assert ran == [
        (0, 0),
        (1, 0), (1, 1), (1, 2),
        (2, 0),
        (3, 0), (3, 1), (3, 2),
        (4, 0),
        (5, 0), (5, 1), (5, 2),
        (6, 0),
    ]  # fmt: skip


def test_keyboard_interrupt_in_a_callback_keeps_the_rest_in_order(
    any_loop: asyncio.AbstractEventLoop,
) -> None:
    ran: list[str] = []

    def interrupt() -> None:
        ran.append("interrupt")
        raise KeyboardInterrupt

    any_loop.call_soon(lambda: any_loop.call_soon(ran.append, "scheduled by first"))
    any_loop.call_soon(interrupt)
    any_loop.call_soon(ran.append, "after interrupt")
    with pytest.raises(KeyboardInterrupt):
        any_loop.run_forever()
    any_loop.call_soon(any_loop.stop)
    any_loop.run_forever()
    any_loop.call_soon(any_loop.stop)
    any_loop.run_forever()
    assert ran == ["interrupt", "after interrupt", "scheduled by first"]
