"""The engine's seams: the view policies read holds no hidden truth, every command has one
handler registered by the component that owns its state, and no component holds the engine."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from ambsim_gui.headless import build_from
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim.callers import Callers
from ambsim_gui.sim.control import ControlRoom
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.fleet import Fleet
from ambsim_gui.sim.hospitals import Hospitals
from ambsim_gui.sim.hub import ClinicalHub
from ambsim_gui.sim.injects import Injects
from ambsim_gui.sim.policies import POLICIES, make_policy
from ambsim_gui.sim.state import Patient
from ambsim_gui.sim.view import CallView, IncidentView, RoomView, VehicleView
from ambsim_gui.triage.cards import PatientTruth

ROOT = Path(__file__).resolve().parent.parent
TRUTH_FIELDS = {"truth", "truth_patient", "true_category", "need", "ideal", "patient", "patients"}


@pytest.fixture(scope="module")
def engine() -> Engine:
    loaded = load_scenario(ROOT / "scenarios" / "default.yaml")
    e = Engine(build_from(loaded), seed=2, policy="expert", trainee_policy="expert")
    e.run_until(2 * 3600.0)  # calls ringing and answered, incidents open and closed, crews out
    assert e.incidents and e.calls
    return e


def _public(obj: Any) -> list[tuple[str, Any]]:
    out = []
    for name in dir(obj):
        if name.startswith("_"):
            continue
        try:
            value = getattr(obj, name)
        except Exception:  # noqa: BLE001 - a property that cannot answer holds nothing
            continue
        if callable(value) and not isinstance(value, Mapping):
            continue
        out.append((name, value))
    return out


def _walk(root: Any) -> list[str]:
    """Every path from ``root`` through public attributes, mappings and sequences that ends
    at hidden truth (a Patient, a PatientTruth or a truth-named attribute)."""
    found: list[str] = []
    seen: set[int] = set()
    stack: list[tuple[str, Any]] = [("view", root)]
    scalars = (str, bytes, int, float, bool, type(None))
    while stack:
        path, obj = stack.pop()
        if isinstance(obj, scalars) or id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, (Patient, PatientTruth)):
            found.append(path)
            continue
        if isinstance(obj, (Mapping, MappingProxyType)):
            for k, v in list(obj.items()):
                stack.append((f"{path}[{k!r}]", v))
            continue
        if isinstance(obj, (list, tuple, set, frozenset)):
            for i, v in enumerate(obj):
                stack.append((f"{path}[{i}]", v))
            continue
        if type(obj).__module__.startswith(("numpy", "builtins")):
            continue
        for name, value in _public(obj):
            if name in TRUTH_FIELDS:
                found.append(f"{path}.{name}")
            stack.append((f"{path}.{name}", value))
    return found


def test_the_view_reaches_no_hidden_truth(engine: Engine) -> None:
    # the walk finds the truth where it is: in the engine's own state objects
    raw = list(engine.calls.values())[:3] + list(engine.incidents.values())[:3]
    assert any(path.endswith(".truth_patient") for path in _walk(raw))
    for view in (engine.view(), engine.policies[0].room):
        assert _walk(view) == []
        # and what the policies' queries hand out, too
        assert _walk(view.dispatch_queue()) == []
        assert _walk(view.open_incidents()) == []
        assert _walk(view.free_vehicles()) == []


def test_a_policy_cannot_read_the_truth_of_a_call_or_an_incident(engine: Engine) -> None:
    view = engine.view()
    policy = make_policy("expert", view, ["trainee"])
    call = next(iter(policy.room.calls.values()))
    incident = next(iter(policy.room.incidents.values()))
    assert isinstance(call, CallView) and isinstance(incident, IncidentView)
    for obj in (call, incident):
        for name in ("truth_patient", "truth", "true_category", "need", "node"):
            with pytest.raises(AttributeError):
                getattr(obj, name)
    # the caller's answers so far, and nothing the caller has not said
    raw = engine.calls[call.id]
    assert dict(call.answers) == raw.answers
    assert set(call.answers) <= set(call.asked)


def test_the_view_is_read_only(engine: Engine) -> None:
    view = engine.view()
    inc = next(iter(view.incidents.values()))
    vehicle = next(iter(view.vehicles.values()))
    assert isinstance(vehicle, VehicleView)
    with pytest.raises(AttributeError):
        inc.category = "C1"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        vehicle.status = "available"  # type: ignore[misc]
    with pytest.raises(TypeError):
        view.calls[inc.call_ids[0]].answers["what_happened"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        view.calls["C99999"] = None  # type: ignore[index]
    assert isinstance(view.ringing, tuple)


def test_the_view_answers_as_the_room_state_does(engine: Engine) -> None:
    view = engine.view()
    assert [i.id for i in view.dispatch_queue()] == [i.id for i in engine.dispatch_queue()]
    assert [v.id for v in view.free_vehicles()] == [v.id for v in engine.free_vehicles()]
    assert [i.id for i in view.open_incidents()] == [i.id for i in engine.open_incidents()]
    assert view.now == engine.now
    for inc in view.open_incidents():
        raw = engine.incidents[inc.id]
        assert view.dispatcher_for(inc) == engine.dispatcher_for(raw)
        # the one read of the truth left: ETAs to where the patient is (the oracle)
        assert view.oracle_scene_node(inc) == raw.node


def test_policies_are_built_on_the_view_alone() -> None:
    for cls in POLICIES.values():
        params = list(inspect.signature(cls.__init__).parameters)
        assert params[:2] == ["self", "room"]
    source = inspect.getsource(inspect.getmodule(POLICIES["expert"]))  # type: ignore[arg-type]
    assert "truth" not in source.replace("never the patients' truth", "")
    assert "from ambsim_gui.sim.engine" not in source


def test_each_command_has_exactly_one_handler_with_the_owner_of_its_state(engine: Engine) -> None:
    owners = {kind: type(owner) for kind, owner in engine.handler_owner.items()}
    door = {c for c in cmd.COMMAND_TYPES.values() if c is not cmd.Command}
    assert set(owners) == door  # every command kind has a handler, and only one (a dict)
    expected = {
        cmd.AnswerCall: ControlRoom,
        cmd.AskQuestion: ControlRoom,
        cmd.SetCategory: ControlRoom,
        cmd.SendToDispatch: ControlRoom,
        cmd.ReferToHub: ControlRoom,
        cmd.GiveAdvice: ControlRoom,
        cmd.ReferElsewhere: ControlRoom,
        cmd.LinkCall: ControlRoom,
        cmd.DispatchVehicle: Fleet,
        cmd.DivertVehicle: Fleet,
        cmd.StandDown: Fleet,
        cmd.SetHospitalDiversion: Hospitals,
        cmd.Inject: Injects,
        cmd.MalformedCommand: Engine,  # the door's own: it is rejected with its reason
        cmd.CoverSeat: Engine,  # who plays a seat: the engine holds the policies
    }
    assert owners == expected
    # no two components offer a handler for the same kind
    offered: list[type] = []
    for component in (engine.control, engine.fleet, engine.hospital_desk, engine.injects):
        offered += list(component.handlers())
    assert len(offered) == len(set(offered))


def test_no_component_holds_the_engine(engine: Engine) -> None:
    components = [
        engine.callers,
        engine.fleet,
        engine.hub,
        engine.control,
        engine.hospital_desk,
        engine.injects,
        *engine.policies,
    ]
    for component in components:
        for name, value in vars(component).items():
            assert not isinstance(value, Engine), f"{type(component).__name__}.{name}"
        assert not hasattr(component, "e")
    for cls in (Callers, Fleet, ClinicalHub, ControlRoom, Hospitals, Injects):
        params = list(inspect.signature(cls.__init__).parameters)
        assert params[1:3] == ["kernel", "room"], cls.__name__
        source = inspect.getsource(inspect.getmodule(cls))  # type: ignore[arg-type]
        assert "sim.engine import" not in source, cls.__name__
    assert isinstance(engine.policies[0].room, RoomView)
