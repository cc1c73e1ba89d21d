"""The engine's input: one typed vocabulary for everything a control room can do.

The trainee desk, the built-in policies, an instructor's injects and a replayed recording all
send these same commands through ``Engine.submit``. Each carries the seat that gave it; the
engine applies it at the current simulation time and answers an illegal one with a
``CommandRejected`` event that says why.

The door is total: ``check`` compares every field of a command from outside with its declared
type (texts at most ``MAX_TEXT`` characters, an inject's spec a bounded mapping of finite JSON
values). A command that fails is replaced, in the engine's command log and in what its
``on_command`` hooks receive, by a ``MalformedCommand`` stand-in carrying the reason: plain
text that a session can always store, and whose replay is rejected with the same reason.
"""

from __future__ import annotations

import math
import typing
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar

COMMAND_TYPES: dict[str, type[Command]] = {}

MAX_TEXT = 200
"""The longest text a command field (a seat, an id, a category) or an inject's value may hold."""
MAX_REASON = 1000
"""The longest reason a ``MalformedCommand`` may carry."""
MAX_SPEC_VALUES = 2000
"""The most values (scalars, lists and mappings, nested ones counted) an inject's spec holds."""
MAX_SPEC_DEPTH = 6
"""The deepest nesting of lists and mappings in an inject's spec."""
MAX_SPEC_INT = 2**53
"""The largest integer (in absolute value) an inject's spec holds: exact as a float too."""


@dataclass(frozen=True, kw_only=True)
class Command:
    """Base of all commands: who gives it."""

    KIND: ClassVar[str] = "command"
    seat: str = "trainee"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("KIND")
        if kind:
            COMMAND_TYPES[kind] = cls

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.KIND}
        for f in fields(self):
            out[f.name] = getattr(self, f.name)
        return out


def command_from_dict(data: Any) -> Command:
    """Rebuild a command from ``Command.to_dict`` output (a session's row, a network message).

    Total: anything that is not exactly a command of a known kind with its fields, each of its
    declared type, raises ``ValueError`` saying what is wrong (never ``TypeError``)."""
    if not isinstance(data, dict):
        raise ValueError(f"a command is a mapping, not {_show(data)}")
    kind = data.get("kind")
    cls = COMMAND_TYPES.get(kind) if type(kind) is str else None
    if cls is None or cls not in _DOOR:
        shown = repr(kind[:40]) if type(kind) is str else _show(kind)
        raise ValueError(f"unknown command kind {shown}")
    names = _field_names(cls)
    given = [k for k in data if k != "kind"]
    unknown = [k for k in given if type(k) is not str or k not in names]
    if unknown:
        shown = ", ".join(sorted(repr(k[:40]) if type(k) is str else _show(k) for k in unknown)[:5])
        raise ValueError(f"{kind}: unknown field(s) {shown}")
    missing = [n for n in _required(cls) if n not in data]
    if missing:
        raise ValueError(f"{kind}: missing field(s) {', '.join(missing)}")
    command = cls(**{k: data[k] for k in given})
    checked, problem = check(command)
    if checked is None:
        raise ValueError(problem)
    return checked


@dataclass(frozen=True, kw_only=True)
class AnswerCall(Command):
    """Answer a ringing call; the oldest ringing call when ``call_id`` is None."""

    KIND: ClassVar[str] = "answer_call"
    call_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class AskQuestion(Command):
    KIND: ClassVar[str] = "ask_question"
    call_id: str
    question_id: str


@dataclass(frozen=True, kw_only=True)
class SetCategory(Command):
    """Accept the protocol's category or override it."""

    KIND: ClassVar[str] = "set_category"
    call_id: str
    category: str


@dataclass(frozen=True, kw_only=True)
class SendToDispatch(Command):
    """Open an incident for the call and put it on the dispatch queue."""

    KIND: ClassVar[str] = "send_to_dispatch"
    call_id: str


@dataclass(frozen=True, kw_only=True)
class ReferToHub(Command):
    """Open an incident and put it on the clinical hub's stack for a call-back."""

    KIND: ClassVar[str] = "refer_to_hub"
    call_id: str


@dataclass(frozen=True, kw_only=True)
class GiveAdvice(Command):
    """Close the call with self-care advice (hear-and-treat by the handler)."""

    KIND: ClassVar[str] = "give_advice"
    call_id: str


@dataclass(frozen=True, kw_only=True)
class ReferElsewhere(Command):
    """Close the call by referring the patient to another service (GP, 111, pharmacy...)."""

    KIND: ClassVar[str] = "refer_elsewhere"
    call_id: str


@dataclass(frozen=True, kw_only=True)
class LinkCall(Command):
    """The call is about an incident already open: link it, open nothing new."""

    KIND: ClassVar[str] = "link_call"
    call_id: str
    incident_id: str


@dataclass(frozen=True, kw_only=True)
class DispatchVehicle(Command):
    """Send a free vehicle (available, or returning from a job) to an incident."""

    KIND: ClassVar[str] = "dispatch_vehicle"
    vehicle_id: str
    incident_id: str


@dataclass(frozen=True, kw_only=True)
class DivertVehicle(Command):
    """Take a vehicle off its way to a less urgent job and send it to this one."""

    KIND: ClassVar[str] = "divert_vehicle"
    vehicle_id: str
    incident_id: str


@dataclass(frozen=True, kw_only=True)
class StandDown(Command):
    """Release a vehicle on its way to a job; the incident goes back on the queue if it must."""

    KIND: ClassVar[str] = "stand_down"
    vehicle_id: str


@dataclass(frozen=True, kw_only=True)
class SetHospitalDiversion(Command):
    """Put a hospital on diversion (crews go elsewhere) or take it off."""

    KIND: ClassVar[str] = "set_hospital_diversion"
    hospital: str
    diverted: bool


@dataclass(frozen=True, kw_only=True)
class Inject(Command):
    """An instructor's live inject: the same mapping as a scenario file's ``injects`` item
    (its ``at``/``at_min`` are ignored: it happens now)."""

    KIND: ClassVar[str] = "inject"
    spec: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class CoverSeat(Command):
    """Who plays seat ``covered`` from now on: a ``person`` (a trainee at a desk, or nobody
    while the seat waits for them) or a virtual ``colleague``. Given by the room
    (``seat="room"``) when a trainee takes a seat, drops out or comes back; ``trainee`` is
    the name of the person, so the recording says who gave each seat's commands."""

    KIND: ClassVar[str] = "cover_seat"
    covered: str
    by: str
    trainee: str = ""


@dataclass(frozen=True, kw_only=True)
class MalformedCommand(Command):
    """What the engine logs and records in place of a command its door refused as malformed
    (a field of the wrong type, text too long, an inject's spec that is not plain data...).

    ``given`` is the refused command's kind (or the type of what was given instead of a
    command), ``reason`` what was wrong with it; both plain text. Applying it, live or in a
    replay, is always rejected with ``reason``."""

    KIND: ClassVar[str] = "malformed"
    given: str
    reason: str


@dataclass(frozen=True)
class TimedCommand:
    """A command with the simulation time it was applied at: one line of a session's log."""

    t: float
    command: Command

    def to_dict(self) -> dict[str, Any]:
        return {"t": self.t, "command": self.command.to_dict()}

    @classmethod
    def from_dict(cls, data: Any) -> TimedCommand:
        """ValueError, never another error, for anything but ``to_dict`` output."""
        if not isinstance(data, dict) or "t" not in data or "command" not in data:
            raise ValueError("a timed command is a mapping with 't' and 'command'")
        t = data["t"]
        if type(t) not in (int, float) or not math.isfinite(t):
            raise ValueError(f"a timed command's t must be a finite number, not {_show(t)}")
        return cls(float(t), command_from_dict(data["command"]))


# --- the door: every field of its declared type ----------------------------------------------

_MISSING = object()
_TEXT, _OPTIONAL_TEXT, _FLAG, _SPEC = "str", "str or None", "bool", "a mapping"


def _field_kind(annotation: Any) -> str:
    """How a declared field type is checked (every type a command field may have)."""
    if annotation is str:
        return _TEXT
    if annotation is bool:
        return _FLAG
    if annotation == (str | None):
        return _OPTIONAL_TEXT
    if typing.get_origin(annotation) is dict and typing.get_args(annotation)[:1] == (str,):
        return _SPEC
    raise TypeError(f"a command field of type {annotation!r} has no check in commands.py")


_CHECKS: dict[type[Command], tuple[tuple[str, str, int], ...]] = {}


def _checks(cls: type[Command]) -> tuple[tuple[str, str, int], ...]:
    """(field, kind of check, longest text) for each field of ``cls``, built once."""
    found = _CHECKS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = tuple(
            (f.name, _field_kind(hints[f.name]), MAX_REASON if f.name == "reason" else MAX_TEXT)
            for f in fields(cls)
        )
        _CHECKS[cls] = found
    return found


def _field_names(cls: type[Command]) -> frozenset[str]:
    return frozenset(name for name, _, _ in _checks(cls))


def _required(cls: type[Command]) -> list[str]:
    return [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING]


def check(command: Any) -> tuple[Command | None, str]:
    """``(command, "")`` when ``command`` is one of the engine's commands with every field of
    its declared type (the command itself, or an equal one of plain values: text subclasses
    made ``str``, an inject's spec copied as plain JSON data with its keys sorted);
    ``(None, reason)`` when it is not, the reason naming the field, what it must be and what
    it is."""
    cls = type(command)
    if cls not in _DOOR:
        if not isinstance(command, Command):
            return None, f"not a command: {_show(command)}"
        return None, f"not one of the engine's commands: {_type_name(command)}"
    kind = cls.KIND
    changes: dict[str, Any] = {}
    values = command.__dict__
    for name, how, longest in _CHECKS[cls]:
        value = values.get(name, _MISSING)
        if value is _MISSING:
            return None, f"malformed {kind}: {name} is missing"
        if how is _SPEC:
            plain, problem = _plain_spec(value)
            if problem:
                return None, f"malformed {kind}: {name}{problem}"
            changes[name] = plain
            continue
        if value is None and how is _OPTIONAL_TEXT:
            continue
        if how is _FLAG:
            if type(value) is not bool:
                return None, f"malformed {kind}: {name} must be a bool, not {_show(value)}"
            continue
        if not isinstance(value, str):
            return None, f"malformed {kind}: {name} must be a {how}, not {_show(value)}"
        if type(value) is not str:  # a subclass (numpy's, say): its plain text
            value = changes[name] = str.__getitem__(value, slice(None))
        problem = _text_problem(value, longest)
        if problem:
            return None, f"malformed {kind}: {name} must be {problem}"
    if changes:
        command = cls(**{**{name: values[name] for name, _, _ in _CHECKS[cls]}, **changes})
    return command, ""


def stand_in(command: Any, reason: str) -> MalformedCommand:
    """The ``MalformedCommand`` logged and recorded in place of a refused ``command``: its
    seat when that is text (else ``"?"``), its kind (else the type of what was given)."""
    seat: Any = None
    given: Any = None
    if issubclass(type(command), Command):
        try:
            seat = object.__getattribute__(command, "seat")
            given = type(command).KIND
        except Exception:  # noqa: BLE001 - whatever an odd subclass does, a stand-in results
            pass
    if not isinstance(given, str):
        given = _type_name(command)
    return MalformedCommand(
        seat=_safe_text(seat, MAX_TEXT) if isinstance(seat, str) else "?",
        given=_safe_text(given, MAX_TEXT),
        reason=_safe_text(reason, MAX_REASON),
    )


def _text_problem(value: str, longest: int) -> str:
    if len(value) > longest:
        return f"a str of at most {longest} characters, not one of {len(value)}"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "a str without unpaired surrogates"
    return ""


def _safe_text(value: str, longest: int) -> str:
    """Plain text that passes ``_text_problem``: unpaired surrogates escaped, then cut."""
    text = str.encode(value, "utf-8", "backslashreplace").decode("utf-8")
    return text[:longest]


def _plain_spec(value: Any) -> tuple[dict[str, Any] | None, str]:
    """An inject's spec as plain JSON data (a new dict, keys sorted, tuples as lists), or
    (None, where it is wrong and why) -- the ``where`` appended to the field's name."""
    if not isinstance(value, dict):
        return None, f" must be a mapping of JSON values, not {_show(value)}"
    budget = [MAX_SPEC_VALUES]
    try:
        plain = _plain(value, 0, budget)
    except (_NotPlain, _TooMany) as exc:
        return None, str(exc)
    return plain, ""


class _NotPlain(Exception):
    """A value of a spec that is not plain JSON data: where (built up outwards) and why."""


class _TooMany(Exception):
    """A spec with more values than ``MAX_SPEC_VALUES``."""


def _plain(value: Any, depth: int, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooMany(f" holds more than {MAX_SPEC_VALUES} values")
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        text = str.__getitem__(value, slice(None))
        problem = _text_problem(text, MAX_TEXT)
        if problem:
            raise _NotPlain(f" must be {problem}")
        return text
    if isinstance(value, int) and not isinstance(value, bool):
        number = int.__int__(value)
        if not -MAX_SPEC_INT <= number <= MAX_SPEC_INT:
            raise _NotPlain(f" must be an integer within +-2**53, not {_show(number)}")
        return number
    if isinstance(value, float):
        real = float.__float__(value)
        if not math.isfinite(real):
            raise _NotPlain(f" must be a finite number, not {real!r}")
        return real
    if isinstance(value, (dict, list, tuple)):
        if depth >= MAX_SPEC_DEPTH:
            raise _NotPlain(f" nests lists and mappings deeper than {MAX_SPEC_DEPTH}")
        if isinstance(value, dict):
            pairs: list[tuple[str, Any]] = []
            for key, item in dict.items(value):
                if not isinstance(key, str):
                    raise _NotPlain(f" has a key that is not text but {_show(key)}")
                problem = _text_problem(key, MAX_TEXT)
                if problem:
                    raise _NotPlain(f" has a key that is not {problem}")
                pairs.append((str.__getitem__(key, slice(None)), item))
            pairs.sort(key=_first)
            out: dict[str, Any] = {}
            for key, item in pairs:
                try:
                    out[key] = _plain(item, depth + 1, budget)
                except _NotPlain as exc:
                    raise _NotPlain(f".{key}{exc}") from None
            return out
        items = []
        source = list.__iter__(value) if isinstance(value, list) else tuple.__iter__(value)
        for i, item in enumerate(source):
            try:
                items.append(_plain(item, depth + 1, budget))
            except _NotPlain as exc:
                raise _NotPlain(f"[{i}]{exc}") from None
        return items
    raise _NotPlain(f" must hold JSON values only, not {_show(value)}")


def _first(pair: tuple[str, Any]) -> str:
    return pair[0]


def _type_name(value: Any) -> str:
    cls = type(value)
    try:
        module = cls.__module__
        name = cls.__qualname__
    except Exception:  # noqa: BLE001 - an odd metaclass: a name is not worth an exception
        return "object"
    if not isinstance(name, str):
        return "object"
    if module == "builtins" or not isinstance(module, str):
        return _safe_text(name, 80)
    return _safe_text(f"{module}.{name}", 80)


def _show(value: Any) -> str:
    """A short, safe description of a value for a rejection's reason (never its full repr)."""
    cls = type(value)
    if value is None or cls is bool:
        return repr(value)
    if cls is int:
        if value.bit_length() <= 64:
            return f"the int {value}"
        return f"an int of {value.bit_length()} bits"
    if cls is float:
        return f"the float {value!r}"
    if cls is str:
        return f"the str {value[:40]!r}" + ("..." if len(value) > 40 else "")
    if cls in (list, tuple, dict, set, frozenset, bytes, bytearray):
        return f"a {cls.__name__} of {len(value)} item(s)"
    return f"a {_type_name(value)}"


_DOOR: frozenset[type[Command]] = frozenset(cls for cls in COMMAND_TYPES.values())
for _cls in _DOOR:
    _checks(_cls)
del _cls
