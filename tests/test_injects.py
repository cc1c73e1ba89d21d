"""Injects: scheduled in a scenario or fired live, each changes the shift as it says."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ambsim_gui.headless import build_from
from ambsim_gui.paths import DEFAULT_SCENARIO
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.scenario.model import Scenario
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.world import World, build_world


@lru_cache(maxsize=1)
def world() -> World:
    return build_from(load_scenario(DEFAULT_SCENARIO))


def engine(**kw: object) -> Engine:
    return Engine(world(), policy="expert", trainee_policy="expert", **kw)  # type: ignore[arg-type]


def inject(e: Engine, **spec: object) -> bool:
    return e.submit(cmd.Inject(seat="instructor", spec=dict(spec)))


def applied(e: Engine) -> list[ev.InjectApplied]:
    return [x for x in e.events if isinstance(x, ev.InjectApplied)]


def test_road_closure_is_avoided_and_reopens() -> None:
    e = engine()
    e.run_until(600)
    closed = set(e.world.network.edges_named("Wessex Way").tolist())
    assert closed
    assert inject(e, type="road_closure", roads=["Wessex Way"], duration_min=60)
    assert set(e.router.closed_edges.tolist()) == closed
    e.run_until(3000)
    after = [m for m in e.events if isinstance(m, ev.VehicleMoving) and 600 < m.t < 3000]
    assert after
    for v in e.vehicles.values():
        if v.route is not None and v.depart_t > 600:
            assert not closed & set(np.asarray(v.route.edges).tolist())
    e.run_until(600 + 3601)
    assert any(isinstance(x, ev.RoadReopened) for x in e.events)
    assert e.router is e.base_router  # the shift's own, as before the closure


def test_diverted_hospital_receives_no_conveyance() -> None:
    e = engine()
    busiest = "Casterbridge County Hospital"
    assert inject(e, type="hospital_diversion", hospital=busiest)
    e.run_until(3 * 3600)
    outcomes = [x for x in e.events if isinstance(x, ev.PatientOutcome) and x.hospital]
    assert outcomes and busiest not in {x.hospital for x in outcomes}


def test_breakdown_puts_the_job_back_on_the_queue() -> None:
    e = Engine(world(), policy="expert", trainee_policy=None)
    e.run_until(60)
    v = next(iter(e.free.values()))
    assert inject(e, type="vehicle_breakdown", vehicle=v.callsign, duration_min=30)
    assert v.status == "off_duty" and v.id not in e.free
    e.run_until(60 + 31 * 60)
    assert v.status in ("available", "returning") or v.incident_id is not None


def test_surge_adds_demand_and_burst_adds_scripted_patients() -> None:
    quiet, busy = engine(), engine()
    assert inject(busy, type="surge", factor=3, duration_min=60)
    assert inject(busy, type="call_burst", card="rtc", count=4, over_min=4, area="Casterbridge")
    quiet.run_until(3600)
    busy.run_until(3600)

    def patients(e: Engine) -> int:
        return sum(isinstance(x, ev.PatientCreated) for x in e.events)

    # three times the demand for the hour, plus four collision casualties
    assert patients(busy) >= patients(quiet) * 2 + 4
    rtc = [x for x in busy.events if isinstance(x, ev.PatientCreated) and x.scripted]
    assert len(rtc) == 4 and {x.card for x in rtc} == {"rtc"}


def test_crews_come_on_and_go_off() -> None:
    e = engine()
    n = len(e.vehicles)
    assert inject(e, type="crews", station="Ivell", vehicle_type="DCA", count=2)
    assert len(e.vehicles) == n + 2
    e.run_until(10)
    new = list(e.vehicles.values())[-2:]
    assert all(v.on_duty for v in new)
    assert inject(e, type="crews", station="Ivell", vehicle_type="DCA", count=10, on_duty=False)
    assert all(
        not v.on_duty for v in e.vehicles.values() if v.station == "Ivell" and v.type == "DCA"
    )


def test_bad_live_inject_is_refused_with_a_reason() -> None:
    e = engine()
    assert not inject(e, type="road_closure", roads=["No Such Road"])
    assert not inject(e, type="hospital_diversion", hospital="Nowhere General")
    assert not inject(e, type="volcano")
    reasons = [x.reason for x in e.events if isinstance(x, ev.CommandRejected)]
    assert any("No Such Road" in r for r in reasons)
    assert any("Nowhere General" in r for r in reasons)
    assert any("volcano" in r for r in reasons)


def test_scheduled_injects_apply_at_their_time_and_replay_identically() -> None:
    loaded = load_scenario(DEFAULT_SCENARIO)
    data = loaded.scenario.model_dump()
    data["injects"] = [
        {"type": "hospital_diversion", "at": "18:30", "hospital": "Anglebury Hospital"},
        {"type": "surge", "at_min": 45, "factor": 2, "duration_min": 30},
    ]
    scenario = Scenario.model_validate(data)
    w = build_world(scenario, loaded.map_path)
    runs = []
    for _ in range(2):
        e = Engine(w, policy="expert", trainee_policy="expert")
        e.run_until(2 * 3600)
        runs.append(e)
    times = [(x.inject, x.t) for x in applied(runs[0])]
    assert times == [("hospital_diversion", 1800.0), ("surge", 2700.0)]
    assert ev.event_log_sha256(runs[0].events) == ev.event_log_sha256(runs[1].events)


def test_a_scene_on_a_closed_road_is_still_reached_and_left() -> None:
    e = engine()
    network = e.world.network
    edge = int(network.edges_named("Wessex Way")[0])
    x, y = (float(c) for c in network.xy[int(network.edge_u[edge])])
    assert inject(e, type="road_closure", roads=["Wessex Way"])
    assert inject(e, type="call_burst", card="rtc", count=2, xy=[x, y], callers=1)
    e.run_until(4 * 3600)  # would raise NoRoute if a crew on the closed road were stranded
    scripted = {p.patient_id for p in e.events if isinstance(p, ev.PatientCreated) and p.scripted}
    reached = [
        a
        for a in e.events
        if isinstance(a, ev.VehicleArrived)
        and e.incidents[a.incident_id].truth_patient.id in scripted
    ]
    assert reached
