"""TLS over any transport: the application's side, and what the engine shares.

:class:`SSLTransport` is what the application sees: an ordinary
:class:`asyncio.Transport` carrying plaintext, over the compiled TLS engine
of ``_layer`` (the protocol the plain transport talks to). Here too: the
limits and timeouts, the TLS errors, and the client session cache.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loop_ssl._layer import TLSLayer

__all__ = [
    "SSL_HANDSHAKE_TIMEOUT",
    "SSL_SHUTDOWN_TIMEOUT",
    "SSLTransport",
    "TLSHalfCloseError",
    "TLSHandshakeTimeout",
    "remember_sessions",
]

logger = logging.getLogger("loop_ssl")

# asyncio's defaults, in seconds.
SSL_HANDSHAKE_TIMEOUT = 60.0
SSL_SHUTDOWN_TIMEOUT = 30.0

DEFAULT_HIGH_WATER = 64 * 1024
# Past this much undecrypted input while the application has paused reading,
# stop reading the socket too.
MAX_PENDING_INPUT = 256 * 1024
# The most plaintext one TLS record carries, and so one SSLObject.read()
# returns: asking for more only makes each read allocate more.
RECORD_SIZE = 16 * 1024
LOG_THRESHOLD_FOR_CONNLOST_WRITES = 5


class TLSHandshakeTimeout(ConnectionAbortedError):
    """The TLS handshake did not finish in time.

    A :class:`ConnectionAbortedError`, as asyncio raises, and deliberately not
    a :class:`TimeoutError`: code written for asyncio that wraps a connect in
    ``except TimeoutError`` (for its own deadline) must not catch this.
    """


class TLSHalfCloseError(NotImplementedError):
    """TLS has no half-close: ``write_eof`` is refused (``can_write_eof`` is false)."""


_SESSIONS_ATTRIBUTE = "_loop_ssl_sessions"


def remember_sessions(context: ssl.SSLContext, max_sessions: int = 256) -> None:
    """Let client connections made with *context* resume TLS sessions.

    Each connection's session is kept, per server name and address, on the
    context itself, and the next connection to the same server offers it, so
    the server can skip the full handshake. Opt-in: a remembered session
    holds a reference to its context.
    """
    if max_sessions <= 0:
        raise ValueError(f"max_sessions must be positive, got {max_sessions}")
    setattr(context, _SESSIONS_ATTRIBUTE, _SessionCache(max_sessions))


class _SessionCache:
    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._sessions: dict[tuple[Any, Any], ssl.SSLSession] = {}

    def get(self, key: tuple[Any, Any]) -> ssl.SSLSession | None:
        return self._sessions.get(key)

    def put(self, key: tuple[Any, Any], session: ssl.SSLSession | None) -> None:
        if session is None:
            return
        if key not in self._sessions and len(self._sessions) >= self._limit:
            self._sessions.pop(next(iter(self._sessions)))
        self._sessions[key] = session


def session_cache(context: ssl.SSLContext) -> _SessionCache | None:
    cache: _SessionCache | None = getattr(context, _SESSIONS_ATTRIBUTE, None)
    return cache


class SSLTransport(asyncio.Transport):
    """The application's side of a TLS connection: plaintext in and out.

    Named as asyncio names its own (code and tests look for "ssl" in the
    transport's class name)."""

    _start_tls_compatible = True  # TLS inside TLS works

    def __init__(self, layer: TLSLayer) -> None:
        super().__init__()
        self._layer: TLSLayer | None = layer
        self._closed = False
        if type(self).write is SSLTransport.write:
            # The application's writes go straight to the compiled layer:
            # an interpreted call fewer per message.
            self.write = layer._write  # type: ignore[method-assign]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {'closed' if self._closed else 'open'}>"

    def __del__(self, _warn: Any = warnings.warn) -> None:
        if not getattr(self, "_closed", True):
            _warn(f"unclosed transport {self!r}", ResourceWarning, source=self)

    def _live_layer(self) -> TLSLayer:
        layer = self._layer
        if layer is None:
            raise RuntimeError("the TLS connection is closed")
        return layer

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """TLS keys ('ssl_object', 'peercert', 'cipher', 'compression',
        'sslcontext'), then the plain transport's ('peername', 'socket', ...)."""
        if self._layer is None:
            return default
        return self._layer._extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        """Hand further plaintext events to *protocol*."""
        self._live_layer()._set_app_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        """The application protocol."""
        return self._live_layer()._app_protocol  # type: ignore[no-any-return]

    def is_closing(self) -> bool:
        """Whether :meth:`close` or :meth:`abort` was called, or the connection ended."""
        return self._closed

    def close(self) -> None:
        """Send the buffered data, then close_notify, then close the connection."""
        if self._closed:
            return
        self._closed = True
        if self._layer is not None:
            self._layer._start_shutdown()

    def abort(self) -> None:
        """Close at once, without close_notify, dropping buffered data."""
        self._closed = True
        if self._layer is not None:
            self._layer._abort(None)

    def is_reading(self) -> bool:
        """Whether plaintext is being delivered to the protocol."""
        return self._layer is not None and not self._layer._app_reading_paused

    def pause_reading(self) -> None:
        """Stop delivering plaintext until :meth:`resume_reading`."""
        if self._layer is not None:
            self._layer._pause_app_reading()

    def resume_reading(self) -> None:
        """Deliver plaintext again."""
        if self._layer is not None:
            self._layer._resume_app_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        """Water marks for pausing the protocol's writing, as for socket transports."""
        self._live_layer()._set_write_buffer_limits(high, low)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        """Return ``(low, high)``."""
        layer = self._live_layer()
        return layer._low_water, layer._high_water

    def get_write_buffer_size(self) -> int:
        """Plaintext waiting for the TLS engine plus records waiting for the socket."""
        return 0 if self._layer is None else self._layer._write_buffer_size()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Encrypt and send *data*; buffered until the handshake or the socket allows."""
        if self._layer is not None:
            self._layer._write(data)

    def writelines(self, list_of_data: Any) -> None:
        """Write every bytes-like object of an iterable."""
        chunks = list(list_of_data)
        for chunk in chunks:
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise TypeError(
                    f"writelines(): data must be bytes-like, not {type(chunk).__name__!r}"
                )
        self.write(b"".join(chunks))

    def can_write_eof(self) -> bool:
        """TLS cannot half-close: always false."""
        return False

    def write_eof(self) -> None:
        """Refused: TLS has no half-close (see :meth:`can_write_eof`)."""
        raise TLSHalfCloseError("TLS does not support half-closing; use close()")


class ClosedPlain:
    """What is left of the plain transport after the end: its extra info."""

    def __init__(self, plain: Any) -> None:
        self._extra: dict[str, Any] = {}
        if plain is not None:
            for name in ("peername", "sockname", "socket"):
                self._extra[name] = plain.get_extra_info(name)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._extra.get(name, default)


class LostWith(asyncio.Protocol):
    """Forwards the plain transport's end to the layer with the real reason."""

    def __init__(self, layer: Any, exc: BaseException) -> None:
        self._layer = layer
        self._exc = exc

    def connection_lost(self, exc: BaseException | None) -> None:
        self._layer.connection_lost(exc or self._exc)
