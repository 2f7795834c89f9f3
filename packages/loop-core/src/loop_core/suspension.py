"""Awaiting a future from a mypyc-compiled coroutine without warnings.

A compiled coroutine that is suspended in ``await future`` passes a
``throw()`` (a cancellation, say) on to the future's iterator with the
``(type, value, traceback)`` signature, which Python 3.12 deprecated: every
cancelled wait would then warn, and an error under ``-W error``. Compiled
modules of every package (the ``sock_*`` calls here, loop-sync's primitives)
await :func:`suspend` of their future instead of the future itself, and
:func:`delegate` of an interpreted coroutine (whose throw() warns alike)
instead of the coroutine.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Generator
from typing import Any, TypeVar, cast, final

from loop_core.interfaces import FutureLike

__all__ = ["Delegation", "Suspension", "compiled_throw_warns", "delegate", "suspend"]

_T = TypeVar("_T")


def compiled_throw_warns(module_file: str) -> bool:
    """Whether the module at *module_file* is compiled and runs where its
    throw() warns: only then must its waits go through :class:`Suspension`
    (a few percent on contended paths)."""
    return not module_file.endswith(".py") and sys.version_info >= (3, 12)


# What throw() is given first: the exception, or (old signature) its type.
_Kind = type[BaseException] | BaseException


def _thrown(kind: _Kind, value: BaseException | None, traceback: Any) -> BaseException:
    """The exception a throw() in either signature means."""
    if value is None:
        value = kind() if isinstance(kind, type) else kind
    if traceback is not None:
        value = value.with_traceback(traceback)
    return value


@final
class Suspension:
    """The await of a future, for compiled code.

    It accepts the old ``throw()`` signature and otherwise behaves as the
    future's own iterator: it yields the future once, then returns its
    result or raises its exception.
    """

    __slots__ = ("_future", "_yielded")

    def __init__(self, future: FutureLike[Any]) -> None:
        self._future = future
        self._yielded = False

    def __await__(self) -> Generator[Any, None, Any]:
        return cast("Generator[Any, None, Any]", self)

    def __iter__(self) -> Suspension:
        return self

    def __next__(self) -> object:
        return self.send(None)

    def send(self, value: object) -> object:
        future = self._future
        if not self._yielded:
            self._yielded = True
            if not future.done():
                # The flag a Task checks to know it was handed a future to wait for.
                cast(Any, future)._asyncio_future_blocking = True
                return future
        if not future.done():
            raise RuntimeError("await wasn't used with future")
        raise StopIteration(future.result())

    def throw(self, kind: _Kind, value: BaseException | None = None, tb: Any = None) -> object:
        raise _thrown(kind, value, tb)

    def close(self) -> None:
        self._yielded = True


def suspend(future: FutureLike[_T], caller_throw_warns: bool) -> Awaitable[_T]:
    """What a coroutine awaits to wait for *future*: the future itself, or a
    :class:`Suspension` where *caller_throw_warns* (the caller's module's
    :func:`compiled_throw_warns`)."""
    if caller_throw_warns:
        return cast("Awaitable[_T]", Suspension(future))
    return future


@final
class Delegation:
    """The await of an interpreted coroutine (or any awaitable), for compiled
    code: everything is passed on, a throw() with the current signature."""

    __slots__ = ("_iterator",)

    def __init__(self, awaitable: Awaitable[Any]) -> None:
        # A generator-based coroutine (types.coroutine) has no __await__.
        iterate = getattr(awaitable, "__await__", None)
        self._iterator: Generator[Any, Any, Any] = (
            iterate() if iterate is not None else cast(Any, iter(cast(Any, awaitable)))
        )

    def __await__(self) -> Generator[Any, None, Any]:
        return cast("Generator[Any, None, Any]", self)

    def __iter__(self) -> Delegation:
        return self

    def __next__(self) -> object:
        return self._iterator.send(None)

    def send(self, value: object) -> object:
        return self._iterator.send(value)

    def throw(self, kind: _Kind, value: BaseException | None = None, tb: Any = None) -> object:
        return self._iterator.throw(_thrown(kind, value, tb))

    def close(self) -> None:
        self._iterator.close()


def delegate(awaitable: Awaitable[_T], caller_throw_warns: bool) -> Awaitable[_T]:
    """What a coroutine awaits to wait for an interpreted *awaitable*: the
    awaitable itself, or a :class:`Delegation` where *caller_throw_warns*."""
    if caller_throw_warns:
        return cast("Awaitable[_T]", Delegation(awaitable))
    return awaitable
