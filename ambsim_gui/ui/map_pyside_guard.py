"""Guard against a PySide6 reference-count bug that crashes Python 3.11 ("deallocating None").

PySide6 6.12.0 returns ``None`` from every void method (``setPos``, ``setText``, ``update``...)
without taking a reference to it. On Python 3.12 and later ``None`` is immortal and nothing
happens; on 3.11 each call lowers ``None``'s reference count by one, and after a few thousand
calls (a second of a 60 Hz map) the interpreter aborts with "Fatal Python error: none_dealloc".

`guard_none_refcount` detects the bug (it calls a void method and watches the count) and, only
then, raises ``None``'s count far beyond reach, which is what Python 3.12 does by design. It
belongs at the start of any Qt program run on 3.11; the map view calls it on import.
"""

from __future__ import annotations

import ctypes
import sys

#: Added to None's reference count: no program makes 2**60 leaking calls.
_HEADROOM = 1 << 60
_guarded = False


def bindings_leak_none() -> bool:
    """True when a PySide6 void method call drops a reference to ``None``."""
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(50):
        probe.setObjectName("probe")
    return sys.getrefcount(None) <= before - 40


def guard_none_refcount() -> bool:
    """Make ``None`` effectively immortal if the bindings leak it; True when applied."""
    global _guarded
    if _guarded or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return _guarded
    if not bindings_leak_none():
        return False
    # CPython's object header starts with ob_refcnt (Py_ssize_t).
    ctypes.c_ssize_t.from_address(id(None)).value += _HEADROOM
    _guarded = True
    return True
