"""Write the scenario-file key reference (Markdown) from the pydantic models' fields.

One job: ``python tools/scenario_reference.py`` prints the reference section of
``docs/authoring.md``; ``--write`` replaces that section in place (between the
``<!-- reference:start -->`` and ``<!-- reference:end -->`` markers), and ``--check`` exits 1
when the document is out of date. The tests run ``--check``'s logic, so a new or changed field
cannot ship undocumented.
"""

from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ambsim_gui.scenario import model as m  # noqa: E402

DOC = ROOT / "docs" / "authoring.md"
START = "<!-- reference:start -->"
END = "<!-- reference:end -->"

# Where each model sits in a scenario file, in the order the reference lists them.
SECTIONS: list[tuple[str, type[BaseModel]]] = [
    ("(top level)", m.Scenario),
    ("stations[]", m.Station),
    ("stations[].vehicles[]", m.VehicleGroup),
    ("stations[].vehicles[].shift", m.Shift),
    ("hospitals[]", m.Hospital),
    ("hospitals[].handover", m.HandoverModel),
    ("control_room", m.ControlRoom),
    ("control_room.escalation", m.Escalation),
    ("clinical_hub", m.ClinicalHub),
    ("demand", m.Demand),
    ("callers", m.Callers),
    ("recontact", m.Recontact),
    ("harm", m.Harm),
    ("job_times", m.JobTimes),
    ("crews", m.CrewRules),
    ("costs", m.UnitCosts),
    ("scripted_calls[]", m.ScriptedCall),
    ("injects[] with type: call_burst", m.CallBurst),
    ("injects[] with type: surge", m.Surge),
    ("injects[] with type: hospital_diversion", m.DiversionInject),
    ("injects[] with type: road_closure", m.RoadClosure),
    ("injects[] with type: vehicle_breakdown", m.Breakdown),
    ("injects[] with type: crews", m.CrewChange),
]


# Meanings for fields whose model gives no description (the models stay terse; the reference
# says what each key does). Keyed by field name, or by (model, field) where a name means
# something different in different places.
NOTES: dict[str | tuple[str, str], str] = {
    "name": "Name shown on the desk and in reports",
    ("Station", "name"): "Station name; injects (crews) and default call signs use it",
    ("Hospital", "name"): "Hospital name; diversion injects and reports use it",
    "description": "The briefing's first lines at the desk (F2 reopens it): the situation",
    "learning_objectives": "What the trainee should practise; in the briefing and the debrief",
    "escalation": "When an incident waiting in the trainee's sector escalates at the desk",
    "debrief_hint": "What the instructor should look at afterwards, with the reference figures",
    "duration_h": "Length of the shift in hours",
    "seed": "Random seed: the same scenario, seed and commands give the same shift",
    "regime": "Response standards: ARP 2017, or Category A/B from April 2008 or before it",
    "stations": "Ambulance stations and the vehicles based at each",
    "hospitals": "Receiving hospitals; at least one must be an emergency department ('ed')",
    "control_room": "Call handlers, dispatchers and the trainee's seat",
    "clinical_hub": "Clinicians who call patients back (validation, C2 segmentation)",
    "demand": "How many incidents, when, where and of what kind",
    "callers": "Caller behaviour: patience, redialling, duplicate callers",
    "recontact": "What unsafe advice brings back",
    "harm": "Waits beyond which harm is recorded",
    "job_times": "Durations of the job cycle",
    "crews": "Crews' rest break in a long shift, and no late job near their finish",
    "costs": "Unit costs for the cost figures",
    "scripted_calls": "Calls placed at set times on top of random demand",
    "injects": "Events at set times: call bursts, surges, diversions, closures, breakdowns, crews",
    "vehicles": "Groups of identical vehicles based here",
    ("VehicleGroup", "count"): "How many vehicles of this type",
    "kind": "'ed' (emergency department) or 'utc' (urgent treatment centre)",
    "handover": "How long crews wait to hand a patient over",
    "median_min": "Median handover wait in minutes with nobody else waiting",
    "sigma": "Spread of the lognormal wait: with 0.6 a quarter of waits exceed 1.5 x the median",
    "max_min": "Longest possible wait in minutes",
    "call_handlers": "Call-handling seats (the trainee's included when they take calls)",
    "dispatchers": "Dispatch seats (the trainee's included when they dispatch)",
    "trainee_role": "Which seat the trainee takes; virtual colleagues fill the others",
    "clinicians": "Clinicians in the hub; 0 means no call-backs",
    "mobilise_s": "Seconds from allocation to moving",
    "on_scene_convey_min": "Minutes on scene when the patient is conveyed (from, to)",
    "on_scene_see_and_treat_min": "Minutes on scene for see-and-treat (from, to)",
    "clearing_min": "Minutes to clear after handover",
    "at": "Clock time it happens (the first such time after the start)",
    "type": "Which kind of inject this is",
    "card": "Call card (file name in the cards folder, e.g. fall, chest_pain)",
    "variant": "Card variant (e.g. long_lie); drawn by its weight when absent",
    "point": "Name of a point in the map file",
    "xy": "Map coordinates in metres",
    ("ScriptedCall", "callers"): "People who ring about this patient (1: no duplicate callers)",
    ("CallBurst", "callers"): "People who ring about each patient (1: no duplicate callers)",
    ("CallBurst", "count"): "Number of patients (calls) in the burst",
    ("CallBurst", "area"): "Random place in this area when no point/xy (one place for all)",
    "factor": "Demand multiplier while the surge lasts",
    "duration_min": "Minutes it lasts; for good when absent",
    ("Surge", "duration_min"): "Minutes the surge lasts",
    "hospital": "Hospital name, as in hospitals[]",
    ("DiversionInject", "diverted"): "true: goes on diversion; false: comes off it",
    "roads": "Road names to close (as named in the map)",
    "polygon": "Close every road inside this outline ([[x, y], ...], metres)",
    "vehicle": "Call sign (e.g. CBN-A01) or vehicle id (V001)",
    "station": "Station name, as in stations[]",
    "vehicle_type": "DCA or RRV",
    ("CrewChange", "count"): "How many crews",
    "on_duty": "true: extra crews come on; false: crews go off early",
}


def meaning(model: type[BaseModel], name: str, field: FieldInfo) -> str:
    text = field.description or NOTES.get((model.__name__, name)) or NOTES.get(name, "")
    return text.replace("|", "/")


def all_models() -> set[type[BaseModel]]:
    """Every model reachable from Scenario (the test checks SECTIONS covers them all)."""
    seen: set[type[BaseModel]] = set()

    def visit(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp in seen:
                return
            seen.add(tp)
            for field in tp.model_fields.values():
                visit(field.annotation)
            return
        for arg in get_args(tp):
            visit(arg)

    visit(m.Scenario)
    return seen


def _bounds(metadata: list[Any]) -> str:
    parts = []
    for item in metadata:
        if isinstance(item, Ge):
            parts.append(f">= {item.ge:g}")
        elif isinstance(item, Gt):
            parts.append(f"> {item.gt:g}")
        elif isinstance(item, Le):
            parts.append(f"<= {item.le:g}")
        elif isinstance(item, Lt):
            parts.append(f"< {item.lt:g}")
        elif isinstance(item, MinLen) and item.min_length:
            parts.append(f"at least {item.min_length}")
        elif isinstance(item, MaxLen):
            parts.append(f"at most {item.max_length}")
        elif getattr(item, "pattern", None) == r"^([01]\d|2[0-3]):[0-5]\d$":
            parts.append("HH:MM")
    return ", ".join(parts)


def type_text(tp: Any, metadata: list[Any] | None = None) -> str:
    """A short, readable type: ``number (> 0)``, ``"DCA" or "RRV"``, ``list of Station``."""
    extra = list(metadata or [])
    while get_origin(tp) is Annotated:
        args = get_args(tp)
        tp, extra = args[0], [*extra, *args[1:]]
        for item in args[1:]:
            if isinstance(item, FieldInfo):
                extra += item.metadata
    origin = get_origin(tp)
    if origin is Literal:
        text = " or ".join(f'"{a}"' if isinstance(a, str) else str(a) for a in get_args(tp))
    elif origin in (Union, types.UnionType):
        members = [a for a in get_args(tp) if a is not type(None)]
        text = " or ".join(type_text(a) for a in members)
        if len(members) < len(get_args(tp)):
            text += " (optional)"
    elif origin is list:
        text = f"list of {type_text(get_args(tp)[0])}"
    elif origin is dict:
        key, value = get_args(tp)
        text = f"map {type_text(key)} -> {type_text(value)}"
    elif origin is tuple:
        text = "[" + ", ".join(type_text(a) for a in get_args(tp)) + "]"
    elif isinstance(tp, type) and issubclass(tp, BaseModel):
        text = tp.__name__
    else:
        text = {int: "integer", float: "number", str: "text", bool: "true/false"}.get(
            tp, getattr(tp, "__name__", str(tp))
        )
    bounds = _bounds(extra)
    if bounds == "HH:MM":
        return "clock time HH:MM"
    return f"{text} ({bounds})" if bounds else text


def default_text(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "**required**"
    else:
        value = field.default
    if isinstance(value, BaseModel):
        return "see its section"
    if value is None:
        return "-"
    if isinstance(value, list) and len(value) == 24:
        return "national day shape"
    if isinstance(value, list) and not value:
        return "none"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v:g}" for k, v in value.items()) + "}"
    if isinstance(value, tuple):
        return "[" + ", ".join(f"{v:g}" for v in value) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return f"`{value}`" if value else '""'
    return str(value)


def reference() -> str:
    lines = [START, ""]
    for where, model in SECTIONS:
        doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        lines += [f"### `{where}` ({model.__name__})", "", doc, ""]
        lines += ["| Key | Type | Default | Meaning |", "|---|---|---|---|"]
        for name, field in model.model_fields.items():
            kind = type_text(field.annotation, field.metadata).replace("|", "/")
            text = meaning(model, name, field)
            lines.append(f"| `{name}` | {kind} | {default_text(field)} | {text} |")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def updated(text: str) -> str:
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return head + reference() + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help=f"update {DOC.relative_to(ROOT)}")
    group.add_argument("--check", action="store_true", help="exit 1 when the doc is stale")
    args = parser.parse_args(argv)
    if not (args.write or args.check):
        print(reference())
        return 0
    text = DOC.read_text(encoding="utf-8")
    new = updated(text)
    if args.check:
        if new != text:
            print(f"{DOC} is out of date: python tools/scenario_reference.py --write")
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
