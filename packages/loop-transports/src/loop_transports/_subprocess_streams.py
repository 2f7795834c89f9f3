"""Child processes with streams: ``create_subprocess_exec``/``_shell`` and :class:`Process`.

The child's stdout and stderr become :class:`StreamReader` objects and its
stdin a :class:`StreamWriter`; :meth:`Process.communicate` feeds and drains
them concurrently so neither side can block on a full pipe.
"""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any

from loop_transports._stream_core import DEFAULT_LIMIT
from loop_transports._streams import StreamReader, StreamWriter, _FlowControl

__all__ = ["Process", "create_subprocess_exec", "create_subprocess_shell"]

PIPE = subprocess.PIPE
STDOUT = subprocess.STDOUT
DEVNULL = subprocess.DEVNULL


class _ProcessStreams(_FlowControl, asyncio.SubprocessProtocol):
    """Connects the child's pipes to stream readers and a writer."""

    def __init__(self, limit: int, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop=loop)
        self._limit = limit
        self.stdin: StreamWriter | None = None
        self.stdout: StreamReader | None = None
        self.stderr: StreamReader | None = None
        self._transport: asyncio.SubprocessTransport | None = None
        self._exited = False
        self._open_pipes: set[int] = set()
        self._stdin_closed: asyncio.Future[None] = loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.SubprocessTransport)
        self._transport = transport
        for fd in (1, 2):
            pipe = transport.get_pipe_transport(fd)
            if pipe is None:
                continue
            reader = StreamReader(limit=self._limit, loop=self._loop)
            reader.set_transport(pipe)
            self._open_pipes.add(fd)
            if fd == 1:
                self.stdout = reader
            else:
                self.stderr = reader
        stdin = transport.get_pipe_transport(0)
        if stdin is not None:
            self.stdin = StreamWriter(stdin, self, None, self._loop)  # type: ignore[arg-type]

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        reader = self.stdout if fd == 1 else self.stderr if fd == 2 else None
        if reader is not None:
            assert isinstance(data, bytes)
            reader.feed_data(data)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 0:
            if exc is None:
                self._stdin_closed.set_result(None)
            else:
                self._stdin_closed.set_exception(exc)
                self._stdin_closed.exception()  # reported through drain, not as unretrieved
            super().connection_lost(exc)
            return
        reader = self.stdout if fd == 1 else self.stderr if fd == 2 else None
        if reader is not None:
            if exc is None:
                reader.feed_eof()
            else:
                reader.set_exception(exc)
        self._open_pipes.discard(fd)
        self._maybe_close_transport()

    def process_exited(self) -> None:
        self._exited = True
        self._maybe_close_transport()

    def _maybe_close_transport(self) -> None:
        if not self._open_pipes and self._exited and self._transport is not None:
            self._transport.close()
            self._transport = None

    def _get_close_waiter(self, stream: StreamWriter) -> asyncio.Future[None]:
        return self._stdin_closed


class Process:
    """A running child process, as returned by :func:`create_subprocess_exec`."""

    def __init__(
        self,
        transport: Any,
        protocol: _ProcessStreams,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._transport = transport
        self._protocol = protocol
        self._loop = loop
        self.stdin: StreamWriter | None = protocol.stdin
        self.stdout: StreamReader | None = protocol.stdout
        self.stderr: StreamReader | None = protocol.stderr
        self.pid: int = transport.get_pid()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.pid}>"

    @property
    def returncode(self) -> int | None:
        """The exit code once the child exited (negative: killed by that signal)."""
        code: int | None = self._transport.get_returncode()
        return code

    async def wait(self) -> int:
        """Wait for the child to exit and return its exit code."""
        code: int = await self._transport._wait()
        return code

    def send_signal(self, signal: int) -> None:
        """Send *signal* to the child."""
        self._transport.send_signal(signal)

    def terminate(self) -> None:
        """Ask the child to stop (SIGTERM)."""
        self._transport.terminate()

    def kill(self) -> None:
        """Kill the child (SIGKILL)."""
        self._transport.kill()

    async def _feed_stdin(self, data: bytes | None) -> None:
        stdin = self.stdin
        assert stdin is not None
        try:
            if data:
                stdin.write(data)
                await stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the child stopped reading: what it got is what it gets
        stdin.close()

    async def _drain(self, reader: StreamReader | None) -> bytes | None:
        if reader is None:
            return None
        return await reader.read()

    async def communicate(self, input: bytes | None = None) -> tuple[bytes | None, bytes | None]:
        """Send *input* to stdin (then close it), read stdout and stderr to
        the end, wait for the exit; return ``(stdout, stderr)``."""
        if self.stdin is not None:
            feeding: Any = self._feed_stdin(input)
        else:
            feeding = asyncio.sleep(0)
        _, out, err = await asyncio.gather(
            feeding, self._drain(self.stdout), self._drain(self.stderr)
        )
        await self.wait()
        return out, err


async def create_subprocess_exec(
    program: Any,
    *args: Any,
    stdin: Any = None,
    stdout: Any = None,
    stderr: Any = None,
    limit: int = DEFAULT_LIMIT,
    **kwds: Any,
) -> Process:
    """Start *program* with *args* and return a :class:`Process`."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.subprocess_exec(
        lambda: _ProcessStreams(limit, loop),
        program,
        *args,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        **kwds,
    )
    return Process(transport, protocol, loop)


async def create_subprocess_shell(
    cmd: str | bytes,
    stdin: Any = None,
    stdout: Any = None,
    stderr: Any = None,
    limit: int = DEFAULT_LIMIT,
    **kwds: Any,
) -> Process:
    """Run *cmd* through the shell and return a :class:`Process`."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.subprocess_shell(
        lambda: _ProcessStreams(limit, loop),
        cmd,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        **kwds,
    )
    return Process(transport, protocol, loop)
