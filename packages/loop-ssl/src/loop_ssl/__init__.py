"""loop-ssl: TLS over any loop-transports transport, and ``start_tls``.

Installing it makes ``loop.start_tls`` work on loop-core's loop (it registers
the ``tls`` extension), and with it every ``ssl=`` argument of
loop-transports' connections, servers and streams.
"""

from loop_ssl._extension import start_tls, tls_server_protocol
from loop_ssl._tls import (
    SSL_HANDSHAKE_TIMEOUT,
    SSL_SHUTDOWN_TIMEOUT,
    SSLTransport,
    TLSHalfCloseError,
    TLSHandshakeTimeout,
    remember_sessions,
)
from loop_ssl._version import __version__

__all__ = [
    "SSL_HANDSHAKE_TIMEOUT",
    "SSL_SHUTDOWN_TIMEOUT",
    "SSLTransport",
    "TLSHalfCloseError",
    "TLSHandshakeTimeout",
    "__version__",
    "remember_sessions",
    "start_tls",
    "tls_server_protocol",
]
