"""Barrier: a meeting point where *parties* tasks wait for each other.

The work is done in :mod:`loop_sync._barrier_core`, which the compiled build turns
into C; :class:`Barrier` here is an ordinary subclass so that its instances
are weakly referenceable, as asyncio's are (see :mod:`loop_sync._locks`).
"""

from __future__ import annotations

import asyncio

from loop_sync import _barrier_core

__all__ = ["Barrier", "BrokenBarrierError"]

BrokenBarrierError = _barrier_core.BrokenBarrierError


# misc: typeshed says asyncio.Barrier.__aenter__ returns the barrier; asyncio's
# returns the arrival index (``async with barrier as index``), as ours does.
class Barrier(_barrier_core.Barrier, asyncio.Barrier):  # type: ignore[misc]
    """Block each caller of :meth:`wait` until *parties* tasks have called it."""

    __module__ = "loop_sync"  # its public home, for reprs and pickles
