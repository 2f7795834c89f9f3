"""Our primitives, queues and streams where a library annotates asyncio's.

``mypy --strict`` (``nox -s types``) accepts each call below only because
loop-sync's and loop-transports' classes are subclasses of asyncio's; run by
test_integration_typing.py, the ``isinstance`` checks hold too.
"""

from __future__ import annotations

import asyncio

import loop_core
import loop_sync
import loop_transports


async def guarded(lock: asyncio.Lock, hits: list[int]) -> None:
    async with lock:
        hits.append(len(hits))


async def drain(queue: asyncio.Queue[int]) -> int:
    total = 0
    while not queue.empty():
        total += queue.get_nowait()
    return total


async def first_line(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(b"ping\n")
    await writer.drain()
    return await reader.readline()


async def answer(
    reader: loop_transports.StreamReader, writer: loop_transports.StreamWriter
) -> None:
    writer.write(await reader.readline())
    await writer.drain()
    writer.close()


async def main_async() -> list[object]:
    hits: list[int] = []
    lock = loop_sync.Lock()
    await asyncio.gather(guarded(lock, hits), guarded(lock, hits))

    queue: loop_sync.Queue[int] = loop_sync.Queue()
    for number in (1, 2, 3):
        queue.put_nowait(number)
    total = await drain(queue)

    events: list[asyncio.Event] = [loop_sync.Event()]
    semaphores: list[asyncio.Semaphore] = [loop_sync.Semaphore(), loop_sync.BoundedSemaphore()]
    condition: asyncio.Condition = loop_sync.Condition(lock)
    barrier: asyncio.Barrier = loop_sync.Barrier(1)
    kinds = [events[0], *semaphores, condition, barrier, lock, queue]

    server = await loop_transports.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await loop_transports.open_connection("127.0.0.1", port)
    line = await first_line(reader, writer)
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    ends: list[object] = [reader, writer]  # checked at run time, not by mypy
    streams_are_asyncios = isinstance(ends[0], asyncio.StreamReader) and isinstance(
        ends[1], asyncio.StreamWriter
    )
    asyncio_classes = (
        asyncio.Event,
        asyncio.Semaphore,
        asyncio.BoundedSemaphore,
        asyncio.Condition,
        asyncio.Barrier,
        asyncio.Lock,
        asyncio.Queue,
    )
    all_asyncios = all(isinstance(o, k) for o, k in zip(kinds, asyncio_classes, strict=True))
    return [hits, total, line, streams_are_asyncios, all_asyncios]


def main() -> list[object]:
    return loop_core.run(main_async())


if __name__ == "__main__":
    print(main())
