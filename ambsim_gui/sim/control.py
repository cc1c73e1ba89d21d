"""Call handling and the room's incidents: what a call handler does with a call on the line.

``ControlRoom`` owns the call-handling commands (answer, ask, set a category, send to
dispatch, refer to the clinical hub, close with advice or a referral, link a duplicate caller)
and the incidents' life: opening one from a call, changing its category, closing it by phone
or at the end of its episode of care. The caller's side of the line is ``Callers``; vehicles
are ``Fleet``'s and the hub's stack is ``ClinicalHub``'s: both are handed in explicitly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim import rng as R
from ambsim_gui.sim.state import CATEGORY_RANK, Call, Incident, Seat

if TYPE_CHECKING:
    from ambsim_gui.sim.callers import Callers
    from ambsim_gui.sim.fleet import Fleet
    from ambsim_gui.sim.hub import ClinicalHub
    from ambsim_gui.sim.kernel import Kernel
    from ambsim_gui.sim.room import RoomState

Handler = Callable[[Any], "str | None"]


class ControlRoom:
    """The call handlers' commands and the incidents they open."""

    def __init__(
        self, kernel: Kernel, room: RoomState, callers: Callers, fleet: Fleet, hub: ClinicalHub
    ) -> None:
        self.k = kernel
        self.room = room
        self.callers = callers
        self.fleet = fleet
        self.hub = hub
        self._n_incidents = 0

    def handlers(self) -> dict[type[cmd.Command], Handler]:
        return {
            cmd.AnswerCall: self.cmd_answer,
            cmd.AskQuestion: self.cmd_ask,
            cmd.SetCategory: self.cmd_category,
            cmd.SendToDispatch: self.cmd_dispatch_decision,
            cmd.ReferToHub: self.cmd_refer_hub,
            cmd.GiveAdvice: self.cmd_advice,
            cmd.ReferElsewhere: self.cmd_advice,
            cmd.LinkCall: self.cmd_link,
        }

    # --- call handling commands ----------------------------------------------------------

    def _active_call(self, command: cmd.Command, call_id: str) -> tuple[Call | None, str]:
        call = self.room.calls.get(call_id)
        if call is None:
            return None, f"no call {call_id!r}"
        if call.status == "closed":
            return None, f"call {call_id} is already closed ({call.disposition})"
        if call.status != "answered":
            return None, f"call {call_id} has not been answered"
        if call.seat != command.seat:
            return None, f"call {call_id} is on seat {call.seat}, not {command.seat}"
        return call, ""

    def cmd_answer(self, c: cmd.AnswerCall) -> str | None:
        room = self.room
        seat, why = room.seat_for(c, handler=True)
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
            waiting = room.ringing_for(seat.id)
            if not waiting:
                return "no call is waiting"
            call_id = waiting[0]
        call = room.calls.get(call_id)
        if call is None:
            return f"no call {call_id!r}"
        if call.status != "ringing":
            return f"call {call_id} is not ringing (it is {call.status})"
        if room.distributor is not None and room.distributor.held(call_id, seat.id):
            return f"call {call_id} is offered to the trainee"
        if seat.id in room.virtual_seats:
            lo, hi = room.scenario.control_room.pickup_s
            rng = self.k.streams.get(R.PATIENT, call.truth_patient.index, R.PATIENT_CALLER)
            delay = float(rng.uniform(min(lo, hi), max(lo, hi)))
            if delay > 0:
                seat.reaching = True
                self.k.env.process(self._pick_up(seat, call.id, delay))
                return None
        self.callers.answered(call, seat)
        return None

    def _pick_up(self, seat: Seat, call_id: str, delay: float) -> Any:
        """A virtual handler reaches the phone; if someone else took that call, the next."""
        k, room = self.k, self.room
        yield k.env.timeout(delay)
        seat.reaching = False
        ringing = room.ringing_for(seat.id)
        call_id = call_id if call_id in ringing else (ringing[0] if ringing else "")
        if call_id:
            self.callers.answered(room.calls[call_id], seat)
        else:
            k.emit(ev.SeatFree(t=k.now, seat=seat.id))

    def cmd_ask(self, c: cmd.AskQuestion) -> str | None:
        call, why = self._active_call(c, c.call_id)
        if call is None:
            return why
        protocol = self.room.world.protocol
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

    def cmd_category(self, c: cmd.SetCategory) -> str | None:
        call, why = self._active_call(c, c.call_id)
        if call is None:
            return why
        if c.category not in CATEGORY_RANK:
            return f"no category {c.category!r} (C1..C4)"
        recommended = call.assessment.category if call.assessment else None
        call.category = c.category
        self.k.emit(
            ev.CategorySet(
                t=self.k.now,
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

    def cmd_dispatch_decision(self, c: cmd.SendToDispatch) -> str | None:
        call, why = self._decided(c, c.call_id)
        if call is None:
            return why
        inc = self.open_incident(call, "dispatch")
        self.fleet.queue(inc, "decision")
        return None

    def cmd_refer_hub(self, c: cmd.ReferToHub) -> str | None:
        call, why = self._decided(c, c.call_id)
        if call is None:
            return why
        if call.category == "C1":
            return "a C1 call cannot wait for a clinical call-back: dispatch it"
        if self.room.scenario.clinical_hub.clinicians == 0:
            return "there is no clinical hub on this shift"
        inc = self.open_incident(call, "hub")
        self.hub.refer(inc, "referral")
        return None

    def cmd_advice(self, c: cmd.GiveAdvice | cmd.ReferElsewhere) -> str | None:
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

    def cmd_link(self, c: cmd.LinkCall) -> str | None:
        call, why = self._active_call(c, c.call_id)
        if call is None:
            return why
        inc = self.room.incidents.get(c.incident_id)
        if inc is None:
            return f"no incident {c.incident_id!r}"
        if inc.status == "closed":
            return f"incident {inc.id} is already closed"
        inc.call_ids.append(call.id)
        self.k.emit(ev.CallLinked(t=self.k.now, call_id=call.id, incident_id=inc.id, seat=c.seat))
        self.callers.close(call, "linked", inc.id)
        if inc.truth_patient is not call.truth_patient:
            self.callers.wrongly_linked(call.truth_patient)
        return None

    # --- incidents -----------------------------------------------------------------------

    def open_incident(self, call: Call, disposition: str) -> Incident:
        """Open the room's record for a call and close the call with ``disposition``."""
        k, room = self.k, self.room
        self._n_incidents += 1
        inc_id = f"I{self._n_incidents:05d}"
        patient = call.truth_patient
        assessment = call.assessment
        complaint = call.answers.get("what_happened", "unknown")
        assert call.category is not None
        now = k.now
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
            t_open=now,
        )
        room.incidents[inc_id] = inc
        room.open[inc_id] = inc
        room.open_by_complaint.setdefault(complaint, {})[inc_id] = inc
        patient.incident_ids.append(inc_id)
        k.emit(
            ev.IncidentOpened(
                t=now,
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
        k.emit(ev.IncidentTruth(t=now, incident_id=inc_id, patient_id=patient.id))
        self.callers.close(call, disposition, inc_id)
        return inc

    def set_category(self, inc: Incident, category: str, reason: str) -> None:
        if category == inc.category:
            return
        previous = inc.category
        inc.category = category
        self.k.emit(
            ev.IncidentCategoryChanged(
                t=self.k.now,
                incident_id=inc.id,
                category=category,
                previous=previous,
                reason=reason,
            )
        )

    def close_by_phone(self, inc: Incident, *, by: str, kind: str) -> None:
        """Hear-and-treat: advice or a referral closes the incident without a vehicle."""
        k = self.k
        patient = inc.truth_patient
        k.emit(ev.AdviceGiven(t=k.now, incident_id=inc.id, by=by, method=kind))
        if patient.truth.need == "hear_and_treat":
            patient.responded = True
        else:
            k.emit(
                ev.UnsafeAdvice(
                    t=k.now,
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
        room = self.room
        inc.status = "closed"
        room.open.pop(inc.id, None)
        room.open_by_complaint.get(inc.complaint, {}).pop(inc.id, None)
        inc.outcome = outcome
        room.set_queued(inc, False)
        if inc.on_hub:
            self.hub.remove(inc)
        self.k.emit(ev.IncidentClosed(t=self.k.now, incident_id=inc.id, outcome=outcome))
        self.fleet.release_all(inc)
