"""A shipped scenario is found by its name from any folder, as an installed program needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ambsim_gui.cli import shipped_scenario
from ambsim_gui.paths import SCENARIOS


def test_a_shipped_name_becomes_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert Path(shipped_scenario("metropolitan_24h")) == SCENARIOS / "metropolitan_24h.yaml"
    assert Path(shipped_scenario("default.yaml")) == SCENARIOS / "default.yaml"


def test_a_file_that_exists_wins_over_a_shipped_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "default.yaml").write_text("name: mine\n", encoding="utf-8")
    assert shipped_scenario("default.yaml") == "default.yaml"
    assert shipped_scenario("no_such_scenario") == "no_such_scenario"  # the loader says so
    assert shipped_scenario("sub/default.yaml") == "sub/default.yaml"
