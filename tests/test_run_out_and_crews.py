"""The run-out after the shift, ARP's C1 dual response, crews' rest breaks and their protection
from a late job: the model behaves the way a control room does (docs/domain.md)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from functools import lru_cache

from ambsim_gui.headless import build_from, run_scenario
from ambsim_gui.paths import DEFAULT_SCENARIO
from ambsim_gui.scenario.loader import LoadedScenario, load_scenario
from ambsim_gui.scenario.model import CrewRules, Shift
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.engine import RUN_OUT_CAP_S, Engine


@lru_cache(maxsize=1)
def default() -> LoadedScenario:
    return load_scenario(DEFAULT_SCENARIO)


@lru_cache(maxsize=2)
def default_run(policy: str = "expert") -> tuple[list[ev.Event], float]:
    result = run_scenario(DEFAULT_SCENARIO, policy=policy, loaded=default())
    return list(result.engine.events), result.engine.end_s


def with_scenario(**changes: object) -> LoadedScenario:
    loaded = default()
    return dataclasses.replace(loaded, scenario=loaded.scenario.model_copy(update=changes))


# ------------------------------------------------------------------ the run-out


def test_the_run_out_takes_no_new_calls_and_closes_every_incident() -> None:
    events, end_s = default_run()
    assert not [e for e in events if isinstance(e, ev.CallArrived) and e.t >= end_s]
    (shift_end,) = [e for e in events if isinstance(e, ev.ShiftEnded)]
    (run_out,) = [e for e in events if isinstance(e, ev.RunOutEnded)]
    assert shift_end.t == end_s < run_out.t <= end_s + RUN_OUT_CAP_S
    assert events[-1] is run_out  # the clock stops with it: not one event after
    opened = {e.incident_id for e in events if isinstance(e, ev.IncidentOpened)}
    closed = {e.incident_id for e in events if isinstance(e, ev.IncidentClosed)}
    open_at_end = opened - {
        e.incident_id for e in events if isinstance(e, ev.IncidentClosed) and e.t <= end_s
    }
    assert open_at_end, "the default shift ends busy: the run-out has work to do"
    assert closed == opened and (run_out.open_incidents, run_out.open_calls) == (0, 0)


def test_the_next_shift_takes_over_the_fleet_at_the_end() -> None:
    events, end_s = default_run()
    first = [e for e in events if isinstance(e, ev.VehicleCreated) and e.t == 0.0]
    oncoming = [e for e in events if isinstance(e, ev.VehicleCreated) and e.t == end_s]
    # the default scenario's crews are all on shift to its end: each is relieved at its station
    assert sorted((e.station, e.type) for e in oncoming) == sorted(
        (e.station, e.type) for e in first
    )
    assert all(e.shift_start_s == end_s and e.callsign.endswith("N") for e in oncoming)
    leaving = {e.vehicle_id for e in first}
    assigned_after = {
        e.vehicle_id for e in events if isinstance(e, ev.VehicleAssigned) and e.t > end_s
    }
    assert assigned_after and not assigned_after & leaving  # only the oncoming crews take jobs


def test_a_desk_shift_ends_with_its_clock_and_a_run_out_is_deterministic() -> None:
    world = build_from(default())
    desk = Engine(world, policy="expert", trainee_policy="expert")
    desk.run()
    assert abs(desk.now - desk.end_s) < 1e-6 and isinstance(desk.events[-1], ev.ShiftEnded)
    again = run_scenario(DEFAULT_SCENARIO, policy="expert", loaded=default())
    assert [e.to_dict() for e in again.engine.events] == [e.to_dict() for e in default_run()[0]]


# ------------------------------------------------------------------ C1: the dual response


def test_every_c1_gets_a_transport_capable_vehicle() -> None:
    events, _ = default_run()
    kinds = {e.vehicle_id: e.type for e in events if isinstance(e, ev.VehicleCreated)}
    c1 = {e.incident_id for e in events if isinstance(e, ev.IncidentOpened) and e.category == "C1"}
    sent: dict[str, list[str]] = {}
    for e in events:
        if isinstance(e, ev.VehicleAssigned) and e.incident_id in c1:
            sent.setdefault(e.incident_id, []).append(kinds[e.vehicle_id])
    assert len(sent) >= 10, "the default shift has C1s enough to judge"
    with_dca = [i for i, types in sent.items() if "DCA" in types]
    assert len(with_dca) / len(sent) >= 0.9, Counter(tuple(v) for v in sent.values())


def test_a_c1s_ambulance_after_a_car_is_not_an_unnecessary_dispatch() -> None:
    """A C1's first DCA is ARP's transport-capable response: never 'surplus', even when the
    car's crew finished before it came (before: counted as a duplicate dispatch)."""
    events, _ = default_run()
    duplicates = {
        e.incident_id
        for e in events
        if isinstance(e, ev.IncidentClosed) and e.outcome == "duplicate"
    }  # a second caller's incident for a patient already in care: its crews are surplus
    c1 = {
        e.incident_id
        for e in events
        if isinstance(e, ev.IncidentOpened)
        and e.category == "C1"
        and e.incident_id not in duplicates
    }
    first_dca: dict[str, ev.VehicleArrived] = {}
    for e in events:
        if isinstance(e, ev.VehicleArrived) and e.incident_id in c1 and e.type == "DCA":
            first_dca.setdefault(e.incident_id, e)
    assert first_dca
    assert all(e.role in ("first", "backup", "transport") for e in first_dca.values())


# ------------------------------------------------------------------ crews


def test_a_long_shift_crew_gets_one_rest_break_of_its_length() -> None:
    rules = CrewRules(rest_break_min=30.0, rest_break_from_shift_h=2.0, rest_break_window_h=(1, 2))
    loaded = with_scenario(crews=rules)
    result = run_scenario(DEFAULT_SCENARIO, policy="expert", loaded=loaded, run_out=False)
    events = result.engine.events
    by_vehicle: dict[str, list[ev.VehicleStatus]] = {}
    for e in events:
        if isinstance(e, ev.VehicleStatus):
            by_vehicle.setdefault(e.vehicle_id, []).append(e)
    rests = 0
    for statuses in by_vehicle.values():
        starts = [i for i, s in enumerate(statuses) if s.status == "rest"]
        assert len(starts) <= 1  # one break a shift
        for i in starts:
            rests += 1
            assert statuses[i].t >= 3600.0  # not before the window opens
            if i + 1 < len(statuses):
                assert abs(statuses[i + 1].t - statuses[i].t - 1800.0) < 1e-6
    # a busy evening: C1 and C2 calls still take a crew whose break is due, so only some get
    # back to station for it within the shift (a third did when this was written)
    assert rests >= len(by_vehicle) // 5
    refused = [e for e in events if isinstance(e, ev.CommandRejected)]
    assert not refused  # the expert never sends a resting crew


def test_a_crew_near_its_finish_gets_only_c1_and_c2() -> None:
    loaded = default()
    station = loaded.scenario.stations[0]
    group = station.vehicles[0]
    early = group.model_copy(
        update={"shift": Shift(start=loaded.scenario.start, end=_plus_h(loaded.scenario.start, 2))}
    )
    stations = [station.model_copy(update={"vehicles": [early, *station.vehicles[1:]]}),
                *loaded.scenario.stations[1:]]  # fmt: skip
    changed = with_scenario(stations=stations)
    result = run_scenario(DEFAULT_SCENARIO, policy="expert", loaded=changed, run_out=False)
    events = result.engine.events
    early_ids = {
        e.vehicle_id for e in events if isinstance(e, ev.VehicleCreated) and e.shift_end_s == 7200.0
    }
    assert early_ids
    category: dict[str, str] = {}  # the incident's category at each moment
    late_low: list[ev.VehicleAssigned] = []
    for e in events:
        if isinstance(e, (ev.IncidentOpened, ev.IncidentCategoryChanged)):
            category[e.incident_id] = e.category
        elif (
            isinstance(e, ev.VehicleAssigned)
            and e.vehicle_id in early_ids
            and 7200.0 - 1800.0 <= e.t < 7200.0
            and category.get(e.incident_id) in ("C3", "C4")
        ):
            late_low.append(e)
    assert late_low == []
    # the door refuses it too, with the reason
    engine = Engine(build_from(changed), policy="expert", trainee_policy=None)
    engine.run_until(7200.0 - 600.0)
    low = [i for i in engine.room.open.values() if i.category in ("C3", "C4")]
    vehicle = next(v for v in engine.room.vehicles.values() if v.id in early_ids)
    if low and vehicle.on_duty:
        engine.submit(cmd.DispatchVehicle(seat="trainee", vehicle_id=vehicle.id,
                                          incident_id=low[0].id))  # fmt: skip
        reasons = [e.reason for e in engine.events if isinstance(e, ev.CommandRejected)]
        assert reasons and ("finishes in" in reasons[-1] or "not free" in reasons[-1])


def _plus_h(clock: str, hours: int) -> str:
    h, m = clock.split(":")
    return f"{(int(h) + hours) % 24:02d}:{m}"
