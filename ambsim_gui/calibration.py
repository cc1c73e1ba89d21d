"""Calibration: a scenario run over many seeds with both built-in policies, set beside the
national figures it is calibrated to.

One job: ``calibrate`` runs the scenario with ``expert`` and ``target_chaser`` over N seeds (the
scenario's own seed + 0, 1, ... N-1, so the first run of each policy is exactly the shift
``python main.py run`` prints), takes the same figures from every run (``FIGURES``; what each
counts: docs/domain.md, "Measures ambsim reports"), and summarises each figure per policy: mean,
standard deviation, min and max over the runs, beside the reference and its accepted range, with
a verdict (``within``, ``below``, ``above``, ``no reference``; ``no data`` when no run had the
figure). ``format_table`` and ``format_markdown`` print the summary; ``Calibration.to_json``
holds every run's figures and the summary. ``python main.py calibrate`` is the command.

The reference ranges are in one table, ``REFERENCE_SETS``. Every figure in it comes from
docs/domain.md (sources there); the ranges are the team's calibration targets. No Qt here.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from ambsim_gui.assess.metrics import MetricsReport
from ambsim_gui.headless import RunResult, build_from, run_scenario
from ambsim_gui.scenario.loader import LoadedScenario, load_scenario

POLICIES = ("expert", "target_chaser")  # ambsim_gui/sim/policies.py, make_policy
CATEGORIES = ("C1", "C2", "C3", "C4")

# --- the figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    key: str  # the JSON key of the figure in every run
    label: str  # for people
    unit: str  # "min", "share" (a fraction, printed as %), "ratio", "count"
    run_out: bool = False  # a run-out figure: shown only when a run ran on past the shift's end


def _response_figures(suffix: str, label_suffix: str, run_out: bool) -> list[Figure]:
    out: list[Figure] = []
    for name in ("C1", "C1T", "C2", "C3", "C4"):
        stem = name.lower()
        out.append(Figure(f"{stem}_mean_min{suffix}", f"{name} mean{label_suffix}", "min", run_out))
        out.append(Figure(f"{stem}_p90_min{suffix}", f"{name} 90th{label_suffix}", "min", run_out))
    return out


# Every figure of a run, in the order printed. The responses are those at the end of the shift
# (incidents still waiting for a vehicle counted with their wait so far, a lower bound; C1T
# counts arrivals only), then again after the run-out; the other figures are those at the end of
# the shift, and last the outcome shares again after the run-out.
FIGURES: tuple[Figure, ...] = (
    *_response_figures("", "", False),
    *_response_figures("_run_out", " (run-out)", True),
    Figure("c4_share", "C4 share of incidents", "share"),
    Figure("hear_and_treat", "Hear and treat (of closed)", "share"),
    Figure("see_and_treat", "See and treat (of closed)", "share"),
    Figure("convey_ed", "Conveyed to ED (of closed)", "share"),
    Figure("dispatches_per_attended", "Dispatches per attended inc.", "ratio"),
    Figure("multi_vehicle_share", "Call-outs with >1 vehicle", "share"),
    Figure("late_finishes", "Late finishes (crews)", "count"),
    Figure("late_overrun_mean_min", "Late finish mean overrun", "min"),
    Figure("open_at_end", "Incidents open at end", "count"),
    Figure("waiting_at_end", "Still waiting for a vehicle", "count"),
    Figure("incidents", "Incidents (patients)", "count"),
    # after the run-out every incident has (nearly) closed: the outcome shares as a monthly
    # figure would count these incidents (the England sets judge these, London the day's end)
    Figure("hear_and_treat_run_out", "Hear and treat (run-out)", "share", True),
    Figure("see_and_treat_run_out", "See and treat (run-out)", "share", True),
    Figure("convey_ed_run_out", "Conveyed to ED (run-out)", "share", True),
    Figure("open_after_run_out", "Incidents open after run-out", "count", True),
)

# For a scenario whose reference set names a town (rural_vs_urban): the town's C1 mean, the
# rural areas' (every area the map marks "rural", pooled) and the one over the other.
AREA_FIGURES: tuple[Figure, ...] = (
    Figure("town_c1_mean_min", "Town C1 mean", "min"),
    Figure("rural_c1_mean_min", "Rural areas C1 mean", "min"),
    Figure("rural_town_c1_ratio", "Rural / town C1 mean", "ratio"),
)


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60.0


def _response_values(report: MetricsReport, suffix: str) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for cat in CATEGORIES:
        block = report.categories[cat]
        out[f"{cat.lower()}_mean_min{suffix}"] = _minutes(block.mean_response_s)
        out[f"{cat.lower()}_p90_min{suffix}"] = _minutes(block.p90_response_s)
    out[f"c1t_mean_min{suffix}"] = _minutes(report.c1t.mean_s)
    out[f"c1t_p90_min{suffix}"] = _minutes(report.c1t.p90_s)
    return out


def _pooled_c1_mean_min(report: MetricsReport, areas: Iterable[str]) -> float | None:
    """The C1 mean over the incidents of several areas together (count-weighted), in minutes."""
    count = 0
    total_s = 0.0
    for area in areas:
        block = report.by_area.get(area, {}).get("C1")
        if block is None or not block.count or block.mean_response_s is None:
            continue
        count += block.count
        total_s += block.count * block.mean_response_s
    return total_s / count / 60.0 if count else None


def run_figures(
    result: RunResult, town: str | None = None, rural: Sequence[str] = ()
) -> dict[str, float | None]:
    """The calibration figures of one run (``FIGURES``, and ``AREA_FIGURES`` given a town)."""
    end = result.windows.end_of_shift
    out = _response_values(end, "")
    out.update(_response_values(result.windows.run_out, "_run_out"))
    o = end.outcomes
    c4 = end.categories["C4"].count
    out["c4_share"] = c4 / o.incidents if o.incidents else None
    out["hear_and_treat"] = o.hear_and_treat
    out["see_and_treat"] = o.see_and_treat
    out["convey_ed"] = o.convey_ed
    out["dispatches_per_attended"] = end.nao.dispatches_per_attended
    out["multi_vehicle_share"] = end.nao.multi_vehicle_share
    out["late_finishes"] = float(end.late_finishes.late)
    out["late_overrun_mean_min"] = end.late_finishes.mean_overrun_min
    out["open_at_end"] = float(o.open)
    out["waiting_at_end"] = float(end.still_waiting)
    out["incidents"] = float(end.incidents)
    after = result.windows.run_out.outcomes
    out["hear_and_treat_run_out"] = after.hear_and_treat
    out["see_and_treat_run_out"] = after.see_and_treat
    out["convey_ed_run_out"] = after.convey_ed
    out["open_after_run_out"] = float(after.open)
    if town is not None:
        town_mean = _pooled_c1_mean_min(end, [town])
        rural_mean = _pooled_c1_mean_min(end, rural)
        out["town_c1_mean_min"] = town_mean
        out["rural_c1_mean_min"] = rural_mean
        out["rural_town_c1_ratio"] = (
            rural_mean / town_mean if rural_mean is not None and town_mean else None
        )
    return out


# --- the references ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """One figure's reference for one policy: the accepted range (either end may be open) and
    the national figure it stands for, as a short citation."""

    figure: str
    policy: str
    low: float | None
    high: float | None
    national: str


@dataclass(frozen=True)
class ReferenceSet:
    name: str
    title: str  # said in the output's header
    references: tuple[Reference, ...]
    town: str | None = None  # rural_vs_urban: the town whose areas' C1 is set against the rest

    def lookup(self, figure: str, policy: str) -> Reference | None:
        for ref in self.references:
            if ref.figure == figure and ref.policy == policy:
                return ref
        return None


# The NAO's finding, played by target_chaser (docs/domain.md, "Why ambsim exists: the NAO
# finding"; NAO 2011, England 2009-10): at least 1.27 dispatches per attended incident, and more
# than one vehicle to at least 45% of call-outs (the NAO found 49% in England, 61% in London).
_NAO = (
    Reference("dispatches_per_attended", "target_chaser", 1.27, None, "NAO 1.27 (England 2009-10)"),
    Reference("multi_vehicle_share", "target_chaser", 0.45, None, "NAO 49% England, 61% London"),
)
# The outcome shares (docs/domain.md, "Outcomes"): England 2024/25 (AmbSYS), and the range
# between trusts in March 2025. A shift of a few hours ends with a third to a half of its
# incidents open, mostly crews' jobs, which close last, so the share of the closed over-counts
# hear-and-treat; these are judged after the run-out, when the shift's incidents have all
# ended, as a month's figure counts them (London's day is judged at its end, 11% open).
_OUTCOMES_ENGLAND = (
    Reference("hear_and_treat_run_out", "expert", 0.093, 0.208, "England 15.8%; trusts 9.3-20.8%"),
    Reference("see_and_treat_run_out", "expert", 0.253, 0.372, "England 29.6%; trusts 25.3-37.2%"),
    Reference("convey_ed_run_out", "expert", 0.458, 0.544, "England 49.9%; trusts 45.8-54.4%"),
)
# England's response means (docs/domain.md, "Demand"; AmbSYS): the accepted range is the span
# of the published England figures (derived): the 2024/25 and 2025/26 means, and for C2 the
# 2024/25 months' span (27:24 to 47:26).
_RESPONSES_ENGLAND = (
    Reference("c1_mean_min", "expert", 7.9, 8 + 19 / 60, "England 8:19 (24/25), 7.9 (25/26)"),
    Reference("c2_mean_min", "expert", 27.4, 47 + 26 / 60, "England 35:22 (24/25), 30.1 (25/26)"),
    Reference("c3_mean_min", "expert", 107.5, 124 + 43 / 60, "England 124:43 (24/25), 107.5"),
    Reference("c4_mean_min", "expert", 142.0, 146 + 38 / 60, "England 146:38 (24/25), 142"),
)
# C4 share of incidents: England 0.7% in both years (AmbSYS); 0.5-2% is the team's band.
_C4_SHARE = Reference("c4_share", "expert", 0.005, 0.02, "England 0.7% (24/25, 25/26)")

# The single table of reference ranges (docs/domain.md holds every figure with its source).
REFERENCE_SETS: dict[str, ReferenceSet] = {
    # metropolitan_24h is calibrated to London, March 2025 (docs/domain.md, "Demand": C1 mean
    # 6:58, C2 mean 28:59; "Outcomes": London's hear-and-treat 20.6% in February 2025, HSJ
    # 2025). The ranges are the team's targets for that scenario.
    "london": ReferenceSet(
        name="london",
        title="London, March 2025 (AmbSYS; HSJ 2025) and NAO 2011: the team's targets for "
        "metropolitan_24h",
        references=(
            Reference("c1_mean_min", "expert", 6.0, 8.0, "London 6:58 (Mar 2025)"),
            Reference("c2_mean_min", "expert", 24.0, 34.0, "London 28:59 (Mar 2025)"),
            Reference("c3_mean_min", "expert", 80.0, 140.0, "England 124:43 (24/25)"),
            Reference("c4_share", "expert", 0.005, 0.02, "England 0.7%"),
            Reference("hear_and_treat", "expert", 0.15, 0.21, "London 20.6% (Feb 2025)"),
            Reference("see_and_treat", "expert", 0.25, 0.37, "England 29.6%"),
            Reference("convey_ed", "expert", 0.45, 0.55, "England 49.9%"),
            *_NAO,
        ),
    ),
    "england": ReferenceSet(
        name="england",
        title="England (AmbSYS 2024/25 and 2025/26; trusts' range March 2025) and NAO 2011",
        references=(*_RESPONSES_ENGLAND, _C4_SHARE, *_OUTCOMES_ENGLAND, *_NAO),
    ),
    # the Category A/B regimes stop and start the clock otherwise: ARP's means do not apply
    "england_outcomes": ReferenceSet(
        name="england_outcomes",
        title="England outcomes (AmbSYS 2024/25; trusts' range March 2025) and NAO 2011; no "
        "response references (the regime's clock is not ARP's)",
        references=(*_OUTCOMES_ENGLAND, *_NAO),
    ),
    # rural_vs_urban (docs/domain.md, "Rural and urban"): the town's C1 mean 5-8 min (urban
    # 7:14 in 2018, Hammersmith 5:48 in 2022) and its rural areas' 1.5 to 3 times that (2018:
    # 11:13 / 7:14 = 1.55; 2022: Mid Devon 15:20 / Hammersmith 5:48 = 2.64; derived), with the
    # England figures for the rest.
    "rural_vs_urban": ReferenceSet(
        name="rural_vs_urban",
        title="England (AmbSYS; trusts' range March 2025), NAO 2011, and town against country "
        "(2018, 2022)",
        references=(
            *_RESPONSES_ENGLAND,
            _C4_SHARE,
            *_OUTCOMES_ENGLAND,
            *_NAO,
            Reference("town_c1_mean_min", "expert", 5.0, 8.0, "urban 7:14 (2018), 5:48 (2022)"),
            Reference("rural_town_c1_ratio", "expert", 1.5, 3.0, "1.55 (2018), 2.64 (2022)"),
        ),
        town="Casterbridge",
    ),
}


def reference_set_for(loaded: LoadedScenario, name: str = "auto") -> ReferenceSet:
    """The reference set a scenario is judged against: London for ``metropolitan_24h``; town
    and country for ``rural_vs_urban``; England for every other ARP scenario; England's outcomes
    and the NAO only under the Category A/B regimes. ``name`` other than "auto" picks a set."""
    if name != "auto":
        return REFERENCE_SETS[name]
    stem = loaded.path.stem
    if stem == "metropolitan_24h":
        return REFERENCE_SETS["london"]
    if stem == "rural_vs_urban":
        return REFERENCE_SETS["rural_vs_urban"]
    if loaded.scenario.regime == "arp2017":
        return REFERENCE_SETS["england"]
    return REFERENCE_SETS["england_outcomes"]


def figures_for(refs: ReferenceSet) -> tuple[Figure, ...]:
    return FIGURES + (AREA_FIGURES if refs.town is not None else ())


# --- the summary ------------------------------------------------------------------------------

WITHIN, BELOW, ABOVE, NO_REFERENCE, NO_DATA = "within", "below", "above", "no reference", "no data"
_EPS = 1e-9  # a value printed as the range's end is within it


def verdict(value: float | None, ref: Reference | None) -> str:
    """A value against a reference's range, both ends included."""
    if ref is None:
        return NO_REFERENCE
    if value is None or math.isnan(value):
        return NO_DATA
    if ref.low is not None and value < ref.low - _EPS:
        return BELOW
    if ref.high is not None and value > ref.high + _EPS:
        return ABOVE
    return WITHIN


@dataclass(frozen=True)
class Summary:
    """One figure for one policy over the runs."""

    figure: str
    policy: str
    n: int  # runs that had the figure
    runs: int  # runs in all
    mean: float | None
    sd: float | None  # sample standard deviation; None with fewer than two values
    low: float | None  # min over the runs
    high: float | None  # max over the runs
    reference: Reference | None
    verdict: str  # of the mean
    runs_within: int | None  # runs whose own value is within the range; None without reference

    def to_json(self) -> dict[str, Any]:
        ref = self.reference
        return {
            "n": self.n,
            "runs": self.runs,
            "mean": self.mean,
            "sd": self.sd,
            "min": self.low,
            "max": self.high,
            "reference": None
            if ref is None
            else {"low": ref.low, "high": ref.high, "national": ref.national},
            "verdict": self.verdict,
            "runs_within": self.runs_within,
        }


def summarise(
    figure: str, policy: str, values: Sequence[float | None], ref: Reference | None
) -> Summary:
    """Mean, spread and verdict of one figure's values over the runs (None: the run had none)."""
    have = [float(v) for v in values if v is not None and not math.isnan(v)]
    mean = statistics.fmean(have) if have else None
    return Summary(
        figure=figure,
        policy=policy,
        n=len(have),
        runs=len(values),
        mean=mean,
        sd=statistics.stdev(have) if len(have) >= 2 else None,
        low=min(have) if have else None,
        high=max(have) if have else None,
        reference=ref,
        verdict=verdict(mean, ref),
        runs_within=None if ref is None else sum(verdict(v, ref) == WITHIN for v in have),
    )


# --- the runs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunFigures:
    policy: str
    seed: int
    figures: dict[str, float | None]
    sha256: str
    wall_seconds: float
    events: int
    runs_on: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "seed": self.seed,
            "event_log_sha256": self.sha256,
            "wall_seconds": round(self.wall_seconds, 3),
            "events": self.events,
            "runs_on": self.runs_on,
            "figures": self.figures,
        }


@lru_cache(maxsize=4)
def _loaded(path: str) -> LoadedScenario:
    """A worker loads each scenario once (a world is still built for every run)."""
    return load_scenario(Path(path))


def rural_areas(result: RunResult) -> list[str]:
    return [a.name for a in result.engine.world.network.areas if a.kind == "rural"]


def one_run(path: str, policy: str, seed: int, hours: float | None, town: str | None) -> RunFigures:
    """One shift and its figures (a process pool's task: plain arguments, a plain result)."""
    result = run_scenario(path, policy=policy, seed=seed, hours=hours, loaded=_loaded(path))
    return RunFigures(
        policy=policy,
        seed=result.seed,
        figures=run_figures(result, town, rural_areas(result) if town else ()),
        sha256=result.sha256,
        wall_seconds=result.wall_seconds,
        events=len(result.engine.events),
        runs_on=result.windows.runs_on,
    )


@dataclass
class Calibration:
    """Every run of a calibration and its summary."""

    loaded: LoadedScenario
    refs: ReferenceSet
    seeds: list[int]
    hours: float | None
    workers: int
    runs: dict[str, list[RunFigures]]  # policy -> runs in seed order
    wall_seconds: float
    summaries: dict[str, dict[str, Summary]] = field(default_factory=dict)  # figure -> policy

    @property
    def figures(self) -> tuple[Figure, ...]:
        return figures_for(self.refs)

    @property
    def runs_on(self) -> bool:
        return any(r.runs_on for runs in self.runs.values() for r in runs)

    def summarise(self) -> None:
        self.summaries = {
            fig.key: {
                policy: summarise(
                    fig.key,
                    policy,
                    [r.figures.get(fig.key) for r in runs],
                    self.refs.lookup(fig.key, policy),
                )
                for policy, runs in self.runs.items()
            }
            for fig in self.figures
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.loaded.path.stem,
            "scenario_name": self.loaded.scenario.name,
            "scenario_sha256": self.loaded.sha256,
            "regime": self.loaded.scenario.regime,
            "reference_set": {"name": self.refs.name, "title": self.refs.title},
            "seeds": self.seeds,
            "hours": self.hours,
            "workers": self.workers,
            "wall_seconds": round(self.wall_seconds, 3),
            "runs_on": self.runs_on,
            "figures": [
                {"key": f.key, "label": f.label, "unit": f.unit, "run_out": f.run_out}
                for f in self.figures
            ],
            "policies": {
                policy: {
                    "runs": [r.to_json() for r in runs],
                    "summary": {
                        fig.key: self.summaries[fig.key][policy].to_json() for fig in self.figures
                    },
                }
                for policy, runs in self.runs.items()
            },
        }


Progress = Callable[[int, int, RunFigures, float], None]
"""Told after each finished run: done, total, that run, seconds since the start."""


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def seeds_for(loaded: LoadedScenario, count: int) -> list[int]:
    """The scenario's own seed, then the next ``count - 1`` (so run 1 is ``run``'s shift)."""
    return [loaded.scenario.seed + i for i in range(count)]


def calibrate(
    path: str | Path,
    *,
    seeds: int,
    hours: float | None = None,
    workers: int | None = None,
    policies: Sequence[str] = POLICIES,
    reference: str = "auto",
    progress: Progress | None = None,
) -> Calibration:
    """Run the scenario ``seeds`` times with each policy and summarise the figures.

    The scenario is loaded and its world built here first, so a bad file raises its
    ``DataFileError`` (or ``WorldError``) before any run starts. ``workers``: processes in the
    pool (default: every core this process may use); 1 runs every shift in this process."""
    if seeds < 1:
        raise ValueError("at least one seed")
    started = time.perf_counter()
    loaded = load_scenario(Path(path))
    build_from(loaded)  # the world's own problems (a station off the map) before any run
    refs = reference_set_for(loaded, reference)
    seed_list = seeds_for(loaded, seeds)
    workers = default_workers() if workers is None else max(1, workers)
    tasks = [(policy, seed) for seed in seed_list for policy in policies]
    workers = min(workers, len(tasks))
    str_path = str(loaded.path)
    done: list[RunFigures] = []

    def finished(run: RunFigures) -> None:
        done.append(run)
        if progress is not None:
            progress(len(done), len(tasks), run, time.perf_counter() - started)

    if workers == 1:
        _loaded.cache_clear()
        for policy, seed in tasks:
            finished(one_run(str_path, policy, seed, hours, refs.town))
    else:
        # spawn, not fork: a clean interpreter per worker, the same on every platform
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            pending: set[Future[RunFigures]] = {
                pool.submit(one_run, str_path, policy, seed, hours, refs.town)
                for policy, seed in tasks
            }
            try:
                while pending:
                    ready, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in ready:
                        finished(future.result())
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
    by_policy = {
        policy: sorted((r for r in done if r.policy == policy), key=lambda r: r.seed)
        for policy in policies
    }
    result = Calibration(
        loaded=loaded,
        refs=refs,
        seeds=seed_list,
        hours=hours,
        workers=workers,
        runs=by_policy,
        wall_seconds=time.perf_counter() - started,
    )
    result.summarise()
    return result


# --- printing ---------------------------------------------------------------------------------


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "count":
        return f"{value:.1f}" if value != round(value) else f"{value:.0f}"
    return f"{value:.2f}"


def _bound(value: float, unit: str) -> str:
    if unit == "share":
        text = f"{value * 100:.1f}".rstrip("0").rstrip(".")
        return f"{text}%"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def range_text(ref: Reference | None, unit: str) -> str:
    if ref is None:
        return "-"
    if ref.low is not None and ref.high is not None:
        low, high = _bound(ref.low, unit), _bound(ref.high, unit)
        if unit == "share":  # 15-21%, not 15%-21%
            low = low.rstrip("%")
        return f"{low}-{high}"
    if ref.low is not None:
        return f">= {_bound(ref.low, unit)}"
    assert ref.high is not None
    return f"<= {_bound(ref.high, unit)}"


def _spread(s: Summary, unit: str) -> str:
    if s.low is None or s.high is None:
        return "-"
    return f"{_value(s.low, unit)}-{_value(s.high, unit)}"


def _sd(s: Summary, unit: str) -> str:
    if s.sd is None:
        return "-"
    return f"{s.sd:.1%}" if unit == "share" else f"{s.sd:.2f}"


def _in_range(s: Summary) -> str:
    return "-" if s.runs_within is None else f"{s.runs_within}/{s.n}"


def _label(fig: Figure) -> str:
    return f"{fig.label} (min)" if fig.unit == "min" else fig.label


def shown_figures(cal: Calibration) -> list[Figure]:
    """The run-out's rows only when some run ran on past the shift's end (else they would be
    the end-of-shift figures without the waiting incidents: say so instead)."""
    return [f for f in cal.figures if not f.run_out or cal.runs_on]


def _rows(
    cal: Calibration, judged_only: bool = False
) -> list[tuple[str, str, str, str, str, str, str, str, str]]:
    rows = []
    for fig in shown_figures(cal):
        first = True
        for policy in cal.runs:
            s = cal.summaries[fig.key][policy]
            if judged_only and s.reference is None:
                continue
            rows.append(
                (
                    _label(fig) if first or judged_only else "",
                    policy,
                    _value(s.mean, fig.unit),
                    _sd(s, fig.unit),
                    _spread(s, fig.unit),
                    range_text(s.reference, fig.unit),
                    _in_range(s),
                    s.verdict,
                    s.reference.national if s.reference is not None else "",
                )
            )
            first = False
    return rows


HEADINGS = (
    "Figure",
    "Policy",
    "Mean",
    "sd",
    "Min-max",
    "Range",
    "In range",
    "Verdict",
    "National figure",
)


def header_lines(cal: Calibration) -> list[str]:
    s = cal.loaded.scenario
    hours = f"{cal.hours:g} h" if cal.hours is not None else f"{s.duration_h:g} h (the whole shift)"
    seeds = f"{cal.seeds[0]}" if len(cal.seeds) == 1 else f"{cal.seeds[0]}..{cal.seeds[-1]}"
    runs = sum(len(r) for r in cal.runs.values())
    return [
        f"Calibration: {s.name} ({cal.loaded.path.stem}), regime {s.regime}, {hours}",
        f"policies {', '.join(cal.runs)}; {len(cal.seeds)} seed(s) each: {seeds} (the"
        " scenario's seed + 0, 1, ...)",
        f"{runs} runs on {cal.workers} worker(s) in {cal.wall_seconds:.1f} s",
        f"reference set: {cal.refs.title}",
        "figures at the end of the shift: responses include the incidents still waiting for a"
        " vehicle (their wait so far, a lower bound); outcome shares are of closed incidents;"
        " verdicts judge the mean over the runs; 'In range' counts the runs within",
    ]


def _run_out_note(cal: Calibration) -> str:
    if cal.runs_on:
        return "run-out rows: every response as it actually ended, after the shift's end"
    return "run-out: none recorded (no run had an event after the shift's end)"


def format_table(cal: Calibration) -> str:
    """The summary as fixed-width text for the terminal."""
    rows = [HEADINGS, *_rows(cal)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADINGS))]
    right = {2, 3}
    lines = [*header_lines(cal), ""]
    for n, row in enumerate(rows):
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("-" * len(lines[-1]))
    lines += ["", _run_out_note(cal)]
    return "\n".join(lines)


def format_markdown(cal: Calibration, *, judged_only: bool = False, header: bool = True) -> str:
    """The summary as a Markdown table, with the header as a list above it (``header``);
    ``judged_only``: only the rows with a reference (docs/VALIDATION.md's tables)."""
    lines = [f"- {line}" for line in header_lines(cal)] if header else []
    if header:
        lines += [f"- {_run_out_note(cal)}", ""]
    lines.append("| " + " | ".join(HEADINGS) + " |")
    lines.append(
        "|" + "|".join("---:" if i in (2, 3) else "---" for i in range(len(HEADINGS))) + "|"
    )
    for row in _rows(cal, judged_only):
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    return "\n".join(lines)


def outside(cal: Calibration) -> list[tuple[str, str, str]]:
    """The (figure label, policy, verdict) of every judged figure whose mean is not within."""
    out = []
    for fig in shown_figures(cal):
        for policy in cal.runs:
            s = cal.summaries[fig.key][policy]
            if s.verdict in (BELOW, ABOVE, NO_DATA):
                out.append((fig.label, policy, s.verdict))
    return out
