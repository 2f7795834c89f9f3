"""A loop whose clock jumps: timeouts and sleeps finish at once, deterministically.

:class:`VirtualClockLoop` is a full loop-core loop whose ``time()`` starts at 0
and stands still while callbacks run. Whenever nothing is ready and polling
finds no I/O, the clock jumps straight to the next timer, so ``await
sleep(3600)`` completes immediately and every timer fires in exactly the order
and at exactly the loop time it would on a real clock.

The clock never jumps past work that runs in real time. While a thread of an
executor is busy (``run_in_executor``, ``to_thread``, name resolution,
shutting the pool down), a child process is alive or being started, or a
descriptor waits to be written, the loop sleeps for real and the clock follows
real time; ``wait_for(to_thread(time.sleep, 0.2), 5)`` therefore succeeds,
and times out with a limit of 0.1. An extension tells the loop about its work
through an optional ``real_time_work_in_flight()`` method.

When nothing at all can happen any more (no callback, no timer, no work in
flight, and no outside event for ``stall_timeout`` seconds of real time), the
loop raises :class:`StalledLoopError` naming the tasks that wait, instead of
hanging: a deadlocked test fails in about a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from loop_core._loop import EventLoop
from loop_core.extensions import ExtensionFactory
from loop_core.pollers import Poller

__all__ = ["StalledLoopError", "VirtualClockLoop", "new_virtual_clock_loop"]


class StalledLoopError(RuntimeError):
    """A virtual-clock loop can never make progress again (a deadlock)."""

    def __init__(self, message: str, tasks: list[asyncio.Task[Any]]) -> None:
        super().__init__(message)
        #: The tasks that were waiting when the loop stalled.
        self.tasks = tasks


class VirtualClockLoop(EventLoop):
    """An :class:`~loop_core.EventLoop` on a virtual clock (see the module docs).

    *stall_timeout* is how long, in real seconds, the loop waits for an
    outside event (a thread calling ``call_soon_threadsafe``, data from
    another process) once nothing else can happen, before it raises
    :class:`StalledLoopError`. The other keywords are :class:`EventLoop`'s.
    """

    def __init__(
        self,
        *,
        stall_timeout: float = 1.0,
        poller: str | Poller | None = None,
        extensions: Mapping[str, ExtensionFactory] | None = None,
        python_futures: bool | None = None,
    ) -> None:
        if not stall_timeout > 0:
            raise ValueError(
                f"stall_timeout must be a positive number of seconds, not {stall_timeout!r}"
            )
        super().__init__(poller=poller, extensions=extensions, python_futures=python_futures)
        self._use_virtual_clock(0.0)
        self._stall_timeout = float(stall_timeout)

    def advance(self, seconds: float) -> None:
        """Move the clock forward by *seconds*; due timers fire at the next iteration."""
        if seconds < 0:
            raise ValueError(f"the clock cannot go back (advance({seconds}))")
        self._advance_virtual_clock(seconds)

    def _real_time_work_in_flight(self) -> bool:
        for extension in self._extensions.values():
            in_flight = getattr(extension, "real_time_work_in_flight", None)
            if in_flight is not None and in_flight():
                return True
        return False

    def _stalled(self) -> None:
        waiting = [task for task in asyncio.all_tasks(self) if not task.done()]
        if waiting:
            described = "\n".join(f"  {task!r}" for task in waiting)
            what = f"these tasks wait for something that cannot happen:\n{described}"
        else:
            what = "no task is left, and run_forever() was not stopped"
        raise StalledLoopError(
            "the virtual-clock loop cannot make progress: no callback is ready, no timer "
            "is set, no thread or child process is at work, and nothing woke it for "
            f"{self._stall_timeout:g} s of real time; {what}",
            waiting,
        )


def new_virtual_clock_loop() -> VirtualClockLoop:
    """Return a new :class:`VirtualClockLoop` (usable as a ``loop_factory``)."""
    return VirtualClockLoop()
