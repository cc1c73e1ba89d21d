"""Read a scenario file into a validated `Scenario`, every error located at `file:line:col`.

The YAML is read with ruamel's round-trip loader, which remembers the line and column of every key
and value; pydantic validates plain python converted from it, and each pydantic error's ``loc`` is
walked back through the YAML tree to the place the author has to fix. The files a scenario refers
to (map, triage protocol, call cards) are resolved here too, and only inside the scenario's own
folder or the project's ``resources/`` and ``scenarios/`` folders.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import os
import types
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin, overload

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from ambsim_gui import paths as project_paths
from ambsim_gui.scenario.errors import Problem, ScenarioError
from ambsim_gui.scenario.model import Scenario

__all__ = [
    "LoadedScenario",
    "SCHEMA_ID",
    "json_schema",
    "load_scenario",
    "load_yaml",
    "resolve_resource",
    "validate_data",
    "validate_files",
    "warning_line",
]

M = TypeVar("M", bound=BaseModel)

FILE = "(file)"
ROOT = "(root)"
SCHEMA_ID = "https://ambsim.invalid/scenario.schema.json"
MAX_BYTES = 16 * 1024 * 1024
"""A scenario is a few kilobytes; anything this big is the wrong file."""
MAX_VALUES = 200_000
"""Values after alias expansion; stops a 'billion laughs' file from eating the memory."""

RESOURCE_KINDS: dict[str, str] = {"maps": "map", "triage": "protocol", "cards": "cards"}
"""Resource kind -> the scenario key that refers to a resource of that kind."""
REFERENCES: tuple[tuple[str, str], ...] = (
    ("map", "maps"),
    ("protocol", "triage"),
    ("cards", "cards"),
)
"""Scenario key -> resource kind, for the references :func:`load_scenario` checks."""

_YAML_STANDARD_TAG = "tag:yaml.org,2002:"
_MESSAGE_PREFIXES = ("Value error, ", "Assertion failed, ")
_INPUT_SHOULD_BE = "Input should be "
_KEY_ERRORS = frozenset({"extra_forbidden", "invalid_key"})
"""pydantic error types about a key itself: located at the key, the value not shown."""


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with the file it came from and the files it refers to."""

    scenario: Scenario
    path: Path
    """Absolute path of the scenario file."""
    text: str
    """The file's exact text."""
    sha256: str
    """Hex SHA-256 of the file's bytes; a recording names the scenario it was played with."""
    map_path: Path
    protocol_path: Path | None = None
    """None when the scenario uses the shipped protocol."""
    cards_path: Path | None = None
    """None when the scenario uses the shipped call cards."""
    warnings: tuple[Problem, ...] = ()
    """Semantic warnings (``scenario.semantic``): the shift runs, maybe not as the author meant."""


# --------------------------------------------------------------------------- reading the file


def _problem(file: str, line0: int, col0: int, where: str, message: str) -> Problem:
    """A Problem from a 0-based position, with the message kept on one line."""
    return Problem(file, max(1, line0 + 1), max(1, col0 + 1), where, " ".join(message.split()))


def _fail(
    file: str, message: str, line0: int = 0, col0: int = 0, where: str = FILE
) -> ScenarioError:
    return ScenarioError([_problem(file, line0, col0, where, message)])


def _read_bytes(path: Path, name: str) -> bytes:
    try:
        if path.is_dir():
            raise _fail(name, "is a folder, not a scenario file")
        if not path.exists():
            raise _fail(name, "file not found")
        if not path.is_file():
            raise _fail(name, "is not a regular file")
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except ScenarioError:
        raise
    except PermissionError:
        raise _fail(name, "cannot read the file: permission denied") from None
    except OSError as exc:
        raise _fail(name, f"cannot read the file: {exc.strerror or exc}") from None
    except ValueError as exc:  # e.g. a NUL byte in the name
        raise _fail(name, f"not a usable file name: {exc}") from None
    if len(data) > MAX_BYTES:
        raise _fail(name, f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB: not a scenario")
    return data


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line0 = data.count(b"\n", 0, exc.start)
        col0 = len(data[line_start : exc.start].decode("utf-8", errors="replace"))
        raise _fail(
            name,
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
            line0,
            col0,
        ) from None


def _position_in_text(text: str, index: int) -> tuple[int, int]:
    """0-based line and column of a character index."""
    index = max(0, min(index, len(text)))
    line0 = text.count("\n", 0, index)
    return line0, index - (text.rfind("\n", 0, index) + 1)


def _first_content(text: str) -> tuple[int, int]:
    """0-based position of the first thing that is not blank, a comment or a directive."""
    for line0, line in enumerate(text.split("\n")):
        stripped = line.strip().lstrip("\ufeff")
        if stripped and not stripped.startswith(("#", "%")) and stripped != "---":
            return line0, len(line) - len(line.lstrip())
    return 0, 0


class _Constructor(RoundTripConstructor):
    """Round-trip constructor that locates values it cannot build (e.g. ``2024-13-45``)."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (YAMLError, RecursionError):
            raise
        except Exception as exc:
            raise ConstructorError(
                None, None, f"cannot read this value: {exc}", node.start_mark
            ) from exc


def _mark_position(mark: Any) -> tuple[int, int]:
    return int(getattr(mark, "line", 0) or 0), int(getattr(mark, "column", 0) or 0)


def _yaml_problem(exc: MarkedYAMLError, name: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line0, col0 = _mark_position(mark) if mark is not None else (0, 0)
    message = exc.problem or exc.context or "invalid YAML"
    duplicate = isinstance(exc, DuplicateKeyError)  # its context is just the mapping's start
    if exc.problem and exc.context and exc.context_mark is not None and not duplicate:
        cline0, ccol0 = _mark_position(exc.context_mark)
        if (cline0, ccol0) != (line0, col0):
            message = f"{message} ({exc.context} at {cline0 + 1}:{ccol0 + 1})"
    return _problem(name, line0, col0, FILE, f"YAML: {message}")


def _parse(text: str, name: str) -> CommentedMap:
    """Text -> round-trip mapping, or ScenarioError; no ruamel exception gets out."""
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = yaml.load(text)
    except MarkedYAMLError as exc:
        raise ScenarioError([_yaml_problem(exc, name)]) from None
    except ReaderError as exc:
        line0, col0 = _position_in_text(text, int(getattr(exc, "position", 0) or 0))
        char = getattr(exc, "character", None)
        what = f"U+{char:04X}" if isinstance(char, int) else repr(char)
        raise _fail(name, f"YAML: special character {what} is not allowed", line0, col0) from None
    except YAMLError as exc:
        raise _fail(name, f"YAML: {exc}") from None
    except RecursionError:
        raise _fail(name, "YAML: nested too deeply") from None
    except Exception as exc:  # ruamel has no other documented failures; never let one escape
        raise _fail(name, f"YAML: cannot read the file: {type(exc).__name__}: {exc}") from None
    if data is None:
        raise _fail(name, "file is empty: a scenario needs at least 'schema_version', 'name', ...")
    if not isinstance(data, CommentedMap):
        line0, col0 = _own_position(data) or _first_content(text)
        kind = "a list" if isinstance(data, list) else f"a single value ({type(data).__name__})"
        raise _fail(
            name,
            f"the top level must be a mapping of keys like 'name: ...', not {kind}",
            line0,
            col0,
        )
    return data


def load_yaml(path: str | os.PathLike[str]) -> CommentedMap:
    """Read a YAML file as a round-trip mapping that keeps every key's line and column.

    Raises ScenarioError for a missing or unreadable file, non-UTF-8 text, an empty file, a YAML
    syntax error (at the parser's position), duplicate keys or a top level that is not a mapping.
    """
    name = os.fspath(path)
    return _parse(_decode(_read_bytes(Path(path), name), name), name)


# --------------------------------------------------------------------------- positions


def _own_position(node: Any) -> tuple[int, int] | None:
    """0-based start of a mapping (its first key) or sequence (its first item)."""
    lc = getattr(node, "lc", None) if isinstance(node, (CommentedMap, CommentedSeq)) else None
    line = getattr(lc, "line", None)
    col = getattr(lc, "col", None)
    if isinstance(line, int) and isinstance(col, int):
        return line, col
    return None


def _lc_entry(node: Any, key: Any) -> list[int] | None:
    try:
        entry = node.lc.data[key]
    except (AttributeError, KeyError, IndexError, TypeError):
        return None
    return entry if isinstance(entry, list) and all(isinstance(x, int) for x in entry) else None


def _key_position(node: Any, key: Any) -> tuple[int, int] | None:
    entry = _lc_entry(node, key)
    return (entry[0], entry[1]) if entry and len(entry) >= 2 else None


def _value_position(node: Any, key: Any) -> tuple[int, int] | None:
    """Where the author fixes a key's value: the value when it is on the key's line, else the key.

    An empty value's recorded position is the next line, and a block collection's is its first
    item; both read better at the key.
    """
    entry = _lc_entry(node, key)
    if not entry or len(entry) < 4:
        return None
    value = node.get(key) if isinstance(node, Mapping) else None
    if value is None or (isinstance(value, (dict, list)) and entry[2] != entry[0]):
        return entry[0], entry[1]
    return entry[2], entry[3]


def _item_position(node: Any, index: int) -> tuple[int, int] | None:
    entry = _lc_entry(node, index)
    return (entry[0], entry[1]) if entry and len(entry) >= 2 else None


def _part(elem: Any) -> str:
    """One dotted-path part; keys with line breaks or control characters are quoted."""
    text = str(elem)
    return text if text.isprintable() else repr(text)


def _child(node: Any, elem: str | int) -> tuple[bool, Any, Any]:
    """(found, child, key as stored in the YAML) for one step of a pydantic loc."""
    if isinstance(node, Mapping):
        try:
            if elem in node:
                return True, node[elem], elem
        except TypeError:
            pass
        for key in node:  # keys pydantic turned into strings, like a YAML complex key
            if not isinstance(key, (str, int, float)) and str(key) == str(elem):
                return True, node[key], key
    elif isinstance(node, list) and isinstance(elem, int) and not isinstance(elem, bool):
        if 0 <= elem < len(node):
            return True, node[elem], elem
    return False, None, None


@dataclass
class _Located:
    """Where one pydantic error points in the YAML."""

    parts: list[str]
    """Dotted-path parts: loc without union member labels and '[key]'."""
    position: tuple[int, int]
    union_at: int | None
    """len(parts) where the first union member label was met, if any."""
    union_position: tuple[int, int] | None
    label: str | int | None
    """That union member's label, e.g. 'str' or 'tuple[float, float]'."""
    is_key: bool


def _locate(root: Any, loc: tuple[str | int, ...], err_type: str) -> _Located:
    node = root
    position = _own_position(root) or (0, 0)
    parts: list[str] = []
    union_at: int | None = None
    union_position: tuple[int, int] | None = None
    label: str | int | None = None
    parent: Any = None
    last_key: Any = None
    is_key = False
    for index, elem in enumerate(loc):
        final = index == len(loc) - 1
        if elem == "[key]":
            is_key = True
            if parent is not None and isinstance(parent, Mapping):
                position = _key_position(parent, last_key) or position
            continue
        found, child, key = _child(node, elem)
        if found:
            if isinstance(node, Mapping):
                step = _value_position(node, key)
            else:
                step = _item_position(node, key)
            parts.append(_part(elem))
            parent, last_key, node = node, key, child
            position = step or position
            continue
        if final and err_type.startswith("missing"):
            parts.append(_part(elem))
            position = _own_position(node) or position
            continue
        if union_at is None:  # a union member label such as 'str' or 'tuple[float, float]'
            union_at, union_position, label = len(parts), position, elem
    if err_type in _KEY_ERRORS and isinstance(parent, Mapping):
        position = _key_position(parent, last_key) or position
    return _Located(parts, position, union_at, union_position, label, is_key)


# --------------------------------------------------------------------------- messages


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
    """One pydantic error, located and worded."""

    located: _Located
    message: str
    got: str | None
    """The offending scalar input, rendered, when there is one."""


def _message(error: Mapping[str, Any], model: type[BaseModel]) -> str:
    message = str(error.get("msg", "invalid value"))
    for prefix in _MESSAGE_PREFIXES:
        if message.startswith(prefix):
            message = message[len(prefix) :]
    if error.get("type") == "extra_forbidden":
        loc = tuple(error.get("loc", ()))
        key = loc[-1] if loc else ""
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


def _problems_from_validation(
    exc: ValidationError, data: Any, name: str, model: type[BaseModel]
) -> list[Problem]:
    findings: list[_Finding] = []
    for error in exc.errors(include_url=False):
        loc = tuple(error.get("loc", ()))
        err_type = str(error.get("type", ""))
        got = None
        if not err_type.startswith("missing") and err_type not in _KEY_ERRORS:
            got = _show(error.get("input"))
        findings.append(_Finding(_locate(data, loc, err_type), _message(error, model), got))
    groups: dict[tuple[str, ...], tuple[tuple[int, int], list[_Finding]]] = {}
    for parts, position, finding in _settle_unions(findings):
        groups.setdefault(tuple(parts), (position, []))[1].append(finding)
    problems = []
    for parts_key, (position, group) in groups.items():
        where = ".".join(parts_key) or ROOT
        problems.append(_problem(name, position[0], position[1], where, _combine(group)))
    return problems


# --------------------------------------------------------------------------- plain python


class _Plain:
    """Round-trip YAML -> plain python (dict, list, str, int, float, bool, None).

    Counts values so aliases cannot multiply a small file into a huge one, and notes tags that
    have no meaning in a scenario (``!include``...).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0
        self.problems: list[Problem] = []
        self._active: set[int] = set()

    def convert(self, value: Any, parts: tuple[str, ...], position: tuple[int, int]) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise _fail(self.name, f"more than {MAX_VALUES} values once aliases are expanded")
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, ScalarBoolean):  # an int subclass
            return bool(value)
        if isinstance(value, int):  # also ruamel's ScalarInt, HexInt...
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, str):
            return str(value)
        if isinstance(value, TaggedScalar):
            tag = str(getattr(value.tag, "value", value.tag))
            if not tag.startswith(_YAML_STANDARD_TAG):
                line0, col0 = position
                where = ".".join(parts) or ROOT
                self.problems.append(
                    _problem(self.name, line0, col0, where, f"YAML tag {tag!r} is not supported")
                )
            return str(value.value)
        if isinstance(value, (Mapping, list, tuple, set, frozenset)):
            if id(value) in self._active:
                line0, col0 = position
                raise _fail(self.name, "a value contains itself through an alias", line0, col0)
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
                step = _value_position(value, key) or position
                result[self._key(key)] = self.convert(item, (*parts, _part(key)), step)
            return result
        items = list(value)
        return [
            self.convert(item, (*parts, str(i)), _item_position(value, i) or position)
            for i, item in enumerate(items)
        ]

    def _key(self, key: Any) -> Any:
        if key is None or isinstance(key, bool):
            return key
        if isinstance(key, int):
            return int(key)
        if isinstance(key, float):
            return float(key)
        if isinstance(key, str):
            return str(key)
        return str(key)


# --------------------------------------------------------------------------- validation


@overload
def validate_data(data: Any, path: str | os.PathLike[str]) -> Scenario: ...


@overload
def validate_data(data: Any, path: str | os.PathLike[str], model: type[M]) -> M: ...


def validate_data(
    data: Any, path: str | os.PathLike[str], model: type[BaseModel] = Scenario
) -> BaseModel:
    """Validate loaded YAML against ``model``; every error located at the YAML's line:col.

    ``data`` is normally what :func:`load_yaml` returned; plain python works too, with every
    problem at 1:1. Raises ScenarioError with all problems, sorted by line and column.
    """
    name = os.fspath(path)
    plain = _Plain(name)
    converted = plain.convert(data, (), _own_position(data) or (0, 0))
    problems = list(plain.problems)
    try:
        result = model.model_validate(converted)
    except ValidationError as exc:
        tagged = {p.where for p in problems}
        problems += [
            p for p in _problems_from_validation(exc, data, name, model) if p.where not in tagged
        ]
    else:
        if not problems:
            return result
    raise ScenarioError(_sorted(problems))


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line, p.col, p.where, p.message))


# --------------------------------------------------------------------------- resources


def _resource_candidates(scenario_dir: Path, ref: str, kind: str) -> list[Path]:
    names = [ref]
    if kind == "maps" and not Path(ref).suffix:
        names.append(ref + ".json")
    if Path(ref).is_absolute():
        return [Path(n) for n in names]
    bases = [scenario_dir, project_paths.RESOURCES / kind]
    return [base / n for base in bases for n in names]


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def resolve_resource(
    scenario_path: Path,
    ref: str,
    kind: str,
    *,
    line: int = 1,
    col: int = 1,
    file: str | None = None,
) -> Path:
    """Resolve a file named inside a scenario (``map: county``) to an existing, allowed path.

    Tried relative to the scenario's folder first, then under ``resources/<kind>``; a map name
    without a suffix also tries ``.json``. The result, with symlinks and ``..`` resolved, must lie
    inside the scenario's folder, ``resources/`` or ``scenarios/``; anything else is refused.
    ``kind`` is one of ``maps``, ``triage``, ``cards``. Problems are reported at ``line``:``col``
    of ``file`` (default: the scenario path), under the key that holds the reference.
    """
    if kind not in RESOURCE_KINDS:
        raise ValueError(
            f"unknown resource kind {kind!r}; expected one of {sorted(RESOURCE_KINDS)}"
        )
    where = RESOURCE_KINDS[kind]
    name = file if file is not None else os.fspath(scenario_path)

    def refuse(message: str) -> ScenarioError:
        return ScenarioError([Problem(name, max(1, line), max(1, col), where, message)])

    if not ref.strip():
        raise refuse(f"{where} is empty")
    if "\0" in ref:
        raise refuse(f"{where} {ref!r} is not a usable file name")
    try:
        scenario_dir = Path(scenario_path).resolve().parent
        roots = [
            scenario_dir,
            Path(project_paths.RESOURCES).resolve(),
            Path(project_paths.SCENARIOS).resolve(),
        ]
        outside = False
        wrong_type: Path | None = None
        for candidate in _resource_candidates(scenario_dir, ref, kind):
            resolved = candidate.resolve()
            if not _inside(resolved, roots):
                outside = True
                continue
            if resolved.is_file() or (kind == "cards" and resolved.is_dir()):
                return resolved
            if resolved.exists() and wrong_type is None:
                wrong_type = resolved
    except (OSError, RuntimeError, ValueError) as exc:
        raise refuse(f"{where} {ref!r} cannot be used: {exc}") from None
    if outside:
        raise refuse(
            f"{ref!r} is outside the allowed folders (the scenario's folder, resources/, "
            "scenarios/)"
        )
    if wrong_type is not None:
        raise refuse(f"{ref!r} is a folder, not a file")
    what = {"maps": "map file", "triage": "protocol file", "cards": "call cards"}[kind]
    raise refuse(f"{what} {ref!r} not found next to the scenario or in resources/{kind}/")


# --------------------------------------------------------------------------- the whole file


def load_scenario(path: str | os.PathLike[str], *, semantic: bool = True) -> LoadedScenario:
    """Read, validate and resolve a scenario file; ScenarioError lists every problem found.

    With ``semantic`` (the default) the scenario is also checked against its map, call cards and
    itself (:mod:`ambsim_gui.scenario.semantic`): semantic errors raise like schema errors, and
    semantic warnings come back in ``LoadedScenario.warnings``.
    """
    name = os.fspath(path)
    file_path = Path(path)
    raw = _read_bytes(file_path, name)
    text = _decode(raw, name)
    data = _parse(text, name)
    problems: list[Problem] = []
    scenario: Scenario | None = None
    try:
        scenario = validate_data(data, name)
    except ScenarioError as exc:
        problems += exc.problems
    resolved: dict[str, Path] = {}
    for key, kind in REFERENCES:
        ref = data.get(key)
        if not isinstance(ref, str):
            continue  # absent, or a wrong type that validation has reported
        line0, col0 = _value_position(data, key) or (0, 0)
        try:
            resolved[key] = resolve_resource(
                file_path, str(ref), kind, line=line0 + 1, col=col0 + 1, file=name
            )
        except ScenarioError as exc:
            problems += exc.problems
    if problems or scenario is None:
        raise ScenarioError(_sorted(problems))
    loaded = LoadedScenario(
        scenario=scenario,
        path=file_path.resolve(),
        text=text,
        sha256=hashlib.sha256(raw).hexdigest(),
        map_path=resolved["map"],
        protocol_path=resolved.get("protocol"),
        cards_path=resolved.get("cards"),
    )
    if not semantic:
        return loaded
    errors, warned = _semantic_problems(loaded, data, name)
    if errors:
        raise ScenarioError(errors)
    return dataclasses.replace(loaded, warnings=tuple(warned))


def _semantic_problems(
    loaded: LoadedScenario, data: CommentedMap, name: str
) -> tuple[list[Problem], list[Problem]]:
    """Semantic (errors, warnings), reported under the file name the caller used."""
    from ambsim_gui.scenario.semantic import check_semantics  # it imports this module

    errors, warned = check_semantics(loaded, data)
    return (
        [dataclasses.replace(p, file=name) for p in errors],
        [dataclasses.replace(p, file=name) for p in warned],
    )


def warning_line(problem: Problem) -> str:
    """A warning as ``validate`` prints it: ``file:line:col: where: warning: message``."""
    where = f"{problem.file}:{problem.line}:{problem.col}: {problem.where}"
    return f"{where}: warning: {problem.message}"


def validate_files(paths: list[str]) -> tuple[int, list[str]]:
    """Check scenario files for ``main.py validate``: (exit code, output lines).

    Every file is checked and every problem of every file listed, one per line: schema and
    semantic errors as ``file:line:col: where: message``, semantic warnings as
    ``file:line:col: where: warning: message``. The exit code is 1 when any file has an error;
    warnings alone leave it 0.
    """
    if not paths:
        return 1, ["validate: no files given"]
    lines: list[str] = []
    bad = 0
    warned_total = 0
    for name in paths:
        try:
            loaded = load_scenario(name, semantic=False)
            errors, warned = _semantic_problems(loaded, load_yaml(name), name)
        except ScenarioError as exc:
            bad += 1
            lines += [str(problem) for problem in exc.problems]
            continue
        warned_total += len(warned)
        found = [(p, str(p)) for p in errors] + [(p, warning_line(p)) for p in warned]
        found.sort(key=lambda item: (item[0].line, item[0].col, item[1]))
        lines += [line for _, line in found]
        if errors:
            bad += 1
        else:
            lines.append(f"{name}: ok ({loaded.scenario.name!r})")
    files = "file" if len(paths) == 1 else "files"
    summary = f"{len(paths)} {files} checked, {bad} with problems"
    if warned_total:
        summary += f", {warned_total} warning{'' if warned_total == 1 else 's'}"
    lines.append(summary)
    return (1 if bad else 0), lines


def json_schema() -> dict[str, Any]:
    """The scenario file's JSON Schema, for editors that complete and check YAML."""
    schema = Scenario.model_json_schema()
    schema["title"] = "ambsim scenario"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
