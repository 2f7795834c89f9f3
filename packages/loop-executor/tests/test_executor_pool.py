"""run_in_executor, to_thread, the default pool's lifecycle, name resolution."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import os
import socket
import threading
import time
import traceback
from collections.abc import Coroutine
from typing import Any

import pytest

import loop_core
from loop_executor import to_thread
from loop_executor._resolver import numeric_addrinfo

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> Any:
    return loop.run_until_complete(coro)


def double_in_child(value: int) -> tuple[int, int]:
    return value * 2, os.getpid()


def test_extension_is_discovered(loop: loop_core.EventLoop) -> None:
    async def main() -> tuple[int, str]:
        result = await loop.run_in_executor(None, sum, [1, 2, 3])
        name = await loop.run_in_executor(None, lambda: threading.current_thread().name)
        return result, name

    result, thread_name = run(loop, main())
    assert result == 6
    assert thread_name.startswith("loop-executor")


def test_exception_reaches_awaiter_with_traceback(any_loop: asyncio.AbstractEventLoop) -> None:
    def failing_worker() -> None:
        raise LookupError("from the worker")

    async def main() -> None:
        await any_loop.run_in_executor(None, failing_worker)

    with pytest.raises(LookupError) as caught:
        run(any_loop, main())
    frames = [f.name for f in traceback.extract_tb(caught.value.__traceback__)]
    assert "failing_worker" in frames


def test_process_pool_is_accepted(loop: loop_core.EventLoop) -> None:
    async def main() -> tuple[int, int]:
        with concurrent.futures.ProcessPoolExecutor(max_workers=1) as pool:
            return await loop.run_in_executor(pool, double_in_child, 21)

    value, child_pid = run(loop, main())
    assert value == 42
    assert child_pid != os.getpid()


def test_to_thread_carries_context(any_loop: asyncio.AbstractEventLoop) -> None:
    def read_context(suffix: str, *, upper: bool) -> str:
        value = request_id.get() + suffix
        return value.upper() if upper else value

    async def main() -> str:
        request_id.set("req-7")
        return await to_thread(read_context, "!", upper=True)

    assert run(any_loop, main()) == "REQ-7!"


def test_bad_input(loop: loop_core.EventLoop) -> None:
    async def coroutine_function() -> None:
        pass

    async def main() -> None:
        with pytest.raises(TypeError, match="callable"):
            loop.run_in_executor(None, 42)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="coroutines cannot be used"):
            loop.run_in_executor(None, coroutine_function)
        with pytest.raises(TypeError, match="callable"):
            await to_thread(None)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="ThreadPoolExecutor"):
            loop.set_default_executor(object())  # type: ignore[arg-type]

    run(loop, main())


def test_default_executor_after_shutdown(loop: loop_core.EventLoop) -> None:
    async def main() -> None:
        await loop.run_in_executor(None, time.sleep, 0)
        await loop.shutdown_default_executor()
        with pytest.raises(RuntimeError, match="shutdown has been called"):
            loop.run_in_executor(None, time.sleep, 0)

    run(loop, main())


def test_busy_worker_is_reported_after_timeout(loop: loop_core.EventLoop) -> None:
    release = threading.Event()

    async def main() -> None:
        loop.run_in_executor(None, release.wait, 10)
        await asyncio.sleep(0.01)
        with pytest.warns(RuntimeWarning, match="did not finish within 0.05 seconds"):
            await loop.shutdown_default_executor(timeout=0.05)

    started = time.monotonic()
    try:
        run(loop, main())
    finally:
        release.set()
    assert time.monotonic() - started < 5


def test_set_default_executor(loop: loop_core.EventLoop) -> None:
    pool = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="custom-pool")

    async def main() -> str:
        loop.set_default_executor(pool)
        return await loop.run_in_executor(None, lambda: threading.current_thread().name)

    try:
        assert run(loop, main()).startswith("custom-pool")
    finally:
        pool.shutdown()


def test_runner_shuts_the_pool_down() -> None:
    threads_before = set(threading.enumerate())

    async def main() -> int:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, sum, [4, 5])

    assert loop_core.run(main()) == 9
    leftover = [t for t in set(threading.enumerate()) - threads_before if t.is_alive()]
    assert leftover == []


def test_cancelled_await_leaves_no_callback_after_close() -> None:
    loop = loop_core.new_event_loop()
    release = threading.Event()
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))

    async def main() -> None:
        future = loop.run_in_executor(None, release.wait, 10)
        await asyncio.sleep(0.01)
        future.cancel()

    loop.run_until_complete(main())
    loop.close()
    release.set()  # the worker finishes after the loop is gone
    time.sleep(0.05)
    assert errors == []


@pytest.mark.parametrize(
    ("host", "port", "family", "kind"),
    [
        ("127.0.0.1", 80, socket.AF_UNSPEC, socket.SOCK_STREAM),
        ("127.0.0.1", "8080", socket.AF_INET, socket.SOCK_DGRAM),
        ("::1", 443, socket.AF_UNSPEC, socket.SOCK_STREAM),
        ("0:0::1", 0, socket.AF_INET6, socket.SOCK_STREAM),
        (b"10.1.2.3", None, socket.AF_UNSPEC, socket.SOCK_STREAM),
    ],
)
def test_numeric_fast_path_matches_the_system(
    host: str | bytes, port: int | str | None, family: int, kind: int
) -> None:
    quick = numeric_addrinfo(host, port, family=family, type=kind, proto=0, flags=0)
    assert quick is not None
    assert quick == socket.getaddrinfo(host, port, family, kind)


@pytest.mark.parametrize(
    ("host", "kind", "flags"),
    [
        ("localhost", socket.SOCK_STREAM, 0),
        ("127.1", socket.SOCK_STREAM, 0),
        ("127.0.0.1", 0, 0),
        ("127.0.0.1", socket.SOCK_STREAM, socket.AI_CANONNAME),
        ("fe80::1%lo", socket.SOCK_STREAM, 0),
    ],
)
def test_fast_path_declines_what_needs_the_system(host: str, kind: int, flags: int) -> None:
    assert numeric_addrinfo(host, 80, family=0, type=kind, proto=0, flags=flags) is None


def test_loop_resolves_names_and_numbers(loop: loop_core.EventLoop) -> None:
    async def main() -> tuple[Any, Any, Any]:
        numeric = await loop.getaddrinfo("127.0.0.1", 80, type=socket.SOCK_STREAM)
        named = await loop.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)
        reverse = await loop.getnameinfo(("127.0.0.1", 80), socket.NI_NUMERICHOST)
        return numeric, named, reverse

    numeric, named, reverse = run(loop, main())
    assert numeric == socket.getaddrinfo("127.0.0.1", 80, 0, socket.SOCK_STREAM)
    assert any(info[4][0] in ("127.0.0.1", "::1") for info in named)
    assert reverse[0] == "127.0.0.1"


def test_unresolvable_host_is_gaierror(loop: loop_core.EventLoop) -> None:
    async def main() -> None:
        await loop.getaddrinfo("no-such-host.invalid", 80)

    with pytest.raises(socket.gaierror):
        run(loop, main())
