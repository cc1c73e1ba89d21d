"""The one work-around for a bug in the Qt binding, applied once when ``ambsim_gui.ui`` is imported.

The bug: PySide6 6.12.0 (6.11.3 is clean; ``pyproject.toml`` excludes 6.12.0) returns Python's
singletons from C++ without taking a reference to them. On CPython 3.11, where ``True`` and
``None`` are ordinary reference-counted objects (3.12 made them immortal), every such call
lowers the singleton's reference count by one for good:

- ``SignalInstance.emit`` returns ``True``: each emit from Python steals a reference from
  ``True``. The desk emits every frame; after a few hundred emits the count reaches zero and the
  interpreter aborts ("Fatal Python error: bool_dealloc").
- every void method (``setPos``, ``setText``, ``update``...) returns ``None``: each call steals a
  reference from ``None``, and a 60 Hz map aborts within seconds ("none_dealloc").

How it is probed: `steals_reference` calls a function `PROBE_CALLS` times with the garbage
collector paused and watches ``sys.getrefcount`` of the singleton; a count that fell by (nearly)
one a call is a leak, and the references the probe itself lost are given back. `probe` does this
for an ``emit`` (``True``) and for a void method, ``QObject.setObjectName`` (``None``).

What it does: only for a singleton found leaking, `make_immortal` adds `HEADROOM` (2**60) to its
reference count, which is what CPython 3.12 does by design; no program makes 2**60 leaking calls.
On a clean binding, on CPython 3.12 or later and on other interpreters, nothing is written: the
reference counts are left untouched. `apply` runs once per process (later calls return the first
answer), and `make_immortal` never adds the headroom twice to the same object, so even a reloaded
module cannot stack it.
"""

from __future__ import annotations

import ctypes
import gc
import sys
import sysconfig
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

PROBE_CALLS = 64
"""Calls made by a probe; a leak loses one reference per call."""
PROBE_SLACK = 4
"""A count that fell by at least ``PROBE_CALLS - PROBE_SLACK`` is a leak, not noise."""
HEADROOM = 1 << 60
"""Added to a leaked singleton's reference count: no program makes 2**60 leaking calls."""

_CLASSIC_HEADER = sys.implementation.name == "cpython" and not sysconfig.get_config_var(
    "Py_GIL_DISABLED"
)
_applied: tuple[str, ...] | None = None


def _add_references(obj: object, count: int) -> None:
    if not _CLASSIC_HEADER:
        raise RuntimeError("reference counts can only be raised on CPython with the GIL")
    # A GIL build of CPython starts every object header with ob_refcnt (Py_ssize_t).
    ctypes.c_ssize_t.from_address(id(obj)).value += count


def steals_reference(call: Callable[[], object], obj: object, calls: int = PROBE_CALLS) -> bool:
    """True when ``call()`` drops a reference to ``obj`` it never took (one per call).

    Whatever the probe lost is given back, so probing leaves ``obj``'s count as it found it.
    """
    collecting = gc.isenabled()
    gc.disable()  # no collection may drop references to obj while the probe counts
    try:
        before = sys.getrefcount(obj)
        for _ in range(calls):
            call()
        stolen = before - sys.getrefcount(obj)
    finally:
        if collecting:
            gc.enable()
    leaks = stolen >= calls - PROBE_SLACK
    if leaks:
        _add_references(obj, stolen)
    return leaks


def make_immortal(obj: object) -> bool:
    """Add `HEADROOM` to ``obj``'s reference count unless it has it already; True when added."""
    if sys.getrefcount(obj) >= HEADROOM // 2:
        return False
    _add_references(obj, HEADROOM)
    return True


class _Probe(QObject):
    pinged = Signal()


def probe() -> dict[str, bool]:
    """Which singletons this binding leaks: ``{"True": emit leaks, "None": void calls leak}``."""
    obj = _Probe()  # owned by Python: freed with the wrapper (deleteLater would leak None too)
    return {
        "True": steals_reference(obj.pinged.emit, True),
        "None": steals_reference(lambda: obj.setObjectName("probe"), None),
    }


def needed() -> bool:
    """Whether this interpreter can be hurt at all: CPython before 3.12 (mortal singletons)."""
    return _CLASSIC_HEADER and sys.version_info < (3, 12)


def apply() -> tuple[str, ...]:
    """Probe once and make immortal the singletons the binding leaks; their names.

    Idempotent: the first call decides, later calls return its answer and change nothing.
    """
    global _applied
    if _applied is not None:
        return _applied
    guarded: list[str] = []
    if needed():
        singletons: dict[str, object] = {"True": True, "None": None}
        for name, leaks in probe().items():
            if leaks:
                make_immortal(singletons[name])
                guarded.append(name)
    _applied = tuple(guarded)
    return _applied


def applied() -> tuple[str, ...] | None:
    """What `apply` guarded (names of singletons), or None before it ran."""
    return _applied
