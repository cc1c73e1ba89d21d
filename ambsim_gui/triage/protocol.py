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

The file format is :mod:`ambsim_gui.triage.protocol_file`; loading goes through the one path of
:mod:`ambsim_gui.datafile`, so every problem is a ``DataFileError`` at ``file:line:col``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ambsim_gui.datafile.problems import DataFileError, dotted, problem
from ambsim_gui.datafile.problems import fail as file_error
from ambsim_gui.datafile.yamlfile import Locate, load_checked
from ambsim_gui.paths import RESOURCES
from ambsim_gui.triage.protocol_file import PROTOCOL_VERSIONS, ProtocolFile, check_ident

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

TriageDataError = DataFileError
"""A protocol or call-card file is unreadable or inconsistent (``file:line:col: where: what``)."""


def located_failure(
    name: str, locate: Locate
) -> Callable[[Sequence[str | int], str], DataFileError]:
    """``fail(path, message)``: a DataFileError at the node ``path`` leads to in ``name``."""

    def fail(path: Sequence[str | int], message: str) -> DataFileError:
        line0, col0 = locate(path)
        return DataFileError(problem(name, line0, col0, dotted(path), message))

    return fail


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
        name = os.fspath(file)

        def build(raw: Any, locate: Locate) -> Protocol:
            if not isinstance(raw, dict):
                raise file_error(name, "the protocol must be a YAML mapping")
            PROTOCOL_VERSIONS.upgrade(raw, name, locate)
            return cls._build(file, locate, ProtocolFile.model_validate(raw))

        return load_checked(file, build, kind="protocol", model=ProtocolFile)

    @classmethod
    def _build(cls, file: Path, locate: Locate, spec: ProtocolFile) -> Protocol:
        fail = located_failure(os.fspath(file), locate)

        complaints = dict(spec.complaints)
        for key in complaints:
            try:
                check_ident(key)
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
                    check_ident(a)
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
                    line=locate(here)[0] + 1,
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
