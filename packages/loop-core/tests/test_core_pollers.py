"""Every poller this machine has, through the same small interface."""

from __future__ import annotations

import os

import pytest

from loop_core.pollers import EVENT_READ, EVENT_WRITE, available_pollers, create_poller


@pytest.mark.parametrize("name", available_pollers())
def test_poller_reports_readiness(name: str) -> None:
    poller = create_poller(name)
    read_end, write_end = os.pipe()
    try:
        poller.register(read_end, EVENT_READ)
        poller.register(write_end, EVENT_WRITE)
        ready = dict(poller.poll(0))
        assert ready == {write_end: EVENT_WRITE}
        os.write(write_end, b"x")
        ready = dict(poller.poll(1))
        assert ready[read_end] & EVENT_READ
        poller.modify(write_end, EVENT_READ)
        assert write_end not in dict(poller.poll(0))
        poller.unregister(write_end)
        poller.unregister(write_end)  # unknown descriptors are ignored
    finally:
        poller.close()
        os.close(read_end)
        os.close(write_end)


@pytest.mark.parametrize("name", available_pollers())
def test_poller_times_out(name: str) -> None:
    poller = create_poller(name)
    try:
        assert poller.poll(0.01) == []
    finally:
        poller.close()


def test_default_poller_is_listed_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOOP_CORE_POLLER", raising=False)
    poller = create_poller()
    try:
        assert poller.name == available_pollers()[0]
    finally:
        poller.close()


def test_environment_variable_chooses_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOP_CORE_POLLER", "select")
    poller = create_poller()
    try:
        assert poller.name == "select"
    finally:
        poller.close()
