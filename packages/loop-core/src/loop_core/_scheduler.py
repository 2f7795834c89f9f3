"""The loop's engine: the ready queue, the timer heap and one poll per iteration.

:class:`Scheduler` is a compiled native class that the public
:class:`~loop_core.EventLoop` owns and delegates its hot paths to. One call of
:meth:`Scheduler.run_once` polls for I/O (sleeping until the next timer at the
most), moves due timers to the ready queue and runs every callback that was
ready when the iteration began; callbacks scheduled meanwhile wait for the next
iteration, which keeps the loop fair.
"""

from __future__ import annotations

import contextvars
import heapq
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from loop_core.handles import Handle, HandleOwner, TimerHandle
from loop_core.pollers import EVENT_READ, EVENT_WRITE, Poller

__all__ = ["Scheduler"]

# Interpreted, a frame that a traceback reaches outlives its call.
_INTERPRETED = __file__.endswith(".py")

logger = logging.getLogger("loop_core")

# Rebuild the heap when more than half of it is cancelled timers, but not for
# tiny heaps where popping them lazily is cheaper.
_MIN_HEAP_TO_COMPACT = 100


class Scheduler:
    """Ready queue, timer heap and file-descriptor callbacks of one loop.

    It owns the loop's handles (it is their ``HandleOwner``): a handle asks it,
    not the Python-level loop, whether debug mode is on, which keeps creating a
    handle free of interpreted calls. Errors are passed on to the loop.
    """

    def __init__(self, loop: HandleOwner, poller: Poller) -> None:
        self.loop = loop
        self.poller = poller
        self.ready: deque[Handle] = deque()
        self.timers: list[TimerHandle] = []
        self.cancelled_timers = 0
        self.readers: dict[int, Handle] = {}
        self.writers: dict[int, Handle] = {}
        self.registered: dict[int, int] = {}
        self.stopping = False
        self.debug = False
        self.slow_callback_duration = 0.1
        self.clock_resolution = time.get_clock_info("monotonic").resolution
        # A virtual clock stands still while callbacks run and jumps to the
        # next timer whenever the loop would otherwise sleep (testing only).
        self.virtual = False
        self.virtual_now = 0.0

    def time(self) -> float:
        if self.virtual:
            return self.virtual_now
        return time.monotonic()

    # Scheduling

    def call_soon(
        self,
        callback: Callable[..., object],
        args: tuple[object, ...],
        context: contextvars.Context | None,
    ) -> Handle:
        handle = Handle(callback, args, self, context)
        self.ready.append(handle)
        return handle

    def call_at(
        self,
        when: float,
        callback: Callable[..., object],
        args: tuple[object, ...],
        context: contextvars.Context | None,
    ) -> TimerHandle:
        timer = TimerHandle(when, callback, args, self, context)
        timer._scheduled = True
        heapq.heappush(self.timers, timer)
        return timer

    # HandleOwner

    def get_debug(self) -> bool:
        return self.debug

    def call_exception_handler(self, context: dict[str, Any]) -> None:
        self.loop.call_exception_handler(context)

    def _timer_handle_cancelled(self, handle: TimerHandle) -> None:
        self.cancelled_timers += 1

    # File descriptors

    def _update_interest(self, fd: int) -> None:
        wanted = (EVENT_READ if fd in self.readers else 0) | (
            EVENT_WRITE if fd in self.writers else 0
        )
        current = self.registered.get(fd, 0)
        if wanted == current:
            return
        if wanted == 0:
            del self.registered[fd]
            self.poller.unregister(fd)
        elif current == 0:
            self.poller.register(fd, wanted)
            self.registered[fd] = wanted
        else:
            self.poller.modify(fd, wanted)
            self.registered[fd] = wanted

    def add_reader(self, fd: int, handle: Handle) -> None:
        previous = self.readers.get(fd)
        self.readers[fd] = handle
        try:
            self._update_interest(fd)
        except BaseException:
            if previous is None:
                del self.readers[fd]
            else:
                self.readers[fd] = previous
            raise
        if previous is not None:
            previous.cancel()

    def add_writer(self, fd: int, handle: Handle) -> None:
        previous = self.writers.get(fd)
        self.writers[fd] = handle
        try:
            self._update_interest(fd)
        except BaseException:
            if previous is None:
                del self.writers[fd]
            else:
                self.writers[fd] = previous
            raise
        if previous is not None:
            previous.cancel()

    def remove_reader(self, fd: int) -> bool:
        handle = self.readers.pop(fd, None)
        if handle is None:
            return False
        self._update_interest(fd)
        handle.cancel()
        return True

    def remove_writer(self, fd: int) -> bool:
        handle = self.writers.pop(fd, None)
        if handle is None:
            return False
        self._update_interest(fd)
        handle.cancel()
        return True

    # The iteration

    def _compact_timers(self) -> None:
        live: list[TimerHandle] = []
        for timer in self.timers:
            if timer._cancelled:
                timer._scheduled = False
            else:
                live.append(timer)
        heapq.heapify(live)
        self.timers = live
        self.cancelled_timers = 0

    def _drop_cancelled_head(self) -> None:
        timers = self.timers
        while timers and timers[0]._cancelled:
            heapq.heappop(timers)._scheduled = False
            self.cancelled_timers -= 1

    def _poll_timeout(self) -> float:
        if self.ready or self.stopping:
            return 0.0
        self._drop_cancelled_head()
        timers = self.timers
        if not timers:
            return -1.0
        if self.virtual:
            return 0.0  # never sleep: the clock jumps instead
        delay = timers[0]._when - time.monotonic()
        return delay if delay > 0.0 else 0.0

    def _dispatch_io(self, events: list[tuple[int, int]]) -> None:
        ready = self.ready
        for fd, mask in events:
            if mask & EVENT_READ:
                reader = self.readers.get(fd)
                if reader is not None:
                    if reader._cancelled:
                        self.remove_reader(fd)
                    else:
                        ready.append(reader)
            if mask & EVENT_WRITE:
                writer = self.writers.get(fd)
                if writer is not None:
                    if writer._cancelled:
                        self.remove_writer(fd)
                    else:
                        ready.append(writer)

    def _collect_due_timers(self) -> None:
        timers = self.timers
        if not timers:
            return
        end = self.time() + self.clock_resolution
        ready = self.ready
        while timers:
            timer = timers[0]
            if timer._cancelled:
                heapq.heappop(timers)._scheduled = False
                self.cancelled_timers -= 1
                continue
            if timer._when >= end:
                break
            heapq.heappop(timers)
            timer._scheduled = False
            ready.append(timer)

    def _jump_to_next_timer(self) -> None:
        self._drop_cancelled_head()
        timers = self.timers
        if timers and timers[0]._when > self.virtual_now:
            self.virtual_now = timers[0]._when

    def run_once(self) -> None:
        """Run one iteration of the loop."""
        if self.cancelled_timers * 2 > len(self.timers) > _MIN_HEAP_TO_COMPACT:
            self._compact_timers()
        events = self.poller.poll(self._poll_timeout())
        if events:
            self._dispatch_io(events)
        elif self.virtual and not self.ready and self.timers:
            self._jump_to_next_timer()
        self._collect_due_timers()
        ready = self.ready
        count = len(ready)
        if self.debug:
            for _ in range(count):
                handle = ready.popleft()
                if not handle._cancelled:
                    self._run_timed(handle)
        else:
            for _ in range(count):
                handle = ready.popleft()
                if not handle._cancelled:
                    handle._run()
        if _INTERPRETED:
            # As at the end of Handle._run: a traceback may reach this frame.
            handle = None  # type: ignore[assignment]

    def _run_timed(self, handle: Handle) -> None:
        started = time.monotonic()
        handle._run()
        elapsed = time.monotonic() - started
        if elapsed >= self.slow_callback_duration:
            logger.warning("Executing %r took %.3f seconds", handle, elapsed)
        if _INTERPRETED:
            handle = None  # type: ignore[assignment]  # as in run_once

    def run_until_stopped(self) -> None:
        """Iterate until :attr:`stopping` is set, then clear it."""
        try:
            while True:
                self.run_once()
                if self.stopping:
                    break
        finally:
            self.stopping = False
