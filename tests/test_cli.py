"""The command line as a user types it: exit codes, messages, and never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ambsim_gui.scenario.loader import json_schema

ROOT = Path(__file__).resolve().parent.parent
REQUIRED_KEYS = {
    "scenario", "seed", "policy", "calls", "incidents", "dispatches", "dispatches_per_incident",
    "categories", "outcomes", "unnecessary_dispatches", "unsafe_advice", "harm_events",
    "handover", "cost_per_incident", "wall_seconds", "event_log_sha256",
    "nao", "late_finishes", "end_of_shift", "run_out", "shift_end_s", "runs_on",
}  # fmt: skip


def ambsim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_run_writes_the_report_with_every_key(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = ambsim("run", "--hours", "1", "--seed", "3", "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert "Response times" in result.stdout and "event log sha256" in result.stdout
    # the measures with the national definitions (docs/domain.md, Measures ambsim reports)
    assert "figures at the end of the shift (1:00:00)" in result.stdout
    assert "shares of the" in result.stdout and "open at end:" in result.stdout
    assert "Dispatches per attended incident" in result.stdout and "Late finishes" in result.stdout
    report = json.loads(out.read_text())
    assert REQUIRED_KEYS <= set(report)
    assert report["seed"] == 3 and report["policy"] == "expert" and report["scenario"] == "default"
    for cat in ("C1", "C2", "C3", "C4"):
        block = report["categories"][cat]
        assert {"count", "mean_response_s", "p90_response_s", "standard_mean_s",
                "standard_p90_s", "met"} <= set(block)  # fmt: skip
    assert report["categories"]["C1"]["standard_mean_s"] == 420  # ARP: C1 mean 7 minutes
    assert set(report["outcomes"]) >= {
        "hear_and_treat",
        "see_and_treat",
        "convey_ed",
        "convey_elsewhere",
    }
    assert set(report["unnecessary_dispatches"]) >= {
        "duplicate",
        "stood_down",
        "avoidable",
        "total",
    }
    assert set(report["handover"]) >= {
        "mean_s",
        "over_15_min",
        "over_30_min",
        "over_60_min",
        "crew_hours_lost",
    }
    assert len(report["event_log_sha256"]) == 64
    assert report["end_of_shift"]["window"] == "end_of_shift"
    assert report["run_out"]["window"] == "run_out"
    assert report["end_of_shift"]["t"] == report["shift_end_s"] == 3600.0


def test_validate_accepts_the_shipped_scenarios() -> None:
    files = sorted(str(p) for p in (ROOT / "scenarios").glob("*.yaml"))
    result = ambsim("validate", *files)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("schema_version: 1\nname: [unclosed\n", "flow sequence at 2:7"),
        ("schema_version: 1\nname: X\nduration_h: -1\n", "duration_h"),
        ("schema_version: 1\nname: X\nduration_h: 1\nmap: county\nstations: []\n", "stations"),
    ],
)
def test_broken_files_get_file_line_col_and_exit_1(
    tmp_path: Path, text: str, expected: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    for command in (("validate", str(bad)), ("run", str(bad))):
        result = ambsim(*command)
        assert result.returncode == 1, result
        assert "Traceback" not in result.stderr
        assert f"{bad}:" in result.stderr and expected in result.stderr


def test_missing_file_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    result = ambsim("run", str(tmp_path / "nope.yaml"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "nope.yaml" in result.stderr


def test_schema_is_json_and_the_shipped_copy_is_current() -> None:
    result = ambsim("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema == json_schema()
    assert "stations" in schema["properties"]
    # editors read docs/scenario.schema.json (the shipped YAML files point at it)
    shipped = json.loads((ROOT / "docs" / "scenario.schema.json").read_text())
    assert shipped == schema, "run: python main.py schema > docs/scenario.schema.json"
