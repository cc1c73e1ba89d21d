"""Projections for the replay window: the room's state at any moment, and the shift's markers.

Everything here is a pure function of the event stream, so the same code serves a live engine
(``engine.subscribe(state.apply)``) and a recording (``state.apply`` over its events), and the
two give equal states. No Qt.

``ReplayState.apply(event)`` folds one event into what the room could see (calls with their
transcripts, incidents with their response-clock moments, the dispatch queue, the clinical hub's
stack, vehicles with their current drive, hospitals) and, kept apart in ``truth``, what it could
not (each patient's true category and need, which patient a call or incident is about, harm,
unsafe advice) for the instructor's truth overlay.

``SnapshotIndex`` is the time machine (as in FueSim MANV): a pickled copy of the state and of
the shift's running metrics every ``interval_s`` of simulated time, so ``state_at(t)`` restores
the nearest snapshot before ``t`` and re-applies the few events after it.

``build_markers`` lists the moments worth a debrief: calls, decisions, dispatches, response
standards breached, unsafe advice, duplicate, stood-down and avoidable dispatches (classified
exactly as ``ShiftMetrics`` counts them), harm, injects and rejected commands.

Vehicle positions are not events: ``RouteCache.position`` interpolates along the route of the
vehicle's last ``VehicleMoving``, re-routed with the world's router (blue-light or normal, with
the road closures in force when the drive started).
"""

from __future__ import annotations

import bisect
import gc
import pickle
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ambsim_gui.assess.metrics import MetricsReport, ShiftMetrics
from ambsim_gui.scenario.model import UnitCosts
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.regimes import IncidentTimes, Regime, ResponseClock, Standard

if TYPE_CHECKING:
    from ambsim_gui.geo.routing import Route
    from ambsim_gui.record.reader import SessionFile
    from ambsim_gui.record.replay import Rebuilt
    from ambsim_gui.sim.world import World

CATEGORY_RANK = {"C1": 1, "C2": 2, "C3": 3, "C4": 4}
TRAINEE = "trainee"


# --- the room as it could be seen ---------------------------------------------------------------


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


# --- vehicle positions ---------------------------------------------------------------------------


class RouteCache:
    """Routes of drives, re-computed with the world's routers and kept (least recently used)."""

    def __init__(self, world: World, size: int = 4096) -> None:
        self.world = world
        self.size = size
        self._routes: OrderedDict[tuple[int, int, bool, tuple[int, ...]], Route | None] = (
            OrderedDict()
        )
        self._routers: dict[tuple[bool, tuple[int, ...]], Any] = {}

    def _router(self, blue: bool, closures: tuple[int, ...]) -> Any:
        key = (blue, closures)
        router = self._routers.get(key)
        if router is None:
            base = self.world.router if blue else self.world.router_normal
            router = base.with_closures(list(closures)) if closures else base
            self._routers[key] = router
        return router

    def route(self, drive: Drive) -> Route | None:
        key = (drive.from_node, drive.to_node, drive.blue_light, drive.closures)
        if key in self._routes:
            self._routes.move_to_end(key)
            return self._routes[key]
        try:
            route: Route | None = self._router(drive.blue_light, drive.closures).route(
                drive.from_node, drive.to_node
            )
        except Exception:  # noqa: BLE001 - no route today: the view shows the ends
            route = None
        self._routes[key] = route
        if len(self._routes) > self.size:
            self._routes.popitem(last=False)
        return route

    def position(self, vehicle: VehicleView, t: float) -> tuple[float, float]:
        """Where ``vehicle`` is at ``t`` (interpolated along its drive)."""
        drive = vehicle.drive
        if drive is None or (t >= drive.arrive_t and vehicle.since >= drive.arrive_t):
            return vehicle.x, vehicle.y  # not driving: where its last status change was
        route = self.route(drive)
        if route is None:
            return vehicle.x, vehicle.y
        return route.position_at(max(0.0, t - drive.depart_t))


# --- response clocks and markers -----------------------------------------------------------------


def breach_limit(standard: Standard) -> tuple[float, str] | None:
    """The response time one incident may take under a standard, and which figure that is:
    the 90th centile where there is one (ARP), else the 'within' time (Category A/B)."""
    if standard.p90_s is not None:
        return standard.p90_s, "90th centile standard"
    if standard.within_s is not None:
        return standard.within_s, "standard time"
    if standard.mean_s is not None:
        return standard.mean_s, "mean standard"
    return None


@dataclass(frozen=True)
class Marker:
    """A moment worth a debrief, for the replay window's timeline and the report."""

    t: float
    kind: str  # see MARKER_KINDS
    label: str
    call_id: str | None = None
    incident_id: str | None = None
    vehicle_id: str | None = None
    patient_id: str | None = None
    seat: str | None = None
    severity: int = 0  # 0 information, 1 notable, 2 a problem
    hidden: bool = False  # known only with the truth (overlay on)


MARKER_KINDS = (
    "call",
    "decision",
    "dispatch",
    "breach",
    "unsafe_advice",
    "duplicate_dispatch",
    "stood_down",
    "avoidable_dispatch",
    "harm",
    "inject",
    "rejected",
)


@dataclass
class DispatchFates:
    """Each dispatch classified once by its fate, with ShiftMetrics' rules."""

    duplicate: list[Marker] = field(default_factory=list)
    stood_down: list[Marker] = field(default_factory=list)
    avoidable: list[Marker] = field(default_factory=list)


def incident_views(events: Iterable[ev.Event]) -> dict[str, IncidentView]:
    """Every incident of a stream, with its final category and clock moments."""
    state = ReplayState()
    state.apply_all(events)
    return state.incidents


def build_markers(events: Sequence[ev.Event], regime: Regime) -> list[Marker]:
    """The shift's markers in time order (see the module docstring)."""
    out: list[Marker] = []
    need: dict[str, str] = {}
    incident_patient: dict[str, str] = {}
    open_dispatch: dict[tuple[str, str], float] = {}
    end_t = events[-1].t if events else 0.0
    state = ReplayState()
    for e in events:
        state.apply(e)
        if isinstance(e, ev.CallArrived):
            out.append(Marker(e.t, "call", f"{e.call_id} rings ({e.area})", call_id=e.call_id))
        elif isinstance(e, ev.CallClosed):
            call = state.calls.get(e.call_id)
            category = f" {call.category}" if call is not None and call.category else ""
            where = f" -> {e.incident_id}" if e.incident_id else ""
            out.append(
                Marker(
                    e.t,
                    "decision",
                    f"{e.call_id}{category}: {e.disposition}{where}",
                    call_id=e.call_id,
                    incident_id=e.incident_id,
                    seat=e.seat,
                    severity=1 if e.disposition == "abandoned" else 0,
                )
            )
        elif isinstance(e, ev.VehicleAssigned):
            v = state.vehicles.get(e.vehicle_id)
            name = v.callsign if v is not None else e.vehicle_id
            diverted = f" (diverted from {e.diverted_from})" if e.diverted_from else ""
            out.append(
                Marker(
                    e.t,
                    "dispatch",
                    f"{name} to {e.incident_id}, ETA {e.eta_s / 60:.0f} min{diverted}",
                    incident_id=e.incident_id,
                    vehicle_id=e.vehicle_id,
                    seat=e.seat,
                )
            )
            if e.diverted_from is not None:
                open_dispatch.pop((e.vehicle_id, e.diverted_from), None)
            open_dispatch[(e.vehicle_id, e.incident_id)] = e.t
        elif isinstance(e, ev.VehicleStoodDown):
            sent = open_dispatch.pop((e.vehicle_id, e.incident_id), None)
            if sent is not None and e.reason in ("stand_down", "incident_closed"):
                kind = "stood_down" if e.reason == "stand_down" else "duplicate_dispatch"
                what = "stood down" if e.reason == "stand_down" else "not needed: job closed"
                out.append(
                    Marker(
                        e.t,
                        kind,
                        f"{_callsign(state, e.vehicle_id)} to {e.incident_id} {what}",
                        incident_id=e.incident_id,
                        vehicle_id=e.vehicle_id,
                        severity=1,
                    )
                )
        elif isinstance(e, ev.VehicleArrived):
            sent = open_dispatch.pop((e.vehicle_id, e.incident_id), None)
            if sent is None:
                continue
            if e.role == "surplus":
                out.append(
                    Marker(
                        e.t,
                        "duplicate_dispatch",
                        f"{_callsign(state, e.vehicle_id)} at {e.incident_id}: "
                        "a crew was already there",
                        incident_id=e.incident_id,
                        vehicle_id=e.vehicle_id,
                        severity=1,
                    )
                )
            elif e.role == "first":
                patient = incident_patient.get(e.incident_id)
                if patient is not None and need.get(patient) == "hear_and_treat":
                    out.append(
                        Marker(
                            e.t,
                            "avoidable_dispatch",
                            f"{_callsign(state, e.vehicle_id)} at {e.incident_id}: "
                            "the patient needed only advice",
                            incident_id=e.incident_id,
                            vehicle_id=e.vehicle_id,
                            patient_id=patient,
                            severity=1,
                            hidden=True,
                        )
                    )
        elif isinstance(e, ev.PatientCreated):
            need[e.patient_id] = e.need
        elif isinstance(e, ev.IncidentTruth):
            incident_patient[e.incident_id] = e.patient_id
        elif isinstance(e, ev.UnsafeAdvice):
            out.append(
                Marker(
                    e.t,
                    "unsafe_advice",
                    f"{e.incident_id}: advice to a patient who needed {e.need} (by {e.by})",
                    incident_id=e.incident_id,
                    patient_id=e.patient_id,
                    seat=e.by,
                    severity=2,
                    hidden=True,
                )
            )
        elif isinstance(e, ev.HarmOccurred):
            out.append(
                Marker(
                    e.t,
                    "harm",
                    f"{e.patient_id} ({e.true_category}) harmed: waited {e.waited_s / 60:.0f} min",
                    patient_id=e.patient_id,
                    severity=2,
                    hidden=True,
                )
            )
        elif isinstance(e, ev.InjectApplied):
            out.append(Marker(e.t, "inject", e.summary, severity=1))
        elif isinstance(e, ev.CommandRejected) and e.seat == TRAINEE:
            out.append(
                Marker(e.t, "rejected", f"{e.command} refused: {e.reason}", seat=e.seat, severity=1)
            )
    out += _breaches(state.incidents.values(), regime, end_t)
    out.sort(key=lambda m: m.t)
    return out


def _callsign(state: ReplayState, vehicle_id: str) -> str:
    v = state.vehicles.get(vehicle_id)
    return v.callsign if v is not None else vehicle_id


def _breaches(incidents: Iterable[IncidentView], regime: Regime, end_t: float) -> list[Marker]:
    out = []
    for inc in incidents:
        if inc.category not in CATEGORY_RANK:
            continue
        limit = breach_limit(regime.standard_for(inc.category))
        if limit is None:
            continue
        seconds, what = limit
        times = inc.times()
        start = regime.clock_start(times)
        stop = regime.clock_stop(times)
        due = start + seconds
        if (stop is None and due <= end_t) or (stop is not None and stop - start > seconds):
            if stop is None:
                late = "no response by the end of the recording"
            else:
                whole = round(stop - start)
                late = f"the response took {whole // 60}:{whole % 60:02d}"
            out.append(
                Marker(
                    due,
                    "breach",
                    f"{inc.id} {inc.category}: {seconds / 60:.0f} min {what} passed; {late}",
                    incident_id=inc.id,
                    call_id=inc.call_ids[0] if inc.call_ids else None,
                    severity=2,
                )
            )
    return out


def response_times(
    incidents: Iterable[IncidentView], regime: Regime
) -> list[tuple[str, float, float, str]]:
    """(incident, clock stop time, response seconds, category) of every responded incident."""
    out = []
    for inc in incidents:
        times = inc.times()
        stop = regime.clock_stop(times)
        if stop is None or inc.category not in CATEGORY_RANK:
            continue
        out.append((inc.id, stop, max(0.0, stop - regime.clock_start(times)), inc.category))
    out.sort(key=lambda r: (r[1], r[0]))
    return out


# --- the time machine ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayFrame:
    """The room and the shift's figures at one moment."""

    t: float
    state: ReplayState
    metrics: MetricsReport


@dataclass(frozen=True)
class _Snapshot:
    t: float
    index: int  # events[:index] are applied
    blob: bytes


class SnapshotIndex:
    """Snapshots of (ReplayState, ShiftMetrics) every ``interval_s``; ``state_at`` seeks.

    States here keep no transcripts (``keep_transcripts=False``): ``transcript(call, t)``
    folds one call's events on demand. ``interval_s`` None picks 10 minutes, or 1/48 of a
    longer recording (48 snapshots): a 12-hour session seeks in a few hundred milliseconds
    and holds a few tens of megabytes.
    """

    def __init__(
        self,
        events: Sequence[ev.Event],
        regime: Regime,
        costs: UnitCosts,
        *,
        interval_s: float | None = None,
    ) -> None:
        self.events = events
        self.regime = regime
        self.costs = costs
        self.times = [e.t for e in events]
        end = self.times[-1] if self.times else 0.0
        self.interval_s = float(interval_s) if interval_s else max(600.0, end / 48.0)
        self.snapshots: list[_Snapshot] = []
        self._call_events: dict[str, list[int]] = {}
        state = ReplayState(keep_transcripts=False)
        metrics = ShiftMetrics(regime, costs)
        self.snapshots.append(_Snapshot(0.0, 0, self._dump(state, metrics)))
        next_t = self.interval_s
        call_events = self._call_events
        for i, event in enumerate(events):
            while event.t > next_t:
                # every event at or before next_t is applied: the snapshot is "as at next_t"
                self.snapshots.append(_Snapshot(next_t, i, self._dump(state, metrics)))
                next_t += self.interval_s
            state.apply(event)
            metrics.feed(event)
            call_id = event.__dict__.get("call_id")
            if call_id is not None:
                call_events.setdefault(call_id, []).append(i)
        self._snapshot_times = [snap.t for snap in self.snapshots]

    @classmethod
    def from_session(
        cls,
        session: SessionFile,
        rebuilt: Rebuilt | None = None,
        *,
        interval_s: float | None = None,
    ) -> SnapshotIndex:
        from ambsim_gui.sim.regimes import REGIMES

        regime = rebuilt.regime if rebuilt is not None else REGIMES[session.info.regime]
        if rebuilt is not None:
            costs = rebuilt.scenario.costs
        else:
            costs = _costs_of(session)
        return cls(session.events(), regime, costs, interval_s=interval_s)

    @staticmethod
    def _dump(state: ReplayState, metrics: ShiftMetrics) -> bytes:
        return pickle.dumps((state, metrics), protocol=pickle.HIGHEST_PROTOCOL)

    @property
    def end_t(self) -> float:
        return self.times[-1] if self.times else 0.0

    def memory_bytes(self) -> int:
        return sum(len(s.blob) for s in self.snapshots)

    def restore(self, t: float) -> tuple[ReplayState, ShiftMetrics, int]:
        """A fresh (state, metrics, next event index) as at ``t``: nearest snapshot + events."""
        k = bisect.bisect_right(self._snapshot_times, t) - 1
        snap = self.snapshots[max(0, k)]
        collecting = gc.isenabled()
        gc.disable()  # tens of thousands of new objects: no collector passes over them
        try:
            state, metrics = pickle.loads(snap.blob)
        finally:
            if collecting:
                gc.enable()
        stop = bisect.bisect_right(self.times, t)
        events = self.events
        for i in range(snap.index, stop):
            state.apply(events[i])
            metrics.feed(events[i])
        state.t = max(state.t, t)
        return state, metrics, max(stop, snap.index)

    def state_at(self, t: float) -> ReplayFrame:
        """The room and the figures as they were at ``t`` (every event at or before ``t``)."""
        state, metrics, _ = self.restore(t)
        return ReplayFrame(t, state, metrics.snapshot(t))

    def transcript(self, call_id: str, t: float | None = None) -> list[TranscriptLine]:
        """What was said on a call up to ``t`` (default: all of it)."""
        indices = self._call_events.get(call_id, [])
        if t is not None:
            indices = indices[: bisect.bisect_right([self.times[i] for i in indices], t)]
        fold = ReplayState()
        for i in indices:
            fold.apply(self.events[i])
        call = fold.calls.get(call_id)
        return list(call.transcript) if call is not None else []

    def cursor(self, t: float = 0.0) -> ReplayCursor:
        """A cursor at ``t`` that plays forward cheaply (``advance``) and seeks (``seek``)."""
        return ReplayCursor(self, t)


class ReplayCursor:
    """Play a recording forward event by event; a seek back restores a snapshot."""

    def __init__(self, index: SnapshotIndex, t: float = 0.0) -> None:
        self.index = index
        self.seek(t)

    def seek(self, t: float) -> None:
        self.state, self.metrics, self.next = self.index.restore(t)
        self.t = t

    def advance(self, t: float) -> list[ev.Event]:
        """Move to ``t`` (forward: apply the events on the way; back: seek). Returns the
        events applied, for views that animate them."""
        if t < self.t:
            self.seek(t)
            return []
        index = self.index
        stop = bisect.bisect_right(index.times, t)
        applied = list(index.events[self.next : stop])
        for event in applied:
            self.state.apply(event)
            self.metrics.feed(event)
        self.next = max(self.next, stop)
        self.t = t
        self.state.t = max(self.state.t, t)
        return applied

    def report(self) -> MetricsReport:
        return self.metrics.snapshot(self.t)


def _costs_of(session: SessionFile) -> UnitCosts:
    """The scenario's unit costs, read from the stored text without building the world."""
    import tempfile
    from pathlib import Path

    from ambsim_gui.scenario.loader import load_yaml, validate_data

    with tempfile.TemporaryDirectory(prefix="ambsim-costs-") as tmp:
        path = Path(tmp) / "scenario.yaml"
        path.write_text(session.scenario_text(), encoding="utf-8")
        return validate_data(load_yaml(path), path).costs
