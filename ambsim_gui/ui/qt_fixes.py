"""Work-arounds for bugs in the Qt binding, applied once when ``ambsim_gui.ui`` is imported.

One job: keep the desk alive on PySide6 builds that drop references to Python's singletons.
PySide6 6.12.0 on CPython 3.11 (where ``True`` and ``None`` are not yet immortal):

- ``SignalInstance.emit`` returns ``True`` without taking a reference to it, so each emit from
  Python steals one reference from ``True``. The desk emits every frame: after a few hundred
  frames ``True``'s count reaches zero and the interpreter aborts ("Fatal Python error:
  bool_dealloc").
- void methods return ``None`` the same way (see ``map_pyside_guard``, which the map applies).

Each bug is probed for, and only when it is there the singleton's reference count is raised far
out of reach, which is what CPython 3.12 does by design. Nothing changes on a fixed binding or a
newer interpreter.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

from ambsim_gui.ui.map_pyside_guard import guard_none_refcount

PROBE_EMITS = 64
HEADROOM = 1 << 60
"""Added to a leaked singleton's reference count: no program makes 2**60 leaking calls."""

_applied = False
emit_steals_true = False
"""Whether the probe found ``emit`` dropping references to ``True`` (and the guard is on)."""


class _Probe(QObject):
    pinged = Signal()


def emit_leaks_true() -> bool:
    """True when a Python-side ``emit`` drops a reference to ``True``."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(PROBE_EMITS):
        probe.pinged.emit()
    stolen = before - sys.getrefcount(True)
    if stolen > 0:  # give back what the probe itself took
        ctypes.c_ssize_t.from_address(id(True)).value += stolen
    return stolen >= PROBE_EMITS - 4


def apply() -> None:
    """Probe once and guard ``True`` and ``None`` if the binding leaks them."""
    global _applied, emit_steals_true
    if _applied:
        return
    _applied = True
    guard_none_refcount()
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    if emit_leaks_true():
        emit_steals_true = True
        # CPython's object header starts with ob_refcnt (Py_ssize_t).
        ctypes.c_ssize_t.from_address(id(True)).value += HEADROOM
