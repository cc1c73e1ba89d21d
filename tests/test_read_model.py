"""The one read model: the desk's projection is a pure fold of the event stream.

Fed live, or folded afterwards from the recorded events, it is the same state; it never holds
the patient truth; and it agrees with the engine's own working state on everything the desk
shows, so the desk reading only it shows what it showed when it read the engine.
"""

from __future__ import annotations

import dataclasses
import pickle
import re
from functools import lru_cache
from pathlib import Path

from ambsim_gui.headless import build_from
from ambsim_gui.paths import DEFAULT_SCENARIO
from ambsim_gui.readmodel.ports import EnginePorts
from ambsim_gui.readmodel.room import RoomProjection
from ambsim_gui.readmodel.truth import TRUTH_EVENTS, TruthProjection
from ambsim_gui.record.reader import SessionFile
from ambsim_gui.record.replay_state import ReplayState
from ambsim_gui.record.session import SessionRecorder
from ambsim_gui.scenario.loader import LoadedScenario, load_scenario
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.world import World

TRAINEE = "trainee"
ROOT = Path(__file__).resolve().parent.parent
UI = ROOT / "ambsim_gui" / "ui"


@lru_cache(maxsize=1)
def _loaded() -> tuple[LoadedScenario, World]:
    loaded = load_scenario(DEFAULT_SCENARIO)
    return loaded, build_from(loaded)


def _engine(seed: int = 1) -> Engine:
    _, world = _loaded()
    return Engine(world, seed=seed, policy="expert", trainee_policy="expert")


def _ask_like_a_desk(ports: EnginePorts, room: RoomProjection) -> None:
    """What the dispatch panel asks on a refresh: candidate ETAs for the queue's incidents."""
    now = ports.now
    free = [v.id for v in room.free_vehicles(now)]
    for inc in room.dispatch_queue()[:3]:
        ports.etas(inc.id, free)


def test_the_live_projection_equals_the_one_folded_from_the_recording(tmp_path: Path) -> None:
    loaded, _ = _loaded()
    engine = _engine()
    path = tmp_path / "shift.ambsession"
    recorder = SessionRecorder.start(path, loaded, engine, feedback="own")
    live = RoomProjection()
    ports = EnginePorts(engine)
    ports.subscribe(live.apply)
    t = 0.0
    while t < 3600.0:
        t += 60.0
        engine.run_until(t)
        recorder.tick()
        _ask_like_a_desk(ports, live)
    recorder.close()
    assert live.incidents and live.calls and live.vehicles

    with SessionFile.open(path) as session:
        recorded = session.events()
    assert [ev.canonical_json(e) for e in recorded] == [
        ev.canonical_json(e) for e in engine.events
    ]
    rebuilt = RoomProjection()
    rebuilt.apply_all(recorded)
    assert rebuilt == live  # the whole state, field by field
    assert repr(rebuilt) == repr(live)
    # and the replay window's state is the same room with the truth beside it
    replay = ReplayState()
    replay.apply_all(recorded)
    room_fields = [f.name for f in dataclasses.fields(RoomProjection)]
    assert all(getattr(replay, name) == getattr(live, name) for name in room_fields)
    assert replay.truth.patients


def test_the_trainees_projection_holds_no_truth() -> None:
    engine = _engine(seed=2)
    engine.run_until(2 * 3600.0)
    events = engine.events
    assert any(e.HIDDEN for e in events)

    room = RoomProjection()
    room.apply_all(events)
    # by construction: no field of the room's model can hold it
    room_fields = {f.name for f in dataclasses.fields(RoomProjection)}
    truth_fields = {f.name for f in dataclasses.fields(TruthProjection)}
    assert not room_fields & truth_fields
    assert not any("truth" in name or "patient" in name for name in room_fields)
    assert not hasattr(room, "truth")
    # by content: no patient id, true category or need anywhere in it
    blob = pickle.dumps(room)
    patients = [e for e in events if isinstance(e, ev.PatientCreated)]
    assert patients
    for p in patients:
        assert p.patient_id.encode() not in blob
    assert b"PatientCreated" not in blob and b"CallTruth" not in blob
    assert b"HarmOccurred" not in blob and b"UnsafeAdvice" not in blob
    # the truth events change nothing but the count and the clock
    bare = RoomProjection()
    bare.apply_all(e for e in events if not isinstance(e, TRUTH_EVENTS))
    bare.events_applied = room.events_applied
    bare.t = room.t
    assert bare == room


def test_the_projection_agrees_with_the_engine_on_what_the_desk_shows() -> None:
    engine = _engine(seed=3)
    room = RoomProjection()
    engine.subscribe(room.apply)
    ports = EnginePorts(engine)
    checked = 0
    t = 0.0
    while t < 3 * 3600.0:
        t += 30.0
        engine.run_until(t)
        now = engine.now
        assert room.ringing == engine.ringing
        for seat in engine.seats.values():
            view = room.seats.get(seat.id)
            assert (view.call_id if view else None) == seat.call_id, (now, seat.id)
            assert (view.wrapping_up if view else False) == seat.wrapping_up, (now, seat.id)
        for call_id in engine.ringing:
            assert room.calls[call_id].opening == engine.calls[call_id].opening
        for seat in engine.seats.values():
            if seat.call_id is None:
                continue
            call, view = engine.calls[seat.call_id], room.calls[seat.call_id]
            assert view.status == call.status
            assert view.answers == call.answers
            assert view.pending_question == call.pending_question
            assert view.category == call.category
            a = call.assessment
            assert view.recommended == (a.category if a is not None else None)
            if a is not None:
                assert (view.validation, view.advice, view.complete) == (
                    a.validation,
                    a.advice,
                    a.complete,
                )
        assert [i.id for i in room.open_incidents()] == [i.id for i in engine.open_incidents()]
        for inc in engine.open_incidents():
            view = room.incidents[inc.id]
            assert view.category == inc.category, (now, inc.id)
            assert view.vehicles == inc.vehicles, (now, inc.id)
            assert view.on_hub == inc.on_hub, (now, inc.id)
            assert view.queued == inc.queued, (now, inc.id)
            assert view.needs == inc.needs, (now, inc.id)
        assert [i.id for i in room.dispatch_queue()] == [i.id for i in engine.dispatch_queue()]
        assert [i.id for i, _ in room.hub_waiting()] == [i.id for i, _ in engine.hub.waiting()]
        assert [b for _, b in room.hub_waiting()] == [b for _, b in engine.hub.waiting()]
        assert [v.id for v in room.free_vehicles(now)] == [v.id for v in engine.free_vehicles()]
        assert list(room.vehicles) == list(engine.vehicles)
        for v in engine.vehicles.values():
            view = room.vehicles[v.id]
            assert (view.status, view.incident_id) == (v.status, v.incident_id), (now, v.id)
        for name, h in engine.hospitals.items():
            view = room.hospitals.get(name)
            assert (view.crews_waiting if view else 0) == h.waiting, (now, name)
            assert (view.diverted if view else False) == h.diverted, (now, name)
        queue = engine.dispatch_queue()
        if queue:
            pool = engine.free_vehicles()[:5]
            asked = ports.etas(queue[0].id, [v.id for v in pool])
            expected = engine.vehicle_etas(queue[0], pool, onlooker=True)
            assert asked == [float(x) for x in expected]
        checked += 1
    assert checked == 360


def test_asking_through_the_ports_never_changes_the_run() -> None:
    quiet = _engine(seed=4)
    quiet.run_until(2 * 3600.0)
    watched = _engine(seed=4)
    room = RoomProjection()
    ports = EnginePorts(watched)
    ports.subscribe(room.apply)
    t = 0.0
    while t < 2 * 3600.0:
        t += 30.0
        ports.run_until(t)
        _ask_like_a_desk(ports, room)
        for v in room.vehicles.values():
            ports.position(v.id, ports.now)
    assert ev.event_log_sha256(watched.events) == ev.event_log_sha256(quiet.events)


def test_no_panel_reads_the_engine() -> None:
    """Beyond imports: no desk module reaches the engine object behind the ports (app.py builds
    it; the replay window re-simulates for "play from here")."""
    builders = {"app.py", "replay_window.py"}
    reach = re.compile(r"(ctx|self|desk|window)\.engine\b(?!\s*=)|\._engine\b|\bengine\.\w")
    found = []
    for path in sorted(UI.glob("*.py")):
        if path.name in builders:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if reach.search(code) and "``" not in code:
                found.append(f"{path.name}:{n}: {line.strip()}")
    assert not found, "\n".join(found)
