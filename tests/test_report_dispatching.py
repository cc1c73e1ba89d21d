"""The trainee's dispatching is judged like their call handling: each vehicle sent beside the
nearest suitable one free at that moment, its fate, duplicates, and the incidents in their
sector left waiting (docs/domain.md, "The trainee's dispatching")."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from ambsim_gui.headless import build_from
from ambsim_gui.paths import DEFAULT_SCENARIO
from ambsim_gui.record.dispatch_review import DispatchReview, review_dispatching
from ambsim_gui.record.player import record_played_shift
from ambsim_gui.record.reader import SessionFile
from ambsim_gui.record.session import SessionRecorder
from ambsim_gui.report.data import gather
from ambsim_gui.report.document import Heading, Paragraph, Table, walk
from ambsim_gui.report.layout import debrief_document
from ambsim_gui.scenario.loader import LoadedScenario, load_scenario
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.world import World


@lru_cache(maxsize=1)
def _default() -> tuple[LoadedScenario, World]:
    loaded = load_scenario(DEFAULT_SCENARIO)
    return loaded, build_from(loaded)


@pytest.fixture(scope="module")
def far_dispatches(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, list[tuple[str, str, float, str, float]]]:
    """A dispatcher who sends the farthest free vehicle to the first three incidents of their
    sector, then nothing: (incident, vehicle sent, its ETA, the nearest, its ETA) for each."""
    loaded, world = _default()
    path = tmp_path_factory.mktemp("far") / "far.ambsession"
    engine = Engine(
        world, policy="expert", trainee_policy=None, duration_s=90 * 60.0, role="dispatcher"
    )
    recorder = SessionRecorder.start(path, loaded, engine)
    sent: list[tuple[str, str, float, str, float]] = []
    t = 0.0
    while t < engine.end_s:
        t = min(t + 30.0, engine.end_s)
        engine.run_until(t)
        room = engine.room
        for inc in room.dispatch_queue():
            if len(sent) == 3 or room.dispatcher_for(inc) != "trainee" or inc.vehicles:
                continue
            pool = [v for v in room.free_vehicles() if inc.needs != "DCA" or v.type == "DCA"]
            if len(pool) < 2:
                continue
            etas = engine.vehicle_etas(inc, pool, onlooker=True)
            far, near = int(np.argmax(etas)), int(np.argmin(etas))
            assert engine.submit(
                cmd.DispatchVehicle(seat="trainee", vehicle_id=pool[far].id, incident_id=inc.id)
            )
            sent.append(
                (
                    inc.id,
                    pool[far].callsign,
                    float(etas[far]),
                    pool[near].callsign,
                    float(etas[near]),
                )
            )
    recorder.close()
    assert len(sent) == 3
    return path, sent


def test_each_dispatch_stands_beside_the_nearest_suitable_vehicle(
    far_dispatches: tuple[Path, list[tuple[str, str, float, str, float]]],
) -> None:
    path, sent = far_dispatches
    with SessionFile.open(path) as session:
        review = review_dispatching(session)
    assert review.role == "dispatcher" and review.dispatches
    assert [(x.incident_id, x.callsign) for x in review.lines] == [(s[0], s[1]) for s in sent]
    for line, (_, _, eta, nearest, nearest_eta) in zip(review.lines, sent, strict=True):
        assert line.eta_s == pytest.approx(eta, abs=1.0)
        assert line.nearest_callsign == nearest
        assert line.nearest_eta_s == pytest.approx(nearest_eta, abs=1.0)
        assert line.late_s == pytest.approx(eta - nearest_eta, abs=1.0)
        assert line.nearest == (eta - nearest_eta <= 60.0)
    assert review.not_nearest == sum(1 for s in sent if s[2] - s[4] > 60.0)


def test_the_incidents_left_in_the_sector_are_listed_with_their_waits(
    far_dispatches: tuple[Path, list[tuple[str, str, float, str, float]]],
) -> None:
    path, sent = far_dispatches
    with SessionFile.open(path) as session:
        review = review_dispatching(session)
        events = session.events()
    end = events[-1].t
    opened = {e.incident_id: e for e in events if isinstance(e, ev.IncidentOpened)}
    assigned = {e.incident_id for e in events if isinstance(e, ev.VehicleAssigned)}
    closed = {e.incident_id for e in events if isinstance(e, ev.IncidentClosed)}
    hub = {e.incident_id for e in events if isinstance(e, ev.HubQueued)}
    assert review.waiting, "after three dispatches the trainee sends nothing"
    for w in review.waiting:
        o = opened[w.incident_id]
        assert o.area in review.sector and w.area == o.area
        assert w.incident_id not in assigned and w.incident_id not in closed
        assert w.waited_s == pytest.approx(end - o.t)
    # every incident of the sector that never had a vehicle, was never closed and never went
    # to the clinical hub is waiting for one
    never = {
        i for i, o in opened.items() if o.area in review.sector and i not in assigned | closed | hub
    }
    assert never <= {w.incident_id for w in review.waiting}
    # most urgent first, then longest waiting
    ranks = [(w.category, -w.waited_s) for w in review.waiting]
    assert ranks == sorted(ranks)


@pytest.fixture(scope="module")
def chaser_dispatcher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    loaded, world = _default()
    path = tmp_path_factory.mktemp("chaser") / "chaser.ambsession"
    record_played_shift(path, loaded, world, player="target_chaser", role="dispatcher", hours=1.0)
    return path


def test_a_dispatcher_sessions_report_judges_the_dispatches(chaser_dispatcher: Path) -> None:
    with SessionFile.open(chaser_dispatcher) as session:
        d = gather(session, expert=False)
        events = session.events()
    review = d.dispatching
    assert isinstance(review, DispatchReview)
    mine = [e for e in events if isinstance(e, ev.VehicleAssigned) and e.seat == "trainee"]
    assert len(review.lines) == len(mine) > 0
    # the target chaser sends a second vehicle to jobs one crew can do: duplicates, counted by
    # the metrics' own rule (a surplus arrival, or on its way when another crew closed the job)
    surplus = {
        (e.vehicle_id, e.incident_id)
        for e in events
        if (isinstance(e, ev.VehicleArrived) and e.role == "surplus")
        or (isinstance(e, ev.VehicleStoodDown) and e.reason == "incident_closed")
    }
    assert review.duplicates == sum(1 for e in mine if (e.vehicle_id, e.incident_id) in surplus)
    assert review.duplicates > 0
    doc = debrief_document(d)
    blocks = walk(doc.blocks)
    assert Heading(f"Your dispatching ({len(mine)} vehicles sent)") in blocks
    text = " ".join(b.text for b in blocks if isinstance(b, Paragraph))
    assert f"{review.duplicates} duplicates" in text
    objectives = next(
        b for b in blocks if isinstance(b, Table) and b.columns[0].title == "Objective"
    )
    rows = {r[0]: r for r in objectives.rows}
    assert "Calls decided as the ideal decision" not in rows  # a dispatcher takes no calls
    dup = rows["Duplicate vehicles sent"]
    assert dup[1] == str(review.duplicates) and getattr(dup[3], "text", "") == "not achieved"
    every = next(
        b for b in blocks if isinstance(b, Table) and b.columns[-1].title == "What became of it"
    )
    assert len(every.rows) == len(mine)
