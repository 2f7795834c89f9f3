"""Narrow views of a loop, for code that needs only part of one.

Sibling packages type their loop arguments with the least they use, so they run
on our :class:`~loop_core.EventLoop` and on any other asyncio loop alike.
"""

from __future__ import annotations

import asyncio
import contextvars
import ssl
from collections.abc import Callable, Generator
from typing import Any, Protocol, TypeVar

__all__ = [
    "CancellableHandle",
    "ErrorReportingLoop",
    "FileDescriptorLoop",
    "FutureLike",
    "SchedulingLoop",
    "TLSServingLoop",
    "TimerHandleLike",
]

_T = TypeVar("_T")


class CancellableHandle(Protocol):
    """What ``call_soon`` returns, on any loop."""

    def cancel(self) -> None: ...

    def cancelled(self) -> bool: ...


class TimerHandleLike(CancellableHandle, Protocol):
    """What ``call_later`` and ``call_at`` return, on any loop."""

    def when(self) -> float: ...


class FutureLike(Protocol[_T]):
    """asyncio's future protocol, met by asyncio's Future and ours."""

    def get_loop(self) -> Any: ...

    def done(self) -> bool: ...

    def cancelled(self) -> bool: ...

    def result(self) -> _T: ...

    def exception(self) -> BaseException | None: ...

    def set_result(self, result: _T, /) -> None: ...

    def set_exception(self, exception: type[BaseException] | BaseException, /) -> None: ...

    def cancel(self, msg: Any | None = None) -> bool: ...

    def add_done_callback(
        self, fn: Callable[[Any], object], /, *, context: contextvars.Context | None = None
    ) -> None: ...

    def remove_done_callback(self, fn: Callable[[Any], object], /) -> int: ...

    def __await__(self) -> Generator[Any, None, _T]: ...


class SchedulingLoop(Protocol):
    """Time, callbacks and futures: what synchronization primitives need."""

    def time(self) -> float: ...

    def call_soon(
        self,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> CancellableHandle: ...

    def call_later(
        self,
        delay: float,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> TimerHandleLike: ...

    def call_at(
        self,
        when: float,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> TimerHandleLike: ...

    def create_future(self) -> FutureLike[Any]: ...

    def get_debug(self) -> bool: ...

    def is_closed(self) -> bool: ...

    def call_exception_handler(self, context: dict[str, Any]) -> None: ...


class FileDescriptorLoop(SchedulingLoop, Protocol):
    """A :class:`SchedulingLoop` that also watches file descriptors."""

    def add_reader(self, fd: Any, callback: Callable[..., object], *args: Any) -> None: ...

    def remove_reader(self, fd: Any) -> bool: ...

    def add_writer(self, fd: Any, callback: Callable[..., object], *args: Any) -> None: ...

    def remove_writer(self, fd: Any) -> bool: ...


class ErrorReportingLoop(FileDescriptorLoop, Protocol):
    """A :class:`FileDescriptorLoop` that tells a reader of an error pending
    on its descriptor (loop-core's loops; see
    :meth:`loop_core.EventLoop.add_reader_with_errors`)."""

    def add_reader_with_errors(
        self, fd: Any, callback: Callable[[], object], on_error: Callable[[], object]
    ) -> None: ...


class TLSServingLoop(Protocol):
    """A loop that makes the protocol a TLS server gives each accepted
    connection (loop-core's loops with loop-ssl installed; see
    :meth:`loop_core.EventLoop.tls_server_protocol`)."""

    def tls_server_protocol(
        self,
        protocol: asyncio.BaseProtocol,
        sslcontext: ssl.SSLContext,
        *,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
    ) -> asyncio.BaseProtocol: ...
