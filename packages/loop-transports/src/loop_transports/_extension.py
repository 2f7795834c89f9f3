"""loop-core's ``network`` extension: the loop methods this package provides.

Registered under the ``loop_core.extensions`` entry-point group, so installing
loop-transports is all it takes for ``loop.create_connection`` and the rest to
work on loop-core's loop. The methods are the implementing functions
themselves (each takes the loop first); they use only the loop's public
interface.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from loop_transports import (
    _connect,
    _datagram,
    _pipes,
    _sendfile,
    _servers,
    _subprocess_transport,
)

if TYPE_CHECKING:
    from loop_core.extensions import NetworkExtension

__all__ = ["NetworkMethods", "create_extension"]


class NetworkMethods:
    """The network methods of one loop: this package's implementations themselves.

    Each takes the loop first, as :class:`loop_core.extensions.NetworkExtension`
    says; ``loop_core.EventLoop`` passes itself.
    """

    create_connection = staticmethod(_connect.create_connection)
    create_server = staticmethod(_servers.create_server)
    create_unix_connection = staticmethod(_connect.create_unix_connection)
    create_unix_server = staticmethod(_servers.create_unix_server)
    create_datagram_endpoint = staticmethod(_datagram.create_datagram_endpoint)
    connect_accepted_socket = staticmethod(_connect.connect_accepted_socket)
    connect_read_pipe = staticmethod(_pipes.connect_read_pipe)
    connect_write_pipe = staticmethod(_pipes.connect_write_pipe)
    subprocess_exec = staticmethod(_subprocess_transport.subprocess_exec)
    subprocess_shell = staticmethod(_subprocess_transport.subprocess_shell)
    sendfile = staticmethod(_sendfile.sendfile)
    sock_sendfile = staticmethod(_sendfile.sock_sendfile)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def real_time_work_in_flight(self) -> bool:
        """Whether a child process is being started or still runs (read by virtual clocks)."""
        return _subprocess_transport.children_at_work(self._loop)

    def close(self) -> None:
        """The loop is closing: hand its running children's exit to threads.

        Transports and servers close themselves; a child process outlives
        the loop, and must still be reaped when it exits.
        """
        _subprocess_transport.release_exit_watchers(self._loop)


def create_extension(loop: asyncio.AbstractEventLoop) -> NetworkMethods:
    """Entry point of the ``network`` extension."""
    return NetworkMethods(loop)


if TYPE_CHECKING:
    # mypy holds the implementations to loop-core's signatures here.
    _conforms: type[NetworkExtension] = NetworkMethods
