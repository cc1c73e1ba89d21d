"""The simulation engine: a simpy world with one door for commands and one stream of events.

``Engine`` owns the simpy ``Environment`` and the shift's state. Commands from the desk,
instructor injects and replayed logs come in through ``submit``; built-in policies playing seats
of the room are asked to ``act`` after each simulation step and their commands are applied
by the same handlers. Everything that changes is emitted as a typed event (``events.py``), in order.

The door is total: whatever ``submit`` is given (a command with a field of the wrong type, an
inject holding a value no session can store, something that is not a command at all) ends in
an accepted command or a ``CommandRejected`` event that says what was wrong, never in an
exception, and the command log (what a session records) only ever holds plain data; see
``commands.check``. The built-in policies' commands are the engine's own (``_drain``) and skip
that check, which costs about a microsecond a command.

Determinism: the same world, seed and timed external commands give the same event stream. The
engine never reads the wall clock, never iterates over sets, and draws every random number
from a per-source stream (``rng.py``). External commands must be submitted after
``run_until(t)`` at the time they were given, which is exactly what the desk and the replay do.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim import rng as R
from ambsim_gui.sim.callers import Callers
from ambsim_gui.sim.fleet import Fleet
from ambsim_gui.sim.hub import ClinicalHub
from ambsim_gui.sim.injects import Injects
from ambsim_gui.sim.longrun import fewer_collections
from ambsim_gui.sim.state import CATEGORY_RANK, Call, HospitalState, Incident, Seat, Vehicle
from ambsim_gui.sim.world import World

if TYPE_CHECKING:
    from ambsim_gui.sim.policies import Policy

Listener = Callable[[ev.Event], None]


class Engine:
    """One shift: build it from a ``World``, then ``run_until`` and ``submit``."""

    def __init__(
        self,
        world: World,
        *,
        seed: int | None = None,
        policy: str | None = "expert",
        trainee_policy: str | None = None,
        duration_s: float | None = None,
        role: str | None = None,
    ) -> None:
        """``policy`` plays the virtual colleagues; ``trainee_policy`` the trainee's seat
        (None: the trainee's commands come from outside, through ``submit``). ``role``
        overrides the scenario's trainee role: call_handler, dispatcher or both."""
        from ambsim_gui.sim.policies import make_policy

        self.world = world
        self.scenario = world.scenario
        self.seed = int(self.scenario.seed if seed is None else seed)
        # A float clock from the start, so every event time is a float without converting.
        self.env = simpy.Environment(initial_time=0.0)
        self.streams = R.RandomStreams(self.seed)
        self.events: list[ev.Event] = []
        self.command_log: list[cmd.TimedCommand] = []
        self.listeners: list[Listener] = []
        # Called with each external command's TimedCommand as soon as it is logged, before it
        # is applied (a session recorder writes it at once); see ``submit``.
        self.on_command: list[Callable[[cmd.TimedCommand], None]] = []
        self.end_s = self.scenario.duration_s
        if duration_s is not None:
            self.end_s = min(self.end_s, float(duration_s))

        self.calls: dict[str, Call] = {}
        self.incidents: dict[str, Incident] = {}
        self._open: dict[str, Incident] = {}  # open incidents in opening order
        self._queued: dict[str, Incident] = {}  # open incidents waiting for a vehicle
        self._open_by_complaint: dict[str, dict[str, Incident]] = {}  # in opening order
        self.ringing: list[str] = []  # call ids in arrival order
        self.seats: dict[str, Seat] = {}
        self.vehicles: dict[str, Vehicle] = {}
        self.free: dict[str, Vehicle] = {}  # on duty and available or returning, kept by Fleet
        self.hospitals: dict[str, HospitalState] = {}
        self._n_incidents = 0
        self.rejections = 0
        self._ended = False

        self.role = role or self.scenario.control_room.trainee_role
        if self.role not in ("call_handler", "dispatcher", "both"):
            raise ValueError(f"unknown trainee role {self.role!r}")
        self._build_seats()
        self.sectors = self._dispatch_sectors()
        for spec in world.vehicles:
            self.vehicles[spec.vehicle_id] = Vehicle(
                id=spec.vehicle_id,
                callsign=spec.callsign,
                type=spec.type,
                station=spec.station,
                home_node=spec.home_node,
                duty=spec.duty,
                node=spec.home_node,
            )
        for h in self.scenario.hospitals:
            site = world.hospitals[h.name]
            self.hospitals[h.name] = HospitalState(
                h.name, h.kind, site.node, site.x, site.y, h.handover, diverted=h.diverted
            )

        # Routers of this shift's own (the world's roads and pinned trees, empty caches): which
        # cached tree answers a query, and so which of two equally fast routes is driven,
        # depends on earlier queries, and those of another shift on the same world must not
        # count. A road closure swaps them for this shift only.
        self.base_router = world.router.for_run()
        self.base_router_normal = world.router_normal.for_run()
        self.router = self.base_router
        self.router_normal = self.base_router_normal
        self.callers = Callers(self)
        self.fleet = Fleet(self)
        self.hub = ClinicalHub(self)
        self.injects = Injects(self)

        self.policies: list[Policy] = []
        trainee_seats = [s for s in self.seats if s == "trainee"]
        colleague_seats = [s for s in self.seats if s != "trainee"]
        if trainee_policy is not None and trainee_seats:
            if policy == trainee_policy:
                colleague_seats = colleague_seats + trainee_seats
            else:
                self.policies.append(make_policy(trainee_policy, self, trainee_seats))
        if policy is not None and colleague_seats:
            self.policies.insert(0, make_policy(policy, self, colleague_seats))
        self._policy_wants: list[bool] = [False] * len(self.policies)
        self.virtual_seats = {seat for p in self.policies for seat in p.seats}
        self._pending: deque[cmd.Command] = deque()
        self._drain_scheduled = False
        self._draining = False

        self.emit(
            ev.ShiftStarted(
                t=0.0,
                scenario=world.name,
                seed=self.seed,
                start_clock=self.scenario.start,
                duration_s=self.end_s,
                regime=self.scenario.regime,
            )
        )
        for name, hosp in self.hospitals.items():
            if hosp.diverted:
                self.emit(ev.HospitalDiversion(t=0.0, hospital=name, diverted=True))
        self.fleet.start()
        self.callers.start()
        self.hub.start()
        self.injects.start()
        self.env.process(self._end_of_shift())

    # --- seats ---------------------------------------------------------------------------

    def _build_seats(self) -> None:
        room = self.scenario.control_room
        role = self.role
        handlers = room.call_handlers
        dispatchers = room.dispatchers
        trainee_handles = role in ("call_handler", "both")
        trainee_dispatches = role in ("dispatcher", "both")
        self.seats["trainee"] = Seat(
            "trainee", handler=trainee_handles, dispatcher=trainee_dispatches
        )
        for i in range(1, handlers - int(trainee_handles) + 1):
            self.seats[f"CH{i}"] = Seat(f"CH{i}", handler=True, dispatcher=False)
        for i in range(1, dispatchers - int(trainee_dispatches) + 1):
            self.seats[f"D{i}"] = Seat(f"D{i}", handler=False, dispatcher=True)

    def _dispatch_sectors(self) -> dict[str, str]:
        """Area name -> the dispatcher seat that covers it.

        A control room splits its patch between dispatchers; areas go, busiest first, to the
        seat with the least demand so far. So a trainee who dispatches has a sector of their
        own that virtual colleagues leave alone, and its incidents wait if the trainee does.
        """
        seats = [s.id for s in self.seats.values() if s.dispatcher]
        load = dict.fromkeys(seats, 0.0)
        sectors: dict[str, str] = {}
        order = sorted(
            range(len(self.world.area_names)),
            key=lambda i: (-float(self.world.area_weights[i]), self.world.area_names[i]),
        )
        for i in order:
            seat = min(seats, key=lambda s: (load[s], seats.index(s)))
            sectors[self.world.area_names[i]] = seat
            load[seat] += float(self.world.area_weights[i])
        return sectors

    def dispatcher_for(self, incident: Incident) -> str:
        """The seat whose sector the incident is in (the first dispatcher if off the map)."""
        seat = self.sectors.get(incident.area)
        if seat is None:
            seat = next(s.id for s in self.seats.values() if s.dispatcher)
        return seat

    # --- time ----------------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.env.now  # type: ignore[no-any-return]

    @property
    def finished(self) -> bool:
        return self._ended

    def run_until(self, t: float) -> None:
        """Advance the simulation to time ``t`` (capped at the shift's end)."""
        target = min(float(t), self.end_s)
        if target > self.env.now:
            self.env.run(until=target)
        if target >= self.end_s and not self._ended:
            self.env.run(until=self.end_s + 1e-9)

    def run(self, progress: Callable[[float], None] | None = None, step_s: float = 3600.0) -> None:
        """Run to the end of the shift (headless)."""
        t = self.now
        with fewer_collections():
            while not self._ended:
                t = min(t + step_s, self.end_s)
                self.run_until(t)
                if progress is not None:
                    progress(self.now / self.end_s)

    def _end_of_shift(self) -> Any:
        yield self.env.timeout(self.end_s)
        self._ended = True
        self.emit(ev.ShiftEnded(t=self.now))

    # --- events --------------------------------------------------------------------------

    def emit(self, event: ev.Event) -> None:
        self.events.append(event)
        for listener in self.listeners:
            listener(event)
        wants = self._policy_wants
        for i, policy in enumerate(self.policies):
            # Already wanting: a drain is scheduled or running and will come to it.
            if policy.observe(event) and not wants[i]:
                wants[i] = True
                self._schedule_drain()

    def subscribe(self, listener: Listener, replay: bool = True) -> None:
        """Feed ``listener`` every future event (and, with ``replay``, all past ones first)."""
        if replay:
            for event in self.events:
                listener(event)
        self.listeners.append(listener)

    def after(self, delay: float, action: Callable[..., None], *args: Any) -> None:
        """Run ``action(*args)`` ``delay`` seconds from now. A single wait needs no simpy
        process: a timed callback costs a third as much, and the engine waits tens of
        thousands of times a day (every caller's answer, patience and redial)."""
        self.env.timeout(delay).callbacks.append(lambda _event: action(*args))

    def _schedule_drain(self) -> None:
        if self._drain_scheduled or self._draining:
            return
        self._drain_scheduled = True
        # A zero-delay event runs after the current process step, so policies act on a
        # consistent state, at the same simulation time, in a deterministic order.
        self.env.timeout(0).callbacks.append(self._drain)

    def _drain(self, _event: Any = None) -> None:
        self._drain_scheduled = False
        self._draining = True
        pending, wants = self._pending, self._policy_wants
        try:
            for _ in range(10_000):
                if pending:
                    self._apply(pending.popleft())
                    continue
                if True not in wants:
                    break
                i = wants.index(True)  # the first policy that wants to act
                wants[i] = False
                pending.extend(self.policies[i].act())
        finally:
            self._draining = False
        if any(wants):
            self._schedule_drain()  # cut off by the step limit: carry on in a new step

    # --- the command door ----------------------------------------------------------------

    def submit(self, command: cmd.Command | object) -> bool:
        """Apply an external command now; True when accepted (a rejection is an event).

        Every field is first checked against its declared type (``commands.check``). A
        command that fails is logged, passed to the ``on_command`` hooks and rejected as a
        ``MalformedCommand`` stand-in naming the field and what was wrong, so a session
        records it as plain data and its replay is rejected with the same reason."""
        checked, problem = cmd.check(command)
        if checked is None:
            checked = cmd.stand_in(command, problem)
        timed = cmd.TimedCommand(self.now, checked)
        self.command_log.append(timed)
        for hook in self.on_command:
            hook(timed)
        rejections_before = self.rejections
        self._apply(checked)
        accepted = self.rejections == rejections_before
        self._drain()
        return accepted

    def replay(self, log: Iterable[cmd.TimedCommand], until: float | None = None) -> None:
        """Re-apply a recorded command log (the same way the desk applied it), then run on."""
        with fewer_collections():
            for timed in log:
                self.run_until(timed.t)
                self.submit(timed.command)
            self.run_until(self.end_s if until is None else until)

    def reject(self, command: cmd.Command, reason: str) -> None:
        self.rejections += 1
        kind = command.KIND
        if type(command) is cmd.MalformedCommand:
            kind = command.given or kind  # the kind the trainee or instructor meant to give
        self.emit(ev.CommandRejected(t=self.now, command=kind, seat=command.seat, reason=reason))

    def _apply(self, command: cmd.Command) -> None:
        handler = _HANDLERS.get(type(command))
        if self._ended:
            self.reject(command, "the shift has ended")
            return
        if handler is None:
            self.reject(command, f"unknown command {command.KIND!r}")
            return
        try:
            problem = handler(self, command)
        except Exception as exc:  # noqa: BLE001 - the engine must never raise into the desk
            problem = f"internal error: {type(exc).__name__}: {exc}"
        if problem:
            self.reject(command, problem)

    # --- call handling commands ----------------------------------------------------------

    def _seat_for(self, command: cmd.Command, *, handler: bool) -> tuple[Seat | None, str]:
        seat = self.seats.get(command.seat)
        if seat is None:
            return None, f"no seat {command.seat!r} in this control room"
        if handler and not seat.handler:
            return None, f"seat {seat.id} does not take calls in this scenario"
        if not handler and not seat.dispatcher:
            return None, f"seat {seat.id} does not dispatch in this scenario"
        return seat, ""

    def _active_call(self, command: cmd.Command, call_id: str) -> tuple[Call | None, str]:
        call = self.calls.get(call_id)
        if call is None:
            return None, f"no call {call_id!r}"
        if call.status == "closed":
            return None, f"call {call_id} is already closed ({call.disposition})"
        if call.status != "answered":
            return None, f"call {call_id} has not been answered"
        if call.seat != command.seat:
            return None, f"call {call_id} is on seat {call.seat}, not {command.seat}"
        return call, ""

    def _cmd_answer(self, c: cmd.AnswerCall) -> str | None:
        seat, why = self._seat_for(c, handler=True)
        if seat is None:
            return why
        if seat.call_id is not None:
            return f"seat {seat.id} is already on call {seat.call_id}"
        if seat.wrapping_up:
            return f"seat {seat.id} is still finishing the last call"
        if seat.reaching:
            return f"seat {seat.id} is already picking up a call"
        call_id = c.call_id
        if call_id is None:
            if not self.ringing:
                return "no call is waiting"
            call_id = self.ringing[0]
        call = self.calls.get(call_id)
        if call is None:
            return f"no call {call_id!r}"
        if call.status != "ringing":
            return f"call {call_id} is not ringing (it is {call.status})"
        if seat.id in self.virtual_seats:
            lo, hi = self.scenario.control_room.pickup_s
            rng = self.streams.get(R.PATIENT, call.truth_patient.index, R.PATIENT_CALLER)
            delay = float(rng.uniform(min(lo, hi), max(lo, hi)))
            if delay > 0:
                seat.reaching = True
                self.env.process(self._pick_up(seat, call.id, delay))
                return None
        self.callers.answered(call, seat)
        return None

    def _pick_up(self, seat: Seat, call_id: str, delay: float) -> Any:
        """A virtual handler reaches the phone; if someone else took that call, the next."""
        yield self.env.timeout(delay)
        seat.reaching = False
        call_id = call_id if call_id in self.ringing else (self.ringing[0] if self.ringing else "")
        if call_id:
            self.callers.answered(self.calls[call_id], seat)
        else:
            self.emit(ev.SeatFree(t=self.now, seat=seat.id))

    def _cmd_ask(self, c: cmd.AskQuestion) -> str | None:
        call, why = self._active_call(c, c.call_id)
        if call is None:
            return why
        protocol = self.world.protocol
        if c.question_id not in protocol.questions:
            return f"no question {c.question_id!r} in the protocol"
        if call.pending_question is not None:
            return f"still waiting for the answer to {call.pending_question!r}"
        if c.question_id in call.answers:
            return f"{c.question_id!r} has already been answered"
        if c.question_id not in protocol.applicable(call.answers):
            return f"{c.question_id!r} does not apply to this call yet"
        self.callers.ask(call, c.question_id)
        return None

    def _cmd_category(self, c: cmd.SetCategory) -> str | None:
        call, why = self._active_call(c, c.call_id)
        if call is None:
            return why
        if c.category not in CATEGORY_RANK:
            return f"no category {c.category!r} (C1..C4)"
        recommended = call.assessment.category if call.assessment else None
        call.category = c.category
        self.emit(
            ev.CategorySet(
                t=self.now,
                call_id=call.id,
                category=c.category,
                recommended=recommended,
                override=recommended is not None and recommended != c.category,
                seat=c.seat,
            )
        )
        return None

    def _decided(self, c: cmd.Command, call_id: str) -> tuple[Call | None, str]:
        call, why = self._active_call(c, call_id)
        if call is None:
            return None, why
        if call.category is None:
            return None, "set a category first"
        if call.pending_question is not None:
            return None, f"still waiting for the answer to {call.pending_question!r}"
        return call, ""

    def _cmd_dispatch_decision(self, c: cmd.SendToDispatch) -> str | None:
        call, why = self._decided(c, c.call_id)
        if call is None:
            return why
        inc = self.open_incident(call, "dispatch")
        self.fleet.queue(inc, "decision")
        return None

    def _cmd_refer_hub(self, c: cmd.ReferToHub) -> str | None:
        call, why = self._decided(c, c.call_id)
        if call is None:
            return why
        if call.category == "C1":
            return "a C1 call cannot wait for a clinical call-back: dispatch it"
        if self.scenario.clinical_hub.clinicians == 0:
            return "there is no clinical hub on this shift"
        inc = self.open_incident(call, "hub")
        self.hub.refer(inc, "referral")
        return None

    def _cmd_advice(self, c: cmd.GiveAdvice | cmd.ReferElsewhere) -> str | None:
        call, why = self._decided(c, c.call_id)
        if call is None:
            return why
        if call.assessment is None or not call.assessment.advice:
            return (
                "the protocol does not let a call handler close this call by phone: "
                "refer it to the clinical hub or dispatch"
            )
        if call.category in ("C1", "C2"):
            return f"a {call.category} call cannot be closed with advice"
        kind = "advice" if isinstance(c, cmd.GiveAdvice) else "referral"
        inc = self.open_incident(call, "advice" if kind == "advice" else "referred")
        self.close_by_phone(inc, by=c.seat, kind=kind)
        return None

    def _cmd_link(self, c: cmd.LinkCall) -> str | None:
        call, why = self._active_call(c, c.call_id)
        if call is None:
            return why
        inc = self.incidents.get(c.incident_id)
        if inc is None:
            return f"no incident {c.incident_id!r}"
        if inc.status == "closed":
            return f"incident {inc.id} is already closed"
        inc.call_ids.append(call.id)
        self.emit(ev.CallLinked(t=self.now, call_id=call.id, incident_id=inc.id, seat=c.seat))
        self.callers.close(call, "linked", inc.id)
        if inc.truth_patient is not call.truth_patient:
            self.callers.wrongly_linked(call.truth_patient)
        return None

    # --- fleet commands ------------------------------------------------------------------

    def _cmd_dispatch_vehicle(self, c: cmd.DispatchVehicle) -> str | None:
        seat, why = self._seat_for(c, handler=False)
        if seat is None:
            return why
        return self.fleet.dispatch(c.vehicle_id, c.incident_id, c.seat, divert=False)

    def _cmd_divert(self, c: cmd.DivertVehicle) -> str | None:
        seat, why = self._seat_for(c, handler=False)
        if seat is None:
            return why
        return self.fleet.dispatch(c.vehicle_id, c.incident_id, c.seat, divert=True)

    def _cmd_stand_down(self, c: cmd.StandDown) -> str | None:
        seat, why = self._seat_for(c, handler=False)
        if seat is None:
            return why
        return self.fleet.stand_down(c.vehicle_id)

    def _cmd_diversion(self, c: cmd.SetHospitalDiversion) -> str | None:
        hosp = self.hospitals.get(c.hospital)
        if hosp is None:
            return f"no hospital {c.hospital!r}"
        if hosp.diverted == c.diverted:
            return f"{c.hospital} is already {'on' if c.diverted else 'off'} diversion"
        if (
            c.diverted
            and not any(
                h.kind == "ed" and not h.diverted and h is not hosp for h in self.hospitals.values()
            )
            and hosp.kind == "ed"
        ):
            return "at least one emergency department must stay open"
        hosp.diverted = c.diverted
        self.emit(ev.HospitalDiversion(t=self.now, hospital=hosp.name, diverted=c.diverted))
        return None

    def _cmd_inject(self, c: cmd.Inject) -> str | None:
        return self.injects.live(c.spec)

    def _cmd_malformed(self, c: cmd.MalformedCommand) -> str | None:
        return c.reason or "a malformed command"

    # --- incidents -----------------------------------------------------------------------

    def open_incident(self, call: Call, disposition: str) -> Incident:
        """Open the room's record for a call and close the call with ``disposition``."""
        self._n_incidents += 1
        inc_id = f"I{self._n_incidents:05d}"
        patient = call.truth_patient
        assessment = call.assessment
        complaint = call.answers.get("what_happened", "unknown")
        assert call.category is not None
        inc = Incident(
            id=inc_id,
            truth_patient=patient,
            call_ids=[call.id],
            category=call.category,
            x=call.x,
            y=call.y,
            node=patient.node,
            area=call.area,
            complaint=complaint,
            code=assessment.code if assessment else "",
            t_open=self.now,
        )
        self.incidents[inc_id] = inc
        self._open[inc_id] = inc
        self._open_by_complaint.setdefault(complaint, {})[inc_id] = inc
        patient.incident_ids.append(inc_id)
        self.emit(
            ev.IncidentOpened(
                t=self.now,
                incident_id=inc_id,
                call_id=call.id,
                category=inc.category,
                x=inc.x,
                y=inc.y,
                area=inc.area,
                complaint=complaint,
                code=inc.code,
            )
        )
        self.emit(ev.IncidentTruth(t=self.now, incident_id=inc_id, patient_id=patient.id))
        self.callers.close(call, disposition, inc_id)
        return inc

    def set_category(self, inc: Incident, category: str, reason: str) -> None:
        if category == inc.category:
            return
        previous = inc.category
        inc.category = category
        self.emit(
            ev.IncidentCategoryChanged(
                t=self.now, incident_id=inc.id, category=category, previous=previous, reason=reason
            )
        )

    def close_by_phone(self, inc: Incident, *, by: str, kind: str) -> None:
        """Hear-and-treat: advice or a referral closes the incident without a vehicle."""
        patient = inc.truth_patient
        self.emit(ev.AdviceGiven(t=self.now, incident_id=inc.id, by=by, method=kind))
        if patient.truth.need == "hear_and_treat":
            patient.responded = True
        else:
            self.emit(
                ev.UnsafeAdvice(
                    t=self.now,
                    incident_id=inc.id,
                    patient_id=patient.id,
                    need=patient.truth.need,
                    by=by,
                )
            )
            self.callers.schedule_recontact(patient)
        self.close_incident(inc, "hear_and_treat" if kind == "advice" else "referred")

    def close_incident(self, inc: Incident, outcome: str) -> None:
        if inc.status == "closed":
            return
        inc.status = "closed"
        self._open.pop(inc.id, None)
        self._open_by_complaint.get(inc.complaint, {}).pop(inc.id, None)
        inc.outcome = outcome
        self.set_queued(inc, False)
        if inc.on_hub:
            self.hub.remove(inc)
        self.emit(ev.IncidentClosed(t=self.now, incident_id=inc.id, outcome=outcome))
        self.fleet.release_all(inc)

    # --- read-only views for policies and the desk (no truth) ----------------------------

    def ringing_calls(self) -> list[Call]:
        return [self.calls[c] for c in self.ringing]

    def open_incidents(self) -> list[Incident]:
        return list(self._open.values())

    def open_incidents_about(self, complaint: str) -> list[Incident]:
        """Open incidents with this complaint, in opening order (where a duplicate caller's
        incident is looked for)."""
        return list(self._open_by_complaint.get(complaint, {}).values())

    def set_queued(self, inc: Incident, queued: bool) -> None:
        """Put an incident in the dispatch queue or take it out (the one place that does, so
        the queue the policies read every step need not be searched for)."""
        inc.queued = queued
        if queued:
            self._queued[inc.id] = inc
        else:
            self._queued.pop(inc.id, None)

    def dispatch_queue(self) -> list[Incident]:
        """Incidents waiting for a vehicle, most urgent first, then oldest."""
        queue = list(self._queued.values())
        queue.sort(key=_QUEUE_ORDER)
        return queue

    def free_vehicles(self, vtype: str | None = None) -> list[Vehicle]:
        free = sorted(self.free.values(), key=_BY_ID)
        return free if vtype is None else [v for v in free if v.type == vtype]

    def vehicle_etas(
        self, incident: Incident, vehicles: Sequence[Vehicle], *, onlooker: bool = False
    ) -> np.ndarray:
        """Seconds until each vehicle could reach the incident, mobilisation included.

        ``onlooker``: asked from outside the run (a desk, a player submitting commands), so
        answered by a router of its own that leaves the run's routing caches untouched."""
        return self.fleet.etas(incident.node, vehicles, onlooker=onlooker)

    def vehicle_position(self, vehicle: Vehicle, t: float | None = None) -> tuple[float, float]:
        return self.fleet.position(vehicle, self.now if t is None else t)

    def random_uniform(self, *key: int | str) -> float:
        return float(self.streams.get(*key).random())


#: The dispatch queue's order: most urgent first, then longest waiting (C-level key, sorted
#: at every policy step).
_QUEUE_ORDER = attrgetter("rank", "t_queued", "id")
_BY_ID = attrgetter("id")


def _distance(ax: float, ay: float, bx: float, by: float) -> float:
    return math.hypot(ax - bx, ay - by)


_HANDLERS: dict[type, Callable[[Engine, Any], str | None]] = {
    cmd.AnswerCall: Engine._cmd_answer,
    cmd.AskQuestion: Engine._cmd_ask,
    cmd.SetCategory: Engine._cmd_category,
    cmd.SendToDispatch: Engine._cmd_dispatch_decision,
    cmd.ReferToHub: Engine._cmd_refer_hub,
    cmd.GiveAdvice: Engine._cmd_advice,
    cmd.ReferElsewhere: Engine._cmd_advice,
    cmd.LinkCall: Engine._cmd_link,
    cmd.DispatchVehicle: Engine._cmd_dispatch_vehicle,
    cmd.DivertVehicle: Engine._cmd_divert,
    cmd.StandDown: Engine._cmd_stand_down,
    cmd.SetHospitalDiversion: Engine._cmd_diversion,
    cmd.Inject: Engine._cmd_inject,
    cmd.MalformedCommand: Engine._cmd_malformed,
}
