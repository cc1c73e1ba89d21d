"""The figures a study can collect from each shift: the calibration's figures and a few more.

Every figure is defined in docs/domain.md ("Measures ambsim reports"; the study figures in
"Studies"). ``shift_figures`` takes them all from one run, so a study's table has every figure
whatever its file asks to report, and a later report can show another figure without a rerun.
"""

from __future__ import annotations

from ambsim_gui.calibration import FIGURES as CALIBRATION_FIGURES
from ambsim_gui.calibration import Figure, run_figures
from ambsim_gui.headless import RunResult

# Figures a study adds to the calibration's, all at the end of the shift.
EXTRA_FIGURES: tuple[Figure, ...] = (
    Figure("dispatches", "Dispatches", "count"),
    Figure("unnecessary_dispatches", "Unnecessary dispatches", "count"),
    Figure("unnecessary_share", "Unnecessary share of dispatches", "share"),
    Figure("cat_a_within_8_min", "Category A within 8 min", "share"),
    Figure("recontacts", "Re-contacts", "count"),
    Figure("unsafe_advice", "Unsafe advice", "count"),
    Figure("harm_events", "Harm events", "count"),
    Figure("handover_mean_min", "Handover mean", "min"),
    Figure("crew_hours_lost", "Crew hours lost at handover", "count"),
    Figure("cost_total", "Cost (GBP)", "count"),
    Figure("cost_per_incident", "Cost per incident (GBP)", "ratio"),
)

FIGURES: tuple[Figure, ...] = CALIBRATION_FIGURES + EXTRA_FIGURES
FIGURE_KEYS: tuple[str, ...] = tuple(f.key for f in FIGURES)
BY_KEY: dict[str, Figure] = {f.key: f for f in FIGURES}


def shift_figures(result: RunResult) -> dict[str, float | None]:
    """Every study figure of one shift (None: the shift had nothing to count)."""
    out = run_figures(result)
    end = result.windows.end_of_shift
    unnecessary = end.unnecessary_dispatches
    out["dispatches"] = float(end.dispatches)
    out["unnecessary_dispatches"] = float(unnecessary.total)
    out["unnecessary_share"] = unnecessary.share_of_dispatches
    # Category A exists only under the Category A/B regimes (docs/domain.md, Response times)
    group_a = end.regime_groups.get("A")
    out["cat_a_within_8_min"] = group_a.share_within if group_a is not None else None
    out["recontacts"] = float(end.recontacts)
    out["unsafe_advice"] = float(end.unsafe_advice)
    out["harm_events"] = float(end.harm_events)
    mean_s = end.handover.mean_s
    out["handover_mean_min"] = None if mean_s is None else mean_s / 60.0
    out["crew_hours_lost"] = end.handover.crew_hours_lost
    out["cost_total"] = end.cost_total
    out["cost_per_incident"] = end.cost_per_incident
    return {key: out.get(key) for key in FIGURE_KEYS}
