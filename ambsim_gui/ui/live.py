"""The desk's own projection of the event stream: what its panels show beside the room.

One job: ``DeskProjection`` folds the events, hidden ones skipped, into what the panels need
beside the read model (``readmodel.RoomProjection``), worded for the trainee: the transcript
of each of the trainee's calls (the caller's words as they arrive), the protocol's last
recommendation and the handler's category per call, each incident's response-clock moments,
each vehicle's current drive, the trainee's rejected commands, and which boards have changed
since they were last drawn.

It reads nothing but the events (no engine), runs inside the event feed and only appends and
sets flags; the panels read it on their own refresh. It holds no Qt objects, so tests can drive
it without a window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ambsim_gui.labels import done_words
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.regimes import Regime, ResponseClock

TRAINEE = "trainee"

# Which boards an event touches (the desk redraws only those, at the slow rate).
_TOUCHES: dict[type[ev.Event], tuple[str, ...]] = {
    ev.CallArrived: ("calls",),
    ev.CallAnswered: ("calls",),
    ev.CallAbandoned: ("calls",),
    ev.CallOffered: ("calls",),
    ev.CallOfferLapsed: ("calls",),
    ev.CallClosed: ("calls", "incidents"),
    ev.IncidentOpened: ("incidents",),
    ev.IncidentQueued: ("incidents",),
    ev.IncidentClosed: ("incidents", "hub"),
    ev.IncidentCategoryChanged: ("incidents", "hub"),
    ev.CallLinked: ("incidents",),
    ev.VehicleAssigned: ("incidents", "vehicles"),
    ev.VehicleStatus: ("incidents", "vehicles"),
    ev.VehicleStoodDown: ("incidents", "vehicles"),
    ev.VehicleArrived: ("incidents", "vehicles"),
    ev.VehicleMoving: ("vehicles",),
    ev.HubQueued: ("hub", "incidents"),
    ev.HubCallbackStarted: ("hub", "incidents"),
    ev.HubOutcome: ("hub", "incidents"),
    ev.HubBreached: ("hub", "incidents"),
    ev.HandoverStarted: ("hospitals",),
    ev.HandoverCompleted: ("hospitals",),
    ev.HospitalDiversion: ("hospitals",),
}


@dataclass(frozen=True)
class TranscriptLine:
    """One line of a call's transcript: who spoke (caller, you, protocol, desk; hint: the
    scenario's teaching hint for this call) and what."""

    t: float
    who: str
    text: str


@dataclass(frozen=True)
class Rejection:
    t: float
    command: str
    reason: str


@dataclass(frozen=True)
class Drive:
    """A vehicle's current drive (from its last ``VehicleMoving``)."""

    depart_t: float
    arrive_t: float
    blue_light: bool


class DeskProjection:
    """Feed it every event (``ports.subscribe(p.feed)``); panels read its fields.

    ``source`` is not read (callers once passed the engine here); the events are all it needs.
    """

    def __init__(self, source: object, regime: Regime) -> None:
        del source
        self.regime = regime
        self.transcripts: dict[str, list[TranscriptLine]] = {}
        self.triage: dict[str, ev.TriageAssessed] = {}
        self.category_set: dict[str, ev.CategorySet] = {}
        self.clocks: dict[str, ResponseClock] = {}
        self.drives: dict[str, Drive] = {}
        self.due_on_scene: dict[str, float] = {}  # vehicle -> when it should reach its job
        self.rejections: list[Rejection] = []
        self.handovers: dict[str, tuple[int, float]] = {}  # hospital -> (count, total wait s)
        self.trainee_call: str | None = None  # the call on the trainee's line, or the last one
        self.trainee_call_open = False
        self.shift_ended = False
        self.dirty: set[str] = {"calls", "incidents", "vehicles", "hub", "hospitals", "call"}
        self.events_seen = 0
        self._call_arrived: dict[str, float] = {}
        self._openings: dict[str, str] = {}  # ringing calls: what the caller will say first
        self._clock_cache: dict[str, tuple[str, float, float | None]] = {}
        self.on_rejection: Callable[[Rejection], None] | None = None
        self._handlers: dict[type[ev.Event], Callable[[ev.Event], None]] = {
            ev.CallArrived: self._arrived,  # type: ignore[dict-item]
            ev.CallAnswered: self._answered,  # type: ignore[dict-item]
            ev.CallAbandoned: self._abandoned,  # type: ignore[dict-item]
            ev.QuestionAsked: self._asked,  # type: ignore[dict-item]
            ev.CallHint: self._hint,  # type: ignore[dict-item]
            ev.QuestionAnswered: self._answer,  # type: ignore[dict-item]
            ev.TriageAssessed: self._triage,  # type: ignore[dict-item]
            ev.CategorySet: self._category,  # type: ignore[dict-item]
            ev.CallClosed: self._closed,  # type: ignore[dict-item]
            ev.CallLinked: self._linked,  # type: ignore[dict-item]
            ev.IncidentOpened: self._opened,  # type: ignore[dict-item]
            ev.VehicleAssigned: self._assigned,  # type: ignore[dict-item]
            ev.VehicleArrived: self._vehicle_arrived,  # type: ignore[dict-item]
            ev.PatientOutcome: self._outcome,  # type: ignore[dict-item]
            ev.VehicleMoving: self._moving,  # type: ignore[dict-item]
            ev.VehicleStoodDown: self._stood_down,  # type: ignore[dict-item]
            ev.CommandRejected: self._rejected,  # type: ignore[dict-item]
            ev.HandoverCompleted: self._handover,  # type: ignore[dict-item]
            ev.IncidentCategoryChanged: self._recategorised,  # type: ignore[dict-item]
            ev.ShiftEnded: self._ended,  # type: ignore[dict-item]
        }

    # --- feeding ------------------------------------------------------------------------

    def feed(self, event: ev.Event) -> None:
        if event.HIDDEN:
            return  # the live desk never sees the truth
        self.events_seen += 1
        touched = _TOUCHES.get(type(event))
        if touched:
            self.dirty.update(touched)
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def take_dirty(self) -> set[str]:
        """The boards changed since the last call (and forget them)."""
        dirty, self.dirty = self.dirty, set()
        return dirty

    def _say(self, call_id: str, t: float, who: str, text: str) -> None:
        lines = self.transcripts.get(call_id)
        if lines is not None:
            lines.append(TranscriptLine(t, who, text))
            if call_id == self.trainee_call:
                self.dirty.add("call")

    def _mine(self, call_id: str) -> bool:
        return call_id in self.transcripts

    def _arrived(self, e: ev.CallArrived) -> None:
        self._call_arrived[e.call_id] = e.t
        self._openings[e.call_id] = e.opening

    def _abandoned(self, e: ev.CallAbandoned) -> None:
        self._openings.pop(e.call_id, None)

    def _answered(self, e: ev.CallAnswered) -> None:
        opening = self._openings.pop(e.call_id, "")
        if e.seat != TRAINEE:
            return
        self.transcripts[e.call_id] = [TranscriptLine(e.t, "caller", opening)]
        self.trainee_call = e.call_id
        self.trainee_call_open = True
        self.dirty.add("call")

    def _hint(self, e: ev.CallHint) -> None:
        self._say(e.call_id, e.t, "hint", e.text)

    def _asked(self, e: ev.QuestionAsked) -> None:
        self._say(e.call_id, e.t, "you", e.text)

    def _answer(self, e: ev.QuestionAnswered) -> None:
        self._say(e.call_id, e.t, "caller", e.text)

    def _triage(self, e: ev.TriageAssessed) -> None:
        self.triage[e.call_id] = e
        if self._mine(e.call_id):
            if e.category is None:
                text = "not enough information yet"
            else:
                done = "complete" if e.complete else "provisional"
                text = f"recommends {e.category}: {e.code} {e.label} ({done})"
            self._say(e.call_id, e.t, "protocol", text)

    def _category(self, e: ev.CategorySet) -> None:
        self.category_set[e.call_id] = e
        if self._mine(e.call_id):
            if e.override:
                text = f"You set {e.category}: OVERRIDE of the protocol's {e.recommended}"
            elif e.recommended is None:
                text = f"You set {e.category} (no protocol recommendation yet)"
            else:
                text = f"You accepted {e.category}"
            self._say(e.call_id, e.t, "desk", text)

    def _closed(self, e: ev.CallClosed) -> None:
        if self._mine(e.call_id):
            where = f" ({e.incident_id})" if e.incident_id else ""
            self._say(e.call_id, e.t, "desk", f"Call closed: {done_words(e.disposition)}{where}")
            if e.call_id == self.trainee_call:
                self.trainee_call_open = False

    def _linked(self, e: ev.CallLinked) -> None:
        self._say(e.call_id, e.t, "desk", f"Linked to {e.incident_id}")

    def _opened(self, e: ev.IncidentOpened) -> None:
        cat = self.category_set.get(e.call_id)
        self.clocks[e.incident_id] = ResponseClock(
            call_connect=self._call_arrived.get(e.call_id, e.t),
            category_set=cat.t if cat is not None else None,
        )

    def _recategorised(self, e: ev.IncidentCategoryChanged) -> None:
        self._clock_cache.pop(e.incident_id, None)

    def _assigned(self, e: ev.VehicleAssigned) -> None:
        self.due_on_scene[e.vehicle_id] = e.t + e.eta_s
        clock = self.clocks.get(e.incident_id)
        if clock is not None and clock.assigned(e.t):
            self._clock_cache.pop(e.incident_id, None)

    def _vehicle_arrived(self, e: ev.VehicleArrived) -> None:
        self.drives.pop(e.vehicle_id, None)
        self.due_on_scene.pop(e.vehicle_id, None)
        clock = self.clocks.get(e.incident_id)
        if clock is not None and clock.arrived(e.vehicle_id, e.type, e.t):
            self._clock_cache.pop(e.incident_id, None)

    def _outcome(self, e: ev.PatientOutcome) -> None:
        clock = self.clocks.get(e.incident_id)
        if clock is not None and clock.treated(e.vehicle_id, e.outcome):
            self._clock_cache.pop(e.incident_id, None)

    def _moving(self, e: ev.VehicleMoving) -> None:
        self.drives[e.vehicle_id] = Drive(e.depart_t, e.arrive_t, e.blue_light)
        if e.vehicle_id in self.due_on_scene and e.blue_light:
            self.due_on_scene[e.vehicle_id] = e.arrive_t  # re-routed: the drive is the truth

    def _stood_down(self, e: ev.VehicleStoodDown) -> None:
        self.due_on_scene.pop(e.vehicle_id, None)

    def _rejected(self, e: ev.CommandRejected) -> None:
        if e.seat != TRAINEE:
            return
        rejection = Rejection(e.t, e.command, e.reason)
        self.rejections.append(rejection)
        if self.on_rejection is not None:
            self.on_rejection(rejection)

    def _handover(self, e: ev.HandoverCompleted) -> None:
        count, total = self.handovers.get(e.hospital, (0, 0.0))
        self.handovers[e.hospital] = (count + 1, total + e.wait_s)

    def _ended(self, e: ev.ShiftEnded) -> None:
        self.shift_ended = True

    # --- questions the panels ask -------------------------------------------------------

    def response_clock(self, incident_id: str, category: str, now: float) -> tuple[float, bool]:
        """(seconds on the response clock, whether it has stopped) for an open incident.

        The clock's start and stop are cached per incident until an event moves them.
        """
        cached = self._clock_cache.get(incident_id)
        if cached is None or cached[0] != category:
            clock = self.clocks.get(incident_id)
            if clock is None:
                return 0.0, False
            times = clock.times(category)
            cached = (category, self.regime.clock_start(times), self.regime.clock_stop(times))
            self._clock_cache[incident_id] = cached
        _, start, stop = cached
        if stop is not None:
            return max(0.0, stop - start), True
        return max(0.0, now - start), False

    def eta_s(self, vehicle_id: str, status: str, now: float) -> float | None:
        """Seconds until the vehicle reaches its job (mobilising or on its way) or ends its
        current drive (to hospital, home); None when it is not going anywhere."""
        if status in ("mobilising", "to_scene"):
            due = self.due_on_scene.get(vehicle_id)
            return None if due is None else max(0.0, due - now)
        if status not in ("to_hospital", "returning"):
            return None
        drive = self.drives.get(vehicle_id)
        if drive is None or drive.arrive_t < now:
            return None
        return drive.arrive_t - now
