"""Future: states, callbacks, cancellation, interplay with asyncio."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import sys
from typing import Any

import pytest

from loop_core import EventLoop, Future, isfuture


def test_result_lifecycle(loop: EventLoop) -> None:
    future: Future[int] = loop.create_future()
    assert not future.done()
    with pytest.raises(asyncio.InvalidStateError):
        future.result()
    with pytest.raises(asyncio.InvalidStateError):
        future.exception()
    future.set_result(5)
    assert future.done()
    assert not future.cancelled()
    assert future.result() == 5
    assert future.exception() is None
    assert future.get_loop() is loop


def test_second_set_result_is_invalid_state(loop: EventLoop) -> None:
    future: Future[int] = loop.create_future()
    future.set_result(1)
    with pytest.raises(asyncio.InvalidStateError):
        future.set_result(2)
    with pytest.raises(asyncio.InvalidStateError):
        future.set_exception(ValueError())


def test_exception_class_is_instantiated(loop: EventLoop) -> None:
    future: Future[None] = loop.create_future()
    future.set_exception(KeyError)
    error = future.exception()
    assert isinstance(error, KeyError)
    with pytest.raises(KeyError):
        future.result()


def test_stop_iteration_is_not_stored_as_is(loop: EventLoop) -> None:
    # As the running Python's asyncio: refused before 3.13, a RuntimeError from 3.13.
    future: Future[None] = loop.create_future()
    if sys.version_info >= (3, 13):
        future.set_exception(StopIteration())
        assert isinstance(future.exception(), RuntimeError)
    else:
        with pytest.raises(TypeError, match="StopIteration"):
            future.set_exception(StopIteration())
        assert not future.done()


def test_cancel_with_message(loop: EventLoop) -> None:
    future: Future[None] = loop.create_future()
    assert future.cancel("because")
    assert not future.cancel()
    assert future.cancelled()
    with pytest.raises(asyncio.CancelledError, match="because"):
        future.result()


def test_callbacks_run_through_the_loop_in_their_context(loop: EventLoop) -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="outer")
    future: Future[int] = loop.create_future()
    calls: list[tuple[str, Any]] = []
    context = contextvars.copy_context()
    context.run(var.set, "inner")
    future.add_done_callback(lambda f: calls.append((var.get(), f.result())), context=context)
    future.add_done_callback(lambda f: calls.append((var.get(), f.result())))
    future.set_result(9)
    assert calls == []  # never called inline
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert calls == [("inner", 9), ("outer", 9)]
    future.add_done_callback(lambda f: calls.append(("late", f.result())))
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert calls[-1] == ("late", 9)


def test_remove_done_callback_counts_removals(loop: EventLoop) -> None:
    future: Future[int] = loop.create_future()

    def callback(_: Any) -> None:
        raise AssertionError("removed callbacks must not run")

    future.add_done_callback(callback)
    future.add_done_callback(callback)
    assert future.remove_done_callback(callback) == 2
    assert future.remove_done_callback(callback) == 0
    future.set_result(1)
    loop.call_soon(loop.stop)
    loop.run_forever()


def test_isfuture_recognises_both_kinds(loop: EventLoop) -> None:
    ours: Future[None] = loop.create_future()
    theirs: asyncio.Future[None] = asyncio.Future(loop=loop)
    assert isfuture(ours)
    assert isfuture(theirs)
    assert asyncio.isfuture(ours)
    assert not isfuture(object())
    ours.cancel()
    theirs.cancel()


def test_asyncio_task_awaits_our_future(loop: EventLoop) -> None:
    future: Future[str] = loop.create_future()

    async def waiter() -> str:
        return await future

    task = asyncio.Task(waiter(), loop=loop)
    loop.call_later(0.001, future.set_result, "ours")
    assert loop.run_until_complete(task) == "ours"


def test_our_task_awaits_asyncio_future(loop: EventLoop) -> None:
    future: asyncio.Future[str] = asyncio.Future(loop=loop)

    async def waiter() -> str:
        return await future

    task = loop.create_task(waiter())
    loop.call_soon(future.set_result, "theirs")
    assert loop.run_until_complete(task) == "theirs"


def test_unretrieved_exception_is_reported(loop: EventLoop) -> None:
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    future: Future[None] = loop.create_future()
    future.set_exception(ValueError("lost"))
    del future
    gc.collect()
    assert len(reported) == 1
    assert "exception was never retrieved" in reported[0]["message"]
    assert isinstance(reported[0]["exception"], ValueError)


def test_retrieved_exception_is_not_reported(loop: EventLoop) -> None:
    future: Future[None] = loop.create_future()
    future.set_exception(ValueError("seen"))
    future.exception()
    del future
    gc.collect()  # the fixture fails the test on any handler call


def test_repr_shows_state(loop: EventLoop) -> None:
    future: Future[int] = loop.create_future()
    assert repr(future) == "<Future pending>"
    future.set_result(3)
    assert repr(future) == "<Future finished result=3>"
    other: Future[int] = loop.create_future()
    other.cancel()
    assert repr(other) == "<Future cancelled>"


def test_await_outside_task_yields_itself(loop: EventLoop) -> None:
    future: Future[int] = loop.create_future()
    iterator = future.__await__()
    assert next(iterator) is future
    future.set_result(4)
    with pytest.raises(StopIteration) as stop:
        next(iterator)
    assert stop.value.value == 4


def test_generic_alias() -> None:
    assert Future[int].__origin__ is Future  # type: ignore[attr-defined]
