"""The one read model of a shift: a pure fold of the event stream, with no truth in it.

One job: ``RoomProjection.apply(event)`` folds one event into what the control room can know:
calls with what the caller said, the questions asked and answered, the protocol's last
recommendation and the transcript; incidents with their response-clock moments, the vehicles on
them, the dispatch queue and the clinical hub's stack; vehicles with their current drive;
hospitals; seats; the shift's clock. Hidden events (``Event.HIDDEN``) and the assessment's
findings (harm, unsafe advice) are counted and dropped: the trainee's model cannot hold the
patient truth, by construction. ``TruthProjection`` folds exactly those, for the instructor's
replay and the debrief (``record.replay_state.ReplayState`` is the two side by side).

The same code serves the live desk (fed from ``Engine.subscribe``), a desk on another machine
(fed from the recorded or streamed events) and the replay window; fed the same stream they give
equal states. No Qt, and nothing from the engine but the event types, the regime's clocks and
how a caller's first words name a casualty at a scene.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ambsim_gui.sim import events as ev
from ambsim_gui.sim.callers import casualty_named
from ambsim_gui.sim.regimes import IncidentTimes, Regime, ResponseClock

CATEGORY_RANK = {"C1": 1, "C2": 2, "C3": 3, "C4": 4}
FREE_STATUSES = ("available", "returning")
EN_ROUTE_STATUSES = ("mobilising", "to_scene")
TRAINEE = "trainee"


@dataclass(frozen=True)
class TranscriptLine:
    t: float
    who: str  # caller | handler | protocol | desk | hint
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
    casualty: str | None = None  # which person at a scene the caller says they are about
    status: str = "ringing"  # ringing | answered | closed
    seat: str | None = None
    t_answered: float | None = None
    questions: int = 0
    answers: dict[str, str] = field(default_factory=dict)  # question id -> the caller's value
    pending_question: str | None = None  # asked, not yet answered
    recommended: str | None = None  # the protocol's last category
    code: str = ""
    label: str = ""
    validation: bool = False  # the protocol allows the clinical hub
    advice: bool = False  # the protocol allows advice or referral
    complete: bool = False  # the protocol has asked all it needs
    category: str | None = None  # the handler's category
    override: bool = False
    t_category: float | None = None
    disposition: str | None = None
    incident_id: str | None = None
    t_closed: float | None = None
    transcript: list[TranscriptLine] = field(default_factory=list)
    hint: str = ""  # a scripted call's teaching hint, on the line that took it


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
    vehicles: list[str] = field(default_factory=list)  # assigned and not yet released
    hub_bounced: bool = False  # back on the hub's stack from a referral: taken first

    @property
    def on_hub(self) -> bool:
        """On the clinical hub's stack or being called back."""
        return self.hub is not None

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
class SeatView:
    """A call handler's seat: the call on its line, or wrapping up the last one."""

    id: str
    call_id: str | None = None
    wrapping_up: bool = False


@dataclass
class HospitalView:
    name: str
    diverted: bool = False
    crews_waiting: int = 0  # handovers started and not completed
    handovers: int = 0
    wait_total_s: float = 0.0


@dataclass
class RoomProjection:
    """What the control room knows at one moment: a pure fold of the events up to it."""

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
    seats: dict[str, SeatView] = field(default_factory=dict)
    offers: dict[str, tuple[str, float | None]] = field(default_factory=dict)
    """Ringing calls the call distributor keeps for a seat: call -> (seat, until when; None
    for a teaching call held until answered)."""
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
            casualty=casualty_named(e.opening),
            transcript=[TranscriptLine(e.t, "caller", e.opening)] if self.keep_transcripts else [],
        )
        self.ringing.append(e.call_id)

    def _seat(self, seat_id: str) -> SeatView:
        seat = self.seats.get(seat_id)
        if seat is None:
            seat = self.seats[seat_id] = SeatView(seat_id)
        return seat

    def _seat_free(self, e: ev.SeatFree) -> None:
        self._seat(e.seat).wrapping_up = False

    def _call_answered(self, e: ev.CallAnswered) -> None:
        seat = self._seat(e.seat)
        seat.call_id = e.call_id
        seat.wrapping_up = False
        call = self.calls.get(e.call_id)
        if call is not None:
            call.status = "answered"
            call.seat = e.seat
            call.t_answered = e.t
        if e.call_id in self.ringing:
            self.ringing.remove(e.call_id)
        self.offers.pop(e.call_id, None)

    def _call_offered(self, e: ev.CallOffered) -> None:
        self.offers[e.call_id] = (e.seat, e.until_t)

    def _offer_lapsed(self, e: ev.CallOfferLapsed) -> None:
        self.offers.pop(e.call_id, None)

    def _call_hint(self, e: ev.CallHint) -> None:
        call = self.calls.get(e.call_id)
        if call is not None:
            call.hint = e.text
        self._say(e.call_id, e.t, "hint", e.text)

    def _call_abandoned(self, e: ev.CallAbandoned) -> None:
        self.offers.pop(e.call_id, None)
        if e.call_id in self.ringing:
            self.ringing.remove(e.call_id)
        self._say(e.call_id, e.t, "desk", "The caller hung up")

    def _question_asked(self, e: ev.QuestionAsked) -> None:
        call = self.calls.get(e.call_id)
        if call is not None:
            call.questions += 1
            call.pending_question = e.question_id
        self._say(e.call_id, e.t, "handler", e.text)

    def _question_answered(self, e: ev.QuestionAnswered) -> None:
        call = self.calls.get(e.call_id)
        if call is not None:
            call.pending_question = None
            call.answers[e.question_id] = e.value
        self._say(e.call_id, e.t, "caller", e.text)

    def _triage(self, e: ev.TriageAssessed) -> None:
        call = self.calls.get(e.call_id)
        if call is None:
            return
        call.recommended = e.category
        call.code = e.code
        call.label = e.label
        call.validation = e.validation
        call.advice = e.advice
        call.complete = e.complete
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
            call.pending_question = None
            if call.seat is None:
                call.seat = e.seat
        seat = self.seats.get(e.seat) if e.seat is not None else None
        if seat is not None and seat.call_id == e.call_id:
            seat.call_id = None
            seat.wrapping_up = True
        where = f" ({e.incident_id})" if e.incident_id else ""
        self._say(e.call_id, e.t, "desk", f"Call closed: {e.disposition}{where}")

    def _call_linked(self, e: ev.CallLinked) -> None:
        inc = self.incidents.get(e.incident_id)
        if inc is not None:
            inc.call_ids.append(e.call_id)

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
        if e.reason == "bounced":
            inc.hub_bounced = True
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
        if v.incident_id != e.incident_id:
            self._detach(v)
        v.incident_id = e.incident_id
        v.x, v.y = e.x, e.y
        v.since = e.t

    def _detach(self, v: VehicleView) -> None:
        """The vehicle leaves its incident (released, done, or sent elsewhere)."""
        old = self.incidents.get(v.incident_id or "")
        if old is not None and v.id in old.vehicles:
            old.vehicles.remove(v.id)

    def _vehicle_assigned(self, e: ev.VehicleAssigned) -> None:
        v = self.vehicles.get(e.vehicle_id)
        if v is not None:
            if v.incident_id != e.incident_id:
                self._detach(v)
            v.incident_id = e.incident_id
        inc = self.incidents.get(e.incident_id)
        if inc is None:
            return
        inc.dispatched.append(e.vehicle_id)
        if e.vehicle_id not in inc.vehicles:
            inc.vehicles.append(e.vehicle_id)
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
        inc = self.incidents.get(e.incident_id)
        if inc is not None and e.vehicle_id in inc.vehicles:
            inc.vehicles.remove(e.vehicle_id)
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

    def hub_waiting(self) -> list[tuple[IncidentView, float]]:
        """The hub's stack in the order clinicians take it (bounced calls first, then the
        earliest breach), with each call's breach time."""
        stack = [self.incidents[i] for i in self.hub_stack if i in self.incidents]
        stack.sort(
            key=lambda i: (not i.hub_bounced, i.hub_breach_at or 0.0, i.rank, i.id)
        )
        return [(i, i.hub_breach_at or 0.0) for i in stack]

    def free_vehicles(self, now: float) -> list[VehicleView]:
        """Vehicles on duty and available or returning, by id (those a dispatch may take)."""
        free = [v for v in self.vehicles.values() if self.is_free(v, now)]
        free.sort(key=lambda v: v.id)
        return free

    @staticmethod
    def is_free(v: VehicleView, now: float) -> bool:
        if v.status == "available":
            return True
        return v.status == "returning" and v.shift_start_s <= now < v.shift_end_s

    def call_on(self, seat_id: str) -> CallView | None:
        """The call on a seat's line now, if any."""
        seat = self.seats.get(seat_id)
        if seat is None or seat.call_id is None:
            return None
        return self.calls.get(seat.call_id)

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


_APPLY: dict[type[ev.Event], Callable[[RoomProjection, Any], None]] = {
    ev.ShiftStarted: RoomProjection._shift_started,
    ev.ShiftEnded: RoomProjection._shift_ended,
    ev.CommandRejected: RoomProjection._rejected,
    ev.SeatFree: RoomProjection._seat_free,
    ev.CallArrived: RoomProjection._call_arrived,
    ev.CallAnswered: RoomProjection._call_answered,
    ev.CallAbandoned: RoomProjection._call_abandoned,
    ev.CallOffered: RoomProjection._call_offered,
    ev.CallOfferLapsed: RoomProjection._offer_lapsed,
    ev.CallHint: RoomProjection._call_hint,
    ev.QuestionAsked: RoomProjection._question_asked,
    ev.QuestionAnswered: RoomProjection._question_answered,
    ev.TriageAssessed: RoomProjection._triage,
    ev.CategorySet: RoomProjection._category,
    ev.CallClosed: RoomProjection._call_closed,
    ev.CallLinked: RoomProjection._call_linked,
    ev.IncidentOpened: RoomProjection._incident_opened,
    ev.IncidentQueued: RoomProjection._incident_queued,
    ev.IncidentCategoryChanged: RoomProjection._category_changed,
    ev.IncidentClosed: RoomProjection._incident_closed,
    ev.HubQueued: RoomProjection._hub_queued,
    ev.HubCallbackStarted: RoomProjection._hub_callback,
    ev.HubOutcome: RoomProjection._hub_done,
    ev.HubBreached: RoomProjection._hub_done,
    ev.VehicleCreated: RoomProjection._vehicle_created,
    ev.VehicleStatus: RoomProjection._vehicle_status,
    ev.VehicleAssigned: RoomProjection._vehicle_assigned,
    ev.VehicleMoving: RoomProjection._vehicle_moving,
    ev.VehicleStoodDown: RoomProjection._stood_down,
    ev.VehicleArrived: RoomProjection._vehicle_arrived,
    ev.PatientOutcome: RoomProjection._patient_outcome,
    ev.HandoverStarted: RoomProjection._handover_started,
    ev.HandoverCompleted: RoomProjection._handover_completed,
    ev.HospitalDiversion: RoomProjection._diversion,
    ev.InjectApplied: RoomProjection._inject,
    ev.RoadClosed: RoomProjection._road_closed,
    ev.RoadReopened: RoomProjection._road_reopened,
}


def incident_views(events: Iterable[ev.Event]) -> dict[str, IncidentView]:
    """Every incident of a stream, with its final category and clock moments."""
    state = RoomProjection()
    state.apply_all(events)
    return state.incidents
