"""Read a YAML data file: bytes within limits, UTF-8 text, a tree that keeps every position.

:func:`load_yaml` gives ruamel's round-trip tree (every key's line and column kept);
:func:`load_checked` builds a loader's result from a file, on libyaml's fast path where it
reads the text exactly as ruamel would, and again on ruamel's tree when anything is wrong, so
that every problem is located. No parser exception gets out: everything becomes a
:class:`~ambsim_gui.datafile.problems.DataFileError`.
"""

from __future__ import annotations

import functools
import os
import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.composer import Composer
from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, ScalarEvent
from ruamel.yaml.nodes import ScalarNode as RuamelScalarNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import VersionedResolver

from ambsim_gui.datafile.limits import MAX_BYTES, Tally, mark_position
from ambsim_gui.datafile.positions import own_position, position_of
from ambsim_gui.datafile.problems import FILE, DataFileError, Problem, fail, problem

__all__ = [
    "Locate",
    "check_limits",
    "decode",
    "load_checked",
    "load_yaml",
    "parse_yaml",
    "read_bytes",
    "read_text",
]

_T = TypeVar("_T")

Locate = Callable[[Sequence[str | int]], tuple[int, int]]
"""0-based (line, column) of the node at a field path (the deepest one found)."""


# --------------------------------------------------------------------------- bytes and text


def read_bytes(path: Path, name: str, kind: str = "scenario") -> bytes:
    """The file's bytes (at most MAX_BYTES); ``kind`` names the file in messages."""
    try:
        if path.is_dir():
            raise fail(name, f"is a folder, not a {kind} file")
        if not path.exists():
            raise fail(name, "file not found")
        if not path.is_file():
            raise fail(name, "is not a regular file")
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except DataFileError:
        raise
    except PermissionError:
        raise fail(name, "cannot read the file: permission denied") from None
    except OSError as exc:
        raise fail(name, f"cannot read the file: {exc.strerror or exc}") from None
    except ValueError as exc:  # e.g. a NUL byte in the name
        raise fail(name, f"not a usable file name: {exc}") from None
    if len(data) > MAX_BYTES:
        raise fail(
            name,
            f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB: not a {kind} "
            "(the London-scale day is 23 KB)",
        )
    return data


def decode(data: bytes, name: str) -> str:
    """UTF-8 text, or a problem at the line and column of the first byte that is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line0 = data.count(b"\n", 0, exc.start)
        col0 = len(data[line_start : exc.start].decode("utf-8", errors="replace"))
        raise fail(
            name,
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
            line0,
            col0,
        ) from None


def read_text(path: str | os.PathLike[str], kind: str = "scenario") -> str:
    """The text of a data file, within the size limit and as UTF-8."""
    name = os.fspath(path)
    return decode(read_bytes(Path(path), name, kind), name)


def position_in_text(text: str, index: int) -> tuple[int, int]:
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


# --------------------------------------------------------------------------- ruamel's tree


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


def prescan(text: str, name: str) -> bool:
    """Refuse, fast, a text that breaks a size limit, before the round-trip parser reads it.

    libyaml (PyYAML's C parser) streams the events in a fraction of the time ruamel's pure-Python
    round-trip parser takes, so a file of 100,000 keys or a 'billion laughs' is refused in
    milliseconds. The same limits are enforced again while ruamel composes the document
    (:class:`TallyingComposer`), so this is only a shortcut: without libyaml, or when libyaml
    cannot read the text (ruamel then says why), the verdict is the same, a little later. True
    when libyaml read the whole text.
    """
    try:
        from yaml import events
        from yaml.cyaml import CParser
    except ImportError:  # pragma: no cover - PyYAML is built with libyaml on every platform
        return False
    parser = CParser(text)
    tally = Tally(name)
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
    except DataFileError:
        raise
    except Exception:  # noqa: BLE001 - libyaml cannot read it: ruamel reports the error
        return False
    finally:
        parser.dispose()


class TallyingComposer(Composer):
    """ruamel's composer, keeping a :class:`Tally` of what it builds as it goes."""

    tally: Tally  # one for each file: :func:`parse_yaml` makes a subclass that sets it

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
    line0, col0 = mark_position(mark) if mark is not None else (0, 0)
    message = exc.problem or exc.context or "invalid YAML"
    duplicate = isinstance(exc, DuplicateKeyError)  # its context is just the mapping's start
    if exc.problem and exc.context and exc.context_mark is not None and not duplicate:
        cline0, ccol0 = mark_position(exc.context_mark)
        if (cline0, ccol0) != (line0, col0):
            message = f"{message} ({exc.context} at {cline0 + 1}:{ccol0 + 1})"
    return problem(name, line0, col0, FILE, f"YAML: {message}")


def parse_yaml(text: str, name: str, kind: str = "scenario") -> CommentedMap:
    """Text -> round-trip mapping, or DataFileError; no ruamel exception gets out."""
    prescan(text, name)
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor

    class _FileComposer(TallyingComposer):
        tally = Tally(name)

    yaml.Composer = _FileComposer
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = yaml.load(text)
    except DataFileError:
        raise
    except MarkedYAMLError as exc:
        raise DataFileError([_yaml_problem(exc, name)]) from None
    except ReaderError as exc:
        line0, col0 = position_in_text(text, int(getattr(exc, "position", 0) or 0))
        char = getattr(exc, "character", None)
        what = f"U+{char:04X}" if isinstance(char, int) else repr(char)
        raise fail(name, f"YAML: special character {what} is not allowed", line0, col0) from None
    except YAMLError as exc:
        raise fail(name, f"YAML: {exc}") from None
    except RecursionError:
        raise fail(name, "YAML: nested too deeply") from None
    except Exception as exc:  # ruamel has no other documented failures; never let one escape
        raise fail(name, f"YAML: cannot read the file: {type(exc).__name__}: {exc}") from None
    if data is None:
        raise fail(name, f"file is empty: a {kind} needs at least 'schema_version', 'name', ...")
    if not isinstance(data, CommentedMap):
        line0, col0 = own_position(data) or _first_content(text)
        shape = "a list" if isinstance(data, list) else f"a single value ({type(data).__name__})"
        raise fail(
            name,
            f"the top level must be a mapping of keys like 'name: ...', not {shape}",
            line0,
            col0,
        )
    return data


def check_limits(path: str | os.PathLike[str], name: str | None = None) -> None:
    """Raise DataFileError if a YAML data file breaks the size limits.

    For the files a scenario names besides itself (a triage protocol, call cards), checked while
    the scenario is validated: the same limits as a scenario file (size, values, nesting, aliases
    and their expansion), so that no file a scenario validates with can make a run hang. Syntax
    is left to the loader of the file, except where libyaml is missing (then ruamel reads it).
    """
    shown = os.fspath(path) if name is None else name
    text = decode(read_bytes(Path(path), shown), shown)
    if not prescan(text, shown):  # no libyaml, or it cannot read the text: ruamel counts
        parse_yaml(text, shown)


def load_yaml(path: str | os.PathLike[str], kind: str = "scenario") -> CommentedMap:
    """Read a YAML file as a round-trip mapping that keeps every key's line and column.

    Raises DataFileError for a missing or unreadable file, non-UTF-8 text, an empty file, a YAML
    syntax error (at the parser's position), duplicate keys or a top level that is not a mapping.
    """
    name = os.fspath(path)
    return parse_yaml(decode(read_bytes(Path(path), name, kind), name), name, kind)


# --------------------------------------------------------------------------- the fast path
#
# ruamel's loaders are pure Python here (ruamel.yaml.clib is optional and its C loader reads
# YAML 1.1-style anyway: 052 becomes 42), and reading the 47 data files with them takes over a
# second. When PyYAML's libyaml extension is installed (it is not a dependency) its C parser
# builds the node tree, and _FastDoc turns the nodes into plain data typed as ruamel's YAML 1.2
# round-trip loader would type them. Anything this path is not certain to read identically
# (explicit tags, merge keys, dates, unusual numbers, duplicate keys, a %YAML directive, ...)
# makes it decline, and the caller falls back to ruamel; so does any error in the data, so that
# error messages keep ruamel's exact line numbers.
# --------------------------------------------------------------------------------------------


# Tags our composer gives untagged nodes, so that explicitly tagged ones stand out.
_PLAIN = "!ambsim/plain"
_QUOTED = "!ambsim/quoted"  # quoted or block scalars: always strings
_SEQ = "!ambsim/seq"
_MAP = "!ambsim/map"

_YAML_TAG = "tag:yaml.org,2002:"
_SIMPLE_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_SIMPLE_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][-+]?[0-9]+)?")
# Text libyaml and ruamel read differently: line breaks that are breaks in YAML 1.1 only; tabs
# (libyaml lets "key:<tab>value" pass); and anchors, aliases and tags, whose names may hold
# different characters (to ruamel, "&key: value" anchors the scalar "value" as "key:"). These
# are looked for wherever a node may start, so that "A&E" or "Help!" in a text do not count.
_ODD_TEXT = re.compile(r"[\t\x85\u2028\u2029]|(?:^|[\s\[{,])[&*!]", re.MULTILINE)


class _Decline(Exception):
    """The fast path is not sure to read the text exactly as ruamel's round-trip loader."""


@functools.cache
def _c_composer() -> Any:
    """A libyaml composer class (PyYAML's C parser), or None when it is not installed."""
    try:
        from yaml.cyaml import CParser
    except ImportError:
        return None

    class Composer(CParser):  # type: ignore[misc, valid-type]
        # The C parser asks its resolver for the tag of every untagged node (we type the plain
        # scalars later, as ruamel would); it also reports its path, which we do not need.
        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            if kind.id == "scalar":
                return _PLAIN if implicit[0] else _QUOTED
            return _SEQ if kind.id == "sequence" else _MAP

        def descend_resolver(self, parent: Any, index: Any) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass

    return Composer


_RESOLVER = VersionedResolver(version=(1, 2))


@functools.lru_cache(maxsize=4096)
def _plain_scalar(text: str) -> tuple[bool, Any]:
    """(True, value) for an untagged plain scalar, typed by ruamel's own YAML 1.2 resolver;
    (False, None) when the fast path does not handle its type."""
    tag = _RESOLVER.resolve(RuamelScalarNode, text, (True, False))
    name = str(getattr(tag, "value", tag)).removeprefix(_YAML_TAG)
    if name == "str":
        return True, text
    if name == "null":
        return True, None
    if name == "bool":
        return True, text.lower() == "true"
    if name == "int" and _SIMPLE_INT.fullmatch(text):
        return True, int(text)
    if name == "float" and _SIMPLE_FLOAT.fullmatch(text):
        return True, float(text)  # what ruamel computes: sign * float(digits)
    return False, None


class _FastDoc:
    """A document read by the fast path: plain data, plus its nodes for line numbers."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.data = self._construct(root)

    @classmethod
    def _construct(cls, node: Any) -> Any:
        tag = node.tag
        if tag == _PLAIN:
            if node.style:  # a quoted scalar tagged "!": libyaml calls it plain
                raise _Decline
            ok, value = _plain_scalar(node.value)
            if not ok:
                raise _Decline
            return value
        if tag == _QUOTED:
            return node.value
        if tag == _SEQ:
            return [cls._construct(item) for item in node.value]
        if tag == _MAP:
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.id != "scalar":
                    raise _Decline
                key = cls._construct(key_node)
                if key in out:  # ruamel reports duplicate keys; let it
                    raise _Decline
                out[key] = cls._construct(value_node)
            return out
        raise _Decline  # explicitly tagged

    def position(self, path: Sequence[str | int]) -> tuple[int, int]:
        """Like :func:`~ambsim_gui.datafile.positions.position_of` on ruamel's tree: the
        0-based position of the deepest node found along ``path``."""
        node = self.root
        mark = node.start_mark
        for step in path:
            if node.id == "mapping":
                for key_node, value_node in node.value:
                    if self._construct(key_node) == step:
                        node = value_node
                        on_line = value_node.start_mark.line == key_node.start_mark.line
                        scalar = value_node.id == "scalar"
                        mark = value_node.start_mark if (on_line or scalar) else key_node.start_mark
                        break
                else:
                    break
            elif node.id == "sequence" and isinstance(step, int) and 0 <= step < len(node.value):
                node = node.value[step]
                mark = node.start_mark
            else:
                break
        return mark.line, mark.column


def _parse_fast(text: str) -> _FastDoc | None:
    """``text`` read by the fast path, when available and sure to match ruamel; else None."""
    composer = _c_composer()
    if composer is None or text.startswith(("%", "\ufeff")) or "\n%" in text:
        return None  # no libyaml; or a BOM or a directive (%YAML 1.1 changes the typing)
    if _ODD_TEXT.search(text):
        return None
    parser = composer(text)
    try:
        root = parser.get_single_node()
        if root is None or root.id != "mapping":
            return None  # every data file is a mapping; ruamel words the other errors
        return _FastDoc(root)
    except Exception:  # _Decline, a libyaml error, RecursionError (a recursive alias): ruamel
        return None  # reads it, or reports the error with its position
    finally:
        parser.dispose()


def load_checked(
    path: str | os.PathLike[str],
    build: Callable[[Any, Locate], _T],
    *,
    kind: str,
    model: type[BaseModel] | None = None,
) -> _T:
    """Read the YAML file at ``path`` and return ``build(data, locate)``; every problem becomes
    a DataFileError located at the file's line and column.

    ``build`` gets the parsed data (mappings are dicts) and a function giving the position of a
    field path, and may raise DataFileError or pydantic's ValidationError (for ``model``, whose
    field names suggest a fix for a misspelt key). It runs on the fast path's data when
    possible; if that fails it is run again on ruamel's round-trip tree, so that problems always
    carry ruamel's positions.
    """
    from ambsim_gui.datafile.validation import problems_from_validation

    name = os.fspath(path)
    text = decode(read_bytes(Path(path), name, kind), name)
    fast = _parse_fast(text)
    if fast is not None:
        try:
            return build(fast.data, fast.position)
        except (DataFileError, ValidationError):
            pass  # said again below, with ruamel's positions
    raw = parse_yaml(text, name, kind)
    try:
        return build(raw, functools.partial(position_of, raw))
    except ValidationError as exc:
        raise DataFileError(problems_from_validation(exc, raw, name, model)) from None
