"""What a debrief report says, gathered once from a session, for the HTML and PDF writers.

One job: ``gather(session)`` computes everything the report shows (the shift's figures from
the recorded events, the expert's shift beside them, the trainee's decisions with their
feedback, the key moments, the annotations and the chart series), as plain data. The writers
only format; a figure printed in the HTML is the figure printed in the PDF.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ambsim_gui.assess.metrics import MetricsReport, ShiftMetrics
from ambsim_gui.assess.report_text import mmss
from ambsim_gui.record.debrief_markers import Marker, build_markers
from ambsim_gui.record.expert import ExpertComparison, expert_shift
from ambsim_gui.record.reader import SessionFile, SessionInfo
from ambsim_gui.record.replay import rebuild
from ambsim_gui.record.replay_state import TRAINEE, ReplayState
from ambsim_gui.record.response_standards import breach_limit, response_times
from ambsim_gui.record.session import Annotation
from ambsim_gui.record.verify import VerifyResult
from ambsim_gui.scenario.model import Scenario
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.regimes import CATEGORIES, Regime


@dataclass
class Debrief:
    """Everything the report shows."""

    info: SessionInfo
    scenario: Scenario
    regime: Regime
    metrics: MetricsReport
    end_t: float
    complete: bool
    start_min: int
    decisions: list[dict[str, Any]]  # CallFeedback JSON of the trainee's seat, by closing time
    annotations: list[Annotation]
    markers: list[Marker]
    response_points: dict[str, list[tuple[float, float]]]  # category -> (stop t, minutes)
    standards: dict[str, tuple[float | None, float | None, str]]
    queue_series: list[tuple[float, int, int, int]]  # t, ringing, dispatch queue, hub stack
    status_series: list[tuple[float, dict[str, int]]]
    comparison: ExpertComparison | None = None
    verification: VerifyResult | None = None
    notes: list[str] = field(default_factory=list)

    def clock(self, t: float) -> str:
        minutes = int((self.start_min + t / 60.0) % 1440)
        day = int((self.start_min + t / 60.0) // 1440)
        text = f"{minutes // 60:02d}:{minutes % 60:02d}"
        return f"{text} (+{day}d)" if day else text

    @property
    def trainee_calls(self) -> int:
        return len(self.decisions)


def sample_series(
    events: list[ev.Event], end_t: float, step_s: float
) -> tuple[list[tuple[float, int, int, int]], list[tuple[float, dict[str, int]]]]:
    """Queue lengths and vehicle statuses every ``step_s``, from one pass over the events."""
    state = ReplayState()
    queue: list[tuple[float, int, int, int]] = []
    status: list[tuple[float, dict[str, int]]] = []
    grid = 0.0
    i = 0
    n = len(events)
    while grid <= end_t + 1e-9:
        while i < n and events[i].t <= grid:
            state.apply(events[i])
            i += 1
        queued = sum(1 for inc in state.incidents.values() if inc.queued and inc.status == "open")
        queue.append((grid, len(state.ringing), queued, len(state.hub_stack)))
        status.append((grid, state.status_counts()))
        grid += step_s
    return queue, status


def gather(
    session: SessionFile, *, expert: bool = True, verification: VerifyResult | None = None
) -> Debrief:
    from ambsim_gui.scenario.model import clock_to_minutes

    rebuilt = rebuild(session)
    regime = rebuilt.regime
    events = session.events()
    end_t = events[-1].t if events else 0.0
    complete = any(isinstance(e, ev.ShiftEnded) for e in reversed(events))
    metrics = ShiftMetrics(regime, rebuilt.scenario.costs)
    metrics.feed_all(events)
    report = metrics.snapshot()

    state = ReplayState()
    state.apply_all(events)
    points: dict[str, list[tuple[float, float]]] = {c: [] for c in CATEGORIES}
    for _inc, stop, seconds, category in response_times(state.incidents.values(), regime):
        points[category].append((stop, seconds / 60.0))
    standards: dict[str, tuple[float | None, float | None, str]] = {}
    for c in CATEGORIES:
        std = regime.standard_for(c)
        limit = breach_limit(std)
        standards[c] = (std.mean_s, limit[0] if limit else None, std.describe())

    duration = max(end_t, 1.0)
    step = max(60.0, duration / 600.0)
    queue, status = sample_series(events, end_t, step)
    decisions = [
        r
        for r in session.feedback(recompute=True)
        if r.get("seat") == TRAINEE or _answered_by_trainee(state, r.get("call_id"))
    ]
    decisions.sort(key=lambda r: (r.get("closed_t") or 0.0, r.get("call_id") or ""))
    debrief = Debrief(
        info=session.info,
        scenario=rebuilt.scenario,
        regime=regime,
        metrics=report,
        end_t=end_t,
        complete=complete,
        start_min=clock_to_minutes(rebuilt.scenario.start),
        decisions=decisions,
        annotations=session.annotations(),
        markers=build_markers(events, regime),
        response_points=points,
        standards=standards,
        queue_series=queue,
        status_series=status,
        verification=verification,
        notes=list(rebuilt.notes),
    )
    if expert:
        debrief.comparison = expert_shift(session, rebuilt)
    return debrief


def _answered_by_trainee(state: ReplayState, call_id: Any) -> bool:
    call = state.calls.get(str(call_id))
    return call is not None and call.seat == TRAINEE


# --- formatting shared by both writers ----------------------------------------------------------


def fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return mmss(value)
    if unit == "share":
        return f"{value:.1%}"
    if unit == "gbp":
        return f"GBP {value:,.0f}"
    return f"{value:g}"


def headline_rows(d: Debrief) -> list[tuple[str, str, str, str]]:
    """(figure, value, standard or reference, verdict) for the headline table."""
    m = d.metrics
    rows: list[tuple[str, str, str, str]] = []
    for c, block in m.categories.items():
        verdict = "-" if block.met is None else ("met" if block.met else "MISSED")
        value = f"mean {mmss(block.mean_response_s)}, 90th {mmss(block.p90_response_s)}"
        if block.standard_within_s is not None:
            share = "-" if block.share_within is None else f"{block.share_within:.1%}"
            value += f", within {share}"
        rows.append((f"{c} response ({block.count} incidents)", value, block.standard, verdict))
    o = m.outcomes
    u = m.unnecessary_dispatches
    in_range = 0.093 <= o.hear_and_treat <= 0.208
    rows += [
        (
            "Calls",
            f"{m.calls} (answered {m.calls_answered}, abandoned {m.calls_abandoned})",
            f"answer mean {mmss(m.answer_time_mean_s)}, 90th {mmss(m.answer_time_p90_s)}",
            "",
        ),
        (
            "Hear-and-treat share",
            f"{o.hear_and_treat:.1%}",
            "trusts 9.3%-20.8% (England 15.8%)",
            "in range" if in_range else ("below range" if o.hear_and_treat < 0.093 else "above"),
        ),
        (
            "Unnecessary dispatches",
            f"{u.total} of {m.dispatches}",
            f"duplicate {u.duplicate}, stood down {u.stood_down}, avoidable {u.avoidable}",
            "",
        ),
        ("Unsafe advice", str(m.unsafe_advice), f"re-contacts {m.recontacts}", ""),
        ("Harm events", str(m.harm_events), "patients who waited past the harm threshold", ""),
        (
            "Handover",
            f"mean {mmss(m.handover.mean_s)}, over 15 min "
            + ("-" if m.handover.over_15_min is None else f"{m.handover.over_15_min:.1%}"),
            "standard 15 min",
            "",
        ),
        (
            "Cost",
            f"GBP {m.cost_total:,.0f}",
            "-" if m.cost_per_incident is None else f"GBP {m.cost_per_incident:,.0f} per incident",
            "",
        ),
    ]
    return rows


def decision_row(d: Debrief, r: dict[str, Any]) -> tuple[str, ...]:
    protocol = r.get("recommended") or "-"
    if r.get("protocol_action"):
        protocol += f" ({r['protocol_action']})"
    truth = "-"
    if r.get("true_category"):
        truth = f"{r['true_category']}, {str(r.get('need') or '-').replace('_', ' ')}"
    return (
        d.clock(float(r.get("closed_t") or 0.0)),
        str(r.get("call_id")),
        str(r.get("category_set") or "-"),
        str(r.get("disposition")),
        protocol,
        truth,
        "; ".join(r.get("verdict") or ()),
    )


DECISION_HEADER = ("Closed", "Call", "Set", "Decision", "Protocol", "Truth", "Feedback")
