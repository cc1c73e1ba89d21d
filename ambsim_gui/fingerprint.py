"""The code's fingerprint: a hash of every source file that can change a shift's events or
figures, so that a cached world or a study's stored row is used only with the code that made it.

The desk, the debrief, the session files and the study's own reporting cannot change a shift,
so they are left out; a study's figures (``study/figures.py``) are in.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from ambsim_gui import __version__

_PACKAGE = Path(__file__).resolve().parent
_LEFT_OUT = ("ui", "report", "record")
_SUFFIXES = (".py", ".c", ".h")


def _counts(path: Path) -> bool:
    rel = path.relative_to(_PACKAGE).parts
    if rel[0] in _LEFT_OUT:
        return False
    if rel[0] == "study":
        return rel[-1] == "figures.py"
    return True


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Hex SHA-256 over the version and the sources that make a shift (about 5 ms, once)."""
    digest = hashlib.sha256(f"ambsim {__version__}\n".encode())
    files = sorted(p for s in _SUFFIXES for p in _PACKAGE.rglob(f"*{s}") if _counts(p))
    for path in files:
        digest.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
