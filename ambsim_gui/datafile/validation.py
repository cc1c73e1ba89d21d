"""Validate a data file's tree with pydantic; every error worded for an author and located.

The tree (normally ruamel's round-trip tree, see :mod:`~ambsim_gui.datafile.yamlfile`) is
converted to plain python within the value limits, validated against a pydantic model, and
each pydantic error's ``loc`` walked back through the tree to the place the author has to fix.
Errors at one place are joined into one line, and a union's noise is settled to the member
the author most likely meant.
"""

from __future__ import annotations

import difflib
import functools
import os
import reprlib
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from ruamel.yaml.comments import TaggedScalar
from ruamel.yaml.scalarbool import ScalarBoolean

from ambsim_gui.datafile.limits import MAX_TEXT, MAX_VALUES, too_many_values, too_much_text
from ambsim_gui.datafile.positions import (
    KEY_ERRORS,
    Located,
    item_position,
    locate,
    own_position,
    part,
    value_position,
)
from ambsim_gui.datafile.problems import (
    MAX_PROBLEMS,
    ROOT,
    DataFileError,
    Problem,
    fail,
    listed,
    more,
    problem,
)

__all__ = ["problems_from_validation", "validate_data"]

M = TypeVar("M", bound=BaseModel)

_YAML_STANDARD_TAG = "tag:yaml.org,2002:"
_MESSAGE_PREFIXES = ("Value error, ", "Assertion failed, ")
_INPUT_SHOULD_BE = "Input should be "


def _unwrap(tp: Any) -> Any:
    """Strip Annotated[...] and Optional[...] (a union with None and one other member)."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
            continue
        if origin in (Union, types.UnionType):
            members = [m for m in get_args(tp) if m is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _field_names_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """Field names of the model found by following ``loc`` through the type annotations."""
    tp: Any = model
    for elem in loc:
        tp = _unwrap(tp)
        origin, args = get_origin(tp), get_args(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(elem) if isinstance(elem, str) else None
            if field is None:
                return []
            tp = field.annotation
        elif origin in (Union, types.UnionType):
            members = [m for m in args if str(getattr(m, "__name__", m)) == elem or str(m) == elem]
            if not members:
                return []
            tp = members[0]
        elif origin in (list, set, frozenset) and args:
            tp = args[0]
        elif origin is tuple and args:
            if len(args) == 2 and args[1] is Ellipsis:
                tp = args[0]
            elif isinstance(elem, int) and 0 <= elem < len(args):
                tp = args[elem]
            else:
                return []
        elif origin in (dict, Mapping) and len(args) == 2:
            tp = args[1]
        else:
            return []
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [field.alias or name for name, field in tp.model_fields.items()]
    return []


def _show(value: Any) -> str | None:
    """A short rendering of a scalar input, None for collections and models."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float)):
        text = repr(value)
    elif isinstance(value, str):
        text = repr(value if len(value) <= 40 else value[:37] + "...")
    else:
        return None
    return text if len(text) <= 60 else text[:57] + "..."


def _suggestion(key: Any, names: list[str]) -> str:
    if not names:
        return ""
    close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    if len(names) <= 8:
        return "; allowed keys: " + ", ".join(names)
    return ""


def _join_alternatives(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


@dataclass
class _Finding:
    """One pydantic error, located; worded only when it is listed (wording can be slow)."""

    located: Located
    error: Mapping[str, Any]
    model: type[BaseModel] | None
    got: str | None
    """The offending scalar input, rendered, when there is one."""

    @functools.cached_property
    def message(self) -> str:
        return _message(self.error, self.model)


def _message(error: Mapping[str, Any], model: type[BaseModel] | None) -> str:
    message = str(error.get("msg", "invalid value"))
    for prefix in _MESSAGE_PREFIXES:
        if message.startswith(prefix):
            message = message[len(prefix) :]
    if error.get("type") == "extra_forbidden":
        loc = tuple(error.get("loc", ()))
        key = loc[-1] if loc else ""
        if model is not None:
            message += _suggestion(key, _field_names_at(model, loc[:-1]))
    return message


def _combine(findings: list[_Finding]) -> str:
    """One readable line for several errors at one place."""
    texts: list[str] = []
    for finding in findings:
        if finding.message not in texts:
            texts.append(finding.message)
    if all(t.startswith(_INPUT_SHOULD_BE) for t in texts):
        message = _INPUT_SHOULD_BE + _join_alternatives([t[len(_INPUT_SHOULD_BE) :] for t in texts])
    else:
        message = "; ".join(texts)
    got = next((f.got for f in findings if f.got is not None), None)
    if got is not None:
        message += f" (got {'key ' if findings[0].located.is_key else ''}{got})"
    return message


def _settle_unions(findings: list[_Finding]) -> list[tuple[list[str], tuple[int, int], _Finding]]:
    """(path, position, finding) with the noise of unions taken out.

    pydantic reports every member of a union that did not match. When no member got past the
    value itself, all of them are kept at the union's place (and later joined: "Input should be
    a valid string or a valid tuple"). When some member got further into the value, the author
    most likely meant that one: only the member that got deepest (then: with fewest errors) is
    kept, each error at its own place.
    """
    out: list[tuple[list[str], tuple[int, int], _Finding]] = []
    unions: dict[tuple[str, ...], list[_Finding]] = {}
    for finding in findings:
        located = finding.located
        if located.union_at is None:
            out.append((located.parts, located.position, finding))
        else:
            unions.setdefault(tuple(located.parts[: located.union_at]), []).append(finding)
    for base, members in unions.items():
        base_position = members[0].located.union_position or members[0].located.position
        by_label: dict[str, list[_Finding]] = {}
        for finding in members:
            by_label.setdefault(str(finding.located.label), []).append(finding)

        def depth(group: list[_Finding], base: tuple[str, ...] = base) -> int:
            return min(len(f.located.parts) - len(base) for f in group)

        if all(depth(group) == 0 for group in by_label.values()):
            out += [(list(base), base_position, f) for f in members]
            continue
        best = max(by_label.values(), key=lambda group: (depth(group), -len(group)))
        out += [(f.located.parts, f.located.position, f) for f in best]
    return out


def problems_from_validation(
    exc: ValidationError, data: Any, name: str, model: type[BaseModel] | None
) -> list[Problem]:
    """pydantic's errors for ``data`` (the tree it was built from) as located problems; with
    ``model``, a misspelt key gets the closest field name as a suggestion."""
    findings: list[_Finding] = []
    errors = exc.errors(include_url=False)
    deeper = {tuple(e.get("loc", ()))[:n] for e in errors for n in range(len(e.get("loc", ())))}
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if error.get("type") == "too_short" and loc in deeper:
            continue  # pydantic's echo of an item that failed: the item's own error says why
        err_type = str(error.get("type", ""))
        got = None
        if not err_type.startswith("missing") and err_type not in KEY_ERRORS:
            got = _show(error.get("input"))
        findings.append(_Finding(locate(data, loc, err_type), error, model, got))
        findings.append(_Finding(locate(data, loc, err_type), error, model, got))
    groups: dict[tuple[str, ...], tuple[tuple[int, int], list[_Finding]]] = {}
    for parts, position, finding in _settle_unions(findings):
        groups.setdefault(tuple(parts), (position, []))[1].append(finding)
    placed = sorted(
        ((position, ".".join(parts_key) or ROOT, group)
         for parts_key, (position, group) in groups.items()),
        key=lambda item: (item[0], item[1]),
    )  # fmt: skip
    problems = [
        problem(name, position[0], position[1], where, _combine(group))
        for position, where, group in placed[:MAX_PROBLEMS]
    ]
    if len(placed) > MAX_PROBLEMS:
        problems.append(more(name, placed[MAX_PROBLEMS][0], len(placed) - MAX_PROBLEMS))
    return problems


_SHORT_KEY = reprlib.Repr()
_SHORT_KEY.maxlevel, _SHORT_KEY.maxtuple, _SHORT_KEY.maxlist = 3, 8, 8
_SHORT_KEY.maxstring = _SHORT_KEY.maxother = 80


class _Plain:
    """Round-trip YAML -> plain python (dict, list, str, int, float, bool, None).

    Counts values so aliases cannot multiply a small file into a huge one, and notes tags that
    have no meaning in a scenario (``!include``...).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0
        self.chars = 0
        self.problems: list[Problem] = []
        self._active: set[int] = set()

    def _text(self, text: str, position: tuple[int, int]) -> str:
        self.chars += len(text)
        if self.chars > MAX_TEXT:
            raise too_much_text(self.name, *position)
        return str(text)

    def convert(self, value: Any, parts: tuple[str, ...], position: tuple[int, int]) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise too_many_values(self.name)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, ScalarBoolean):  # an int subclass
            return bool(value)
        if isinstance(value, int):  # also ruamel's ScalarInt, HexInt...
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, str):
            return self._text(value, position)
        if isinstance(value, TaggedScalar):
            tag = str(getattr(value.tag, "value", value.tag))
            if not tag.startswith(_YAML_STANDARD_TAG):
                line0, col0 = position
                where = ".".join(parts) or ROOT
                self.problems.append(
                    problem(self.name, line0, col0, where, f"YAML tag {tag!r} is not supported")
                )
            return self._text(str(value.value), position)
        if isinstance(value, (Mapping, list, tuple, set, frozenset)):
            if id(value) in self._active:
                line0, col0 = position
                raise fail(self.name, "a value contains itself through an alias", line0, col0)
            self._active.add(id(value))
            try:
                return self._collection(value, parts, position)
            finally:
                self._active.discard(id(value))
        return value  # dates, bytes...: pydantic says what is wrong with them

    def _collection(self, value: Any, parts: tuple[str, ...], position: tuple[int, int]) -> Any:
        if isinstance(value, Mapping):
            result: dict[Any, Any] = {}
            for key, item in value.items():
                step = value_position(value, key) or position
                result[self._key(key, step)] = self.convert(item, (*parts, part(key)), step)
            return result
        items = list(value)
        return [
            self.convert(item, (*parts, str(i)), item_position(value, i) or position)
            for i, item in enumerate(items)
        ]

    def _key(self, key: Any, position: tuple[int, int]) -> Any:
        if key is None or isinstance(key, bool):
            return key
        if isinstance(key, int):
            return int(key)
        if isinstance(key, float):
            return float(key)
        if isinstance(key, str):
            return self._text(key, position)
        # A complex key (``? [a, b]``): its text, unless that would be huge (aliases inside)
        short = _SHORT_KEY.repr(key)
        return self._text(short if "..." in short else str(key), position)


# --------------------------------------------------------------------------- validation


def validate_data(data: Any, path: str | os.PathLike[str], model: type[M]) -> M:
    """Validate a loaded tree against ``model``; every error located at the YAML's line:col.

    ``data`` is normally what :func:`load_yaml` returned; plain python works too, with every
    problem at 1:1. Raises DataFileError with all problems, sorted by line and column.
    """
    name = os.fspath(path)
    plain = _Plain(name)
    converted = plain.convert(data, (), own_position(data) or (0, 0))
    problems = list(plain.problems)
    try:
        result = model.model_validate(converted)
    except ValidationError as exc:
        tagged = {p.where for p in problems}
        problems += [
            p for p in problems_from_validation(exc, data, name, model) if p.where not in tagged
        ]
    else:
        if not problems:
            return result
    raise DataFileError(listed(name, problems))
