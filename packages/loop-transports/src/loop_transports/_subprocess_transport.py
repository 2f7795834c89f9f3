"""Child processes as transports: ``subprocess_exec`` and ``subprocess_shell``.

The child is started with :class:`subprocess.Popen`; its standard pipes become
pipe transports. Its exit is watched per process, never with a global SIGCHLD
handler: on Linux through a pidfd the loop polls like any descriptor, elsewhere
by a thread blocked in ``waitpid`` that reports back with
``call_soon_threadsafe``. Either way it works from a loop in any thread.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import warnings
import weakref
from collections.abc import Callable
from typing import IO, Any, Literal, TypeVar

from loop_transports._abstractions import SubprocessTransport
from loop_transports._base import logger

_ProtocolT = TypeVar("_ProtocolT", bound=asyncio.BaseProtocol)

__all__ = [
    "ChildSubprocessTransport",
    "release_exit_watchers",
    "subprocess_exec",
    "subprocess_shell",
]


class _PipeEnd(asyncio.Protocol):
    """Protocol of one standard pipe, reporting to the process transport."""

    def __init__(self, owner: ChildSubprocessTransport, fd: int) -> None:
        self._owner = owner
        self._fd = fd
        self.transport: asyncio.BaseTransport | None = None
        self.disconnected = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        # This runs for every read of every pipe: once the process is
        # connected, scheduled here rather than through the owner's _call
        # (an interpreted call that packs its arguments into a tuple).
        owner = self._owner
        if owner._pending_calls is None:
            owner._loop.call_soon(owner._protocol.pipe_data_received, self._fd, data)
        else:
            owner._call(owner._protocol.pipe_data_received, self._fd, data)

    def connection_lost(self, exc: BaseException | None) -> None:
        self.disconnected = True
        self._owner._pipe_connection_lost(self._fd, exc)

    def pause_writing(self) -> None:
        self._owner._protocol.pause_writing()

    def resume_writing(self) -> None:
        self._owner._protocol.resume_writing()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _exit_code(status: int) -> int:
    return os.waitstatus_to_exitcode(status)


class _ExitWatcher:
    """Reports a child's exit status to a callback on the loop, once.

    A watcher outlives its loop when the loop closes first: its pidfd is
    closed then, and a thread takes over the waiting so that the child is
    still reaped when it exits (see :func:`release_exit_watchers`).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        pid: int,
        on_exit: Callable[[int], None],
        known_code: Callable[[], int | None],
    ) -> None:
        self._loop = loop
        self._pid = pid
        self._on_exit = on_exit
        self._known_code = known_code
        self._pidfd = -1
        pidfd_open: Callable[[int], int] | None = getattr(os, "pidfd_open", None)
        if pidfd_open is not None:
            try:
                self._pidfd = pidfd_open(pid)
            except OSError:
                self._pidfd = -1  # kernel before 5.3, or seccomp: use a thread
        if self._pidfd >= 0:
            loop.add_reader(self._pidfd, self._pidfd_ready)
            _pidfd_watchers.setdefault(loop, set()).add(self)
        else:
            self._start_waiting_thread()

    def _start_waiting_thread(self) -> None:
        threading.Thread(
            target=self._wait_in_thread, name=f"loop-transports-waitpid-{self._pid}", daemon=True
        ).start()

    def _release(self) -> None:
        """The loop is closing: stop polling, but let a thread reap the child."""
        if self._pidfd >= 0:
            self._close_pidfd()
            self._start_waiting_thread()

    def _reap(self) -> int | None:
        """The exit code, or ``None`` while the child still runs."""
        try:
            pid, status = os.waitpid(self._pid, os.WNOHANG)
        except ChildProcessError:
            return self._reaped_elsewhere()
        if pid == 0:
            return None
        return _exit_code(status)

    def _pidfd_ready(self) -> None:
        code = self._reap()
        if code is None:
            return  # spurious wake-up: not exited yet
        self._close_pidfd()
        self._on_exit(code)

    def _close_pidfd(self) -> None:
        if self._pidfd >= 0:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = -1
            watchers = _pidfd_watchers.get(self._loop)
            if watchers is not None:
                watchers.discard(self)

    def _wait_in_thread(self) -> None:
        try:
            _, status = os.waitpid(self._pid, 0)
            code = _exit_code(status)
        except ChildProcessError:
            code = self._reaped_elsewhere()
        try:
            self._loop.call_soon_threadsafe(self._on_exit, code)
        except RuntimeError:
            pass  # the loop closed before the child exited: nobody listens any more

    def _reaped_elsewhere(self) -> int:
        # Someone else waited for it (Popen.poll in user code, say): Popen may
        # know the status; otherwise 255, as asyncio reports it.
        code = self._known_code()
        if code is None:
            logger.warning(
                "child process pid %d exit status already read: will report returncode 255",
                self._pid,
            )
            return 255
        return code

    def close(self) -> None:
        self._close_pidfd()


# The watchers polling a pidfd, by loop: what a closing loop must release.
_pidfd_watchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, set[_ExitWatcher]] = (
    weakref.WeakKeyDictionary()
)


def release_exit_watchers(loop: asyncio.AbstractEventLoop) -> None:
    """Called as *loop* closes: close the pidfds of children still running
    and reap each one from a thread when it exits, so that neither a
    descriptor nor a zombie outlives the loop."""
    for watcher in list(_pidfd_watchers.pop(loop, ())):
        watcher._release()


class ChildSubprocessTransport(SubprocessTransport):
    """A :class:`~asyncio.SubprocessTransport` for a child started by ``Popen``."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        protocol: asyncio.SubprocessProtocol,
        proc: subprocess.Popen[bytes],
        piped: tuple[int, ...],
    ) -> None:
        """Take over the started child *proc*; *piped* lists which of its
        standard descriptors (0, 1, 2) are pipes to wire."""
        self._loop = loop
        self._protocol = protocol
        self._closed = False
        self._finished = False
        self._returncode: int | None = None
        self._exit_waiters: list[asyncio.Future[int]] = []
        self._pending_calls: list[tuple[Callable[..., object], tuple[Any, ...]]] | None = []
        self._pipes: dict[int, _PipeEnd | None] = dict.fromkeys(piped)
        self._watcher: _ExitWatcher | None = None
        self._proc: subprocess.Popen[bytes] | None = proc
        self._pid = proc.pid
        self._extra: dict[str, Any] = {"subprocess": proc}

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"pid={self._pid}"
        code = "" if self._returncode is None else f" returncode={self._returncode}"
        return f"<{type(self).__name__} {state}{code}>"

    def __del__(self, _warn: Any = warnings.warn) -> None:
        if not self._closed:
            _warn(f"unclosed transport {self!r}", ResourceWarning, source=self)

    async def _connect(self) -> None:
        """Wire the pipes, start watching the exit, then tell the protocol."""
        proc = self._proc
        assert proc is not None
        try:
            if proc.stdin is not None and 0 in self._pipes:
                # Through the loop's methods, as asyncio does, so they can be wrapped.
                _, end = await self._loop.connect_write_pipe(lambda: _PipeEnd(self, 0), proc.stdin)
                self._pipes[0] = end
            for fd, stream in ((1, proc.stdout), (2, proc.stderr)):
                if stream is not None and fd in self._pipes:
                    _, end = await self._loop.connect_read_pipe(self._pipe_end(fd), stream)
                    self._pipes[fd] = end
            self._watcher = _ExitWatcher(
                self._loop, self._pid, self._process_exited, lambda: proc.returncode
            )
            self._loop.call_soon(self._protocol.connection_made, self)
            pending, self._pending_calls = self._pending_calls, None
            for callback, args in pending or ():
                self._loop.call_soon(callback, *args)
            # Return only after connection_made ran: callers read what it set up.
            connected: asyncio.Future[None] = self._loop.create_future()
            self._loop.call_soon(_resolve, connected)
            await connected
        except BaseException:
            self.close()
            await self._wait()
            raise

    def _pipe_end(self, fd: int) -> Callable[[], _PipeEnd]:
        return lambda: _PipeEnd(self, fd)

    def _call(self, callback: Callable[..., object], *args: Any) -> None:
        if self._pending_calls is not None:
            self._pending_calls.append((callback, args))
        else:
            self._loop.call_soon(callback, *args)

    def _pipe_connection_lost(self, fd: int, exc: BaseException | None) -> None:
        self._call(self._protocol.pipe_connection_lost, fd, exc)
        self._try_finish()

    def _process_exited(self, returncode: int) -> None:
        if self._returncode is not None:
            return
        self._returncode = returncode
        if self._proc is not None and self._proc.returncode is None:
            # Popen must not wait for a child we already reaped.
            self._proc.returncode = returncode
        if self._loop.get_debug():
            logger.info("%r exited with return code %r", self, returncode)
        self._call(self._protocol.process_exited)
        self._try_finish()
        waiters, self._exit_waiters = self._exit_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(returncode)

    async def _wait(self) -> int:
        """Wait for the child to exit and return its exit code."""
        if self._returncode is not None:
            return self._returncode
        waiter: asyncio.Future[int] = self._loop.create_future()
        self._exit_waiters.append(waiter)
        return await waiter

    def _try_finish(self) -> None:
        if self._finished or self._returncode is None:
            return
        if all(end is not None and end.disconnected for end in self._pipes.values()):
            self._finished = True
            self._call(self._call_connection_lost, None)

    def _call_connection_lost(self, exc: Exception | None) -> None:
        try:
            self._protocol.connection_lost(exc)
        finally:
            if self._watcher is not None:
                self._watcher.close()
            self._proc = None

    # Public interface

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """'subprocess' is the :class:`subprocess.Popen` object."""
        return self._extra.get(name, default)

    def get_protocol(self) -> Any:
        """The current protocol."""
        return self._protocol

    def set_protocol(self, protocol: Any) -> None:
        """Hand further events to *protocol*."""
        self._protocol = protocol

    def is_closing(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def get_pid(self) -> int:
        """The child's process id."""
        return self._pid

    def get_returncode(self) -> int | None:
        """The exit code (negative: killed by that signal), ``None`` while it runs."""
        return self._returncode

    def get_pipe_transport(self, fd: int) -> Any:
        """The transport of standard pipe *fd* (0, 1 or 2), or ``None``."""
        end = self._pipes.get(fd)
        return None if end is None else end.transport

    def _check_alive(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._returncode is not None:
            raise ProcessLookupError()
        return self._proc

    def send_signal(self, signal: int) -> None:
        """Send *signal* to the child; ``ProcessLookupError`` once it exited."""
        self._check_alive().send_signal(signal)

    def terminate(self) -> None:
        """Send SIGTERM to the child."""
        self._check_alive().terminate()

    def kill(self) -> None:
        """Send SIGKILL to the child."""
        self._check_alive().kill()

    def close(self) -> None:
        """Close the pipes and kill the child if it still runs."""
        if self._closed:
            return
        self._closed = True
        for end in self._pipes.values():
            if end is not None and end.transport is not None:
                end.transport.close()
        if self._proc is not None and self._returncode is None and self._proc.poll() is None:
            if self._loop.get_debug():
                logger.warning("Close running child process: kill %r", self)
            try:
                self._proc.kill()
            except ProcessLookupError:
                pass
            if self._watcher is None:
                # Never connected: reap it here so no zombie is left behind.
                self._proc.wait()
                self._process_exited(self._proc.returncode)


def _kill_and_reap(proc: subprocess.Popen[bytes]) -> None:
    """Blocking: end a child nobody will own and wait for it (in a thread)."""
    try:
        proc.kill()
    except ProcessLookupError:
        pass
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    proc.wait()


async def _spawn(
    loop: asyncio.AbstractEventLoop, args: Any, options: dict[str, Any]
) -> subprocess.Popen[bytes]:
    """Start the child from a helper thread and return its ``Popen``.

    ``Popen`` blocks its caller until the child has called exec (it reads the
    child's error pipe): for as long as forking a large process takes, and a
    blocking read in the loop's thread all the same. A child whose caller was
    cancelled meanwhile is killed and reaped, never left behind.
    """
    spawned: asyncio.Future[subprocess.Popen[bytes]] = loop.create_future()

    def deliver(proc: subprocess.Popen[bytes] | None, error: BaseException | None) -> None:
        if spawned.cancelled():
            if proc is not None:
                _reap_in_thread(proc)
        elif error is not None:
            spawned.set_exception(error)
        else:
            spawned.set_result(proc)  # type: ignore[arg-type]

    def spawn() -> None:
        proc: subprocess.Popen[bytes] | None = None
        error: BaseException | None = None
        try:
            proc = subprocess.Popen(args, **options)
        except BaseException as exc:
            error = exc
        try:
            loop.call_soon_threadsafe(deliver, proc, error)
        except RuntimeError:  # the loop closed meanwhile: nobody will own it
            if proc is not None:
                _kill_and_reap(proc)
        del error  # no traceback cycle through this frame

    threading.Thread(target=spawn, name="loop-transports-spawn", daemon=True).start()
    return await spawned


def _reap_in_thread(proc: subprocess.Popen[bytes]) -> None:
    threading.Thread(
        target=_kill_and_reap, args=(proc,), name=f"loop-transports-reap-{proc.pid}", daemon=True
    ).start()


def _check_text_options(
    universal_newlines: bool,
    bufsize: int,
    encoding: str | None,
    errors: str | None,
    text: bool | None,
) -> None:
    # Popen's text-mode keywords, which a subprocess transport must leave off;
    # checked at run time too: a caller that is not type-checked gets a clear error.
    if universal_newlines:
        raise ValueError("universal_newlines must be False")
    if text:
        raise ValueError("text must be False")
    if encoding is not None:
        raise ValueError("encoding must be None")
    if errors is not None:
        raise ValueError("errors must be None")
    if bufsize != 0:
        raise ValueError("bufsize must be 0")


class _LoopChildren:
    """The children of one loop being started or still running."""

    def __init__(self) -> None:
        self.starting = 0
        self.running: weakref.WeakSet[ChildSubprocessTransport] = weakref.WeakSet()


_children_of: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopChildren] = (
    weakref.WeakKeyDictionary()
)


def children_at_work(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether a child of *loop* is being started or still runs (for virtual clocks)."""
    children = _children_of.get(loop)
    if children is None:
        return False
    return children.starting > 0 or any(
        child.get_returncode() is None for child in children.running
    )


async def _start(
    loop: asyncio.AbstractEventLoop,
    protocol_factory: Callable[[], _ProtocolT],
    args: Any,
    shell: bool,
    stdin: int | IO[Any] | None,
    stdout: int | IO[Any] | None,
    stderr: int | IO[Any] | None,
    options: dict[str, Any],
) -> tuple[SubprocessTransport, _ProtocolT]:
    protocol = protocol_factory()
    popen_options = dict(
        options,
        shell=shell,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        universal_newlines=False,
        bufsize=0,
    )
    children = _children_of.setdefault(loop, _LoopChildren())
    children.starting += 1
    try:
        proc = await _spawn(loop, args, popen_options)
        if loop.get_debug():
            logger.debug("process %r created: pid %s", args, proc.pid)
        piped = tuple(
            fd for fd, stream in ((0, stdin), (1, stdout), (2, stderr)) if stream == subprocess.PIPE
        )
        # The factory of a subprocess method makes a SubprocessProtocol (asyncio's contract).
        transport = ChildSubprocessTransport(loop, protocol, proc, piped)  # type: ignore[arg-type]
        children.running.add(transport)
        await transport._connect()
    finally:
        children.starting -= 1
    return transport, protocol


async def subprocess_exec(
    loop: asyncio.AbstractEventLoop,
    protocol_factory: Callable[[], _ProtocolT],
    program: Any,
    *args: Any,
    stdin: int | IO[Any] | None = subprocess.PIPE,
    stdout: int | IO[Any] | None = subprocess.PIPE,
    stderr: int | IO[Any] | None = subprocess.PIPE,
    universal_newlines: Literal[False] = False,
    shell: Literal[False] = False,
    bufsize: Literal[0] = 0,
    encoding: None = None,
    errors: None = None,
    text: Literal[False] | None = None,
    **kwargs: Any,  # the rest of subprocess.Popen's keywords, as typeshed has them
) -> tuple[SubprocessTransport, _ProtocolT]:
    """Run *program* with *args* (no shell); see the loop method."""
    if shell:
        raise ValueError("shell must be False")
    _check_text_options(universal_newlines, bufsize, encoding, errors, text)
    return await _start(
        loop, protocol_factory, (program, *args), False, stdin, stdout, stderr, kwargs
    )


async def subprocess_shell(
    loop: asyncio.AbstractEventLoop,
    protocol_factory: Callable[[], _ProtocolT],
    cmd: bytes | str,
    *,
    stdin: int | IO[Any] | None = subprocess.PIPE,
    stdout: int | IO[Any] | None = subprocess.PIPE,
    stderr: int | IO[Any] | None = subprocess.PIPE,
    universal_newlines: Literal[False] = False,
    shell: Literal[True] = True,
    bufsize: Literal[0] = 0,
    encoding: None = None,
    errors: None = None,
    text: Literal[False] | None = None,
    **kwargs: Any,  # the rest of subprocess.Popen's keywords, as typeshed has them
) -> tuple[SubprocessTransport, _ProtocolT]:
    """Run *cmd* through the shell; see the loop method."""
    if not isinstance(cmd, (bytes, str)):
        raise ValueError("cmd must be a string")
    if not shell:
        raise ValueError("shell must be True")
    _check_text_options(universal_newlines, bufsize, encoding, errors, text)
    return await _start(loop, protocol_factory, cmd, True, stdin, stdout, stderr, kwargs)
