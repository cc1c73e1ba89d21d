"""Per-call feedback for the trainee: what was decided, what the truth was, what to learn.

One job: ``FeedbackProjection`` folds the event stream (hidden truth included) and, for each
call that closes, produces a ``CallFeedback`` as soon as the facts it needs are known: the call's
own handling (answer, questions, protocol advice, category, disposition) and the truth about
its patient (true category, need, ideal decision). Its ``verdict`` is a few plain-English
findings a trainee can read after the call, e.g. "under-triaged: set C3, truly C1".
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ambsim_gui.assess.jsonable import JsonMixin
from ambsim_gui.sim.events import (
    CallAnswered,
    CallArrived,
    CallClosed,
    CallLinked,
    CallTruth,
    CategorySet,
    Event,
    IncidentClosed,
    IncidentOpened,
    IncidentTruth,
    PatientCreated,
    QuestionAsked,
    ShiftEnded,
    TriageAssessed,
)
from ambsim_gui.sim.regimes import CATEGORIES

# needs a telephone decision can meet safely; any other need means a crew had to see the patient
PHONE_SAFE_NEEDS = frozenset({"hear_and_treat"})
PHONE_DISPOSITIONS = frozenset({"advice", "referred"})
# call reasons whose right answer, with the patient's incident already open, is to link the call
REPEAT_REASONS = frozenset({"duplicate", "redial", "still_waiting"})

# PatientCreated.ideal ("dispatch" | "validate" | "advise", see sim/cards.py) as the CallClosed
# dispositions that carry it out; advice and referral are both hear-and-treat by phone
IDEAL_DISPOSITIONS: dict[str, frozenset[str]] = {
    "dispatch": frozenset({"dispatch"}),
    "validate": frozenset({"hub"}),
    "advise": frozenset({"advice", "referred"}),
}
IDEAL_WORDS = {
    "dispatch": "send a vehicle",
    "validate": "a clinician call-back (clinical hub)",
    "advise": "advice or referral by phone",
}


@dataclass(frozen=True)
class CallFeedback(JsonMixin):
    """What happened on one closed call, the truth behind it, and the findings."""

    call_id: str
    seat: str | None
    disposition: str  # abandoned | linked | dispatch | hub | advice | referred
    incident_id: str | None
    closed_t: float
    category_set: str | None  # the handler's last CategorySet
    recommended: str | None  # the protocol's category (last TriageAssessed)
    protocol_code: str | None
    protocol_label: str | None
    overridden: bool
    questions_asked: int
    patient_id: str | None  # None when the truth never came (only after ``flush``)
    call_reason: str | None  # CallTruth.reason: first | duplicate | redial | recontact | ...
    true_category: str | None
    need: str | None
    ideal: str | None
    protocol_action: str | None  # dispatch | validate | advice | None (left to the handler)
    protocol_dispatch: bool  # C1, or C2 without validation
    protocol_validate: bool
    protocol_advice_allowed: bool
    answered_after_s: float | None
    triage_duration_s: float | None  # from answer to close
    verdict: tuple[str, ...]
    good: bool  # matched the ideal decision with no problem found


@dataclass
class _Call:
    arrived_t: float | None = None
    answered_t: float | None = None
    answer_seat: str | None = None
    questions: int = 0
    triage: TriageAssessed | None = None
    category: CategorySet | None = None
    truth: CallTruth | None = None
    linked_incident: str | None = None
    opened_incident: str | None = None
    # other incidents of the same patient open when this call's own incident was opened: it
    # could have been linked to one of them
    open_siblings: tuple[str, ...] | None = None
    closed: CallClosed | None = None
    seq: int = -1


def _mmss(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _rank(category: str | None) -> int | None:
    if category is None or category not in CATEGORIES:
        return None
    return CATEGORIES.index(category)


class FeedbackProjection:
    """Feed it every event; ``records`` fills with one ``CallFeedback`` per closed call.

    ``records`` stays in closing order even when a record waits for a late fact; ``on_record``
    is called with each record the moment it is complete. ``flush`` (done at ``ShiftEnded``)
    emits whatever is still waiting, with the unknown truth left as None.
    """

    def __init__(self, on_record: Callable[[CallFeedback], None] | None = None) -> None:
        self.records: list[CallFeedback] = []
        self.on_record = on_record
        self._record_seqs: list[int] = []  # parallel to records, for ordered insertion
        self._calls: dict[str, _Call] = {}
        self._patients: dict[str, PatientCreated] = {}
        self._incident_patient: dict[str, str] = {}
        self._incident_call: dict[str, str] = {}  # incident -> the call that opened it
        self._open_by_patient: dict[str, list[str]] = {}
        self._pending: dict[str, _Call] = {}  # closed calls waiting for a fact, in close order
        self._closed_count = 0
        self._handlers: dict[type[Event], Callable[[Any], None]] = {
            CallArrived: self._on_arrived,
            CallAnswered: self._on_answered,
            QuestionAsked: self._on_question,
            TriageAssessed: self._on_triage,
            CategorySet: self._on_category,
            CallTruth: self._on_truth,
            PatientCreated: self._on_patient,
            IncidentOpened: self._on_incident_opened,
            IncidentTruth: self._on_incident_truth,
            IncidentClosed: self._on_incident_closed,
            CallLinked: self._on_linked,
            CallClosed: self._on_closed,
            ShiftEnded: self._on_shift_ended,
        }

    # --- feeding ----------------------------------------------------------------------------

    def feed(self, event: Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is None:
            return
        handler(event)
        if self._pending and not isinstance(event, ShiftEnded):
            self._try_pending()

    def feed_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.feed(event)

    def flush(self) -> None:
        """Emit every closed call still waiting for a fact, judged on what is known."""
        for call_id in list(self._pending):
            self._emit(call_id, self._pending.pop(call_id))

    def _call(self, call_id: str) -> _Call:
        call = self._calls.get(call_id)
        if call is None:  # not setdefault: that would build a _Call for every event
            call = self._calls[call_id] = _Call()
        return call

    def _on_arrived(self, e: CallArrived) -> None:
        self._call(e.call_id).arrived_t = e.t

    def _on_answered(self, e: CallAnswered) -> None:
        c = self._call(e.call_id)
        c.answered_t = e.t
        c.answer_seat = e.seat

    def _on_question(self, e: QuestionAsked) -> None:
        self._call(e.call_id).questions += 1

    def _on_triage(self, e: TriageAssessed) -> None:
        self._call(e.call_id).triage = e

    def _on_category(self, e: CategorySet) -> None:
        self._call(e.call_id).category = e

    def _on_truth(self, e: CallTruth) -> None:
        self._call(e.call_id).truth = e

    def _on_patient(self, e: PatientCreated) -> None:
        self._patients[e.patient_id] = e

    def _on_incident_opened(self, e: IncidentOpened) -> None:
        self._call(e.call_id).opened_incident = e.incident_id
        self._incident_call[e.incident_id] = e.call_id

    def _on_incident_truth(self, e: IncidentTruth) -> None:
        self._incident_patient[e.incident_id] = e.patient_id
        open_ones = self._open_by_patient.setdefault(e.patient_id, [])
        call_id = self._incident_call.get(e.incident_id)
        if call_id is not None:
            self._call(call_id).open_siblings = tuple(open_ones)
        open_ones.append(e.incident_id)

    def _on_incident_closed(self, e: IncidentClosed) -> None:
        patient = self._incident_patient.get(e.incident_id)
        if patient is not None and e.incident_id in self._open_by_patient.get(patient, []):
            self._open_by_patient[patient].remove(e.incident_id)

    def _on_linked(self, e: CallLinked) -> None:
        self._call(e.call_id).linked_incident = e.incident_id

    def _on_closed(self, e: CallClosed) -> None:
        c = self._call(e.call_id)
        c.closed = e
        c.seq = self._closed_count
        self._closed_count += 1
        if e.disposition == "linked" and c.linked_incident is None:
            c.linked_incident = e.incident_id
        self._pending[e.call_id] = c

    def _on_shift_ended(self, e: ShiftEnded) -> None:
        self.flush()

    # --- completing records -----------------------------------------------------------------

    def _ready(self, c: _Call) -> bool:
        """Whether every fact the verdict needs has arrived."""
        assert c.closed is not None
        if c.truth is None or c.truth.patient_id not in self._patients:
            return False
        if c.closed.disposition == "linked":
            return c.linked_incident is not None and c.linked_incident in self._incident_patient
        if c.closed.incident_id is not None and c.opened_incident is None:
            # the close names an incident we have not seen opened yet: wait for it
            return False
        # a call that opened an incident waits for that incident's truth (who the patient is)
        return c.opened_incident is None or c.open_siblings is not None

    def _try_pending(self) -> None:
        for call_id in [k for k, c in self._pending.items() if self._ready(c)]:
            self._emit(call_id, self._pending.pop(call_id))

    def _emit(self, call_id: str, c: _Call) -> None:
        record = self._judge(call_id, c)
        at = bisect.bisect(self._record_seqs, c.seq)
        self._record_seqs.insert(at, c.seq)
        self.records.insert(at, record)
        if self.on_record is not None:
            self.on_record(record)

    def _judge(self, call_id: str, c: _Call) -> CallFeedback:
        closed = c.closed
        assert closed is not None
        patient = self._patients.get(c.truth.patient_id) if c.truth is not None else None
        triage = c.triage
        assessed = triage.category if triage is not None else None
        validate = bool(triage is not None and triage.validation)
        advice_ok = bool(triage is not None and triage.advice)
        dispatch = assessed == "C1" or (assessed == "C2" and not validate)
        action = (
            "dispatch" if dispatch else "validate" if validate else "advice" if advice_ok else None
        )
        incident = closed.incident_id or c.linked_incident or c.opened_incident
        verdict, good = self._verdict(c, patient, dispatch, validate, advice_ok)
        return CallFeedback(
            call_id=call_id,
            seat=closed.seat if closed.seat is not None else c.answer_seat,
            disposition=closed.disposition,
            incident_id=incident,
            closed_t=closed.t,
            category_set=c.category.category if c.category is not None else None,
            recommended=assessed,
            protocol_code=triage.code if triage is not None else None,
            protocol_label=triage.label if triage is not None else None,
            overridden=bool(c.category is not None and c.category.override),
            questions_asked=c.questions,
            patient_id=patient.patient_id if patient is not None else None,
            call_reason=c.truth.reason if c.truth is not None else None,
            true_category=patient.true_category if patient is not None else None,
            need=patient.need if patient is not None else None,
            ideal=patient.ideal if patient is not None else None,
            protocol_action=action,
            protocol_dispatch=dispatch,
            protocol_validate=validate,
            protocol_advice_allowed=advice_ok,
            answered_after_s=(
                c.answered_t - c.arrived_t
                if c.answered_t is not None and c.arrived_t is not None
                else None
            ),
            triage_duration_s=closed.t - c.answered_t if c.answered_t is not None else None,
            verdict=tuple(verdict),
            good=good,
        )

    def _verdict(
        self,
        c: _Call,
        patient: PatientCreated | None,
        protocol_dispatch: bool,
        protocol_validate: bool,
        protocol_advice: bool,
    ) -> tuple[list[str], bool]:
        """Findings, problems first, then notes; and whether the call was handled well."""
        assert c.closed is not None
        disposition = c.closed.disposition
        problems: list[str] = []
        notes: list[str] = []

        if disposition == "abandoned":
            waited = c.closed.t - c.arrived_t if c.arrived_t is not None else None
            who = f"a {patient.true_category} patient's caller" if patient else "the caller"
            after = f" after {_mmss(waited)} in the queue" if waited is not None else ""
            return [f"abandoned: {who} hung up{after}"], False
        if patient is None:
            return ["truth unknown: no feedback on the decision"], False

        if disposition in PHONE_DISPOSITIONS and patient.need not in PHONE_SAFE_NEEDS:
            problems.append(f"unsafe advice: the patient needed {patient.need}")

        set_category = c.category.category if c.category is not None else None
        set_rank, true_rank = _rank(set_category), _rank(patient.true_category)
        as_advised = c.triage is not None and c.triage.category == set_category
        if disposition != "linked" and set_rank is not None and true_rank is not None:
            triage = f"set {set_category}, truly {patient.true_category}"
            if set_rank > true_rank:
                # a patient put at risk is a problem even when the protocol said so
                advised = " (as the protocol advised)" if as_advised else ""
                problems.append(f"under-triaged: {triage}{advised}")
            elif set_rank < true_rank and not as_advised:
                problems.append(f"over-triaged: {triage}")
            elif set_rank < true_rank:
                # protocols err towards caution by design: the handler who follows one is right
                notes.append(f"over-triaged by the protocol: {triage}")

        linked_right = False
        if disposition == "linked" and c.linked_incident is not None:
            linked_patient = self._incident_patient.get(c.linked_incident)
            if linked_patient is not None and linked_patient != patient.patient_id:
                problems.append("linked to the wrong incident")
            elif linked_patient == patient.patient_id:
                linked_right = True

        if c.opened_incident is not None and c.open_siblings:
            reason = c.truth.reason if c.truth is not None else ""
            if reason in REPEAT_REASONS:
                problems.append(
                    f"duplicate: should have been linked to {c.open_siblings[0]}"
                    " (a second incident sends a second vehicle)"
                )

        ideal_dispositions = IDEAL_DISPOSITIONS.get(patient.ideal, frozenset({patient.ideal}))
        matched = linked_right or disposition in ideal_dispositions
        good = matched and not problems
        if good:
            notes.insert(
                0,
                "good: linked to the right incident"
                if linked_right
                else "good: matched the ideal decision",
            )
        elif not problems:
            wanted = IDEAL_WORDS.get(patient.ideal, patient.ideal)
            notes.insert(0, f"not the ideal decision: the ideal was {wanted}")
        # said already by "not the ideal decision" when the protocol pointed at the ideal
        told_ideal = not problems and not matched

        # notes: how the decision sat with the protocol; they inform, they do not condemn
        if c.category is not None and c.category.override:
            notes.append(
                f"overrode the protocol: it recommended {c.category.recommended or 'nothing'},"
                f" you set {c.category.category}"
            )
        if protocol_dispatch and disposition in {"hub", "advice", "referred"}:
            if not (told_ideal and patient.ideal == "dispatch"):
                notes.append(f"the protocol said dispatch; you chose {disposition}")
        elif protocol_validate and disposition == "dispatch":
            if not (told_ideal and patient.ideal == "validate"):
                notes.append("the protocol suggested a clinician call-back; you dispatched")
        if disposition in PHONE_DISPOSITIONS and c.triage is not None and not protocol_advice:
            notes.append("the protocol did not offer advice by phone for this call")
        return problems + notes, good


_DONE_WORDS = {
    "dispatch": "sent for a vehicle",
    "hub": "referred to the clinical hub",
    "advice": "closed with advice",
    "referred": "referred to another service",
    "linked": "linked to an open incident",
}


def summary_text(record: CallFeedback) -> str:
    """Two to four plain lines about one call, for the desk's feedback panel or a debrief."""
    who = f" (seat {record.seat})" if record.seat else ""
    if record.disposition == "abandoned":
        first = f"{record.call_id}{who}: abandoned before it was answered."
    else:
        category = f" as {record.category_set}" if record.category_set else ""
        plural = "" if record.questions_asked == 1 else "s"
        timing = []
        if record.answered_after_s is not None:
            timing.append(f"answered after {_mmss(record.answered_after_s)}")
        if record.triage_duration_s is not None:
            timing.append(f"{_mmss(record.triage_duration_s)} on the call")
        first = (
            f"{record.call_id}{who}: {_DONE_WORDS.get(record.disposition, record.disposition)}"
            f"{category}"
            f" after {record.questions_asked} question{plural}"
            + (f"; {', '.join(timing)}" if timing else "")
            + "."
        )
    lines = [first]
    if record.recommended is not None or record.protocol_action is not None:
        label = f" {record.protocol_code} {record.protocol_label}" if record.protocol_code else ""
        action = record.protocol_action or "handler's choice"
        lines.append(f"Protocol: {record.recommended or '-'}{label} ({action}).")
    if record.true_category is not None:
        ideal = record.ideal or "-"
        lines.append(
            f"Truth: {record.true_category}, needed {record.need};"
            f" ideal: {IDEAL_WORDS.get(ideal, ideal)}."
        )
    lines.append("Verdict: " + "; ".join(record.verdict) + ".")
    return "\n".join(lines)
