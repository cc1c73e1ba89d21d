"""Where the project's shipped folders are: scenarios, resources and maps."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESOURCES = PROJECT_ROOT / "resources"
SCENARIOS = PROJECT_ROOT / "scenarios"
MAPS = RESOURCES / "maps"
DEFAULT_SCENARIO = SCENARIOS / "default.yaml"
SESSIONS = PROJECT_ROOT / "sessions"  # where desk sessions are recorded by default
