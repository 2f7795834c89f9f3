"""Futures across threads: ``wrap_future`` and ``run_coroutine_threadsafe``.

A :class:`concurrent.futures.Future` completes in some worker thread; a loop
future may only be touched from its loop's thread. Chaining the two copies the
outcome across with ``call_soon_threadsafe`` and carries cancellation the
other way. Once the loop is closed there is nobody left to tell, so a late
outcome is dropped instead of scheduling a callback on a dead loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from typing import Any, TypeVar

from loop_core import isfuture

__all__ = ["chain_future", "run_coroutine_threadsafe", "wrap_future"]

_T = TypeVar("_T")


def _copy_outcome(source: Any, destination: Any) -> None:
    """Give *destination* the outcome of the finished *source* (if still pending)."""
    if isinstance(destination, concurrent.futures.Future):
        if source.cancelled():
            destination.cancel()
        if not destination.set_running_or_notify_cancel():
            return
    elif destination.done():
        return
    if source.cancelled():
        destination.cancel()
        return
    error = source.exception()
    if error is not None:
        destination.set_exception(_in_kind_of(destination, error))
    else:
        destination.set_result(source.result())


def _in_kind_of(destination: Any, error: BaseException) -> BaseException:
    """The concurrent.futures exceptions that asyncio has its own class for, as
    the destination's world knows them (so ``except asyncio.CancelledError``
    catches a cancellation raised in a worker thread)."""
    if isinstance(destination, concurrent.futures.Future):
        return error
    if type(error) is concurrent.futures.CancelledError:
        return asyncio.CancelledError(*error.args)
    if type(error) is concurrent.futures.InvalidStateError:
        return asyncio.InvalidStateError(*error.args)
    return error


def _loop_of(future: Any) -> asyncio.AbstractEventLoop | None:
    if isfuture(future):
        loop: asyncio.AbstractEventLoop = future.get_loop()
        return loop
    return None


def _call_in_loop(loop: asyncio.AbstractEventLoop | None, callback: Any, *args: Any) -> None:
    if loop is None:
        callback(*args)
        return
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:
        if not loop.is_closed():
            raise
        # The loop is gone: nobody can await the outcome any more.


def chain_future(source: Any, destination: Any) -> None:
    """Make *destination* follow *source*; cancelling *destination* cancels *source*.

    Each may be an asyncio-style future (of any loop) or a
    :class:`concurrent.futures.Future`.
    """
    source_loop = _loop_of(source)
    destination_loop = _loop_of(destination)

    def on_destination_done(done: Any) -> None:
        if done.cancelled() and not source.done():
            _call_in_loop(source_loop, source.cancel)

    def on_source_done(done: Any) -> None:
        if destination_loop is not None and destination_loop is source_loop:
            _copy_outcome(done, destination)
        else:
            _call_in_loop(destination_loop, _copy_outcome, done, destination)

    destination.add_done_callback(on_destination_done)
    source.add_done_callback(on_source_done)


def wrap_future(
    future: concurrent.futures.Future[_T] | asyncio.Future[_T],
    *,
    loop: asyncio.AbstractEventLoop | None = None,
) -> asyncio.Future[_T]:
    """Return a loop future that follows the :class:`concurrent.futures.Future` *future*.

    An asyncio-style future is returned unchanged. Cancelling the result
    cancels *future* (if it has not started running).
    """
    if isfuture(future):
        return future  # type: ignore[return-value]
    if not isinstance(future, concurrent.futures.Future):
        raise TypeError(f"concurrent.futures.Future is expected, got {type(future).__name__}")
    if loop is None:
        loop = asyncio.get_event_loop()
    wrapped: asyncio.Future[_T] = loop.create_future()
    chain_future(future, wrapped)
    return wrapped


def run_coroutine_threadsafe(
    coro: Coroutine[Any, Any, _T], loop: asyncio.AbstractEventLoop
) -> concurrent.futures.Future[_T]:
    """Run *coro* on *loop* from any other thread; return a concurrent future of its result.

    Cancelling the returned future cancels the task on the loop.
    """
    if not asyncio.iscoroutine(coro):
        raise TypeError(f"A coroutine object is required, got {type(coro).__name__}")
    result: concurrent.futures.Future[_T] = concurrent.futures.Future()

    def start() -> None:
        try:
            chain_future(asyncio.ensure_future(coro, loop=loop), result)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            if result.set_running_or_notify_cancel():
                result.set_exception(exc)
            raise

    loop.call_soon_threadsafe(start)
    return result
