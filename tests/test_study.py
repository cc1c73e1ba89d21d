"""Studies: the study file's validation, the runner on a local pool, reruns, failed shifts, and
the report's confidence intervals (ambsim_gui/study/)."""

from __future__ import annotations

import json
import math
import sqlite3
import textwrap
from pathlib import Path

import pytest

from ambsim_gui.cli import main
from ambsim_gui.datafile import DataFileError
from ambsim_gui.headless import run_scenario
from ambsim_gui.paths import SCENARIOS
from ambsim_gui.study.loader import ShiftTask, load_study
from ambsim_gui.study.report import format_table, load_report, render_html
from ambsim_gui.study.runner import play_shift, run_study
from ambsim_gui.study.stats import estimate
from ambsim_gui.study.store import ResultStore

# The default scenario has 3 hub clinicians: the variant with 3 is the base scenario itself.
SMALL = """\
    schema_version: 1
    name: small
    scenario: default
    grid:
      clinical_hub.clinicians: [1, 3]
    policies: [expert, target_chaser]
    seeds: {seeds}
    hours: 1
    figures: [hear_and_treat, c2_mean_min, dispatches_per_attended]
"""


def write(tmp_path: Path, text: str, name: str = "study.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path, tmp_path: Path) -> list[str]:
    with pytest.raises(DataFileError) as info:
        load_study(path, tmp_path / "out")
    return [str(p) for p in info.value.problems]


# --- the study file ---------------------------------------------------------------------------


def test_a_wrong_key_and_an_unknown_figure_are_told_at_their_line_and_column(tmp_path):
    path = write(
        tmp_path,
        """\
        schema_version: 1
        name: bad
        scenario: default
        seed: 3
        figures: [hear_and_treat, c2_mean]
        """,
    )
    found = problems(path, tmp_path)
    assert any(p.startswith(f"{path}:4:1: seed:") for p in found), found
    assert any(p.startswith(f"{path}:5:") and "did you mean 'c2_mean_min'" in p for p in found), (
        found
    )


def test_an_override_is_checked_by_the_scenario_and_told_at_the_study_files_value(tmp_path):
    path = write(
        tmp_path,
        """\
        schema_version: 1
        name: bad override
        scenario: default
        grid:
          clinical_hub.clinicians: [2, 101]
        seeds: 1
        figures: [hear_and_treat]
        """,
    )
    found = problems(path, tmp_path)
    # 101 is the second item of the list on line 5 (clinicians are at most 100, model.py)
    assert len(found) == 1 and found[0].startswith(f"{path}:5:32: clinical_hub.clinicians:")
    assert "with 101" in found[0] and "less than or equal to 100" in found[0]


def test_an_override_that_leads_nowhere_is_refused_with_the_names_there_are(tmp_path):
    path = write(
        tmp_path,
        """\
        schema_version: 1
        name: bad path
        scenario: default
        variants:
          - name: slow handover at a hospital that is not there
            set:
              hospitals[Nowhere General].handover.median_min: 60
        seeds: 1
        figures: [handover_mean_min]
        """,
    )
    found = problems(path, tmp_path)
    assert len(found) == 1 and found[0].startswith(f"{path}:7:"), found
    assert "no item named 'Nowhere General'" in found[0]


def test_the_cli_prints_the_problem_and_exits_1_without_a_traceback(tmp_path, capsys):
    path = write(tmp_path, "schema_version: 1\nname: x\nscenario: default\nseeds: 0\n")
    assert main(["study", str(path), "-o", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert f"{path}:4:8: seeds:" in err and "Traceback" not in err
    assert f"{path}:1:1: (root): figures" in err or "figures" in err


# --- running ------------------------------------------------------------------------------------


def test_a_small_study_gives_runs_hashes_and_a_rerun_plays_nothing(tmp_path):
    path = write(tmp_path, SMALL.format(seeds=2))
    out = tmp_path / "out"
    study = load_study(path, out)
    assert [v.label for v in study.variants] == [
        "clinical_hub.clinicians=1",
        "clinical_hub.clinicians=3",
    ]
    first = run_study(study, out, workers=2)
    assert (first.shifts, first.played, first.failed, first.workers) == (8, 8, 0, 2)
    rows = ResultStore(out).current_rows()
    assert len(rows) == 8 and all(r["status"] == "ok" for r in rows)
    # every row is the shift `run` plays from the variant's file, with that policy and seed
    files = {v.id: v.scenario_path for v in study.variants}
    for row in rows:
        alone = run_scenario(files[row["variant"]], policy=row["policy"], seed=row["seed"], hours=1)
        assert alone.sha256 == row["event_log_sha256"]
    # and the variant with the default's own 3 clinicians is the default scenario's shift
    base = run_scenario(SCENARIOS / "default.yaml", policy="expert", seed=study.seeds[0], hours=1)
    same = [r for r in rows if r["clinical_hub.clinicians"] == 3 and r["policy"] == "expert"]
    assert same[0]["event_log_sha256"] == base.sha256
    again = run_study(load_study(path, out), out, workers=2)
    assert (again.reused, again.played) == (8, 0)
    # pandas reads the table as it is: plain SQLite, one row a shift
    db = sqlite3.connect(out / "results.sqlite")
    assert db.execute("select count(*) from shifts join current using (key)").fetchone() == (8,)


def test_a_study_grown_by_a_seed_plays_only_the_new_seeds_shifts(tmp_path):
    out = tmp_path / "out"
    run_study(load_study(write(tmp_path, SMALL.format(seeds=1)), out), out, workers=1)
    grown = run_study(load_study(write(tmp_path, SMALL.format(seeds=2)), out), out, workers=1)
    # 2 variants x 2 policies for the one new seed
    assert (grown.shifts, grown.reused, grown.played) == (8, 4, 4)


def _raising_for_target_chaser(task: ShiftTask) -> dict:
    if task.policy == "target_chaser" and task.seed % 2 == 1:
        raise RuntimeError("the model broke")
    return play_shift(task)


def test_a_shift_that_raises_is_a_failed_row_and_is_played_again_on_a_rerun(tmp_path):
    path = write(tmp_path, SMALL.format(seeds=1).replace("[1, 3]", "[1]"))
    out = tmp_path / "out"
    study = load_study(path, out)
    odd = study.seeds[0] % 2 == 1
    first = run_study(study, out, workers=1, play=_raising_for_target_chaser)
    assert first.failed == (1 if odd else 0)
    if odd:
        rows = ResultStore(out).current_rows()
        failed = [r for r in rows if r["status"] == "failed"]
        assert len(failed) == 1 and failed[0]["policy"] == "target_chaser"
        assert failed[0]["error"].startswith("RuntimeError: the model broke")
        assert failed[0]["hear_and_treat"] is None
        assert "failed" in format_table(load_report(out))
    again = run_study(load_study(path, out), out, workers=1)
    assert (again.played, again.failed) == ((1, 0) if odd else (0, 0))


# --- the report ---------------------------------------------------------------------------------


def test_the_interval_is_students_t_computed_by_hand():
    # n = 5, mean 4, s = sqrt(1.5); t(0.975, 4) = 2.776445 (the t table)
    e = estimate([2.0, 4.0, 4.0, 5.0, 5.0, None])
    half = 2.776445 * math.sqrt(1.5) / math.sqrt(5)
    assert e.n == 5 and e.mean == pytest.approx(4.0)
    assert e.low == pytest.approx(4.0 - half, abs=1e-5)
    assert e.high == pytest.approx(4.0 + half, abs=1e-5)
    assert estimate([3.0]).low is None and estimate([]).mean is None


def test_the_report_shows_each_variant_and_policy_with_its_interval(tmp_path):
    path = write(tmp_path, SMALL.format(seeds=2).replace("[1, 3]", "[1]"))
    out = tmp_path / "out"
    study = load_study(path, out)
    run_study(study, out, workers=1)
    report = load_report(out)
    rows = [r for r in ResultStore(out).current_rows() if r["policy"] == "expert"]
    cell = report.cell("c2_mean_min", study.variants[0].id, "expert")
    assert cell.estimate == estimate([r["c2_mean_min"] for r in rows])
    text = format_table(report)
    assert "C2 mean (min)" in text and "95% CI" in text
    page = render_html(report)
    assert page.count("<svg") == 3  # one chart a figure
    assert json.loads(ResultStore(out).meta()["seeds"]) == study.seeds


# --- on a Dask cluster --------------------------------------------------------------------------


def test_a_study_on_a_dask_local_cluster_gives_the_local_pools_table(tmp_path):
    from distributed import LocalCluster

    path = write(tmp_path, SMALL.format(seeds=2))
    local, remote = tmp_path / "local", tmp_path / "dask"
    run_study(load_study(path, local), local, workers=1)
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        done = run_study(load_study(path, remote), remote, cluster=cluster.scheduler_address)
    assert (done.played, done.failed, done.workers) == (8, 0, 1)

    def table(folder: Path) -> list[dict]:
        return [
            {k: v for k, v in row.items() if k not in ("wall_seconds", "scenario_path")}
            for row in ResultStore(folder).current_rows()
        ]

    assert table(remote) == table(local)


# --- the shipped studies ------------------------------------------------------------------------


def test_the_shipped_studies_load_and_the_committed_schema_is_current(tmp_path):
    from ambsim_gui.paths import PROJECT_ROOT
    from ambsim_gui.study.model import study_json_schema

    nao = load_study(PROJECT_ROOT / "studies" / "nao_target_chasing.yaml", tmp_path / "nao")
    assert [v.label for v in nao.variants] == ["regime=arp2017", "regime=cat_ab_2008"]
    assert len(nao.shifts()) == 2 * 2 * 30  # the size the issue asks for
    staffing = PROJECT_ROOT / "studies" / "hear_and_treat_staffing.yaml"
    hub = load_study(staffing, tmp_path / "hub")
    assert len(hub.variants) == 9 and len(hub.shifts()) == 9 * 30
    committed = json.loads((PROJECT_ROOT / "docs" / "study.schema.json").read_text())
    assert committed == study_json_schema()
