"""The room at one moment, as the replay window shows it: a pure fold of the event stream.

One job: ``ReplayState.apply(event)`` folds one event into what the room could see (calls with
their transcripts, incidents with their response-clock moments, the dispatch queue, the clinical
hub's stack, vehicles with their current drive, hospitals) and, kept apart in ``truth``, what it
could not (each patient's true category and need, which patient a call or incident is about,
harm, unsafe advice) for the instructor's truth overlay.

The same code serves a live engine (``engine.subscribe(state.apply)``) and a recording
(``state.apply`` over its events), and the two give equal states. No Qt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ambsim_gui.sim import events as ev
from ambsim_gui.sim.regimes import IncidentTimes, Regime, ResponseClock

CATEGORY_RANK = {"C1": 1, "C2": 2, "C3": 3, "C4": 4}
TRAINEE = "trainee"


@dataclass(frozen=True)
class TranscriptLine:
    t: float
    who: str  # caller | handler | protocol | desk
    text: str


@dataclass
class CallView:
    id: str
    t_arrive: float
    x: float
    y: float
    uncertainty_m: float
    area: str
    opening: str
    status: str = "ringing"  # ringing | answered | closed
    seat: str | None = None
    t_answered: float | None = None
    questions: int = 0
    recommended: str | None = None  # the protocol's last category
    code: str = ""
    label: str = ""
    category: str | None = None  # the handler's category
    override: bool = False
    t_category: float | None = None
    disposition: str | None = None
    incident_id: str | None = None
    t_closed: float | None = None
    transcript: list[TranscriptLine] = field(default_factory=list)


@dataclass
class IncidentView:
    id: str
    call_ids: list[str]
    category: str
    x: float
    y: float
    area: str
    complaint: str
    code: str
    t_open: float
    clock: ResponseClock  # the response clock's moments: the same fold ShiftMetrics keeps
    status: str = "open"  # open | closed
    queued: bool = False
    needs: str = "any"
    t_queued: float = 0.0
    hub: str | None = None  # waiting | callback | None
    hub_breach_at: float | None = None
    outcome: str | None = None
    t_closed: float | None = None
    dispatched: list[str] = field(default_factory=list)  # every vehicle ever sent

    @property
    def rank(self) -> int:
        return CATEGORY_RANK.get(self.category, 9)

    def times(self) -> IncidentTimes:
        return self.clock.times(self.category)


@dataclass(frozen=True)
class Drive:
    """A vehicle's current drive, as its last ``VehicleMoving`` gave it."""

    from_node: int
    to_node: int
    depart_t: float
    arrive_t: float
    blue_light: bool
    closures: tuple[int, ...]  # edges closed when it set off (the router it used)


@dataclass
class VehicleView:
    id: str
    callsign: str
    type: str
    station: str
    x: float  # where its last status change happened
    y: float
    shift_start_s: float
    shift_end_s: float
    status: str = "off_duty"
    incident_id: str | None = None
    since: float = 0.0
    drive: Drive | None = None


@dataclass
class HospitalView:
    name: str
    diverted: bool = False
    crews_waiting: int = 0  # handovers started and not completed
    handovers: int = 0
    wait_total_s: float = 0.0


@dataclass
class Truth:
    """What the control room could not know: for the instructor's truth overlay only."""

    patients: dict[str, ev.PatientCreated] = field(default_factory=dict)
    call_patient: dict[str, str] = field(default_factory=dict)
    call_reason: dict[str, str] = field(default_factory=dict)
    incident_patient: dict[str, str] = field(default_factory=dict)
    harm: list[ev.HarmOccurred] = field(default_factory=list)
    unsafe_advice: list[ev.UnsafeAdvice] = field(default_factory=list)


@dataclass
class ReplayState:
    """The room at one moment, as a pure fold of the events up to it (see the module doc)."""

    t: float = 0.0
    events_applied: int = 0
    scenario: str = ""
    start_clock: str = ""
    duration_s: float = 0.0
    regime: str = ""
    shift_ended: bool = False
    calls: dict[str, CallView] = field(default_factory=dict)
    ringing: list[str] = field(default_factory=list)
    incidents: dict[str, IncidentView] = field(default_factory=dict)
    hub_stack: list[str] = field(default_factory=list)
    vehicles: dict[str, VehicleView] = field(default_factory=dict)
    hospitals: dict[str, HospitalView] = field(default_factory=dict)
    closures: dict[str, tuple[int, ...]] = field(default_factory=dict)
    injects: list[ev.InjectApplied] = field(default_factory=list)
    rejections: list[ev.CommandRejected] = field(default_factory=list)
    truth: Truth = field(default_factory=Truth)
    keep_transcripts: bool = True
    """False leaves ``CallView.transcript`` empty (snapshots do: ``SnapshotIndex.transcript``
    gives a call's lines on demand, and most of a late snapshot would be transcripts)."""
    _category_at: dict[str, float] = field(default_factory=dict, repr=False)

    # --- folding ---------------------------------------------------------------------------

    def apply(self, event: ev.Event) -> None:
        """Fold one event in (events must come in the engine's order)."""
        self.t = max(self.t, event.t)
        self.events_applied += 1
        handler = _APPLY.get(type(event))
        if handler is not None:
            handler(self, event)

    def apply_all(self, events: Iterable[ev.Event]) -> None:
        for event in events:
            self.apply(event)

    def _shift_started(self, e: ev.ShiftStarted) -> None:
        self.scenario = e.scenario
        self.start_clock = e.start_clock
        self.duration_s = e.duration_s
        self.regime = e.regime

    def _shift_ended(self, e: ev.ShiftEnded) -> None:
        self.shift_ended = True

    def _rejected(self, e: ev.CommandRejected) -> None:
        self.rejections.append(e)

    def _say(self, call_id: str, t: float, who: str, text: str) -> None:
        if not self.keep_transcripts:
            return
        call = self.calls.get(call_id)
        if call is not None:
            call.transcript.append(TranscriptLine(t, who, text))

    def _call_arrived(self, e: ev.CallArrived) -> None:
        self.calls[e.call_id] = CallView(
            id=e.call_id,
            t_arrive=e.t,
            x=e.x,
            y=e.y,
            uncertainty_m=e.uncertainty_m,
            area=e.area,
            opening=e.opening,
            transcript=[TranscriptLine(e.t, "caller", e.opening)] if self.keep_transcripts else [],
        )
        self.ringing.append(e.call_id)

    def _call_answered(self, e: ev.CallAnswered) -> None:
        call = self.calls.get(e.call_id)
        if call is not None:
            call.status = "answered"
            call.seat = e.seat
            call.t_answered = e.t
        if e.call_id in self.ringing:
            self.ringing.remove(e.call_id)

    def _call_abandoned(self, e: ev.CallAbandoned) -> None:
        if e.call_id in self.ringing:
            self.ringing.remove(e.call_id)
        self._say(e.call_id, e.t, "desk", "The caller hung up")

    def _question_asked(self, e: ev.QuestionAsked) -> None:
        call = self.calls.get(e.call_id)
        if call is not None:
            call.questions += 1
        self._say(e.call_id, e.t, "handler", e.text)

    def _question_answered(self, e: ev.QuestionAnswered) -> None:
        self._say(e.call_id, e.t, "caller", e.text)

    def _triage(self, e: ev.TriageAssessed) -> None:
        call = self.calls.get(e.call_id)
        if call is None:
            return
        call.recommended = e.category
        call.code = e.code
        call.label = e.label
        if e.category is None:
            text = "Protocol: not enough information yet"
        else:
            done = "complete" if e.complete else "provisional"
            text = f"Protocol recommends {e.category}: {e.code} {e.label} ({done})"
        self._say(e.call_id, e.t, "protocol", text)

    def _category(self, e: ev.CategorySet) -> None:
        self._category_at[e.call_id] = e.t
        call = self.calls.get(e.call_id)
        if call is None:
            return
        call.category = e.category
        call.override = e.override
        call.t_category = e.t
        text = f"Category {e.category}" + (
            f": override of the protocol's {e.recommended}" if e.override else ""
        )
        self._say(e.call_id, e.t, "handler", text)

    def _call_closed(self, e: ev.CallClosed) -> None:
        call = self.calls.get(e.call_id)
        if call is not None:
            call.status = "closed"
            call.disposition = e.disposition
            call.incident_id = e.incident_id
            call.t_closed = e.t
            if call.seat is None:
                call.seat = e.seat
        where = f" ({e.incident_id})" if e.incident_id else ""
        self._say(e.call_id, e.t, "desk", f"Call closed: {e.disposition}{where}")

    def _call_linked(self, e: ev.CallLinked) -> None:
        inc = self.incidents.get(e.incident_id)
        if inc is not None:
            inc.call_ids.append(e.call_id)

    def _call_truth(self, e: ev.CallTruth) -> None:
        self.truth.call_patient[e.call_id] = e.patient_id
        self.truth.call_reason[e.call_id] = e.reason

    def _patient(self, e: ev.PatientCreated) -> None:
        self.truth.patients[e.patient_id] = e

    def _incident_opened(self, e: ev.IncidentOpened) -> None:
        call = self.calls.get(e.call_id)
        self.incidents[e.incident_id] = IncidentView(
            id=e.incident_id,
            call_ids=[e.call_id],
            category=e.category,
            x=e.x,
            y=e.y,
            area=e.area,
            complaint=e.complaint,
            code=e.code,
            t_open=e.t,
            clock=ResponseClock(
                call_connect=call.t_arrive if call is not None else e.t,
                category_set=self._category_at.get(e.call_id),
            ),
        )

    def _incident_truth(self, e: ev.IncidentTruth) -> None:
        self.truth.incident_patient[e.incident_id] = e.patient_id

    def _incident_queued(self, e: ev.IncidentQueued) -> None:
        inc = self.incidents.get(e.incident_id)
        if inc is None:
            return
        if not inc.queued:
            inc.t_queued = e.t if e.reason == "decision" else min(inc.t_open, e.t)
        inc.queued = True
        inc.needs = e.needs

    def _category_changed(self, e: ev.IncidentCategoryChanged) -> None:
        inc = self.incidents.get(e.incident_id)
        if inc is not None:
            inc.category = e.category

    def _off_hub(self, inc: IncidentView) -> None:
        inc.hub = None
        inc.hub_breach_at = None
        if inc.id in self.hub_stack:
            self.hub_stack.remove(inc.id)

    def _incident_closed(self, e: ev.IncidentClosed) -> None:
        inc = self.incidents.get(e.incident_id)
        if inc is None:
            return
        inc.status = "closed"
        inc.outcome = e.outcome
        inc.t_closed = e.t
        inc.queued = False
        self._off_hub(inc)

    def _hub_queued(self, e: ev.HubQueued) -> None:
        inc = self.incidents.get(e.incident_id)
        if inc is None:
            return
        inc.hub = "waiting"
        inc.hub_breach_at = e.breach_at
        self.hub_stack.append(inc.id)

    def _hub_callback(self, e: ev.HubCallbackStarted) -> None:
        inc = self.incidents.get(e.incident_id)
        if inc is None:
            return
        inc.hub = "callback"
        if inc.id in self.hub_stack:
            self.hub_stack.remove(inc.id)

    def _hub_done(self, e: ev.HubOutcome | ev.HubBreached) -> None:
        inc = self.incidents.get(e.incident_id)
        if inc is not None:
            self._off_hub(inc)

    def _unsafe(self, e: ev.UnsafeAdvice) -> None:
        self.truth.unsafe_advice.append(e)

    def _harm(self, e: ev.HarmOccurred) -> None:
        self.truth.harm.append(e)

    def _vehicle_created(self, e: ev.VehicleCreated) -> None:
        self.vehicles[e.vehicle_id] = VehicleView(
            id=e.vehicle_id,
            callsign=e.callsign,
            type=e.type,
            station=e.station,
            x=e.x,
            y=e.y,
            shift_start_s=e.shift_start_s,
            shift_end_s=e.shift_end_s,
            since=e.t,
        )

    def _vehicle_status(self, e: ev.VehicleStatus) -> None:
        v = self.vehicles.get(e.vehicle_id)
        if v is None:
            return
        v.status = e.status
        v.incident_id = e.incident_id
        v.x, v.y = e.x, e.y
        v.since = e.t

    def _vehicle_assigned(self, e: ev.VehicleAssigned) -> None:
        v = self.vehicles.get(e.vehicle_id)
        if v is not None:
            v.incident_id = e.incident_id
        inc = self.incidents.get(e.incident_id)
        if inc is None:
            return
        inc.dispatched.append(e.vehicle_id)
        inc.clock.assigned(e.t)
        vtype = v.type if v is not None else ""
        if inc.needs == "any" or vtype == inc.needs:
            inc.queued = False
        self._off_hub(inc)

    def _vehicle_moving(self, e: ev.VehicleMoving) -> None:
        v = self.vehicles.get(e.vehicle_id)
        if v is None:
            return
        closed: tuple[int, ...] = ()
        if self.closures:
            closed = tuple(sorted({edge for edges in self.closures.values() for edge in edges}))
        v.drive = Drive(e.from_node, e.to_node, e.depart_t, e.arrive_t, e.blue_light, closed)

    def _stood_down(self, e: ev.VehicleStoodDown) -> None:
        v = self.vehicles.get(e.vehicle_id)
        if v is not None and v.incident_id == e.incident_id:
            v.incident_id = None

    def _vehicle_arrived(self, e: ev.VehicleArrived) -> None:
        inc = self.incidents.get(e.incident_id)
        if inc is None:
            return
        inc.clock.arrived(e.vehicle_id, e.type, e.t)
        if e.role == "backup":
            inc.queued = False

    def _patient_outcome(self, e: ev.PatientOutcome) -> None:
        inc = self.incidents.get(e.incident_id)
        if inc is not None:
            inc.clock.treated(e.vehicle_id, e.outcome)

    def _hospital(self, name: str) -> HospitalView:
        h = self.hospitals.get(name)
        if h is None:
            h = self.hospitals[name] = HospitalView(name)
        return h

    def _handover_started(self, e: ev.HandoverStarted) -> None:
        self._hospital(e.hospital).crews_waiting += 1

    def _handover_completed(self, e: ev.HandoverCompleted) -> None:
        h = self._hospital(e.hospital)
        h.crews_waiting = max(0, h.crews_waiting - 1)
        h.handovers += 1
        h.wait_total_s += e.wait_s

    def _diversion(self, e: ev.HospitalDiversion) -> None:
        self._hospital(e.hospital).diverted = e.diverted

    def _inject(self, e: ev.InjectApplied) -> None:
        self.injects.append(e)

    def _road_closed(self, e: ev.RoadClosed) -> None:
        self.closures[e.closure_id] = tuple(e.edges)

    def _road_reopened(self, e: ev.RoadReopened) -> None:
        self.closures.pop(e.closure_id, None)

    # --- questions the window asks -----------------------------------------------------------

    def dispatch_queue(self) -> list[IncidentView]:
        """Incidents waiting for a vehicle, most urgent first, then oldest (as the engine)."""
        queue = [i for i in self.incidents.values() if i.queued and i.status == "open"]
        queue.sort(key=lambda i: (i.rank, i.t_queued, i.id))
        return queue

    def open_incidents(self) -> list[IncidentView]:
        return [i for i in self.incidents.values() if i.status == "open"]

    def vehicles_on(self, incident_id: str) -> list[VehicleView]:
        return [v for v in self.vehicles.values() if v.incident_id == incident_id]

    def status_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for v in self.vehicles.values():
            counts[v.status] = counts.get(v.status, 0) + 1
        return counts

    def response_clock(self, incident_id: str, regime: Regime) -> tuple[float, bool] | None:
        """(seconds on the response clock, stopped?) at ``self.t``; None for no such incident."""
        inc = self.incidents.get(incident_id)
        if inc is None:
            return None
        times = inc.times()
        start = regime.clock_start(times)
        stop = regime.clock_stop(times)
        if stop is not None:
            return max(0.0, stop - start), True
        return max(0.0, self.t - start), False


_APPLY: dict[type[ev.Event], Callable[[ReplayState, Any], None]] = {
    ev.ShiftStarted: ReplayState._shift_started,
    ev.ShiftEnded: ReplayState._shift_ended,
    ev.CommandRejected: ReplayState._rejected,
    ev.CallArrived: ReplayState._call_arrived,
    ev.CallAnswered: ReplayState._call_answered,
    ev.CallAbandoned: ReplayState._call_abandoned,
    ev.QuestionAsked: ReplayState._question_asked,
    ev.QuestionAnswered: ReplayState._question_answered,
    ev.TriageAssessed: ReplayState._triage,
    ev.CategorySet: ReplayState._category,
    ev.CallClosed: ReplayState._call_closed,
    ev.CallLinked: ReplayState._call_linked,
    ev.CallTruth: ReplayState._call_truth,
    ev.PatientCreated: ReplayState._patient,
    ev.IncidentOpened: ReplayState._incident_opened,
    ev.IncidentTruth: ReplayState._incident_truth,
    ev.IncidentQueued: ReplayState._incident_queued,
    ev.IncidentCategoryChanged: ReplayState._category_changed,
    ev.IncidentClosed: ReplayState._incident_closed,
    ev.HubQueued: ReplayState._hub_queued,
    ev.HubCallbackStarted: ReplayState._hub_callback,
    ev.HubOutcome: ReplayState._hub_done,
    ev.HubBreached: ReplayState._hub_done,
    ev.UnsafeAdvice: ReplayState._unsafe,
    ev.HarmOccurred: ReplayState._harm,
    ev.VehicleCreated: ReplayState._vehicle_created,
    ev.VehicleStatus: ReplayState._vehicle_status,
    ev.VehicleAssigned: ReplayState._vehicle_assigned,
    ev.VehicleMoving: ReplayState._vehicle_moving,
    ev.VehicleStoodDown: ReplayState._stood_down,
    ev.VehicleArrived: ReplayState._vehicle_arrived,
    ev.PatientOutcome: ReplayState._patient_outcome,
    ev.HandoverStarted: ReplayState._handover_started,
    ev.HandoverCompleted: ReplayState._handover_completed,
    ev.HospitalDiversion: ReplayState._diversion,
    ev.InjectApplied: ReplayState._inject,
    ev.RoadClosed: ReplayState._road_closed,
    ev.RoadReopened: ReplayState._road_reopened,
}


def incident_views(events: Iterable[ev.Event]) -> dict[str, IncidentView]:
    """Every incident of a stream, with its final category and clock moments."""
    state = ReplayState()
    state.apply_all(events)
    return state.incidents
