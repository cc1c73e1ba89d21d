"""The layering and hygiene the design card asks for: only ambsim_gui.ui may import Qt, ruff
finds nothing, and mypy checks every package, the desk's included."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contract_holds() -> None:
    exe = shutil.which("lint-imports")
    cmd = [exe] if exe else [sys.executable, "-m", "importlinter.cli"]
    result = subprocess.run(
        [*cmd, "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # every contract by name: one run of import-linter checks them all (it reads pyproject.toml)
    flat = " ".join(result.stdout.split())
    for contract in (
        "Only ambsim_gui.ui imports Qt",
        "The desk reads one read model",
        "Layers: each imports only from the layers below it",
    ):
        assert contract in flat, result.stdout
    assert "0 broken" in flat and "Contracts: 3 kept" in flat, result.stdout


def test_engine_imports_without_qt() -> None:
    code = (
        "import sys, ambsim_gui.cli, ambsim_gui.headless, ambsim_gui.sim.engine; "
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'pyqtgraph'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _tool(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_lint_is_clean() -> None:
    result = _tool("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_types_check_on_every_package() -> None:
    """mypy over the packages pyproject.toml lists (ambsim_gui.ui among them)."""
    result = _tool("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
