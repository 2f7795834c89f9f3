"""Combining awaitables: sleep, ensure_future, gather, shield, wait, as_completed.

Each follows asyncio's documented semantics and works on any asyncio loop;
the futures it makes are loop-core Futures bound to the running loop. What
cancelling the result does is the subtle part, spelled out per function.
"""

from __future__ import annotations

import asyncio
import collections
import math
import types
from collections.abc import AsyncIterator, Awaitable, Generator, Iterable, Iterator
from typing import Any, Generic, Literal, TypeAlias, TypeVar, cast, overload

from loop_core._futures import Future, isfuture

__all__ = [
    "ALL_COMPLETED",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "as_completed",
    "cancel_and_wait",
    "ensure_future",
    "gather",
    "shield",
    "sleep",
    "wait",
]

_T = TypeVar("_T")
_T1 = TypeVar("_T1")
_T2 = TypeVar("_T2")
_T3 = TypeVar("_T3")
_T4 = TypeVar("_T4")
_T5 = TypeVar("_T5")
_T6 = TypeVar("_T6")
_FT = TypeVar("_FT", bound="asyncio.Future[Any]")

# What the combinators accept, as typeshed spells it for asyncio's.
_FutureLike: TypeAlias = "asyncio.Future[_T] | Awaitable[_T]"

FIRST_COMPLETED = asyncio.FIRST_COMPLETED
FIRST_EXCEPTION = asyncio.FIRST_EXCEPTION
ALL_COMPLETED = asyncio.ALL_COMPLETED


@types.coroutine
def _yield_to_loop() -> Generator[None, None, None]:
    # A bare yield: Task reschedules itself behind everything already ready.
    yield


def _resolve(future: Any, result: Any) -> None:
    if not future.done():
        future.set_result(result)


@overload
async def sleep(delay: float) -> None: ...


@overload
async def sleep(delay: float, result: _T) -> _T: ...


async def sleep(delay: float, result: Any = None) -> Any:
    """Suspend the current task for *delay* seconds, then return *result*.

    ``sleep(0)`` (or any delay <= 0) lets every other ready callback run once.
    """
    if math.isnan(delay):
        raise ValueError("Invalid delay: NaN (not a number)")
    if delay <= 0:
        await _yield_to_loop()
        return result
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    handle = loop.call_later(delay, _resolve, future, result)
    try:
        return await future
    finally:
        handle.cancel()


async def _await_any(awaitable: Awaitable[_T]) -> _T:
    return await awaitable


# The overlaps below are typeshed's too: a Future is also an Awaitable, and the
# first matching overload wins.
@overload
def ensure_future(  # type: ignore[overload-overlap]
    obj: _FT, *, loop: asyncio.AbstractEventLoop | None = None
) -> _FT: ...


@overload
def ensure_future(
    obj: Awaitable[_T], *, loop: asyncio.AbstractEventLoop | None = None
) -> asyncio.Task[_T]: ...


def ensure_future(
    obj: Awaitable[_T], *, loop: asyncio.AbstractEventLoop | None = None
) -> asyncio.Future[_T]:
    """Return *obj* if it is a future, else schedule it as a task.

    Coroutines become tasks of *loop* (default: the current loop); other
    awaitables are wrapped in a coroutine first.
    """
    # Annotations, not typing.cast: a cast is a function call on every child.
    future: asyncio.Future[_T]
    coro: Any
    if isfuture(obj):
        future = obj  # type: ignore[assignment]
        if loop is not None and loop is not future.get_loop():
            raise ValueError(
                "The future belongs to a different loop than the one specified as the loop argument"
            )
        return future
    if asyncio.iscoroutine(obj):
        coro = obj
    elif hasattr(obj, "__await__"):
        coro = _await_any(obj)
    else:
        raise TypeError("An asyncio.Future, a coroutine or an awaitable is required")
    if loop is None:
        loop = asyncio.get_event_loop()
    try:
        future = loop.create_task(coro)
    except RuntimeError:
        coro.close()  # never to run: don't let it warn that it was never awaited
        raise
    return future


def _cancellation_of(future: Any) -> asyncio.CancelledError:
    try:
        future.result()
    except asyncio.CancelledError as exc:
        return exc
    return asyncio.CancelledError()


class _Identity:
    """A dictionary key for an unhashable object: equal only to a key for the same object."""

    __slots__ = ("_obj",)

    def __init__(self, obj: object) -> None:
        self._obj = obj

    def __hash__(self) -> int:
        return id(self._obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Identity) and other._obj is self._obj


class _GatheringFuture(Future[list[Any]]):
    """The outer future of :func:`gather`: cancelling it cancels the children."""

    def __init__(self, children: list[Any], *, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop=loop)
        self._children = children
        self._cancel_requested = False

    def cancel(self, msg: Any | None = None) -> bool:
        if self.done():
            return False
        cancelled_any = False
        for child in self._children:
            if child.cancel(msg=msg):
                cancelled_any = True
        if cancelled_any:
            # The children's CancelledError will surface when they finish.
            self._cancel_requested = True
        return cancelled_any


@overload
def gather(  # type: ignore[overload-overlap]
    aw1: _FutureLike[_T1], /, *, return_exceptions: Literal[False] = False
) -> asyncio.Future[tuple[_T1]]: ...


@overload
def gather(  # type: ignore[overload-overlap]
    aw1: _FutureLike[_T1], aw2: _FutureLike[_T2], /, *, return_exceptions: Literal[False] = False
) -> asyncio.Future[tuple[_T1, _T2]]: ...


@overload
def gather(  # type: ignore[overload-overlap]
    aw1: _FutureLike[_T1],
    aw2: _FutureLike[_T2],
    aw3: _FutureLike[_T3],
    /,
    *,
    return_exceptions: Literal[False] = False,
) -> asyncio.Future[tuple[_T1, _T2, _T3]]: ...


@overload
def gather(  # type: ignore[overload-overlap]
    aw1: _FutureLike[_T1],
    aw2: _FutureLike[_T2],
    aw3: _FutureLike[_T3],
    aw4: _FutureLike[_T4],
    /,
    *,
    return_exceptions: Literal[False] = False,
) -> asyncio.Future[tuple[_T1, _T2, _T3, _T4]]: ...


@overload
def gather(  # type: ignore[overload-overlap]
    aw1: _FutureLike[_T1],
    aw2: _FutureLike[_T2],
    aw3: _FutureLike[_T3],
    aw4: _FutureLike[_T4],
    aw5: _FutureLike[_T5],
    /,
    *,
    return_exceptions: Literal[False] = False,
) -> asyncio.Future[tuple[_T1, _T2, _T3, _T4, _T5]]: ...


@overload
def gather(  # type: ignore[overload-overlap]
    aw1: _FutureLike[_T1],
    aw2: _FutureLike[_T2],
    aw3: _FutureLike[_T3],
    aw4: _FutureLike[_T4],
    aw5: _FutureLike[_T5],
    aw6: _FutureLike[_T6],
    /,
    *,
    return_exceptions: Literal[False] = False,
) -> asyncio.Future[tuple[_T1, _T2, _T3, _T4, _T5, _T6]]: ...


@overload
def gather(  # type: ignore[overload-overlap]
    *aws: _FutureLike[_T], return_exceptions: Literal[False] = False
) -> asyncio.Future[list[_T]]: ...


@overload
def gather(
    aw1: _FutureLike[_T1], /, *, return_exceptions: bool
) -> asyncio.Future[tuple[_T1 | BaseException]]: ...


@overload
def gather(
    aw1: _FutureLike[_T1], aw2: _FutureLike[_T2], /, *, return_exceptions: bool
) -> asyncio.Future[tuple[_T1 | BaseException, _T2 | BaseException]]: ...


@overload
def gather(
    aw1: _FutureLike[_T1],
    aw2: _FutureLike[_T2],
    aw3: _FutureLike[_T3],
    /,
    *,
    return_exceptions: bool,
) -> asyncio.Future[tuple[_T1 | BaseException, _T2 | BaseException, _T3 | BaseException]]: ...


@overload
def gather(
    aw1: _FutureLike[_T1],
    aw2: _FutureLike[_T2],
    aw3: _FutureLike[_T3],
    aw4: _FutureLike[_T4],
    /,
    *,
    return_exceptions: bool,
) -> asyncio.Future[
    tuple[_T1 | BaseException, _T2 | BaseException, _T3 | BaseException, _T4 | BaseException]
]: ...


@overload
def gather(
    aw1: _FutureLike[_T1],
    aw2: _FutureLike[_T2],
    aw3: _FutureLike[_T3],
    aw4: _FutureLike[_T4],
    aw5: _FutureLike[_T5],
    /,
    *,
    return_exceptions: bool,
) -> asyncio.Future[
    tuple[
        _T1 | BaseException,
        _T2 | BaseException,
        _T3 | BaseException,
        _T4 | BaseException,
        _T5 | BaseException,
    ]
]: ...


@overload
def gather(
    aw1: _FutureLike[_T1],
    aw2: _FutureLike[_T2],
    aw3: _FutureLike[_T3],
    aw4: _FutureLike[_T4],
    aw5: _FutureLike[_T5],
    aw6: _FutureLike[_T6],
    /,
    *,
    return_exceptions: bool,
) -> asyncio.Future[
    tuple[
        _T1 | BaseException,
        _T2 | BaseException,
        _T3 | BaseException,
        _T4 | BaseException,
        _T5 | BaseException,
        _T6 | BaseException,
    ]
]: ...


@overload
def gather(
    *aws: _FutureLike[_T], return_exceptions: bool
) -> asyncio.Future[list[_T | BaseException]]: ...


def gather(*aws: Awaitable[Any], return_exceptions: bool = False) -> asyncio.Future[Any]:
    """Run *aws* concurrently; the result is the list of their results, in order.

    Without *return_exceptions* the first exception is raised (the others keep
    running); with it, exceptions are returned in the list. Cancelling the
    returned future cancels every child still running.
    """
    if not aws:
        empty = asyncio.get_event_loop().create_future()
        empty.set_result([])
        return cast("asyncio.Future[list[Any]]", empty)

    loop: asyncio.AbstractEventLoop | None = None
    children: list[Any] = []
    # Each distinct argument once (the same coroutine given twice runs once),
    # told apart as asyncio does, by hash and equality; an unhashable awaitable
    # (asyncio refuses those) by identity. Distinct arguments have distinct
    # children, so this also counts them.
    by_argument: dict[Any, Any] = {}
    outer: _GatheringFuture | None = None
    remaining = 0

    def on_child_done(child: Any) -> None:
        nonlocal remaining
        if outer is None or outer.done():
            # Done already, or gather() itself failed on a later argument.
            if not child.cancelled():
                child.exception()  # retrieved, so it is not reported as lost
            return
        if not return_exceptions:
            if child.cancelled():
                outer.set_exception(_cancellation_of(child))
                return
            error = child.exception()
            if error is not None:
                outer.set_exception(error)
                return
        remaining -= 1
        if remaining:
            return
        results: list[Any] = []
        for each in children:
            if each.cancelled():
                results.append(_cancellation_of(each))
            else:
                error = each.exception()
                results.append(each.result() if error is None else error)
        if outer._cancel_requested:
            # A cancelled gather raises CancelledError even with return_exceptions.
            outer.set_exception(_cancellation_of(child))
        else:
            outer.set_result(results)

    for aw in aws:
        key: Any = aw
        try:
            child = by_argument.get(key)
        except TypeError:
            key = _Identity(aw)
            child = by_argument.get(key)
        if child is None:
            child = ensure_future(aw, loop=loop)
            if loop is None:
                loop = child.get_loop()
            by_argument[key] = child
            # Callbacks run from the loop, never in here: outer and remaining
            # are set before the first one can.
            child.add_done_callback(on_child_done)
        children.append(child)
    assert loop is not None
    remaining = len(by_argument)
    outer = _GatheringFuture(children, loop=loop)
    return cast("asyncio.Future[list[Any]]", outer)


def shield(arg: _FutureLike[_T]) -> asyncio.Future[_T]:
    """Protect *arg* from cancellation of the awaiting task.

    Cancelling the returned future (or the task awaiting it) leaves *arg*
    running; its result is then simply not delivered.
    """
    inner = ensure_future(arg)
    if inner.done():
        return inner
    loop = inner.get_loop()
    outer = cast("asyncio.Future[_T]", Future(loop=loop))

    def on_inner_done(done_inner: Any) -> None:
        if outer.cancelled():
            if not done_inner.cancelled():
                done_inner.exception()
            return
        if done_inner.cancelled():
            outer.cancel()
            return
        error = done_inner.exception()
        if error is not None:
            outer.set_exception(error)
        else:
            outer.set_result(done_inner.result())

    def on_outer_done(_: Any) -> None:
        if not inner.done():
            inner.remove_done_callback(on_inner_done)

    inner.add_done_callback(on_inner_done)
    outer.add_done_callback(on_outer_done)
    return outer


def _check_futures_argument(fs: object, what: str) -> None:
    if isfuture(fs) or asyncio.iscoroutine(fs):
        raise TypeError(f"expect {what} of futures, not {type(fs).__name__}")


async def wait(
    fs: Iterable[_FT],
    *,
    timeout: float | None = None,
    return_when: str = ALL_COMPLETED,
) -> tuple[set[_FT], set[_FT]]:
    """Wait for the futures and tasks in *fs*; return the sets ``(done, pending)``.

    *return_when* is FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED; after
    *timeout* seconds it returns whatever is done. Nothing is cancelled.
    """
    _check_futures_argument(fs, "a list")
    pending = set(fs)
    if not pending:
        raise ValueError("Set of Tasks/Futures is empty.")
    if return_when not in (FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED):
        raise ValueError(f"Invalid return_when value: {return_when}")
    if any(asyncio.iscoroutine(f) for f in pending):
        raise TypeError("Passing coroutines is forbidden, use tasks explicitly.")
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()
    timer = loop.call_later(timeout, _resolve, waiter, None) if timeout is not None else None
    remaining = [len(pending)]
    # Decided once: on_done runs for every future.
    on_first = return_when == FIRST_COMPLETED
    on_exception = return_when == FIRST_EXCEPTION

    def on_done(future: Any) -> None:
        remaining[0] -= 1
        if (
            remaining[0] <= 0
            or on_first
            or (on_exception and not future.cancelled() and future.exception() is not None)
        ) and not waiter.done():
            waiter.set_result(None)

    for future in pending:
        future.add_done_callback(on_done)
    try:
        await waiter
    finally:
        if timer is not None:
            timer.cancel()
        for future in pending:
            future.remove_done_callback(on_done)
    done = {f for f in pending if f.done()}
    return done, pending - done


async def cancel_and_wait(future: Any) -> None:
    """Cancel *future* and wait until it is really done (not merely asked to stop)."""
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()

    def on_done(_: Any) -> None:
        _resolve(waiter, None)

    future.add_done_callback(on_done)
    try:
        future.cancel()
        await waiter
    finally:
        future.remove_done_callback(on_done)


def _done_or_timed_out(item: Any) -> Any:
    # None is what _AsCompleted delivers for each awaitable still missing at the timeout.
    if item is None:
        raise TimeoutError
    return item


class _AsCompleted(Generic[_T]):
    """What :func:`as_completed` returns: iterable both ways."""

    def __init__(self, aws: Iterable[_FutureLike[_T]], timeout: float | None) -> None:
        loop = asyncio.get_event_loop()
        self._todo = {ensure_future(aw, loop=loop) for aw in set(aws)}
        self._left = len(self._todo)
        self._finished: collections.deque[Any] = collections.deque()
        self._waiters: collections.deque[Any] = collections.deque()
        self._loop = loop
        self._timer: Any = None
        # One bound method for all of them: a new one per future is as many
        # more objects for the cycle collector to walk while they wait.
        on_done = self._on_done
        for future in self._todo:
            future.add_done_callback(on_done)
        if self._todo and timeout is not None:
            self._timer = loop.call_later(timeout, self._on_timeout)

    def _deliver(self, item: Any) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        self._finished.append(item)

    def _on_done(self, future: Any) -> None:
        if future not in self._todo:
            return
        self._todo.discard(future)
        self._deliver(future)
        if not self._todo and self._timer is not None:
            self._timer.cancel()

    def _on_timeout(self) -> None:
        for future in self._todo:
            future.remove_done_callback(self._on_done)
            self._deliver(None)  # None marks "timed out" for each one still missing
        self._todo.clear()

    def _new_waiter(self) -> Any:
        waiter = self._loop.create_future()
        self._waiters.append(waiter)
        return waiter

    async def _next_done(self) -> Any:
        item = self._finished.popleft() if self._finished else await self._new_waiter()
        return _done_or_timed_out(item)

    async def _next_result(self) -> Any:
        # _next_done's steps in the same coroutine: one coroutine per item, not two.
        item = self._finished.popleft() if self._finished else await self._new_waiter()
        return _done_or_timed_out(item).result()  # done: result() is what awaiting gives

    def __iter__(self) -> Iterator[Awaitable[_T]]:
        return self

    def __next__(self) -> Awaitable[_T]:
        if self._left <= 0:
            raise StopIteration
        self._left -= 1
        return self._next_result()

    def __aiter__(self) -> AsyncIterator[asyncio.Future[_T]]:
        return self

    async def __anext__(self) -> asyncio.Future[_T]:
        if self._left <= 0:
            raise StopAsyncIteration
        self._left -= 1
        done: asyncio.Future[_T] = await self._next_done()
        return done


def as_completed(
    fs: Iterable[_FutureLike[_T]], *, timeout: float | None = None
) -> _AsCompleted[_T]:
    """Yield the awaitables of *fs* as they finish.

    ``for aw in as_completed(fs)`` gives awaitables returning each result in
    completion order; ``async for task in as_completed(fs)`` gives the tasks
    and futures themselves. After *timeout* seconds, :class:`TimeoutError`.
    """
    _check_futures_argument(fs, "an iterable")
    return _AsCompleted(fs, timeout)
