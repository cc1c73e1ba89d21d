"""How events and commands are written into a session file, and read back, losslessly.

One job: turn an event, a command or a call's feedback into the exact text a session stores,
and back. A command or a feedback record is a row of canonical JSON (keys sorted, no spaces,
tuples as lists). So was each event in schema 1: its kind in its own column, its fields as
canonical JSON; schema 2 stores events in blocks (``blocks``), and ``event_json`` remains the
canonical text by which ``verify`` compares a re-simulated event with a recorded one.

The time ``t`` has its own column and is left out of the JSON (formatting a float costs
microseconds, and the column is exact). The encoder is built once: ``json.dumps`` with options
builds a new encoder per call, which was a third of the recording's cost; field names are
sorted once per event class.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev

_ENCODE = json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode


def _presorted_encoder() -> Callable[[Any], str]:
    """Canonical JSON of a dict whose keys are already sorted, as ``_ENCODE`` would write it.

    ``JSONEncoder.encode`` makes a new C encoder on every call (about 6 us here); the C
    encoder made once and reused writes the same text for a fraction of that.
    """
    maker = getattr(json.encoder, "c_make_encoder", None)
    if maker is None:  # a Python without the C accelerator: correct, only slower
        return _ENCODE
    reference = json.JSONEncoder(separators=(",", ":"), sort_keys=True)
    encoder = maker(
        None,  # no circular-reference markers: events hold plain values
        reference.default,
        json.encoder.encode_basestring_ascii,
        None,
        ":",
        ",",
        True,
        False,
        True,
    )

    def encode(value: Any) -> str:
        return "".join(encoder(value, 0))

    return encode


_ENCODE_PRESORTED = _presorted_encoder()
encode_presorted = _ENCODE_PRESORTED
"""Canonical JSON of a dict with sorted keys, from an encoder made once."""

_FIELDS: dict[type[ev.Event], tuple[tuple[str, ...], tuple[str, ...]]] = {}


def field_names(cls: type[ev.Event]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The event class's fields but ``t``, sorted; and those that hold tuples."""
    names = _FIELDS.get(cls)
    if names is None:
        own = sorted((f for f in fields(cls) if f.name != "t"), key=lambda f: f.name)
        tuples = tuple(f.name for f in own if "tuple" in str(f.type))
        names = _FIELDS[cls] = (tuple(f.name for f in own), tuples)
    return names


class CodecError(ValueError):
    """A stored row that cannot be turned back into an event or a command."""


def event_json(event: ev.Event) -> str:
    """The event's fields but ``t`` as canonical JSON (kind and time are stored beside it)."""
    names, tuples = field_names(type(event))
    values = event.__dict__
    data = {name: values[name] for name in names}
    for name in tuples:
        value = data[name]
        if type(value) is tuple:
            data[name] = list(value)
    return _ENCODE_PRESORTED(data)


def event_from_row(kind: str, t: float, text: str) -> ev.Event:
    """Rebuild an event from its stored kind, time and JSON; CodecError when impossible.

    A row with exactly the class's fields is rebuilt without calling ``__init__`` (events are
    frozen dataclasses of plain values, so this is the same object, several times faster);
    anything else goes through ``__init__``, which fills defaults or says what is wrong.
    """
    cls = ev.EVENT_TYPES.get(kind)
    if cls is None:
        raise CodecError(f"unknown event kind {kind!r}")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CodecError(f"event JSON does not parse: {exc}") from None
    if not isinstance(data, dict):
        raise CodecError("event JSON is not an object")
    names, tuples = field_names(cls)
    for name in tuples:
        value = data.get(name)
        if isinstance(value, list):
            data[name] = tuple(value)
    if len(data) == len(names) and data.keys() == _name_sets(cls, names):
        data["t"] = t
        event = object.__new__(cls)
        event.__dict__.update(data)
        return event
    for key, value in list(data.items()):
        if isinstance(value, list):
            data[key] = tuple(value)
    data["t"] = t
    try:
        return cls(**data)
    except TypeError as exc:
        raise CodecError(f"{kind}: {exc}") from None


_NAME_SETS: dict[type[ev.Event], frozenset[str]] = {}


def _name_sets(cls: type[ev.Event], names: tuple[str, ...]) -> frozenset[str]:
    found = _NAME_SETS.get(cls)
    if found is None:
        found = _NAME_SETS[cls] = frozenset(names)
    return found


def command_json(command: cmd.Command) -> str:
    """The command as canonical JSON (``Command.to_dict``, keys sorted)."""
    return _ENCODE(command.to_dict())


def command_from_json(text: str) -> cmd.Command:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CodecError(f"command JSON does not parse: {exc}") from None
    if not isinstance(data, dict):
        raise CodecError("command JSON is not an object")
    try:
        return cmd.command_from_dict(data)
    except (TypeError, ValueError) as exc:
        raise CodecError(str(exc)) from None


_PLAIN = frozenset({str, int, bool, type(None)})


def feedback_json(record: Any) -> str:
    """``canonical(record.to_json_dict())`` for a flat record (``CallFeedback``), without
    ``to_json``'s recursion over ``dataclasses.fields`` (it was most of the feedback's cost).

    Any value that is not plain (a nested record, a number type of numpy's ...) goes the
    general way, so the text is always the same.
    """
    data: dict[str, Any] = {}
    for name, value in record.__dict__.items():
        kind = type(value)
        if kind in _PLAIN:
            data[name] = value
        elif kind is float:
            data[name] = value if math.isfinite(value) else None
        elif kind is tuple and all(type(item) is str for item in value):
            data[name] = list(value)
        else:
            return canonical(record.to_json_dict())
    return _ENCODE_PRESORTED(data)


def canonical(value: Any) -> str:
    """Canonical JSON of plain data (sorted keys, no spaces): what hashes and compares."""
    return _ENCODE(value)
