"""loop-core: a fast, typed event loop implementing asyncio's design.

``loop_core.EventLoop`` is a complete :class:`asyncio.AbstractEventLoop`:
tasks, timers, file-descriptor watching, signals and low-level socket calls
with nothing else installed. Networking, TLS, thread pools and sync primitives
come from the sibling packages, which plug in as extensions.
"""

from loop_core._combinators import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    as_completed,
    ensure_future,
    gather,
    shield,
    sleep,
    wait,
)
from loop_core._futures import Future, PyFuture, isfuture
from loop_core._handles import Handle, TimerHandle
from loop_core._loop import EventLoop
from loop_core._runners import EventLoopPolicy, Runner, new_event_loop, run
from loop_core._taskgroups import TaskGroup
from loop_core._tasks import (
    PyTask,
    Task,
    all_tasks,
    create_eager_task_factory,
    create_task,
    current_task,
    eager_task_factory,
)
from loop_core._timeouts import Timeout, timeout, timeout_at, wait_for
from loop_core._version import __version__
from loop_core.extensions import MissingExtensionError
from loop_core.pollers import available_pollers

__all__ = [
    "ALL_COMPLETED",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "EventLoop",
    "EventLoopPolicy",
    "Future",
    "Handle",
    "MissingExtensionError",
    "PyFuture",
    "PyTask",
    "Runner",
    "Task",
    "TaskGroup",
    "Timeout",
    "TimerHandle",
    "__version__",
    "all_tasks",
    "as_completed",
    "available_pollers",
    "create_eager_task_factory",
    "create_task",
    "current_task",
    "eager_task_factory",
    "ensure_future",
    "gather",
    "isfuture",
    "new_event_loop",
    "run",
    "shield",
    "sleep",
    "timeout",
    "timeout_at",
    "wait",
    "wait_for",
]
