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
import functools
import hashlib
import os
import reprlib
import types
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin, overload

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.composer import Composer
from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, ScalarEvent
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from ambsim_gui import paths as project_paths
from ambsim_gui.scenario.errors import Problem, ScenarioError
from ambsim_gui.scenario.model import Scenario

__all__ = [
    "LoadedScenario",
    "SCHEMA_ID",
    "check_limits",
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

# Limits on the file itself, checked before (and while) the YAML is read, so that no file can
# make ``validate`` hang or run out of memory. The shipped London-scale day is 23 KB and about
# 2,600 values; a scenario for the largest English trust, every station and vehicle group
# written out, is a few times that. Every limit below is ten times or more beyond that.
MAX_BYTES = 1024 * 1024
"""1 MiB: forty-five London-scale days. Reading it with the round-trip parser takes < 1 s."""
MAX_NODES = 25_000
"""Keys, list items and values as written (an alias counts once): ten London-scale days; the
round-trip parser needs about a second for this many, so a 100,000-key file is refused at
once instead of taking half a minute."""
MAX_DEPTH = 50
"""Nesting of mappings and lists: a scenario goes six deep (``injects[].polygon[][]``)."""
MAX_ALIASES = 1_000
"""Uses of ``*alias``: enough to share one shift among every vehicle group of a big trust."""
MAX_VALUES = 200_000
"""Values after alias expansion; stops a 'billion laughs' file from eating the memory."""
MAX_TEXT = MAX_BYTES
"""Characters of text after alias expansion: a long text aliased a hundred thousand times
would otherwise be copied that many times (gigabytes) before any check could refuse it."""
MAX_PROBLEMS = 100
"""Problems listed per file; the rest are counted on one more line (fix the first ones)."""
MAX_MESSAGE = 500
"""Characters of one message: YAML errors quote values, which may be long."""

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
    """A Problem from a 0-based position, with the message kept on one line and short."""
    text = " ".join(message.split())
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 3] + "..."
    return Problem(file, max(1, line0 + 1), max(1, col0 + 1), where, text)


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
        raise _fail(
            name,
            f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB: not a scenario "
            "(the London-scale day is 23 KB)",
        )
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


# --------------------------------------------------------------------------- size limits


def _too_many_nodes(name: str, mark: Any) -> ScenarioError:
    return _fail(
        name,
        f"more than {MAX_NODES} keys, list items and values: a scenario has a few thousand "
        "(the London-scale day about 2,600); is this the right file?",
        *_mark_position(mark),
    )


def _too_deep(name: str, mark: Any) -> ScenarioError:
    return _fail(
        name,
        f"nested more than {MAX_DEPTH} levels deep (a scenario needs six)",
        *_mark_position(mark),
    )


def _too_many_aliases(name: str, mark: Any) -> ScenarioError:
    return _fail(
        name,
        f"more than {MAX_ALIASES} aliases (*name): write the values out, or share fewer",
        *_mark_position(mark),
    )


def _too_many_values(name: str) -> ScenarioError:
    return _fail(name, f"more than {MAX_VALUES} values once aliases are expanded")


def _too_much_text(name: str, line0: int = 0, col0: int = 0) -> ScenarioError:
    return _fail(
        name, f"more than {MAX_TEXT} characters of text once aliases are expanded", line0, col0
    )


class _Tally:
    """Counts what a YAML event stream builds, aliases expanded, against the size limits.

    Fed by the libyaml pre-scan (:func:`_prescan`) and by ruamel's composer (:class:`_Composer`)
    alike, so both refuse the same files with the same messages, each at the event that goes
    past a limit: the value, the nesting or the ``*alias`` (only the total of values once
    aliases are expanded is reported at the top of the file).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.nodes = 0
        self.aliases = 0
        self.values = 0  # aliases expanded
        self.chars = 0  # aliases expanded
        self.sizes: dict[str, tuple[int, int]] = {}  # anchor -> (values, characters)
        self.stack: list[list[Any]] = []  # open collections: [values, characters, anchor]

    def _node(self, mark: Any) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _too_many_nodes(self.name, mark)

    def _add(self, values: int, chars: int, mark: Any) -> None:
        self.values += values
        self.chars += chars
        if self.stack:
            self.stack[-1][0] += values
            self.stack[-1][1] += chars
        if self.values > MAX_VALUES:
            raise _too_many_values(self.name)
        if self.chars > MAX_TEXT:
            raise _too_much_text(self.name, *_mark_position(mark))

    def scalar(self, anchor: Any, text: str, mark: Any) -> None:
        self._node(mark)
        if anchor is not None:
            self.sizes[str(anchor)] = (1, len(text))
        self._add(1, len(text), mark)

    def alias(self, anchor: Any, mark: Any) -> None:
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            raise _too_many_aliases(self.name, mark)
        self._add(*self.sizes.get(str(anchor), (0, 0)), mark)  # undefined: the parser says so

    def open(self, anchor: Any, mark: Any) -> None:
        self._node(mark)
        if len(self.stack) >= MAX_DEPTH:
            raise _too_deep(self.name, mark)
        self._add(1, 0, mark)
        self.stack.append([0, 0, anchor])

    def close(self) -> None:
        if not self.stack:
            return
        values, chars, anchor = self.stack.pop()
        if anchor is not None:
            self.sizes[str(anchor)] = (values + 1, chars)
        if self.stack:
            self.stack[-1][0] += values
            self.stack[-1][1] += chars


def _prescan(text: str, name: str) -> bool:
    """Refuse, fast, a text that breaks a size limit, before the round-trip parser reads it.

    libyaml (PyYAML's C parser) streams the events in a fraction of the time ruamel's pure-Python
    round-trip parser takes, so a file of 100,000 keys or a 'billion laughs' is refused in
    milliseconds. The same limits are enforced again while ruamel composes the document
    (:class:`_Composer`), so this is only a shortcut: without libyaml, or when libyaml cannot
    read the text (ruamel then says why), the verdict is the same, a little later. True when
    libyaml read the whole text.
    """
    try:
        from yaml import events
        from yaml.cyaml import CParser
    except ImportError:  # pragma: no cover - PyYAML is built with libyaml on every platform
        return False
    parser = CParser(text)
    tally = _Tally(name)
    try:
        while True:
            event = parser.get_event()
            if isinstance(event, events.ScalarEvent):
                tally.scalar(event.anchor, event.value, event.start_mark)
            elif isinstance(event, events.AliasEvent):
                tally.alias(event.anchor, event.start_mark)
            elif isinstance(event, events.CollectionStartEvent):
                tally.open(event.anchor, event.start_mark)
            elif isinstance(event, events.CollectionEndEvent):
                tally.close()
            elif isinstance(event, events.StreamEndEvent):
                return True
    except ScenarioError:
        raise
    except Exception:  # noqa: BLE001 - libyaml cannot read it: ruamel reports the error
        return False
    finally:
        parser.dispose()


class _Composer(Composer):
    """ruamel's composer, keeping a :class:`_Tally` of what it builds as it goes."""

    tally: _Tally  # one for each file: :func:`_parse` makes a subclass that sets it

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent):
            self.tally.alias(event.anchor, event.start_mark)
        elif isinstance(event, ScalarEvent):
            self.tally.scalar(event.anchor, event.value, event.start_mark)
        else:
            self.tally.open(event.anchor, event.start_mark)
            node = super().compose_node(parent, index)
            self.tally.close()
            return node
        return super().compose_node(parent, index)


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
    _prescan(text, name)
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor

    class _FileComposer(_Composer):
        tally = _Tally(name)

    yaml.Composer = _FileComposer
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = yaml.load(text)
    except ScenarioError:
        raise
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


def check_limits(path: str | os.PathLike[str], name: str | None = None) -> None:
    """Raise ScenarioError if a YAML data file breaks the loader's size limits.

    For the files a scenario names besides itself (a triage protocol, call cards), which
    other loaders read: the same limits as a scenario file (size, values, nesting, aliases and
    their expansion), so that no file a scenario validates with can make a run hang. Syntax is
    left to the loader of the file, except where libyaml is missing (then ruamel reads it here).
    """
    shown = os.fspath(path) if name is None else name
    text = _decode(_read_bytes(Path(path), shown), shown)
    if not _prescan(text, shown):  # no libyaml, or it cannot read the text: ruamel counts
        _parse(text, shown)


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
            if isinstance(key, str) and isinstance(elem, str) and _lossy(key) == elem:
                return True, node[key], key  # pydantic replaced its lone surrogates
    elif isinstance(node, list) and isinstance(elem, int) and not isinstance(elem, bool):
        if 0 <= elem < len(node):
            return True, node[elem], elem
    return False, None, None


def _lossy(text: str) -> str:
    """``text`` as pydantic gives it back in an error's ``loc``: lone surrogates replaced."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


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
            parts.append(_part(key if isinstance(key, str) else elem))
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
    """One pydantic error, located; worded only when it is listed (wording can be slow)."""

    located: _Located
    error: Mapping[str, Any]
    model: type[BaseModel]
    got: str | None
    """The offending scalar input, rendered, when there is one."""

    @functools.cached_property
    def message(self) -> str:
        return _message(self.error, self.model)


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
        findings.append(_Finding(_locate(data, loc, err_type), error, model, got))
    groups: dict[tuple[str, ...], tuple[tuple[int, int], list[_Finding]]] = {}
    for parts, position, finding in _settle_unions(findings):
        groups.setdefault(tuple(parts), (position, []))[1].append(finding)
    placed = sorted(
        ((position, ".".join(parts_key) or ROOT, group)
         for parts_key, (position, group) in groups.items()),
        key=lambda item: (item[0], item[1]),
    )  # fmt: skip
    problems = [
        _problem(name, position[0], position[1], where, _combine(group))
        for position, where, group in placed[:MAX_PROBLEMS]
    ]
    if len(placed) > MAX_PROBLEMS:
        problems.append(_more(name, placed[MAX_PROBLEMS][0], len(placed) - MAX_PROBLEMS))
    return problems


@dataclass(frozen=True)
class _Unlisted(Problem):
    """The line that stands for problems not listed, at the first of them."""

    count: int = 0


def _more(name: str, position: tuple[int, int], count: int) -> _Unlisted:
    problem = _problem(
        name,
        position[0],
        position[1],
        FILE,
        f"{count} more problem{'' if count == 1 else 's'} from here on, not listed: "
        "fix the ones above first",
    )
    return _Unlisted(problem.file, problem.line, problem.col, problem.where, problem.message, count)


def _listed(name: str, problems: list[Problem]) -> list[Problem]:
    """Problems sorted by place: at most MAX_PROBLEMS of them, then one line counting the rest."""
    hidden = [p for p in problems if isinstance(p, _Unlisted)]
    kept = _sorted([p for p in problems if not isinstance(p, _Unlisted)])
    count = sum(p.count for p in hidden)
    first = min(((p.line, p.col) for p in hidden), default=None)
    if len(kept) > MAX_PROBLEMS:
        count += len(kept) - MAX_PROBLEMS
        cut = kept[MAX_PROBLEMS]
        first = min(first or (cut.line, cut.col), (cut.line, cut.col))
        kept = kept[:MAX_PROBLEMS]
    if count and first is not None:
        kept.append(_more(name, (first[0] - 1, first[1] - 1), count))
    return kept


# --------------------------------------------------------------------------- plain python


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
            raise _too_much_text(self.name, *position)
        return str(text)

    def convert(self, value: Any, parts: tuple[str, ...], position: tuple[int, int]) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise _too_many_values(self.name)
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
                    _problem(self.name, line0, col0, where, f"YAML tag {tag!r} is not supported")
                )
            return self._text(str(value.value), position)
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
                result[self._key(key, step)] = self.convert(item, (*parts, _part(key)), step)
            return result
        items = list(value)
        return [
            self.convert(item, (*parts, str(i)), _item_position(value, i) or position)
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
    raise ScenarioError(_listed(name, problems))


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
    loaded, data = _load_form(path, name)
    if not semantic:
        return loaded
    errors, warned = _semantic_problems(loaded, data, name)
    if errors:
        raise ScenarioError(errors)
    return dataclasses.replace(loaded, warnings=tuple(warned))


def _load_form(path: str | os.PathLike[str], name: str) -> tuple[LoadedScenario, CommentedMap]:
    """The file read, validated and its references resolved; with the YAML, for positions."""
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
        if not isinstance(ref, str) or (scenario is None and not _usable_text(ref)):
            continue  # absent, or a wrong value that validation has reported
        line0, col0 = _value_position(data, key) or (0, 0)
        try:
            resolved[key] = resolve_resource(
                file_path, str(ref), kind, line=line0 + 1, col=col0 + 1, file=name
            )
        except ScenarioError as exc:
            problems += exc.problems
    if problems or scenario is None:
        raise ScenarioError(_listed(name, problems))
    loaded = LoadedScenario(
        scenario=scenario,
        path=file_path.resolve(),
        text=text,
        sha256=hashlib.sha256(raw).hexdigest(),
        map_path=resolved["map"],
        protocol_path=resolved.get("protocol"),
        cards_path=resolved.get("cards"),
    )
    return loaded, data


def _usable_text(ref: str) -> bool:
    """A reference worth resolving while the file has other problems: short, encodable text."""
    return len(ref) <= 1000 and ref.isprintable()


def _semantic_problems(
    loaded: LoadedScenario, data: CommentedMap, name: str
) -> tuple[list[Problem], list[Problem]]:
    """Semantic (errors, warnings), reported under the file name the caller used; each list
    at most MAX_PROBLEMS long, with one more line counting the rest."""
    from ambsim_gui.scenario.semantic import check_semantics  # it imports this module

    errors, warned = check_semantics(loaded, data)
    return (
        _listed(name, [dataclasses.replace(p, file=name) for p in errors]),
        _listed(name, [dataclasses.replace(p, file=name) for p in warned]),
    )


def warning_line(problem: Problem) -> str:
    """A warning as ``validate`` prints it: ``file:line:col: where: warning: message``."""
    where = f"{problem.file}:{problem.line}:{problem.col}: {problem.where}"
    return f"{where}: warning: {problem.message}"


def validate_files(paths: list[str]) -> tuple[int, list[str]]:
    """Check scenario files for ``main.py validate``: (exit code, output lines).

    Every file is checked and its problems listed (up to MAX_PROBLEMS), one per line: schema and
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
            loaded, data = _load_form(name, name)
            errors, warned = _semantic_problems(loaded, data, name)
        except ScenarioError as exc:
            bad += 1
            lines += [str(problem) for problem in exc.problems]
            continue
        warned_total += sum(p.count if isinstance(p, _Unlisted) else 1 for p in warned)
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
