"""Random command sequences never break the engine's invariants (hypothesis).

Whatever a trainee does, legal or not: the engine never raises, every vehicle is in exactly
one known status and its job matches the incident's list of vehicles, and every call ends in
exactly one disposition or is still open at the end.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ambsim_gui.headless import build_from
from ambsim_gui.paths import DEFAULT_SCENARIO
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.world import World

STATUSES = {
    "available", "mobilising", "to_scene", "on_scene", "to_hospital", "at_hospital",
    "clearing", "returning", "off_duty",
}  # fmt: skip
DISPOSITIONS = {"abandoned", "linked", "dispatch", "hub", "advice", "referred"}


@lru_cache(maxsize=1)
def world() -> World:
    return build_from(load_scenario(DEFAULT_SCENARIO))


def _pick(items: list[str], k: int) -> str:
    return items[k % len(items)] if items else f"missing{k}"


def make_command(engine: Engine, kind: int, k: int, seat: str) -> cmd.Command:
    calls = list(engine.calls)
    incidents = list(engine.incidents)
    vehicles = list(engine.vehicles)
    questions = list(engine.world.protocol.questions)
    call = _pick(calls, k)
    choices: list[cmd.Command] = [
        cmd.AnswerCall(seat=seat, call_id=None if k % 3 == 0 else call),
        cmd.AskQuestion(seat=seat, call_id=call, question_id=_pick(questions, k)),
        cmd.SetCategory(seat=seat, call_id=call, category=("C1", "C2", "C3", "C4", "C9")[k % 5]),
        cmd.SendToDispatch(seat=seat, call_id=call),
        cmd.ReferToHub(seat=seat, call_id=call),
        cmd.GiveAdvice(seat=seat, call_id=call),
        cmd.ReferElsewhere(seat=seat, call_id=call),
        cmd.LinkCall(seat=seat, call_id=call, incident_id=_pick(incidents, k)),
        cmd.DispatchVehicle(
            seat=seat, vehicle_id=_pick(vehicles, k), incident_id=_pick(incidents, k // 2)
        ),
        cmd.DivertVehicle(
            seat=seat, vehicle_id=_pick(vehicles, k), incident_id=_pick(incidents, k // 3)
        ),
        cmd.StandDown(seat=seat, vehicle_id=_pick(vehicles, k)),
        cmd.SetHospitalDiversion(
            seat=seat, hospital=_pick(list(engine.hospitals), k), diverted=bool(k % 2)
        ),
    ]
    return choices[kind % len(choices)]


def check_invariants(engine: Engine) -> None:
    for v in engine.vehicles.values():
        assert v.status in STATUSES, v
        if v.incident_id is not None and v.status in ("mobilising", "to_scene"):
            assert v.id in engine.incidents[v.incident_id].vehicles, v
        assert (v.id in engine.free) == (v.on_duty and v.status in ("available", "returning"))
    for inc in engine.incidents.values():
        for vid in inc.vehicles:
            assert engine.vehicles[vid].incident_id in (inc.id, None) or inc.status == "closed"
    closed = Counter(e.call_id for e in engine.events if isinstance(e, ev.CallClosed))
    for call_id, call in engine.calls.items():
        assert closed[call_id] <= 1, call_id
        if closed[call_id] == 1:
            assert call.status == "closed" and call.disposition in DISPOSITIONS
        else:
            assert call.status in ("ringing", "answered"), call
    # a vehicle's statuses in the stream agree with its state now
    last: dict[str, str] = {}
    for e in engine.events:
        if isinstance(e, ev.VehicleStatus):
            last[e.vehicle_id] = e.status
    for vid, status in last.items():
        assert engine.vehicles[vid].status == status


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(
        st.tuples(
            st.integers(0, 11),
            st.integers(0, 10_000),
            st.floats(0, 600),
            st.sampled_from(["trainee", "trainee", "CH1", "D1", "ghost"]),
        ),
        min_size=5,
        max_size=60,
    ),
    autopilot=st.booleans(),
)
def test_random_commands_keep_the_invariants(
    steps: list[tuple[int, int, float, str]], autopilot: bool
) -> None:
    engine = Engine(world(), policy="expert", trainee_policy="expert" if autopilot else None)
    for kind, k, wait, seat in steps:
        engine.run_until(engine.now + wait)
        engine.submit(make_command(engine, kind, k, seat))
        check_invariants(engine)
    engine.run_until(engine.now + 1800)
    check_invariants(engine)
    internal = [
        e.reason
        for e in engine.events
        if isinstance(e, ev.CommandRejected) and "internal" in e.reason
    ]
    assert not internal, internal
