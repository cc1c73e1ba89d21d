"""Who sits where in the room: each seat's trainee, whether they are at their desk, and the
seat's live figures for the instructor.

One job: ``SeatBook`` says whether a desk may take a seat (``may_take``) and keeps each
seat's state through joins, drops and returns; ``feed`` folds the engine's events into the
figures ``SeatStatus`` carries (defined in docs/domain.md, "The classroom"). It holds no
connections and sends nothing: the server asks it and acts.
"""

from __future__ import annotations

from dataclasses import dataclass

from ambsim_gui.room.protocol import SeatStatus
from ambsim_gui.sim import events as ev


@dataclass
class SeatState:
    seat: str
    handler: bool
    dispatcher: bool
    name: str = ""
    status: str = "colleague"  # colleague | present | away | covered
    call_id: str | None = None
    answered: int = 0
    closed: int = 0
    dispatched: int = 0
    rejected: int = 0

    def status_row(self) -> SeatStatus:
        return SeatStatus(
            seat=self.seat,
            handler=self.handler,
            dispatcher=self.dispatcher,
            name=self.name,
            status=self.status,
            call_id=self.call_id,
            answered=self.answered,
            closed=self.closed,
            dispatched=self.dispatched,
            rejected=self.rejected,
        )


class SeatBook:
    """Every seat of the engine's room, in the engine's order."""

    def __init__(self, seats: dict[str, tuple[bool, bool]]) -> None:
        self.seats = {s: SeatState(s, h, d) for s, (h, d) in seats.items()}
        self.changed = True

    def may_take(self, seat: str, name: str) -> str | None:
        """Why ``name`` may not sit at ``seat`` now (None: they may)."""
        state = self.seats.get(seat)
        if state is None:
            return f"no seat {seat!r} in this room (seats: {', '.join(self.seats)})"
        if not name.strip():
            return "a trainee joins with a name"
        if state.status == "present":
            return f"seat {seat} is taken by {state.name}"
        if state.name and state.name != name:
            return f"seat {seat} is kept for {state.name}, who may come back to it"
        return None

    def take(self, seat: str, name: str) -> None:
        state = self.seats[seat]
        state.name, state.status = name, "present"
        self.changed = True

    def drop(self, seat: str, how: str) -> None:
        """The desk at ``seat`` has gone: the seat waits for its trainee (``hold``) or a
        virtual colleague covers it (``colleague``); its trainee's name is kept."""
        state = self.seats[seat]
        state.status = "away" if how == "hold" else "covered"
        self.changed = True

    def rows(self) -> list[SeatStatus]:
        return [s.status_row() for s in self.seats.values()]

    # --- the figures, folded from the events ---------------------------------------------------

    def feed(self, event: ev.Event) -> None:
        if isinstance(event, ev.CallAnswered):
            self._count(event.seat, "answered", call=event.call_id)
        elif isinstance(event, ev.CallClosed):
            if event.seat is not None:
                state = self.seats.get(event.seat)
                if state is not None and state.call_id == event.call_id:
                    state.call_id = None
                self._count(event.seat, "closed")
        elif isinstance(event, ev.VehicleAssigned):
            self._count(event.seat, "dispatched")
        elif isinstance(event, ev.CommandRejected):
            self._count(event.seat, "rejected")
        elif isinstance(event, ev.SeatCovered) and event.by == "person":
            state = self.seats.get(event.seat)
            if state is not None:
                state.name = event.trainee
                if state.status == "colleague":
                    state.status = "away"  # a resumed room: the seat waits for its trainee

    def _count(self, seat: str, figure: str, call: str | None = None) -> None:
        state = self.seats.get(seat)
        if state is None:
            return
        setattr(state, figure, getattr(state, figure) + 1)
        if call is not None:
            state.call_id = call
        self.changed = True
