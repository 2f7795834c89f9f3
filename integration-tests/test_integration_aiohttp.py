"""A real application: aiohttp's server and client, unchanged, on each loop.

A request/response round trip, a streamed response read in chunks, a streamed
request body, a WebSocket echo, and a clean shutdown (the runner cleans up,
the client session closes) with no exception-handler call on the way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

aiohttp = pytest.importorskip("aiohttp")
web = pytest.importorskip("aiohttp.web")

STREAM_CHUNKS = 50
CHUNK = b"0123456789abcdef" * 4096  # 64 KiB


async def hello(request: Any) -> Any:
    return web.json_response({"hello": request.match_info["name"]})


async def stream(request: Any) -> Any:
    response = web.StreamResponse()
    response.content_type = "application/octet-stream"
    await response.prepare(request)
    for _ in range(STREAM_CHUNKS):
        await response.write(CHUNK)
    await response.write_eof()
    return response


async def upload(request: Any) -> Any:
    total = 0
    async for chunk in request.content.iter_chunked(65536):
        total += len(chunk)
    return web.json_response({"received": total})


async def websocket(request: Any) -> Any:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for message in ws:
        if message.type == aiohttp.WSMsgType.TEXT:
            await ws.send_str(message.data[::-1])
    return ws


async def _body() -> AsyncIterator[bytes]:
    for _ in range(STREAM_CHUNKS):
        yield CHUNK
        await asyncio.sleep(0)


async def scenario() -> None:
    app = web.Application()
    app.router.add_get("/hello/{name}", hello)
    app.router.add_get("/stream", stream)
    app.router.add_post("/upload", upload)
    app.router.add_get("/ws", websocket)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # aiohttp exposes no public port
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/hello/loop") as response:
                assert response.status == 200
                assert await response.json() == {"hello": "loop"}

            received = 0
            async with session.get(f"{base}/stream") as response:
                async for chunk in response.content.iter_chunked(10_000):
                    received += len(chunk)
            assert received == STREAM_CHUNKS * len(CHUNK)

            async with session.post(f"{base}/upload", data=_body()) as response:
                assert await response.json() == {"received": STREAM_CHUNKS * len(CHUNK)}

            async with session.ws_connect(f"{base}/ws") as ws:
                for word in ("loop", "aiohttp"):
                    await ws.send_str(word)
                    assert (await ws.receive_str()) == word[::-1]
    finally:
        await runner.cleanup()


def test_aiohttp_round_trip_streaming_and_shutdown(
    loop_factory: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    loop = loop_factory()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        loop.run_until_complete(asyncio.wait_for(scenario(), 60))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()
    assert reported == []
