"""Which of CPython's ``test.test_asyncio`` tests run against our code, and how.

Nothing of CPython's is copied: the test modules are imported from the
interpreter running us, and our classes are plugged into them. Two ways:

* class level: CPython's reusable test bases (``BaseFutureTests``,
  ``BaseTaskTests``, ...) get subclasses whose ``cls``/``Task``/``Future``
  are ours, as CPython itself does for its C and Python variants;
* loop level: asyncio's default policy is made to produce our loop, so every
  ``asyncio.new_event_loop()``, ``asyncio.run()`` and
  ``IsolatedAsyncioTestCase`` in a module runs on loop-core's loop; for
  loop-sync, asyncio's primitives are replaced by ours.

A module's test classes that exercise only stdlib classes (the C
accelerators, ``BaseEventLoop`` internals, the policy machinery) are not
selected; ``SKIPPED_CLASSES`` says why for each.
"""

from __future__ import annotations

import asyncio
import importlib
import unittest
from collections.abc import Callable
from types import ModuleType
from typing import Any

import loop_core
import loop_sync
import loop_transports

# CPython's test helpers (no type stubs: the test package is not typeshed's).
test_utils: Any = importlib.import_module("test.test_asyncio.utils")

__all__ = ["MODULES", "SKIPPED_CLASSES", "load_module_suite"]

Suite = Callable[[ModuleType], list[type[unittest.TestCase]]]


def use_our_loop() -> None:
    """Make asyncio's default policy hand out loop-core's loop."""
    policy_class: Any = asyncio.DefaultEventLoopPolicy
    policy_class._loop_factory = loop_core.EventLoop
    asyncio.set_event_loop_policy(None)


def _replace_in_asyncio(package: ModuleType, names: tuple[str, ...], *homes: ModuleType) -> None:
    """Make asyncio's *names* (and those of its submodules *homes*) *package*'s."""
    for name in names:
        ours = getattr(package, name)
        setattr(asyncio, name, ours)
        for home in homes:
            if hasattr(home, name):
                setattr(home, name, ours)


def use_our_primitives() -> None:
    """Replace asyncio's synchronization primitives and queues by loop-sync's."""
    names = ("Lock", "Event", "Condition", "Semaphore", "BoundedSemaphore", "Barrier")
    queues = ("Queue", "PriorityQueue", "LifoQueue")
    _replace_in_asyncio(loop_sync, names + queues, asyncio.locks, asyncio.queues)


def use_our_streams() -> None:
    """Replace asyncio's stream classes and functions by loop-transports'."""
    classes = ("StreamReader", "StreamWriter", "StreamReaderProtocol")
    functions = ("open_connection", "open_unix_connection", "start_server", "start_unix_server")
    _replace_in_asyncio(loop_transports, classes + functions, asyncio.streams)


def _test_cases(
    module: ModuleType, names: list[str] | None = None
) -> list[type[unittest.TestCase]]:
    found = []
    for name, value in vars(module).items():
        if (
            isinstance(value, type)
            and issubclass(value, unittest.TestCase)
            and value.__module__ == module.__name__
            and (names is None or name in names)
            and f"{module.__name__.rsplit('.', 1)[-1]}.{name}" not in SKIPPED_CLASSES
        ):
            found.append(value)
    return found


def _ours(name: str, *bases: type, **attributes: Any) -> type[unittest.TestCase]:
    case: type[unittest.TestCase] = type(name, bases, attributes)
    return case


def _future_variants() -> list[tuple[str, type, type]]:
    """(name, Future class, Task class) pairs the class-level suites run with.

    loop-core's own PyFuture and PyTask always; where asyncio's accelerated
    classes are the default, each of ours also beside the other's C class,
    since the two must interoperate both ways.
    """
    variants: list[tuple[str, type, type]] = [("Py", loop_core.PyFuture, loop_core.PyTask)]
    if not issubclass(loop_core.Future, loop_core.PyFuture):
        variants.append(("CTaskPyFuture", loop_core.PyFuture, loop_core.Task))
        variants.append(("PyTaskCFuture", loop_core.Future, loop_core.PyTask))
    return variants


def futures_suite(module: ModuleType) -> list[type[unittest.TestCase]]:
    future_class = loop_core.PyFuture
    return [
        _ours(
            "LoopCorePyFutureTests", module.BaseFutureTests, test_utils.TestCase, cls=future_class
        ),
        _ours(
            "LoopCorePyFutureDoneCallbackTests",
            module.BaseFutureDoneCallbackTests,
            test_utils.TestCase,
            _new_future=lambda self: future_class(loop=self.loop),
        ),
        _ours(
            "LoopCorePyFutureInheritanceTests",
            module.BaseFutureInheritanceTests,
            test_utils.TestCase,
            _get_future_cls=lambda self: future_class,
        ),
    ]


def futures2_suite(module: ModuleType) -> list[type[unittest.TestCase]]:
    # CPython's own variants test Task here too; the loop is ours.
    classes = {"Py": loop_core.PyTask, "": loop_core.Task}
    return [
        *(
            _ours(
                f"LoopCore{label}FutureTests",
                module.FutureTests,
                unittest.IsolatedAsyncioTestCase,
                cls=task,
            )
            for label, task in classes.items()
            if label == "Py" or task is not loop_core.PyTask
        ),
        *_test_cases(module, ["FutureReprTests"]),
    ]


def tasks_suite(module: ModuleType) -> list[type[unittest.TestCase]]:
    ours = [
        _ours(
            f"LoopCore{label}TaskTests",
            module.BaseTaskTests,
            # Future.set_result(task, ...) needs a Task that subclasses Future.
            *([module.SetMethodsTest] if issubclass(task, future) else []),
            test_utils.TestCase,
            Task=task,
            Future=future,
        )
        for label, future, task in _future_variants()
    ]
    if hasattr(module, "BaseCurrentLoopTests"):
        ours.append(
            _ours(
                "LoopCorePyCurrentLoopTests",
                module.BaseCurrentLoopTests,
                test_utils.TestCase,
                new_task=lambda self, coro: loop_core.PyTask(coro, loop=self.loop),
                current_task=staticmethod(loop_core.current_task),
            )
        )
    return ours + _test_cases(module)


def events_suite(module: ModuleType) -> list[type[unittest.TestCase]]:
    mixin = getattr(module, "UnixEventLoopTestsMixin", module.EventLoopTestsMixin)
    return [
        _ours(
            "LoopCoreEventLoopTests",
            mixin,
            test_utils.TestCase,
            create_event_loop=lambda self: loop_core.EventLoop(),
        )
    ]


def whole_module(module: ModuleType) -> list[type[unittest.TestCase]]:
    return _test_cases(module)


def _new_loop(self: object) -> asyncio.AbstractEventLoop:
    return loop_core.EventLoop()


def sock_lowlevel_suite(module: ModuleType) -> list[type[unittest.TestCase]]:
    return [
        _ours(
            "LoopCoreSockTests",
            module.BaseSockTestsMixin,
            test_utils.TestCase,
            create_event_loop=_new_loop,
        )
    ]


def sendfile_suite(module: ModuleType) -> list[type[unittest.TestCase]]:
    return [
        _ours(
            "LoopCoreSendfileTests",
            module.SendfileTestsBase,
            test_utils.TestCase,
            create_event_loop=_new_loop,
        )
    ]


def server_suite(module: ModuleType) -> list[type[unittest.TestCase]]:
    return [
        _ours(
            "LoopCoreStartServerTests",
            module.BaseStartServer,
            unittest.TestCase,
            new_loop=_new_loop,
        ),
        *_test_cases(module, ["TestServer2"]),
    ]


def buffered_proto_suite(module: ModuleType) -> list[type[unittest.TestCase]]:
    return [
        _ours(
            "LoopCoreBufferedProtocolTests",
            module.BaseTestBufferedProtocol,
            unittest.TestCase,
            new_loop=_new_loop,
        )
    ]


def sslproto_suite(module: ModuleType) -> list[type[unittest.TestCase]]:
    return [
        _ours("LoopCoreStartTLSTests", module.BaseStartTLS, unittest.TestCase, new_loop=_new_loop)
    ]


def _subprocess_set_up(self: Any) -> None:
    test_utils.TestCase.setUp(self)
    # Our children are watched per loop: no child watcher to install.
    self.loop = loop_core.EventLoop()
    self.set_event_loop(self.loop)


def subprocess_suite(module: ModuleType) -> list[type[unittest.TestCase]]:
    return [
        _ours(
            "LoopCoreSubprocessTests",
            module.SubprocessMixin,
            test_utils.TestCase,
            setUp=_subprocess_set_up,
        )
    ]


def events_subprocess_suite(module: ModuleType) -> list[type[unittest.TestCase]]:
    return [
        *events_suite(module),
        _ours(
            "LoopCoreSubprocessEventTests",
            module.SubprocessTestsMixin,
            test_utils.TestCase,
            setUp=_subprocess_set_up,
        ),
    ]


# module name -> (what it tests, how its suite is built, what must be patched);
# "module:variant" runs the module again with other patches.
MODULES: dict[str, tuple[str, Suite, tuple[Callable[[], None], ...]]] = {
    "test_futures": ("loop-core", futures_suite, (use_our_loop,)),
    "test_futures2": ("loop-core", futures2_suite, (use_our_loop,)),
    "test_tasks": ("loop-core", tasks_suite, (use_our_loop,)),
    "test_eager_task_factory": ("loop-core", whole_module, (use_our_loop,)),
    "test_taskgroups": ("loop-core", whole_module, (use_our_loop,)),
    "test_timeouts": ("loop-core", whole_module, (use_our_loop,)),
    "test_waitfor": ("loop-core", whole_module, (use_our_loop,)),
    "test_runners": ("loop-core", whole_module, (use_our_loop,)),
    "test_context": ("loop-core", whole_module, (use_our_loop,)),
    "test_pep492": ("loop-core", whole_module, (use_our_loop,)),
    "test_events": ("loop-core, loop-transports", events_subprocess_suite, (use_our_loop,)),
    "test_locks": ("loop-sync", whole_module, (use_our_loop, use_our_primitives)),
    "test_queues": ("loop-sync", whole_module, (use_our_loop, use_our_primitives)),
    "test_streams": ("loop-transports", whole_module, (use_our_loop,)),
    "test_streams:our-streams": ("loop-transports", whole_module, (use_our_loop, use_our_streams)),
    "test_sock_lowlevel": ("loop-core, loop-transports", sock_lowlevel_suite, (use_our_loop,)),
    "test_sendfile": ("loop-transports", sendfile_suite, (use_our_loop,)),
    "test_server": ("loop-transports", server_suite, (use_our_loop,)),
    "test_subprocess": ("loop-transports", subprocess_suite, (use_our_loop,)),
    "test_buffered_proto": ("loop-transports", buffered_proto_suite, (use_our_loop,)),
    "test_sslproto": ("loop-ssl", sslproto_suite, (use_our_loop,)),
    "test_ssl": ("loop-ssl", whole_module, (use_our_loop,)),
}

# Test classes left out, by "module.Class": they exercise stdlib classes only.
SKIPPED_CLASSES: dict[str, str] = {
    "test_futures2.CFutureTests": "asyncio's C Future",
    "test_futures2.PyFutureTests": "asyncio's Python Future (ours runs as LoopCorePyFutureTests)",
    "test_tasks.CTask_CFuture_Tests": "asyncio's C Task and Future",
    "test_tasks.CTask_CFuture_SubclassTests": "asyncio's C Task and Future",
    "test_tasks.CTaskSubclass_PyFuture_Tests": "asyncio's C Task",
    "test_tasks.PyTask_CFutureSubclass_Tests": "asyncio's Python Task",
    "test_tasks.CTask_PyFuture_Tests": "asyncio's C Task",
    "test_tasks.PyTask_CFuture_Tests": "asyncio's Python Task",
    "test_tasks.PyTask_PyFuture_Tests": "asyncio's Python Task (ours runs as LoopCorePyTaskTests)",
    "test_tasks.PyTask_PyFuture_SubclassTests": "asyncio's Python Task",
    "test_tasks.CTask_Future_Tests": "asyncio's C Task",
    "test_tasks.PyIntrospectionTests": "asyncio's private task registry functions",
    "test_tasks.CIntrospectionTests": "asyncio's private task registry functions (C)",
    "test_tasks.PyCurrentLoopTests": "asyncio's Python Task",
    "test_tasks.CCurrentLoopTests": "asyncio's C Task",
    "test_tasks.CompatibilityTests": "asyncio's own coroutine-wrapper compatibility",
}


def load_module_suite(name: str) -> tuple[str, unittest.TestSuite]:
    """Import CPython's *name* module, patch what it needs, and build its suite."""
    package, build, patches = MODULES[name]
    for patch in patches:
        patch()
    module = importlib.import_module(f"test.test_asyncio.{name.partition(':')[0]}")
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for case in build(module):
        # Our subclasses live in this module, but their tests are CPython's.
        case.__module__ = module.__name__
        suite.addTests(loader.loadTestsFromTestCase(case))
    return package, suite
