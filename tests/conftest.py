"""Test settings shared by the suite: Qt runs offscreen, shipped files are found by path."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
