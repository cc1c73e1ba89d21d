"""The automatic call distributor: which seat a ringing call is offered to first.

One job: ``CallDistributor`` decides which ringing calls the virtual colleagues may take. With
the scenario's ``control_room.call_distribution: trainee_first`` (the default), a free trainee
seat is offered the oldest ringing call not yet offered, as a control room's ACD routes the
next call to a free agent; the colleagues leave it ringing for ``offer_s`` seconds, then it is
anyone's (ring-no-answer). A scripted teaching call (``for_trainee``) is held for the trainee
until it is answered or abandoned. ``shared``: every seat races for every call (the room before
the distributor existed, and every session recorded before it: ``record`` says which).

It acts only for a trainee seat played from outside the engine (the desk, an external player):
a headless run plays every seat itself, offers nothing and emits nothing, so its event stream
is the same as before the distributor existed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ambsim_gui.sim import events as ev

if TYPE_CHECKING:
    from ambsim_gui.sim.kernel import Kernel
    from ambsim_gui.sim.room import RoomState
    from ambsim_gui.sim.state import Call, Seat

TRAINEE = "trainee"
MODES = ("trainee_first", "shared")


class CallDistributor:
    """Offers calls to the trainee's seat and holds them there; see the module's note."""

    def __init__(self, kernel: Kernel, room: RoomState, mode: str | None = None) -> None:
        self.k = kernel
        self.room = room
        control = room.scenario.control_room
        self.mode = mode or control.call_distribution
        if self.mode not in MODES:
            raise ValueError(f"unknown call distribution {self.mode!r}")
        self.offer_s = float(control.offer_s)
        self.active = False
        self.offered: str | None = None  # the call offered to the trainee now
        self._offer_no = 0  # which offer a lapse timer belongs to
        self._lapsed: set[str] = set()  # offered once and not answered: anyone's now

    def start(self) -> None:
        """Once the seats' players are known: act only for a trainee seat played outside."""
        seat = self.room.seats.get(TRAINEE)
        self.active = (
            seat is not None and seat.handler and TRAINEE not in self.room.virtual_seats
        )

    def held(self, call_id: str, seat: str) -> bool:
        """The call is kept for the trainee: ``seat`` (a colleague's) may not take it now."""
        if not self.active or seat == TRAINEE:
            return False
        if call_id == self.offered:
            return True
        call = self.room.calls.get(call_id)
        return call is not None and call.for_trainee

    def free_for(self, seat: str) -> list[str]:
        """The ringing calls ``seat`` may take, oldest first."""
        return [c for c in self.room.ringing if not self.held(c, seat)]

    # --- what the callers' side tells it -------------------------------------------------

    def rang(self, call: Call) -> None:
        if not self.active:
            return
        if call.for_trainee:
            self.k.emit(ev.CallOffered(t=self.k.now, call_id=call.id, seat=TRAINEE, until_t=None))
        self._offer_next()

    def answered(self, call: Call, seat: Seat) -> None:
        """The call was answered: a hint goes with a teaching call to the trainee's line."""
        if not self.active:
            return
        hint = call.truth_patient.hint
        if hint and seat.id == TRAINEE:
            self.k.emit(ev.CallHint(t=self.k.now, call_id=call.id, seat=seat.id, text=hint))
        self.left_queue(call)

    def left_queue(self, call: Call) -> None:
        """The call was answered or abandoned: its offer ends, the next may be made."""
        if not self.active:
            return
        self._lapsed.discard(call.id)
        if self.offered == call.id:
            self.offered = None
        elif self.offered is not None and call.seat == TRAINEE:
            # the trainee took another call: the one offered is no longer kept for them
            withdrawn, self.offered = self.offered, None
            self.k.emit(ev.CallOfferLapsed(t=self.k.now, call_id=withdrawn, seat=TRAINEE))
        self._offer_next()

    def seat_free(self, seat: Seat) -> None:
        if self.active and seat.id == TRAINEE:
            self._offer_next()

    # --- offers --------------------------------------------------------------------------

    def _offer_next(self) -> None:
        if self.mode != "trainee_first" or self.offered is not None:
            return
        seat = self.room.seats[TRAINEE]
        if seat.call_id is not None or seat.wrapping_up:
            return
        for call_id in self.room.ringing:
            call = self.room.calls[call_id]
            if call_id in self._lapsed or call.for_trainee:
                continue  # a teaching call is held already, not offered with a deadline
            self.offered = call_id
            self._offer_no += 1
            until = self.k.now + self.offer_s
            self.k.emit(ev.CallOffered(t=self.k.now, call_id=call_id, seat=TRAINEE, until_t=until))
            self.k.after(self.offer_s, self._lapse, call_id, self._offer_no)
            return

    def _lapse(self, call_id: str, offer_no: int) -> None:
        if self.offered != call_id or offer_no != self._offer_no:
            return  # answered, abandoned or withdrawn meanwhile
        self.offered = None
        self._lapsed.add(call_id)
        self.k.emit(ev.CallOfferLapsed(t=self.k.now, call_id=call_id, seat=TRAINEE))
        self._offer_next()
