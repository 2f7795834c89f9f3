"""Helpers for testing code that runs on loop-core.

:mod:`loop_core.testing.pytest_plugin` is an opt-in pytest plugin (enable it
with ``-p loop_core.testing.pytest_plugin``); :mod:`loop_core.testing.build_mode`
lets a package's tests prove whether they ran on compiled modules;
:mod:`loop_core.testing.leaks` checks that objects go without the cycle
collector.
"""
