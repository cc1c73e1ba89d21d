"""FeedbackProjection on hand-built calls, in the order the engine emits their events."""

from __future__ import annotations

import json

from ambsim_gui.assess.feedback import CallFeedback, FeedbackProjection, summary_text
from ambsim_gui.sim import events as ev


class Calls:
    """Builds the events of whole calls: ring, answer, questions, triage, category, decision."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []

    def add(self, event: ev.Event) -> None:
        self.events.append(event)

    def patient(
        self, pid: str, cat: str, need: str, ideal: str, *, recontact_of: str | None = None
    ) -> None:
        self.add(
            ev.PatientCreated(
                t=0.0, patient_id=pid, card="card", variant="v", complaint="c", true_category=cat,
                need=need, ideal=ideal, x=0.0, y=0.0, area="town", recontact_of=recontact_of,
            )
        )  # fmt: skip

    def ring(self, t: float, cid: str, pid: str, reason: str = "first") -> None:
        self.add(
            ev.CallArrived(
                t=t, call_id=cid, x=0.0, y=0.0, uncertainty_m=25.0, area="town", opening="help"
            )
        )
        self.add(ev.CallTruth(t=t, call_id=cid, patient_id=pid, reason=reason))

    def handle(
        self,
        t: float,
        cid: str,
        *,
        protocol: str | None,
        set_cat: str | None,
        validation: bool = False,
        advice: bool = False,
        questions: int = 3,
    ) -> float:
        """Answer at t + 5 s, ask, triage, set the category; returns the time of the decision."""
        now = t + 5.0
        self.add(ev.CallAnswered(t=now, call_id=cid, seat="trainee"))
        for q in range(questions):
            now += 10.0
            self.add(ev.QuestionAsked(t=now, call_id=cid, question_id=f"q{q}", text="?",
                                      seat="trainee"))  # fmt: skip
            now += 10.0
            self.add(ev.QuestionAnswered(t=now, call_id=cid, question_id=f"q{q}", value="yes",
                                         text="yes"))  # fmt: skip
            self.add(ev.TriageAssessed(t=now, call_id=cid, category=protocol, code="9-E-1",
                                       label="arrest", validation=validation, advice=advice,
                                       complete=q == questions - 1))  # fmt: skip
        if set_cat is not None:
            now += 10.0
            self.add(ev.CategorySet(t=now, call_id=cid, category=set_cat, recommended=protocol,
                                    override=protocol is not None and protocol != set_cat,
                                    seat="trainee"))  # fmt: skip
        return now + 10.0

    def open_and_close(self, t: float, cid: str, iid: str, pid: str, cat: str, disp: str) -> None:
        """``Engine.open_incident``: IncidentOpened, IncidentTruth, then CallClosed."""
        self.add(ev.IncidentOpened(t=t, incident_id=iid, call_id=cid, category=cat, x=0.0, y=0.0,
                                   area="town", complaint="c", code="x"))  # fmt: skip
        self.add(ev.IncidentTruth(t=t, incident_id=iid, patient_id=pid))
        self.add(ev.CallClosed(t=t, call_id=cid, disposition=disp, incident_id=iid, seat="trainee"))

    def link(self, t: float, cid: str, iid: str) -> None:
        self.add(ev.CallLinked(t=t, call_id=cid, incident_id=iid, seat="trainee"))
        self.add(ev.CallClosed(t=t, call_id=cid, disposition="linked", incident_id=iid,
                               seat="trainee"))  # fmt: skip

    def records(self) -> list[CallFeedback]:
        projection = FeedbackProjection()
        projection.feed_all(self.events)
        return projection.records


def _dispatched_c1(s: Calls, cid: str = "C1", pid: str = "P1", iid: str = "I1") -> None:
    s.patient(pid, "C1", "convey_ed", "dispatch")
    s.ring(0.0, cid, pid)
    at = s.handle(0.0, cid, protocol="C1", set_cat="C1")
    s.open_and_close(at, cid, iid, pid, "C1", "dispatch")


def test_correct_dispatch_is_good() -> None:
    s = Calls()
    _dispatched_c1(s)
    (r,) = s.records()
    assert r.call_id == "C1" and r.seat == "trainee" and r.disposition == "dispatch"
    assert r.incident_id == "I1" and r.patient_id == "P1" and r.call_reason == "first"
    assert (r.category_set, r.recommended, r.overridden) == ("C1", "C1", False)
    assert r.questions_asked == 3
    assert (r.true_category, r.need, r.ideal) == ("C1", "convey_ed", "dispatch")
    assert r.protocol_dispatch and not r.protocol_validate and not r.protocol_advice_allowed
    assert r.protocol_action == "dispatch"
    assert r.answered_after_s == 5.0
    assert r.triage_duration_s == 80.0  # 3 questions of 20 s, 10 s to set, 10 s to decide
    assert r.verdict == ("good: matched the ideal decision",)
    assert r.good is True
    text = summary_text(r)
    assert 2 <= len(text.splitlines()) <= 4
    assert "sent for a vehicle as C1 after 3 questions" in text and "good: matched" in text


def test_unsafe_advice_and_under_triage() -> None:
    s = Calls()
    s.patient("P1", "C2", "convey_ed", "dispatch")
    s.ring(0.0, "C1", "P1")
    at = s.handle(0.0, "C1", protocol="C3", set_cat="C3", advice=True)
    s.open_and_close(at, "C1", "I1", "P1", "C3", "advice")
    s.add(ev.AdviceGiven(t=at, incident_id="I1", by="trainee", method="advice"))
    s.add(ev.UnsafeAdvice(t=at, incident_id="I1", patient_id="P1", need="convey_ed", by="trainee"))
    (r,) = s.records()
    # the trainee did what the protocol recommended (C3, advice): what it missed is its result
    assert r.verdict[:2] == (
        "unsafe advice: the patient needed Conveyed to ED (advice was the protocol's action)",
        "under-triaged: the protocol recommended C3 from the answers given; the patient needed"
        " C2 \N{EM DASH} the protocol's rules gave C3 for these answers",  # a card of no library
    )
    assert r.verdict_by[:2] == ("protocol", "protocol")
    assert r.verdict_kind[:2] == ("problem", "problem")
    assert r.good is False  # advice is not the ideal (a vehicle), whoever chose it
    assert r.protocol_action == "advice" and r.protocol_advice_allowed
    text = summary_text(r)
    assert "Truth: C2, needed Conveyed to ED; ideal: send a vehicle." in text
    assert "Verdict: [a protocol result, not counted against you] unsafe advice" in text


def test_unsafe_advice_against_the_protocol_is_the_handlers() -> None:
    s = Calls()
    s.patient("P1", "C3", "see_and_treat", "validate")
    s.ring(0.0, "C1", "P1")
    # the protocol's C3 wants a clinician call-back, not advice: advising is the trainee's choice
    at = s.handle(0.0, "C1", protocol="C3", set_cat="C3", validation=True, advice=True)
    s.open_and_close(at, "C1", "I1", "P1", "C3", "advice")
    (r,) = s.records()
    assert r.verdict[0] == "unsafe advice: the patient needed See and treat"
    assert r.verdict_by[0] == "trainee" and r.verdict_kind[0] == "problem"
    assert r.good is False
    assert "Verdict: [decided by: you] unsafe advice" in summary_text(r)


def test_over_triage_with_an_override_against_a_validation_protocol() -> None:
    s = Calls()
    s.patient("P1", "C3", "see_and_treat", "validate")
    s.ring(0.0, "C1", "P1")
    at = s.handle(0.0, "C1", protocol="C3", set_cat="C1", validation=True)
    s.open_and_close(at, "C1", "I1", "P1", "C1", "dispatch")
    (r,) = s.records()
    assert r.overridden is True
    assert r.protocol_validate and not r.protocol_dispatch and r.protocol_action == "validate"
    assert r.verdict == (
        "over-triaged: set C1, truly C3",
        "overrode the protocol: it recommended C3, C1 was set",
        "the protocol suggested a clinician call-back; a vehicle was sent",
    )
    assert r.verdict_by == ("trainee",) * 3
    assert r.good is False


def test_over_triage_by_the_protocol_is_a_note_not_a_fault() -> None:
    s = Calls()
    s.patient("P1", "C3", "hear_and_treat", "validate")
    s.ring(0.0, "C1", "P1")
    at = s.handle(0.0, "C1", protocol="C2", set_cat="C2", validation=True)
    s.open_and_close(at, "C1", "I1", "P1", "C2", "hub")
    (r,) = s.records()
    assert r.verdict == (
        "good: matched the ideal decision",
        "over-triaged by the protocol: set C2, truly C3",
    )
    assert r.good is True


def test_under_triage_as_the_protocol_advised_is_the_protocols_result() -> None:
    s = Calls()
    s.patient("P1", "C1", "convey_ed", "dispatch")
    s.ring(0.0, "C1", "P1")
    at = s.handle(0.0, "C1", protocol="C2", set_cat="C2")
    s.open_and_close(at, "C1", "I1", "P1", "C2", "dispatch")
    (r,) = s.records()
    # still a problem for the patient, reported as the protocol's; sending a vehicle was ideal
    assert r.verdict[0].startswith(
        "under-triaged: the protocol recommended C2 from the answers given; the patient needed C1"
    )
    assert r.verdict[1:] == ("good: matched the ideal decision",)
    assert r.verdict_by == ("protocol", "trainee")
    assert r.good is True


def test_clinical_validation_when_it_was_ideal_is_good() -> None:
    s = Calls()
    s.patient("P1", "C3", "hear_and_treat", "validate")
    s.ring(0.0, "C1", "P1")
    at = s.handle(0.0, "C1", protocol="C3", set_cat="C3", validation=True)
    s.open_and_close(at, "C1", "I1", "P1", "C3", "hub")
    (r,) = s.records()
    assert r.verdict == ("good: matched the ideal decision",) and r.good


def test_a_safe_but_costly_decision_is_noted_not_condemned() -> None:
    s = Calls()
    s.patient("P1", "C4", "hear_and_treat", "advise")
    s.ring(0.0, "C1", "P1")
    at = s.handle(0.0, "C1", protocol="C4", set_cat="C4", advice=True)
    s.open_and_close(at, "C1", "I1", "P1", "C4", "dispatch")
    (r,) = s.records()
    assert r.verdict == ("not the ideal decision: the ideal was advice or referral by phone",)
    assert r.good is False


def test_ignoring_a_validation_the_ideal_wanted_is_said_once() -> None:
    s = Calls()
    s.patient("P1", "C3", "see_and_treat", "validate")
    s.ring(0.0, "C1", "P1")
    at = s.handle(0.0, "C1", protocol="C3", set_cat="C3", validation=True)
    s.open_and_close(at, "C1", "I1", "P1", "C3", "dispatch")
    (r,) = s.records()
    assert r.verdict == ("not the ideal decision: the ideal was a clinician call-back"
                         " (clinical hub)",)  # fmt: skip


def test_linked_to_the_wrong_incident() -> None:
    s = Calls()
    _dispatched_c1(s)
    s.patient("P2", "C2", "convey_ed", "dispatch")
    s.ring(200.0, "C2", "P2")
    at = s.handle(200.0, "C2", protocol=None, set_cat=None, questions=0)
    s.link(at, "C2", "I1")
    r = s.records()[1]
    assert r.disposition == "linked" and r.incident_id == "I1"
    # P2's first call: a new patient, for whom linking sends nobody
    assert r.verdict == (
        "linked to the wrong incident: a new patient, linked to another's incident",
    )
    assert not r.good


def test_a_duplicate_linked_to_another_patients_incident_is_a_wrong_link() -> None:
    s = Calls()
    _dispatched_c1(s)
    s.patient("P2", "C2", "convey_ed", "dispatch")
    s.ring(100.0, "C2", "P2")
    at = s.handle(100.0, "C2", protocol="C2", set_cat="C2")
    s.open_and_close(at, "C2", "I2", "P2", "C2", "dispatch")
    s.ring(300.0, "C3", "P2", reason="duplicate")
    at = s.handle(300.0, "C3", protocol=None, set_cat=None, questions=0)
    s.link(at, "C3", "I1")
    r = s.records()[-1]
    assert r.verdict == ("linked to the wrong incident",) and not r.good


def test_duplicate_linked_right_is_good_and_opening_a_second_incident_is_not() -> None:
    s = Calls()
    _dispatched_c1(s)
    s.ring(100.0, "C2", "P1", reason="duplicate")
    at = s.handle(100.0, "C2", protocol=None, set_cat=None, questions=0)
    s.link(at, "C2", "I1")
    s.ring(150.0, "C3", "P1", reason="duplicate")
    at = s.handle(150.0, "C3", protocol="C1", set_cat="C1", questions=1)
    s.open_and_close(at, "C3", "I2", "P1", "C1", "dispatch")
    records = s.records()
    assert records[1].verdict == ("good: linked to the right incident",) and records[1].good
    assert records[2].verdict[0].startswith("duplicate: should have been linked to I1")
    assert records[2].good is False


def test_a_duplicate_with_nothing_open_to_link_to_is_judged_on_its_own() -> None:
    s = Calls()
    _dispatched_c1(s)
    s.add(ev.IncidentClosed(t=3000.0, incident_id="I1", outcome="convey_ed"))
    s.ring(3100.0, "C2", "P1", reason="duplicate")
    at = s.handle(3100.0, "C2", protocol="C1", set_cat="C1")
    s.open_and_close(at, "C2", "I2", "P1", "C1", "dispatch")
    assert s.records()[1].verdict == ("good: matched the ideal decision",)


def test_abandoned_call() -> None:
    s = Calls()
    s.patient("P1", "C1", "convey_ed", "dispatch")
    s.ring(0.0, "C1", "P1")
    s.add(ev.CallAbandoned(t=45.0, call_id="C1"))
    s.add(ev.CallClosed(t=45.0, call_id="C1", disposition="abandoned", incident_id=None,
                        seat=None))  # fmt: skip
    (r,) = s.records()
    assert r.seat is None and r.answered_after_s is None and r.triage_duration_s is None
    assert r.verdict == ("abandoned: a C1 patient's caller hung up after 0:45 in the queue",)
    assert summary_text(r).splitlines()[0] == "C1: abandoned before it was answered."


def test_records_wait_for_late_facts_but_stay_in_closing_order() -> None:
    seen: list[str] = []
    projection = FeedbackProjection(on_record=lambda r: seen.append(r.call_id))
    early = [  # a call that closes before its truth is known (not the engine's order, but legal)
        ev.CallArrived(t=0.0, call_id="A", x=0.0, y=0.0, uncertainty_m=1.0, area="t", opening="o"),
        ev.CallAnswered(t=1.0, call_id="A", seat="trainee"),
        ev.CallClosed(t=2.0, call_id="A", disposition="referred", incident_id=None, seat="trainee"),
    ]
    projection.feed_all(early)
    assert projection.records == []
    later = Calls()
    _dispatched_c1(later, cid="B", pid="PB", iid="IB")
    projection.feed_all(later.events)
    assert [r.call_id for r in projection.records] == ["B"]
    late_truth = Calls()
    late_truth.patient("PA", "C4", "hear_and_treat", "advise")
    late_truth.add(ev.CallTruth(t=3.0, call_id="A", patient_id="PA", reason="first"))
    projection.feed_all(late_truth.events)
    assert seen == ["B", "A"]  # each announced when complete ...
    assert [r.call_id for r in projection.records] == ["A", "B"]  # ... kept in closing order
    assert projection.records[0].verdict == ("good: matched the ideal decision",)


def test_shift_end_flushes_what_never_became_complete() -> None:
    projection = FeedbackProjection()
    projection.feed(ev.CallClosed(t=2.0, call_id="X", disposition="dispatch", incident_id=None,
                                  seat="trainee"))  # fmt: skip
    assert projection.records == []
    projection.feed(ev.ShiftEnded(t=10.0))
    (r,) = projection.records
    assert r.verdict == ("truth unknown: no feedback on the decision",)
    assert r.true_category is None
    assert 2 <= len(summary_text(r).splitlines()) <= 4


def test_feedback_json_is_plain() -> None:
    s = Calls()
    _dispatched_c1(s)
    d = s.records()[0].to_json_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["verdict"] == ["good: matched the ideal decision"]
