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

Loading errors raise :class:`~ambsim_gui.sim.protocol.TriageDataError` naming file and line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from ruamel.yaml.comments import CommentedMap

from ambsim_gui.paths import RESOURCES
from ambsim_gui.sim.protocol import (
    CATEGORIES,
    WHAT_HAPPENED,
    Protocol,
    Question,
    TriageDataError,
    _check_ident,
    _load_yaml,
    _validation_error,
    _where,
    _yaml_line,
)

__all__ = [
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
    description: str = ""  # one line for the debrief ("inferior MI, atypical presentation")
    openings: tuple[str, ...] | None = Field(default=None, min_length=1)  # replace the card's
    answers: dict[str, AnswerSpec] = Field(default_factory=dict)  # override the card's
    extra_callers_mean: float | None = Field(default=None, ge=0.0)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_ident(v)

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
        return _check_ident(v)

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


class CardLibrary:
    """All call cards, checked against a protocol."""

    protocol: Protocol
    cards: dict[str, Card]  # by name, sorted by name

    def __init__(self, cards: Sequence[Card], protocol: Protocol) -> None:
        self.protocol = protocol
        self.cards = {c.name: c for c in sorted(cards, key=lambda c: c.name)}
        rows: list[tuple[str, str, str, float]] = []
        for card in self.cards.values():
            total = sum(v.weight for v in card.variants)
            for v in card.variants:
                rows.append((card.name, v.name, v.true_category, card.weight * v.weight / total))
        self._variants = tuple(rows)
        self._pools: dict[str | None, tuple[tuple[tuple[str, str], ...], np.ndarray]] = {}
        # Each truth consumes exactly this many uniforms, whatever the card (stable streams).
        self._uniforms = 3 + 2 * len(protocol.questions)

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
            raise TriageDataError(f"{directory}: no such card folder")
        files = sorted(directory.glob("*.yaml"))
        if not files:
            raise TriageDataError(f"{directory}: no call cards (*.yaml) found")
        cards: list[Card] = []
        names: dict[str, Path] = {}
        for file in files:
            card = _load_card(file, proto)
            if card.name in names:
                raise TriageDataError(
                    f"{_where(file, 1)}: card '{card.name}' is also defined in {names[card.name]}"
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
        if card_weights is None and category in self._pools:
            rows, cum = self._pools[category]
        else:
            pool: list[tuple[str, str]] = []
            weights: list[float] = []
            for card, variant, cat, w in self._variants:
                if category is not None and cat != category:
                    continue
                if card_weights is not None:
                    w *= card_weights.get(card, 0.0)
                if w > 0.0:
                    pool.append((card, variant))
                    weights.append(w)
            rows, cum = tuple(pool), np.cumsum(np.asarray(weights, dtype=float))
            if card_weights is None:
                self._pools[category] = (rows, cum)
        if not rows:
            raise ValueError(
                "no call card variant matches"
                + (f" category {category}" if category is not None else "")
                + (" with these card_weights" if card_weights is not None else "")
            )
        u = rng.random(self._uniforms + 1)
        i = min(int(np.searchsorted(cum, u[0] * cum[-1], side="right")), len(rows) - 1)
        card, variant = rows[i]
        return self._truth(self.cards[card], self.cards[card].variant(variant), u[1:])

    def draw_variant(
        self, rng: np.random.Generator, card: str, variant: str | None = None
    ) -> PatientTruth:
        """Draw a patient of a given card (and variant, else one by the variants' weights)."""
        if card not in self.cards:
            raise ValueError(f"unknown card '{card}'")
        c = self.cards[card]
        u = rng.random(self._uniforms + 1)
        if variant is None:
            cum = np.cumsum([v.weight for v in c.variants])
            i = min(int(np.searchsorted(cum, u[0] * cum[-1], side="right")), len(c.variants) - 1)
            chosen = c.variants[i]
        else:
            chosen = c.variant(variant)
        return self._truth(c, chosen, u[1:])

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

    def _truth(self, card: Card, variant: Variant, u: np.ndarray) -> PatientTruth:
        share = {str(k): float(p) for k, p in variant.needs.items()}
        needs = [(n, share.get(n, 0.0)) for n in NEEDS]
        need = _pick([n for n, p in needs if p > 0], [p for _, p in needs if p > 0], float(u[0]))
        openings = variant.openings or card.openings
        opening = openings[_index(len(openings), float(u[1]))]
        answers: dict[str, Answer] = {}
        k = 2
        for q in self.protocol.questions.values():
            spec = variant.answers.get(q.id, card.answers.get(q.id))
            answers[q.id] = _answer(q, spec, card, opening, float(u[k]), float(u[k + 1]))
            k += 2
        extra = (
            variant.extra_callers_mean
            if variant.extra_callers_mean is not None
            else card.extra_callers_mean
        )
        return PatientTruth(
            card=card.name,
            variant=variant.name,
            complaint=card.complaint,
            title=card.title,
            true_category=variant.true_category,
            need=need,
            ideal=variant.ideal,
            opening=opening,
            answers=MappingProxyType(answers),
            extra_callers_mean=float(extra),
            description=variant.description,
        )

    def __repr__(self) -> str:
        return f"CardLibrary({len(self.cards)} cards, {len(self._variants)} variants)"


def _index(n: int, u: float) -> int:
    return min(int(u * n), n - 1)


def _pick(items: Sequence[str], weights: Sequence[float], u: float) -> str:
    total = sum(weights)
    acc = 0.0
    for item, w in zip(items, weights, strict=True):
        acc += w
        if u * total < acc:
            return item
    return items[-1]


def _answer(
    q: Question, spec: AnswerSpec | None, card: Card, opening: str, u_value: float, u_text: float
) -> Answer:
    """Resolve the caller's answer to ``q`` from a card's spec (or the protocol's default)."""
    if q.id == WHAT_HAPPENED:
        value = card.complaint
        texts = spec.say if spec is not None and spec.say else (opening,)
        return Answer(value, texts[_index(len(texts), u_text)])
    if spec is None:
        value = q.default
        texts = q.phrasings(value)
    else:
        value = spec.value if spec.value is not None else q.default
        texts = spec.say or q.phrasings(value)
        if spec.p < 1.0 and spec.else_ is not None and u_value >= spec.p:
            value = spec.else_
            texts = spec.else_say or q.phrasings(value)
    if not texts:
        texts = (value.replace("_", " ").capitalize() + ".",)
    return Answer(value, texts[_index(len(texts), u_text)])


def _load_card(file: Path, protocol: Protocol) -> Card:
    raw = _load_yaml(file)
    if not isinstance(raw, CommentedMap):
        raise TriageDataError(f"{_where(file, 1)}: a call card must be a YAML mapping")
    data = dict(raw)
    data.setdefault("name", file.stem)
    try:
        card = Card.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(file, raw, exc) from None

    def fail(path: Sequence[str | int], msg: str) -> TriageDataError:
        return TriageDataError(f"{_where(file, _yaml_line(raw, path))}: {msg}")

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
