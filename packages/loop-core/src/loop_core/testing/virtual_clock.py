"""A loop whose clock jumps: timeouts and sleeps finish at once, deterministically.

:class:`VirtualClockLoop` is a full loop-core loop whose ``time()`` starts at 0
and stands still while callbacks run. Whenever nothing is ready and polling
finds no I/O, the clock jumps straight to the next timer, so ``await
sleep(3600)`` completes immediately and every timer fires in exactly the order
and at exactly the loop time it would on a real clock.
"""

from __future__ import annotations

from typing import Any

from loop_core.loop import EventLoop

__all__ = ["VirtualClockLoop", "new_virtual_clock_loop"]


class VirtualClockLoop(EventLoop):
    """An :class:`~loop_core.EventLoop` on a virtual clock (see the module docs)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._use_virtual_clock(0.0)

    def advance(self, seconds: float) -> None:
        """Move the clock forward by *seconds*; due timers fire at the next iteration."""
        if seconds < 0:
            raise ValueError(f"the clock cannot go back (advance({seconds}))")
        self._advance_virtual_clock(seconds)


def new_virtual_clock_loop() -> VirtualClockLoop:
    """Return a new :class:`VirtualClockLoop` (usable as a ``loop_factory``)."""
    return VirtualClockLoop()
