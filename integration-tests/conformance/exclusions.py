"""Tests of CPython's asyncio suite not run against our code, each with its reason.

Keys are ``fnmatch`` patterns over ``module.Class.test`` ids. Only tests of
stdlib internals belong in ``EXCLUDED`` (private attributes, the C
accelerators, ``BaseEventLoop`` or selector internals, mocks of private
methods). A test of behaviour that fails is a bug: it is fixed, or listed in
``KNOWN_FAILURES`` with the bug it shows until it is.
"""

from __future__ import annotations

import sys

import loop_sync._lock_core

_SYNC_COMPILED = str(loop_sync._lock_core.__file__).endswith(".so")

__all__ = ["EXCLUDED", "KNOWN_FAILURES"]

_PRIVATE_WAITERS = "reaches into the primitive's private _waiters deque"

EXCLUDED: dict[str, str] = {
    # Futures and tasks
    "*.LoopCore*Tests.test_log_traceback": (
        "sets the private _log_traceback attribute and expects asyncio's guard on it"
    ),
    "test_futures.LoopCorePyFutureTests.test_uninitialized": (
        "calls methods on Future.__new__ objects that were never initialised "
        "(a robustness check of the C accelerator)"
    ),
    "test_futures.LoopCorePyFutureInheritanceTests.test_inherit_without_calling_super_init": (
        "a subclass skipping Future.__init__ (a robustness check of the C accelerator)"
    ),
    # Synchronization primitives and queues
    "test_locks.LockTests.test_cancel_race": _PRIVATE_WAITERS,
    "test_locks.EventTests.test_repr": _PRIVATE_WAITERS,
    "test_locks.ConditionTests.test_repr": _PRIVATE_WAITERS,
    "test_locks.SemaphoreTests.test_repr": _PRIVATE_WAITERS,
    "test_queues.QueueGetTests.test_get_with_putters": (
        "appends to the queue's private _putters deque"
    ),
    "test_queues.*Tests.test_format": "calls the private Queue._format method",
    # The loop
    "test_events.LoopCoreEventLoopTests.test_prompt_cancellation": (
        "calls BaseEventLoop's private _stop_serving"
    ),
    "test_events.LoopCoreEventLoopTests.test_timeout_rounding": (
        "wraps BaseEventLoop's private _run_once"
    ),
    "test_events.LoopCoreEventLoopTests.test_create_server_multiple_hosts_ipv*": (
        "mocks the socket module inside asyncio.base_events"
    ),
    # Transports
    "test_events.LoopCoreEventLoopTests.test_create_server_trsock": (
        "asserts asyncio's socket wrapper class (asyncio.trsock.TransportSocket, not "
        "public); our Server.sockets are the sockets themselves, as typeshed types them"
    ),
    "test_sendfile.LoopCoreSendfileTests.test_sendfile_force_unsupported_native": (
        "replaces BaseEventLoop's private _sendfile_native"
    ),
    "test_sendfile.LoopCoreSendfileTests.test_sendfile_fallback_close_peer_in_the_middle_*": (
        "replaces BaseEventLoop's private _sendfile_native"
    ),
    "test_ssl.TestSSL.test_flush_before_shutdown": (
        "calls the private _ssl_protocol of asyncio's SSL transport"
    ),
    "test_ssl.TestSSL.test_remote_shutdown_receives_trailing_data": (
        "calls asyncio's private SSLProtocol test hook _test__append_write_backlog"
    ),
}

if sys.version_info < (3, 13):
    EXCLUDED["test_server.TestServer2.test_wait_closed_*"] = (
        "calls the private Server._attach with 3.12's signature (3.13 runs it)"
    )

# Behaviour tests that fail, with the bug each shows. Keep this short.
KNOWN_FAILURES: dict[str, str] = {}
if _SYNC_COMPILED:
    KNOWN_FAILURES["test_locks.LockTests.test_lock_doesnt_accept_loop_parameter"] = (
        "compiled mode only: Lock(loop=...) raises TypeError, but in mypyc's words "
        "('__init__() takes at most 0 keyword arguments') where the test matches the "
        "interpreter's ('Lock.__init__() got an unexpected keyword argument')"
    )
