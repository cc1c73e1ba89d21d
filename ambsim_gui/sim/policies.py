"""Built-in policies: virtual colleagues and headless players of a whole control room.

A policy plays some seats of the room. It observes every event, says whether it wants to act,
and when asked returns commands, which go through the engine's command door like a trainee's.
It reads only what the room can know, through a read-only ``view.RoomView`` (calls as the
handler has them, answers, incidents, vehicles, queues, ETAs), never the patients' truth; see
``view.py`` for the one read it still makes (the ETA oracle).

``expert``: follows the protocol to the end, links duplicate callers, refers eligible calls to
the clinical hub, sends the nearest suitable vehicle (a DCA wherever one may be needed to convey),
gives a C1 ARP's dual response (a DCA, and an RRV too when it is nearer; an RRV alone only until
a DCA comes free), diverts a vehicle from a less urgent job for an unmet C1, and takes a C3 or C4
that has waited half an hour past its standard as the category above.

``target_chaser``: what the national audit described (NAO 2011). Asks only the Nature-of-Call
questions, sends every call to dispatch, never validates, never links duplicates, sends the
nearest vehicle of any kind at once (to a C1, C2 or C3 the nearest of the other kind as well, a
car and an ambulance), and sends another whenever a nearer one comes free while the first is still
on its way beyond the standard, without standing the first down.
"""

from __future__ import annotations

import math

import numpy as np

from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.regimes import REGIMES
from ambsim_gui.sim.state import CATEGORY_RANK, EN_ROUTE_STATUSES
from ambsim_gui.sim.view import CallView as Call
from ambsim_gui.sim.view import IncidentView as Incident
from ambsim_gui.sim.view import RoomView
from ambsim_gui.sim.view import VehicleView as Vehicle

LINK_RADIUS_M = 400.0
SCENE_LINK_RADIUS_M = 1000.0
"""How far off a caller may be who names a casualty already reported at a scene: passers-by
stop along a motorway, and a caller describing the same person is about that person."""
LATE_JOB_CATEGORIES = ("C3", "C4")
"""A crew near its finish is not sent to these (``Fleet.protected``)."""
CHASED_TWICE = ("C1", "C2", "C3")
"""The target chaser sends a car and an ambulance to these (the clock of each is chased)."""
LONG_WAIT_S = {"C3": 150 * 60.0, "C4": 210 * 60.0}
"""A wait after which the expert treats a C3 (C4) as the category above: half an hour past
ARP's 90th centile for it (120 and 180 minutes). Set so that the London day's C2 and C3 means
both land in London's range: escalating at the 90th centile itself took the C2 mean to 41
minutes; without escalation C3 patients waited over 2 hours on average while the C2 mean was
20 minutes (docs/VALIDATION.md)."""
LINK_WINDOW_S = 3600.0

_WAKE_ANSWER = (ev.CallArrived, ev.SeatFree, ev.CallOfferLapsed)
_WAKE_TRIAGE = (ev.CallAnswered, ev.TriageAssessed)
_WAKE_DISPATCH = (ev.IncidentQueued, ev.VehicleStatus, ev.VehicleStoodDown)


class Policy:
    """Base: plays ``seats`` of the room seen through ``room`` (a read-only ``RoomView``).

    It changes nothing itself: ``act`` returns commands, which the engine applies (a policy
    in the engine) or a player submits (``record.player``)."""

    name = "policy"

    def __init__(self, room: RoomView, seats: list[str]) -> None:
        self.room = room
        self._dispatch_due = False
        self._answer_due = False
        self._triage_due: dict[str, None] = {}  # call ids whose handler has a next step
        self._own(seats)

    def _own(self, seats: list[str]) -> None:
        room = self.room
        self.seats = seats
        self.handler_seats = [s for s in seats if room.seats[s].handler]
        self.dispatcher_seats = [s for s in seats if room.seats[s].dispatcher]
        self._mine = set(self.handler_seats)

    def set_seats(self, seats: list[str]) -> None:
        """Play ``seats`` from now on (a trainee took one, or left one to the colleagues).

        Calls on seats no longer played are forgotten; the ``SeatCovered`` event that follows
        wakes the policy to answer, triage and dispatch for the seats it took."""
        self._own(list(seats))
        self._triage_due = {
            c: None for c in self._triage_due if self.room.calls[c].seat in self._mine
        }

    @property
    def onlooker(self) -> bool:
        """Played from outside the engine (commands through ``submit``): its ETA questions go
        to the onlookers' router (the view's), so that asking them cannot change the run."""
        return self.room.onlooker

    # --- the engine's interface ----------------------------------------------------------

    def observe(self, event: ev.Event) -> bool:
        if isinstance(event, ev.SeatCovered) and event.seat in self.seats:
            self._answer_due = bool(self.handler_seats)
            self._dispatch_due = bool(self.dispatcher_seats)
            for call in self.room.calls.values():
                if call.seat == event.seat and call.status == "answered":
                    self._triage_due[call.id] = None
        if self.handler_seats:
            if isinstance(event, _WAKE_ANSWER):
                self._answer_due = True
            elif isinstance(event, _WAKE_TRIAGE):
                call = self.room.calls[event.call_id]
                if call.seat in self._mine:
                    self._triage_due[call.id] = None
        if self.dispatcher_seats and isinstance(event, _WAKE_DISPATCH):
            if not isinstance(event, ev.VehicleStatus) or event.status in (
                "available",
                "returning",
            ):
                self._dispatch_due = True
        return self._answer_due or bool(self._triage_due) or self._dispatch_due

    def act(self) -> list[cmd.Command]:
        out: list[cmd.Command] = []
        if self._answer_due or self._triage_due:
            out += self.handle_calls()
        if self._dispatch_due:
            self._dispatch_due = False
            out += self.dispatch()
        return out

    # --- call handling -------------------------------------------------------------------

    def handle_calls(self) -> list[cmd.Command]:
        e = self.room
        out: list[cmd.Command] = []
        if self._answer_due:
            self._answer_due = False
            taken = {s.call_id for s in e.seats.values()}
            for seat_id in self.handler_seats:
                if not e.seats[seat_id].free:
                    continue
                ringing = [c for c in e.ringing_for(seat_id) if c not in taken]
                if ringing:
                    taken.add(ringing[0])
                    out.append(cmd.AnswerCall(seat=seat_id, call_id=ringing[0]))
        due, self._triage_due = self._triage_due, {}
        for call_id in due:
            call = e.calls[call_id]
            if call.status == "answered" and call.pending_question is None and call.seat:
                out += self.triage(call.seat, call)
        return out

    def questions_to_ask(self, call: Call) -> str | None:
        return self.room.protocol.next_question(call.answers)

    def triage(self, seat: str, call: Call) -> list[cmd.Command]:
        raise NotImplementedError

    def _category(self, call: Call) -> str:
        a = call.assessment
        return a.category if a is not None and a.category else "C2"

    # --- dispatching ---------------------------------------------------------------------

    def dispatch(self) -> list[cmd.Command]:
        raise NotImplementedError

    @property
    def dispatcher(self) -> str:
        return self.dispatcher_seats[0]

    def my_queue(self) -> list[Incident]:
        """The dispatch queue of the sectors this policy's seats cover."""
        mine = set(self.dispatcher_seats)
        queue = self.room.dispatch_queue()
        if all(s.id in mine for s in self.room.seats.values() if s.dispatcher):
            return queue  # every sector is ours (a headless run, or a trainee alone)
        return [i for i in queue if self.room.dispatcher_for(i) in mine]

    def nearest(self, inc: Incident, pool: list[Vehicle]) -> tuple[Vehicle | None, float]:
        return self.room.nearest(inc, pool)


class ExpertPolicy(Policy):
    name = "expert"

    def __init__(self, room: RoomView, seats: list[str]) -> None:
        super().__init__(room, seats)
        self._checked_duplicates: set[str] = set()

    def triage(self, seat: str, call: Call) -> list[cmd.Command]:
        if "what_happened" in call.answers and call.id not in self._checked_duplicates:
            # Once the complaint is known, look for an incident this caller may be about.
            self._checked_duplicates.add(call.id)
            # a caller who says someone else is hurt is a new patient, however near and alike
            dup = None if call.new_casualty else self._duplicate_of(call)
            if dup is not None:
                return [cmd.LinkCall(seat=seat, call_id=call.id, incident_id=dup.id)]
        question = self.questions_to_ask(call)
        if question is not None:
            return [cmd.AskQuestion(seat=seat, call_id=call.id, question_id=question)]
        category = self._category(call)
        out: list[cmd.Command] = [cmd.SetCategory(seat=seat, call_id=call.id, category=category)]
        a = call.assessment
        hub_ok = self.room.hub_clinicians > 0 and category != "C1"
        if a is not None and a.validation and hub_ok:
            out.append(cmd.ReferToHub(seat=seat, call_id=call.id))
        elif a is not None and a.advice and category in ("C3", "C4"):
            out.append(cmd.GiveAdvice(seat=seat, call_id=call.id))
        else:
            out.append(cmd.SendToDispatch(seat=seat, call_id=call.id))
        return out

    def _duplicate_of(self, call: Call) -> Incident | None:
        complaint = call.answers.get("what_happened")
        best: Incident | None = None
        best_d = math.inf
        if complaint is None:
            return None
        room = self.room
        now, x, y = room.now, call.x, call.y
        reach = max(LINK_RADIUS_M, 2 * call.uncertainty_m)
        for inc in room.open_incidents_about(complaint):
            if now - inc.t_open > LINK_WINDOW_S:
                continue
            # at a scene with several casualties only the incident of the person described
            # is theirs, and that incident is theirs however far along the road they stopped
            reach_here = reach
            if call.casualty is not None:
                if not any(room.calls[c].casualty == call.casualty for c in inc.call_ids):
                    continue
                reach_here = max(reach, SCENE_LINK_RADIUS_M)
            d = math.hypot(inc.x - x, inc.y - y)
            if d <= reach_here and d < best_d:
                best, best_d = inc, d
        return best

    def dispatch(self) -> list[cmd.Command]:
        e = self.room
        out: list[cmd.Command] = []
        everyone = e.free_vehicles()
        # a crew on its way back for its rest break is left to it unless a C1 needs it
        resting = [v for v in everyone if e.going_to_rest(v)]
        free = [v for v in everyone if v not in resting] if resting else everyone
        dcas = [v for v in free if v.type == "DCA"]  # kept as ``free``'s DCAs, in its order
        guarded = {v.id for v in free if e.protected(v)}  # near their finish: C1 and C2 only
        for inc in self._by_need(self.my_queue()):
            if not free and inc.category != "C1":
                break
            if inc.category in LATE_JOB_CATEGORIES and guarded:
                choice, _ = self.nearest(inc, [v for v in dcas if v.id not in guarded])
                picks = [choice] if choice else []
            elif inc.needs == "DCA":
                choice, _ = self.nearest(inc, dcas)
                picks = [choice] if choice else []
            elif inc.category == "C1":
                picks = self._c1_response(inc, free + resting, dcas)
                if not picks:
                    out += self._divert_for(inc)
                    continue
            else:
                choice, _ = self.nearest(inc, dcas)
                if choice is None and inc.category == "C2":
                    choice, _ = self.nearest(inc, free)
                picks = [choice] if choice else []
            for v in picks:
                if v in resting:
                    resting.remove(v)
                else:
                    free.remove(v)
                if v in dcas:
                    dcas.remove(v)
                out.append(
                    cmd.DispatchVehicle(seat=self.dispatcher, vehicle_id=v.id, incident_id=inc.id)
                )
        out += self._c1_transport(dcas)
        return out

    def _by_need(self, queue: list[Incident]) -> list[Incident]:
        """The queue as an experienced dispatcher works it: most urgent first, except that a C3
        or C4 patient who has waited long past their standard's 90th centile is taken as the
        category above, by how long it has waited (a long wait is a risk in itself)."""
        now = self.room.now
        if not any(i.rank > 2 and now - i.t_open > LONG_WAIT_S[i.category] for i in queue):
            return queue
        return sorted(
            queue,
            key=lambda i: (
                i.rank - 1 if i.rank > 2 and now - i.t_open > LONG_WAIT_S[i.category] else i.rank,
                i.t_queued,
                i.id,
            ),
        )

    def _c1_response(
        self, inc: Incident, free: list[Vehicle], dcas: list[Vehicle]
    ) -> list[Vehicle]:
        """ARP's C1 dual response: the nearest DCA (it can convey), and the nearest RRV as well
        when it would be there first; an RRV alone only when no DCA is free (one follows as
        soon as one is, ``_c1_transport``)."""
        dca, dca_eta = self.nearest(inc, [v for v in free if v.type == "DCA"])
        rrv, rrv_eta = self.nearest(inc, [v for v in free if v.type == "RRV"])
        picks = [dca] if dca is not None else []
        if rrv is not None and (dca is None or rrv_eta < dca_eta):
            picks.append(rrv)
        return picks

    def _c1_transport(self, dcas: list[Vehicle]) -> list[cmd.Command]:
        """A C1 that has only a car on it gets the first DCA that comes free."""
        out: list[cmd.Command] = []
        if not dcas:
            return out
        e = self.room
        mine = set(self.dispatcher_seats)
        for inc in e.open_incidents():
            if inc.category != "C1" or inc.queued or not inc.vehicles or inc.on_hub:
                continue
            if any(e.vehicles[x].type == "DCA" for x in inc.vehicles):
                continue
            if e.dispatcher_for(inc) not in mine:
                continue
            dca, _ = self.nearest(inc, dcas)
            if dca is None:
                break
            dcas.remove(dca)
            out.append(
                cmd.DispatchVehicle(seat=self.dispatcher, vehicle_id=dca.id, incident_id=inc.id)
            )
        return out

    def _divert_for(self, inc: Incident) -> list[cmd.Command]:
        e = self.room
        candidates = [
            v
            for v in e.vehicles.values()
            if v.on_duty
            and v.status in EN_ROUTE_STATUSES
            and v.incident_id is not None
            and e.incidents[v.incident_id].rank > CATEGORY_RANK["C2"]
        ]
        v, eta = self.nearest(inc, candidates)
        if v is None or eta > 20 * 60.0:
            return []
        return [cmd.DivertVehicle(seat=self.dispatcher, vehicle_id=v.id, incident_id=inc.id)]


class TargetChaserPolicy(Policy):
    name = "target_chaser"

    def triage(self, seat: str, call: Call) -> list[cmd.Command]:
        protocol = self.room.protocol
        question = self.questions_to_ask(call)
        if question is not None and protocol.questions[question].stage == "nature_of_call":
            return [cmd.AskQuestion(seat=seat, call_id=call.id, question_id=question)]
        return [
            cmd.SetCategory(seat=seat, call_id=call.id, category=self._category(call)),
            cmd.SendToDispatch(seat=seat, call_id=call.id),
        ]

    def dispatch(self) -> list[cmd.Command]:
        e = self.room
        out: list[cmd.Command] = []
        free = e.free_vehicles()
        guarded = {v.id for v in free if e.protected(v)}  # near their finish: C1 and C2 only
        resting = {v.id for v in free if e.going_to_rest(v)}  # back for a break: C1 only
        for inc in self.my_queue():
            if not free:
                return out
            pool = [v for v in free if v.type == "DCA"] if inc.needs == "DCA" else free
            if inc.category != "C1" and resting:
                pool = [v for v in pool if v.id not in resting]
            if inc.category in LATE_JOB_CATEGORIES and guarded:
                pool = [v for v in pool if v.id not in guarded]
            v, _ = self.nearest(inc, pool)
            if v is None:
                continue
            picks = [v]
            if inc.needs != "DCA" and inc.category in CHASED_TWICE:
                # Stop the clock with whatever is nearest, and send the other kind as well so
                # that the patient has a car and an ambulance on the way (NAO 2011: the
                # multiple dispatches of target-driven control rooms).
                others = [x for x in free if x.type != v.type]
                if inc.category != "C1" and resting:
                    others = [x for x in others if x.id not in resting]
                other, _ = self.nearest(inc, others)
                if other is not None:
                    picks.append(other)
            for pick in picks:
                free.remove(pick)
                out.append(
                    cmd.DispatchVehicle(
                        seat=self.dispatcher, vehicle_id=pick.id, incident_id=inc.id
                    )
                )
        # Chasing the clock: anything still waiting beyond the standard gets a nearer vehicle too.
        regime = e.regime
        mine = set(self.dispatcher_seats)
        for inc in e.open_incidents():
            if not free:
                break
            if e.dispatcher_for(inc) not in mine:
                continue
            if inc.queued or not inc.vehicles:
                continue
            en_route = [
                e.vehicles[x] for x in inc.vehicles if e.vehicles[x].status in EN_ROUTE_STATUSES
            ]
            if len(en_route) != len(inc.vehicles) or not en_route:
                continue  # someone is already there
            best_now = float(np.min(e.etas(inc, en_route)))
            target = _clock_target(regime, inc.category)
            if e.now - inc.t_open + best_now <= target:
                continue
            pool = [v for v in free if v.id not in resting] if inc.category != "C1" else free
            if inc.category in LATE_JOB_CATEGORIES and guarded:
                pool = [v for v in pool if v.id not in guarded]
            v, eta = self.nearest(inc, pool)
            if v is not None and eta < best_now - 120.0:
                free.remove(v)
                out.append(
                    cmd.DispatchVehicle(seat=self.dispatcher, vehicle_id=v.id, incident_id=inc.id)
                )
        return out


def _clock_target(regime: str, category: str) -> float:
    """The time the clock is chased against: the standard's mean, or its 'within' time."""
    std = REGIMES[regime].standard_for(category)
    return float(std.mean_s or std.within_s or std.p90_s or math.inf)


POLICIES: dict[str, type[Policy]] = {"expert": ExpertPolicy, "target_chaser": TargetChaserPolicy}


def make_policy(name: str, room: RoomView, seats: list[str]) -> Policy:
    """Policy ``name`` playing ``seats``, reading the room through ``room``."""
    cls = POLICIES.get(name)
    if cls is None:
        raise ValueError(f"unknown policy {name!r}; choose from {', '.join(POLICIES)}")
    return cls(room, seats)
