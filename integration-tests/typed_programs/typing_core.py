"""A program typed against loop-core's public API, as a user writes one.

``nox -s types`` checks it with ``mypy --strict`` on every supported Python:
each ``assert_type`` states the type typeshed gives asyncio's own function,
so a result typed looser (``Any``, ``Future`` for ``Task``, ``list`` for a
``tuple``) fails the session. test_integration_typing.py runs it too.
"""

from __future__ import annotations

import asyncio
from typing import Any, assert_type

import loop_core


async def text() -> str:
    await loop_core.sleep(0)
    return "text"


async def number() -> int:
    return 7


async def tasks_and_combinators() -> list[object]:
    seen: list[object] = []

    task = loop_core.create_task(text(), name="typed")
    assert_type(task, asyncio.Task[str])
    seen.append(task.get_name())

    pair = await loop_core.gather(text(), number())
    assert_type(pair, tuple[str, int])
    seen.append(pair)

    many = await loop_core.gather(*(number() for _ in range(3)))
    assert_type(many, list[int])
    seen.append(many)

    tolerant = await loop_core.gather(text(), number(), return_exceptions=True)
    assert_type(tolerant, tuple[str | BaseException, int | BaseException])

    children = [loop_core.create_task(number()) for _ in range(2)]
    done, pending = await loop_core.wait(children)
    assert_type(done, set[asyncio.Task[int]])
    assert_type(pending, set[asyncio.Task[int]])
    seen.append(sorted(t.result() for t in done))

    for next_done in loop_core.as_completed([number(), number()]):
        finished = await next_done
        assert_type(finished, int)
        seen.append(finished)

    async for finished_future in loop_core.as_completed([number(), number()]):
        assert_type(finished_future, asyncio.Future[int])
        seen.append(finished_future.result())

    shielded = loop_core.shield(number())
    assert_type(shielded, asyncio.Future[int])
    seen.append(await shielded)

    in_time = await loop_core.wait_for(number(), 5)
    assert_type(in_time, int)
    slept = await loop_core.sleep(0, "slept")
    assert_type(slept, str)
    seen += [in_time, slept]

    ensured = loop_core.ensure_future(number())
    assert_type(ensured, asyncio.Task[int])
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    assert_type(loop_core.ensure_future(future), asyncio.Future[int])
    future.set_result(await ensured)

    current = loop_core.current_task()
    assert_type(current, asyncio.Task[Any] | None)
    assert current is not None
    seen.append(current.get_name() != "")
    assert_type(loop_core.all_tasks(), set[asyncio.Task[Any]])

    async with loop_core.timeout(5) as scope:
        assert_type(scope, loop_core.Timeout)
    async with loop_core.TaskGroup() as group:
        grouped = group.create_task(number())
        assert_type(grouped, asyncio.Task[int])
    seen.append(grouped.result())
    return seen


def main() -> list[object]:
    loop = loop_core.new_event_loop()
    assert_type(loop, loop_core.EventLoop)
    loop.close()
    with loop_core.Runner() as runner:
        assert_type(runner.run(number()), int)
    return assert_type(loop_core.run(tasks_and_combinators()), list[object])


if __name__ == "__main__":
    print(main())
