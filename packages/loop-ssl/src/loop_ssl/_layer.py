"""The TLS engine: a compiled protocol between a plain transport and the application.

:class:`TLSLayer` feeds the bytes the plain transport receives into an
:class:`ssl.SSLObject` through memory BIOs and writes what the engine
produces back to the plain transport; the application sees an
:class:`~loop_ssl.SSLTransport`. The layer moves through ``handshake`` ->
``wrapped`` -> ``flushing`` -> ``shutdown`` -> ``closed``; every path out of it
ends with the application's ``connection_lost`` called exactly once (or,
before the handshake completed, the waiter failing). mypyc compiles this
module: per record, nothing of the layer runs in the interpreter.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from typing import Any, final

from loop_ssl._tls import (
    DEFAULT_HIGH_WATER,
    LOG_THRESHOLD_FOR_CONNLOST_WRITES,
    MAX_PENDING_INPUT,
    RECORD_SIZE,
    SSL_HANDSHAKE_TIMEOUT,
    SSL_SHUTDOWN_TIMEOUT,
    ClosedPlain,
    LostWith,
    SSLTransport,
    TLSHandshakeTimeout,
    logger,
    session_cache,
)

__all__ = ["TLSLayer"]


def _engine_of(sslobj: ssl.SSLObject) -> Any:
    """The object to read, write and handshake through.

    A plain :class:`ssl.SSLObject` passes ``read``, ``write``, ``pending``,
    ``do_handshake``, ``getpeercert``, ``cipher`` and ``compression``
    unchanged to the ``_ssl`` object it wraps, each through an interpreted
    frame of ``ssl.py`` (three per message echoed): calling that object
    directly skips them. An ``SSLContext.sslobject_class``
    subclass, which may override them, is called as it is.
    """
    if type(sslobj) is ssl.SSLObject:
        engine = getattr(sslobj, "_sslobj", None)
        if engine is not None:
            return engine
    return sslobj


@final
class TLSLayer:
    """The TLS engine between a plain transport and the application protocol.

    A plain protocol to the transport below (``data_received``): a
    BufferedProtocol would need asyncio's class as a base, which a compiled
    class cannot have, and it would keep a 256 KiB buffer per connection.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        app_protocol: asyncio.BaseProtocol,
        context: ssl.SSLContext,
        waiter: asyncio.Future[None] | None,
        *,
        server_side: bool = False,
        server_hostname: str | None = None,
        call_connection_made: bool = True,
        handshake_timeout: float | None = None,
        shutdown_timeout: float | None = None,
    ) -> None:
        self._loop = loop
        self._context = context
        self._waiter = waiter
        self._server_side = server_side
        # asyncio treats an empty name as none: no SNI, no hostname check.
        self._server_hostname = server_hostname or None
        # The layer starts the application itself once the handshake is
        # done (start_tls's caller does otherwise): it then reports what
        # would have gone to that caller (see _start_application).
        self._call_connection_made = call_connection_made
        self._handshake_timeout = (
            SSL_HANDSHAKE_TIMEOUT if handshake_timeout is None else handshake_timeout
        )
        self._shutdown_timeout = (
            SSL_SHUTDOWN_TIMEOUT if shutdown_timeout is None else shutdown_timeout
        )
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._sslobj: ssl.SSLObject | None = None
        # What reads, writes and handshakes: the _ssl object inside a plain
        # SSLObject (see _engine_of), or the SSLObject itself.
        self._engine: Any = None
        self._transport: Any = None  # the plain transport while the connection lives
        self._plain: Any = None  # ... and afterwards, for get_extra_info
        self._state = "unwrapped"
        self._app_protocol: Any = app_protocol
        self._app_buffered = isinstance(app_protocol, asyncio.BufferedProtocol)
        # Any: both are dropped (None) once the connection is gone.
        self._app_transport: Any = SSLTransport(self)
        self._app_connected = False
        self._extra: dict[str, Any] = {"sslcontext": context}
        self._backlog: collections.deque[memoryview] = collections.deque()
        self._backlog_size = 0
        self._reading = False  # delivering received data to the application
        self._conn_lost = 0
        self._timer: asyncio.TimerHandle | None = None
        self._app_reading_paused = False
        self._eof_pending = False  # the peer's EOF, held while the application pauses
        self._plain_reading_paused = False
        self._plain_writing_paused = False
        self._app_writing_paused = False
        self._high_water = DEFAULT_HIGH_WATER
        self._low_water = DEFAULT_HIGH_WATER // 4
        self._session_key: tuple[Any, Any] | None = None

    # Plumbing for the application transport

    def _extra_info(self, name: str, default: Any) -> Any:
        if name in self._extra:
            return self._extra[name]
        if self._plain is not None:
            return self._plain.get_extra_info(name, default)
        return default

    def _set_app_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._app_protocol = protocol
        self._app_buffered = isinstance(protocol, asyncio.BufferedProtocol)

    def _write_buffer_size(self) -> int:
        return self._backlog_size + self._outgoing.pending

    def _set_write_buffer_limits(self, high: int | None, low: int | None) -> None:
        if high is None:
            high = DEFAULT_HIGH_WATER if low is None else 4 * low
        if low is None:
            low = high // 4
        if not high >= low >= 0:
            raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
        self._high_water, self._low_water = high, low
        self._update_app_writing()

    # The plain transport's protocol interface

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = self._plain = transport
        cache = session_cache(self._context)
        session = None
        if cache is not None and not self._server_side:
            self._session_key = (self._server_hostname, transport.get_extra_info("peername"))
            session = cache.get(self._session_key)
        try:
            self._sslobj = self._context.wrap_bio(
                self._incoming,
                self._outgoing,
                server_side=self._server_side,
                server_hostname=self._server_hostname,
                session=session,
            )
        except Exception as exc:
            self._handshake_failed(exc)
            return
        self._extra["ssl_object"] = self._sslobj
        self._engine = _engine_of(self._sslobj)
        self._state = "handshake"
        self._timer = self._loop.call_later(self._handshake_timeout, self._handshake_expired)
        if not self._server_side:
            # A server's handshake starts with the client's hello: tried now,
            # it could only fail for want of it (an SSLWantReadError, about
            # 35,000 instructions).
            self._do_handshake()

    def data_received(self, data: bytes) -> None:
        self._incoming.write(data)
        self._process_incoming()

    def _process_incoming(self) -> None:
        state = self._state
        if state == "handshake":
            self._do_handshake()
        elif state in ("wrapped", "flushing"):
            self._do_read()
            if self._app_reading_paused and self._incoming.pending > MAX_PENDING_INPUT:
                self._pause_plain_reading()
        elif state == "shutdown":
            self._do_shutdown()

    def eof_received(self) -> bool:
        if self._loop.get_debug():
            logger.debug("%r received EOF", self)
        if self._state == "handshake":
            self._handshake_failed(
                ConnectionResetError("the peer closed the connection during the TLS handshake")
            )
        elif self._state in ("wrapped", "flushing"):
            if self._app_reading_paused:
                # Records still wait for the application: keep the (now
                # half-closed) connection until it has read them.
                self._eof_pending = True
                return True
            # The peer stopped without close_notify: deliver what was
            # decrypted, then an EOF, and close.
            self._do_read()
            self._app_eof()
        return False  # the plain transport closes; connection_lost follows

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_timer()
        self._backlog.clear()
        self._backlog_size = 0
        self._remember_session()
        was_connected = self._app_connected
        self._app_connected = False
        self._state = "closed"
        self._app_transport._closed = True
        self._transport = None
        if was_connected:
            self._loop.call_soon(self._app_protocol.connection_lost, exc)
        elif self._waiter is not None and not self._waiter.done():
            if exc is None:
                # Closed on our side before the handshake ended: as in asyncio,
                # start_tls then returns None instead of raising.
                self._waiter.set_result(None)
            else:
                self._waiter.set_exception(exc)
        # Applications keep their transport; let nothing here keep the
        # application, the plain transport or the TLS engine alive with it.
        self._waiter = None
        self._plain = ClosedPlain(self._plain)
        self._sslobj = self._engine = None
        self._app_protocol = None
        self._app_transport = None

    def pause_writing(self) -> None:
        self._plain_writing_paused = True
        self._update_app_writing()

    def resume_writing(self) -> None:
        self._plain_writing_paused = False
        self._do_write()
        self._update_app_writing()

    # Handshake

    def _do_handshake(self) -> None:
        assert self._engine is not None
        try:
            self._engine.do_handshake()
        except ssl.SSLWantReadError:
            self._flush_outgoing()
            return
        except Exception as exc:
            self._flush_outgoing()  # an alert for the peer, when there is one
            self._handshake_failed(exc)
            return
        self._flush_outgoing()
        self._handshake_done()

    def _handshake_expired(self) -> None:
        self._timer = None
        if self._state == "handshake":
            self._handshake_failed(
                TLSHandshakeTimeout(
                    f"SSL handshake is taking longer than {self._handshake_timeout} seconds: "
                    "aborting the connection"
                )
            )

    def _handshake_failed(self, exc: BaseException) -> None:
        self._cancel_timer()
        self._state = "closed"
        if self._loop.get_debug():
            logger.debug("%r: TLS handshake failed", self, exc_info=exc)
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        elif waiter is None and self._call_connection_made and self._loop.get_debug():
            # Nobody awaits the handshake (a server's connection, see
            # tls_server_protocol): a bad peer, reported only when debugging,
            # as asyncio's servers do.
            self._loop.call_exception_handler(
                {
                    "message": "Error on transport creation for incoming connection"
                    if self._server_side
                    else "TLS handshake failed",
                    "exception": exc,
                }
            )
        if self._transport is not None:
            self._transport.abort()

    def _handshake_done(self) -> None:
        self._cancel_timer()
        engine = self._engine
        assert engine is not None
        self._extra.update(
            peercert=engine.getpeercert(),
            cipher=engine.cipher(),
            compression=engine.compression(),
        )
        self._state = "wrapped"
        self._app_connected = True
        if self._call_connection_made and not self._start_application():
            return
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        # Application data may have come in the same flight as the Finished message.
        if self._incoming.pending:
            self._loop.call_soon(self._do_read)
        self._do_write()

    def _start_application(self) -> bool:
        """Call the application's ``connection_made``; whether it went well.

        If it raises, the connection is aborted and the exception goes to
        the loop's exception handler: the application's bug is never
        silent, and nobody else is there to hear of it.
        """
        protocol = self._app_protocol
        transport = self._app_transport
        try:
            protocol.connection_made(transport)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            if self._transport is not None:
                self._transport.abort()
            self._loop.call_exception_handler(
                {
                    "message": "Exception in protocol.connection_made()",
                    "exception": exc,
                    "transport": transport,
                    "protocol": protocol,
                }
            )
            return False
        return True

    # Reading

    def _do_read(self) -> None:
        if self._state not in ("wrapped", "flushing") or self._app_reading_paused:
            return
        engine = self._engine
        assert engine is not None
        # What the application writes while it is handed the data goes out
        # afterwards in one transport write, not one per record it answers.
        try:
            self._reading = True
            try:
                if self._app_buffered:
                    self._read_into_app_buffer(engine)
                else:
                    self._read_chunks(engine)
            finally:
                self._reading = False
        except ssl.SSLZeroReturnError:
            self._close_notify_received()
            return
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLError as exc:
            self._fatal_error(exc, "Fatal TLS error while reading")
            return
        # Reading can produce records to send (key updates, session tickets).
        self._flush_outgoing()
        if self._backlog:
            self._do_write()

    def _read_chunks(self, engine: Any) -> None:
        # Every record that is in is decrypted first and handed over in one
        # data_received call, as asyncio does: one call (and usually one
        # answer) per read instead of one per 16 KiB record. The peer's
        # close_notify or a TLS error comes after the data that preceded it.
        chunks: list[bytes] = []
        try:
            while data := engine.read(RECORD_SIZE):
                chunks.append(data)
                if self._drained(engine):
                    return
        finally:
            if chunks:
                self._app_protocol.data_received(
                    chunks[0] if len(chunks) == 1 else b"".join(chunks)
                )
        raise ssl.SSLZeroReturnError(ssl.SSL_ERROR_ZERO_RETURN, "EOF")

    def _drained(self, engine: Any) -> bool:
        # Nothing left in the input BIO and no decrypted byte held back: a
        # further read() could only raise SSLWantReadError, an exception
        # that costs more than these two checks on every message.
        return not self._incoming.pending and not engine.pending()

    def _read_into_app_buffer(self, engine: Any) -> None:
        # Called through Any: given a buffer read() returns a count.
        read_into = engine.read
        while not self._app_reading_paused and self._state in ("wrapped", "flushing"):
            buffer = self._app_protocol.get_buffer(-1)
            size = len(buffer)
            if not size:
                raise RuntimeError("get_buffer() returned an empty buffer")
            count: int = read_into(size, buffer)
            if not count:
                raise ssl.SSLZeroReturnError(ssl.SSL_ERROR_ZERO_RETURN, "EOF")
            self._app_protocol.buffer_updated(count)
            if self._drained(engine):
                return

    def _close_notify_received(self) -> None:
        # The peer will send nothing more: tell the application, answer with
        # our own close_notify and close.
        self._app_eof()
        if self._state in ("wrapped", "flushing"):
            self._app_transport._closed = True
            self._start_shutdown()  # after what the application already wrote

    def _app_eof(self) -> None:
        try:
            keep_open = self._app_protocol.eof_received()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Error calling eof_received()")
            return
        if keep_open:
            logger.warning("returning true from eof_received() has no effect when using ssl")

    def _pause_app_reading(self) -> None:
        self._app_reading_paused = True

    def _resume_app_reading(self) -> None:
        if not self._app_reading_paused:
            return
        self._app_reading_paused = False
        if self._plain_reading_paused and self._transport is not None:
            self._plain_reading_paused = False
            self._transport.resume_reading()
        self._loop.call_soon(self._read_after_resume)

    def _read_after_resume(self) -> None:
        self._do_read()
        if self._eof_pending and not self._app_reading_paused and self._state != "closed":
            self._eof_pending = False
            self._app_eof()
            if self._transport is not None:
                self._transport.close()

    def _pause_plain_reading(self) -> None:
        if not self._plain_reading_paused and self._transport is not None:
            self._plain_reading_paused = True
            self._transport.pause_reading()

    # Writing

    def _write(self, data: object) -> None:
        """The application transport's ``write``: check, then encrypt and send."""
        if type(data) is not bytes:
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(
                    "write(): data must be a bytes-like object (bytes, bytearray or memoryview), "
                    f"not {type(data).__name__!r}"
                )
            data = bytes(data)
        if data:
            self._write_plaintext(data)

    def _write_plaintext(self, data: bytes) -> None:
        if self._state not in ("handshake", "wrapped") or self._app_transport._closed:
            if self._conn_lost >= LOG_THRESHOLD_FOR_CONNLOST_WRITES:
                logger.warning("socket.send() raised exception.")
            self._conn_lost += 1
            return
        self._backlog.append(memoryview(data))
        self._backlog_size += len(data)
        # While the application is handed data, its writes wait for the read
        # callback to end (one transport write for all of them), but they
        # count towards the water marks all the same.
        if not self._reading and self._state == "wrapped":
            self._do_write()
        self._update_app_writing()

    def _do_write(self) -> None:
        engine = self._engine
        if engine is None or self._state not in ("wrapped", "flushing"):
            return
        try:
            while self._backlog:
                chunk = self._backlog[0]
                written = engine.write(chunk)
                self._backlog_size -= written
                if written == len(chunk):
                    self._backlog.popleft()
                else:
                    self._backlog[0] = chunk[written:]
        except ssl.SSLWantReadError:
            pass  # a renegotiation needs the peer's answer first; retried after reading
        except ssl.SSLError as exc:
            self._fatal_error(exc, "Fatal TLS error while writing")
            return
        self._flush_outgoing()
        self._update_app_writing()
        if self._state == "flushing" and not self._backlog:
            self._begin_shutdown()

    def _flush_outgoing(self) -> None:
        if self._outgoing.pending and self._transport is not None:
            self._transport.write(self._outgoing.read())

    def _update_app_writing(self) -> None:
        size = self._write_buffer_size()
        if not self._app_writing_paused:
            if self._plain_writing_paused or size > self._high_water:
                self._app_writing_paused = True
                self._call_app("pause_writing")
        elif not self._plain_writing_paused and size <= self._low_water:
            self._app_writing_paused = False
            self._call_app("resume_writing")

    def _call_app(self, method: str) -> None:
        try:
            getattr(self._app_protocol, method)()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._loop.call_exception_handler(
                {
                    "message": f"protocol.{method}() failed",
                    "exception": exc,
                    "transport": self._app_transport,
                    "protocol": self._app_protocol,
                }
            )

    # Closing

    def _start_shutdown(self) -> None:
        if self._state == "handshake":
            self._abort(None)
        elif self._state == "wrapped":
            self._state = "flushing"
            self._cancel_timer()
            self._timer = self._loop.call_later(self._shutdown_timeout, self._shutdown_expired)
            self._do_write()
        elif self._state == "unwrapped":
            self._abort(None)

    def _begin_shutdown(self) -> None:
        self._state = "shutdown"
        if self._timer is None:
            self._timer = self._loop.call_later(self._shutdown_timeout, self._shutdown_expired)
        self._do_shutdown()

    def _do_shutdown(self) -> None:
        sslobj = self._sslobj
        assert sslobj is not None
        try:
            sslobj.unwrap()
        except ssl.SSLWantReadError:
            self._flush_outgoing()  # our close_notify goes out; now wait for theirs
            return
        except (ssl.SSLError, OSError) as exc:
            self._flush_outgoing()
            self._fatal_error(exc, "Fatal TLS error during shutdown")
            return
        self._flush_outgoing()
        self._cancel_timer()
        self._remember_session()
        if self._transport is not None:
            self._transport.close()  # flushes, then connection_lost(None) reaches the app

    def _shutdown_expired(self) -> None:
        self._timer = None
        if self._transport is not None:
            self._abort(
                TimeoutError(
                    f"SSL shutdown timed out after {self._shutdown_timeout} seconds: "
                    "the peer never answered close_notify"
                )
            )

    def _abort(self, exc: BaseException | None) -> None:
        self._cancel_timer()
        transport = self._transport
        if transport is None:
            return
        self._app_transport._closed = True
        if exc is not None:
            # The plain transport reports its own close as clean; make the
            # application hear why.
            transport.set_protocol(LostWith(self, exc))
        transport.abort()

    def _fatal_error(self, exc: BaseException, message: str) -> None:
        if isinstance(exc, OSError):
            if self._loop.get_debug():
                logger.debug("%r: %s", self, message, exc_info=exc)
        else:
            self._loop.call_exception_handler(
                {
                    "message": message,
                    "exception": exc,
                    "transport": self._transport,
                    "protocol": self,
                }
            )
        self._abort(exc)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _remember_session(self) -> None:
        cache = session_cache(self._context)
        if cache is not None and self._session_key is not None and self._sslobj is not None:
            try:
                session = self._sslobj.session
            except (ssl.SSLError, ValueError):
                return
            cache.put(self._session_key, session)
