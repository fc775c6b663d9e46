"""Every thread's stack, then the end of the run, when a test hangs where Python
cannot run.

pytest-timeout stops a test after its ``timeout`` through a signal handler, and a
Python signal handler only runs when the main thread runs Python: a test stuck in C
(two threads waiting on each other's lock, or on the GIL) hangs the whole run until
CI gives up, and says nothing. faulthandler's watchdog is a C thread: past
``HANG_S`` it prints every thread's stack to the real stderr and ends the process,
so the run fails with the stacks instead. Loaded with ``-p tests.hang_watch``
(pyproject's addopts), before pytest captures file descriptor 2.
"""

from __future__ import annotations

import faulthandler
import os

import pytest

HANG_S = float(os.environ.get("KESTREL_HANG_S", 900))  # past pytest-timeout's 600 s
_STDERR = os.dup(2)           # the terminal's stderr, not the per-test capture


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    faulthandler.dump_traceback_later(HANG_S, exit=True, file=_STDERR)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
