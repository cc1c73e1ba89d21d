"""Every interrupt an engine process can receive is handled: breakdowns and new orders at any
point of a vehicle's day run the shift to its end, and a repaired vehicle comes back."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import pytest

from ambsim_gui.headless import build_from
from ambsim_gui.paths import DEFAULT_SCENARIO
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.state import WITH_PATIENT_STATUSES, Vehicle
from ambsim_gui.sim.world import World

BACK_STATUSES = ("available", "returning")


@lru_cache(maxsize=1)
def default_world() -> World:
    return build_from(load_scenario(DEFAULT_SCENARIO))


def engine(world: World | None = None) -> Engine:
    return Engine(world or default_world(), policy="expert", trainee_policy="expert")


def breakdown(e: Engine, v: Vehicle, minutes: float | None) -> bool:
    spec: dict[str, object] = {"type": "vehicle_breakdown", "vehicle": v.callsign}
    if minutes is not None:
        spec["duration_min"] = minutes
    return e.submit(cmd.Inject(seat="instructor", spec=spec))


def statuses(e: Engine, v: Vehicle, after: float = -1.0) -> list[tuple[float, str]]:
    return [
        (x.t, x.status)
        for x in e.events
        if isinstance(x, ev.VehicleStatus) and x.vehicle_id == v.id and x.t > after
    ]


def summaries(e: Engine) -> list[str]:
    return [x.summary for x in e.events if isinstance(x, ev.InjectApplied)]


def first_vehicle(e: Engine, wanted: Callable[[Vehicle], bool], step: float = 20.0) -> Vehicle:
    """Run on until some vehicle is as ``wanted`` (lowest id first); fail if none by the end."""
    while e.now < e.end_s - 3600:
        for v in sorted(e.vehicles.values(), key=lambda v: v.id):
            if wanted(v):
                return v
        e.run_until(e.now + step)
    pytest.fail("no vehicle got into the wanted state")


def assert_back_in_service(e: Engine, v: Vehicle, off_at: float, back_at: float) -> None:
    """Off the road (off duty) from ``off_at``; at ``back_at`` on duty again, driving home or
    standing at its station; the shift ran to its end."""
    assert e.finished
    seen = statuses(e, v, after=off_at - 1e-9)
    assert seen[0] == (off_at, "off_duty")
    between = [s for t, s in seen if off_at < t < back_at - 1e-6]
    assert between == [], f"{v.callsign} moved while broken down: {between}"
    later = [(t, s) for t, s in seen if t >= back_at - 1e-6]
    assert later, f"{v.callsign} never came back after its repair"
    assert later[0][0] == pytest.approx(back_at, abs=1e-6)
    assert later[0][1] in BACK_STATUSES
    assert not v.broken


# --- a breakdown while free or on the way: the vehicle stops at once -------------------------


@pytest.mark.parametrize("status", ["available", "mobilising", "to_scene", "returning"])
def test_breakdown_on_the_way_or_free_stops_now_and_the_vehicle_comes_back(status: str) -> None:
    e = engine()
    v = first_vehicle(e, lambda v: v.status == status and v.on_duty)
    job = v.incident_id
    t0 = e.now
    assert breakdown(e, v, 20)
    assert v.broken and v.status == "off_duty" and v.incident_id is None and v.id not in e.free
    assert summaries(e)[-1] == f"{v.callsign} broke down for 20 min"
    e.run()
    assert_back_in_service(e, v, t0, t0 + 20 * 60)
    if job is not None:
        stood = [x for x in e.events if isinstance(x, ev.VehicleStoodDown) and x.t == t0]
        assert [(x.vehicle_id, x.incident_id, x.reason) for x in stood] == [
            (v.id, job, "breakdown")
        ]
        # the job went back on the queue, and someone else was sent
        assert (
            any(
                isinstance(x, ev.VehicleAssigned) and x.incident_id == job and x.t >= t0
                for x in e.events
            )
            or e.incidents[job].status == "closed"
        )


# --- a breakdown with a patient: the crew finishes the job first -----------------------------


@pytest.mark.parametrize("status", WITH_PATIENT_STATUSES)
def test_breakdown_with_a_patient_waits_for_the_crew_to_clear(status: str) -> None:
    e = engine()
    v = first_vehicle(e, lambda v: v.status == status and v.type == "DCA", step=10.0)
    t0 = e.now
    assert breakdown(e, v, 15)
    assert not v.broken and v.status == status  # the crew carries on with the patient
    assert summaries(e)[-1] == (
        f"{v.callsign} broke down for 15 min, once its crew is done with the patient"
    )
    assert not e.submit(cmd.DispatchVehicle(seat="D1", vehicle_id=v.id, incident_id="I00001"))
    e.run()
    seen = statuses(e, v, after=t0)
    off = next(t for t, s in seen if s == "off_duty")
    assert all(s in WITH_PATIENT_STATUSES for t, s in seen if t < off), seen
    if status in ("to_hospital", "at_hospital"):
        handed = [x for x in e.events if isinstance(x, ev.HandoverCompleted) and x.t > t0]
        assert any(x.vehicle_id == v.id and x.t <= off for x in handed)
    assert_back_in_service(e, v, off, off + 15 * 60)


def test_two_breakdowns_with_a_patient_keep_the_longer_time() -> None:
    e = engine()
    v = first_vehicle(e, lambda v: v.status == "at_hospital" and v.type == "DCA", step=10.0)
    t0 = e.now
    assert breakdown(e, v, 25)
    assert breakdown(e, v, 10)
    e.run()
    off = next(t for t, s in statuses(e, v, after=t0) if s == "off_duty")
    assert_back_in_service(e, v, off, off + 25 * 60)


# --- a second breakdown while repairing: the later end stands --------------------------------

# The late crew at Kingsbere (KGB-N01) on duty 18:30-19:30 of the 18:00-22:00 shift, and three
# more like it (KGB-N04 breaks down live): at their station and off duty before 18:30, so each
# breaks down at a known place.
_LATE_CREWS = (
    ("count: 1\n        callsign_prefix: KGB-N", "count: 4\n        callsign_prefix: KGB-N"),
    ('shift: {start: "20:00", end: "08:00"}', 'shift: {start: "18:30", end: "19:30"}'),
)
_INJECTS = """
injects:
  # all three at their station, off duty until 18:30
  # KGB-N01: 18:10 for 30 min (back 18:40), again at 18:20 for 30 min: back 18:50
  - {type: vehicle_breakdown, at_min: 10, vehicle: KGB-N01, duration_min: 30}
  - {type: vehicle_breakdown, at_min: 20, vehicle: KGB-N01, duration_min: 30}
  # KGB-N02: 18:10 for 50 min (back 19:00), again at 18:20 for 5 min: still back at 19:00
  - {type: vehicle_breakdown, at_min: 10, vehicle: KGB-N02, duration_min: 50}
  - {type: vehicle_breakdown, at_min: 20, vehicle: KGB-N02, duration_min: 5}
  # KGB-N03: 18:10 for 30 min, again at 18:20 for the rest of the shift: never back
  - {type: vehicle_breakdown, at_min: 10, vehicle: KGB-N03, duration_min: 30}
  - {type: vehicle_breakdown, at_min: 20, vehicle: KGB-N03}
"""


@pytest.fixture(scope="module")
def double_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The default scenario as a scenario file with scheduled double breakdowns."""
    text = Path(DEFAULT_SCENARIO).read_text(encoding="utf-8")
    assert "\ninjects:" not in text
    for old, new in _LATE_CREWS:
        assert text.count(old) == 1
        text = text.replace(old, new)
    text += _INJECTS
    path = tmp_path_factory.mktemp("double") / "double_breakdown.yaml"
    path.write_text(text, encoding="utf-8")
    return build_from(load_scenario(path))


def test_scheduled_double_breakdowns_run_to_the_end_and_the_later_repair_stands(
    double_world: World,
) -> None:
    e = engine(double_world)
    e.run()  # a second breakdown while repairing raised Interrupt out of run_until
    assert e.finished
    late = {v.callsign: v for v in e.vehicles.values() if v.callsign.startswith("KGB-N")}
    assert sorted(late) == ["KGB-N01", "KGB-N02", "KGB-N03", "KGB-N04"]
    assert [s for s in summaries(e) if s.startswith("KGB-N")] == [
        "KGB-N01 broke down for 30 min",
        "KGB-N02 broke down for 50 min",
        "KGB-N03 broke down for 30 min",
        "KGB-N01 broke down again: back on the road in 30 min",
        "KGB-N02 broke down again: back on the road in 40 min",
        "KGB-N03 broke down again: off the road for the rest of the shift",
    ]
    # broken when their shift began at 18:30: each comes on duty when repaired, at its
    # station, and goes off duty at (or, on a job then, after) the shift's end at 19:30
    for callsign, back_at in (("KGB-N01", 3000.0), ("KGB-N02", 3600.0)):
        v = late[callsign]
        seen = statuses(e, v, after=0.0)
        assert seen[0] == (600.0, "off_duty")
        assert seen[1] == (pytest.approx(back_at), "available")
        assert seen[-1][1] == "off_duty" and seen[-1][0] >= 5400.0
        assert not v.on_duty and not v.broken
    n3 = late["KGB-N03"]
    assert statuses(e, n3, after=0.0) == [(600.0, "off_duty")]
    assert n3.broken and not n3.on_duty


def test_new_orders_and_end_of_duty_while_repairing() -> None:
    e = engine()
    v = first_vehicle(e, lambda v: v.status == "available" and v.on_duty)
    t0 = e.now
    assert breakdown(e, v, 30)
    e.run_until(t0 + 60)
    inc = next(iter(e.incidents), "I00001")
    assert not e.submit(cmd.DispatchVehicle(seat="D1", vehicle_id=v.id, incident_id=inc))
    assert not e.submit(cmd.StandDown(seat="D1", vehicle_id=v.id))
    assert breakdown(e, v, 10)  # again, ending sooner: the first end stands
    reasons = [x.reason for x in e.events if isinstance(x, ev.CommandRejected) and x.t > t0]
    assert any("off duty" in r for r in reasons)
    e.run()
    assert_back_in_service(e, v, t0, t0 + 30 * 60)


def test_a_shift_ending_during_the_repair_leaves_the_vehicle_off_duty(double_world: World) -> None:
    e = engine(double_world)
    e.run_until(80 * 60)  # 19:20, ten minutes before the late crews' shift ends
    v = next(v for v in e.vehicles.values() if v.callsign == "KGB-N04")
    assert breakdown(e, v, 30)
    e.run()
    assert e.finished and not v.broken and not v.on_duty
    seen = statuses(e, v, after=80 * 60 - 1e-9)
    off = next(t for t, s in seen if s == "off_duty")
    assert [s for t, s in seen if t > off] == []  # repaired after its shift: stays off


def test_crews_sent_off_duty_in_the_middle_of_jobs_finish_them_and_the_shift_ends() -> None:
    e = engine()
    e.run_until(90 * 60)
    busy = {v.id for v in e.vehicles.values() if v.on_duty and v.status != "available"}
    for station in sorted({v.station for v in e.vehicles.values()}):
        for vtype in ("DCA", "RRV"):
            spec = {"type": "crews", "station": station, "vehicle_type": vtype, "count": 100,
                    "on_duty": False}  # fmt: skip
            assert e.submit(cmd.Inject(seat="instructor", spec=spec))
    e.run()
    assert e.finished
    assert busy
    retired = [v for v in e.vehicles.values() if v.retired]
    assert {v.id for v in retired} >= busy
    for v in retired:
        # each finished its job and went off duty; an RRV waits on scene for an ambulance
        # that, with every crew gone, never comes
        assert not v.on_duty and v.id not in e.free
        assert v.status == "off_duty" or (v.type == "RRV" and v.status == "on_scene")


def test_breakdowns_everywhere_at_once_run_the_shift_to_its_end() -> None:
    """Every vehicle breaks down twice, whatever it is doing, several times in the shift."""
    e = engine()
    for k, minutes in enumerate((40, 95, 150)):
        e.run_until(minutes * 60 + 7)
        for v in sorted(e.vehicles.values(), key=lambda v: v.id):
            assert breakdown(e, v, 5 + (k * 7 + len(v.id)) % 20)
            assert breakdown(e, v, None if k == 2 and v.type == "RRV" else 3)
    e.run()
    assert e.finished
    assert sum(v.broken for v in e.vehicles.values()) > 0
    for v in e.vehicles.values():
        assert not v.broken or v.back_at >= e.end_s  # still broken: its repair ends later
