"""``python main.py calibrate``: the summary statistics and verdicts on hand-made figures, the
reference table, and the command end to end on a short default shift."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ambsim_gui.calibration import (
    ABOVE,
    AREA_FIGURES,
    BELOW,
    FIGURES,
    NO_DATA,
    NO_REFERENCE,
    POLICIES,
    REFERENCE_SETS,
    WITHIN,
    Reference,
    calibrate,
    format_markdown,
    format_table,
    range_text,
    reference_set_for,
    summarise,
    verdict,
)
from ambsim_gui.headless import run_scenario
from ambsim_gui.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
C1_LONDON = Reference("c1_mean_min", "expert", 6.0, 8.0, "London 6:58")
AT_LEAST = Reference("dispatches_per_attended", "target_chaser", 1.27, None, "NAO 1.27")


def ambsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


# --- the statistics and verdicts ------------------------------------------------------------


def test_summary_of_hand_made_runs() -> None:
    s = summarise("c1_mean_min", "expert", [6.0, 7.0, 8.0, None, 9.0], C1_LONDON)
    assert (s.n, s.runs) == (4, 5)  # a run without the figure is left out, and counted apart
    assert s.mean == pytest.approx(7.5)
    assert s.sd == pytest.approx(math.sqrt(5 / 3))  # the sample standard deviation
    assert (s.low, s.high) == (6.0, 9.0)
    assert s.verdict == WITHIN  # the mean, 7.5
    assert s.runs_within == 3  # 6 and 8 are in, 9 is not


@pytest.mark.parametrize(
    ("value", "expected"),
    [(5.99, BELOW), (6.0, WITHIN), (7.0, WITHIN), (8.0, WITHIN), (8.01, ABOVE)],
)
def test_verdict_boundaries_include_both_ends(value: float, expected: str) -> None:
    assert verdict(value, C1_LONDON) == expected
    assert summarise("c1_mean_min", "expert", [value], C1_LONDON).verdict == expected


def test_an_open_range_has_one_end() -> None:
    assert verdict(1.26, AT_LEAST) == BELOW
    assert verdict(1.27, AT_LEAST) == WITHIN
    assert verdict(9.0, AT_LEAST) == WITHIN
    assert range_text(AT_LEAST, "ratio") == ">= 1.27"
    assert range_text(C1_LONDON, "min") == "6-8"
    share = Reference("hear_and_treat", "expert", 0.15, 0.21, "")
    assert range_text(share, "share") == "15-21%"
    assert verdict(0.1499, share) == BELOW and verdict(0.21, share) == WITHIN


def test_no_reference_and_no_data() -> None:
    assert verdict(7.0, None) == NO_REFERENCE
    s = summarise("incidents", "expert", [10.0, 12.0], None)
    assert s.verdict == NO_REFERENCE and s.runs_within is None and s.mean == 11.0
    empty = summarise("c4_mean_min", "expert", [None, None], C1_LONDON)
    assert empty.verdict == NO_DATA and empty.mean is None and empty.n == 0
    one = summarise("c1_mean_min", "expert", [7.0], C1_LONDON)
    assert one.sd is None and (one.low, one.high) == (7.0, 7.0)


# --- the reference table --------------------------------------------------------------------


def test_every_reference_names_a_figure_and_a_policy() -> None:
    keys = {f.key for f in FIGURES + AREA_FIGURES}
    for refs in REFERENCE_SETS.values():
        for ref in refs.references:
            assert ref.figure in keys and ref.policy in POLICIES, ref
            assert ref.low is not None or ref.high is not None, ref
            if ref.low is not None and ref.high is not None:
                assert ref.low <= ref.high, ref
            assert ref.national, ref


def test_the_london_targets() -> None:
    london = REFERENCE_SETS["london"]
    expected = {
        ("c1_mean_min", "expert"): (6.0, 8.0),
        ("c2_mean_min", "expert"): (24.0, 34.0),
        ("c3_mean_min", "expert"): (80.0, 140.0),
        ("c4_share", "expert"): (0.005, 0.02),
        ("hear_and_treat", "expert"): (0.15, 0.21),
        ("see_and_treat", "expert"): (0.25, 0.37),
        ("convey_ed", "expert"): (0.45, 0.55),
        ("dispatches_per_attended", "target_chaser"): (1.27, None),
        ("multi_vehicle_share", "target_chaser"): (0.45, None),
    }
    assert {(r.figure, r.policy): (r.low, r.high) for r in london.references} == expected
    assert london.lookup("c1_mean_min", "target_chaser") is None


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("metropolitan_24h", "london"),
        ("default", "england"),
        ("rural_vs_urban", "rural_vs_urban"),
        ("legacy_cat_a_targets", "england_outcomes"),
    ],
)
def test_the_reference_set_follows_the_scenario(scenario: str, expected: str) -> None:
    loaded = load_scenario(SCENARIOS / f"{scenario}.yaml")
    assert reference_set_for(loaded).name == expected


# --- runs -------------------------------------------------------------------------------------


def test_seeds_start_at_the_scenarios_own_and_the_pool_agrees_with_one_process() -> None:
    path = SCENARIOS / "default.yaml"
    alone = calibrate(path, seeds=2, hours=0.5, workers=1)
    pooled = calibrate(path, seeds=2, hours=0.5, workers=2)
    seed = load_scenario(path).scenario.seed
    assert alone.seeds == pooled.seeds == [seed, seed + 1]
    for policy in POLICIES:
        assert [r.sha256 for r in alone.runs[policy]] == [r.sha256 for r in pooled.runs[policy]]
        assert [r.figures for r in alone.runs[policy]] == [r.figures for r in pooled.runs[policy]]
    # run 1 is the shift ``python main.py run`` gives for the scenario's own seed
    direct = run_scenario(path, policy="expert", hours=0.5)
    assert alone.runs["expert"][0].sha256 == direct.sha256
    table = format_table(alone)
    assert "reference set: England" in table and "no reference" in table
    markdown = format_markdown(alone)
    assert "| C1 mean (min) | expert |" in markdown


def test_the_command_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "calibration.json"
    result = ambsim(
        "calibrate", "--seeds", "2", "--hours", "0.5", "--workers", "1", "--json", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert "reference set: England" in result.stdout
    assert re.search(r"\[4/4\] .*elapsed .* left", result.stderr), result.stderr
    report = json.loads(out.read_text())
    assert report["scenario"] == "default" and report["reference_set"]["name"] == "england"
    keys = {f["key"] for f in report["figures"]}
    assert keys == {f.key for f in FIGURES}
    assert set(report["policies"]) == set(POLICIES)
    for policy, block in report["policies"].items():
        assert len(block["runs"]) == 2
        assert [r["seed"] for r in block["runs"]] == report["seeds"]
        for run in block["runs"]:
            assert run["policy"] == policy and set(run["figures"]) == keys
            assert len(run["event_log_sha256"]) == 64
        assert set(block["summary"]) == keys
        for summary in block["summary"].values():
            assert {"mean", "sd", "min", "max", "n", "reference", "verdict"} <= set(summary)
    # a figure with no reference for the policy
    assert report["policies"]["expert"]["summary"]["incidents"]["verdict"] == "no reference"
    assert report["policies"]["target_chaser"]["summary"]["c1_mean_min"]["verdict"] == (
        "no reference"
    )
    judged = report["policies"]["expert"]["summary"]["c1_mean_min"]
    assert judged["reference"]["low"] == pytest.approx(7.9)
    assert judged["verdict"] in {"within", "below", "above", "no data"}


def test_a_bad_scenario_is_file_line_col_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nname: X\nduration_h: -1\n")
    result = ambsim("calibrate", str(bad), "--seeds", "1", "--workers", "1")
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    assert re.search(rf"{re.escape(str(bad))}:\d+:\d+: .*duration_h", result.stderr), result.stderr


def test_bad_counts_are_usage_errors() -> None:
    assert ambsim("calibrate", "--seeds", "0").returncode == 2
    assert ambsim("calibrate", "--workers", "0").returncode == 2


def _report_tool():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "validation_report", ROOT / "tools" / "validation_report.py"
    )
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_the_validation_report_replaces_only_its_section() -> None:
    tool = _report_tool()
    doc = (ROOT / "docs" / "VALIDATION.md").read_text(encoding="utf-8")
    assert tool.START in doc and tool.END in doc
    spliced = tool.splice(doc, "NEW")
    assert spliced.split(tool.START)[0] == doc.split(tool.START)[0]
    assert spliced.split(tool.END)[1] == doc.split(tool.END)[1]
    assert f"{tool.START}\nNEW\n\n{tool.END}" in spliced
    cal = calibrate(SCENARIOS / "default.yaml", seeds=1, hours=0.5, workers=1)
    section = "\n".join(tool.scenario_section(cal, 1))
    assert "python main.py calibrate default --seeds 1" in section
    assert "| C1 mean (min) | expert |" in section and "| Incidents" not in section
    assert "```" in section and "reference set: England" in section
