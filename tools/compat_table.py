"""Write docs/compatibility.rst: every asyncio name and loop method, and who provides it.

The table is kept true by integration-tests/test_integration_compat.py, which
fails when a listed name is missing from asyncio (on a Python the row claims)
or from the package said to provide it, or when asyncio has a name the table
does not list. Re-run after changing what a package provides:

    python3 dev.py nox -s compat

Each supported interpreter found on PATH or under pyenv is asked for its
``asyncio.__all__`` so the "Python" column says where a name exists.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from noxfile import PYTHONS  # noqa: E402  (the noxfile also puts pyenv Pythons on PATH)

PROBE = (
    "import asyncio, json; print(json.dumps({'names': sorted(asyncio.__all__), 'methods': "
    "sorted(n for n, v in vars(asyncio.AbstractEventLoop).items() "
    "if callable(v) and not n.startswith('__'))}))"
)

IMPLEMENTED_IN_CORE = {
    "ALL_COMPLETED",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "EventLoop",
    "Future",
    "Handle",
    "TimerHandle",
    "Task",
    "TaskGroup",
    "Timeout",
    "Runner",
    "all_tasks",
    "as_completed",
    "create_eager_task_factory",
    "eager_task_factory",
    "create_task",
    "current_task",
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
}
ASYNCIO_EXCEPTIONS = {
    "CancelledError",
    "InvalidStateError",
    "TimeoutError",
    "IncompleteReadError",
    "LimitOverrunError",
    "SendfileNotAvailableError",
    "BrokenBarrierError",
    "QueueEmpty",
    "QueueFull",
    "QueueShutDown",
}
ASYNCIO_MACHINERY = {
    "AbstractEventLoop": "the base class of loop_core.EventLoop",
    "AbstractEventLoopPolicy": "policies hand out any loop, ours included",
    "DefaultEventLoopPolicy": "policies hand out any loop, ours included",
    "get_event_loop": "returns our loop while it runs",
    "get_event_loop_policy": "policies hand out any loop, ours included",
    "set_event_loop": "accepts our loop",
    "set_event_loop_policy": "policies hand out any loop, ours included",
    "get_running_loop": "returns our loop while it runs",
    "_get_running_loop": "our loop registers itself as running",
    "_set_running_loop": "our loop registers itself as running",
    "_register_task": "our Tasks are registered with it",
    "_unregister_task": "our Tasks are registered with it",
    "_enter_task": "our Tasks enter and leave through it",
    "_leave_task": "our Tasks enter and leave through it",
    "iscoroutine": "recognises the coroutines our Tasks run",
    "iscoroutinefunction": "recognises the coroutines our Tasks run",
    "BaseEventLoop": "stock asyncio's own loop implementation",
    "SelectorEventLoop": "stock asyncio's own loop implementation",
}
CHILD_WATCHERS = {
    "AbstractChildWatcher",
    "FastChildWatcher",
    "MultiLoopChildWatcher",
    "PidfdChildWatcher",
    "SafeChildWatcher",
    "ThreadedChildWatcher",
    "get_child_watcher",
    "set_child_watcher",
}
IMPLEMENTED_IN_SYNC = {
    "Barrier",
    "BoundedSemaphore",
    "Condition",
    "Event",
    "Lock",
    "Semaphore",
    "Queue",
    "PriorityQueue",
    "LifoQueue",
}
IMPLEMENTED_IN_EXECUTOR = {"to_thread", "run_coroutine_threadsafe", "wrap_future"}
IMPLEMENTED_IN_TRANSPORTS = {
    "Server",
    "BaseProtocol",
    "BaseTransport",
    "BufferedProtocol",
    "DatagramProtocol",
    "DatagramTransport",
    "Protocol",
    "ReadTransport",
    "SubprocessProtocol",
    "SubprocessTransport",
    "Transport",
    "WriteTransport",
    "StreamReader",
    "StreamReaderProtocol",
    "StreamWriter",
    "open_connection",
    "open_unix_connection",
    "start_server",
    "start_unix_server",
    "create_subprocess_exec",
    "create_subprocess_shell",
}
# Names asyncio keeps as interfaces; ours subclass or return them.
TRANSPORT_INTERFACES = {"AbstractServer": "the base class of loop_transports.Server"}
PLANNED: dict[str, set[str]] = {}
IMPLEMENTED_EXTENSIONS = {
    "loop-executor": {
        "run_in_executor",
        "set_default_executor",
        "shutdown_default_executor",
        "getaddrinfo",
        "getnameinfo",
    },
    "loop-transports": {
        "create_connection",
        "create_server",
        "create_unix_connection",
        "create_unix_server",
        "create_datagram_endpoint",
        "connect_accepted_socket",
        "connect_read_pipe",
        "connect_write_pipe",
        "subprocess_exec",
        "subprocess_shell",
        "sendfile",
        "sock_sendfile",
    },
    "loop-ssl": {"start_tls"},
}
METHOD_EXTENSIONS: dict[str, set[str]] = {}


def classify_name(name: str) -> tuple[str, str]:
    if name in IMPLEMENTED_IN_CORE:
        return f"loop_core.{name}", "implemented"
    if name in IMPLEMENTED_IN_SYNC:
        return f"loop_sync.{name}", "implemented"
    if name in IMPLEMENTED_IN_EXECUTOR:
        return f"loop_executor.{name}", "implemented"
    if name in IMPLEMENTED_IN_TRANSPORTS:
        return f"loop_transports.{name}", "implemented"
    if name in TRANSPORT_INTERFACES:
        return f"asyncio.{name}", f"asyncio's own: {TRANSPORT_INTERFACES[name]}"
    if name in ASYNCIO_EXCEPTIONS:
        return f"asyncio.{name}", "asyncio's class, raised by our code"
    if name in ASYNCIO_MACHINERY:
        return f"asyncio.{name}", f"asyncio's own: {ASYNCIO_MACHINERY[name]}"
    if name in CHILD_WATCHERS:
        return "(none)", "not needed: children are watched per loop, without a global watcher"
    for package, names in PLANNED.items():
        if name in names:
            return package.split()[0].replace("-", "_"), f"planned: {package}"
    raise SystemExit(f"compat_table.py: classify asyncio.{name} before regenerating")


def classify_method(name: str) -> tuple[str, str]:
    for package, names in IMPLEMENTED_EXTENSIONS.items():
        if name in names:
            return f"loop_core.EventLoop.{name}", f"implemented by the {package} extension"
    for package, names in METHOD_EXTENSIONS.items():
        if name in names:
            return f"loop_core.EventLoop.{name}", f"delegates to the {package} extension"
    return f"loop_core.EventLoop.{name}", "implemented"


def pythons_having(item: str, kind: str, seen: dict[str, dict[str, list[str]]]) -> str:
    having = [v for v in seen if item in seen[v][kind]]
    if len(having) == len(seen):
        return "all"
    return ", ".join(having)


def main() -> None:
    seen: dict[str, dict[str, list[str]]] = {}
    for version in PYTHONS:
        try:
            out = subprocess.run(
                [f"python{version}", "-c", PROBE], capture_output=True, text=True, check=True
            ).stdout
        except (OSError, subprocess.CalledProcessError):
            print(f"compat_table.py: Python {version} not found, left out", file=sys.stderr)
            continue
        seen[version] = json.loads(out)
    # Public names first: a private one (asyncio's _timer_handle_cancelled)
    # is listed because AbstractEventLoop has it, not because users call it.
    names = sorted(
        set().union(*(set(s["names"]) for s in seen.values())),
        key=lambda n: (n.startswith("_"), n.lower(), n),
    )
    methods = sorted(
        set().union(*(set(s["methods"]) for s in seen.values())),
        key=lambda n: (n.startswith("_"), n),
    )
    rows = ["   name,kind,provided by,status,Python"]
    for method in methods:
        provider, status = classify_method(method)
        where = pythons_having(method, "methods", seen)
        rows.append(f'   {method},loop method,{provider},"{status}","{where}"')
    for name in names:
        provider, status = classify_name(name)
        where = pythons_having(name, "names", seen)
        rows.append(f'   {name},asyncio name,{provider},"{status}","{where}"')
    checked = ", ".join(seen)
    text = f"""Compatibility with asyncio
==========================

Every method of :class:`asyncio.AbstractEventLoop` and every public name of
:mod:`asyncio` (``asyncio.__all__``), with where the loop packages provide it
and its status. "Python" says on which of the supported Pythons ({checked})
asyncio has the name; "all" means every one. A test keeps this table true:
it fails when asyncio gains a name that is not listed, when a listed name is
gone, or when an "implemented" row names something our packages lack.

Names marked "asyncio's own" need no replacement: they work with our loop
as they are (our loop is asyncio's running loop while it runs, and our tasks
are registered in asyncio's task bookkeeping). Exceptions are always asyncio's
classes, so ``except asyncio.CancelledError`` catches ours. The details that
asyncio leaves undocumented but libraries rely on, and which ours match, are
listed under "Details libraries rely on" in :doc:`conformance`.

.. csv-table::
   :header-rows: 1
   :widths: 22 12 26 30 10
   :class: compat

{chr(10).join(rows)}
"""
    (ROOT / "docs" / "compatibility.rst").write_text(text)
    print(f"wrote docs/compatibility.rst: {len(methods)} methods, {len(names)} names")


if __name__ == "__main__":
    main()
