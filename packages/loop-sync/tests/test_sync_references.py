"""Weak references to the primitives: allowed, as asyncio's are, and cleared when freed.

A mypyc-compiled class either refuses weak references or (when generic)
accepts them without ever clearing them, which crashes the interpreter
later; the public classes must be safe in both builds.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable

import pytest

from loop_sync import (
    Barrier,
    BoundedSemaphore,
    Condition,
    Event,
    LifoQueue,
    Lock,
    PriorityQueue,
    Queue,
    Semaphore,
)

FACTORIES: dict[str, Callable[[], object]] = {
    "Lock": Lock,
    "Event": Event,
    "Condition": Condition,
    "Semaphore": Semaphore,
    "BoundedSemaphore": BoundedSemaphore,
    "Barrier": lambda: Barrier(2),
    "Queue": Queue,
    "PriorityQueue": PriorityQueue,
    "LifoQueue": LifoQueue,
}


@pytest.mark.parametrize("name", FACTORIES)
def test_weak_references_are_allowed_and_cleared(name: str) -> None:
    make = FACTORIES[name]
    registry: weakref.WeakSet[object] = weakref.WeakSet()
    cleared: list[object] = []
    references = []
    for _ in range(200):
        primitive = make()
        registry.add(primitive)
        references.append(weakref.ref(primitive, cleared.append))
    del primitive
    gc.collect()
    assert len(registry) == 0
    assert list(registry) == []
    assert all(reference() is None for reference in references)
    assert len(cleared) == len(references)


def test_per_key_locks_in_a_weak_value_dictionary() -> None:
    locks: weakref.WeakValueDictionary[str, Lock] = weakref.WeakValueDictionary()
    held = locks.setdefault("a", Lock())
    assert locks.setdefault("a", Lock()) is held
    del held
    gc.collect()
    assert "a" not in locks


def test_public_classes_keep_asyncio_s_hierarchy() -> None:
    assert isinstance(BoundedSemaphore(), Semaphore)
    assert issubclass(PriorityQueue, Queue)
    assert issubclass(LifoQueue, Queue)
    assert Lock.__module__ == "loop_sync"
    assert Barrier.__module__ == "loop_sync"
