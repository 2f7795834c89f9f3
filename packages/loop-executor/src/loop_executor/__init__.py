"""loop-executor: thread and process pool bridging, name resolution and calls
into the loop from other threads.

Installing it makes ``loop.run_in_executor``, ``set_default_executor``,
``shutdown_default_executor``, ``getaddrinfo`` and ``getnameinfo`` work on
loop-core's loop (it registers the ``executor`` extension). The functions here
work on stock asyncio loops too.
"""

from loop_executor._bridge import run_coroutine_threadsafe, wrap_future
from loop_executor._executor import LoopExecutor, to_thread
from loop_executor._portal import BlockingPortal, start_blocking_portal
from loop_executor._version import __version__

__all__ = [
    "BlockingPortal",
    "LoopExecutor",
    "__version__",
    "run_coroutine_threadsafe",
    "start_blocking_portal",
    "to_thread",
    "wrap_future",
]
