"""Work around a reference-count bug of PySide6 6.12.0 on Python < 3.12.

Every call to a Qt method that returns ``void`` (``painter.drawRect``, ``setObjectName``,
...) drops one reference to ``None`` that it never took. On Python 3.12+ ``None`` is
immortal and nothing happens; on 3.11 its count (about 5,000 at start) reaches zero after
a few thousand paint calls and the interpreter aborts with
"Fatal Python error: none_dealloc: deallocating None".

``ensure_none_survives()`` detects the bug (a few void calls, refcount before/after) and,
only when present, adds 2**40 to ``None``'s count, which makes it as good as immortal —
what 3.12 does by design. It is idempotent and a no-op where the bug is absent.
"""
from __future__ import annotations

import ctypes
import sys

_done = False


def _leaks_none() -> bool:
    from PySide6.QtCore import QObject

    probe = QObject()
    probe.setObjectName("probe")  # warm up
    before = sys.getrefcount(None)
    for _ in range(50):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before - 25


def ensure_none_survives() -> bool:
    """Return True when the workaround had to be applied (now or earlier)."""
    global _done
    if _done:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    try:
        leaking = _leaks_none()
    except ImportError:
        return False
    if leaking:
        ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40
        _done = True
    return leaking
