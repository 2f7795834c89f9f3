"""The public side of the descriptor transports: asyncio's classes over a native core.

Every transport over a file descriptor (stream sockets, pipes, datagram
sockets) is a subclass of asyncio's transport class that owns a core from
``_cores`` and hands each call to it. The lifecycle they share:
``connection_made`` soon after creation, ``connection_lost`` exactly once,
fatal errors reported through the loop's exception handler, and the descriptor
closed after the protocol heard of it (or, with a ``ResourceWarning``, when an
unclosed transport is collected).
"""

from __future__ import annotations

from typing import Any

from loop_transports._cores import TransportCore

__all__ = ["DescriptorTransport", "ReadingTransport"]


class DescriptorTransport:
    """What a transport over one descriptor hands to its core.

    Subclasses create ``self._core`` (and ``self._extra``) in ``__init__``.
    """

    _core: TransportCore
    _extra: dict[str, Any]

    def __repr__(self) -> str:
        core: TransportCore | None = getattr(self, "_core", None)
        if core is None:
            return f"<{type(self).__name__} not initialised>"
        return core.describe()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """Return the transport's *name* property ('socket', 'peername', ...)."""
        return self._extra.get(name, default)

    def is_closing(self) -> bool:
        """Whether the transport is closing or closed."""
        return self._core.closing

    def get_protocol(self) -> Any:
        """Return the current protocol."""
        return self._core.protocol

    def set_protocol(self, protocol: Any) -> None:
        """Hand further events to *protocol*."""
        self._core.protocol = protocol

    def get_write_buffer_size(self) -> int:
        """Bytes accepted for writing and not yet taken by the kernel."""
        return self._core.buffer_size()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        """Return ``(low, high)``, the write-buffer water marks in bytes."""
        return self._core.low_water, self._core.high_water

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        """Pause the protocol above *high* buffered bytes, resume it at *low* or below.

        With only *high* given, *low* is a quarter of it; with only *low*,
        *high* is four times it; with neither, 64 KiB and 16 KiB.
        """
        self._core.set_write_buffer_limits(high, low)

    def close(self) -> None:
        """Close once buffered data is flushed; ``connection_lost(None)`` follows."""
        self._core.close()

    def abort(self) -> None:
        """Close at once, dropping buffered data; ``connection_lost(None)`` follows."""
        self._core.force_close(None)


class ReadingTransport(DescriptorTransport):
    """A descriptor transport that delivers what it reads, and can pause."""

    def is_reading(self) -> bool:
        """Whether data is being delivered (not paused, not closing)."""
        return self._core.is_reading()

    def pause_reading(self) -> None:
        """Stop delivering data until :meth:`resume_reading`."""
        self._core.pause_reading()

    def resume_reading(self) -> None:
        """Deliver data again."""
        self._core.resume_reading()
