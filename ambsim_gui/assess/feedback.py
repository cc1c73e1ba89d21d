"""Per-call feedback for the trainee: what was decided, what the truth was, what to learn.

One job: ``FeedbackProjection`` folds the event stream (hidden truth included) and, for each
call that closes, produces a ``CallFeedback`` as soon as the facts it needs are known: the call's
own handling (answer, questions, protocol advice, category, disposition) and the truth about
its patient (true category, need, ideal decision). Its ``verdict`` is a few plain-English
findings a trainee can read after the call, e.g. "under-triaged: set C3, truly C1".

Every finding names who made the decision it is about (``verdict_by``, beside ``verdict``): a
seat (the trainee's is "trainee", a virtual colleague's "CH1", "D2" ...), the protocol (the
handler did what it recommended and its recommendation missed the patient's need), a clinical
hub clinician ("hub:CL1") or the caller (who hung up). Decisions taken after the call closed, by
the clinical hub after validation and by the dispatchers who sent vehicles to its incident,
are ``LaterFinding`` records (``later``, ``on_later``), each tied to the call that opened the
incident. A seat's scores count only its own findings (``tally``): a colleague's duplicate
dispatch or the hub's unsafe advice on a trainee's call is shown as theirs, never as the
trainee's. An under-triage that followed the protocol names the question that would have found
the patient's category (``missed_question``), worked out from the call cards' answers for the
patient's variant; ``ideal_reason`` is that variant's reason for its ideal decision. Both are
read from the card library (``cards``; the shipped one by default), by the card and variant the
truth events name.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from ambsim_gui.assess.jsonable import JsonMixin
from ambsim_gui.labels import (
    action_words,
    answer_words,
    done_words,
    ideal_words,
    outcome_words,
)
from ambsim_gui.sim.events import (
    CallAnswered,
    CallArrived,
    CallClosed,
    CallLinked,
    CallTruth,
    CategorySet,
    Event,
    HubBreached,
    HubOutcome,
    IncidentClosed,
    IncidentOpened,
    IncidentTruth,
    PatientCreated,
    QuestionAnswered,
    QuestionAsked,
    ShiftEnded,
    TriageAssessed,
    VehicleArrived,
    VehicleAssigned,
    VehicleCreated,
    VehicleStoodDown,
)
from ambsim_gui.sim.regimes import CATEGORIES
from ambsim_gui.triage.cards import CardLibrary
from ambsim_gui.triage.protocol import Protocol, Question

FEEDBACK_FORMAT = 3
"""What a ``CallFeedback`` says and how: 1 before findings named who decided them, 2 with
``verdict_by`` and ``verdict_kind`` (and the protocol's results apart), 3 with findings in
human words (``ambsim_gui.labels``: "needed Conveyed to ED", not "needed convey_ed"). Feedback
stored by a session is derived data; a reader comparing it with feedback recomputed now must
compare only records of this format (an older session's records were made by older rules)."""

# needs a telephone decision can meet safely; any other need means a crew had to see the patient
PHONE_SAFE_NEEDS = frozenset({"hear_and_treat"})
PHONE_DISPOSITIONS = frozenset({"advice", "referred"})
# call reasons whose right answer, with the patient's incident already open, is to link the call
REPEAT_REASONS = frozenset({"duplicate", "redial", "still_waiting"})
WRONG_LINK = "linked to the wrong incident"
NEW_PATIENT_LINKED = "linked to the wrong incident: a new patient, linked to another's incident"

# PatientCreated.ideal ("dispatch" | "validate" | "advise", see triage/cards.py) as the CallClosed
# dispositions that carry it out; advice and referral are both hear-and-treat by phone
IDEAL_DISPOSITIONS: dict[str, frozenset[str]] = {
    "dispatch": frozenset({"dispatch"}),
    "validate": frozenset({"hub"}),
    "advise": frozenset({"advice", "referred"}),
}
# the protocol's action (CallFeedback.protocol_action) as the dispositions that follow it
ACTION_DISPOSITIONS: dict[str, frozenset[str]] = {
    "dispatch": IDEAL_DISPOSITIONS["dispatch"],
    "validate": IDEAL_DISPOSITIONS["validate"],
    "advice": IDEAL_DISPOSITIONS["advise"],
}

# who made a decision (CallFeedback.verdict_by, LaterFinding.by): a seat's id, or one of these
TRAINEE = "trainee"  # the trainee's seat (sim/room.py)
PROTOCOL = "protocol"  # the handler followed the protocol, and its recommendation missed
CALLER = "caller"  # nobody's decision: the caller hung up in the queue
HUB = "hub"  # the clinical hub; "hub:CL1" is one of its clinicians
HUB_PREFIX = HUB + ":"
# what a finding is (CallFeedback.verdict_kind, LaterFinding.kind)
PROBLEM, NOTE, GOOD = "problem", "note", "good"


def who(by: str, viewer: str = TRAINEE) -> str:
    """Who made a decision, in words, for ``viewer``'s eyes: "you", "colleague CH1",
    "the clinical hub (CL1)", "the protocol" ..."""
    if by == viewer:
        return "you"
    if by == PROTOCOL:
        return "the protocol"
    if by == CALLER:
        return "the caller"
    if by == HUB:
        return "the clinical hub"
    if by.startswith(HUB_PREFIX):
        return f"the clinical hub ({by[len(HUB_PREFIX) :]})"
    if not by:
        return "an unknown seat"
    return f"colleague {by}"


def decided_by(by: str, viewer: str = TRAINEE) -> str:
    """ "decided by: you", "decided by: colleague CH1", "decided by: the clinical hub (CL1)"."""
    return f"decided by: {who(by, viewer)}"


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
    good: bool  # matched the ideal decision, with no problem of the handler's own
    verdict_by: tuple[str, ...] = ()  # who made each finding's decision (see ``who``)
    verdict_kind: tuple[str, ...] = ()  # each finding: problem | note | good
    # under-triaged by the protocol: the question whose true answer would have found the
    # patient's category (its id), when one question explains it
    missed_question: str | None = None
    # why the ideal decision is the ideal for this patient: the card variant's ideal_reason,
    # read from the call cards (by the card and variant PatientCreated names)
    ideal_reason: str | None = None

    def findings(self) -> list[tuple[str, str, str]]:
        """(text, by, kind) of each finding, in order."""
        by = self.verdict_by or ("",) * len(self.verdict)
        kind = self.verdict_kind or (NOTE,) * len(self.verdict)
        return list(zip(self.verdict, by, kind, strict=True))

    @property
    def decided_by(self) -> str:
        """The seat that decided the call (the caller, for one abandoned in the queue)."""
        return self.seat or (CALLER if self.disposition == "abandoned" else "")


def feedback_from_json(data: Mapping[str, Any]) -> CallFeedback:
    """A ``CallFeedback`` back from its ``to_json_dict`` (as stored, or in a debrief's data);
    keys it does not know are ignored, so older and newer records both read."""
    names = {f.name for f in fields(CallFeedback)}
    values: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names
    }
    return CallFeedback(**values)


@dataclass(frozen=True)
class LaterFinding(JsonMixin):
    """A decision about a call's incident taken after the call closed: the clinical hub's
    outcome after validation, or a vehicle a dispatcher sent that turned out unnecessary."""

    call_id: str  # the call that opened the incident
    incident_id: str
    t: float
    by: str  # a dispatcher's seat, "hub:<clinician>" or "hub"
    kind: str  # problem | note | good
    text: str


@dataclass
class _Call:
    arrived_t: float | None = None
    answered_t: float | None = None
    answer_seat: str | None = None
    questions: int = 0
    answers: dict[str, str] | None = None  # question id -> the caller's answer value
    triage: TriageAssessed | None = None
    category: CategorySet | None = None
    truth: CallTruth | None = None
    linked_incident: str | None = None
    link_seat: str | None = None
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

    def __init__(
        self,
        on_record: Callable[[CallFeedback], None] | None = None,
        *,
        on_later: Callable[[LaterFinding], None] | None = None,
        cards: CardLibrary | None = None,
    ) -> None:
        """``cards``: the call cards (with their protocol) the shift drew its patients from,
        for what the protocol missed; the shipped ones when not given."""
        self._cards = cards
        self._missed: str | None = None  # the question _protocol_miss found, for _judge
        self.records: list[CallFeedback] = []
        self.on_record = on_record
        self.later: list[LaterFinding] = []  # in the order they happened
        self.on_later = on_later
        self._later_by_call: dict[str, list[LaterFinding]] = {}
        self._callsigns: dict[str, str] = {}
        self._open_dispatch: dict[tuple[str, str], str] = {}  # (vehicle, incident) -> seat
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
            QuestionAnswered: self._on_answer,
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
            HubOutcome: self._on_hub_outcome,
            HubBreached: self._on_hub_breached,
            VehicleCreated: self._on_vehicle_created,
            VehicleAssigned: self._on_vehicle_assigned,
            VehicleArrived: self._on_vehicle_arrived,
            VehicleStoodDown: self._on_stood_down,
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

    def _on_answer(self, e: QuestionAnswered) -> None:
        c = self._call(e.call_id)
        if c.answers is None:
            c.answers = {}
        c.answers[e.question_id] = e.value

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
        c = self._call(e.call_id)
        c.linked_incident = e.incident_id
        c.link_seat = e.seat

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

    # --- decisions after the call: the clinical hub, the dispatchers ------------------------

    def later_for(self, call_id: str) -> list[LaterFinding]:
        """The later findings about the incident ``call_id`` opened, in the order they came."""
        return list(self._later_by_call.get(call_id, ()))

    def _later(self, t: float, incident_id: str, by: str, kind: str, text: str) -> None:
        call_id = self._incident_call.get(incident_id)
        if call_id is None:
            return
        finding = LaterFinding(call_id, incident_id, t, by, kind, text)
        self.later.append(finding)
        self._later_by_call.setdefault(call_id, []).append(finding)
        if self.on_later is not None:
            self.on_later(finding)

    def _need_of(self, incident_id: str) -> str | None:
        patient = self._patients.get(self._incident_patient.get(incident_id, ""))
        return patient.need if patient is not None else None

    def _on_hub_outcome(self, e: HubOutcome) -> None:
        need = self._need_of(e.incident_id)
        by = HUB_PREFIX + e.clinician if e.clinician else HUB
        if e.outcome in ("hear_and_treat", "referred"):
            how = "advice" if e.outcome == "hear_and_treat" else "a referral"
            if need is not None and need not in PHONE_SAFE_NEEDS:
                text = (
                    f"unsafe advice after clinical validation ({how}):"
                    f" the patient needed {outcome_words(need)}"
                )
                self._later(e.t, e.incident_id, by, PROBLEM, text)
            else:
                self._later(e.t, e.incident_id, by, GOOD, f"good: {how} by phone after validation")
        elif e.outcome == "dispatch":
            if need in PHONE_SAFE_NEEDS:
                text = f"sent a vehicle ({e.category}) after validation; advice by phone was enough"
                self._later(e.t, e.incident_id, by, NOTE, text)
            else:
                text = f"good: sent a vehicle ({e.category}) after validation"
                self._later(e.t, e.incident_id, by, GOOD, text)

    def _on_hub_breached(self, e: HubBreached) -> None:
        self._later(
            e.t,
            e.incident_id,
            HUB,
            NOTE,
            "no call-back before the breach time on the clinical hub's stack: a vehicle was sent",
        )

    def _on_vehicle_created(self, e: VehicleCreated) -> None:
        self._callsigns[e.vehicle_id] = e.callsign

    def _on_vehicle_assigned(self, e: VehicleAssigned) -> None:
        # classified once, by what became of it, as ShiftMetrics counts unnecessary dispatches
        if e.diverted_from is not None:
            self._open_dispatch.pop((e.vehicle_id, e.diverted_from), None)
        self._open_dispatch[e.vehicle_id, e.incident_id] = e.seat

    def _on_vehicle_arrived(self, e: VehicleArrived) -> None:
        seat = self._open_dispatch.pop((e.vehicle_id, e.incident_id), None)
        if seat is not None and e.role == "surplus":
            name = self._callsigns.get(e.vehicle_id, e.vehicle_id)
            text = f"unnecessary dispatch: {name} arrived to find another crew with the patient"
            self._later(e.t, e.incident_id, seat, PROBLEM, text)

    def _on_stood_down(self, e: VehicleStoodDown) -> None:
        seat = self._open_dispatch.pop((e.vehicle_id, e.incident_id), None)
        if seat is None:
            return
        name = self._callsigns.get(e.vehicle_id, e.vehicle_id)
        if e.reason == "stand_down":
            text = f"unnecessary dispatch: {name} was stood down before it arrived"
        elif e.reason == "incident_closed":
            text = f"unnecessary dispatch: {name} was still on its way when the job closed"
        else:
            return  # diverted, or its crew went off duty: not waste
        self._later(e.t, e.incident_id, seat, PROBLEM, text)

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
        self._missed = None
        findings, good = self._verdict(c, patient, dispatch, validate, advice_ok, action)
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
            verdict=tuple(text for text, _, _ in findings),
            good=good,
            verdict_by=tuple(by for _, by, _ in findings),
            verdict_kind=tuple(kind for _, _, kind in findings),
            missed_question=self._missed,
            ideal_reason=self._ideal_reason(patient),
        )

    def _verdict(
        self,
        c: _Call,
        patient: PatientCreated | None,
        protocol_dispatch: bool,
        protocol_validate: bool,
        protocol_advice: bool,
        protocol_action: str | None,
    ) -> tuple[list[tuple[str, str, str]], bool]:
        """Findings as (text, by, kind), problems first, then notes; and whether the call's
        handler decided well (matched the ideal, with no problem of their own)."""
        assert c.closed is not None
        disposition = c.closed.disposition
        handler = c.closed.seat or c.answer_seat or ""
        problems: list[tuple[str, str, str]] = []
        notes: list[tuple[str, str, str]] = []

        if disposition == "abandoned":
            waited = c.closed.t - c.arrived_t if c.arrived_t is not None else None
            whose = f"a {patient.true_category} patient's caller" if patient else "the caller"
            after = f" after {_mmss(waited)} in the queue" if waited is not None else ""
            return [(f"abandoned: {whose} hung up{after}", CALLER, PROBLEM)], False
        if patient is None:
            return [("truth unknown: no feedback on the decision", handler, NOTE)], False

        set_category = c.category.category if c.category is not None else None
        chooser = (c.category.seat if c.category is not None else None) or handler
        # the protocol's last word agreed with the category set, and the decision was the one it
        # recommended: what the protocol missed is the protocol's result, not the handler's error
        as_advised = c.triage is not None and c.triage.category == set_category
        followed = (
            as_advised
            and protocol_action is not None
            and disposition in ACTION_DISPOSITIONS.get(protocol_action, frozenset())
        )

        if disposition in PHONE_DISPOSITIONS and patient.need not in PHONE_SAFE_NEEDS:
            text = f"unsafe advice: the patient needed {outcome_words(patient.need)}"
            if followed:
                problems.append((f"{text} (advice was the protocol's action)", PROTOCOL, PROBLEM))
            else:
                problems.append((text, handler, PROBLEM))

        set_rank, true_rank = _rank(set_category), _rank(patient.true_category)
        if disposition != "linked" and set_rank is not None and true_rank is not None:
            triage = f"set {set_category}, truly {patient.true_category}"
            if set_rank > true_rank and as_advised:
                # a patient put at risk by the protocol's own recommendation: the protocol's
                text = self._protocol_miss(c, patient, set_category or "")
                problems.append((text, PROTOCOL, PROBLEM))
            elif set_rank > true_rank:
                advised = c.triage.category if c.triage is not None else None
                against = f" (the protocol recommended {advised})" if advised else ""
                problems.append((f"under-triaged: {triage}{against}", chooser, PROBLEM))
            elif set_rank < true_rank and not as_advised:
                problems.append((f"over-triaged: {triage}", chooser, PROBLEM))
            elif set_rank < true_rank:
                # protocols err towards caution by design: the handler who follows one is right
                notes.append((f"over-triaged by the protocol: {triage}", PROTOCOL, NOTE))

        linked_right = False
        if disposition == "linked" and c.linked_incident is not None:
            linked_patient = self._incident_patient.get(c.linked_incident)
            linker = c.link_seat or handler
            if linked_patient is not None and linked_patient != patient.patient_id:
                reason = c.truth.reason if c.truth is not None else ""
                # a caller about someone nobody had reported yet: no crew is coming for them
                what = NEW_PATIENT_LINKED if reason not in REPEAT_REASONS else WRONG_LINK
                problems.append((what, linker, PROBLEM))
            elif linked_patient == patient.patient_id:
                linked_right = True

        if c.opened_incident is not None and c.open_siblings:
            reason = c.truth.reason if c.truth is not None else ""
            if reason in REPEAT_REASONS:
                problems.append(
                    (
                        f"duplicate: should have been linked to {c.open_siblings[0]}"
                        " (a second incident sends a second vehicle)",
                        handler,
                        PROBLEM,
                    )
                )

        ideal_dispositions = IDEAL_DISPOSITIONS.get(patient.ideal, frozenset({patient.ideal}))
        matched = linked_right or disposition in ideal_dispositions
        own_problem = any(by != PROTOCOL for _, by, _ in problems)
        good = matched and not own_problem
        wanted = ideal_words(patient.ideal)
        if good:
            text = (
                "good: linked to the right incident"
                if linked_right
                else "good: matched the ideal decision"
            )
            notes.insert(0, (text, handler, GOOD))
        elif not matched and not own_problem:
            if followed:
                notes.insert(
                    0,
                    (
                        f"not the ideal decision: the protocol's action was"
                        f" {action_words(protocol_action)};"
                        f" the ideal was {wanted}",
                        PROTOCOL,
                        NOTE,
                    ),
                )
            else:
                notes.insert(0, (f"not the ideal decision: the ideal was {wanted}", handler, NOTE))
        # said already by "not the ideal decision" when the protocol pointed at the ideal
        told_ideal = not own_problem and not matched

        # notes: how the decision sat with the protocol; they inform, they do not condemn
        if c.category is not None and c.category.override:
            notes.append(
                (
                    f"overrode the protocol: it recommended {c.category.recommended or 'nothing'},"
                    f" {c.category.category} was set",
                    chooser,
                    NOTE,
                )
            )
        if protocol_dispatch and disposition in {"hub", "advice", "referred"}:
            if not (told_ideal and patient.ideal == "dispatch"):
                notes.append(
                    (
                        f"the protocol said dispatch; the call was {done_words(disposition)}",
                        handler,
                        NOTE,
                    )
                )
        elif protocol_validate and disposition == "dispatch":
            if not (told_ideal and patient.ideal == "validate"):
                notes.append(
                    (
                        "the protocol suggested a clinician call-back; a vehicle was sent",
                        handler,
                        NOTE,
                    )
                )
        if disposition in PHONE_DISPOSITIONS and c.triage is not None and not protocol_advice:
            text = "the protocol did not offer advice by phone for this call"
            notes.append((text, handler, NOTE))
        return problems + notes, good

    def _ideal_reason(self, patient: PatientCreated | None) -> str | None:
        """The card variant's reason for its ideal decision; None for a card not in the
        library (a scenario's own cards, a hand-made stream)."""
        if patient is None:
            return None
        library = self._library()
        card = library.cards.get(patient.card) if library is not None else None
        if card is None:
            return None
        variant = next((v for v in card.variants if v.name == patient.variant), None)
        if variant is None or variant.ideal != patient.ideal:
            return None  # another card of the same name: its reason is not this patient's
        return variant.ideal_reason

    def _library(self) -> CardLibrary | None:
        if self._cards is None:
            self._cards = _shipped_cards()
        return self._cards

    def _protocol_miss(self, c: _Call, patient: PatientCreated, recommended: str) -> str:
        """The protocol's under-triage in words, with the question that would have found the
        patient's category (sets ``self._missed`` to its id)."""
        head = (
            f"under-triaged: the protocol recommended {recommended} from the answers given;"
            f" the patient needed {patient.true_category}"
        )
        given = dict(c.answers or {})
        library = self._library()
        found = (
            missed_question(library, patient, given, recommended) if library is not None else None
        )
        if found is None:
            return f"{head} \N{EM DASH} the protocol's rules gave {recommended} for these answers"
        question, truth = found
        self._missed = question.id
        if question.id not in given:
            provisional = c.triage is not None and not c.triage.complete
            detail = (
                f"not asked: the protocol still had questions when the category was set;"
                f" the true answer: {answer_words(truth)}"
                if provisional
                else f"not asked; the true answer: {answer_words(truth)}"
            )
        else:
            detail = (
                f"the caller said {answer_words(given[question.id])};"
                f" the true answer: {answer_words(truth)}"
            )
        return (
            f"{head} \N{EM DASH} the question that would have found it:"
            f" \N{LEFT DOUBLE QUOTATION MARK}{question.text}\N{RIGHT DOUBLE QUOTATION MARK}"
            f" ({detail})"
        )


@functools.cache
def _shipped_cards() -> CardLibrary | None:
    """The shipped call cards and protocol, loaded once (None if they cannot be read)."""
    try:
        return CardLibrary.load()
    except (OSError, ValueError):  # DataFileError is a ValueError
        return None


def missed_question(
    library: CardLibrary, patient: PatientCreated, given: Mapping[str, str], recommended: str
) -> tuple[Question, str] | None:
    """The protocol question that explains its under-triage of ``patient``, and its true answer.

    Among the protocol's questions applicable to the call that were not asked, or that the
    caller answered otherwise than the card says for the patient's variant, the first (in the
    protocol's order) whose true answer alone makes a rule of a more urgent category match:
    one reaching the patient's true category if any does, else the first more urgent than
    ``recommended``. None when no single question explains it, or when the protocol does not
    give ``recommended`` for ``given`` (a shift run with another protocol)."""
    protocol: Protocol = library.protocol
    try:
        truth = library.typical_answers(patient.card, patient.variant)
    except ValueError:
        return None
    given = {q: v for q, v in given.items() if protocol.answer_error(q, v) is None}
    bar, target = _rank(recommended), _rank(patient.true_category)
    if bar is None or target is None or protocol.assess(given).category != recommended:
        return None
    first: tuple[Question, str] | None = None
    for qid, question in protocol.questions.items():
        value = truth.get(qid)
        if value is None or given.get(qid) == value:
            continue
        trial = {**given, qid: value}
        if qid not in protocol.applicable(trial):
            continue
        rank = _rank(protocol.assess(trial).category)
        if rank is None or rank >= bar:
            continue
        if rank <= target:
            return question, value
        if first is None:
            first = (question, value)
    return first


def grouped_findings(
    record: CallFeedback, later: Iterable[LaterFinding] = (), viewer: str = TRAINEE
) -> list[tuple[str, list[tuple[str, str]]]]:
    """(by, [(text, kind)...]) for one call, the viewer's own findings first, then the
    protocol's, then everyone else's in the order they came."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for text, by, kind in record.findings():
        groups.setdefault(by, []).append((text, kind))
    for f in later:
        groups.setdefault(f.by, []).append((f.text, f.kind))
    first = [b for b in (viewer, PROTOCOL) if b in groups]
    return [(b, groups[b]) for b in first + [b for b in groups if b not in first]]


def findings_line(by: str, items: Iterable[tuple[str, str]], viewer: str = TRAINEE) -> str:
    """One line of a call's findings by one decision maker, saying whose they are."""
    text = "; ".join(t for t, _ in items)
    if by == viewer:
        return f"Verdict: [{decided_by(by, viewer)}] {text}."
    if by == PROTOCOL:
        return f"Verdict: [a protocol result, not counted against you] {text}."
    if by == CALLER:
        return f"Verdict: [nobody's decision] {text}."
    return f"Verdict: [{decided_by(by, viewer)}; not yours] {text}."


def summary_text(
    record: CallFeedback, later: Iterable[LaterFinding] = (), viewer: str = TRAINEE
) -> str:
    """A few plain lines about one call, for the desk's feedback panel or a debrief: what was
    done, the protocol, the truth, then the findings grouped by who made each decision."""
    parts = []
    if record.seat == viewer:
        parts.append("your call")
    elif record.seat:
        parts.append(f"{who(record.seat, viewer)}'s call")
    if record.incident_id:
        # the number the desk, the replay and the report all name the patient by
        parts.append(f"incident {record.incident_id}")
    whose = f" ({', '.join(parts)})" if parts else ""
    if record.disposition == "abandoned":
        first = f"{record.call_id}{whose}: abandoned before it was answered."
    else:
        category = f" as {record.category_set}" if record.category_set else ""
        plural = "" if record.questions_asked == 1 else "s"
        timing = []
        if record.answered_after_s is not None:
            timing.append(f"answered after {_mmss(record.answered_after_s)}")
        if record.triage_duration_s is not None:
            timing.append(f"{_mmss(record.triage_duration_s)} on the call")
        first = (
            f"{record.call_id}{whose}: {done_words(record.disposition)}"
            f"{category}"
            f" after {record.questions_asked} question{plural}"
            + (f"; {', '.join(timing)}" if timing else "")
            + "."
        )
    lines = [first]
    if record.recommended is not None or record.protocol_action is not None:
        label = f" {record.protocol_code} {record.protocol_label}" if record.protocol_code else ""
        action = action_words(record.protocol_action)
        lines.append(f"Protocol: {record.recommended or '-'}{label} ({action}).")
    if record.true_category is not None:
        truth = (
            f"Truth: {record.true_category}, needed {outcome_words(record.need)};"
            f" ideal: {ideal_words(record.ideal)}"
        )
        why = f" \N{EM DASH} {record.ideal_reason}" if record.ideal_reason else "."
        lines.append(truth + why)
    for by, items in grouped_findings(record, later, viewer):
        lines.append(findings_line(by, items, viewer))
    return "\n".join(lines)


# --- a seat's own score -----------------------------------------------------------------------


def standing(record: CallFeedback) -> str:
    """How the call's handler did, on their own decisions only: ``ideal`` (matched the ideal
    with no problem of theirs), ``protocol`` (they followed the protocol and what it missed is
    its result), ``problem`` (a problem of their own), ``not_ideal`` (safe, not the ideal) or
    ``none`` (no one decided: abandoned, or the truth unknown)."""
    if record.disposition == "abandoned" or record.patient_id is None:
        return "none"
    if record.good:
        return "ideal"
    handler = record.decided_by
    if any(by not in (PROTOCOL, CALLER) and k == PROBLEM for _, by, k in record.findings()):
        return "problem"
    if any(by == PROTOCOL and k != GOOD for _, by, k in record.findings()):
        return "protocol"
    return "not_ideal" if handler else "none"


def protocol_under_triage(record: CallFeedback) -> bool:
    """The category was too low, and it was the protocol's recommendation that was followed."""
    return any(
        by == PROTOCOL and text.startswith("under-triaged") for text, by, _ in record.findings()
    )


@dataclass(frozen=True)
class SeatTally:
    """One seat's score over a shift, from its own decisions only."""

    seat: str
    calls: int  # calls the seat decided (not abandoned, truth known)
    ideal: int  # of those: matched the ideal, no problem of the seat's own
    protocol: int  # followed the protocol, whose recommendation missed (not the seat's error)
    not_ideal: int  # safe, but not the ideal decision
    with_problem: int  # a problem of the seat's own in the call's decision
    protocol_under_triage: int  # of the calls: under-triaged by the protocol's recommendation
    later_problems: int  # the seat's own decisions after calls (dispatches) that were problems
    others: int  # findings on the seat's calls decided by colleagues or the clinical hub

    def sentence(self) -> str:
        """The tally in one or two lines, for the desk and the debrief."""
        if not self.calls and not self.later_problems:
            return "None of your calls has closed yet."
        parts = [f"{self.ideal} handled ideally"]
        if self.protocol:
            parts.append(f"{_count(self.protocol, 'protocol result')} (not counted against you)")
        if self.not_ideal:
            parts.append(f"{self.not_ideal} not the ideal decision")
        parts.append(f"{self.with_problem} with a problem of yours")
        text = f"{_count(self.calls, 'call')} of yours closed: " + ", ".join(parts) + "."
        if self.later_problems:
            text += f" Unnecessary dispatches of yours: {self.later_problems}."
        if self.others:
            text += (
                f" {_count(self.others, 'decision')} by colleagues or the clinical hub on your"
                " calls shown as theirs."
            )
        return text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def tally(
    records: Iterable[CallFeedback], later: Iterable[LaterFinding] = (), seat: str = TRAINEE
) -> SeatTally:
    """``seat``'s score: its calls by ``standing``, and its own later decisions (vehicles it
    sent). A colleague's or the clinical hub's decision on one of its calls is counted apart,
    in ``others``, never as its error; what the protocol missed is counted in ``protocol``."""
    counts = dict.fromkeys(("ideal", "protocol", "not_ideal", "problem"), 0)
    mine: set[str] = set()
    under = others = 0
    for r in records:
        if r.seat != seat:
            continue
        state = standing(r)
        if state == "none":
            continue
        mine.add(r.call_id)
        counts[state] += 1
        under += protocol_under_triage(r)
        others += sum(
            1 for _, by, k in r.findings() if by not in (seat, PROTOCOL, CALLER) and k != GOOD
        )
    later_problems = 0
    for f in later:
        if f.by == seat:
            later_problems += f.kind == PROBLEM
        elif f.call_id in mine and f.kind != GOOD:
            others += 1
    return SeatTally(
        seat=seat,
        calls=len(mine),
        ideal=counts["ideal"],
        protocol=counts["protocol"],
        not_ideal=counts["not_ideal"],
        with_problem=counts["problem"],
        protocol_under_triage=under,
        later_problems=later_problems,
        others=others,
    )
