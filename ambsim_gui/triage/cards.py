"""Load the call cards (``resources/cards/*.yaml``) and draw a hidden patient truth from them.

A call card describes one presenting complaint: how callers open the call, how they answer the
protocol's questions, and one or more *variants* (e.g. chest pain: heart attack or muscular), each
with the category the patient truly warrants, a distribution of what the patient really needs
(hear-and-treat, see-and-treat, conveyance to ED or elsewhere) and what an expert control room
should do. :meth:`CardLibrary.draw` picks a variant, a need and the caller's phrasings with a numpy
``Generator``, so a call is reproducible from its random stream.

An answer may be uncertain: ``{value: yes, p: 0.8, else: unsure}`` means the caller says ``yes``
with probability 0.8 and ``unsure`` otherwise. Questions a card does not mention get the
protocol's default answer and its generic phrasing.

Cards are read through the one loading path of :mod:`ambsim_gui.datafile`: every problem is a
``DataFileError`` at ``file:line:col: where: what``.
"""

from __future__ import annotations

import functools
import math
import os
from bisect import bisect_right
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ambsim_gui.datafile.problems import fail as file_error
from ambsim_gui.datafile.versions import SchemaVersions
from ambsim_gui.datafile.yamlfile import Locate, load_checked
from ambsim_gui.paths import RESOURCES
from ambsim_gui.triage.protocol import (
    CATEGORIES,
    WHAT_HAPPENED,
    Protocol,
    Question,
    located_failure,
)
from ambsim_gui.triage.protocol_file import check_ident

__all__ = [
    "CARD_VERSIONS",
    "DEFAULT_CARDS",
    "IDEALS",
    "NEEDS",
    "Answer",
    "AnswerSpec",
    "Card",
    "CardLibrary",
    "PatientTruth",
    "Variant",
]

DEFAULT_CARDS = RESOURCES / "cards"
NEEDS: tuple[str, ...] = ("hear_and_treat", "see_and_treat", "convey_ed", "convey_elsewhere")
IDEALS: tuple[str, ...] = ("dispatch", "validate", "advise")

Need = Literal["hear_and_treat", "see_and_treat", "convey_ed", "convey_elsewhere"]
Ideal = Literal["dispatch", "validate", "advise"]
Category = Literal["C1", "C2", "C3", "C4"]

IDEAL_REASON_MAX = 140  # characters: one line beside the ideal decision in the feedback


def _v1_to_v2(data: MutableMapping[Any, Any]) -> None:
    """Format 1 -> 2: every variant gains ``ideal_reason``. A format-1 card gave none, so the
    step says so, in words made from the variant's own category and ideal decision."""
    variants = data.get("variants")
    if not isinstance(variants, list):
        return  # the model reports what is wrong with it
    for v in variants:
        if isinstance(v, dict) and "ideal_reason" not in v:
            ideal = _IDEAL_WORDS.get(str(v.get("ideal")), "the decision the card gives")
            category = v.get("true_category")
            patient = f"a {category} patient" if isinstance(category, str) else "this patient"
            reason = f"No reason given (a format 1 card): the ideal for {patient} is {ideal}."
            v["ideal_reason"] = reason[:IDEAL_REASON_MAX]


_IDEAL_WORDS = {
    "dispatch": "a vehicle",
    "validate": "a clinician's call-back",
    "advise": "advice or referral by phone",
}

CARD_VERSIONS = SchemaVersions("call card", current=2, migrations={1: _v1_to_v2}, unversioned=1)
"""Call cards: format 2 gives every variant an ``ideal_reason``; a format-1 card (or one
written before cards said their version) gets one saying that it gave none."""


# --------------------------------------------------------------------------------------------
# File format (pydantic)
# --------------------------------------------------------------------------------------------


class AnswerSpec(BaseModel):
    """How a card's caller answers one question."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    value: str | None = None  # None: the question's default (what_happened: the card's complaint)
    say: tuple[str, ...] | None = Field(default=None, min_length=1)
    p: float = Field(default=1.0, gt=0.0, le=1.0)  # probability the caller gives ``value``
    else_: str | None = Field(default=None, alias="else")  # what they say otherwise
    else_say: tuple[str, ...] | None = Field(default=None, min_length=1)


class Variant(BaseModel):
    """One hidden truth behind a card's presentation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    weight: float = Field(gt=0.0)  # relative to the card's other variants
    true_category: Category
    needs: dict[Need, float] = Field(min_length=1)
    ideal: Ideal
    # why ``ideal`` is the right decision for this patient, in one line, for the feedback beside
    # the ideal decision ("Chest pain with sweating ... may be a heart attack: a C2 response")
    ideal_reason: str = Field(min_length=1, max_length=IDEAL_REASON_MAX)
    description: str = ""  # one line for the debrief ("inferior MI, atypical presentation")
    openings: tuple[str, ...] | None = Field(default=None, min_length=1)  # replace the card's
    answers: dict[str, AnswerSpec] = Field(default_factory=dict)  # override the card's
    extra_callers_mean: float | None = Field(default=None, ge=0.0)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_ident(v)

    @field_validator("ideal_reason")
    @classmethod
    def _one_line(cls, v: str) -> str:
        v = v.strip()
        if not v or "\n" in v:
            raise ValueError("ideal_reason must be one line of text")
        return v

    @field_validator("needs")
    @classmethod
    def _needs(cls, v: dict[Need, float]) -> dict[Need, float]:
        if any(p < 0 for p in v.values()):
            raise ValueError("need probabilities must not be negative")
        total = sum(v.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"need probabilities must sum to 1 (they sum to {total:.6g})")
        return v


class Card(BaseModel):
    """A call card: one presenting complaint and its variants."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[2] = 2
    name: str
    title: str = Field(min_length=1)
    complaint: str
    weight: float = Field(gt=0.0)  # relative frequency among cards
    openings: tuple[str, ...] = Field(min_length=1)
    answers: dict[str, AnswerSpec] = Field(default_factory=dict)  # shared by all variants
    variants: tuple[Variant, ...] = Field(min_length=1)
    extra_callers_mean: float = Field(default=0.0, ge=0.0)
    notes: str = ""  # for instructors; not shown to trainees

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_ident(v)

    def variant(self, name: str) -> Variant:
        """The variant called ``name``."""
        for v in self.variants:
            if v.name == name:
                return v
        raise ValueError(
            f"card '{self.name}' has no variant '{name}' "
            f"(it has: {', '.join(v.name for v in self.variants)})"
        )


# --------------------------------------------------------------------------------------------
# Runtime results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What the caller answers to one question: the protocol value and the words they use."""

    value: str
    text: str


@dataclass(frozen=True)
class PatientTruth:
    """The hidden truth of one emergency call."""

    card: str
    variant: str
    complaint: str
    title: str
    true_category: str  # "C1".."C4": the category the patient truly warrants
    need: str  # "hear_and_treat" | "see_and_treat" | "convey_ed" | "convey_elsewhere"
    ideal: str  # "dispatch" | "validate" | "advise": what an expert room should do
    opening: str  # the caller's first words
    answers: Mapping[str, Answer] = field(hash=False)  # EVERY protocol question, defaults filled
    extra_callers_mean: float  # mean number of additional callers about the same incident
    description: str = ""  # the variant's one-line description, for debriefs

    def answer_values(self) -> dict[str, str]:
        """Question id -> answer value, e.g. to feed :meth:`Protocol.assess`."""
        return {qid: a.value for qid, a in self.answers.items()}


# --------------------------------------------------------------------------------------------
# The library
# --------------------------------------------------------------------------------------------


_AnswerPlan = tuple[str, float, tuple[Answer, ...], tuple[Answer, ...]]
"""How a variant's caller answers one question: (question id, p, answers, else answers).

The caller gives one of ``answers`` (the phrasing picked by a uniform), unless another uniform is
>= p, when they give one of ``else answers`` instead; p is infinite for a certain answer.
"""

_CERTAIN = math.inf  # the p of a certain answer: a uniform is never >= it

_POOL_CACHE_SIZE = 64  # draw pools remembered per library (category x card_weights)


@dataclass(frozen=True, slots=True, eq=False)
class _VariantPlan:
    """Everything :meth:`CardLibrary._truth` needs about one variant, worked out at load time so
    that drawing a patient takes a few array operations. For the same uniforms it gives the same
    patient as resolving the card's answer specs question by question."""

    card: str
    variant: str
    complaint: str
    title: str
    true_category: str
    ideal: str
    description: str
    extra_callers_mean: float
    needs: tuple[tuple[str, float], ...]  # (need, cumulative share), NEEDS order, shares > 0
    needs_total: float  # sum() of those shares: the need is the first whose running sum > u * it
    openings: tuple[str, ...]
    # Every protocol question's usual answers: question i's n[i] phrasings are
    # choices[start[i] : start[i] + n[i]], followed by its last one again, so that the phrasing
    # index int(u * n[i]) may reach n[i] (u * n rounds up to n for u just below 1).
    question_ids: tuple[str, ...]  # protocol order
    choices: tuple[Answer, ...]
    start: np.ndarray  # intp, per question
    n: np.ndarray  # float64 (exact integers), per question
    # Questions whose answer is uncertain: (index, question id, p, the else answers).
    uncertain: tuple[tuple[int, str, float, tuple[Answer, ...]], ...]
    # what_happened answered with the caller's opening words (one Answer per opening), when
    # the card gives it no phrasings; None when it does.
    opening_answers: tuple[Answer, ...] | None


class CardLibrary:
    """All call cards, checked against a protocol."""

    protocol: Protocol
    cards: dict[str, Card]  # by name, sorted by name

    def __init__(self, cards: Sequence[Card], protocol: Protocol) -> None:
        self.protocol = protocol
        self.cards = {c.name: c for c in sorted(cards, key=lambda c: c.name)}
        rows: list[tuple[str, str, str, float]] = []
        # Most questions are answered the protocol's way by most cards: plan those once.
        self._default_plans = {
            q.id: _answer_plan(q, None)
            for q in protocol.questions.values()
            if q.id != WHAT_HAPPENED
        }
        plans: dict[tuple[str, str], _VariantPlan] = {}
        self._by_card: dict[str, tuple[tuple[_VariantPlan, ...], list[float]]] = {}
        for card in self.cards.values():
            total = sum(v.weight for v in card.variants)
            for v in card.variants:
                rows.append((card.name, v.name, v.true_category, card.weight * v.weight / total))
                plans[card.name, v.name] = self._plan(card, v)
            self._by_card[card.name] = (
                tuple(plans[card.name, v.name] for v in card.variants),
                np.cumsum([v.weight for v in card.variants]).tolist(),
            )
        self._variants = tuple(rows)
        self._plans = plans
        self._variant_plans = tuple(plans[card, variant] for card, variant, _, _ in rows)
        # Draw pools: (plans, cumulative weights), by (category, frozen card_weights or None).
        self._pools: dict[
            tuple[str | None, frozenset[tuple[str, float]] | None],
            tuple[tuple[_VariantPlan, ...], list[float]],
        ] = {}
        # Each truth consumes exactly this many uniforms, whatever the card (stable streams).
        self._uniforms = 3 + 2 * len(protocol.questions)

    def _plan(self, card: Card, variant: Variant) -> _VariantPlan:
        """Precompute how to draw a patient of ``variant`` (see _VariantPlan)."""
        needs: list[tuple[str, float]] = []
        shares = [variant.needs.get(n, 0.0) for n in NEEDS]  # type: ignore[call-overload]
        acc = 0.0
        for need, share in zip(NEEDS, shares, strict=True):
            if share > 0:
                acc += share
                needs.append((need, acc))
        openings = variant.openings or card.openings
        opening_answers: tuple[Answer, ...] | None = None
        plans: list[_AnswerPlan] = []
        for q in self.protocol.questions.values():
            spec = variant.answers.get(q.id, card.answers.get(q.id))
            if q.id != WHAT_HAPPENED:
                plans.append(self._default_plans[q.id] if spec is None else _answer_plan(q, spec))
            elif spec is not None and spec.say:
                said = tuple(Answer(card.complaint, text) for text in spec.say)
                plans.append((q.id, _CERTAIN, said, said))
            else:
                # The caller's opening words; _truth puts the one drawn in place of these.
                opening_answers = tuple(Answer(card.complaint, text) for text in openings)
                plans.append((q.id, _CERTAIN, opening_answers, opening_answers))
        choices: list[Answer] = []
        start: list[int] = []
        for _, _, usual, _ in plans:
            start.append(len(choices))
            choices += (*usual, usual[-1])
        extra = (
            variant.extra_callers_mean
            if variant.extra_callers_mean is not None
            else card.extra_callers_mean
        )
        return _VariantPlan(
            card=card.name,
            variant=variant.name,
            complaint=card.complaint,
            title=card.title,
            true_category=variant.true_category,
            ideal=variant.ideal,
            description=variant.description,
            extra_callers_mean=float(extra),
            needs=tuple(needs),
            needs_total=sum(s for s in shares if s > 0),
            openings=openings,
            question_ids=tuple(qid for qid, _, _, _ in plans),
            choices=tuple(choices),
            start=np.array(start, dtype=np.intp),
            n=np.array([len(usual) for _, _, usual, _ in plans], dtype=np.float64),
            uncertain=tuple(
                (i, qid, p, otherwise)
                for i, (qid, p, _, otherwise) in enumerate(plans)
                if p != _CERTAIN
            ),
            opening_answers=opening_answers,
        )

    # ---------------------------------------------------------------- loading

    @classmethod
    def load(
        cls, folder: Path | str | None = None, protocol: Protocol | None = None
    ) -> CardLibrary:
        """Load every ``*.yaml`` card in ``folder`` (default ``resources/cards``) and check each
        answer against ``protocol`` (default: the shipped protocol)."""
        directory = Path(folder) if folder is not None else DEFAULT_CARDS
        proto = protocol if protocol is not None else Protocol.load()
        if not directory.is_dir():
            raise file_error(os.fspath(directory), "no such card folder")
        files = sorted(directory.glob("*.yaml"))
        if not files:
            raise file_error(os.fspath(directory), "no call cards (*.yaml) found")
        cards: list[Card] = []
        names: dict[str, Path] = {}
        for file in files:
            card = _load_card(file, proto)
            if card.name in names:
                raise file_error(
                    os.fspath(file), f"card '{card.name}' is also defined in {names[card.name]}"
                )
            names[card.name] = file
            cards.append(card)
        return cls(cards, proto)

    # ---------------------------------------------------------------- drawing

    def variants(self) -> list[tuple[str, str, str, float]]:
        """(card, variant, true_category, weight) over all cards, in a fixed order.

        ``weight`` is the card's weight times the variant's share of its card, so the weights of
        all rows are the relative frequencies of the variants among calls.
        """
        return list(self._variants)

    def draw(
        self,
        rng: np.random.Generator,
        *,
        category: str | None = None,
        card_weights: Mapping[str, float] | None = None,
    ) -> PatientTruth:
        """Draw a patient: a variant (optionally only of true ``category``; with ``card_weights``
        multiplying each card's weight, cards absent from it excluded), then a need, then phrasings.

        Raises ValueError when no variant is left to draw from.
        """
        if category is not None and category not in CATEGORIES:
            raise ValueError(f"unknown category '{category}' (expected one of {CATEGORIES})")
        if card_weights is not None:
            for name, w in card_weights.items():
                if name not in self.cards:
                    raise ValueError(f"card_weights: unknown card '{name}'")
                if not w >= 0.0:
                    raise ValueError(f"card_weights: weight of '{name}' must be >= 0, not {w}")
        rows, cum = self._pool(category, card_weights)
        u = rng.random(self._uniforms + 1)
        i = min(bisect_right(cum, float(u[0]) * cum[-1]), len(rows) - 1)
        return self._truth(rows[i], u)

    def _pool(
        self, category: str | None, card_weights: Mapping[str, float] | None
    ) -> tuple[tuple[_VariantPlan, ...], list[float]]:
        """The variants ``draw`` picks from and their cumulative weights (remembered)."""
        key: tuple[str | None, frozenset[tuple[str, float]] | None] | None = (category, None)
        if card_weights is not None:
            # Only plain float and int weights make a key: a weight of another type may equal a
            # float yet multiply differently (numpy's float32 rounds the product).
            key = None
            if set(map(type, card_weights.values())) <= {float, int}:
                key = (category, frozenset(card_weights.items()))
        if key is not None and key in self._pools:
            return self._pools[key]
        pool: list[_VariantPlan] = []
        weights: list[float] = []
        for (card, _, cat, w), plan in zip(self._variants, self._variant_plans, strict=True):
            if category is not None and cat != category:
                continue
            if card_weights is not None:
                w *= card_weights.get(card, 0.0)
            if w > 0.0:
                pool.append(plan)
                weights.append(w)
        if not pool:
            raise ValueError(
                "no call card variant matches"
                + (f" category {category}" if category is not None else "")
                + (" with these card_weights" if card_weights is not None else "")
            )
        # np.cumsum, which adds up left to right: the cumulative weights must not move by a bit.
        found = tuple(pool), np.cumsum(np.asarray(weights, dtype=float)).tolist()
        if key is not None:
            if len(self._pools) >= _POOL_CACHE_SIZE:
                self._pools.clear()
            self._pools[key] = found
        return found

    def draw_variant(
        self, rng: np.random.Generator, card: str, variant: str | None = None
    ) -> PatientTruth:
        """Draw a patient of a given card (and variant, else one by the variants' weights)."""
        if card not in self.cards:
            raise ValueError(f"unknown card '{card}'")
        u = rng.random(self._uniforms + 1)
        if variant is None:
            plans, cum = self._by_card[card]
            plan = plans[min(bisect_right(cum, float(u[0]) * cum[-1]), len(plans) - 1)]
        else:
            plan = self._plans[card, self.cards[card].variant(variant).name]
        return self._truth(plan, u)

    def openings(self, card: str, variant: str) -> tuple[str, ...]:
        """The ways a caller about this variant may open a call (e.g. when calling again)."""
        if card not in self.cards:
            raise ValueError(f"unknown card '{card}'")
        c = self.cards[card]
        return c.variant(variant).openings or c.openings

    def typical_answers(self, card: str, variant: str) -> dict[str, str]:
        """The answer values a typical caller gives (each uncertain answer at its likelier value).

        For debriefs ("what the protocol says for this patient") and for checking the cards.
        """
        if card not in self.cards:
            raise ValueError(f"unknown card '{card}'")
        c = self.cards[card]
        v = c.variant(variant)
        values: dict[str, str] = {}
        for q in self.protocol.questions.values():
            spec = v.answers.get(q.id, c.answers.get(q.id))
            if q.id == WHAT_HAPPENED:
                values[q.id] = c.complaint
            elif spec is None or spec.value is None:
                values[q.id] = q.default
            elif spec.p < 0.5 and spec.else_ is not None:
                values[q.id] = spec.else_
            else:
                values[q.id] = spec.value
        return values

    def _truth(self, plan: _VariantPlan, u: np.ndarray) -> PatientTruth:
        """The patient of ``plan`` for the uniforms ``u``: u[0] picked the variant, u[1] picks
        the need, u[2] the opening, then two per protocol question: u[3 + 2i] whether an
        uncertain answer flips to its else value, u[4 + 2i] the phrasing."""
        _, u_need, u_opening = u[:3].tolist()
        x = u_need * plan.needs_total
        need = plan.needs[-1][0]
        for item, acc in plan.needs:
            if x < acc:
                need = item
                break
        openings = plan.openings
        j = _index(len(openings), u_opening)
        # Every question's usual answer at once: phrasing int(u * n) of its n (see _VariantPlan);
        # numpy multiplies and truncates exactly as Python's int(u * n) does.
        count = len(plan.question_ids)
        pick = (u[4 : 4 + 2 * count : 2] * plan.n).astype(np.intp)
        pick += plan.start
        answers = dict(
            zip(plan.question_ids, map(plan.choices.__getitem__, pick.tolist()), strict=True)
        )
        for i, qid, p, otherwise in plan.uncertain:
            u_value, u_text = u[3 + 2 * i : 5 + 2 * i].tolist()
            if u_value >= p:
                answers[qid] = otherwise[_index(len(otherwise), u_text)]
        if plan.opening_answers is not None:
            answers[WHAT_HAPPENED] = plan.opening_answers[j]
        return PatientTruth(
            card=plan.card,
            variant=plan.variant,
            complaint=plan.complaint,
            title=plan.title,
            true_category=plan.true_category,
            need=need,
            ideal=plan.ideal,
            opening=openings[j],
            answers=MappingProxyType(answers),
            extra_callers_mean=plan.extra_callers_mean,
            description=plan.description,
        )

    def __repr__(self) -> str:
        return f"CardLibrary({len(self.cards)} cards, {len(self._variants)} variants)"


def _index(n: int, u: float) -> int:
    return min(int(u * n), n - 1)


def _choices(q: Question, value: str, say: tuple[str, ...] | None) -> tuple[Answer, ...]:
    """The ways a caller says ``value``: the card's phrasings, else the protocol's generic ones,
    else the value itself spelled out."""
    texts = say or q.phrasings(value) or (value.replace("_", " ").capitalize() + ".",)
    return tuple(Answer(value, text) for text in texts)


def _answer_plan(q: Question, spec: AnswerSpec | None) -> _AnswerPlan:
    """How a caller answers ``q`` (not what_happened) given a card's spec, or none."""
    if spec is None:
        choices = _choices(q, q.default, None)
        return (q.id, _CERTAIN, choices, choices)
    choices = _choices(q, spec.value if spec.value is not None else q.default, spec.say)
    if spec.p < 1.0 and spec.else_ is not None:
        return (q.id, spec.p, choices, _choices(q, spec.else_, spec.else_say))
    return (q.id, _CERTAIN, choices, choices)


def _load_card(file: Path, protocol: Protocol) -> Card:
    """Load one call card and check it against ``protocol``."""
    return load_checked(
        file, functools.partial(_check_card, file, protocol), kind="call card", model=Card
    )


def _check_card(file: Path, protocol: Protocol, raw: Any, locate: Locate) -> Card:
    """The card in ``raw`` (a card file's data), checked; raises DataFileError or
    pydantic's ValidationError (see ``datafile.yamlfile.load_checked``)."""
    name = os.fspath(file)
    if not isinstance(raw, dict):
        raise file_error(name, "a call card must be a YAML mapping")
    CARD_VERSIONS.upgrade(raw, name, locate)
    data = dict(raw)
    data.setdefault("name", file.stem)
    card = Card.model_validate(data)
    fail = located_failure(name, locate)

    if card.name != file.stem:
        raise fail(["name"], f"card name '{card.name}' must match the file name ('{file.stem}')")
    if card.complaint not in protocol.complaints:
        raise fail(["complaint"], f"unknown complaint '{card.complaint}' (not in the protocol)")

    def check_answers(answers: Mapping[str, AnswerSpec], where: list[str | int]) -> None:
        for qid, spec in answers.items():
            here = [*where, qid]
            q = protocol.questions.get(qid)
            if q is None:
                raise fail(here, f"answers: unknown question '{qid}'")
            if qid == WHAT_HAPPENED:
                if spec.value is not None and spec.value != card.complaint:
                    raise fail(
                        [*here, "value"],
                        f"what_happened is the card's complaint ('{card.complaint}'); "
                        "leave 'value' out",
                    )
                if spec.p < 1.0 or spec.else_ is not None:
                    raise fail(here, "what_happened cannot be uncertain")
                continue
            for key, val in (("value", spec.value), ("else", spec.else_)):
                if val is not None and val not in q.answers:
                    raise fail(
                        [*here, key],
                        f"'{val}' is not an answer to '{qid}' (answers: {', '.join(q.answers)})",
                    )
            if spec.p < 1.0 and spec.else_ is None:
                raise fail([*here, "p"], f"'{qid}': p < 1 needs an 'else' value")
            if spec.else_say is not None and spec.else_ is None:
                raise fail([*here, "else_say"], f"'{qid}': else_say needs an 'else' value")

    check_answers(card.answers, ["answers"])
    seen: set[str] = set()
    for i, v in enumerate(card.variants):
        if v.name in seen:
            raise fail(["variants", i, "name"], f"variant '{v.name}' is defined twice")
        seen.add(v.name)
        check_answers(v.answers, ["variants", i, "answers"])
    return card
