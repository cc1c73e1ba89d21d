"""Feedback that is fair: each finding names who decided it, and a seat's score counts only its
own decisions (a colleague's duplicate dispatch, the clinical hub's unsafe advice and what the
protocol missed are shown as theirs, never as the trainee's errors).

The event streams are built by hand, in the order the engine emits them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from ambsim_gui.assess.feedback import (
    CallFeedback,
    FeedbackProjection,
    LaterFinding,
    standing,
    summary_text,
    tally,
)
from ambsim_gui.datafile import DataFileError
from ambsim_gui.paths import RESOURCES
from ambsim_gui.report.layout import DECISION_HEADER, decision_row
from ambsim_gui.sim import events as ev
from ambsim_gui.triage.cards import CardLibrary

TRAINEE = "trainee"


class Shift:
    """The events of a hand-built shift: patients, calls handled at a seat, vehicles, the hub."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []

    def add(self, event: ev.Event) -> None:
        self.events.append(event)

    def patient(
        self,
        pid: str,
        cat: str,
        need: str,
        ideal: str,
        *,
        card: str = "card",
        variant: str = "v",
        complaint: str = "c",
    ) -> None:
        self.add(
            ev.PatientCreated(
                t=0.0, patient_id=pid, card=card, variant=variant, complaint=complaint,
                true_category=cat, need=need, ideal=ideal, x=0.0, y=0.0, area="town",
            )
        )  # fmt: skip

    def call(
        self,
        t: float,
        cid: str,
        pid: str,
        *,
        seat: str = TRAINEE,
        protocol: str | None,
        set_cat: str,
        disposition: str,
        iid: str,
        validation: bool = False,
        advice: bool = False,
        answers: tuple[tuple[str, str], ...] = (("q0", "yes"),),
        reason: str = "first",
        complete: bool = True,
    ) -> None:
        """Ring, answer at ``seat``, ask and answer ``answers``, set the category, decide."""
        self.add(ev.CallArrived(t=t, call_id=cid, x=0.0, y=0.0, uncertainty_m=25.0,
                                area="town", opening="help"))  # fmt: skip
        self.add(ev.CallTruth(t=t, call_id=cid, patient_id=pid, reason=reason))
        now = t + 5.0
        self.add(ev.CallAnswered(t=now, call_id=cid, seat=seat))
        for qid, value in answers:
            now += 10.0
            self.add(ev.QuestionAsked(t=now, call_id=cid, question_id=qid, text="?", seat=seat))
            now += 10.0
            self.add(ev.QuestionAnswered(t=now, call_id=cid, question_id=qid, value=value,
                                         text=value))  # fmt: skip
            self.add(ev.TriageAssessed(t=now, call_id=cid, category=protocol, code="1-A-1",
                                       label="rule", validation=validation, advice=advice,
                                       complete=complete))  # fmt: skip
        now += 10.0
        self.add(ev.CategorySet(t=now, call_id=cid, category=set_cat, recommended=protocol,
                                override=protocol != set_cat, seat=seat))  # fmt: skip
        now += 10.0
        self.add(ev.IncidentOpened(t=now, incident_id=iid, call_id=cid, category=set_cat,
                                   x=0.0, y=0.0, area="town", complaint="c", code="x"))  # fmt: skip
        self.add(ev.IncidentTruth(t=now, incident_id=iid, patient_id=pid))
        self.add(ev.CallClosed(t=now, call_id=cid, disposition=disposition, incident_id=iid,
                               seat=seat))  # fmt: skip

    def vehicle(self, vid: str, callsign: str) -> None:
        self.add(ev.VehicleCreated(t=0.0, vehicle_id=vid, callsign=callsign, type="DCA",
                                   station="S", x=0.0, y=0.0, shift_start_s=0.0,
                                   shift_end_s=86400.0))  # fmt: skip

    def send(self, t: float, vid: str, iid: str, seat: str) -> None:
        self.add(ev.VehicleAssigned(t=t, vehicle_id=vid, incident_id=iid, eta_s=300.0, seat=seat))

    def arrive(self, t: float, vid: str, iid: str, role: str) -> None:
        self.add(ev.VehicleArrived(t=t, vehicle_id=vid, incident_id=iid, type="DCA", role=role))

    def hub_advice(self, t: float, iid: str, pid: str, clinician: str, need: str) -> None:
        """The clinical hub calls back and closes the incident with advice."""
        self.add(ev.HubQueued(t=t, incident_id=iid, category="C3", breach_at=t + 3600.0,
                              reason="referral"))  # fmt: skip
        self.add(ev.HubCallbackStarted(t=t + 600.0, incident_id=iid, clinician=clinician))
        done = t + 900.0
        self.add(ev.HubOutcome(t=done, incident_id=iid, clinician=clinician,
                               outcome="hear_and_treat", category="C3"))  # fmt: skip
        self.add(ev.AdviceGiven(t=done, incident_id=iid, by=clinician, method="advice"))
        self.add(ev.UnsafeAdvice(t=done, incident_id=iid, patient_id=pid, need=need,
                                 by=clinician))  # fmt: skip
        self.add(ev.IncidentClosed(t=done, incident_id=iid, outcome="hear_and_treat"))

    def judge(self) -> FeedbackProjection:
        projection = FeedbackProjection()
        projection.feed_all(self.events)
        projection.flush()
        return projection


def record_of(projection: FeedbackProjection, call_id: str) -> CallFeedback:
    return next(r for r in projection.records if r.call_id == call_id)


# --- part 1: who decided --------------------------------------------------------------------------


def test_a_colleagues_duplicate_dispatch_and_the_hubs_unsafe_advice_are_not_the_trainees() -> None:
    s = Shift()
    s.vehicle("V1", "A01")
    s.vehicle("V2", "A02")
    # 1. the trainee sends for a vehicle for a C2 patient who needs one: the ideal decision;
    #    then colleague D1 sends two vehicles and the second finds the first crew there
    s.patient("P1", "C2", "convey_ed", "dispatch")
    s.call(0.0, "C1", "P1", protocol="C2", set_cat="C2", disposition="dispatch", iid="I1")
    s.send(100.0, "V1", "I1", "D1")
    s.send(110.0, "V2", "I1", "D1")
    s.arrive(500.0, "V1", "I1", "first")
    s.arrive(520.0, "V2", "I1", "surplus")
    # 2. the trainee refers a C3 patient to the clinical hub (the ideal: a clinician call-back),
    #    and clinician CL1 closes it with advice, though the patient needed to be seen
    s.patient("P2", "C3", "see_and_treat", "validate")
    s.call(1000.0, "C2", "P2", protocol="C3", set_cat="C3", disposition="hub", iid="I2",
           validation=True)  # fmt: skip
    s.hub_advice(1100.0, "I2", "P2", "CL1", "see_and_treat")
    f = s.judge()

    first, second = record_of(f, "C1"), record_of(f, "C2")
    # both of the trainee's own decisions matched the ideal, so both calls are theirs and good
    assert first.good and second.good
    assert first.verdict_by == second.verdict_by == (TRAINEE,)
    assert standing(first) == standing(second) == "ideal"
    # the later decisions are there, each named for who made it
    assert f.later_for("C1") == [
        LaterFinding("C1", "I1", 520.0, "D1", "problem",
                     "unnecessary dispatch: A02 arrived to find another crew with the patient"),
    ]  # fmt: skip
    (hub,) = f.later_for("C2")
    assert (hub.by, hub.kind) == ("hub:CL1", "problem")
    assert hub.text.startswith("unsafe advice after clinical validation")

    score = tally(f.records, f.later)
    # 2 calls, both ideal; 0 problems of the trainee's own, before or after the call; the two
    # problems (D1's second vehicle, CL1's advice) are counted as others' decisions
    assert (score.calls, score.ideal, score.with_problem, score.later_problems) == (2, 2, 0, 0)
    assert score.others == 2
    # D1's score has the duplicate (its only decision here, on a call that is not its own)
    assert tally(f.records, f.later, "D1").later_problems == 1

    text = summary_text(second, f.later_for("C2"))
    assert "Verdict: [decided by: you] good: matched the ideal decision." in text
    assert "Verdict: [decided by: the clinical hub (CL1); not yours] unsafe advice" in text
    text = summary_text(first, f.later_for("C1"))
    assert "Verdict: [decided by: colleague D1; not yours] unnecessary dispatch: A02" in text
    assert "0 with a problem of yours" in score.sentence()


def test_the_trainees_own_duplicate_dispatch_counts_as_the_trainees() -> None:
    s = Shift()
    s.vehicle("V1", "A01")
    s.vehicle("V2", "A02")
    # a colleague's call (CH1, a right decision), whose incident the trainee dispatches twice
    s.patient("P1", "C2", "convey_ed", "dispatch")
    s.call(0.0, "C1", "P1", seat="CH1", protocol="C2", set_cat="C2", disposition="dispatch",
           iid="I1")  # fmt: skip
    s.send(100.0, "V1", "I1", TRAINEE)
    s.send(110.0, "V2", "I1", TRAINEE)
    s.arrive(500.0, "V1", "I1", "first")
    s.arrive(520.0, "V2", "I1", "surplus")
    f = s.judge()
    (record,) = f.records
    assert record.seat == "CH1" and record.verdict_by == ("CH1",)
    score = tally(f.records, f.later)
    # no call of the trainee's own closed; one problem of theirs: the second vehicle
    assert (score.calls, score.later_problems, score.others) == (0, 1, 0)
    assert "Unnecessary dispatches of yours: 1." in score.sentence()
    # CH1's call was right and counts for CH1; the trainee's vehicle is not CH1's problem
    colleague = tally(f.records, f.later, "CH1")
    assert (colleague.calls, colleague.ideal, colleague.others) == (1, 1, 1)


def test_the_trainees_own_under_triage_against_the_protocol_counts_as_the_trainees() -> None:
    s = Shift()
    s.patient("P1", "C2", "convey_ed", "dispatch")
    # the protocol says C2 (dispatch); the trainee overrides it down to C3 and refers to the hub
    s.call(0.0, "C1", "P1", protocol="C2", set_cat="C3", disposition="hub", iid="I1",
           validation=False)  # fmt: skip
    f = s.judge()
    (r,) = f.records
    assert r.verdict[0] == "under-triaged: set C3, truly C2 (the protocol recommended C2)"
    assert (r.verdict_by[0], r.verdict_kind[0]) == (TRAINEE, "problem")
    assert r.good is False and standing(r) == "problem"
    score = tally(f.records, f.later)
    # the one call is the trainee's, with the trainee's own problem, and no protocol result
    assert (score.calls, score.with_problem, score.protocol, score.protocol_under_triage) == (
        1, 1, 0, 0,
    )  # fmt: skip


# --- part 2: what the protocol missed -------------------------------------------------------------


@cache
def cards() -> CardLibrary:
    return CardLibrary.load()


# A fall on blood thinners with a head injury (the shipped card's head_injury_anticoagulated:
# truly C2, to be conveyed, ideally a vehicle), as a caller answered it in a recorded shift: the
# caller was unsure about blood thinners, and the protocol's C2 rule for a head injury on
# anticoagulants (17-C-01) wants a "yes", so it gave C3 (17-B-02, validation allowed).
FALL_ANSWERS = (
    ("breathing", "yes"), ("conscious", "yes"), ("what_happened", "fall"), ("age", "older"),
    ("alert", "yes"), ("anticoagulants", "unsure"), ("fall_height", "no"), ("fall_head", "yes"),
    ("fall_injury", "no"), ("fall_got_up", "yes"),
)  # fmt: skip
ANTICOAGULANTS = "Do they take blood thinners, like warfarin, apixaban or rivaroxaban?"


def _fall_on_blood_thinners(
    s: Shift, answers: tuple[tuple[str, str], ...], *, complete: bool = True
) -> None:
    s.patient("P1", "C2", "convey_ed", "dispatch", card="fall",
              variant="head_injury_anticoagulated", complaint="fall")  # fmt: skip
    s.call(0.0, "C1", "P1", protocol="C3", set_cat="C3", disposition="hub", iid="I1",
           validation=True, answers=answers, complete=complete)  # fmt: skip


def test_an_under_triage_that_followed_the_protocol_is_its_result_naming_the_question() -> None:
    assert cards().protocol.questions["anticoagulants"].text == ANTICOAGULANTS
    s = Shift()
    _fall_on_blood_thinners(s, FALL_ANSWERS)
    f = FeedbackProjection(cards=cards())
    f.feed_all(s.events)
    (r,) = f.records
    # the trainee set the protocol's C3 and referred to the hub as it recommended
    assert r.verdict[0] == (
        "under-triaged: the protocol recommended C3 from the answers given; the patient needed"
        f" C2 \N{EM DASH} the question that would have found it: \N{LEFT DOUBLE QUOTATION MARK}"
        f"{ANTICOAGULANTS}\N{RIGHT DOUBLE QUOTATION MARK} (the caller said not sure; the true"
        " answer: yes)"
    )
    assert r.missed_question == "anticoagulants"
    # both findings are the protocol's: the category and the call-back it recommended
    assert r.verdict_by == ("protocol", "protocol")
    assert r.verdict[1] == (
        "not the ideal decision: the protocol's action was a clinician call-back; the ideal was"
        " send a vehicle"
    )
    assert standing(r) == "protocol"
    score = tally(f.records, f.later)
    # one call, a protocol result and an under-triage by the protocol; nothing of the trainee's
    assert (score.calls, score.protocol, score.protocol_under_triage) == (1, 1, 1)
    assert (score.ideal, score.with_problem) == (0, 0)
    text = summary_text(r)
    assert (
        "Verdict: [a protocol result, not counted against you] under-triaged: the protocol" in text
    )
    assert "[decided by: you]" not in text


def test_a_question_not_asked_is_named_and_the_unfinished_triage_said() -> None:
    s = Shift()
    # the category set before the blood-thinner question was asked (the protocol not finished)
    answers = tuple(a for a in FALL_ANSWERS if a[0] != "anticoagulants")
    _fall_on_blood_thinners(s, answers, complete=False)
    f = FeedbackProjection(cards=cards())
    f.feed_all(s.events)
    (r,) = f.records
    assert r.missed_question == "anticoagulants"
    assert r.verdict[0].endswith(
        "(not asked: the protocol still had questions when the category was set; the true"
        " answer: yes)"
    )


def test_when_no_single_question_explains_it_the_protocols_rules_are_named() -> None:
    s = Shift()
    # the shipped allergic_reaction card's facial_swelling (truly C3): every answer as the card
    # says, and the protocol's rules give C4 for them
    s.patient("P1", "C3", "see_and_treat", "validate", card="allergic_reaction",
              variant="facial_swelling", complaint="allergic_reaction")  # fmt: skip
    answers = (
        ("breathing", "yes"), ("conscious", "yes"), ("what_happened", "allergic_reaction"),
        ("age", "adult"), ("allergy_airway", "no"), ("allergy_severe_history", "no"),
    )  # fmt: skip
    s.call(0.0, "C1", "P1", protocol="C4", set_cat="C4", disposition="hub", iid="I1",
           validation=True, answers=answers)  # fmt: skip
    f = FeedbackProjection(cards=cards())
    f.feed_all(s.events)
    (r,) = f.records
    assert r.verdict[0] == (
        "under-triaged: the protocol recommended C4 from the answers given; the patient needed"
        " C3 \N{EM DASH} the protocol's rules gave C4 for these answers"
    )
    assert r.missed_question is None and r.verdict_by[0] == "protocol"


# --- part 3: a reason for every ideal decision ----------------------------------------------------


def test_every_shipped_card_variant_gives_a_one_line_reason_for_its_ideal() -> None:
    variants = [(c, v) for c in cards().cards.values() for v in c.variants]
    assert len(cards().cards) == 46 and len(variants) == 153  # every shipped card and variant
    for card, v in variants:
        reason = v.ideal_reason
        assert reason and reason == reason.strip() and "\n" not in reason, (card.name, v.name)
        assert len(reason) <= 140, (card.name, v.name)
        # written in the card, not the stand-in an old card gets on loading
        assert not reason.startswith("No reason given"), (card.name, v.name)
    for path in sorted((RESOURCES / "cards").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("schema_version: 2\n"), path
        assert text.count("ideal_reason:") == text.count("\n    ideal:"), path


def test_the_feedback_on_a_call_gives_its_ideal_reason_at_the_desk_and_in_the_debrief() -> None:
    reason = cards().cards["chest_pain"].variant("acs").ideal_reason
    s = Shift()
    s.patient("P1", "C2", "convey_ed", "dispatch", card="chest_pain", variant="acs",
              complaint="chest_pain")  # fmt: skip
    s.call(0.0, "C1", "P1", protocol="C2", set_cat="C2", disposition="dispatch", iid="I1")
    f = FeedbackProjection(cards=cards())
    f.feed_all(s.events)
    (r,) = f.records
    assert r.ideal_reason == reason
    # the desk's card: next to the ideal decision
    assert f"ideal: send a vehicle \N{EM DASH} {reason}" in summary_text(r)

    # the debrief's row of the call: its "Ideal decision, and why" column
    class Clock:
        def clock(self, t: float) -> str:
            return "19:00"

    row = decision_row(Clock(), {**r.to_json_dict(), "later": []})  # type: ignore[arg-type]
    assert row[DECISION_HEADER.index("Ideal decision, and why")] == f"send a vehicle: {reason}"


def test_a_card_written_before_ideal_reasons_still_loads_saying_it_gave_none(
    tmp_path: Path,
) -> None:
    old = (RESOURCES / "cards" / "fall.yaml").read_text(encoding="utf-8")
    lines = [ln for ln in old.split("\n") if "ideal_reason:" not in ln]
    # format 1 (and a card that says no format at all, which is format 1)
    for first in ("schema_version: 1", None):
        text = "\n".join([first, *lines[1:]] if first else lines[1:])
        (tmp_path / "fall.yaml").write_text(text, encoding="utf-8")
        v = CardLibrary.load(tmp_path, protocol=cards().protocol).cards["fall"].variant("long_lie")
        # long_lie is C2 and ideally dispatched: the stand-in says so, and that no reason was given
        assert v.ideal_reason == (
            "No reason given (a format 1 card): the ideal for a C2 patient is a vehicle."
        )
    # format 2 requires it, where the variant is
    (tmp_path / "fall.yaml").write_text("\n".join(["schema_version: 2", *lines[1:]]), "utf-8")
    with pytest.raises(DataFileError) as info:
        CardLibrary.load(tmp_path, protocol=cards().protocol)
    assert "variants.0.ideal_reason" in str(info.value)


def test_the_desks_cards_show_others_decisions_as_theirs_and_count_only_the_trainees(
    qtbot,
) -> None:
    from ambsim_gui.ui.feedback_panel import BAD_CARD, NOT_YOURS_CARD, FeedbackList

    s = Shift()
    # the trainee's right referral that the hub then closes with unsafe advice, and a
    # colleague's call (not listed: no decision of the trainee's on it)
    s.patient("P1", "C3", "see_and_treat", "validate")
    s.call(0.0, "C1", "P1", protocol="C3", set_cat="C3", disposition="hub", iid="I1",
           validation=True)  # fmt: skip
    s.patient("P2", "C2", "convey_ed", "dispatch")
    s.call(0.0, "C2", "P2", seat="CH1", protocol="C2", set_cat="C3", disposition="hub",
           iid="I2")  # fmt: skip
    s.hub_advice(100.0, "I1", "P1", "CL1", "see_and_treat")
    cards_shown = FeedbackList()
    qtbot.addWidget(cards_shown)
    f = FeedbackProjection(on_record=cards_shown.add, on_later=cards_shown.add_later)
    f.feed_all(s.events)
    assert [r.call_id for r in cards_shown.records] == ["C1"]  # CH1's call is not the trainee's
    (item,) = [cards_shown.list.item(i) for i in range(cards_shown.list.count())]
    assert "Verdict: [decided by: the clinical hub (CL1); not yours] unsafe advice" in item.text()
    # amber: the trainee's decision was right, the hub's was not
    assert item.background().color() == NOT_YOURS_CARD != BAD_CARD
    assert cards_shown.summary.text().startswith(
        "1 call of yours closed: 1 handled ideally, 0 with a problem of yours."
    )
