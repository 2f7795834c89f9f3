"""Unix signal handlers of one loop: ``add_signal_handler`` and its inverse.

The C-level signal handler writes each signal's number to a socket pair
(:func:`signal.set_wakeup_fd`); the loop watches the other end and queues
the handler registered for each number it reads. The pair exists only while
at least one handler is installed.
"""

from __future__ import annotations

import errno
import logging
import signal
import socket
import threading
import weakref
from collections.abc import Callable
from typing import Any

from loop_core._core import Handle, LoopCore

__all__ = ["SignalHandlers"]

logger = logging.getLogger("loop_core")


def _ignore_signal_in_python(signum: int, frame: Any) -> None:
    """Python-level handler installed for signals the loop watches."""


def check_signal(sig: object) -> int:
    """Return *sig* as a signal number, or raise TypeError/ValueError."""
    if not isinstance(sig, int):
        raise TypeError(f"sig must be an int, not {sig!r}")
    if sig not in signal.valid_signals():
        raise ValueError(f"invalid signal number {sig}")
    return sig


class SignalHandlers:
    """The handlers one loop has installed, by signal number."""

    def __init__(self, core: LoopCore) -> None:
        # Weak: the loop holds this object, and a closed loop must go with
        # its last reference, not wait for the cycle collector (anyio checks
        # that a finished asyncio.run leaves no loop behind).
        self._core_ref = weakref.ref(core)
        self._handlers: dict[int, Handle] = {}
        self._receiver: socket.socket | None = None
        self._sender: socket.socket | None = None

    @property
    def _core(self) -> LoopCore:
        core = self._core_ref()
        if core is None:
            raise RuntimeError("the event loop is gone")
        return core

    def add(self, sig: int, callback: Callable[..., object], args: tuple[Any, ...]) -> None:
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("add_signal_handler() can only be called from the main thread")
        self._open_pipe()
        handle = Handle(callback, args, self._core, None)
        handle._repeats = True  # runs at every delivery of the signal
        self._handlers[sig] = handle
        try:
            # The C-level handler writes the signal number to the wakeup fd;
            # the Python-level handler has nothing left to do.
            signal.signal(sig, _ignore_signal_in_python)
            signal.siginterrupt(sig, False)
        except OSError as exc:
            del self._handlers[sig]
            if not self._handlers:
                self._close_pipe()
            if exc.errno == errno.EINVAL:
                raise RuntimeError(f"sig {sig:d} cannot be caught") from None
            raise

    def remove(self, sig: int) -> bool:
        # As asyncio: a signal without a handler is answered from any thread.
        if sig not in self._handlers:
            return False
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("remove_signal_handler() can only be called from the main thread")
        handle = self._handlers.pop(sig)
        handle.cancel()
        default = signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL
        try:
            signal.signal(sig, default)
        except OSError as exc:
            if exc.errno == errno.EINVAL:
                raise RuntimeError(f"sig {sig:d} cannot be caught") from None
            raise
        if not self._handlers:
            self._close_pipe()
        return True

    def close(self) -> None:
        """Remove every handler (the loop is closing)."""
        for sig in list(self._handlers):
            self.remove(sig)

    def _open_pipe(self) -> None:
        if self._receiver is not None:
            return
        receiver, sender = socket.socketpair()
        receiver.setblocking(False)
        sender.setblocking(False)
        signal.set_wakeup_fd(sender.fileno())
        self._receiver, self._sender = receiver, sender
        self._core.add_reader(receiver.fileno(), self._read_signals)

    def _close_pipe(self) -> None:
        receiver, sender = self._receiver, self._sender
        if receiver is None or sender is None:
            return
        self._core.remove_reader(receiver.fileno())
        try:
            signal.set_wakeup_fd(-1)
        except (ValueError, OSError) as exc:
            logger.info("set_wakeup_fd(-1) failed: %s", exc)
        receiver.close()
        sender.close()
        self._receiver = self._sender = None

    def _read_signals(self) -> None:
        receiver = self._receiver
        if receiver is None:
            return
        while True:
            try:
                data = receiver.recv(4096)
            except (BlockingIOError, InterruptedError):
                return
            if not data:
                return
            for sig in data:
                handle = self._handlers.get(sig)
                if handle is not None:
                    self._core._enqueue_handle(handle)
