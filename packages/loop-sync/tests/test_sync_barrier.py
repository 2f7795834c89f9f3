"""Barrier: rounds, indices, reset, abort, cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from loop_sync import Barrier, BrokenBarrierError


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> Any:
    return loop.run_until_complete(coro)


def test_releases_all_parties_with_distinct_indices(any_loop: asyncio.AbstractEventLoop) -> None:
    barrier = Barrier(5)

    async def main() -> list[int]:
        return await asyncio.gather(*(barrier.wait() for _ in range(5)))

    assert sorted(run(any_loop, main())) == [0, 1, 2, 3, 4]
    assert barrier.n_waiting == 0
    assert barrier.parties == 5


def test_barrier_is_reusable(any_loop: asyncio.AbstractEventLoop) -> None:
    barrier = Barrier(3)
    log: list[int] = []

    async def worker() -> None:
        for round_number in range(4):
            async with barrier:
                log.append(round_number)

    async def main() -> None:
        await asyncio.gather(*(worker() for _ in range(3)))

    run(any_loop, main())
    assert log == sorted(log)
    assert len(log) == 12


def test_abort_breaks_waiters_and_later_calls(any_loop: asyncio.AbstractEventLoop) -> None:
    barrier = Barrier(3)

    async def main() -> None:
        waiter = any_loop.create_task(barrier.wait())
        await asyncio.sleep(0)
        assert barrier.n_waiting == 1
        await barrier.abort()
        with pytest.raises(BrokenBarrierError):
            await waiter
        assert barrier.broken
        with pytest.raises(BrokenBarrierError):
            await barrier.wait()

    run(any_loop, main())


def test_reset_breaks_current_round_only(any_loop: asyncio.AbstractEventLoop) -> None:
    barrier = Barrier(2)

    async def main() -> list[int]:
        waiter = any_loop.create_task(barrier.wait())
        await asyncio.sleep(0)
        await barrier.reset()
        with pytest.raises(BrokenBarrierError):
            await waiter
        assert not barrier.broken
        return sorted(await asyncio.gather(barrier.wait(), barrier.wait()))

    assert run(any_loop, main()) == [0, 1]


def test_cancelled_party_leaves_the_count(any_loop: asyncio.AbstractEventLoop) -> None:
    barrier = Barrier(2)

    async def main() -> None:
        waiter = any_loop.create_task(barrier.wait())
        await asyncio.sleep(0)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        assert barrier.n_waiting == 0

    run(any_loop, main())


def test_bad_parties() -> None:
    with pytest.raises(ValueError, match="parties"):
        Barrier(0)


def test_exception_is_asyncio_class() -> None:
    assert BrokenBarrierError is asyncio.BrokenBarrierError
