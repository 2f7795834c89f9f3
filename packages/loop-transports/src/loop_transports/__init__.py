"""loop-transports: transports and protocols over TCP, UDP, Unix sockets, pipes
and subprocesses; servers; streams.

Installing it makes the loop's network methods (``create_connection``,
``create_server``, ``create_datagram_endpoint``, the Unix, pipe and
subprocess methods, ``sendfile``) work on loop-core's loop: it registers the
``network`` extension. The streams API here works on any asyncio loop.
"""

from loop_transports._abstractions import (
    BaseProtocol,
    BaseTransport,
    BufferedProtocol,
    DatagramProtocol,
    DatagramTransport,
    Protocol,
    ReadTransport,
    SubprocessProtocol,
    SubprocessTransport,
    Transport,
    WriteTransport,
)
from loop_transports._servers import Server
from loop_transports._streams import (
    StreamReader,
    StreamReaderProtocol,
    StreamWriter,
    open_connection,
    open_unix_connection,
    start_server,
    start_unix_server,
)
from loop_transports._subprocess_streams import (
    Process,
    create_subprocess_exec,
    create_subprocess_shell,
)
from loop_transports._version import __version__

__all__ = [
    "BaseProtocol",
    "BaseTransport",
    "BufferedProtocol",
    "DatagramProtocol",
    "DatagramTransport",
    "Process",
    "Protocol",
    "ReadTransport",
    "Server",
    "StreamReader",
    "StreamReaderProtocol",
    "StreamWriter",
    "SubprocessProtocol",
    "SubprocessTransport",
    "Transport",
    "WriteTransport",
    "__version__",
    "create_subprocess_exec",
    "create_subprocess_shell",
    "open_connection",
    "open_unix_connection",
    "start_server",
    "start_unix_server",
]
