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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

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


def _load_yaml(file: Path) -> Any:
    """Read a YAML file with ruamel's round-trip loader; any failure becomes a TriageDataError."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise TriageDataError(f"{file}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise TriageDataError(
            f"{file}: not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        ) from None
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
        nature = [q for q in questions if q.stage == NATURE_OF_CALL]
        specific = [q for q in questions if q.stage != NATURE_OF_CALL]
        self.questions = {q.id: q for q in [*nature, *specific]}
        self.complaints = dict(complaints)
        self.rules = tuple(rules)
        self.path = path
        # Rules that can match once the complaint is known, and those that can match before.
        self._rules_for: dict[str, tuple[Rule, ...]] = {
            c: tuple(r for r in self.rules if c in dict(r.when).get(WHAT_HAPPENED, (c,)))
            for c in self.complaints
        }
        self._rules_any = tuple(r for r in self.rules if WHAT_HAPPENED not in dict(r.when))

    # ---------------------------------------------------------------- loading

    @classmethod
    def load(cls, path: Path | str | None = None) -> Protocol:
        """Load and check a protocol file (default: ``resources/triage/protocol.yaml``)."""
        file = Path(path) if path is not None else DEFAULT_PROTOCOL
        raw = _load_yaml(file)
        if not isinstance(raw, CommentedMap):
            raise TriageDataError(f"{_where(file, 1)}: the protocol must be a YAML mapping")
        try:
            spec = ProtocolFile.model_validate(raw)
        except ValidationError as exc:
            raise _validation_error(file, raw, exc) from None
        return cls._build(file, raw, spec)

    @classmethod
    def _build(cls, file: Path, raw: CommentedMap, spec: ProtocolFile) -> Protocol:
        def fail(path: Sequence[str | int], msg: str) -> TriageDataError:
            return TriageDataError(f"{_where(file, _yaml_line(raw, path))}: {msg}")

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
                    line=_yaml_line(raw, here),
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

    def _applies(self, q: Question, effective: Mapping[str, str]) -> bool:
        if q.stage != NATURE_OF_CALL:
            complaint = effective.get(WHAT_HAPPENED)
            if complaint is None:
                return False
            if q.applies_to and complaint not in q.applies_to:
                return False
        return all(effective.get(k) in vals for k, vals in q.ask_if)

    def _effective(self, answers: Mapping[str, str]) -> dict[str, str]:
        """The answers that count: those to questions applicable given the earlier answers."""
        effective: dict[str, str] = {}
        for q in self.questions.values():
            if q.id in answers and self._applies(q, effective):
                effective[q.id] = answers[q.id]
        return effective

    def _could_apply(self, qid: str, effective: Mapping[str, str]) -> bool:
        """Whether an unanswered question might still be asked."""
        q = self.questions[qid]
        if q.stage != NATURE_OF_CALL:
            complaint = effective.get(WHAT_HAPPENED)
            if complaint is not None and q.applies_to and complaint not in q.applies_to:
                return False
        for k, vals in q.ask_if:
            if k in effective:
                if effective[k] not in vals:
                    return False
            elif not self._could_apply(k, effective):
                return False
        return True

    def _possible(self, rule: Rule, effective: Mapping[str, str]) -> bool:
        """Whether ``rule`` could still match once more questions are answered."""
        for qid, vals in rule.when:
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
        self._check(answers)
        effective = self._effective(answers)
        return [q.id for q in self.questions.values() if self._applies(q, effective)]

    def next_question(self, answers: Mapping[str, str]) -> str | None:
        """The first applicable unanswered question; None when the assessment is complete."""
        self._check(answers)
        effective = self._effective(answers)
        fired, final = self._fire(effective)
        del fired
        if final:
            return None
        for q in self.questions.values():
            if q.id not in effective and self._applies(q, effective):
                return q.id
        return None

    def _fire(self, effective: Mapping[str, str]) -> tuple[Rule | None, bool]:
        """The first matching rule, and whether it is final (no earlier rule could still match)."""
        complaint = effective.get(WHAT_HAPPENED)
        candidates = self._rules_any if complaint is None else self._rules_for[complaint]
        for rule in candidates:
            if all(effective.get(qid) in vals for qid, vals in rule.when):
                if not rule.final:
                    return rule, False
                earlier = self.rules if complaint is None else candidates
                final = not any(
                    self._possible(e, effective) for e in earlier if e.index < rule.index
                )
                return rule, final
        return None, False

    def assess(self, answers: Mapping[str, str]) -> Assessment:
        """The recommendation for ``answers`` (question id -> answer value).

        Answers to questions that do not apply (a specific question for another complaint, or one
        whose ``ask_if`` fails) are ignored, so a patient's full set of answers can be passed in.
        """
        self._check(answers)
        effective = self._effective(answers)
        rule, final = self._fire(effective)
        remaining = any(
            q.id not in effective and self._applies(q, effective) for q in self.questions.values()
        )
        complete = final or not remaining
        if rule is None:
            return Assessment(None, "", _NO_ASSESSMENT_LABEL, False, False, False, complete)
        return Assessment(
            category=rule.category,
            code=rule.code,
            label=rule.label,
            validation=rule.validation,
            advice=rule.advice,
            final=final,
            complete=complete,
        )

    def rule_for(self, answers: Mapping[str, str]) -> Rule | None:
        """The rule that fires for ``answers`` (for debriefs and tests)."""
        self._check(answers)
        return self._fire(self._effective(answers))[0]

    def __repr__(self) -> str:
        return (
            f"Protocol({self.path}, {len(self.questions)} questions, "
            f"{len(self.complaints)} complaints, {len(self.rules)} rules)"
        )
