"""The go-betweens compiled coroutines await: they must act as the awaited
object's own iterator, apart from accepting throw()'s old signature."""

from __future__ import annotations

import asyncio
import types
import warnings
from collections.abc import Generator
from typing import Any, cast

import pytest

from loop_core import EventLoop
from loop_core.suspension import Delegation, Suspension, delegate, suspend


def _iterate(awaitable: object) -> Generator[Any, Any, Any]:
    return cast("Generator[Any, Any, Any]", cast(Any, awaitable).__await__())


def test_suspend_and_delegate_pass_the_awaitable_through_where_nothing_warns(
    loop: EventLoop,
) -> None:
    future = loop.create_future()
    assert suspend(future, False) is future
    assert isinstance(suspend(future, True), Suspension)

    async def nothing() -> None:
        pass

    coroutine = nothing()
    assert delegate(coroutine, False) is coroutine
    assert isinstance(delegate(coroutine, True), Delegation)
    coroutine.close()


def test_a_suspension_yields_the_pending_future_once_then_its_result(loop: EventLoop) -> None:
    future = loop.create_future()
    steps = _iterate(Suspension(future))
    assert next(steps) is future
    assert future._asyncio_future_blocking
    future.set_result("done")
    with pytest.raises(StopIteration) as stopped:
        steps.send(None)
    assert stopped.value.value == "done"


def test_a_suspension_of_a_done_future_returns_at_once(loop: EventLoop) -> None:
    future = loop.create_future()
    future.set_exception(KeyError("k"))
    with pytest.raises(KeyError):
        next(_iterate(Suspension(future)))


def test_a_suspension_resumed_before_its_future_is_done_says_so(loop: EventLoop) -> None:
    future = loop.create_future()
    steps = _iterate(Suspension(future))
    next(steps)
    with pytest.raises(RuntimeError, match="await wasn't used with future"):
        next(steps)


@pytest.mark.parametrize("signature", ["value", "type", "type, value, traceback"])
def test_a_suspension_raises_what_is_thrown_in(loop: EventLoop, signature: str) -> None:
    steps = _iterate(Suspension(loop.create_future()))
    next(steps)
    error = KeyError("thrown")
    with pytest.raises(KeyError) as raised:
        if signature == "value":
            steps.throw(error)
        elif signature == "type":
            cast(Any, steps).throw(KeyError)
        else:
            cast(Any, steps).throw(KeyError, error, None)
    if signature != "type":
        assert raised.value is error


def test_a_delegation_passes_sends_throws_and_close_to_the_coroutine() -> None:
    seen: list[object] = []

    @types.coroutine
    def conversation() -> Generator[str, object, str]:
        seen.append((yield "first"))
        try:
            yield "second"
        except KeyError as error:
            seen.append(error)
        try:
            yield "third"
        finally:
            seen.append("closed")
        return "unreachable"

    steps = _iterate(Delegation(conversation()))
    assert next(steps) == "first"
    assert steps.send("hello") == "second"
    error = KeyError("thrown")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the old signature reaches the coroutine as the new
        assert cast(Any, steps).throw(KeyError, error, error.__traceback__) == "third"
    steps.close()
    assert seen == ["hello", error, "closed"]


def test_a_delegation_returns_what_the_coroutine_returns(loop: EventLoop) -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    async def main() -> int:
        return await cast("asyncio.Future[int]", Delegation(answer()))

    assert loop.run_until_complete(main()) == 42
