"""Handles and timer handles: running, cancelling, ordering, repr."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import gc
import heapq
import inspect
import random
import socket
import sys
import weakref
from typing import Any

import pytest

from loop_core import EventLoop, Handle, TimerHandle
from loop_core._core import _heap_pop, _heap_push, _heapify
from loop_core._handles import format_callback

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


def test_handle_runs_callback_in_its_context(loop: EventLoop) -> None:
    seen: list[str] = []
    context = contextvars.copy_context()
    context.run(request_id.set, "abc")
    loop.call_soon(lambda: seen.append(request_id.get()), context=context)
    loop.call_soon(lambda: seen.append(request_id.get()))
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert seen == ["abc", "none"]


def test_cancelled_handle_does_not_run_and_drops_references(loop: EventLoop) -> None:
    calls: list[int] = []
    handle = loop.call_soon(calls.append, 1)
    handle.cancel()
    handle.cancel()
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert calls == []
    assert handle.cancelled()
    assert handle._callback is None
    assert handle._args is None


class _HoldsItsHandle:
    """Something that keeps the handle of its own scheduled method: a cycle
    through the handle, the shape of a protocol holding its timeout."""

    def __init__(self) -> None:
        self.handles: list[Handle] = []

    def fire(self) -> None:
        pass


def _cycle_is_collected(make: Any) -> bool:
    """Whether the object *make* returns (after scheduling its own handle)
    goes once dropped, with only the collector left to find its cycle."""
    gc.collect()
    victim = make()
    ref = weakref.ref(victim)
    del victim
    gc.collect()
    return ref() is None


def test_a_handle_that_ran_holds_nothing_back(loop: EventLoop) -> None:
    # Compiled, the collector cannot see into a handle: a cycle through one
    # would never be freed if the handle kept its callback after running.
    def make() -> _HoldsItsHandle:
        holder = _HoldsItsHandle()
        holder.handles.append(loop.call_soon(holder.fire))
        holder.handles.append(loop.call_later(0, holder.fire))
        # A timer due now is collected before the ready callbacks run, so
        # both run in the iteration that stops the loop.
        loop.call_soon(loop.stop)
        loop.run_forever()
        return holder

    assert _cycle_is_collected(make)
    handle = loop.call_soon(print, "x")
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert "print" not in repr(handle)
    assert handle._callback is None
    assert handle._args is None
    assert isinstance(handle.get_context(), contextvars.Context)
    handle.cancel()  # after running: nothing to do, and no error


def test_a_cancelled_handle_holds_nothing_back(loop: EventLoop) -> None:
    def make() -> _HoldsItsHandle:
        holder = _HoldsItsHandle()
        holder.handles.append(loop.call_later(60, holder.fire))
        holder.handles.append(loop.call_soon(holder.fire))
        for handle in holder.handles:
            handle.cancel()
        return holder

    assert _cycle_is_collected(make)


def test_a_cycle_through_a_handles_context_is_collected(loop: EventLoop) -> None:
    # A request-scoped object in a context variable that keeps a timer made
    # in that context: handle -> context -> value -> object -> handle.
    var: contextvars.ContextVar[object] = contextvars.ContextVar("request")

    def make() -> _HoldsItsHandle:
        holder = _HoldsItsHandle()
        context = contextvars.copy_context()
        context.run(var.set, holder)
        holder.handles.append(context.run(loop.call_soon, print))
        loop.call_soon(loop.stop)
        loop.run_forever()
        return holder

    assert _cycle_is_collected(make)


def test_handles_still_pending_when_the_loop_closes_hold_nothing_back() -> None:
    def make() -> _HoldsItsHandle:
        loop = EventLoop()
        holder = _HoldsItsHandle()
        holder.handles.append(loop.call_later(60, holder.fire))
        holder.handles.append(loop.call_soon(holder.fire))
        loop.close()
        return holder

    assert _cycle_is_collected(make)


@pytest.mark.parametrize("ending", ["remove_reader", "add_reader", "close"])
def test_an_error_callback_is_let_go_with_its_reader(loop: EventLoop, ending: str) -> None:
    left, right = socket.socketpair()
    event_loop = EventLoop() if ending == "close" else loop
    holder = _HoldsItsHandle()
    try:
        event_loop.add_reader_with_errors(left, print, holder.fire)
        if ending == "remove_reader":
            assert event_loop.remove_reader(left)
        elif ending == "add_reader":
            event_loop.add_reader(left, print)
        else:
            event_loop.close()
        gone = weakref.ref(holder)
        del holder
        assert gone() is None
    finally:
        event_loop.remove_reader(left)
        event_loop.close()
        left.close()
        right.close()


def test_readers_run_again_and_again(loop: EventLoop) -> None:
    # Handles the loop runs at every event keep their callback.
    left, right = socket.socketpair()
    seen: list[bytes] = []

    def on_readable() -> None:
        seen.append(left.recv(10))
        if len(seen) == 3:
            loop.stop()
        else:
            right.send(b"again")

    with left, right:
        loop.add_reader(left, on_readable)
        right.send(b"first")
        loop.run_forever()
        assert loop.remove_reader(left)
    assert seen == [b"first", b"again", b"again"]


def test_get_context_returns_the_given_context(loop: EventLoop) -> None:
    context = contextvars.copy_context()
    handle = loop.call_soon(print, context=context)
    assert handle.get_context() is context
    handle.cancel()


def test_timer_handle_reports_when_and_orders_by_it(loop: EventLoop) -> None:
    early = loop.call_at(10.0, print)
    late = loop.call_at(20.0, print)
    assert isinstance(early, TimerHandle)
    assert early.when() == 10.0
    assert early < late
    assert late > early
    assert early <= late
    assert late >= early
    assert early != late
    early.cancel()
    late.cancel()


def test_exception_in_callback_goes_to_handler_and_loop_continues(loop: EventLoop) -> None:
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    after: list[str] = []

    def explode() -> None:
        raise ZeroDivisionError("boom")

    handle = loop.call_soon(explode)
    loop.call_soon(after.append, "still running")
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert after == ["still running"]
    assert len(reported) == 1
    assert isinstance(reported[0]["exception"], ZeroDivisionError)
    assert reported[0]["handle"] is handle
    assert "explode" in reported[0]["message"]


def test_keyboard_interrupt_in_callback_propagates(loop: EventLoop) -> None:
    def interrupt() -> None:
        raise KeyboardInterrupt

    loop.call_soon(interrupt)
    with pytest.raises(KeyboardInterrupt):
        loop.run_forever()
    assert not loop.is_running()


def test_repr_names_callback_and_state(loop: EventLoop) -> None:
    def my_callback(value: int) -> None:
        del value

    handle = loop.call_soon(my_callback, 42)
    assert repr(handle).startswith("<Handle ")
    assert "my_callback(42)" in repr(handle)
    timer = loop.call_later(5, my_callback, 1)
    assert "when=" in repr(timer)
    handle.cancel()
    timer.cancel()
    assert "cancelled" in repr(handle)


def test_format_callback_unwraps_partials() -> None:
    def target(a: int, b: int, *, c: int) -> None:
        del a, b, c

    inner = functools.partial(target, 1, c=3)
    outer = functools.partial(inner, 2)
    described = format_callback(outer, ("x",))
    assert described.endswith("<locals>.target(1, 2, 'x', c=3)")


def test_handle_is_usable_directly(loop: EventLoop) -> None:
    calls: list[int] = []
    handle = Handle(calls.append, (7,), loop)
    handle._run()
    assert calls == [7]


@pytest.mark.parametrize("bad", [None, 42, "text"])
def test_non_callables_are_rejected(loop: EventLoop, bad: Any) -> None:
    with pytest.raises(TypeError, match="callable"):
        loop.call_soon(bad)
    with pytest.raises(TypeError, match="callable"):
        loop.call_later(1, bad)
    with pytest.raises(TypeError, match="callable"):
        loop.call_soon_threadsafe(bad)


@pytest.mark.parametrize("bad", [None, "1", b"1", object()])
def test_bad_deadlines_are_refused_and_the_loop_goes_on(loop: EventLoop, bad: Any) -> None:
    # A bad deadline once went into the timer heap and stopped the loop at
    # its next iteration; it is a TypeError at the call, as in asyncio.
    with pytest.raises(TypeError):
        loop.call_at(bad, print)
    with pytest.raises(TypeError):
        loop.call_later(bad, print)
    fired: list[int] = []
    loop.call_later(0, fired.append, 1)
    loop.call_at(loop.time(), fired.append, 2)
    loop.call_later(False, fired.append, 3)  # as in asyncio, any real number will do
    loop.run_until_complete(asyncio.sleep(0.01))
    assert sorted(fired) == [1, 2, 3]


def test_coroutines_are_rejected(loop: EventLoop) -> None:
    async def coro() -> None:
        pass

    c = coro()
    with pytest.raises(TypeError, match="coroutines cannot be used"):
        loop.call_soon(c)  # type: ignore[arg-type]
    c.close()
    loop.set_debug(True)  # coroutine functions are only caught in debug mode, as in asyncio
    with pytest.raises(TypeError, match="coroutines cannot be used"):
        loop.call_later(0, coro)


def test_add_reader_tells_coroutine_functions_from_plain_callbacks(loop: EventLoop) -> None:
    class Watcher:
        def ready(self) -> None:
            pass

        async def ready_async(self) -> None:
            pass

    async def coro() -> None:
        pass

    def plain() -> None:
        pass

    def marked() -> None:
        pass

    def decorated() -> None:
        pass

    decorated.note = "an attribute in __dict__"  # type: ignore[attr-defined]
    if sys.version_info >= (3, 12):
        inspect.markcoroutinefunction(marked)
    else:
        marked._is_coroutine = asyncio.coroutines._is_coroutine  # type: ignore[attr-defined]
    watcher = Watcher()
    a, b = socket.socketpair()
    try:
        for rejected in (coro, watcher.ready_async, marked, functools.partial(coro)):
            with pytest.raises(TypeError, match="coroutines cannot be used with add_reader"):
                loop.add_reader(a.fileno(), rejected)
        for accepted in (plain, watcher.ready, decorated, functools.partial(plain), print):
            loop.add_reader(a.fileno(), accepted)
            assert loop.remove_reader(a.fileno())
    finally:
        a.close()
        b.close()


def test_asyncio_recognises_timer_interface(loop: EventLoop) -> None:
    timer = loop.call_later(1, print)
    # asyncio.timeout() only needs when() and cancel() of what call_at returns.
    assert isinstance(timer.when(), float)
    timer.cancel()
    assert asyncio.iscoroutinefunction(loop.sock_recv)


class _Owner:
    def get_debug(self) -> bool:
        return False

    def call_exception_handler(self, context: dict[str, object]) -> None:
        raise AssertionError(context)

    def _timer_handle_cancelled(self, handle: TimerHandle) -> None:
        pass


@pytest.mark.parametrize("seed", range(20))
def test_timer_heap_keeps_heapq_order_even_for_equal_due_times(seed: int) -> None:
    # The loop's own heap must pop timers exactly as asyncio's heapq would,
    # ties included, so equal due times fire in asyncio's order.
    rng = random.Random(seed)
    owner = _Owner()
    timers = [
        TimerHandle(rng.choice([rng.random(), 0.25, 0.5]), print, (), owner)
        for _ in range(rng.randint(1, 300))
    ]
    ours: list[TimerHandle] = []
    theirs: list[TimerHandle] = []
    for timer in timers:
        _heap_push(ours, timer)
        heapq.heappush(theirs, timer)
    assert [id(t) for t in ours] == [id(t) for t in theirs]
    popped = [_heap_pop(ours) for _ in range(len(ours) // 2)]
    expected = [heapq.heappop(theirs) for _ in range(len(popped))]
    assert all(a is b for a, b in zip(popped, expected, strict=True))
    assert all(a is b for a, b in zip(ours, theirs, strict=True))
    rng.shuffle(timers)
    rebuilt, reference = list(timers), list(timers)
    _heapify(rebuilt)
    heapq.heapify(reference)
    assert all(a is b for a, b in zip(rebuilt, reference, strict=True))
