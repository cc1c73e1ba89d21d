"""Tests for the triage protocol: loading, checks on the shipped file, and rule evaluation."""

from __future__ import annotations

import functools
import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from ambsim_gui.datafile import yamlfile
from ambsim_gui.datafile.positions import position_of
from ambsim_gui.triage.protocol import (
    CATEGORIES,
    DEFAULT_PROTOCOL,
    NATURE_OF_CALL,
    WHAT_HAPPENED,
    Protocol,
    Question,
    Rule,
    TriageDataError,
)


@functools.cache
def shipped() -> Protocol:
    return Protocol.load()


@pytest.fixture(scope="module")
def protocol() -> Protocol:
    return shipped()


def walk(protocol: Protocol, answers: dict[str, str]) -> dict[str, str]:
    """Ask questions in protocol order, answering from ``answers``, until the protocol stops."""
    asked: dict[str, str] = {}
    for _ in range(len(protocol.questions) + 1):
        q = protocol.next_question(asked)
        if q is None:
            return asked
        asked[q] = answers[q]
    raise AssertionError("next_question never returned None")


def defaults(protocol: Protocol, complaint: str, **extra: str) -> dict[str, str]:
    values = {q.id: q.default for q in protocol.questions.values()}
    values[WHAT_HAPPENED] = complaint
    values.update(extra)
    return values


# ------------------------------------------------------------------ the shipped protocol


def test_shipped_protocol_shape(protocol: Protocol) -> None:
    ids = list(protocol.questions)
    assert ids[:4] == ["breathing", "conscious", "what_happened", "age"]
    stages = [q.stage for q in protocol.questions.values()]
    first_specific = stages.index("specific")
    assert all(s == NATURE_OF_CALL for s in stages[:first_specific])
    assert all(s == "specific" for s in stages[first_specific:])
    assert protocol.questions[WHAT_HAPPENED].answers == tuple(protocol.complaints)
    assert len(protocol.complaints) >= 40
    for q in protocol.questions.values():
        assert q.default in q.answers
        assert q.answer_time_s[0] <= q.answer_time_s[1]
        if q.id != WHAT_HAPPENED:  # callers need at least two ways to say the default
            assert len(q.phrasings(q.default)) >= 2, q.id


def test_rules_semantics(protocol: Protocol) -> None:
    for rule in protocol.rules:
        assert rule.category in CATEGORIES
        assert re.fullmatch(r"\d\d-[A-E]-\d\d", rule.code), rule.code
        if rule.category in ("C1", "C2"):
            assert not rule.advice, rule.code
    low = [r for r in protocol.rules if r.category in ("C3", "C4")]
    unvalidated = [r for r in low if not r.validation]
    # Only healthcare-professional admissions (already clinically assessed) skip validation.
    assert all(dict(r.when)[WHAT_HAPPENED] == ("hcp_admission",) for r in unvalidated)
    assert len(unvalidated) <= 0.05 * len(low)


def test_c2_segmentation_only_for_non_time_critical(protocol: Protocol) -> None:
    segmented = {
        c
        for r in protocol.rules
        if r.category == "C2" and r.validation
        for c in dict(r.when).get(WHAT_HAPPENED, ())
    }
    assert {"breathing_problems", "fall"} <= segmented
    time_critical = {"stroke", "chest_pain", "burns", "fits", "sick_person", "cardiac_arrest"}
    assert not segmented & time_critical


def test_rule_codes_unique(protocol: Protocol) -> None:
    codes = [r.code for r in protocol.rules]
    assert len(codes) == len(set(codes))


def test_every_complaint_ends_in_a_category(protocol: Protocol) -> None:
    for complaint in protocol.complaints:
        answers = walk(protocol, defaults(protocol, complaint))
        a = protocol.assess(answers)
        assert a.complete and a.category in CATEGORIES, complaint


# ------------------------------------------------------------------ evaluation


def test_nothing_known_yet(protocol: Protocol) -> None:
    a = protocol.assess({})
    assert a.category is None and not a.final and not a.complete
    assert protocol.next_question({}) == "breathing"
    assert protocol.assess({"breathing": "yes", "conscious": "yes"}).category is None


def test_not_breathing_is_immediately_final_c1(protocol: Protocol) -> None:
    a = protocol.assess({"breathing": "no"})
    assert (a.category, a.final, a.complete) == ("C1", True, True)
    assert not a.validation and not a.advice
    assert protocol.next_question({"breathing": "no"}) is None


def test_unconscious_with_uncertain_breathing_is_c1(protocol: Protocol) -> None:
    a = protocol.assess({"breathing": "unsure", "conscious": "no"})
    assert (a.category, a.final) == ("C1", True)


def test_specific_questions_wait_for_the_complaint(protocol: Protocol) -> None:
    noc = {"breathing": "yes", "conscious": "yes"}
    assert all(protocol.questions[q].stage == NATURE_OF_CALL for q in protocol.applicable(noc))
    chest = protocol.applicable({**noc, WHAT_HAPPENED: "chest_pain"})
    assert "chest_sweaty" in chest and "stroke_fast" not in chest
    assert chest.index("age") < chest.index("chest_sweaty")


def test_ask_if(protocol: Protocol) -> None:
    fall = {"breathing": "yes", "conscious": "yes", WHAT_HAPPENED: "fall"}
    assert "fall_long_lie" not in protocol.applicable(fall)
    assert "fall_long_lie" not in protocol.applicable({**fall, "fall_got_up": "yes"})
    assert "fall_long_lie" in protocol.applicable({**fall, "fall_got_up": "no"})


def test_chest_pain_walkthrough(protocol: Protocol) -> None:
    answers = {"breathing": "yes", "conscious": "yes", WHAT_HAPPENED: "chest_pain", "age": "older"}
    a = protocol.assess(answers)
    assert a.category == "C2" and not a.final and not a.complete  # provisional: age over 35
    assert protocol.next_question(answers) == "chest_sweaty"
    a = protocol.assess({**answers, "chest_sweaty": "yes"})
    assert (a.category, a.code, a.final, a.complete) == ("C2", "10-D-01", True, True)
    young = {**answers, "age": "young_adult", "chest_sweaty": "no", "chest_breathless": "no"}
    assert protocol.next_question(young) == "heart_history"
    a = protocol.assess({**young, "heart_history": "no"})
    assert (a.category, a.validation, a.advice, a.complete) == ("C3", True, False, True)


def test_final_waits_for_higher_priority_rules(protocol: Protocol) -> None:
    # Unconscious: C2 at once, but a hanging could still be C1, so the alert question is asked.
    answers = {"breathing": "yes", "conscious": "no"}
    a = protocol.assess(answers)
    assert a.category == "C2" and not a.final
    answers[WHAT_HAPPENED] = "hanging"
    answers["age"] = "young_adult"
    assert protocol.next_question(answers) == "alert"
    a = protocol.assess({**answers, "alert": "no"})
    assert (a.category, a.final) == ("C1", True)
    # For a diabetic, nothing above the C2 rule can match any more: final.
    diabetic = {"breathing": "yes", "conscious": "no", WHAT_HAPPENED: "diabetic"}
    assert protocol.assess(diabetic).final
    assert protocol.next_question(diabetic) is None


def test_fall_rules(protocol: Protocol) -> None:
    base = defaults(protocol, "fall", age="older")
    a = protocol.assess(walk(protocol, base))
    assert (a.category, a.code, a.validation, a.advice) == ("C4", "17-A-01", True, True)
    long_lie = {**base, "fall_got_up": "no", "fall_long_lie": "yes"}
    a = protocol.assess(walk(protocol, long_lie))
    assert (a.category, a.validation) == ("C2", True)


def test_inapplicable_answers_are_ignored(protocol: Protocol) -> None:
    answers = {"breathing": "yes", "conscious": "yes", WHAT_HAPPENED: "cough_cold", "age": "adult"}
    plain = protocol.assess({**answers, "cough_breathless": "no"})
    extra = protocol.assess({**answers, "cough_breathless": "no", "stroke_fast": "yes"})
    assert plain == extra
    assert plain.category == "C4"


def test_invalid_answers_raise(protocol: Protocol) -> None:
    with pytest.raises(ValueError, match="not an answer"):
        protocol.assess({"breathing": "maybe"})
    with pytest.raises(ValueError, match="unknown question"):
        protocol.next_question({"pulse": "yes"})
    assert protocol.answer_error("breathing", "yes") is None
    assert protocol.answer_error(WHAT_HAPPENED, "chest_pain") is None
    assert protocol.answer_error(WHAT_HAPPENED, "toothache") is not None


@st.composite
def full_answers(draw: st.DrawFn) -> dict[str, str]:
    return {q.id: draw(st.sampled_from(q.answers)) for q in shipped().questions.values()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(full_answers())
def test_walk_matches_assessment_of_everything(answers: dict[str, str]) -> None:
    protocol = shipped()
    asked = walk(protocol, answers)
    a = protocol.assess(asked)
    assert a.complete and a.category in CATEGORIES
    full = protocol.assess(answers)
    assert (full.category, full.code) == (a.category, a.code)
    # Asking stops only when the answers are complete; every asked question was applicable.
    assert set(asked) <= set(protocol.applicable(asked))


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_partial_answers_never_break(data: st.DataObject) -> None:
    protocol = shipped()
    qids = data.draw(st.lists(st.sampled_from(list(protocol.questions)), unique=True))
    answers = {q: data.draw(st.sampled_from(protocol.questions[q].answers)) for q in qids}
    a = protocol.assess(answers)
    assert a.category is None or a.category in CATEGORIES
    nxt = protocol.next_question(answers)
    if nxt is None:
        assert a.complete
    else:
        assert nxt not in answers
        assert nxt in protocol.applicable(answers)
    if a.final:
        assert a.complete and nxt is None


# ------------------------------------------------------------------ broken protocol files

MINIMAL = """\
schema_version: 1
complaints:
  fall: "Fall"
  cough: "Cough"
questions:
  - id: breathing
    text: "Is the patient breathing?"
    stage: nature_of_call
    answers: [yes, no]
    default: yes
  - id: what_happened
    text: "What happened?"
    stage: nature_of_call
    default: fall
  - id: fall_injury
    text: "Injured?"
    stage: specific
    applies_to: [fall]
    answers: [yes, no]
    default: no
    answer_time_s: [3, 9]
rules:
  - when: {breathing: no}
    category: C1
    code: "09-E-01"
    label: "Not breathing"
    final: true
  - when: {complaint: fall, fall_injury: yes}
    category: C3
    code: "17-B-01"
    label: "Fall, injured"
    validation: true
  - when: {complaint: fall}
    category: C4
    code: "17-A-01"
    label: "Fall"
    validation: true
    advice: true
  - when: {complaint: cough}
    category: C4
    code: "48-A-01"
    label: "Cough"
    validation: true
    advice: true
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "protocol.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_protocol_loads(tmp_path: Path) -> None:
    p = Protocol.load(write(tmp_path, MINIMAL))
    assert list(p.questions) == ["breathing", "what_happened", "fall_injury"]
    assert p.questions["fall_injury"].answer_time_s == (3.0, 9.0)
    assert p.questions["breathing"].answer_time_s == (3.0, 10.0)
    assert p.assess({"breathing": "yes", WHAT_HAPPENED: "fall", "fall_injury": "no"}).category == (
        "C4"
    )


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        (
            "when: {complaint: fall, fall_injury: yes}",
            "when: {complaint: fall, fal_injury: yes}",
            28,
            "unknown question 'fal_injury'",
        ),
        (
            "when: {complaint: fall, fall_injury: yes}",
            "when: {complaint: fall, fall_injury: maybe}",
            28,
            "'maybe' is not an answer to 'fall_injury'",
        ),
        (
            "when: {complaint: cough}\n    category: C4",
            "when: {complaint: cough}\n    category: C2",
            44,
            "cannot allow advice",
        ),
        (
            "    answers: [yes, no]\n    default: no",
            "    answers: [yes, no]\n    default: unsure",
            20,
            "default 'unsure' is not one of its answers",
        ),
        (
            '  - when: {complaint: cough}\n    category: C4\n    code: "48-A-01"',
            '  - when: {complaint: cough, breathing: yes}\n    category: C4\n    code: "48-A-01"',
            4,
            "complaint 'cough' has no catch-all rule",
        ),
        (
            "when: {complaint: fall, fall_injury: yes}",
            "when: {complaint: cough, fall_injury: yes}",
            28,
            "never asked for cough",
        ),
        ("  - id: fall_injury", "  - id: breathing", 15, "defined twice"),
        ("    applies_to: [fall]", "    applies_to: [falls]", 18, "unknown complaint 'falls'"),
        ("    category: C3", "    category: C5", 29, "Input should be 'C1', 'C2', 'C3' or 'C4'"),
        ('    label: "Fall, injured"\n', "", 28, "rules.1.label: Field required"),
        (
            "    final: true\n",
            "    final: true\n    colour: red\n",
            28,
            "rules.0.colour: Extra inputs are not permitted",
        ),
        ("schema_version: 1", "schema_version: 2", 1, "protocol format 2 is newer than this"),
        ("complaints:\n", "complaints: [\n", 4, "(file): YAML:"),
    ],
)
def test_broken_protocol_is_reported_with_file_and_line(
    tmp_path: Path, old: str, new: str, line: int, message: str
) -> None:
    assert old in MINIMAL
    path = write(tmp_path, MINIMAL.replace(old, new, 1))
    with pytest.raises(TriageDataError) as info:
        Protocol.load(path)
    text = str(info.value)
    assert text.startswith(f"{path}:{line}:"), text
    assert message in text, text


def test_missing_protocol_file(tmp_path: Path) -> None:
    with pytest.raises(TriageDataError, match=r"nope\.yaml:1:1: \(file\): file not found"):
        Protocol.load(tmp_path / "nope.yaml")


def test_triage_data_error_is_a_value_error() -> None:
    assert issubclass(TriageDataError, ValueError)


# ------------------------------------------------------------------ fast paths


def reference_evaluation(p: Protocol, answers: dict[str, str]) -> tuple[list[str], str | None, Any]:
    """applicable, next_question and (rule, final) by the plain definitions, question by question
    and rule by rule: an oracle for the compiled, memoised evaluation."""

    def applies(q: Question, effective: dict[str, str]) -> bool:
        if q.stage != NATURE_OF_CALL:
            complaint = effective.get(WHAT_HAPPENED)
            if complaint is None or (q.applies_to and complaint not in q.applies_to):
                return False
        return all(effective.get(k) in vals for k, vals in q.ask_if)

    def could_apply(qid: str, effective: dict[str, str]) -> bool:
        q = p.questions[qid]
        complaint = effective.get(WHAT_HAPPENED)
        if q.stage != NATURE_OF_CALL and complaint is not None and q.applies_to:
            if complaint not in q.applies_to:
                return False
        return all(
            effective[k] in vals if k in effective else could_apply(k, effective)
            for k, vals in q.ask_if
        )

    effective: dict[str, str] = {}
    for q in p.questions.values():
        if q.id in answers and applies(q, effective):
            effective[q.id] = answers[q.id]
    applicable = [q.id for q in p.questions.values() if applies(q, effective)]
    fired: tuple[Rule | None, bool] = (None, False)
    for rule in p.rules:
        if all(effective.get(qid) in vals for qid, vals in rule.when):
            possible = any(
                all(
                    effective[qid] in vals if qid in effective else could_apply(qid, effective)
                    for qid, vals in earlier.when
                )
                for earlier in p.rules[: rule.index]
            )
            fired = (rule, rule.final and not possible)
            break
    unasked = [q for q in applicable if q not in effective]
    nxt = None if fired[1] or not unasked else unasked[0]
    return applicable, nxt, fired


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_evaluation_matches_the_plain_definitions(data: st.DataObject) -> None:
    protocol = shipped()
    if data.draw(st.booleans()):  # a call part way through its questions
        walked = walk(protocol, data.draw(full_answers()))
        answers = dict(list(walked.items())[: data.draw(st.integers(0, len(walked)))])
    else:  # anything
        qids = data.draw(st.lists(st.sampled_from(list(protocol.questions)), unique=True))
        answers = {q: data.draw(st.sampled_from(protocol.questions[q].answers)) for q in qids}
        if data.draw(st.booleans()):
            answers[WHAT_HAPPENED] = data.draw(st.sampled_from(list(protocol.complaints)))
    for _ in range(2):  # the second time from the memo
        applicable, nxt, (rule, final) = reference_evaluation(protocol, answers)
        assert protocol.applicable(answers) == applicable
        assert protocol.next_question(answers) == nxt
        assert protocol.rule_for(answers) == rule
        a = protocol.assess(answers)
        assert (a.category, a.final) == ((rule.category if rule else None), final)
        assert a.complete == (final or all(q in answers for q in applicable))


SMALL = """\
schema_version: 1
complaints: {fall: "Fall", cough: "Cough"}
questions:
  - {id: breathing, text: "Breathing?", stage: nature_of_call, answers: [yes, no], default: yes}
  - {id: what_happened, text: "What happened?", stage: nature_of_call, default: fall}
  - {id: got_up, text: "Up?", stage: specific, applies_to: [fall], answers: [yes, no],
     default: yes}
  - {id: long_lie, text: "Long?", stage: specific, applies_to: [fall], answers: [yes, no],
     default: no, ask_if: {got_up: no}}
  - {id: cough_blood, text: "Blood?", stage: specific, applies_to: [cough], answers: [yes, no],
     default: no}
rules:
  - {when: {breathing: no}, category: C1, code: "09-E-01", label: "Not breathing", final: true}
  - {when: {long_lie: yes}, category: C2, code: "17-D-01", label: "Long lie"}
  - {when: {complaint: fall, got_up: yes}, category: C4, code: "17-A-02", label: "Up",
     final: true}
  - {when: {cough_blood: yes}, category: C3, code: "48-C-01", label: "Blood", final: true}
  - {when: {complaint: fall}, category: C3, code: "17-A-01", label: "Fall"}
  - {when: {complaint: cough}, category: C4, code: "48-A-01", label: "Cough"}
"""


def test_evaluation_matches_the_plain_definitions_everywhere_on_a_small_protocol(
    tmp_path: Path,
) -> None:
    protocol = Protocol.load(write(tmp_path, SMALL))
    options = [[None, *q.answers] for q in protocol.questions.values()]
    for values in itertools.product(*options):
        answers = {q: v for q, v in zip(protocol.questions, values, strict=True) if v is not None}
        applicable, nxt, (rule, final) = reference_evaluation(protocol, answers)
        assert protocol.applicable(answers) == applicable, answers
        assert protocol.next_question(answers) == nxt, answers
        assert protocol.rule_for(answers) == rule, answers
        assert protocol.assess(answers).final == final, answers


def test_memoised_results_are_not_shared(protocol: Protocol) -> None:
    answers = {"breathing": "yes", "conscious": "yes"}
    first = protocol.applicable(answers)
    first.append("mutated")
    assert protocol.applicable(dict(answers)) == first[:-1]
    with pytest.raises(ValueError, match="not an answer"):
        protocol.assess({"breathing": ["yes"]})  # type: ignore[dict-item]


def test_ask_if_must_look_back() -> None:
    p = shipped()
    questions = list(p.questions.values())
    fall_long_lie = next(i for i, q in enumerate(questions) if q.id == "fall_long_lie")
    moved = [questions[fall_long_lie], *questions[:fall_long_lie], *questions[fall_long_lie + 1 :]]
    moved = [
        *[q for q in moved if q.stage == NATURE_OF_CALL],
        *[q for q in moved if q.stage != NATURE_OF_CALL],
    ]
    with pytest.raises(ValueError, match="fall_long_lie"):
        Protocol(moved, p.complaints, p.rules)


def plain(data: Any) -> Any:
    """ruamel's or the fast path's data with ruamel's scalar subclasses made plain, types kept."""
    if isinstance(data, dict):
        return [(plain(k), plain(v)) for k, v in data.items()]
    if isinstance(data, list):
        return [plain(v) for v in data]
    for kind in (bool, str, int, float):
        if isinstance(data, kind):
            return (kind.__name__, repr(kind(data)))
    return (type(data).__name__, repr(data))


TRICKY_YAML = [
    "a: yes\nb: no\nc: on\nd: y\ne: True\nf: ~\ng:\nh: null\n",
    "a: 1\nb: -2\nc: 0.5\nd: -0.0\ne: 1e3\nf: .5\ng: 5.\nh: +7\n",
    "a: 010\nb: 0o10\nc: 0x1F\nd: 1_000\ne: .inf\nf: .nan\ng: 1:30\nh: 2001-12-14\n",
    "a: ! 5\nb: ! '5'\nc: !!str 5\nd: !!int '5'\ne: !foo x\n",
    "a: &x 1\nb: *x\n",
    "a: {b: 1}\nc:\n  <<: {d: 2}\n",
    "a: 1\na: 2\n",
    "? [a, b]\n: c\n",
    "%YAML 1.1\n---\na: yes\n",
    "a:\tb\n",
    "&key: value\n",
    "a: |\n  line1\n  line2\nb: >\n  folded\n  text\n\n  para\nc: |-\n  x\n",
    "a: \"esc \\t \\u00e9 \\x41\"\nb: 'it''s'\nc: plain\n  continued\nd: \"A&E, help!\"\n",
    "- a\n- b\n",
    "a: [unclosed\n",
]


@pytest.mark.parametrize("text", TRICKY_YAML)
def test_fast_yaml_reads_like_ruamel_or_declines(text: str) -> None:
    fast = yamlfile._parse_fast(text)
    if fast is not None:
        assert plain(fast.data) == plain(YAML(typ="rt").load(text))


def test_fast_yaml_reads_the_shipped_files_like_ruamel() -> None:
    files = [DEFAULT_PROTOCOL, *sorted((DEFAULT_PROTOCOL.parent.parent / "cards").glob("*.yaml"))]
    for file in files:
        text = file.read_text(encoding="utf-8")
        fast = yamlfile._parse_fast(text)
        if yamlfile._c_composer() is None:
            assert fast is None
            continue
        assert fast is not None, file  # the shipped data must not need the slow path
        raw = YAML(typ="rt").load(text)
        assert plain(fast.data) == plain(raw), file
        for i in range(len(raw.get("rules", ()))):
            assert fast.position(["rules", i]) == position_of(raw, ["rules", i])


def test_round_trip_fallback_loads_the_same_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = Protocol.load()
    monkeypatch.setattr(yamlfile, "_parse_fast", lambda text: None)
    slow = Protocol.load()
    assert list(slow.questions.values()) == list(fast.questions.values())
    assert slow.complaints == fast.complaints
    assert slow.rules == fast.rules  # with their line numbers
    assert all(r.line is not None for r in slow.rules)


def test_an_incident_categorised_before_what_happened_is_named_by_its_rule(
    protocol: Protocol,
) -> None:
    # Not breathing: a C1 at once, before anyone asks what happened.
    answers = {"breathing": "no"} if "breathing" in protocol.questions else {}
    rule = protocol.rule_for(answers) if answers else protocol.rules[0]
    assert rule is not None
    assert protocol.describe("unknown", rule.code) == rule.label
    some = next(iter(protocol.complaints))
    assert protocol.describe(some, rule.code) == protocol.complaints[some]
    assert protocol.describe("unknown") == "not yet known"
    assert protocol.describe("bus_crash") == "bus crash"
