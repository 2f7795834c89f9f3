"""Child processes: transports, Process, exit watching without SIGCHLD handlers."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

import loop_core
from loop_transports import create_subprocess_exec, create_subprocess_shell

PIPE = subprocess.PIPE


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> Any:
    return loop.run_until_complete(asyncio.wait_for(coro, 60))


def test_communicate_round_trip(any_loop: asyncio.AbstractEventLoop) -> None:
    code = (
        "import sys; data = sys.stdin.buffer.read(); "
        "sys.stdout.buffer.write(data[::-1]); sys.stderr.write('err')"
    )
    payload = bytes(range(256)) * 4096  # 1 MiB: more than any pipe buffer

    async def main() -> None:
        process = await create_subprocess_exec(
            sys.executable, "-c", code, stdin=PIPE, stdout=PIPE, stderr=PIPE
        )
        assert process.pid > 0
        out, err = await process.communicate(payload)
        assert out == payload[::-1]
        assert err == b"err"
        assert process.returncode == 0

    run(any_loop, main())


def test_shell_exit_code_and_no_pipes(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        process = await create_subprocess_shell("echo out; exit 7", stdout=PIPE)
        assert await process.communicate() == (b"out\n", None)
        assert process.returncode == 7
        quiet = await create_subprocess_exec("true")
        assert await quiet.wait() == 0

    run(any_loop, main())


def test_kill_gives_negative_returncode(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        process = await create_subprocess_exec("sleep", "30")
        process.kill()
        assert await process.wait() == -signal.SIGKILL
        with pytest.raises(ProcessLookupError):
            process.send_signal(signal.SIGTERM)

    run(any_loop, main())


def test_protocol_sees_pipes_then_exit_then_loss(any_loop: asyncio.AbstractEventLoop) -> None:
    class Recorder(asyncio.SubprocessProtocol):
        def __init__(self) -> None:
            self.events: list[Any] = []
            self.done = any_loop.create_future()

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.events.append("made")

        def pipe_data_received(self, fd: int, data: bytes | str) -> None:
            self.events.append((fd, data))

        def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
            self.events.append(("closed", fd))

        def process_exited(self) -> None:
            self.events.append("exited")

        def connection_lost(self, exc: Exception | None) -> None:
            self.events.append("lost")
            self.done.set_result(None)

    async def main() -> None:
        transport, protocol = await any_loop.subprocess_exec(
            Recorder, sys.executable, "-c", "print('hi')", stdin=None, stderr=None
        )
        assert transport.get_pid() > 0
        assert transport.get_extra_info("subprocess").pid == transport.get_pid()
        await protocol.done
        assert protocol.events[0] == "made"
        # print() may reach the pipe in more than one write.
        out = b"".join(e[1] for e in protocol.events if isinstance(e, tuple) and e[0] == 1)
        assert out == b"hi\n"
        assert protocol.events[-1] == "lost"
        assert "exited" in protocol.events
        assert transport.get_returncode() == 0
        transport.close()

    run(any_loop, main())


def test_bad_arguments(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main() -> None:
        with pytest.raises(ValueError, match="shell must be False"):
            await any_loop.subprocess_exec(asyncio.SubprocessProtocol, "true", shell=True)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="cmd must be a string"):
            await any_loop.subprocess_shell(asyncio.SubprocessProtocol, ["true"])  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="universal_newlines must be False"):
            await any_loop.subprocess_exec(
                asyncio.SubprocessProtocol,
                "true",
                universal_newlines=True,  # type: ignore[arg-type]
            )
        with pytest.raises(FileNotFoundError):
            await create_subprocess_exec("/nonexistent/program")

    run(any_loop, main())


def test_children_are_watched_without_a_sigchld_handler_and_from_any_thread() -> None:
    before = signal.getsignal(signal.SIGCHLD)
    results: list[int] = []

    def in_thread() -> None:
        async def main() -> int:
            process = await create_subprocess_exec(sys.executable, "-c", "raise SystemExit(3)")
            return await process.wait()

        results.append(loop_core.run(main()))

    threads = [threading.Thread(target=in_thread) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [3, 3, 3]
    assert signal.getsignal(signal.SIGCHLD) == before


def test_death_by_signal_one_is_minus_one(any_loop: asyncio.AbstractEventLoop) -> None:
    # Regression: -1 (SIGHUP) was taken for "still running" and reported as 255.
    code = (
        "import signal, time; signal.signal(signal.SIGHUP, signal.SIG_DFL); "
        "print('ready', flush=True); time.sleep(30)"
    )

    async def main() -> int:
        process = await create_subprocess_exec(sys.executable, "-c", code, stdout=PIPE)
        assert process.stdout is not None
        assert await process.stdout.readline() == b"ready\n"
        process.send_signal(signal.SIGHUP)
        return await process.wait()

    assert run(any_loop, main()) == -signal.SIGHUP


def pidfds_open() -> int:
    count = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{name}") == "anon_inode:[pidfd]"
        except OSError:
            pass  # the listing's own descriptor, gone by now
    return count


def is_zombie_or_running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat"):
            return True
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("make_loop", [loop_core.new_event_loop, asyncio.new_event_loop])
def test_closing_the_loop_with_a_live_child_leaks_nothing(
    make_loop: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    # The loop goes away while the child still runs: no descriptor may stay
    # open for it, and when it exits it is reaped (no zombie).
    if make_loop is asyncio.new_event_loop and sys.version_info >= (3, 12):
        pytest.skip("stock asyncio's pidfd child watcher (3.12+) keeps the pidfd past close()")
    before = pidfds_open()
    loop = make_loop()
    process: Any = None

    async def main() -> None:
        nonlocal process
        process = await asyncio.create_subprocess_exec("sleep", "0.3")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        loop.run_until_complete(main())
        pid = process.pid
        loop.close()
        del process
        gc.collect()
    assert pidfds_open() == before
    deadline = time.monotonic() + 10
    while is_zombie_or_running(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not is_zombie_or_running(pid)


def test_children_are_spawned_off_the_loop_thread(
    loop: loop_core.EventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Popen blocks until the child has exec'd (a read of its error pipe):
    # never in the loop's thread, where a blocking-call detector flags it.
    spawned_in: list[threading.Thread] = []
    real_popen = subprocess.Popen

    def recording_popen(*args: Any, **kwargs: Any) -> Any:
        spawned_in.append(threading.current_thread())
        return real_popen(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", recording_popen)

    async def main() -> None:
        process = await create_subprocess_exec("true")
        assert await process.wait() == 0

    run(loop, main())
    assert spawned_in
    assert threading.main_thread() not in spawned_in


def test_a_spawn_cancelled_midway_leaves_no_child(any_loop: asyncio.AbstractEventLoop) -> None:
    async def main(marker: str) -> None:
        starting = asyncio.ensure_future(
            create_subprocess_shell(f"sleep 0.3; touch {marker}", stdout=None, stderr=None)
        )
        await asyncio.sleep(0)
        starting.cancel()
        try:
            process = await starting
        except asyncio.CancelledError:
            pass
        else:  # stock asyncio spawns synchronously: the child was already there
            process.kill()
            await process.wait()
        await asyncio.sleep(0.6)
        assert not os.path.exists(marker)

    with tempfile.TemporaryDirectory() as directory:
        run(any_loop, main(os.path.join(directory, "ran")))
