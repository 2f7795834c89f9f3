"""Barrier: a meeting point where *parties* tasks wait for each other.

The last task to arrive releases the whole group; the barrier then drains (the
released tasks leave) before it fills again, so it can be reused round after
round. :meth:`Barrier.abort` breaks it for good, :meth:`Barrier.reset` for the
tasks currently waiting; either way they get :class:`BrokenBarrierError`.

This module is compiled by mypyc in the compiled build; the public class is
the plain subclass in :mod:`loop_sync._barrier`.
"""

from __future__ import annotations

import asyncio
import enum

from mypy_extensions import mypyc_attr

from loop_sync._lock_core import Condition, _state

__all__ = ["Barrier", "BrokenBarrierError"]

BrokenBarrierError = asyncio.BrokenBarrierError


class _Phase(enum.Enum):
    FILLING = "filling"
    DRAINING = "draining"
    RESETTING = "resetting"
    BROKEN = "broken"


@mypyc_attr(allow_interpreted_subclasses=True)
class Barrier:
    """Block each caller of :meth:`wait` until *parties* tasks have called it."""

    def __init__(self, parties: int) -> None:
        if parties < 1:
            raise ValueError("parties must be >= 1")
        self._parties = parties
        self._condition = Condition()
        self._phase = _Phase.FILLING
        self._count = 0

    def __repr__(self) -> str:
        detail = f"{self._phase.value}"
        if not self.broken:
            detail += f", waiters:{self.n_waiting}/{self._parties}"
        return _state(self, detail)

    async def __aenter__(self) -> int:
        return await self.wait()

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    @property
    def parties(self) -> int:
        """How many tasks must wait before all are released."""
        return self._parties

    @property
    def n_waiting(self) -> int:
        """How many tasks are waiting in the current round."""
        return self._count if self._phase is _Phase.FILLING else 0

    @property
    def broken(self) -> bool:
        """``True`` once :meth:`abort` broke the barrier."""
        return self._phase is _Phase.BROKEN

    async def wait(self) -> int:
        """Wait for the round to fill; return this task's arrival index (0 to parties-1)."""
        async with self._condition:
            await self._wait_for_previous_round()
            index = self._count
            self._count += 1
            try:
                if index + 1 == self._parties:
                    self._phase = _Phase.DRAINING
                    self._condition.notify_all()
                else:
                    await self._condition.wait_for(lambda: self._phase is not _Phase.FILLING)
                    if self._phase in (_Phase.BROKEN, _Phase.RESETTING):
                        raise BrokenBarrierError("Abort or reset of barrier")
                return index
            finally:
                self._count -= 1
                if self._count == 0 and self._phase in (_Phase.RESETTING, _Phase.DRAINING):
                    # The last one out opens the next round.
                    self._phase = _Phase.FILLING
                    self._condition.notify_all()

    async def _wait_for_previous_round(self) -> None:
        await self._condition.wait_for(
            lambda: self._phase not in (_Phase.DRAINING, _Phase.RESETTING)
        )
        if self._phase is _Phase.BROKEN:
            raise BrokenBarrierError("Barrier aborted")

    async def reset(self) -> None:
        """Send :class:`BrokenBarrierError` to current waiters; start a new round."""
        async with self._condition:
            if self._count > 0:
                if self._phase is not _Phase.RESETTING:
                    self._phase = _Phase.RESETTING
            else:
                self._phase = _Phase.FILLING
            self._condition.notify_all()

    async def abort(self) -> None:
        """Break the barrier: every current and future :meth:`wait` raises."""
        async with self._condition:
            self._phase = _Phase.BROKEN
            self._condition.notify_all()
