"""The loop's wake-up descriptor: how another thread interrupts a sleeping poll.

An eventfd where Linux has one (one descriptor, emptied by one read), a
non-blocking pipe elsewhere. ``call_soon_threadsafe`` writes to it; the loop
watches the read end and drains it.
"""

from __future__ import annotations

import os
from typing import final

__all__ = ["Wakeup"]


@final
class Wakeup:
    """The descriptor pair one loop is woken through."""

    read_fd: int
    write_fd: int

    def __init__(self) -> None:
        if hasattr(os, "eventfd"):
            fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
            self.read_fd = fd
            self.write_fd = fd
        else:
            read_end, write_end = os.pipe()
            os.set_blocking(read_end, False)
            os.set_blocking(write_end, False)
            self.read_fd = read_end
            self.write_fd = write_end

    def wake(self) -> None:
        """Make the read end readable; safe from any thread, and after :meth:`close`."""
        # Read once: close() sets it to -1 before closing the descriptor, so a
        # racing thread never writes to a number the OS has handed out again.
        fd = self.write_fd
        if fd < 0:
            return
        try:
            if fd == self.read_fd:
                os.eventfd_write(fd, 1)
            else:
                os.write(fd, b"\0")
        except OSError:
            # A full pipe or a closing loop: a wake-up is already pending or
            # no longer needed (BlockingIOError and EBADF are both OSErrors).
            pass

    def drain(self) -> None:
        """Empty the read end (the loop's reader callback)."""
        fd = self.read_fd
        if fd < 0:
            return
        try:
            while os.read(fd, 4096):
                if fd == self.write_fd:
                    break  # an eventfd is emptied by one read
        except OSError:
            pass

    def close(self) -> None:
        """Close both ends; later :meth:`wake` calls do nothing."""
        read_end, write_end = self.read_fd, self.write_fd
        if read_end < 0:
            return
        self.write_fd = -1
        self.read_fd = -1
        os.close(read_end)
        if write_end != read_end:
            os.close(write_end)
