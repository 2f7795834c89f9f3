"""Callback handles: what ``call_soon`` and ``call_later`` return.

A :class:`Handle` is one scheduled call of a callback with its arguments in a
:mod:`contextvars` context; a :class:`TimerHandle` adds the loop time it is due.
They are defined beside the loop's native core (:mod:`loop_core._core`), so
that creating and running one never leaves compiled code.
"""

from __future__ import annotations

from loop_core._core import Handle, TimerHandle, format_callback

__all__ = ["Handle", "TimerHandle", "format_callback"]
