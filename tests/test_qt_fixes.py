"""The PySide6 work-around in ``ambsim_gui.ui.qt_fixes``.

PySide6 6.12.0 on Python 3.11 steals a reference to ``True`` on every ``emit`` and to ``None``
on every void method call. The leak detector is tested against a fake that steals references
(on any binding); the probe and the fix against what the installed binding really does, measured
in a fresh interpreter that never imports ambsim: on a clean binding nothing may be touched, on
a leaking one the fixed interpreter must survive more leaking calls than the singletons have
references, where the unfixed one aborts.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from ambsim_gui.ui import qt_fixes
from ambsim_gui.ui.qt_fixes import HEADROOM, PROBE_CALLS, make_immortal, steals_reference

ROOT = Path(__file__).resolve().parent.parent

#: Py_DecRef called from Python: each call drops one reference its caller never gave.
_decref = ctypes.PYFUNCTYPE(None, ctypes.py_object)(("Py_DecRef", ctypes.pythonapi))
_incref = ctypes.PYFUNCTYPE(None, ctypes.py_object)(("Py_IncRef", ctypes.pythonapi))

#: Leaking calls in the unfixed interpreter: fewer than True's references, so it survives.
SURVIVABLE = 300
#: Leaking calls in the fixed interpreter: more than True and None have references at start.
FATAL = 40_000

#: Emits and void calls in a fresh interpreter; prints how many references True and None lost
#: and what they have left. ``fix`` imports ambsim_gui.ui (which applies the work-around).
_LEAK_SCRIPT = """
import json, os, sys
if sys.argv[1] == "fix":
    import ambsim_gui.ui
from PySide6.QtCore import QObject, Signal

class Emitter(QObject):
    pinged = Signal()

emitter = Emitter()
calls = int(sys.argv[2])
true_before, none_before = sys.getrefcount(True), sys.getrefcount(None)
for _ in range(calls):
    emitter.pinged.emit()
true_lost = true_before - sys.getrefcount(True)
for _ in range(calls):
    emitter.setObjectName("leak")
none_lost = none_before - sys.getrefcount(None)
print(json.dumps({"True": [true_before, true_lost, sys.getrefcount(True)],
                  "None": [none_before, none_lost, sys.getrefcount(None)]}), flush=True)
if sys.argv[1] != "fix":  # the clean-up would release the stolen references again and abort
    os._exit(0)
"""


def _leak_run(mode: str, calls: int) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run(
        [sys.executable, "-c", _LEAK_SCRIPT, mode, str(calls)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _counts(result: subprocess.CompletedProcess[str]) -> dict[str, list[int]]:
    assert result.returncode == 0, result.stdout + result.stderr
    counts: dict[str, list[int]] = json.loads(result.stdout.strip().splitlines()[-1])
    return counts


@functools.cache
def _binding_leaks() -> dict[str, bool]:
    """What the installed binding does, unfixed: which singletons lose a reference a call."""
    counts = _counts(_leak_run("raw", SURVIVABLE))
    leaks = {}
    for name, (_, lost, _) in counts.items():
        # Either clearly clean or clearly one reference a call: anything else is a new bug.
        assert abs(lost) <= 4 or lost == SURVIVABLE, (name, counts)
        leaks[name] = lost == SURVIVABLE
    return leaks


def _fake_leaker(obj: object) -> Callable[[], None]:
    """A private object with spare references, and a call that steals one of them."""
    return lambda: _decref(obj)


# -- the leak detector, on any binding --------------------------------------------------------


def test_detector_finds_a_call_that_steals_and_gives_the_references_back() -> None:
    sentinel = object()
    spare = [sentinel] * (4 * PROBE_CALLS)
    before = sys.getrefcount(sentinel)
    assert steals_reference(_fake_leaker(sentinel), sentinel)
    assert sys.getrefcount(sentinel) == before
    assert len(spare) == 4 * PROBE_CALLS


def test_detector_passes_calls_that_keep_take_or_rarely_drop_references() -> None:
    sentinel = object()
    spare = [sentinel] * (4 * PROBE_CALLS)
    before = sys.getrefcount(sentinel)
    assert not steals_reference(lambda: sentinel, sentinel)
    assert sys.getrefcount(sentinel) == before

    taken: list[object] = []
    assert not steals_reference(lambda: taken.append(sentinel), sentinel)
    assert sys.getrefcount(sentinel) == before + PROBE_CALLS  # nothing given back
    taken.clear()

    dropped = 0

    def drop_once() -> None:  # one stolen reference is not a leak per call
        nonlocal dropped
        if not dropped:
            dropped += 1
            _decref(sentinel)

    assert not steals_reference(drop_once, sentinel)
    assert sys.getrefcount(sentinel) == before - 1  # and is not patched over
    _incref(sentinel)  # give it back, so the count balances when the sentinel is freed
    assert len(spare) == 4 * PROBE_CALLS


def test_make_immortal_adds_the_headroom_once() -> None:
    sentinel = object()
    before = sys.getrefcount(sentinel)
    assert make_immortal(sentinel)
    assert sys.getrefcount(sentinel) == before + HEADROOM
    assert not make_immortal(sentinel)  # a second apply, or a reloaded module, cannot stack it
    assert sys.getrefcount(sentinel) == before + HEADROOM
    qt_fixes._add_references(sentinel, -HEADROOM)
    assert sys.getrefcount(sentinel) == before


# -- the probe and the fix, on the installed binding ------------------------------------------


def test_probe_finds_what_the_binding_does() -> None:
    assert qt_fixes.probe() == _binding_leaks()


def test_import_guarded_exactly_the_leaking_singletons() -> None:
    """Python 3.12 and later have immortal singletons (no leak to see): nothing is guarded."""
    leaks = {name: leak and qt_fixes.needed() for name, leak in _binding_leaks().items()}
    assert qt_fixes.applied() == tuple(name for name in ("True", "None") if leaks[name])
    for name, singleton in (("True", True), ("None", None)):
        if leaks[name]:
            assert HEADROOM // 2 <= sys.getrefcount(singleton) < HEADROOM + HEADROOM // 2
        else:
            assert sys.getrefcount(singleton) < 1 << 32


def test_applying_again_changes_no_reference_count() -> None:
    """Once on a leaking binding (no second headroom), untouched on a clean one (no write)."""
    first = qt_fixes.applied()
    assert first is not None  # importing ambsim_gui.ui applied it
    assert qt_fixes.apply() == first
    gc.collect()
    gc.disable()
    try:
        before = sys.getrefcount(True), sys.getrefcount(None)
        qt_fixes._applied = None  # as if the module were loaded anew: probe and decide again
        try:
            assert qt_fixes.apply() == first
        finally:
            qt_fixes._applied = first
        after = sys.getrefcount(True), sys.getrefcount(None)
    finally:
        gc.enable()
    assert after == before


def test_the_fix_keeps_python_alive_on_a_leaking_binding_and_is_a_no_op_on_a_clean_one() -> None:
    leaks = _binding_leaks()
    fixed = _counts(_leak_run("fix", FATAL))
    for name in ("True", "None"):
        _, lost, left = fixed[name]
        if leaks[name] and qt_fixes.needed():
            assert lost == FATAL  # the binding still leaks ...
            assert left > HEADROOM - 2 * FATAL  # ... far from zero
        else:
            assert abs(lost) <= 4 and left < 1 << 32, (name, fixed)  # nothing leaked, nothing added
    if any(leaks.values()) and qt_fixes.needed():
        # Without the fix the same calls are fatal (a leaking singleton has fewer references).
        unfixed = _counts(_leak_run("raw", SURVIVABLE))
        assert all(unfixed[name][0] < FATAL for name in leaks if leaks[name])
        crash = _leak_run("raw", FATAL)
        assert crash.returncode != 0, crash.stdout
        assert "dealloc" in crash.stderr, crash.stderr
