"""What a debrief report is made from, gathered once from a session.

One job: ``gather(session)`` computes everything the report shows (the shift's figures from
the recorded events, the expert's shift beside them, the trainee's decisions with their
feedback, the key moments, the annotations and the chart series), as plain data. ``layout.py``
words it into the one document the HTML and the PDF both render, so a figure printed in the
HTML is the figure printed in the PDF.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ambsim_gui.assess.feedback import FeedbackProjection, SeatTally, tally
from ambsim_gui.assess.metrics import MetricsReport, ShiftMetrics
from ambsim_gui.record.debrief_markers import Marker, build_markers
from ambsim_gui.record.dispatch_review import DispatchReview, review_dispatching
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
    metrics: MetricsReport  # at the end of the shift (incidents still waiting counted)
    run_out: MetricsReport  # every event, the run-out after the shift's end included
    runs_on: bool  # the recording has events after the shift's end
    end_t: float
    complete: bool
    start_min: int
    decisions: list[dict[str, Any]]  # CallFeedback JSON of the trainee's calls, by closing time,
    #                                   each with "later": its LaterFinding JSON (hub, dispatches)
    annotations: list[Annotation]
    markers: list[Marker]
    response_points: dict[str, list[tuple[float, float]]]  # category -> (stop t, minutes)
    standards: dict[str, tuple[float | None, float | None, str]]
    queue_series: list[tuple[float, int, int, int]]  # t, ringing, dispatch queue, hub stack
    status_series: list[tuple[float, dict[str, int]]]
    comparison: ExpertComparison | None = None
    verification: VerifyResult | None = None
    notes: list[str] = field(default_factory=list)
    trainee_tally: SeatTally | None = None  # the trainee's own decisions only
    dispatching: DispatchReview | None = None  # the trainee's dispatches, from a re-simulation
    # each call's incident, so that a call is named by the incident number the trainee saw
    call_incidents: dict[str, str] = field(default_factory=dict)

    def call_reference(self, call_id: str | None) -> str:
        """'I00012 (call C00015)', or the call alone before it reached an incident."""
        if not call_id:
            return "-"
        incident = self.call_incidents.get(call_id)
        return f"{incident} (call {call_id})" if incident else call_id

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
    windows = metrics.windows()

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
    # the trainee's calls, and colleagues' calls the trainee sent a vehicle to; every finding
    # says who decided it (a colleague's or the clinical hub's decisions are not the trainee's)
    feedback = FeedbackProjection(cards=rebuilt.world.cards)
    feedback.feed_all(events)
    feedback.flush()
    decisions = []
    for record in feedback.records:
        later = feedback.later_for(record.call_id)
        if (
            record.seat == TRAINEE
            or _answered_by_trainee(state, record.call_id)
            or any(f.by == TRAINEE for f in later)
        ):
            decisions.append({**record.to_json_dict(), "later": [f.to_json_dict() for f in later]})
    decisions.sort(key=lambda r: (r.get("closed_t") or 0.0, r.get("call_id") or ""))
    debrief = Debrief(
        info=session.info,
        scenario=rebuilt.scenario,
        regime=regime,
        metrics=windows.end_of_shift,
        run_out=windows.run_out,
        runs_on=windows.runs_on,
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
        trainee_tally=tally(feedback.records, feedback.later, TRAINEE),
        dispatching=review_dispatching(session, rebuilt),
        call_incidents={c.id: c.incident_id for c in state.calls.values() if c.incident_id},
    )
    if expert:
        debrief.comparison = expert_shift(session, rebuilt)
    return debrief


def _answered_by_trainee(state: ReplayState, call_id: Any) -> bool:
    call = state.calls.get(str(call_id))
    return call is not None and call.seat == TRAINEE
