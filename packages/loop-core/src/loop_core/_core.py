"""The loop's native core: handles, the ready queue, timers and polling.

:class:`LoopCore` is compiled with mypyc and is the first base of the public
:class:`~loop_core.EventLoop`, which never redefines the methods defined here:
``call_soon`` from Python code or from asyncio's C Task lands in native code
with no interpreted frame in between. One iteration (:func:`_run_once`) polls
for I/O, moves due timers to the ready queue and runs every handle that was
ready when the iteration began; what those schedule waits for the next one.

Inside the core, work goes through module-level functions and native
attributes, never ``self.method()``: on an instance of the interpreted
subclass such calls go through mypyc's glue, several times slower. The
handle classes live here too, so that creating and running one never leaves
native code.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import heapq
import inspect
import logging
import numbers
import reprlib
import socket
import threading
import time
import traceback
import types
import weakref
from collections.abc import Callable, Coroutine, Generator
from typing import Any, Final, TypeVar, TypeVarTuple, cast, final

from mypy_extensions import mypyc_attr

from loop_core._wakeup import Wakeup
from loop_core.pollers import (
    _FAILED,
    _HANGS_UP,
    _WAKES_READER,
    _WAKES_WRITER,
    EVENT_READ,
    EVENT_WRITE,
    EdgePoller,
    EpollPoller,
    Poller,
)

__all__ = ["CallSoonAttribute", "Handle", "LoopCore", "TimerHandle", "format_callback"]

# Interpreted, a frame that a traceback reaches outlives its call; compiled
# code has no frames to keep (see the end of Handle._run).
_INTERPRETED: Final = __file__.endswith(".py")

_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")

# Final module attributes are C statics in the compiled module: calling one
# skips the module-dictionary lookup that a plain imported name costs, and
# Context.run bound once skips a method lookup per callback.
_copy_context: Final = contextvars.copy_context
_run_in_context: Final = contextvars.Context.run
_monotonic: Final = time.monotonic
_NO_ATTRIBUTES: Final[dict[str, object]] = {}

logger = logging.getLogger("loop_core")

# Rebuild the heap when more than a quarter of it is cancelled timers, but not
# for tiny heaps where popping them lazily is cheaper. Each cancelled timer
# popped at the head costs a sift through the whole depth of the heap, while
# a rebuild touches each live timer about twice: with 100k timers, half of
# them cancelled, rebuilding at a quarter (asyncio waits for a half) cut the
# benchmark's CPU per timer from about 1070 ns to 870 ns. The amortised cost
# stays constant: at most four timers are rebuilt per cancellation.
_MIN_HEAP_TO_COMPACT: Final = 100

# asyncio caps a poll's timeout at one day: a far deadline ("no timeout" as
# some libraries spell it) must not overflow the platform's time_t.
_MAX_POLL_TIMEOUT: Final = 24 * 3600.0


def format_callback(callback: object, args: tuple[object, ...] | None) -> str:
    """Return a short description of a call, as ``name(arg, ...)``.

    ``functools.partial`` objects are unwrapped so the description names the
    function that will really run.
    """
    func = callback
    positional: tuple[object, ...] = ()
    keywords: dict[str, object] = {}
    while isinstance(func, functools.partial):
        positional = tuple(func.args) + positional
        keywords = {**func.keywords, **keywords}
        func = func.func
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)
    shown = [reprlib.repr(a) for a in positional + (args or ())]
    shown += [f"{k}={reprlib.repr(v)}" for k, v in keywords.items()]
    return f"{name}({', '.join(shown)})"


def _owner_is_debugging(loop: Any) -> bool:
    if isinstance(loop, LoopCore):
        return loop._debug
    return loop is not None and bool(loop.get_debug())


# Compiled, handles are invisible to the cycle collector (acyclic=True): a
# loop makes two collector-tracked objects per callback otherwise, the handle
# and its context, and with many timers pending the collector's passes were a
# fifth of the cost of scheduling one. The collector cannot see what such a
# handle refers to, so a reference cycle through one would never be
# collected; a handle therefore lets go of its callback, arguments, context
# and loop as soon as it cannot run any more: once it ran (unless the loop
# runs it again and again: readers, writers, signal handlers), when it is
# cancelled, and when its loop closes.
@mypyc_attr(free_list_len=1, acyclic=True)
class Handle:
    """A callback scheduled on a loop, which :meth:`cancel` can withdraw.

    *loop* is our :class:`~loop_core.EventLoop` or anything with asyncio's
    ``get_debug``, ``call_exception_handler`` and ``_timer_handle_cancelled``.
    *debug* says whether to record where the handle was made (for debug-mode
    reports); ``None``, the default, asks the loop.

    Once a handle can no longer run (it ran, it was cancelled, or its loop
    closed) it holds none of the objects it was given: its repr no longer
    names the callback, and :meth:`get_context` returns an empty context.
    """

    # Slots matter for the interpreted build only (a compiled class has no
    # instance dictionary anyway): a loop makes a handle per callback.
    __slots__ = (
        "_args",
        "_callback",
        "_cancelled",
        "_context",
        "_loop",
        "_repeats",
        "_repr",
        "_source_traceback",
    )

    _callback: Callable[..., object] | None
    _args: tuple[object, ...] | None
    _cancelled: bool
    _loop: Any
    _context: contextvars.Context | None
    _source_traceback: traceback.StackSummary | None
    _repr: str | None
    # Run by the loop whenever its descriptor or signal is ready, rather than
    # once: it keeps its references after running.
    _repeats: bool

    def __init__(
        self,
        callback: Callable[..., object],
        args: tuple[object, ...],
        loop: Any,
        context: contextvars.Context | None = None,
        debug: bool | None = None,
    ) -> None:
        self._callback = callback
        self._args = args
        self._cancelled = False
        self._loop = loop
        self._context = _copy_context() if context is None else context
        self._repr = None
        self._repeats = False
        if debug is None:
            debug = _owner_is_debugging(loop)
        if debug:
            self._source_traceback = traceback.extract_stack()
        else:
            self._source_traceback = None

    def get_context(self) -> contextvars.Context:
        """Return the :class:`contextvars.Context` the callback runs in."""
        context = self._context
        return contextvars.Context() if context is None else context

    def cancel(self) -> None:
        """Withdraw the call; nothing happens if it already ran or was cancelled."""
        if not self._cancelled:
            self._cancelled = True
            if _owner_is_debugging(self._loop):
                # Keep the description for debugging after the references go.
                self._repr = repr(self)
            self._release()

    def _release(self) -> None:
        """Let go of everything the handle was given: it will not run again."""
        self._callback = None
        self._args = None
        self._context = None
        self._loop = None

    def cancelled(self) -> bool:
        """Return ``True`` if the call was cancelled."""
        return self._cancelled

    def _run(self) -> None:
        callback = self._callback
        args = self._args
        context = self._context
        if callback is None or args is None or context is None:
            return
        try:
            # Spelled out by count: a compiled call with *args builds a list
            # and a tuple first, one with fixed arguments calls directly.
            count = len(args)
            if count == 0:
                _run_in_context(context, callback)
            elif count == 1:
                _run_in_context(context, callback, args[0])
            elif count == 2:
                _run_in_context(context, callback, args[0], args[1])
            else:
                _run_in_context(context, callback, *args)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            report: dict[str, Any] = {
                "message": f"Exception in callback {format_callback(callback, args)}",
                "exception": exc,
                "handle": self,
            }
            if self._source_traceback is not None:
                report["source_traceback"] = self._source_traceback
            loop = self._loop
            if loop is None:
                # The loop's own wake-up reader, which has no loop to tell.
                raise
            loop.call_exception_handler(report)
        if not self._repeats:
            # Run once: it holds nothing from now on (see the note above).
            # What _release() does, spelled out: interpreted, a method call
            # per callback costs more than the four assignments.
            self._callback = None
            self._args = None
            self._context = None
            self._loop = None
        if _INTERPRETED:
            # A traceback stored by the callback (a failed Task step) links
            # back to this frame: holding the callback here would make
            # exception -> traceback -> frame -> task a cycle, and the task's
            # "exception was never retrieved" would wait for the collector.
            callback = args = context = None
            self = None  # type: ignore[assignment]  # noqa: PLW0642

    def _repr_parts(self) -> list[str]:
        parts = [type(self).__name__]
        if self._cancelled:
            parts.append("cancelled")
        if self._callback is not None:
            parts.append(format_callback(self._callback, self._args))
        if self._source_traceback:
            frame = self._source_traceback[-1]
            parts.append(f"created at {frame.filename}:{frame.lineno}")
        return parts

    def __repr__(self) -> str:
        if self._repr is not None:
            return self._repr
        return "<" + " ".join(self._repr_parts()) + ">"


@mypyc_attr(free_list_len=1, acyclic=True)
class TimerHandle(Handle):
    """A :class:`Handle` due at a point of the loop's clock (see :meth:`when`)."""

    __slots__ = ("_scheduled", "_when")

    _when: float
    _scheduled: bool

    def __init__(
        self,
        when: float,
        callback: Callable[..., object],
        args: tuple[object, ...],
        loop: Any,
        context: contextvars.Context | None = None,
        debug: bool | None = None,
    ) -> None:
        super().__init__(callback, args, loop, context, debug)
        self._when = when
        self._scheduled = False

    def when(self) -> float:
        """Return the loop time (as :meth:`EventLoop.time`) the call is due."""
        return self._when

    def cancel(self) -> None:
        """Withdraw the call; a scheduled timer is dropped from the loop's heap lazily."""
        if not self._cancelled and self._scheduled:
            loop = self._loop
            if isinstance(loop, LoopCore):
                loop._cancelled_timers += 1
            else:
                loop._timer_handle_cancelled(self)
        super().cancel()

    def _repr_parts(self) -> list[str]:
        parts = super()._repr_parts()
        parts.insert(2 if self._cancelled else 1, f"when={self._when}")
        return parts

    def __lt__(self, other: object) -> bool:
        if isinstance(other, TimerHandle):
            return self._when < other._when
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if isinstance(other, TimerHandle):
            return self._when < other._when or self.__eq__(other)
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if isinstance(other, TimerHandle):
            return self._when > other._when
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if isinstance(other, TimerHandle):
            return self._when > other._when or self.__eq__(other)
        return NotImplemented

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TimerHandle):
            return (
                self._when == other._when
                and self._callback == other._callback
                and self._args == other._args
                and self._cancelled == other._cancelled
            )
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._when)


# The timer heap. heapq's functions would compare timers through the rich
# comparison slot, one call per step; these compare the due times directly.
# The algorithm is heapq's (push sifts towards the root, pop sifts the last
# leaf down from the root and back up). Which of several timers due at the
# same time runs first is undefined in asyncio's documentation; as long as no
# rebuild intervenes it is the order heapq would give.


def _sift_towards_root(heap: list[TimerHandle], root: int, position: int) -> None:
    item = heap[position]
    when = item._when
    while position > root:
        parent_position = (position - 1) >> 1
        parent = heap[parent_position]
        if when < parent._when:
            heap[position] = parent
            position = parent_position
        else:
            break
    heap[position] = item


def _sift_towards_leaves(heap: list[TimerHandle], position: int) -> None:
    end = len(heap)
    start = position
    item = heap[position]
    child = 2 * position + 1
    while child < end:
        right = child + 1
        if right < end and not heap[child]._when < heap[right]._when:
            child = right
        heap[position] = heap[child]
        position = child
        child = 2 * position + 1
    heap[position] = item
    _sift_towards_root(heap, start, position)


# Interpreted, the sifting above is slower than heapq's C functions, which
# order the heap identically: the pure build uses those.


def _heap_push(heap: list[TimerHandle], timer: TimerHandle) -> None:
    if _INTERPRETED:
        heapq.heappush(heap, timer)
        return
    heap.append(timer)
    _sift_towards_root(heap, 0, len(heap) - 1)


def _heap_pop(heap: list[TimerHandle]) -> TimerHandle:
    if _INTERPRETED:
        return heapq.heappop(heap)
    last = heap.pop()
    if not heap:
        return last
    first = heap[0]
    heap[0] = last
    _sift_towards_leaves(heap, 0)
    return first


def _heapify(heap: list[TimerHandle]) -> None:
    if _INTERPRETED:
        heapq.heapify(heap)
        return
    for position in range(len(heap) // 2 - 1, -1, -1):
        _sift_towards_leaves(heap, position)


# Argument checks: the slow branch of every scheduling method.


_BUILTIN_METHOD: Final = types.BuiltinMethodType


def check_callback(callback: object, method: str) -> None:
    """Raise :class:`TypeError` unless *callback* is a callable that is not a coroutine."""
    if type(callback) is _BUILTIN_METHOD:
        # A C or compiled function or method (a native transport core's
        # readiness callback): never a coroutine function, whatever it
        # returns, and no marker can be set on it. asyncio's test below
        # costs about 12,000 instructions.
        return
    function = callback.__func__ if type(callback) is types.MethodType else callback
    if type(function) is types.FunctionType and not function.__dict__:
        # The usual callback, a plain function or method, carries no
        # coroutine marker (markers live in __dict__): its code flags decide.
        if function.__code__.co_flags & inspect.CO_COROUTINE:
            raise TypeError(f"coroutines cannot be used with {method}()")
        return
    if asyncio.iscoroutine(callback) or asyncio.iscoroutinefunction(callback):
        raise TypeError(f"coroutines cannot be used with {method}()")
    if not callable(callback):
        raise TypeError(f"a callable object was expected by {method}(), got {callback!r}")


def _is_callable(core: LoopCore, obj: object) -> bool:
    """``callable(obj)``, remembering the last two callable types the loop saw.

    Whether an object is callable depends on its type alone (its tp_call
    slot), so a type seen callable once stays so. Compiled code reaches
    ``callable`` through the builtins module; two identity checks are far
    cheaper, and a loop's callbacks are mostly of two kinds (a task's step
    and a plain function).
    """
    kind = type(obj)
    if kind is core._callable_type or kind is core._other_callable_type:
        return True
    if not callable(obj):
        return False
    core._other_callable_type = core._callable_type
    core._callable_type = kind
    return True


def _raise_closed() -> None:
    raise RuntimeError("Event loop is closed")


def _check_thread(core: LoopCore) -> None:
    if core._thread_id and core._thread_id != threading.get_ident():
        raise RuntimeError(
            "Non-thread-safe operation invoked on an event loop other than the current one"
        )


def _check_scheduling(core: LoopCore, callback: object, method: str) -> None:
    if core._closed:
        _raise_closed()
    if core._debug:
        _check_thread(core)
        check_callback(callback, method)
    elif not callable(callback):
        # Coroutine objects land here; coroutine functions are callable
        # and, as in asyncio, only caught in debug mode (the check is slow).
        check_callback(callback, method)


def _checked_time(value: object, method: str, name: str) -> float:
    """*value* as a float, or the TypeError asyncio gives for None (and a
    clear one for anything else that is not a real number). Without this a
    bad deadline would only fail inside the timer heap, stopping the loop."""
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"{method}(): {name} must be a real number, not {type(value).__name__!r}")


def fileno_of(fd: Any) -> int:
    """Return the descriptor number of *fd* (an int or an object with ``fileno()``)."""
    if isinstance(fd, int):
        number: int = fd
    else:
        try:
            number = int(fd.fileno())
        except (AttributeError, TypeError, ValueError):
            raise ValueError(f"Invalid file object: {fd!r}") from None
    if number < 0:
        raise ValueError(f"Invalid file descriptor: {number}")
    return number


# The core's work, as functions: see the module docstring for why.


def _clock(core: LoopCore) -> float:
    if core._virtual:
        return core._virtual_now
    return _monotonic()


def _now(core: LoopCore) -> float:
    """The time the loop schedules by: its clock, or what an overriding
    ``time`` says (a subclass, or ``loop.time`` patched by a test), as
    asyncio's loop does by calling ``self.time()``."""
    # A patch lands in the instance's __dict__. Compiled, EventLoop.__setattr__
    # reports it in _time_overridden; interpreted, where a __setattr__ would
    # tax every attribute the iteration sets, it is looked up here.
    if core._time_overridden or (
        _INTERPRETED and "time" in getattr(core, "__dict__", _NO_ATTRIBUTES)
    ):
        return float(getattr(core, "time")())  # noqa: B009 - the Python-level lookup is the point
    # _clock's two lines again: a call fewer per timer in the pure build.
    if core._virtual:
        return core._virtual_now
    return _monotonic()


def _schedule_timer(
    core: LoopCore,
    when: float,
    callback: Callable[..., object],
    args: tuple[object, ...],
    context: contextvars.Context | None,
    method: str,
) -> TimerHandle:
    if core._closed or core._debug or not _is_callable(core, callback):
        _check_scheduling(core, callback, method)
    timer = TimerHandle(when, callback, args, core, context, core._debug)
    timer._scheduled = True
    _heap_push(core._timers, timer)
    return timer


def _update_interest(core: LoopCore, fd: int) -> None:
    # An empty dict is asked its size, not searched: compiled, each search
    # boxes fd and hashes it (about 150 instructions), and most servers have
    # no edge-triggered entry and no writer waiting.
    if core._edge_masks and fd in core._edge_masks:
        _level_from_edge(core, fd)
        return
    wanted = EVENT_READ if core._readers and fd in core._readers else 0
    if core._writers and fd in core._writers:
        wanted |= EVENT_WRITE
    registered = core._registered
    current = registered.get(fd, 0)
    if wanted == current:
        return
    # Our own epoll poller natively; any other through its interface.
    epoll = core._epoll
    if wanted == 0:
        del registered[fd]
        if epoll is not None:
            epoll.unregister(fd)
        else:
            core._poller.unregister(fd)
    elif current == 0:
        if epoll is not None:
            epoll.register(fd, wanted)
        else:
            core._poller.register(fd, wanted)
        registered[fd] = wanted
    else:
        if epoll is not None:
            epoll.modify(fd, wanted)
        else:
            core._poller.modify(fd, wanted)
        registered[fd] = wanted


# Socket waits (loop_core._sockets) are watched edge-triggered where the poller
# can, and their registration is left in place when a wait ends: a socket
# served by sock_recv/sock_sendall then costs no epoll_ctl per request (it
# cost two, about 5 us of kernel time). Each wait starts only after its call
# failed with EAGAIN, so the next change of state is an edge that reaches it.
# A lingering entry is dropped at the first edge nobody waits for, and is
# trusted again only for the same socket object (a weak reference): a closed
# socket's entry leaves epoll with it, and a new socket reusing the number must
# be registered afresh.
#
# An entry also tells when a read would fail. Once a read from a stream
# socket returned fewer bytes than asked for, it took all that was queued, and
# every later arrival is an edge that reaches the loop: until one does,
# sock_recv waits without trying. The failed read this saves (a system call
# and a BlockingIOError) is most of a request's cost to a sock_* server
# between requests. The peer's end of stream is an edge too, but a read that
# returns data and leaves it pending (both came before the read) cannot see
# it: epoll's EPOLLRDHUP in an entry's events says it came, and such an entry
# is not trusted to be empty again.
_READ_STREAM: Final = 1  # the entry's socket is a stream socket
_READ_EMPTY: Final = 2  # a read found nothing left since the last read edge
_READ_HUNG_UP: Final = 4  # the peer's end of stream or an error was reported


def _edge_watch(
    core: LoopCore, poller: EdgePoller, sock: object, fd: int, write: bool, handle: Handle
) -> None:
    bit = EVENT_WRITE if write else EVENT_READ
    masks = core._edge_masks
    current = masks.get(fd, 0)
    if current and _entry_is_for(core, fd, sock):
        if not current & bit:
            poller.register_edge(fd, current | bit, True)
            masks[fd] = current | bit
    else:
        wanted = bit
        if fd in core._edge_readers:
            wanted |= EVENT_READ
        if fd in core._edge_writers:
            wanted |= EVENT_WRITE
        poller.register_edge(fd, wanted, current != 0)
        masks[fd] = wanted
        core._edge_owners[fd] = weakref.ref(sock)
        core._edge_reads[fd] = _READ_STREAM if _is_stream_socket(sock) else 0
    waiters = core._edge_writers if write else core._edge_readers
    previous = waiters.get(fd)
    waiters[fd] = handle
    if previous is None:
        core._edge_waiting += 1
    else:
        previous.cancel()


def wait_for_socket(
    core: LoopCore, sock: object, fd: int, write: bool, callback: Callable[[], object]
) -> None:
    """Call *callback* when *sock* (descriptor *fd*) may be ready for a call
    that would fail with EAGAIN now; until :func:`stop_waiting_for_socket`."""
    if core._closed:
        _raise_closed()
    handle = Handle(callback, (), core, None, core._debug)
    handle._repeats = True
    poller = core._edge_poller
    if poller is None or fd in core._registered:
        # No edge-triggered poller, or already watched level-triggered
        # (add_reader): the wait is an ordinary watch.
        _watch(core, core._writers if write else core._readers, fd, handle)
    else:
        _edge_watch(core, poller, sock, fd, write, handle)


def stop_waiting_for_socket(core: LoopCore, fd: int, write: bool) -> None:
    """End the wait started by :func:`wait_for_socket`; its entry lingers."""
    if core._closed:
        return
    waiter = (core._edge_writers if write else core._edge_readers).pop(fd, None)
    if waiter is not None:
        core._edge_waiting -= 1
        waiter.cancel()
    else:
        _unwatch(core, core._writers if write else core._readers, fd)


def _entry_is_for(core: LoopCore, fd: int, sock: object) -> bool:
    """Whether *fd*'s edge-triggered entry was made for this very *sock*."""
    owner = core._edge_owners.get(fd)
    return owner is not None and owner() is sock


def _is_stream_socket(sock: object) -> bool:
    # Exactly socket.socket: a subclass may keep read data of its own (an
    # SSLSocket does), which no edge reports.
    return type(sock) is socket.socket and sock.type == socket.SOCK_STREAM


def socket_read_is_empty(core: LoopCore, sock: object, fd: int) -> bool:
    """Whether a read from *sock* (descriptor *fd*) is known to fail with EAGAIN."""
    return bool(core._edge_reads.get(fd, 0) & _READ_EMPTY) and _entry_is_for(core, fd, sock)


def note_socket_read(core: LoopCore, sock: object, fd: int, received: int, asked: int) -> None:
    """After a read from *sock* (descriptor *fd*) returned *received* of *asked* bytes."""
    if received == 0 or received >= asked:
        return  # the end of stream stays readable; a full read may leave more
    state = core._edge_reads.get(fd)
    if state is None or state & _READ_HUNG_UP or not state & _READ_STREAM:
        return
    if not core._edge_masks.get(fd, 0) & EVENT_READ:
        return  # arrivals are not reported
    if _entry_is_for(core, fd, sock):
        core._edge_reads[fd] = state | _READ_EMPTY


def _drop_edge(core: LoopCore, fd: int) -> None:
    del core._edge_masks[fd]
    core._edge_owners.pop(fd, None)
    core._edge_reads.pop(fd, None)
    core._poller.unregister(fd)


def _level_from_edge(core: LoopCore, fd: int) -> None:
    """A level-triggered watch on a descriptor with an edge-triggered entry:
    the socket waits on it become ordinary watches (unless the new watch
    replaces one) and the entry turns level-triggered."""
    edge_reader = core._edge_readers.get(fd)
    edge_writer = core._edge_writers.get(fd)
    wanted = (EVENT_READ if fd in core._readers or edge_reader is not None else 0) | (
        EVENT_WRITE if fd in core._writers or edge_writer is not None else 0
    )
    poller = core._edge_poller
    assert poller is not None  # edge entries exist only with an edge-triggering poller
    poller.reregister(fd, wanted)
    del core._edge_masks[fd]
    core._edge_owners.pop(fd, None)
    core._edge_reads.pop(fd, None)
    core._registered[fd] = wanted
    for waiter, edge, level in (
        (edge_reader, core._edge_readers, core._readers),
        (edge_writer, core._edge_writers, core._writers),
    ):
        if waiter is not None:
            del edge[fd]
            core._edge_waiting -= 1
            if fd in level:
                waiter.cancel()  # replaced, as a second add_reader replaces the first
            else:
                level[fd] = waiter


def _dispatch_edge(core: LoopCore, fd: int, mask: int, hung_up: bool) -> None:
    waited = False
    if mask & EVENT_READ:
        state = core._edge_reads.get(fd)
        if state is not None:
            core._edge_reads[fd] = (state & ~_READ_EMPTY) | (_READ_HUNG_UP if hung_up else 0)
        reader = core._edge_readers.get(fd)
        if reader is not None:
            waited = True
            core._ready.append(reader)
    if mask & EVENT_WRITE:
        writer = core._edge_writers.get(fd)
        if writer is not None:
            waited = True
            core._ready.append(writer)
    if not waited and fd not in core._edge_readers and fd not in core._edge_writers:
        _drop_edge(core, fd)


def _watch(core: LoopCore, watchers: dict[int, Handle], fd: int, handle: Handle) -> None:
    handle._repeats = True
    previous = watchers.get(fd)
    watchers[fd] = handle
    try:
        _update_interest(core, fd)
    except BaseException:
        if previous is None:
            del watchers[fd]
        else:
            watchers[fd] = previous
        raise
    if previous is not None:
        previous.cancel()
        if core._error_readers and watchers is core._readers:
            _forget_error_reader(core, fd)


def _unwatch(core: LoopCore, watchers: dict[int, Handle], fd: int) -> bool:
    # get and del, not pop(fd, None): compiled, that pop is a method call
    # by name (about 400 instructions).
    handle = watchers.get(fd)
    if handle is None:
        return False
    del watchers[fd]
    if core._error_readers and watchers is core._readers:
        _forget_error_reader(core, fd)
    _update_interest(core, fd)
    if core._watched_objects and fd not in core._registered:
        core._watched_objects.pop(fd, None)
    handle.cancel()
    return True


def _forget_error_reader(core: LoopCore, fd: int) -> None:
    on_error = core._error_readers.get(fd)
    if on_error is not None:
        del core._error_readers[fd]
        on_error.cancel()


def _watched_fileno(core: LoopCore, fd: Any) -> int:
    number = fileno_of(fd)
    if not isinstance(fd, int):
        core._watched_objects[number] = fd
    return number


def _unwatched_fileno(core: LoopCore, fd: Any) -> int:
    try:
        return fileno_of(fd)
    except ValueError:
        # Closed since it was watched: find it by identity.
        for number, watched in core._watched_objects.items():
            if watched is fd:
                return number
        raise


def _compact_timers(core: LoopCore) -> None:
    live: list[TimerHandle] = []
    for timer in core._timers:
        if timer._cancelled:
            timer._scheduled = False
        else:
            live.append(timer)
    _heapify(live)
    core._timers = live
    core._cancelled_timers = 0


def _drop_cancelled_head(core: LoopCore) -> None:
    timers = core._timers
    while timers and timers[0]._cancelled:
        _heap_pop(timers)._scheduled = False
        core._cancelled_timers -= 1


def _poll_timeout(core: LoopCore) -> float:
    if core._ready or core._stopping:
        return 0.0
    _drop_cancelled_head(core)
    timers = core._timers
    if not timers:
        return -1.0
    delay = timers[0]._when - _now(core)
    if delay <= 0.0:
        return 0.0
    return delay if delay < _MAX_POLL_TIMEOUT else _MAX_POLL_TIMEOUT


def _dispatch_io(
    core: LoopCore,
    events: list[tuple[int, int]],
    wakes_reader: int,
    wakes_writer: int,
    hangs_up: int,
    fails: int,
) -> None:
    """Queue the watchers of the ready descriptors. *events* pairs each with
    a mask: a poller's EVENT_READ/EVENT_WRITE, or epoll's own flags (the
    core's epoll list as it comes); *wakes_reader* and *wakes_writer* say
    which bits wake which watcher, *hangs_up* which say the peer closed,
    *fails* which say an error is pending (0: the poller cannot tell)."""
    ready = core._ready
    for fd, mask in events:
        watched = False
        if mask & wakes_reader:
            reader = core._readers.get(fd)
            if reader is not None:
                watched = True
                if reader._cancelled:
                    _unwatch(core, core._readers, fd)
                else:
                    if mask & fails and core._error_readers:
                        reader = core._error_readers.get(fd, reader)
                    ready.append(reader)
        if mask & wakes_writer:
            writer = core._writers.get(fd)
            if writer is not None:
                watched = True
                if writer._cancelled:
                    _unwatch(core, core._writers, fd)
                else:
                    ready.append(writer)
        if not watched and fd in core._edge_masks:
            _dispatch_edge(
                core,
                fd,
                (EVENT_READ if mask & wakes_reader else 0)
                | (EVENT_WRITE if mask & wakes_writer else 0),
                (mask & hangs_up) != 0,
            )


def _collect_due_timers(core: LoopCore) -> None:
    timers = core._timers
    if not timers:
        return
    end = _now(core) + core._clock_resolution
    ready = core._ready
    while timers:
        timer = timers[0]
        if timer._cancelled:
            _heap_pop(timers)._scheduled = False
            core._cancelled_timers -= 1
            continue
        if timer._when >= end:
            break
        _heap_pop(timers)
        timer._scheduled = False
        ready.append(timer)


def _virtual_poll(core: LoopCore) -> list[tuple[int, int]]:
    """Poll for a virtual-clock loop: jump to the next timer instead of sleeping.

    The clock may only jump when nothing outside the loop can still change
    what happens next. While real work is in flight (a thread, a child
    process, a descriptor waiting to be written) the loop sleeps for real and
    the clock follows real time, so a timeout never fires before work that
    would have beaten it.
    """
    poller = core._poller
    if core._ready or core._stopping:
        return poller.poll(0.0)
    _drop_cancelled_head(core)
    timers = core._timers
    if core._writers or core._edge_writers or core._real_time_work_in_flight():
        timeout = -1.0
        if timers:
            timeout = timers[0]._when - core._virtual_now
            timeout = min(max(timeout, 0.0), _MAX_POLL_TIMEOUT)
        started = _monotonic()
        events = poller.poll(timeout)
        core._virtual_now += _monotonic() - started
        return events
    events = poller.poll(0.0)
    if events or core._ready:
        return events
    if timers:
        core._virtual_now = max(core._virtual_now, timers[0]._when)
        return events
    # Nothing is scheduled and nothing is in flight: only an outside event
    # (another thread, another process) could still wake the loop.
    events = poller.poll(core._stall_timeout)
    if not events and not core._ready:
        core._stalled()
    return events


def _describe_for_debug(handle: Handle) -> str:
    # As asyncio: a task's step is shown as the task, which names its coroutine.
    owner = getattr(handle._callback, "__self__", None)
    if owner is not None and callable(getattr(owner, "get_coro", None)):
        return repr(owner)
    return repr(handle)


def _run_timed(core: LoopCore, handle: Handle) -> None:
    started = _monotonic()
    description = _describe_for_debug(handle)
    handle._run()
    if _INTERPRETED:
        # As at the end of Handle._run: a traceback may reach this frame.
        handle = None  # type: ignore[assignment]
    elapsed = _monotonic() - started
    if elapsed >= core._slow_callback_duration:
        logger.warning("Executing %s took %.3f seconds", description, elapsed)


def _run_once(core: LoopCore) -> None:
    if core._cancelled_timers * 4 > len(core._timers) > _MIN_HEAP_TO_COMPACT:
        _compact_timers(core)
    if not core._ready or len(core._registered) > core._own_registrations or core._edge_waiting:
        # Skipped while callbacks wait and only the loop's wake-up descriptor
        # is watched: such a poll could report nothing but a wake-up, which
        # those callbacks do not need (and, with no I/O callback possible,
        # skipping it changes no order).
        epoll = core._epoll
        if epoll is not None and not core._virtual:
            # Native calls, and epoll's list as it comes: no second list.
            flagged = epoll.poll_flags(_poll_timeout(core))
            if flagged:
                _dispatch_io(core, flagged, _WAKES_READER, _WAKES_WRITER, _HANGS_UP, _FAILED)
        else:
            events = (
                _virtual_poll(core) if core._virtual else core._poller.poll(_poll_timeout(core))
            )
            if events:
                # A poller's mask cannot tell a hang-up: every event may be
                # one; nor an error, which a read then finds for itself.
                _dispatch_io(core, events, EVENT_READ, EVENT_WRITE, ~0, 0)
    if core._timers:
        _collect_due_timers(core)
    # What is ready now runs in this iteration; what it schedules goes to the
    # other of two lists, for the next one. (Lists, not a deque: their append
    # and indexing are native operations, a deque's are method calls.)
    ready = core._ready
    if not ready:
        return
    one_slot = core._ready_one_slot
    core._ready = core._spare_ready
    core._ready_one_slot = core._spare_one_slot
    _run_handles(core, ready)
    # Emptied by clear(), a list frees its storage and the next append
    # allocates it again: on every iteration of a busy loop that runs one
    # callback at a time, the commonest kind. So a list that had a single
    # slot (_empty_ready_list) and held one handle is emptied by pop(), which
    # keeps that slot; a list that held more is cleared; one that held a
    # single handle in more room (after a clear()) is replaced by a one-slot
    # list, as pop() would shrink its storage (a new allocation).
    if len(ready) > 1:
        ready.clear()
        core._spare_ready = ready
        core._spare_one_slot = False
    elif one_slot:
        ready.pop()
        core._spare_ready = ready
        core._spare_one_slot = True
    else:
        core._spare_ready = _empty_ready_list()
        core._spare_one_slot = True


def _empty_ready_list() -> list[Handle | None]:
    """An empty ready list whose storage is one slot (see _run_once)."""
    ready: list[Handle | None] = [None]
    ready.pop()
    return ready


def _run_handles(core: LoopCore, ready: list[Handle | None]) -> None:
    debug = core._debug
    count = len(ready)
    index = 0
    try:
        while index < count:
            handle = ready[index]
            # Drop the queue's reference at once, as popping would: a failed
            # task nobody else holds is then reported before the next callback.
            ready[index] = None
            index += 1
            if handle is not None and not handle._cancelled:
                if debug:
                    _run_timed(core, handle)
                else:
                    handle._run()
    except BaseException:
        # SystemExit or KeyboardInterrupt from a callback: the handles not run
        # yet stay first in line, as in asyncio's deque.
        rest = _empty_ready_list()
        rest.extend(ready[index:])
        rest.extend(core._ready)
        core._ready = rest
        # One slot if it holds at most one handle; more are cleared anyway.
        core._ready_one_slot = True
        core._spare_ready = _empty_ready_list()
        core._spare_one_slot = True
        raise
    finally:
        if _INTERPRETED:
            # As at the end of Handle._run: a traceback may reach this frame.
            handle = None


@final
class CallSoonAttribute:
    """``loop.call_soon`` read as an attribute: one bound method per loop.

    Python 3.11's C Future and Task schedule every callback that has a
    context with ``getattr(loop, "call_soon")(..., context=...)``, which binds
    a new method object each time (3.12 calls the method unbound); in the
    class in front of the core's method, this hands them the one bound when
    first asked. Read from the class, it is the core's method itself.
    """

    def __get__(self, instance: object, owner: object = None) -> object:
        if not isinstance(instance, LoopCore):
            return _CORE_CALL_SOON
        bound = instance._bound_call_soon
        if bound is None:
            bound = _CORE_CALL_SOON.__get__(instance, type(instance))
            if not instance._closed:  # close() breaks the cycle, for good
                instance._bound_call_soon = bound
        return bound


@mypyc_attr(allow_interpreted_subclasses=True)
class LoopCore:
    """The native half of :class:`~loop_core.EventLoop`: scheduling, timers and I/O.

    *future_class* and *task_class* are what :meth:`create_future` and
    :meth:`create_task` build (asyncio's own on CPython). Everything here is
    asyncio's documented behaviour; the lifecycle, the exception handler and
    the extension methods are the subclass's.
    """

    _poller: Poller
    _wakeup: Wakeup
    _ready: list[Handle | None]
    _spare_ready: list[Handle | None]
    # Whether each list's storage is a single slot (see _run_once).
    _ready_one_slot: bool
    _spare_one_slot: bool
    _timers: list[TimerHandle]
    _cancelled_timers: int
    _readers: dict[int, Handle]
    # What runs instead of a reader when the poller reports an error on its
    # descriptor (add_reader_with_errors); a subset of _readers' keys.
    _error_readers: dict[int, Handle]
    _writers: dict[int, Handle]
    _registered: dict[int, int]
    _edge_poller: EdgePoller | None
    _epoll: EpollPoller | None
    _edge_readers: dict[int, Handle]
    _edge_writers: dict[int, Handle]
    _edge_waiting: int  # how many socket waits the two hold
    _edge_masks: dict[int, int]
    _edge_owners: dict[int, Any]
    _edge_reads: dict[int, int]  # _READ_* flags
    _watched_objects: dict[int, object]
    _own_registrations: int
    _stopping: bool
    _closed: bool
    _debug: bool
    _thread_id: int
    _slow_callback_duration: float
    _clock_resolution: float
    _virtual: bool
    _time_overridden: bool
    _virtual_now: float
    _stall_timeout: float
    _future_class: Any
    _task_class: Any
    _task_factory: Any
    # call_soon bound to this loop, for CallSoonAttribute (Python 3.11).
    _bound_call_soon: object
    _callable_type: type
    _other_callable_type: type

    def __init__(self, poller: Poller, future_class: Any, task_class: Any) -> None:
        self._poller = poller
        self._ready = _empty_ready_list()
        self._spare_ready = _empty_ready_list()
        self._ready_one_slot = self._spare_one_slot = True
        self._timers = []
        self._cancelled_timers = 0
        self._readers = {}
        self._error_readers = {}
        self._writers = {}
        self._registered = {}
        # Our own epoll poller exactly (not a subclass or a wrapper): the core
        # polls it natively (see _run_once).
        self._epoll = poller if type(poller) is EpollPoller else None
        # Socket waits, edge-triggered (see _edge_watch): the waiting callbacks,
        # and each descriptor's entry, the socket it was made for and what is
        # known of its read side.
        self._edge_poller = (
            cast(EdgePoller, poller) if callable(getattr(poller, "register_edge", None)) else None
        )
        self._edge_readers = {}
        self._edge_writers = {}
        self._edge_waiting = 0
        self._edge_masks = {}
        self._edge_owners = {}
        self._edge_reads = {}
        # Descriptor -> the file object it was watched by, so that the object
        # still unwatches once closed (its fileno() is -1 then), as in asyncio.
        self._watched_objects = {}
        self._stopping = False
        self._closed = False
        self._debug = False
        self._thread_id = 0
        self._slow_callback_duration = 0.1
        self._clock_resolution = time.get_clock_info("monotonic").resolution
        # A virtual clock stands still while callbacks run and jumps to the
        # next timer whenever the loop would otherwise sleep (testing only).
        self._virtual = False
        self._time_overridden = type(self).time is not LoopCore.time  # a subclass's clock
        self._virtual_now = 0.0
        self._stall_timeout = 1.0
        self._future_class = future_class
        self._task_class = task_class
        self._task_factory = None
        self._bound_call_soon = None
        self._callable_type = types.FunctionType
        self._other_callable_type = types.MethodType
        self._own_registrations = 0
        self._wakeup = Wakeup()
        wakeup = self._wakeup
        # Without the loop: a handle refers to nothing the collector can see
        # (see Handle), and this one stays registered until close(), so the
        # loop must not be among what it holds, or a loop dropped unclosed
        # could never be collected (nor warn that it was not closed).
        _watch(self, self._readers, wakeup.read_fd, Handle(wakeup.drain, (), None, None, False))
        self._own_registrations = len(self._registered)

    # Time and callbacks

    def time(self) -> float:
        """Return the loop's clock: :func:`time.monotonic` (or the virtual clock)."""
        return _clock(self)

    def call_soon(
        self,
        callback: Callable[[*_Ts], object],
        *args: *_Ts,
        context: contextvars.Context | None = None,
    ) -> Handle:
        """Call ``callback(*args)`` at the next iteration, after earlier calls."""
        if self._closed or self._debug or not _is_callable(self, callback):
            _check_scheduling(self, callback, "call_soon")
        handle = Handle(callback, args, self, context, self._debug)
        self._ready.append(handle)
        return handle

    def call_soon_threadsafe(
        self,
        callback: Callable[[*_Ts], object],
        *args: *_Ts,
        context: contextvars.Context | None = None,
    ) -> Handle:
        """Like :meth:`call_soon`, from any thread; wakes the loop up."""
        if self._closed:
            _raise_closed()
        check_callback(callback, "call_soon_threadsafe")
        handle = Handle(callback, args, self, context, self._debug)
        self._ready.append(handle)
        self._wakeup.wake()
        return handle

    def call_later(
        self,
        delay: float,
        callback: Callable[[*_Ts], object],
        *args: *_Ts,
        context: contextvars.Context | None = None,
    ) -> TimerHandle:
        """Call ``callback(*args)`` after *delay* seconds."""
        if type(delay) is not float:
            delay = _checked_time(delay, "call_later", "delay")
        return _schedule_timer(self, _now(self) + delay, callback, args, context, "call_later")

    def call_at(
        self,
        when: float,
        callback: Callable[[*_Ts], object],
        *args: *_Ts,
        context: contextvars.Context | None = None,
    ) -> TimerHandle:
        """Call ``callback(*args)`` at loop time *when* (see :meth:`time`)."""
        if type(when) is not float:
            when = _checked_time(when, "call_at", "when")
        return _schedule_timer(self, when, callback, args, context, "call_at")

    def _timer_handle_cancelled(self, handle: Any) -> None:
        self._cancelled_timers += 1

    # Futures and tasks

    def create_future(self) -> asyncio.Future[Any]:
        """Return a new future bound to this loop (:class:`asyncio.Future` on CPython)."""
        future: asyncio.Future[Any] = self._future_class(loop=self)
        return future

    def create_task(
        self,
        coro: Coroutine[Any, Any, _T] | Generator[Any, None, _T],
        *,
        name: str | None = None,
        context: contextvars.Context | None = None,
    ) -> asyncio.Task[_T]:
        """Schedule *coro* as a task (through the task factory, if one is set)."""
        if self._closed:
            _raise_closed()
        factory = self._task_factory
        if factory is None:
            task = self._task_class(coro, loop=self, name=name, context=context)
        else:
            if context is None:
                task = factory(self, coro)
            else:
                task = factory(self, coro, context=context)
            if name is not None:
                task.set_name(name)
        if self._debug:
            source = getattr(task, "_source_traceback", None)
            if source:
                del source[-1]  # this method: the caller made the task
        created: asyncio.Task[_T] = task
        return created

    # File descriptors

    def add_reader(self, fd: Any, callback: Callable[[*_Ts], Any], *args: *_Ts) -> None:
        """Call ``callback(*args)`` whenever *fd* (or a file object) is readable."""
        if self._closed:
            _raise_closed()
        check_callback(callback, "add_reader")
        _watch(
            self,
            self._readers,
            _watched_fileno(self, fd),
            Handle(callback, args, self, None, self._debug),
        )

    def add_reader_with_errors(
        self, fd: Any, callback: Callable[[], object], on_error: Callable[[], object]
    ) -> None:
        """``add_reader(fd, callback)``, but call *on_error* instead of
        *callback* when the poller reports an error pending on *fd*.

        A stream socket reset by its peer reports one: *on_error* can fetch
        it with ``getsockopt(SOL_SOCKET, SO_ERROR)`` rather than have a read
        raise it (data queued before the reset is still readable first).
        Pollers that cannot tell errors apart (all but epoll) call
        *callback*, whose read then finds the error. ``remove_reader(fd)``
        and another ``add_reader(fd, ...)`` drop both.
        """
        if self._closed:
            _raise_closed()
        check_callback(callback, "add_reader_with_errors")
        check_callback(on_error, "add_reader_with_errors")
        number = _watched_fileno(self, fd)
        reader = Handle(callback, (), self, None, self._debug)
        _watch(self, self._readers, number, reader)
        # One registration, one context: what either callback sets in it,
        # the other sees, as for a single reader.
        handle = Handle(on_error, (), self, reader._context, self._debug)
        handle._repeats = True
        self._error_readers[number] = handle

    def remove_reader(self, fd: Any) -> bool:
        """Stop watching *fd* for reading; return whether it was watched."""
        if self._closed:
            return False
        return _unwatch(self, self._readers, _unwatched_fileno(self, fd))

    def add_writer(self, fd: Any, callback: Callable[[*_Ts], Any], *args: *_Ts) -> None:
        """Call ``callback(*args)`` whenever *fd* (or a file object) is writable."""
        if self._closed:
            _raise_closed()
        check_callback(callback, "add_writer")
        _watch(
            self,
            self._writers,
            _watched_fileno(self, fd),
            Handle(callback, args, self, None, self._debug),
        )

    def remove_writer(self, fd: Any) -> bool:
        """Stop watching *fd* for writing; return whether it was watched."""
        if self._closed:
            return False
        return _unwatch(self, self._writers, _unwatched_fileno(self, fd))

    # State

    def stop(self) -> None:
        """Stop after the callbacks of the current iteration have run."""
        self._stopping = True

    def is_running(self) -> bool:
        """Return ``True`` while the loop runs."""
        return self._thread_id != 0

    def is_closed(self) -> bool:
        """Return ``True`` once the loop was closed."""
        return self._closed

    def get_debug(self) -> bool:
        """Return whether debug mode is on."""
        return self._debug

    # What the interpreted subclass asks of its core

    def _run_until_stopped(self) -> None:
        """Iterate until :meth:`stop` is called, then clear the request."""
        try:
            while True:
                _run_once(self)
                if self._stopping:
                    break
        finally:
            self._stopping = False

    def _enqueue_handle(self, handle: Handle) -> None:
        """Put *handle* on the ready queue unless it was cancelled (signal delivery)."""
        if not handle._cancelled:
            self._ready.append(handle)

    def _wake_up(self) -> None:
        """Interrupt a sleeping poll, from any thread."""
        self._wakeup.wake()

    def _use_virtual_clock(self, now: float) -> None:
        """Switch to a virtual clock reading *now* (see :mod:`loop_core.testing`)."""
        self._virtual = True
        self._virtual_now = now

    def _advance_virtual_clock(self, seconds: float) -> None:
        """Move the virtual clock forward by *seconds*."""
        self._virtual_now += seconds

    def _real_time_work_in_flight(self) -> bool:
        """Whether work the virtual clock must not jump past is running (see subclasses)."""
        return False

    def _stalled(self) -> None:
        """Called on a virtual clock when nothing can ever run again; may raise."""

    def _scheduled_timers(self) -> list[TimerHandle]:
        """The timer heap's live and lazily-dropped entries (for tests and debugging)."""
        return list(self._timers)

    def _close_core(self) -> None:
        """Drop every pending callback, timer and watcher; release the poller and wake-up."""
        self._bound_call_soon = None  # a cycle through the loop
        # Whoever still holds one of these handles holds nothing through it
        # (see Handle).
        for handle in self._ready:
            if handle is not None:
                handle._release()
        self._ready.clear()
        self._ready_one_slot = False
        for timer in self._timers:
            timer._scheduled = False
            timer._release()
        self._timers.clear()
        self._cancelled_timers = 0
        for watchers in (self._readers, self._error_readers, self._writers):
            for watcher in watchers.values():
                watcher._release()
            watchers.clear()
        self._registered.clear()
        for waiters in (self._edge_readers, self._edge_writers):
            for waiter in waiters.values():
                waiter.cancel()
            waiters.clear()
        self._edge_waiting = 0
        self._edge_masks.clear()
        self._edge_owners.clear()
        self._edge_reads.clear()
        self._watched_objects.clear()
        self._poller.close()
        self._wakeup.close()


_CORE_CALL_SOON: Final[Any] = vars(LoopCore)["call_soon"]
