"""Load the triage protocol and turn a call's answers into a recommended category.

The protocol (``resources/triage/protocol.yaml``) is data, so that instructors can edit it: a list
of *complaints* (the possible answers to "what happened?"), an ordered list of *questions* and an
ordered list of *rules*. Questions of the ``nature_of_call`` stage are asked first, in file order,
for every call; ``specific`` questions are asked afterwards, and only for the complaints they apply
to (``applies_to``) and, optionally, only when earlier answers make them relevant (``ask_if``).
The first rule whose ``when`` conditions all hold gives the recommended ARP category, an AMPDS-like
determinant code and whether the call may go to clinical validation or get telephone advice.

Rules look only at answered, applicable questions, so the assessment of a partly triaged call is
*provisional*: it is the best the rules can say so far (``None`` until some rule matches). A rule
marked ``final`` ends the questioning, but only once no higher-priority rule could still match
(so a ``final`` C2 rule cannot cut short a question that might still reveal a C1 problem).

Loading errors raise :class:`TriageDataError` naming the file and, where possible, the line.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import ScalarNode as RuamelScalarNode
from ruamel.yaml.resolver import VersionedResolver

from ambsim_gui.paths import RESOURCES

__all__ = [
    "CATEGORIES",
    "DEFAULT_PROTOCOL",
    "NATURE_OF_CALL",
    "SPECIFIC",
    "WHAT_HAPPENED",
    "Assessment",
    "Protocol",
    "Question",
    "Rule",
    "TriageDataError",
]

DEFAULT_PROTOCOL = RESOURCES / "triage" / "protocol.yaml"
CATEGORIES: tuple[str, ...] = ("C1", "C2", "C3", "C4")
NATURE_OF_CALL = "nature_of_call"
SPECIFIC = "specific"
WHAT_HAPPENED = "what_happened"
COMPLAINT_ALIAS = "complaint"  # in a rule's ``when``: shorthand for what_happened

Category = Literal["C1", "C2", "C3", "C4"]
Ident = str  # identifiers are checked by _check_ident


class TriageDataError(ValueError):
    """A protocol or call-card file is unreadable or inconsistent; the message says file:line."""


# --------------------------------------------------------------------------------------------
# Locating YAML nodes, shared with cards.py
# --------------------------------------------------------------------------------------------


def _yaml_walk(root: Any, path: Sequence[str | int]) -> tuple[int | None, int]:
    """(1-based line of the deepest node found along ``path``, how many steps were found)."""
    node = root
    line: int | None = None
    if isinstance(node, CommentedMap | CommentedSeq):
        line = node.lc.line + 1
    depth = 0
    for step in path:
        if isinstance(node, CommentedMap) and step in node:
            line = node.lc.key(step)[0] + 1
            node = node[step]
        elif isinstance(node, CommentedSeq) and isinstance(step, int) and 0 <= step < len(node):
            line = node.lc.item(step)[0] + 1
            node = node[step]
        else:
            break
        depth += 1
    return line, depth


def _yaml_line(root: Any, path: Sequence[str | int]) -> int | None:
    """1-based line of the node at ``path`` in a ruamel round-trip tree (the deepest one found)."""
    return _yaml_walk(root, path)[0]


def _where(file: Path, line: int | None) -> str:
    return f"{file}:{line}" if line is not None else str(file)


def _fmt_loc(path: Sequence[str | int]) -> str:
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += ("." if out else "") + str(step)
    return out


def _read_text(file: Path) -> str:
    """The text of ``file``; an unreadable or non-UTF-8 file becomes a TriageDataError."""
    try:
        return file.read_text(encoding="utf-8")
    except OSError as exc:
        raise TriageDataError(f"{file}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise TriageDataError(
            f"{file}: not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        ) from None


def _parse_rt(file: Path, text: str) -> Any:
    """Parse ``text`` with ruamel's round-trip loader (keeps every node's line); any failure
    becomes a TriageDataError."""
    yaml = YAML(typ="rt")
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise TriageDataError(f"{_where(file, line)}: YAML error: {problem}") from None
    except YAMLError as exc:
        raise TriageDataError(f"{file}: YAML error: {exc}") from None


# --------------------------------------------------------------------------------------------
# Fast YAML reading
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

LineOf = Callable[[Sequence[str | int]], int | None]
"""1-based line of the node at a path (the deepest one found), for error messages."""

_T = TypeVar("_T")

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

    def line(self, path: Sequence[str | int]) -> int | None:
        """Like _yaml_line on ruamel's tree: the line of the deepest node found along ``path``."""
        node = self.root
        line = node.start_mark.line + 1
        for step in path:
            if node.id == "mapping":
                for key_node, value_node in node.value:
                    if self._construct(key_node) == step:
                        line = key_node.start_mark.line + 1
                        node = value_node
                        break
                else:
                    break
            elif node.id == "sequence" and isinstance(step, int) and 0 <= step < len(node.value):
                node = node.value[step]
                line = node.start_mark.line + 1
            else:
                break
        return line


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


def _load_checked(file: Path, build: Callable[[Any, LineOf], _T]) -> _T:
    """Read ``file`` and return ``build(data, line_of)``; YAML and validation errors become a
    TriageDataError naming the file and line.

    ``build`` gets the parsed data (mappings are dicts) and a function giving the line of a path,
    and may raise TriageDataError or pydantic's ValidationError. It runs on the fast path's data
    when possible; if that fails it is run again on ruamel's round-trip tree, so error messages
    always carry ruamel's line numbers.
    """
    text = _read_text(file)
    fast = _parse_fast(text)
    if fast is not None:
        try:
            return build(fast.data, fast.line)
        except (TriageDataError, ValidationError):
            pass  # said again below, with ruamel's line numbers
    raw = _parse_rt(file, text)
    try:
        return build(raw, functools.partial(_yaml_line, raw))
    except ValidationError as exc:
        raise _validation_error(file, raw, exc) from None


def _validation_error(file: Path, raw: Any, exc: ValidationError) -> TriageDataError:
    """Turn a pydantic error into a TriageDataError pointing at the offending line."""
    lines = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if isinstance(p, str | int)]
        line, depth = _yaml_walk(raw, loc)
        msg = err["msg"]
        if err["type"] == "missing" and loc:
            msg = f"missing required key '{loc[-1]}'"
            depth = min(depth, len(loc) - 1)
        elif err["type"] == "extra_forbidden" and loc:
            msg = f"unknown key '{loc[-1]}'"
            depth = min(depth, len(loc) - 1)
        msg = msg.removeprefix("Value error, ")
        where = f"{_fmt_loc(loc[:depth])}: " if depth else ""
        lines.append(f"{_where(file, line)}: {where}{msg}")
    head = lines[0]
    more = f" (and {len(lines) - 1} more: " + "; ".join(lines[1:4]) + ")" if len(lines) > 1 else ""
    return TriageDataError(head + more)


def _check_ident(value: str) -> str:
    if not value or not value.replace("_", "a").isalnum() or not value.isascii():
        raise ValueError(f"'{value}' is not a valid identifier (letters, digits and _ only)")
    return value


# --------------------------------------------------------------------------------------------
# File format (pydantic)
# --------------------------------------------------------------------------------------------


class QuestionSpec(BaseModel):
    """One question as written in protocol.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    text: str = Field(min_length=1)
    stage: Literal["nature_of_call", "specific"]
    answers: tuple[str, ...] | None = None  # None only for what_happened (= the complaint keys)
    default: str | None = None
    answer_time_s: tuple[float, float] = (3.0, 10.0)
    applies_to: tuple[str, ...] = ()
    ask_if: dict[str, str | tuple[str, ...]] = Field(default_factory=dict)
    say: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # generic phrasings per answer

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return _check_ident(v)

    @field_validator("answer_time_s")
    @classmethod
    def _times(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[0] < 0 or v[1] < v[0]:
            raise ValueError("answer_time_s must be [low, high] with 0 <= low <= high")
        return v


class RuleSpec(BaseModel):
    """One rule as written in protocol.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    when: dict[str, str | tuple[str, ...]]
    category: Category
    code: str = Field(min_length=1)
    label: str = Field(min_length=1)
    validation: bool = False
    advice: bool = False
    final: bool = False


class ProtocolFile(BaseModel):
    """The whole protocol.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    complaints: dict[str, str] = Field(min_length=1)
    questions: tuple[QuestionSpec, ...] = Field(min_length=1)
    rules: tuple[RuleSpec, ...] = Field(min_length=1)


# --------------------------------------------------------------------------------------------
# Runtime types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """A protocol question, ready to ask."""

    id: str
    text: str
    stage: str
    answers: tuple[str, ...]
    default: str
    answer_time_s: tuple[float, float]
    applies_to: tuple[str, ...]  # () = every complaint
    ask_if: tuple[tuple[str, tuple[str, ...]], ...] = ()  # asked only when these answers hold
    say: Mapping[str, tuple[str, ...]] | None = field(default=None, hash=False)
    """Generic caller phrasings per answer value (used when a call card gives none)."""

    def phrasings(self, value: str) -> tuple[str, ...]:
        """Generic ways a caller says ``value`` (empty when the protocol gives none)."""
        if self.say is None:
            return ()
        return self.say.get(value, ())


@dataclass(frozen=True)
class Rule:
    """A protocol rule: when every condition holds, recommend this category."""

    index: int
    when: tuple[tuple[str, tuple[str, ...]], ...]  # (question id, accepted values)
    category: str
    code: str
    label: str
    validation: bool
    advice: bool
    final: bool
    line: int | None = None


@dataclass(frozen=True)
class Assessment:
    """What the protocol recommends for the answers so far."""

    category: str | None  # "C1".."C4"; None until the rules can say anything
    code: str
    label: str
    validation: bool  # may go to the clinical hub
    advice: bool  # handler may give advice / refer elsewhere
    final: bool  # the rule that fired says no more questions are needed (and no earlier rule
    #              could still match, so further answers cannot change the category)
    complete: bool  # final, or no applicable question is left unasked


_NO_ASSESSMENT_LABEL = "Not enough information yet"

Cond = tuple[str, frozenset[str]]
"""A compiled condition: (question id, the answers that satisfy it)."""

_MEMO_SIZE = 2048  # answer sets remembered per protocol; the engine asks about each ~3 times


def _compile(conditions: Sequence[tuple[str, tuple[str, ...]]]) -> tuple[Cond, ...]:
    """``ask_if`` or ``when`` conditions with their accepted answers as frozensets."""
    return tuple((qid, frozenset(values)) for qid, values in conditions)


class _Triage:
    """What the protocol makes of one set of answers (memoised per set of answers)."""

    __slots__ = ("applicable", "assessment", "effective", "fired", "first_open")

    def __init__(
        self, effective: dict[str, str], applicable: tuple[str, ...], first_open: str | None
    ) -> None:
        self.effective = effective  # the answers that count: to applicable questions
        self.applicable = applicable  # ids of the applicable questions, in protocol order
        self.first_open = first_open  # the first applicable question not answered yet
        self.fired: tuple[Rule | None, bool] | None = None  # Protocol._fire's, once asked for
        self.assessment: Assessment | None = None  # Protocol.assess's, once asked for


class Protocol:
    """A loaded, checked triage protocol."""

    path: Path | None
    questions: dict[str, Question]  # in protocol order
    complaints: dict[str, str]
    rules: tuple[Rule, ...]

    def __init__(
        self,
        questions: Sequence[Question],
        complaints: Mapping[str, str],
        rules: Sequence[Rule],
        path: Path | None = None,
    ) -> None:
        """Build a protocol from checked parts (as :meth:`load` makes them).

        Raises ValueError when a question's ``ask_if`` names a question that is not asked
        before it: the evaluation below walks the questions once, in order.
        """
        nature = [q for q in questions if q.stage == NATURE_OF_CALL]
        specific = [q for q in questions if q.stage != NATURE_OF_CALL]
        self.questions = {q.id: q for q in [*nature, *specific]}
        self.complaints = dict(complaints)
        self.rules = tuple(rules)
        self._labels = {r.code: r.label for r in reversed(self.rules)}  # first rule wins
        self.path = path
        order = {qid: i for i, qid in enumerate(self.questions)}
        for i, q in enumerate(self.questions.values()):
            for key, _ in q.ask_if:
                if order.get(key, i) >= i:
                    raise ValueError(f"question '{q.id}': ask_if '{key}' is not asked before it")

        # Everything the evaluation needs, compiled once: conditions as frozensets, questions
        # and rules indexed by complaint, so that a call only looks at what can apply to it.
        what_happened = self.questions.get(WHAT_HAPPENED)
        keys = list(
            dict.fromkeys([*self.complaints, *(what_happened.answers if what_happened else ())])
        )
        self._valid = frozenset((q.id, a) for q in self.questions.values() for a in q.answers)
        # (question id, ask_if) in protocol order: nature-of-call ones for every call; specific
        # ones once the complaint is known, only those that apply to it.
        self._nature_steps = tuple((q.id, _compile(q.ask_if)) for q in nature)
        self._specific_steps = {
            c: tuple(
                (q.id, _compile(q.ask_if))
                for q in specific
                if not q.applies_to or c in q.applies_to
            )
            for c in keys
        }
        # Per question, for _could_apply: the complaints it is limited to (None: any) and ask_if.
        self._reach: dict[str, tuple[frozenset[str] | None, tuple[Cond, ...]]] = {
            q.id: (
                frozenset(q.applies_to) if q.stage != NATURE_OF_CALL and q.applies_to else None,
                _compile(q.ask_if),
            )
            for q in self.questions.values()
        }
        # Rules with compiled conditions: all of them; those that can match before the complaint
        # is known; and per complaint those that can match it, without the complaint condition
        # (which holds by construction).
        compiled = [(r, _compile(r.when)) for r in self.rules]
        self._rules_all = tuple(compiled)
        self._rules_any = tuple(
            (r, w) for r, w in compiled if all(k != WHAT_HAPPENED for k, _ in w)
        )
        self._rules_for = {
            c: tuple(
                (r, tuple(cond for cond in w if cond[0] != WHAT_HAPPENED))
                for r, w in compiled
                if all(c in vals for k, vals in w if k == WHAT_HAPPENED)
            )
            for c in keys
        }
        self._memo: dict[frozenset[tuple[str, str]], _Triage] = {}
        self._assessments: dict[tuple[int, bool, bool], Assessment] = {}

    # ---------------------------------------------------------------- loading

    @classmethod
    def load(cls, path: Path | str | None = None) -> Protocol:
        """Load and check a protocol file (default: ``resources/triage/protocol.yaml``)."""
        file = Path(path) if path is not None else DEFAULT_PROTOCOL

        def build(raw: Any, line_of: LineOf) -> Protocol:
            if not isinstance(raw, dict):
                raise TriageDataError(f"{_where(file, 1)}: the protocol must be a YAML mapping")
            return cls._build(file, line_of, ProtocolFile.model_validate(raw))

        return _load_checked(file, build)

    @classmethod
    def _build(cls, file: Path, line_of: LineOf, spec: ProtocolFile) -> Protocol:
        def fail(path: Sequence[str | int], msg: str) -> TriageDataError:
            return TriageDataError(f"{_where(file, line_of(path))}: {msg}")

        complaints = dict(spec.complaints)
        for key in complaints:
            try:
                _check_ident(key)
            except ValueError as exc:
                raise fail(["complaints", key], f"complaint key: {exc}") from None

        # Questions: NOC first, in file order; ids unique; answers and defaults valid.
        questions: list[Question] = []
        seen: dict[str, Question] = {}
        seen_specific = False
        for i, q in enumerate(spec.questions):
            here: list[str | int] = ["questions", i]
            if q.id in seen:
                raise fail([*here, "id"], f"question '{q.id}' is defined twice")
            if q.id == COMPLAINT_ALIAS:
                raise fail([*here, "id"], f"'{COMPLAINT_ALIAS}' is reserved (rule shorthand)")
            if q.stage == SPECIFIC:
                seen_specific = True
            elif seen_specific:
                raise fail(
                    [*here, "stage"],
                    f"nature_of_call question '{q.id}' comes after a specific question; "
                    "put the nature_of_call questions first",
                )
            if q.id == WHAT_HAPPENED:
                if q.stage != NATURE_OF_CALL:
                    raise fail([*here, "stage"], "what_happened must be a nature_of_call question")
                if q.answers is not None and set(q.answers) != set(complaints):
                    raise fail(
                        [*here, "answers"],
                        "what_happened's answers are the complaint keys; leave 'answers' out",
                    )
                answers = tuple(complaints)
            else:
                if not q.answers:
                    raise fail(here, f"question '{q.id}' needs a non-empty 'answers' list")
                answers = tuple(q.answers)
            if len(set(answers)) != len(answers):
                raise fail([*here, "answers"], f"question '{q.id}' lists an answer twice")
            for a in answers:
                try:
                    _check_ident(a)
                except ValueError as exc:
                    raise fail([*here, "answers"], f"question '{q.id}': answer {exc}") from None
            if q.default is None:
                raise fail(here, f"question '{q.id}': missing required key 'default'")
            if q.default not in answers:
                raise fail(
                    [*here, "default"],
                    f"question '{q.id}': default '{q.default}' is not one of its answers "
                    f"({', '.join(answers[:12])}{', ...' if len(answers) > 12 else ''})",
                )
            if q.applies_to and q.stage == NATURE_OF_CALL:
                raise fail([*here, "applies_to"], "nature_of_call questions apply to every call")
            for j, c in enumerate(q.applies_to):
                if c not in complaints:
                    raise fail([*here, "applies_to", j], f"applies_to: unknown complaint '{c}'")
            ask_if: list[tuple[str, tuple[str, ...]]] = []
            for key, vals in q.ask_if.items():
                target = WHAT_HAPPENED if key == COMPLAINT_ALIAS else key
                if target not in seen:
                    raise fail(
                        [*here, "ask_if", key],
                        f"ask_if: '{key}' must be a question defined earlier in the file",
                    )
                values = (vals,) if isinstance(vals, str) else tuple(vals)
                for v in values:
                    if v not in seen[target].answers:
                        raise fail(
                            [*here, "ask_if", key], f"ask_if: '{v}' is not an answer to '{target}'"
                        )
                ask_if.append((target, values))
            for val, texts in q.say.items():
                if val not in answers:
                    raise fail([*here, "say", val], f"say: '{val}' is not an answer to '{q.id}'")
                if not texts:
                    raise fail([*here, "say", val], f"say: no phrasings given for '{val}'")
            question = Question(
                id=q.id,
                text=q.text,
                stage=q.stage,
                answers=answers,
                default=q.default,
                answer_time_s=(float(q.answer_time_s[0]), float(q.answer_time_s[1])),
                applies_to=tuple(q.applies_to),
                ask_if=tuple(ask_if),
                say={k: tuple(v) for k, v in q.say.items()},
            )
            seen[q.id] = question
            questions.append(question)
        if WHAT_HAPPENED not in seen:
            raise fail(["questions"], "the protocol needs a 'what_happened' question")

        # Rules.
        rules: list[Rule] = []
        for i, r in enumerate(spec.rules):
            here = ["rules", i]
            when: list[tuple[str, tuple[str, ...]]] = []
            for key, vals in r.when.items():
                qid = WHAT_HAPPENED if key == COMPLAINT_ALIAS else key
                if qid not in seen:
                    raise fail([*here, "when", key], f"when: unknown question '{key}'")
                values = (vals,) if isinstance(vals, str) else tuple(vals)
                if not values:
                    raise fail([*here, "when", key], f"when: no values given for '{key}'")
                for v in values:
                    if v not in seen[qid].answers:
                        what = "a complaint" if qid == WHAT_HAPPENED else f"an answer to '{qid}'"
                        raise fail([*here, "when", key], f"when: '{v}' is not {what}")
                when.append((qid, values))
            if r.advice and r.category in ("C1", "C2"):
                raise fail([*here, "advice"], f"a {r.category} rule cannot allow advice")
            complaints_of_rule = dict(when).get(WHAT_HAPPENED)
            if complaints_of_rule is not None:
                for qid, _ in when:
                    q2 = seen[qid]
                    if q2.applies_to and not set(complaints_of_rule) & set(q2.applies_to):
                        raise fail(
                            [*here, "when"],
                            f"rule '{r.code}' tests '{qid}', which is never asked for "
                            f"{', '.join(complaints_of_rule)}",
                        )
            rules.append(
                Rule(
                    index=i,
                    when=tuple(when),
                    category=r.category,
                    code=r.code,
                    label=r.label,
                    validation=r.validation,
                    advice=r.advice,
                    final=r.final,
                    line=line_of(here),
                )
            )

        # Every complaint must end in some rule once all its questions are answered.
        for c in complaints:
            if not any(
                all(qid == WHAT_HAPPENED and c in vals for qid, vals in rule.when) for rule in rules
            ):
                raise fail(
                    ["complaints", c],
                    f"complaint '{c}' has no catch-all rule (when: {{complaint: {c}}}) "
                    "and there is no global one (when: {})",
                )
        return cls(questions, complaints, rules, path=file)

    # ---------------------------------------------------------------- evaluation

    def answer_error(self, question_id: str, value: str) -> str | None:
        """Why ``value`` is not a valid answer to ``question_id``; None when it is."""
        q = self.questions.get(question_id)
        if q is None:
            return f"unknown question '{question_id}'"
        if value not in q.answers:
            return f"'{value}' is not an answer to '{question_id}'"
        return None

    def _check(self, answers: Mapping[str, str]) -> None:
        for qid, value in answers.items():
            err = self.answer_error(qid, value)
            if err is not None:
                raise ValueError(err)

    def _triage(self, answers: Mapping[str, str]) -> _Triage:
        """Check ``answers`` and work out which count and which questions apply (memoised)."""
        key: frozenset[tuple[str, str]] | None
        try:
            key = frozenset(answers.items())
        except TypeError:  # an unhashable answer: _check rejects it below
            key = None
        if key is not None:
            known = self._memo.get(key)
            if known is not None:
                return known
        if key is None or not key <= self._valid:
            self._check(answers)  # raises, naming the first invalid answer
        effective: dict[str, str] = {}
        applicable: list[str] = []
        first_open = self._scan(self._nature_steps, answers, effective, applicable)
        complaint = effective.get(WHAT_HAPPENED)
        if complaint is not None:
            first_specific = self._scan(
                self._specific_steps[complaint], answers, effective, applicable
            )
            if first_open is None:
                first_open = first_specific
        triage = _Triage(effective, tuple(applicable), first_open)
        if key is not None:
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            self._memo[key] = triage
        return triage

    @staticmethod
    def _scan(
        steps: Sequence[tuple[str, tuple[Cond, ...]]],
        answers: Mapping[str, str],
        effective: dict[str, str],
        applicable: list[str],
    ) -> str | None:
        """Walk ``steps`` in order, adding the applicable questions to ``applicable`` and their
        answers to ``effective``; return the first applicable unanswered question.

        One pass is enough because ``ask_if`` only looks at earlier questions.
        """
        first_open = None
        for qid, ask_if in steps:
            if ask_if and not all(effective.get(k) in vals for k, vals in ask_if):
                continue
            applicable.append(qid)
            if qid in answers:
                effective[qid] = answers[qid]
            elif first_open is None:
                first_open = qid
        return first_open

    def _could_apply(self, qid: str, effective: Mapping[str, str]) -> bool:
        """Whether an unanswered question might still be asked."""
        only_for, ask_if = self._reach[qid]
        if only_for is not None:
            complaint = effective.get(WHAT_HAPPENED)
            if complaint is not None and complaint not in only_for:
                return False
        for k, vals in ask_if:
            if k in effective:
                if effective[k] not in vals:
                    return False
            elif not self._could_apply(k, effective):
                return False
        return True

    def _possible(self, when: tuple[Cond, ...], effective: Mapping[str, str]) -> bool:
        """Whether a rule with conditions ``when`` could still match once more questions are
        answered."""
        for qid, vals in when:
            if qid in effective:
                if effective[qid] not in vals:
                    return False
            elif not self._could_apply(qid, effective):
                return False
        return True

    def applicable(self, answers: Mapping[str, str]) -> list[str]:
        """Ids of the questions applicable given the answers so far, in protocol order.

        Nature-of-call questions always apply; specific ones only once what_happened is known and
        it is among their ``applies_to``, and only while their ``ask_if`` conditions hold.
        """
        return list(self._triage(answers).applicable)

    def next_question(self, answers: Mapping[str, str]) -> str | None:
        """The first applicable unanswered question; None when the assessment is complete."""
        triage = self._triage(answers)
        if self._fired(triage)[1]:
            return None
        return triage.first_open

    def _fired(self, triage: _Triage) -> tuple[Rule | None, bool]:
        if triage.fired is None:
            triage.fired = self._fire(triage.effective)
        return triage.fired

    def _fire(self, effective: Mapping[str, str]) -> tuple[Rule | None, bool]:
        """The first matching rule, and whether it is final (no earlier rule could still match)."""
        complaint = effective.get(WHAT_HAPPENED)
        candidates = self._rules_any if complaint is None else self._rules_for[complaint]
        for rule, when in candidates:
            for qid, vals in when:
                if effective.get(qid) not in vals:
                    break
            else:
                if not rule.final:
                    return rule, False
                # Before the complaint is known, any rule might still match.
                earlier = self._rules_all if complaint is None else candidates
                final = not any(
                    self._possible(w, effective) for e, w in earlier if e.index < rule.index
                )
                return rule, final
        return None, False

    def assess(self, answers: Mapping[str, str]) -> Assessment:
        """The recommendation for ``answers`` (question id -> answer value).

        Answers to questions that do not apply (a specific question for another complaint, or one
        whose ``ask_if`` fails) are ignored, so a patient's full set of answers can be passed in.
        """
        triage = self._triage(answers)
        if triage.assessment is None:
            rule, final = self._fired(triage)
            complete = final or triage.first_open is None
            # Assessments are immutable and few: one per rule, final and complete.
            key = (rule.index if rule is not None else -1, final, complete)
            assessment = self._assessments.get(key)
            if assessment is None:
                if rule is None:
                    assessment = Assessment(
                        None, "", _NO_ASSESSMENT_LABEL, False, False, False, complete
                    )
                else:
                    assessment = Assessment(
                        category=rule.category,
                        code=rule.code,
                        label=rule.label,
                        validation=rule.validation,
                        advice=rule.advice,
                        final=final,
                        complete=complete,
                    )
                self._assessments[key] = assessment
            triage.assessment = assessment
        return triage.assessment

    def describe(self, complaint: str, code: str = "") -> str:
        """What the room calls an incident: its complaint's name, or, where the call was
        categorised before anyone asked what happened (a patient not breathing is a C1 at
        once), the label of the rule that categorised it."""
        if complaint in self.complaints:
            return self.complaints[complaint]
        label = self._labels.get(code) if code else None
        if label:
            return label
        return "not yet known" if complaint in ("", "unknown") else complaint.replace("_", " ")

    def rule_for(self, answers: Mapping[str, str]) -> Rule | None:
        """The rule that fires for ``answers`` (for debriefs and tests)."""
        return self._fired(self._triage(answers))[0]

    def __repr__(self) -> str:
        return (
            f"Protocol({self.path}, {len(self.questions)} questions, "
            f"{len(self.complaints)} complaints, {len(self.rules)} rules)"
        )
