"""anyio on every loop: its cancellation relies on asyncio's own Future and Task.

anyio decides whether a cancelled task had already been handed an item by
looking at ``task._fut_waiter`` and checking ``isinstance(waiter,
asyncio.Future)``. On a loop whose futures are not asyncio's, the check fails
and the item is lost.
"""

from __future__ import annotations

import asyncio

import anyio
import pytest
from conftest import LoopFactory

import loop_core


async def _cancel_receiver_after_handing_it_an_item() -> list[str]:
    send, receive = anyio.create_memory_object_stream[str]()
    received: list[str] = []
    scopes: list[anyio.CancelScope] = []

    async def receiver() -> None:
        with anyio.CancelScope() as scope:
            scopes.append(scope)
            received.append(await receive.receive())

    async with send, receive, anyio.create_task_group() as group:
        group.start_soon(receiver)
        await anyio.wait_all_tasks_blocked()
        send.send_nowait("hello")
        scopes[0].cancel()
    return received


def test_cancelled_receiver_keeps_the_item_it_was_handed(loop_factory: LoopFactory) -> None:
    received = anyio.run(
        _cancel_receiver_after_handing_it_an_item,
        backend="asyncio",
        backend_options={"loop_factory": loop_factory},
    )
    assert received == ["hello"]


@pytest.mark.skipif(not loop_core._futures.ACCELERATED, reason="asyncio has no C accelerator")
def test_our_loop_makes_asyncio_futures_and_tasks() -> None:
    async def probe() -> tuple[bool, bool, bool, bool]:
        loop = asyncio.get_running_loop()

        async def child() -> None:
            await asyncio.sleep(0)

        task = loop.create_task(child())
        seen = task in asyncio.all_tasks() and asyncio.current_task() is not None
        await task
        return (
            isinstance(loop.create_future(), asyncio.Future),
            isinstance(task, asyncio.Task),
            seen,
            isinstance(asyncio.current_task(), asyncio.Task),
        )

    assert loop_core.run(probe()) == (True, True, True, True)
