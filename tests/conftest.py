"""Test settings shared by the suite: Qt runs offscreen, shipped files are found by path, and
the world cache (ambsim_gui/sim/world_cache.py) is a folder of the test run's own."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

if "AMBSIM_CACHE_DIR" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="ambsim-test-cache-")
    os.environ["AMBSIM_CACHE_DIR"] = _cache
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)
