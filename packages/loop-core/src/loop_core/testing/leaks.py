"""Checking that objects are freed by reference counting alone.

Stock asyncio's loop, its transports and failed connects leave no reference
cycles, and code relies on that (anyio checks that a finished ``asyncio.run``
leaves no loop behind, and that a failed connect leaves its error to nobody).
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from typing import Any

__all__ = ["freed_without_collector"]


def freed_without_collector(make: Callable[[], Any], use: Callable[[Any], object]) -> bool:
    """Make an object, hand it to *use*, drop it: is it gone at once?

    The cycle collector is off meanwhile, so only reference counting can free
    it; *use* must not keep a reference (what it returns is dropped too).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        made = make()
        use(made)
        gone = weakref.ref(made)
        del made
        return gone() is None
    finally:
        if enabled:
            gc.enable()
