"""Patients never reached count in the debrief: a trainee who stops working is not rewarded.

A dispatcher who sends nothing leaves incidents waiting; their waits count in the response
figures (a lower bound), each standard names how many still wait and the longest wait, a figure
with patients waiting is never called "met", and the expert comparison calls no side better on
a lower bound that could still turn out worse, nor on cost when the shift reached fewer
patients (docs/domain.md, "At the end of the shift, and run-out" and "Against the expert").
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from ambsim_gui.headless import build_from
from ambsim_gui.paths import DEFAULT_SCENARIO
from ambsim_gui.record.expert import HeadlineRow
from ambsim_gui.record.reader import SessionFile
from ambsim_gui.record.session import SessionRecorder
from ambsim_gui.report.data import Debrief, gather
from ambsim_gui.report.document import Table, walk
from ambsim_gui.report.layout import debrief_document, headline_rows
from ambsim_gui.scenario.loader import LoadedScenario, load_scenario
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.world import World


@lru_cache(maxsize=1)
def _default() -> tuple[LoadedScenario, World]:
    loaded = load_scenario(DEFAULT_SCENARIO)
    return loaded, build_from(loaded)


@pytest.fixture(scope="module")
def idle_session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trainee takes the dispatcher's seat for 90 minutes and sends nothing."""
    loaded, world = _default()
    path = tmp_path_factory.mktemp("idle") / "idle.ambsession"
    engine = Engine(
        world, policy="expert", trainee_policy=None, duration_s=90 * 60.0, role="dispatcher"
    )
    recorder = SessionRecorder.start(path, loaded, engine)
    engine.run_until(engine.end_s)
    recorder.close()
    return path


@pytest.fixture(scope="module")
def idle(idle_session: Path) -> Debrief:
    with SessionFile.open(idle_session) as session:
        return gather(session, expert=True)


def test_each_standard_names_the_incidents_still_waiting_and_the_longest_wait(
    idle: Debrief, idle_session: Path
) -> None:
    m = idle.metrics
    waiting = {c: b for c, b in m.categories.items() if b.waiting}
    assert waiting, "nobody dispatches in the trainee's sector: incidents are left waiting"
    with SessionFile.open(idle_session) as session:
        events = session.events()
    end = m.t
    opened = {e.incident_id: e for e in events if isinstance(e, ev.IncidentOpened)}
    called = {e.call_id: e.t for e in events if isinstance(e, ev.CallArrived)}
    reached = {e.incident_id for e in events if isinstance(e, ev.VehicleAssigned)}
    closed = {e.incident_id for e in events if isinstance(e, ev.IncidentClosed)}
    rows = {r[0].split(" ")[0]: r for r in headline_rows(idle) if " response (" in r[0]}
    for c, block in waiting.items():
        # an ARP clock starts no later than the incident opens (its category is set first)
        # and no earlier than the call rang, so the longest wait so far lies between the two
        never_sent = [
            i for i, o in opened.items() if o.category == c and i not in reached and i not in closed
        ]
        if never_sent:
            low = max(end - opened[i].t for i in never_sent)
            assert block.longest_wait_s is not None and block.longest_wait_s >= low - 1e-6
        high = max(end - called[o.call_id] for o in opened.values() if o.category == c)
        assert block.longest_wait_s is not None and block.longest_wait_s <= high + 1e-6
        figure, _value, standard, verdict = rows[c]
        assert f"{block.waiting} still waiting, longest " in standard
        # a lower bound can show a miss, never a pass
        assert verdict != "met" and verdict in ("MISSED", f"open ({block.waiting} waiting)")
        assert f"incl. {block.waiting} still waiting" in figure


def test_the_expert_comparison_rewards_no_idle_shift(idle: Debrief) -> None:
    c = idle.comparison
    assert c is not None
    assert c.trainee == idle.metrics, "the comparison's figures are the headline's"
    assert c.trainee.still_waiting > c.expert.still_waiting
    by_label = {row.label: row for row in c.headline}
    for row in c.headline:
        if row.unit == "s" and row.trainee_waiting:
            assert row.better() != "trainee", row
    # sending nothing is cheap: no verdict, and the reason printed under the table
    assert by_label["Cost"].trainee < by_label["Cost"].expert  # type: ignore[operator]
    assert by_label["Cost"].better() is None and by_label["Cost"].withheld
    table = next(
        b
        for b in walk(debrief_document(idle).blocks)
        if isinstance(b, Table) and b.columns[-1].title == "Better"
    )
    verdicts = {row[0]: row[3] for row in table.rows}
    assert verdicts["Cost"] == "no verdict"
    assert "you" not in {v for k, v in verdicts.items() if "response" in k or "centile" in k}


@pytest.mark.parametrize(
    ("trainee", "t_wait", "expert", "e_wait", "better"),
    [
        (600.0, 0, 700.0, 0, "trainee"),  # both exact: the lower wins
        (600.0, 2, 700.0, 0, None),  # a lower bound under the other's value: not decided
        (800.0, 2, 700.0, 0, "expert"),  # a lower bound already worse: certainly worse
        (600.0, 0, 700.0, 1, "trainee"),  # the expert's bound already worse than an exact
        (800.0, 0, 700.0, 1, None),
        (800.0, 2, 700.0, 1, None),  # two bounds decide nothing
    ],
)
def test_a_lower_bound_decides_only_when_already_worse(
    trainee: float, t_wait: int, expert: float, e_wait: int, better: str | None
) -> None:
    row = HeadlineRow("C2 mean response", trainee, expert, "s", True, t_wait, e_wait)
    assert row.better() == better
    assert row.undecided == (better is None)


def test_a_withheld_row_has_no_verdict() -> None:
    row = HeadlineRow("Cost", 100.0, 200.0, "gbp", withheld="you left 3 incidents waiting")
    assert row.better() is None and row.undecided


def test_callers_never_answered_are_counted_beside_the_calls(
    idle: Debrief, idle_session: Path
) -> None:
    with SessionFile.open(idle_session) as session:
        events = session.events()
    rang = sum(1 for e in events if isinstance(e, ev.CallArrived))
    answered = {e.call_id for e in events if isinstance(e, ev.CallAnswered)}
    gave_up = {e.call_id for e in events if isinstance(e, ev.CallAbandoned)} - answered
    ringing = rang - len(answered) - len(gave_up)
    calls = next(r for r in headline_rows(idle) if r[0] == "Calls")
    assert calls[1].startswith(f"{rang} (answered {len(answered)}, abandoned {len(gave_up)}")
    assert (f"{ringing} still ringing, never answered" in calls[1]) == (ringing > 0)
