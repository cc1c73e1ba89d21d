"""The command door is total: whatever comes through ``Engine.submit`` (hostile kinds, fields of
every type, non-JSON objects, huge text, NaN, deep nesting, real ids mixed with garbage) ends
in a command or a ``CommandRejected`` event with a reason, never an exception, and never stops
the session recording: every command is recorded and the session verifies identical."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import io
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ambsim_gui.headless import build_from
from ambsim_gui.paths import DEFAULT_SCENARIO
from ambsim_gui.record.codec import command_from_json, command_json
from ambsim_gui.record.reader import SessionFile
from ambsim_gui.record.session import SessionRecorder
from ambsim_gui.record.verify import verify
from ambsim_gui.scenario.loader import LoadedScenario, load_scenario
from ambsim_gui.session_commands import replay_verify
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.world import World

SHIFT_S = 3 * 3600.0  # of the default scenario's four hours: each example a 3-hour shift
STATS = {"examples": 0, "commands": 0, "malformed": 0, "accepted": 0, "seconds": 0.0}


@lru_cache(maxsize=1)
def _default() -> tuple[LoadedScenario, World]:
    loaded = load_scenario(DEFAULT_SCENARIO)
    return loaded, build_from(loaded)


def rejections(e: Engine) -> list[ev.CommandRejected]:
    return [x for x in e.events if isinstance(x, ev.CommandRejected)]


# --- plain tests of the door -------------------------------------------------------------------


class _Sneaky(cmd.AnswerCall):
    """A subclass of a real command (its kind inherited, so not registered): not the engine's."""


class _Weird(str):
    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return 7

    def __len__(self) -> int:
        return 0


def _engine() -> Engine:
    return Engine(_default()[1], policy="expert", trainee_policy=None)


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (cmd.AnswerCall(seat="trainee", call_id=["C00001"]), "call_id must be a str or None"),  # type: ignore[arg-type]
        (cmd.AnswerCall(seat=7), "seat must be a str, not the int 7"),  # type: ignore[arg-type]
        (cmd.StandDown(seat="trainee", vehicle_id="V" * 201), "at most 200 characters"),
        (cmd.SetHospitalDiversion(hospital="x", diverted="yes"), "diverted must be a bool"),  # type: ignore[arg-type]
        (cmd.Inject(spec={"type": "surge", "factor": math.nan}), "spec.factor must be a finite"),
        (cmd.Inject(spec={"type": "surge", "when": dt.date(2026, 1, 1)}), "spec.when must hold"),
        (cmd.Inject(spec={1: "x"}), "spec has a key that is not text"),  # type: ignore[dict-item]
        (cmd.Inject(spec=[1, 2]), "spec must be a mapping"),  # type: ignore[arg-type]
        (cmd.Inject(spec={"a": [[[[[[[1]]]]]]]}), "deeper than 6"),
        (cmd.Inject(spec={"a": list(range(5000))}), "more than 2000 values"),
        (cmd.Inject(spec={"a": 10**5000}), "integer within"),
        (42, "not a command: the int 42"),
        ("answer_call", "not a command: the str 'answer_call'"),
        (cmd.Command(), "not one of the engine's commands"),
        (_Sneaky(call_id=None), "not one of the engine's commands"),
        (cmd.DispatchVehicle(vehicle_id="V001", incident_id=b"I1"), "incident_id must be a str"),  # type: ignore[arg-type]
        (cmd.AskQuestion(call_id="C1", question_id="\ud800"), "without unpaired surrogates"),
    ],
)
def test_a_malformed_command_is_rejected_with_its_field_and_recorded_as_plain_text(
    command: Any, said: str, tmp_path: Path
) -> None:
    loaded, _ = _default()
    e = _engine()
    path = tmp_path / "door.ambsession"
    recorder = SessionRecorder.start(path, loaded, e, feedback="none")
    e.run_until(120)
    assert not e.submit(command)
    rejected = rejections(e)[-1]
    assert said in rejected.reason, rejected.reason
    logged = e.command_log[-1].command
    assert isinstance(logged, cmd.MalformedCommand) and logged.reason == rejected.reason
    assert rejected.command == (
        command.KIND if isinstance(command, cmd.Command) else type(command).__name__
    )
    assert json.loads(command_json(logged))["kind"] == "malformed"
    e.run_until(600)
    recorder.close()
    assert recorder.error is None
    with SessionFile.open(path) as session:
        assert session.commands() == e.command_log
    outcome = verify(path)
    assert outcome.ok and outcome.message.startswith("identical"), outcome.message


def test_valid_commands_are_applied_as_given_and_text_subclasses_made_plain() -> None:
    e = _engine()
    while not e.ringing:
        e.run_until(e.now + 5)
    call_id = e.ringing[0]
    assert e.submit(cmd.AnswerCall(seat=np.str_("trainee"), call_id=np.str_(call_id)))
    logged = e.command_log[-1].command
    assert logged == cmd.AnswerCall(seat="trainee", call_id=call_id)
    assert type(logged.seat) is str and type(logged.call_id) is str  # type: ignore[attr-defined]
    # an odd text subclass cannot fool a lookup: it is plain text by the time a handler sees it
    assert not e.submit(cmd.AskQuestion(seat="trainee", call_id=_Weird("C99999"), question_id="x"))
    assert "no call 'C99999'" in rejections(e)[-1].reason
    # an inject's spec is copied as plain JSON data, keys sorted: a later change to the
    # caller's dict changes nothing, and the replay sees what the engine saw
    spec: dict[str, Any] = {"type": "surge", "factor": np.float64(2.0), "duration_min": 30}
    assert e.submit(cmd.Inject(seat="instructor", spec=spec))
    spec["factor"] = "changed"
    logged_spec = e.command_log[-1].command.spec  # type: ignore[attr-defined]
    assert logged_spec == {"duration_min": 30, "factor": 2.0, "type": "surge"}
    assert list(logged_spec) == sorted(logged_spec) and type(logged_spec["factor"]) is float


def test_a_malformed_command_after_the_shift_is_still_recorded_and_rejected() -> None:
    e = _engine()
    e.run_until(e.end_s)
    assert not e.submit(cmd.StandDown(vehicle_id=[1]))  # type: ignore[arg-type]
    assert rejections(e)[-1].reason == "the shift has ended"
    assert isinstance(e.command_log[-1].command, cmd.MalformedCommand)


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        '{"kind": "nope"}',
        '{"kind": "command", "seat": "x"}',
        '{"kind": "answer_call", "call_id": ["C1"]}',
        '{"kind": "answer_call", "call_id": "C1", "extra": 1}',
        '{"kind": "link_call", "call_id": "C1"}',
        '{"kind": "inject", "spec": {"a": 1e999}}',
        '{"kind": "set_hospital_diversion", "hospital": "x", "diverted": 1}',
        '{"kind": "malformed", "given": "x"}',
        '{"kind": 5}',
    ],
)
def test_reading_a_command_back_is_total(text: str) -> None:
    from ambsim_gui.record.codec import CodecError

    with pytest.raises(CodecError):
        command_from_json(text)
    with pytest.raises(ValueError):
        cmd.command_from_dict(json.loads(text))
    with pytest.raises(ValueError):
        cmd.TimedCommand.from_dict({"t": 1.0, "command": json.loads(text)})
    with pytest.raises(ValueError):
        cmd.TimedCommand.from_dict({"t": math.inf, "command": {"kind": "answer_call"}})


def test_every_command_and_its_stand_in_round_trip_through_json() -> None:
    made = [
        cmd.AnswerCall(),
        cmd.Inject(seat="instructor", spec={"type": "surge", "factor": 2, "duration_min": 5}),
        cmd.stand_in(cmd.AnswerCall(seat="\ud800" * 300, call_id=[]), "x" * 5000),  # type: ignore[arg-type]
        cmd.stand_in(object(), "not a command"),
    ]
    for command in made:
        assert command_from_json(command_json(command)) == command
    assert len(made[2].seat) == cmd.MAX_TEXT and len(made[2].reason) == cmd.MAX_REASON  # type: ignore[attr-defined]


# --- hostile commands, at random, with a recorder attached --------------------------------------


@dataclass(frozen=True)
class Live:
    """An id of the running engine, picked when the command is made (index modulo the count)."""

    what: str
    k: int


def _live_values(e: Engine, what: str) -> list[Any]:
    world = e.world
    if what == "call":
        return list(e.calls)
    if what == "ringing":
        return list(e.ringing)
    if what == "answered":
        return [c.id for c in e.calls.values() if c.status == "answered"]
    if what == "incident":
        return list(e.incidents)
    if what == "open":
        return [i.id for i in e.open_incidents()]
    if what == "vehicle":
        return list(e.vehicles)
    if what == "callsign":
        return [v.callsign for v in e.vehicles.values()]
    if what == "hospital":
        return list(e.hospitals)
    if what == "question":
        return list(world.protocol.questions)
    if what == "category":
        return ["C1", "C2", "C3", "C4", "C9"]
    if what == "seat":
        return [*e.seats, "instructor", "nobody"]
    if what == "station":
        return list(world.stations)
    if what == "card":
        return list(world.cards.cards)
    if what == "area":
        return list(world.area_names)
    if what == "road":
        return sorted({str(n) for n in world.network.edge_name[:400] if n})
    raise AssertionError(what)


class _Raising:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no eq")

    __hash__ = None  # type: ignore[assignment]


def _self_list() -> list[Any]:
    loop: list[Any] = [1]
    loop.append(loop)
    return loop


#: Values no session can store as JSON, or that are not what they seem.
HOSTILE: list[Callable[[], Any]] = [
    object,
    lambda: {1, 2},
    lambda: b"bytes",
    lambda: 1 + 2j,
    lambda: decimal.Decimal("1.5"),
    lambda: dt.datetime(2026, 1, 1, 18, 0),
    lambda: np.float64("nan"),
    lambda: np.int64(3),
    lambda: np.str_("C00001"),
    lambda: np.array([1.0, 2.0]),
    lambda: _Weird("V001"),
    _Raising,
    _self_list,
    lambda: {(1, 2): "tuple key"},
    lambda: 10**400,
    lambda: math.inf,
    lambda: -math.inf,
    lambda: "\ud800 lone surrogate",
    lambda: "nul\x00byte",
    lambda: "é" * 300,
    lambda: lambda: None,
    lambda: cmd.AnswerCall(),
    lambda: (i for i in range(3)),
]


@dataclass(frozen=True)
class Hostile:
    index: int


def _resolve(e: Engine, value: Any) -> Any:
    if isinstance(value, Live):
        values = _live_values(e, value.what)
        return values[value.k % len(values)] if values else f"missing{value.k}"
    if isinstance(value, Hostile):
        return HOSTILE[value.index % len(HOSTILE)]()
    if isinstance(value, list):
        return [_resolve(e, v) for v in value]
    if isinstance(value, tuple):
        return tuple(_resolve(e, v) for v in value)
    if isinstance(value, dict):
        return {k: _resolve(e, v) for k, v in value.items()}
    return value


LIVE_KINDS = [
    "call", "ringing", "answered", "incident", "open", "vehicle", "callsign", "hospital",
    "question", "category", "seat", "station", "card", "area", "road",
]  # fmt: skip
live = st.builds(Live, st.sampled_from(LIVE_KINDS), st.integers(0, 10**6))
hostile = st.builds(Hostile, st.integers(0, len(HOSTILE) - 1))
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
huge_text = st.integers(201, 50_000).map(lambda n: "x" * n)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
deep = st.integers(5, 12).map(lambda n: _nest(n))


def _nest(n: int) -> Any:
    value: Any = "bottom"
    for i in range(n):
        value = [value] if i % 2 else {"k": value}
    return value


# Real ids most often (so commands do things), then any JSON, huge text, hostile objects.
field_values = st.one_of(live, live, live, json_values, huge_text, hostile, deep)

minutes = st.floats(0.5, 90.0)
valid_injects = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.just("vehicle_breakdown"),
            "vehicle": st.builds(Live, st.just("callsign"), st.integers(0, 99)),
        },
        optional={"duration_min": minutes},
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("crews"),
            "station": st.builds(Live, st.just("station"), st.integers(0, 99)),
            "vehicle_type": st.sampled_from(["DCA", "RRV"]),
            "count": st.integers(1, 3),
            "on_duty": st.booleans(),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("hospital_diversion"),
            "hospital": st.builds(Live, st.just("hospital"), st.integers(0, 99)),
        },
        optional={"diverted": st.booleans(), "duration_min": minutes},
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("road_closure"),
            "roads": st.lists(
                st.builds(Live, st.just("road"), st.integers(0, 999)), min_size=1, max_size=2
            ),
        },
        optional={"duration_min": minutes},
    ),
    st.fixed_dictionaries(
        {"type": st.just("surge"), "factor": st.floats(1.0, 2.0), "duration_min": minutes},
        optional={"area": st.builds(Live, st.just("area"), st.integers(0, 99))},
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("call_burst"),
            "card": st.builds(Live, st.just("card"), st.integers(0, 99)),
        },
        optional={
            "count": st.integers(1, 3),
            "over_min": st.floats(0.0, 5.0),
            "callers": st.integers(1, 3),
            "variant": st.text(max_size=6),
            "xy": st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)),
            "area": st.builds(Live, st.just("area"), st.integers(0, 99)),
        },
    ),
)
specs = st.one_of(
    valid_injects,
    valid_injects,
    st.dictionaries(st.text(max_size=10), field_values, max_size=5),
    st.dictionaries(
        st.sampled_from(["type", "at", "at_min", "vehicle", "count"]), field_values, max_size=4
    ),
    field_values,
)
seats = st.one_of(
    st.builds(Live, st.just("seat"), st.integers(0, 99)),
    st.sampled_from(["trainee", "instructor"]),
    field_values,
)

FIELD_IDS = {
    "call_id": ["ringing", "answered", "answered", "call"],
    "incident_id": ["open", "open", "incident"],
    "vehicle_id": ["vehicle"],
    "hospital": ["hospital"],
    "question_id": ["question"],
    "category": ["category"],
}


def live_of(kinds: list[str]) -> st.SearchStrategy[Live]:
    return st.builds(Live, st.sampled_from(kinds), st.integers(0, 10**6))


DOOR_CLASSES = sorted(cmd.COMMAND_TYPES.values(), key=lambda c: c.KIND)


@st.composite
def recipes(draw: st.DrawFn) -> tuple[str, Any]:
    """(how, what): a command class with a value recipe per field, or something else."""
    choice = draw(st.integers(0, 9))
    if choice == 0:  # not a command at all, or not the engine's
        return "object", draw(
            st.one_of(hostile, json_values, st.sampled_from(["base", "sneaky", "timed"]))
        )
    if choice == 1:  # an engine command with fields missing (built without __init__)
        cls = draw(st.sampled_from(DOOR_CLASSES))
        names = [f.name for f in dataclasses.fields(cls)]
        kept = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
        return "hollow", (cls, {n: draw(field_values) for n in kept})
    cls = draw(st.sampled_from(DOOR_CLASSES))
    # half the commands well-typed, with real ids (so they do things), half with any values
    clean = draw(st.booleans())
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name == "seat":
            values[f.name] = draw(st.sampled_from(["trainee", "instructor"]) if clean else seats)
        elif f.name == "spec":
            values[f.name] = draw(valid_injects if clean else specs)
        elif f.name == "diverted":
            values[f.name] = draw(
                st.booleans() if clean else st.one_of(st.booleans(), field_values)
            )
        else:
            kinds = FIELD_IDS.get(f.name, LIVE_KINDS)
            anything = live_of(kinds) if clean else st.one_of(live_of(kinds), field_values)
            if f.name == "call_id" and cls is cmd.AnswerCall:
                anything = st.one_of(st.none(), anything)
            values[f.name] = draw(anything)
    return "command", (cls, values)


def make(e: Engine, recipe: tuple[str, Any]) -> Any:
    how, what = recipe
    if how == "object":
        if what == "base":
            return cmd.Command(seat="trainee")
        if what == "sneaky":
            return _Sneaky(seat="trainee", call_id=None)
        if what == "timed":
            return cmd.TimedCommand(0.0, cmd.AnswerCall())
        return _resolve(e, what)
    cls, values = what
    resolved = {k: _resolve(e, v) for k, v in values.items()}
    if how == "hollow":
        command = object.__new__(cls)
        command.__dict__.update(resolved)
        return command
    return cls(**resolved)


def check_invariants(e: Engine) -> None:
    for v in e.vehicles.values():
        assert (v.id in e.free) == (v.on_duty and v.status in ("available", "returning")), v
        if v.broken:
            assert not v.on_duty and v.status == "off_duty", v


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    steps=st.lists(st.tuples(st.floats(0.0, 400.0), recipes()), min_size=20, max_size=150),
    after_end=st.lists(recipes(), max_size=2),
)
def test_hostile_commands_never_raise_nor_stop_the_recording(
    steps: list[tuple[float, tuple[str, Any]]],
    after_end: list[tuple[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    started = time.perf_counter()
    loaded, world = _default()
    e = Engine(world, policy="expert", trainee_policy=None, duration_s=SHIFT_S)
    path = tmp_path_factory.mktemp("door") / "hostile.ambsession"
    recorder = SessionRecorder.start(path, loaded, e, feedback="none")
    submitted = 0
    malformed = 0
    for advance, recipe in steps:
        e.run_until(e.now + advance)
        command = make(e, recipe)
        checked, _ = cmd.check(command)
        malformed += checked is None
        before = len(e.events)
        accepted = e.submit(command)
        submitted += 1
        STATS["accepted"] += accepted
        if checked is None:
            assert not accepted
            stand_in = e.command_log[-1].command
            assert isinstance(stand_in, cmd.MalformedCommand)
            said = [x for x in e.events[before:] if isinstance(x, ev.CommandRejected)]
            assert said and said[0].reason in (stand_in.reason, "the shift has ended")
        check_invariants(e)
    e.run()
    # no handler ever failed on a command the door let through
    assert not [x.reason for x in rejections(e) if x.reason.startswith("internal error")]
    for recipe in after_end:
        e.submit(make(e, recipe))
        submitted += 1
    recorder.close()
    assert recorder.error is None, recorder.error
    assert e.finished and len(e.command_log) == submitted
    with SessionFile.open(path) as session:
        assert session.command_count() == submitted
        assert session.commands() == e.command_log
        assert session.events() == e.events
    out, err = io.StringIO(), io.StringIO()
    assert replay_verify(path, out=out, err=err) == 0, err.getvalue()
    assert ": identical: " in out.getvalue() and "the whole shift" in out.getvalue()
    STATS["examples"] += 1
    STATS["commands"] += submitted
    STATS["malformed"] += malformed
    STATS["seconds"] += time.perf_counter() - started


def test_report_what_the_hostile_run_drove() -> None:
    """Not a check: prints (with -s) how much the hostile test above drove."""
    print(f"\ncommand door: {STATS}")
