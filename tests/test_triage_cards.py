"""Tests for the call-card library: loading, drawing patients, and the calibration of the
shipped cards against the shipped protocol (category accuracy, needs, hear-and-treat safety)."""

from __future__ import annotations

import collections
import functools
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ambsim_gui.datafile import yamlfile
from ambsim_gui.triage.cards import IDEALS, NEEDS, Answer, CardLibrary, PatientTruth
from ambsim_gui.triage.protocol import (
    CATEGORIES,
    NATURE_OF_CALL,
    WHAT_HAPPENED,
    Assessment,
    Protocol,
    TriageDataError,
)

# The category mix of English ambulance incidents ambsim calibrates against (docs/domain.md,
# Demand).
NATIONAL_MIX = {"C1": 0.10, "C2": 0.52, "C3": 0.30, "C4": 0.08}


@functools.cache
def shipped() -> CardLibrary:
    return CardLibrary.load()


@pytest.fixture(scope="module")
def lib() -> CardLibrary:
    return shipped()


def triage(protocol: Protocol, truth: PatientTruth) -> tuple[Assessment, list[str]]:
    """Ask every question the protocol wants, answering truthfully from ``truth``."""
    asked: dict[str, str] = {}
    while (q := protocol.next_question(asked)) is not None:
        asked[q] = truth.answers[q].value
    return protocol.assess(asked), list(asked)


@functools.cache
def weighted_draws(n: int = 5000, seed: int = 20240601) -> list[tuple[PatientTruth, Assessment]]:
    lib = shipped()
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        truth = lib.draw(rng)
        out.append((truth, triage(lib.protocol, truth)[0]))
    return out


def needs_by_category(lib: CardLibrary) -> dict[str, dict[str, float]]:
    """Expected need shares among patients of each true category (natural variant weights)."""
    out: dict[str, dict[str, float]] = {}
    for cat in CATEGORIES:
        rows = [(c, v, w) for c, v, k, w in lib.variants() if k == cat]
        total = sum(w for *_, w in rows)
        shares = dict.fromkeys(NEEDS, 0.0)
        for c, v, w in rows:
            for need, p in lib.cards[c].variant(v).needs.items():
                shares[need] += w / total * p
        out[cat] = shares
    return out


# ------------------------------------------------------------------ the shipped library


def test_library_covers_the_protocol(lib: CardLibrary) -> None:
    assert len(lib.cards) >= 40
    assert list(lib.cards) == sorted(lib.cards)
    covered = {card.complaint for card in lib.cards.values()}
    assert covered == set(lib.protocol.complaints)
    assert len(covered) >= 40


def test_cards_have_varied_phrasings(lib: CardLibrary) -> None:
    protocol = lib.protocol
    for card in lib.cards.values():
        assert len(card.openings) >= 3, card.name
        specs = [(card.name, card.answers)] + [(v.name, v.answers) for v in card.variants]
        for v in card.variants:
            if v.openings is not None:
                assert len(v.openings) >= 2, (card.name, v.name)
        for where, answers in specs:
            for qid, spec in answers.items():
                q = protocol.questions[qid]
                value = spec.value if spec.value is not None else q.default
                texts = spec.say or q.phrasings(value)
                assert len(set(texts)) >= 2, (card.name, where, qid)
                if spec.else_ is not None:
                    texts = spec.else_say or q.phrasings(spec.else_)
                    assert len(set(texts)) >= 2, (card.name, where, qid, "else")


def test_variants_are_well_formed(lib: CardLibrary) -> None:
    rows = lib.variants()
    assert rows == lib.variants()
    assert len({(c, v) for c, v, _, _ in rows}) == len(rows)
    for c, v, cat, w in rows:
        variant = lib.cards[c].variant(v)
        assert cat == variant.true_category and w > 0
        assert abs(sum(variant.needs.values()) - 1.0) <= 1e-6
        assert variant.ideal in IDEALS
        if cat == "C1":
            assert variant.ideal == "dispatch", (c, v)
            assert variant.needs.get("hear_and_treat", 0.0) == 0.0, (c, v)


def test_natural_mix_is_national_like(lib: CardLibrary) -> None:
    total = sum(w for *_, w in lib.variants())
    mix = collections.Counter()
    for _, _, cat, w in lib.variants():
        mix[cat] += w / total
    for cat, share in NATIONAL_MIX.items():
        assert abs(mix[cat] - share) < 0.05, (cat, mix[cat])


def test_typical_callers_get_the_ideal_handling(lib: CardLibrary) -> None:
    matched = total = 0.0
    for c, v, cat, w in lib.variants():
        variant = lib.cards[c].variant(v)
        a = lib.protocol.assess(lib.typical_answers(c, v))
        assert a.complete and a.category is not None, (c, v)
        total += w
        matched += w if a.category == cat else 0.0
        if variant.ideal == "validate":
            assert a.validation, (c, v, a)
        if variant.ideal == "advise":
            assert a.advice, (c, v, a)
        if a.category != cat:  # deliberate protocol misses must be catchable by the hub
            assert a.validation, (c, v, a)
    assert matched / total > 0.95


# ------------------------------------------------------------------ calibration


def test_triage_accuracy_over_the_library() -> None:
    draws = weighted_draws()
    correct = sum(t.true_category == a.category for t, a in draws)
    accuracy = correct / len(draws)
    assert 0.85 <= accuracy < 1.0, accuracy  # good but not perfect
    c1 = [a for t, a in draws if t.true_category == "C1"]
    under = sum(a.category in ("C3", "C4") for a in c1)
    assert len(c1) > 200
    assert under / len(c1) < 0.03


def test_arrest_cards_are_final_c1_after_nature_of_call(lib: CardLibrary) -> None:
    rng = np.random.default_rng(7)
    protocol = lib.protocol
    for _ in range(200):
        truth = lib.draw_variant(rng, "cardiac_arrest")
        a, asked = triage(protocol, truth)
        assert (a.category, a.final) == ("C1", True)
        assert all(protocol.questions[q].stage == NATURE_OF_CALL for q in asked)
        assert set(asked) <= {"breathing", "conscious"}
    # Every other variant whose caller reports "not breathing" is caught the same way.
    for c, v, _, _ in lib.variants():
        if lib.typical_answers(c, v)["breathing"] == "no":
            truth = lib.draw_variant(rng, c, v)
            if truth.answers["breathing"].value == "no":
                a, asked = triage(protocol, truth)
                assert (a.category, a.final, asked) == ("C1", True, ["breathing"]), (c, v)


def test_needs_over_a_national_mix(lib: CardLibrary) -> None:
    by_cat = needs_by_category(lib)
    overall = {n: sum(NATIONAL_MIX[c] * by_cat[c][n] for c in CATEGORIES) for n in NEEDS}
    assert 0.18 <= overall["hear_and_treat"] <= 0.25, overall
    assert 0.25 <= overall["see_and_treat"] <= 0.35, overall
    assert 0.45 <= overall["convey_ed"] <= 0.55, overall
    assert 0.03 <= overall["convey_elsewhere"] <= 0.06, overall
    assert abs(sum(overall.values()) - 1.0) < 1e-9


def test_needs_drawn_match_the_national_mix(lib: CardLibrary) -> None:
    rng = np.random.default_rng(99)
    counts = collections.Counter()
    n = 4000
    cats = rng.choice(list(NATIONAL_MIX), size=n, p=list(NATIONAL_MIX.values()))
    for cat in cats:
        counts[lib.draw(rng, category=str(cat)).need] += 1
    assert 0.16 <= counts["hear_and_treat"] / n <= 0.27
    assert 0.23 <= counts["see_and_treat"] / n <= 0.37


def test_hear_and_treat_is_safe_only_for_validated_low_acuity() -> None:
    draws = weighted_draws()
    ht = [(t, a) for t, a in draws if t.need == "hear_and_treat"]
    low = sum(t.true_category in ("C3", "C4") for t, _ in ht)
    eligible = sum(a.validation or a.advice for _, a in ht)
    assert low / len(ht) >= 0.9
    assert eligible / len(ht) >= 0.9
    # Some C3/C4 patients must be conveyed: validating, not advising blindly, matters.
    c34 = [t for t, a in draws if t.true_category in ("C3", "C4") and a.validation]
    conveyed = sum(t.need.startswith("convey") for t in c34)
    assert 0.1 <= conveyed / len(c34) <= 0.4


def test_some_validated_low_acuity_variants_never_suit_hear_and_treat(lib: CardLibrary) -> None:
    risky = []
    for c, v, cat, _ in lib.variants():
        variant = lib.cards[c].variant(v)
        a = lib.protocol.assess(lib.typical_answers(c, v))
        if cat in ("C3", "C4") and a.validation and variant.needs.get("hear_and_treat", 0) <= 0.05:
            risky.append((c, v))
    assert len(risky) >= 3, risky


# ------------------------------------------------------------------ drawing


def test_draw_is_deterministic(lib: CardLibrary) -> None:
    a = [lib.draw(np.random.default_rng(123)) for _ in range(3)]
    assert a[0] == a[1] == a[2]
    seq1 = [lib.draw(g) for g in [np.random.default_rng(5)] for _ in range(40)]
    rng = np.random.default_rng(5)
    seq2 = [lib.draw(rng) for _ in range(40)]
    assert seq1 == seq2
    rng = np.random.default_rng(6)
    seq3 = [lib.draw(rng) for _ in range(40)]
    assert seq3 != seq1


def test_truth_has_every_answer(lib: CardLibrary) -> None:
    rng = np.random.default_rng(3)
    protocol = lib.protocol
    for _ in range(100):
        t = lib.draw(rng)
        assert list(t.answers) == list(protocol.questions)
        for qid, ans in t.answers.items():
            assert protocol.answer_error(qid, ans.value) is None
            assert ans.text
        assert t.answers[WHAT_HAPPENED].value == t.complaint
        card = lib.cards[t.card]
        variant = card.variant(t.variant)
        assert t.opening in (variant.openings or card.openings)
        assert variant.needs.get(t.need, 0.0) > 0  # type: ignore[call-overload]
        assert t.true_category == variant.true_category and t.ideal == variant.ideal
        assert t.title == card.title and t.description == variant.description
        assert t.answer_values()[WHAT_HAPPENED] == t.complaint
    with pytest.raises(TypeError):
        t.answers["breathing"] = t.answers["breathing"]  # type: ignore[index]


def test_openings_and_answers_vary(lib: CardLibrary) -> None:
    rng = np.random.default_rng(11)
    draws = [lib.draw(rng, card_weights={"chest_pain": 1.0}) for _ in range(200)]
    assert {t.card for t in draws} == {"chest_pain"}
    assert len({t.opening for t in draws}) >= 3
    assert len({t.answers["chest_sweaty"].text for t in draws}) >= 3
    assert len({t.variant for t in draws}) >= 3


def test_uncertain_answers_follow_their_probability(lib: CardLibrary) -> None:
    rng = np.random.default_rng(2)
    values = collections.Counter(
        lib.draw_variant(rng, "chest_pain", "acs").answers["chest_sweaty"].value
        for _ in range(1000)
    )
    assert set(values) == {"yes", "no"}
    assert 0.75 <= values["yes"] / 1000 <= 0.85


def test_needs_follow_their_distribution(lib: CardLibrary) -> None:
    rng = np.random.default_rng(4)
    needs = collections.Counter(
        lib.draw_variant(rng, "cardiac_arrest", "witnessed_arrest").need for _ in range(1000)
    )
    assert set(needs) == {"convey_ed", "see_and_treat"}
    assert 0.55 <= needs["convey_ed"] / 1000 <= 0.65


def test_draw_by_category_and_card_weights(lib: CardLibrary) -> None:
    rng = np.random.default_rng(8)
    for cat in CATEGORIES:
        assert all(lib.draw(rng, category=cat).true_category == cat for _ in range(50))
    weights = {"fall": 1.0, "cough_cold": 3.0}
    cards = collections.Counter(lib.draw(rng, card_weights=weights).card for _ in range(600))
    assert set(cards) == {"fall", "cough_cold"}
    # cough_cold (0.4) x 3 against fall (11) x 1: about 0.1 of draws are coughs.
    assert 0.05 <= cards["cough_cold"] / 600 <= 0.17
    t = lib.draw(rng, category="C2", card_weights={"stroke": 1.0})
    assert (t.card, t.true_category) == ("stroke", "C2")


def test_draw_errors(lib: CardLibrary) -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="no call card variant"):
        lib.draw(rng, category="C1", card_weights={"cough_cold": 1.0})
    with pytest.raises(ValueError, match="no call card variant"):
        lib.draw(rng, card_weights={})
    with pytest.raises(ValueError, match="unknown card"):
        lib.draw(rng, card_weights={"toothache": 1.0})
    with pytest.raises(ValueError, match="must be >= 0"):
        lib.draw(rng, card_weights={"fall": -1.0})
    with pytest.raises(ValueError, match="unknown category"):
        lib.draw(rng, category="C5")
    with pytest.raises(ValueError, match="unknown card"):
        lib.draw_variant(rng, "toothache")
    with pytest.raises(ValueError, match="no variant 'mi'"):
        lib.draw_variant(rng, "chest_pain", "mi")


def test_draw_variant_and_extra_callers(lib: CardLibrary) -> None:
    rng = np.random.default_rng(1)
    t = lib.draw_variant(rng, "rtc", "trapped_high_energy")
    assert (t.variant, t.extra_callers_mean) == ("trapped_high_energy", 3.0)
    assert lib.draw_variant(rng, "rtc", "no_injuries").extra_callers_mean == 0.2
    assert lib.draw_variant(rng, "fall").extra_callers_mean == 0.0
    variants = {lib.draw_variant(rng, "fall").variant for _ in range(300)}
    assert variants == {v.name for v in lib.cards["fall"].variants}


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1), st.sampled_from([None, *CATEGORIES]))
def test_any_seed_draws_a_consistent_patient(seed: int, category: str | None) -> None:
    lib = shipped()
    rng = np.random.default_rng(seed)
    t = lib.draw(rng, category=category)
    if category is not None:
        assert t.true_category == category
    assert t.need in NEEDS and t.ideal in IDEALS
    a, asked = triage(lib.protocol, t)
    assert a.complete and a.category in CATEGORIES
    assert t == lib.draw(np.random.default_rng(seed), category=category)


# ------------------------------------------------------------------ broken card files

GOOD_CARD = """\
name: sore_toe
title: Sore toe
complaint: minor_injury
weight: 1.0
openings:
  - "I've stubbed my toe."
  - "My toe hurts."
  - "I dropped a tin on my toe."
variants:
  - name: bruised
    weight: 1.0
    true_category: C4
    needs: {hear_and_treat: 0.9, see_and_treat: 0.1}
    ideal: advise
    answers:
      minor_can_travel:
        value: "yes"
        p: 0.9
        else: "no"
        say: ["Yes, I can hobble.", "Yes, my son can drive me."]
"""


def load_one(tmp_path: Path, text: str, name: str = "sore_toe") -> CardLibrary:
    (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    return CardLibrary.load(tmp_path, protocol=shipped().protocol)


def test_a_good_card_loads(tmp_path: Path) -> None:
    lib = load_one(tmp_path, GOOD_CARD)
    assert list(lib.cards) == ["sore_toe"]
    t = lib.draw(np.random.default_rng(0))
    assert t.answers["minor_can_travel"].value in ("yes", "no")
    assert t.answers["breathing"].value == "yes"  # protocol default
    assert t.answers["breathing"].text in lib.protocol.questions["breathing"].phrasings("yes")
    assert lib.protocol.assess(t.answer_values()).category == "C4"


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ('value: "yes"', "value: maybe", 17, "'maybe' is not an answer to 'minor_can_travel'"),
        ('else: "no"', "else: perhaps", 19, "'perhaps' is not an answer to 'minor_can_travel'"),
        ("minor_can_travel:", "minor_can_trvel:", 16, "unknown question 'minor_can_trvel'"),
        ("    true_category: C4\n", "", 10, "variants.0.true_category: Field required"),
        ("title: Sore toe\n", "", 1, "title: Field required"),
        (
            "    ideal: advise\n",
            "    ideal: advise\n    colour: red\n",
            15,
            "variants.0.colour: Extra inputs are not permitted",
        ),
        ("see_and_treat: 0.1", "see_and_treat: 0.2", 13, "must sum to 1"),
        ("see_and_treat: 0.1", "see_and_tret: 0.1", 13, "Input should be 'hear_and_treat'"),
        ("complaint: minor_injury", "complaint: toe", 3, "unknown complaint 'toe'"),
        ("true_category: C4", "true_category: C5", 12, "'C1', 'C2', 'C3' or 'C4'"),
        ("        p: 0.9\n", "        p: 1.5\n", 18, "less than or equal to 1"),
        ('        else: "no"\n', "", 18, "p < 1 needs an 'else' value"),
        ('value: "yes"', "value: true", 17, "Input should be a valid string"),
        ("name: sore_toe", "name: sore_foot", 1, "must match the file name"),
        ("openings:\n", "openings: [\n", 6, "(file): YAML:"),
        ("weight: 1.0\nopenings", "weight: 1.0\nweight: 2.0\nopenings", 5, "duplicate key"),
        ("weight: 1.0\nopenings", "weight: 0\nopenings", 4, "greater than 0"),
    ],
)
def test_broken_card_is_reported_with_file_and_line(
    tmp_path: Path, old: str, new: str, line: int, message: str
) -> None:
    assert old in GOOD_CARD
    with pytest.raises(TriageDataError) as info:
        load_one(tmp_path, GOOD_CARD.replace(old, new, 1))
    text = str(info.value)
    assert text.startswith(f"{tmp_path / 'sore_toe.yaml'}:{line}:"), text
    assert message in text, text


def test_duplicate_variant_names(tmp_path: Path) -> None:
    variant = GOOD_CARD[GOOD_CARD.index("  - name: bruised") :]
    with pytest.raises(
        TriageDataError,
        match=r"sore_toe.yaml:21:11: variants.1.name: variant 'bruised' is defined twice",
    ):
        load_one(tmp_path, GOOD_CARD + variant)


def test_folder_problems(tmp_path: Path) -> None:
    with pytest.raises(TriageDataError, match="no call cards"):
        CardLibrary.load(tmp_path, protocol=shipped().protocol)
    with pytest.raises(TriageDataError, match="no such card folder"):
        CardLibrary.load(tmp_path / "missing", protocol=shipped().protocol)
    (tmp_path / "sore_toe.yaml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(TriageDataError, match=r"sore_toe.yaml:\d+:\d+: \(file\): not UTF-8"):
        CardLibrary.load(tmp_path, protocol=shipped().protocol)
    (tmp_path / "sore_toe.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(
        TriageDataError, match=r"sore_toe.yaml:1:1: \(file\): the top level must be a mapping"
    ):
        CardLibrary.load(tmp_path, protocol=shipped().protocol)


def test_typical_answers(lib: CardLibrary) -> None:
    typical: Mapping[str, str] = lib.typical_answers("chest_pain", "acs")
    assert typical[WHAT_HAPPENED] == "chest_pain"
    assert typical["chest_sweaty"] == "yes" and typical["age"] == "older"
    assert typical["stroke_fast"] == lib.protocol.questions["stroke_fast"].default
    with pytest.raises(ValueError):
        lib.typical_answers("chest_pain", "nope")


def test_openings_helper_and_hashable_truths(lib: CardLibrary) -> None:
    assert lib.openings("choking", "cleared") == lib.cards["choking"].variant("cleared").openings
    assert lib.openings("choking", "complete_obstruction") == lib.cards["choking"].openings
    rng = np.random.default_rng(12)
    truths = {lib.draw(rng) for _ in range(20)}  # frozen and hashable despite the answer map
    assert truths
    with pytest.raises(ValueError):
        lib.openings("nope", "x")


# ------------------------------------------------------------------ fast paths


def reference_draw(
    lib: CardLibrary,
    rng: np.random.Generator,
    category: str | None = None,
    card_weights: Mapping[str, float] | None = None,
) -> PatientTruth:
    """A patient drawn by the plain definitions, answer spec by answer spec: an oracle for the
    precomputed tables (same uniforms, used the same way)."""
    rows, weights = [], []
    for c, v, cat, w in lib.variants():
        if category is not None and cat != category:
            continue
        if card_weights is not None:
            w *= card_weights.get(c, 0.0)
        if w > 0.0:
            rows.append((c, v))
            weights.append(w)
    cum = np.cumsum(np.asarray(weights, dtype=float))
    u = rng.random(3 + 2 * len(lib.protocol.questions) + 1)
    i = min(int(np.searchsorted(cum, u[0] * cum[-1], side="right")), len(rows) - 1)
    card = lib.cards[rows[i][0]]
    variant = card.variant(rows[i][1])

    def index(n: int, x: float) -> int:
        return min(int(x * n), n - 1)

    needs = [(n, p) for n in NEEDS if (p := variant.needs.get(n, 0.0)) > 0]  # type: ignore[call-overload]
    total, acc, need = sum(p for _, p in needs), 0.0, needs[-1][0]
    for n, p in needs:
        acc += p
        if u[1] * total < acc:
            need = n
            break
    openings = variant.openings or card.openings
    opening = openings[index(len(openings), u[2])]
    answers = {}
    for k, q in enumerate(lib.protocol.questions.values()):
        u_value, u_text = u[3 + 2 * k], u[4 + 2 * k]
        spec = variant.answers.get(q.id, card.answers.get(q.id))
        if q.id == WHAT_HAPPENED:
            texts = spec.say if spec is not None and spec.say else (opening,)
            answers[q.id] = Answer(card.complaint, texts[index(len(texts), u_text)])
            continue
        value = q.default if spec is None or spec.value is None else spec.value
        texts = (spec.say if spec is not None else None) or q.phrasings(value)
        if spec is not None and spec.p < 1.0 and spec.else_ is not None and u_value >= spec.p:
            value = spec.else_
            texts = spec.else_say or q.phrasings(value)
        texts = texts or (value.replace("_", " ").capitalize() + ".",)
        answers[q.id] = Answer(value, texts[index(len(texts), u_text)])
    extra = variant.extra_callers_mean
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
        extra_callers_mean=float(extra if extra is not None else card.extra_callers_mean),
        description=variant.description,
    )


@pytest.mark.parametrize(
    ("category", "card_weights"),
    [
        (None, None),
        ("C1", None),
        ("C2", {"fall": 1, "chest_pain": 2.5}),
        (None, {"fall": np.float32(0.3), "cough_cold": 3.0}),  # float32 products round
    ],
)
def test_draw_matches_the_plain_definitions(
    lib: CardLibrary, category: str | None, card_weights: Mapping[str, float] | None
) -> None:
    for seed in range(150):
        rng, ref = np.random.default_rng(seed), np.random.default_rng(seed)
        for _ in range(2):  # the second time from remembered pools, and further down the stream
            t = lib.draw(rng, category=category, card_weights=card_weights)
            assert repr(t) == repr(reference_draw(lib, ref, category, card_weights))
        assert rng.random() == ref.random()  # the same number of uniforms consumed


def test_round_trip_fallback_loads_the_same_cards(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = CardLibrary.load(protocol=shipped().protocol)
    monkeypatch.setattr(yamlfile, "_parse_fast", lambda text: None)
    slow = CardLibrary.load(protocol=shipped().protocol)
    assert [c.model_dump() for c in slow.cards.values()] == [
        c.model_dump() for c in fast.cards.values()
    ]
    for seed in range(20):
        assert slow.draw(np.random.default_rng(seed)) == fast.draw(np.random.default_rng(seed))
