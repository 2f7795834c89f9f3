"""I/O readiness pollers behind one small interface.

The loop asks a :class:`Poller` which file descriptors are ready. On Linux the
default talks to :func:`select.epoll` directly; elsewhere (or on request) a
:mod:`selectors` selector does the work. Events are reported as a bit mask of
:data:`EVENT_READ` and :data:`EVENT_WRITE`; an error or hang-up condition is
reported as both, so whichever callback is waiting sees it.
"""

from __future__ import annotations

import os
import select
import selectors
from collections.abc import Callable
from typing import Final, Protocol

__all__ = [
    "EVENT_READ",
    "EVENT_WRITE",
    "EdgePoller",
    "EpollPoller",
    "Poller",
    "SelectorPoller",
    "available_pollers",
    "create_poller",
]

EVENT_READ: Final = 1
EVENT_WRITE: Final = 2
# Native constants once compiled: a plain module global is a dictionary
# lookup on every use, and poll() uses these per ready descriptor.
_EPOLLIN: Final[int] = getattr(select, "EPOLLIN", 0x001)
_EPOLLOUT: Final[int] = getattr(select, "EPOLLOUT", 0x004)
_EPOLLET: Final[int] = getattr(select, "EPOLLET", 1 << 31)
_EPOLLRDHUP: Final[int] = getattr(select, "EPOLLRDHUP", 0x2000)
_EPOLLHUP: Final[int] = getattr(select, "EPOLLHUP", 0x010)
_EPOLLERR: Final[int] = getattr(select, "EPOLLERR", 0x008)

# The flags of an edge-triggered entry that say its peer closed or it failed:
# a reader then finds the end of stream or an error, however often it reads.
_HANGS_UP: Final = _EPOLLRDHUP | _EPOLLHUP | _EPOLLERR
# The flag that says a descriptor has an error pending (a stream socket reset
# by its peer): a read would raise it, once the data queued before it is read.
_FAILED: Final = _EPOLLERR
# What wakes a reader and what wakes a writer: anything but "writable" (EPOLLIN,
# EPOLLHUP, EPOLLERR) for the first, anything but "readable" for the second.
_WAKES_READER: Final = ~_EPOLLOUT
_WAKES_WRITER: Final = ~_EPOLLIN


class Poller(Protocol):
    """Interface of a readiness poller: register descriptors, then poll."""

    name: str

    def register(self, fd: int, events: int) -> None:
        """Start watching *fd* for *events* (a mask of EVENT_READ/EVENT_WRITE)."""

    def modify(self, fd: int, events: int) -> None:
        """Change the events watched on an already registered *fd*."""

    def unregister(self, fd: int) -> None:
        """Stop watching *fd*. Unknown descriptors are ignored."""

    def poll(self, timeout: float) -> list[tuple[int, int]]:
        """Wait up to *timeout* seconds (negative: forever) and return ready ``(fd, events)``."""
        ...

    def close(self) -> None:
        """Release the poller's own resources."""


class EdgePoller(Poller, Protocol):
    """A poller that can also watch edge-triggered (epoll's ``EPOLLET``).

    The loop watches sockets for its ``sock_*`` calls this way when the
    poller has these methods, and level-triggered otherwise.
    """

    def register_edge(self, fd: int, events: int, known: bool) -> None:
        """Watch *fd* for *events*, reported once per change, a reader's with
        the peer's end of stream told apart (epoll's ``EPOLLRDHUP``); *known*:
        it may have an entry already."""

    def reregister(self, fd: int, events: int) -> None:
        """Watch *fd* for *events*, level-triggered, with or without an entry left for it."""


class EpollPoller:
    """Linux epoll, used directly (no :mod:`selectors` layer, no key objects)."""

    def __init__(self) -> None:
        self.name = "epoll"
        self._epoll = select.epoll()
        self._closed = False

    @staticmethod
    def _to_epoll(events: int) -> int:
        mask = 0
        if events & EVENT_READ:
            mask |= _EPOLLIN
        if events & EVENT_WRITE:
            mask |= _EPOLLOUT
        return mask

    def register(self, fd: int, events: int) -> None:
        self._epoll.register(fd, self._to_epoll(events))

    def modify(self, fd: int, events: int) -> None:
        self._epoll.modify(fd, self._to_epoll(events))

    def unregister(self, fd: int) -> None:
        try:
            self._epoll.unregister(fd)
        except (OSError, ValueError):
            # Closed descriptors leave epoll on their own; nothing to undo.
            pass

    def register_edge(self, fd: int, events: int, known: bool) -> None:
        """Watch *fd* for *events*, edge-triggered: reported once per change of state.

        *known* says the descriptor may still be registered from an earlier
        watch; either guess is corrected by trying the other call.
        """
        mask = self._to_epoll(events) | _EPOLLET
        if events & EVENT_READ:
            mask |= _EPOLLRDHUP  # see loop_core._core, "An entry also tells"
        if known:
            try:
                self._epoll.modify(fd, mask)
                return
            except FileNotFoundError:
                pass  # closed (and perhaps reused) since: its entry went with it
            self._epoll.register(fd, mask)
            return
        try:
            self._epoll.register(fd, mask)
        except FileExistsError:
            self._epoll.modify(fd, mask)

    def reregister(self, fd: int, events: int) -> None:
        """Watch *fd* for *events*, level-triggered, whether or not an entry is left for it."""
        mask = self._to_epoll(events)
        try:
            self._epoll.modify(fd, mask)
        except FileNotFoundError:
            self._epoll.register(fd, mask)

    def poll_flags(self, timeout: float) -> list[tuple[int, int]]:
        """Like :meth:`poll`, with epoll's own flags (``EPOLLIN``, ``EPOLLOUT``,
        ``EPOLLERR``, ...) in place of the event mask: the loop's core reads
        them directly, without a second list of tuples."""
        return self._epoll.poll(timeout)

    def poll(self, timeout: float) -> list[tuple[int, int]]:
        ready: list[tuple[int, int]] = []
        for fd, flags in self._epoll.poll(timeout):
            events = 0
            if flags & _WAKES_READER:
                events |= EVENT_READ
            if flags & _WAKES_WRITER:
                events |= EVENT_WRITE
            ready.append((fd, events))
        return ready

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._epoll.close()


class SelectorPoller:
    """Any :class:`selectors.BaseSelector`: poll, select, kqueue, devpoll, epoll."""

    def __init__(self, selector: selectors.BaseSelector, name: str) -> None:
        self.name = name
        self._selector = selector

    def register(self, fd: int, events: int) -> None:
        self._selector.register(fd, events)

    def modify(self, fd: int, events: int) -> None:
        self._selector.modify(fd, events)

    def unregister(self, fd: int) -> None:
        try:
            self._selector.unregister(fd)
        except (KeyError, ValueError):
            pass

    def poll(self, timeout: float) -> list[tuple[int, int]]:
        wait = None if timeout < 0 else timeout
        return [(key.fd, events) for key, events in self._selector.select(wait)]

    def close(self) -> None:
        self._selector.close()


def _selector_factories() -> dict[str, Callable[[], selectors.BaseSelector]]:
    factories: dict[str, Callable[[], selectors.BaseSelector]] = {}
    for name, attribute in (
        ("kqueue", "KqueueSelector"),
        ("devpoll", "DevpollSelector"),
        ("poll", "PollSelector"),
        ("select", "SelectSelector"),
    ):
        factory = getattr(selectors, attribute, None)
        if factory is not None:
            factories[name] = factory
    return factories


def available_pollers() -> list[str]:
    """Names of the pollers this platform offers, the default first."""
    names = ["epoll"] if hasattr(select, "epoll") else []
    return names + list(_selector_factories())


def create_poller(name: str | None = None) -> Poller:
    """Create the poller called *name*, or by default the one named by the
    ``LOOP_CORE_POLLER`` environment variable, or the platform's best one.

    Raises :class:`ValueError` for a name this platform does not offer.
    """
    if name is None:
        name = os.environ.get("LOOP_CORE_POLLER") or available_pollers()[0]
    if name == "epoll" and hasattr(select, "epoll"):
        return EpollPoller()
    factory = _selector_factories().get(name)
    if factory is None:
        raise ValueError(f"unknown poller {name!r}; this platform offers {available_pollers()}")
    return SelectorPoller(factory(), name)
