"""The simulation engine: a simpy world with one door for commands and one stream of events.

``Engine`` is the facade the program uses: it builds a shift's ``Kernel`` (clock, event
stream, random streams), its ``RoomState`` (calls, incidents, vehicles, hospitals, seats) and
the components that act on them, each given the kernel, the room and the siblings it calls:
``Callers`` (the public's side of the line), ``ControlRoom`` (call handling and incidents),
``Fleet`` (vehicles, the dispatch queue), ``ClinicalHub``, ``Hospitals`` and ``Injects``.
Each component registers the handlers of the commands that change its state; commands from
the desk, instructor injects and replayed logs come in through ``submit`` and are looked up
in that registry. Built-in policies playing seats of the room read a ``RoomView`` (no hidden
truth) and are asked to ``act`` after each simulation step; their commands are applied by the
same handlers. Everything that changes is emitted as a typed event (``events.py``), in order.

The door is total: whatever ``submit`` is given (a command with a field of the wrong type, an
inject holding a value no session can store, something that is not a command at all) ends in
an accepted command or a ``CommandRejected`` event that says what was wrong, never in an
exception, and the command log (what a session records) only ever holds plain data; see
``commands.check``. The built-in policies' commands are the engine's own (``Kernel.drain``) and skip
that check, which costs about a microsecond a command.

Determinism: the same world, seed and timed external commands give the same event stream. The
engine never reads the wall clock, never iterates over sets, and draws every random number
from a per-source stream (``rng.py``). External commands must be submitted after
``run_until(t)`` at the time they were given, which is exactly what the desk and the replay do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from ambsim_gui.geo.routing import Router
from ambsim_gui.scenario.model import Scenario
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim import rng as R
from ambsim_gui.sim.callers import Callers
from ambsim_gui.sim.control import ControlRoom
from ambsim_gui.sim.distribution import CallDistributor
from ambsim_gui.sim.fleet import Fleet
from ambsim_gui.sim.hospitals import Hospitals
from ambsim_gui.sim.hub import ClinicalHub
from ambsim_gui.sim.injects import Injects
from ambsim_gui.sim.kernel import Kernel, Listener
from ambsim_gui.sim.longrun import fewer_collections
from ambsim_gui.sim.room import RoomState
from ambsim_gui.sim.state import Call, HospitalState, Incident, Seat, Vehicle
from ambsim_gui.sim.view import RoomView
from ambsim_gui.sim.world import World

if TYPE_CHECKING:
    from ambsim_gui.sim.policies import Policy

Handler = Callable[[Any], "str | None"]

__all__ = ["Engine", "Listener"]


SEAT_COVERS = ("person", "colleague")
"""Who may play a seat (``commands.CoverSeat``): a person at a desk, or a virtual colleague."""

RUN_OUT_STEP_S = 60.0
"""How often the run-out looks whether everything has closed."""
RUN_OUT_CAP_S = 6 * 3600.0
"""The headless run's run-out cap: six hours after the shift's end, what is still open stays
open (a London day's last C4 closes within about three)."""


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
        run_out_s: float | None = None,
        call_distribution: str | None = None,
    ) -> None:
        """``policy`` plays the virtual colleagues; ``trainee_policy`` the trainee's seat
        (None: the trainee's commands come from outside, through ``submit``). ``role``
        overrides the scenario's trainee role: call_handler, dispatcher or both.

        ``run_out_s``: after the shift's end no new call comes in, but the room runs on, for
        at most this long, until every call and incident has closed (the run-out): the
        oncoming crews take over the fleet and the policies every seat. None: the run ends
        with the shift (the desk).

        ``call_distribution`` overrides the scenario's ``control_room.call_distribution``
        (trainee_first or shared; a session recorded before the distributor replays shared)."""
        from ambsim_gui.sim.policies import make_policy

        scenario = world.scenario
        seed = int(scenario.seed if seed is None else seed)
        end_s = scenario.duration_s
        if duration_s is not None:
            end_s = min(end_s, float(duration_s))
        self.world = world
        self.kernel = kernel = Kernel(seed, end_s)
        self.run_out_s = None if not run_out_s else float(run_out_s)
        kernel.stop_s = end_s + (self.run_out_s or 0.0)
        self._finisher: simpy.Process | None = None
        self.room = room = RoomState(world, role)
        self.command_log: list[cmd.TimedCommand] = []
        # Called with each external command's TimedCommand as soon as it is logged, before it
        # is applied (a session recorder writes it at once); see ``submit``.
        self.on_command: list[Callable[[cmd.TimedCommand], None]] = []
        self.rejections = 0

        # The components, each given what it works on and the siblings it calls.
        self.distributor = room.distributor = CallDistributor(kernel, room, call_distribution)
        self.callers = Callers(kernel, room)
        self.fleet = Fleet(kernel, room)
        self.hospital_desk = Hospitals(kernel, room)
        self.hub = ClinicalHub(kernel, room, self.fleet)
        self.control = ControlRoom(kernel, room, self.callers, self.fleet, self.hub)
        self.fleet.connect(self.hub, self.control)
        self.hub.connect(self.control)
        self.injects = Injects(kernel, room, self.callers, self.fleet, self.hospital_desk)
        self.handler_owner: dict[type[cmd.Command], object] = {}
        self._handlers: dict[type[cmd.Command], Handler] = {}
        for component in (self.control, self.fleet, self.hospital_desk, self.injects, self):
            for kind, handler in component.handlers().items():
                if kind in self._handlers:
                    raise RuntimeError(f"two handlers for {kind.KIND}")
                self._handlers[kind] = handler
                self.handler_owner[kind] = component

        # The built-in policies read the room through a view of what it can know.
        view = RoomView(kernel, room, self.fleet)
        self.policies: list[Policy] = []
        trainee_seats = [s for s in room.seats if s == "trainee"]
        colleague_seats = [s for s in room.seats if s != "trainee"]
        if trainee_policy is not None and trainee_seats:
            if policy == trainee_policy:
                colleague_seats = colleague_seats + trainee_seats
            else:
                self.policies.append(make_policy(trainee_policy, view, trainee_seats))
        if policy is not None and colleague_seats:
            self.policies.insert(0, make_policy(policy, view, colleague_seats))
        room.virtual_seats = {seat for p in self.policies for seat in p.seats}
        self.distributor.start()
        kernel.seat_actors(list(self.policies), self._apply)

        kernel.emit(
            ev.ShiftStarted(
                t=0.0,
                scenario=world.name,
                seed=seed,
                start_clock=scenario.start,
                duration_s=end_s,
                regime=scenario.regime,
            )
        )
        self.hospital_desk.start()
        self.fleet.start()
        self.callers.start()
        self.hub.start()
        self.injects.start()
        kernel.env.process(self._end_of_shift())

    # --- the facade: the kernel's and the room's state under their old names ------------

    @property
    def env(self) -> simpy.Environment:
        return self.kernel.env

    @property
    def streams(self) -> R.RandomStreams:
        return self.kernel.streams

    @property
    def seed(self) -> int:
        return self.kernel.seed

    @property
    def end_s(self) -> float:
        return self.kernel.end_s

    @property
    def events(self) -> list[ev.Event]:
        return self.kernel.events

    @property
    def listeners(self) -> list[Listener]:
        return self.kernel.listeners

    @property
    def scenario(self) -> Scenario:
        return self.room.scenario

    @property
    def role(self) -> str:
        return self.room.role

    @property
    def calls(self) -> dict[str, Call]:
        return self.room.calls

    @property
    def ringing(self) -> list[str]:
        return self.room.ringing

    @property
    def incidents(self) -> dict[str, Incident]:
        return self.room.incidents

    @property
    def seats(self) -> dict[str, Seat]:
        return self.room.seats

    @property
    def virtual_seats(self) -> set[str]:
        return self.room.virtual_seats

    @property
    def sectors(self) -> dict[str, str]:
        return self.room.sectors

    @property
    def vehicles(self) -> dict[str, Vehicle]:
        return self.room.vehicles

    @property
    def free(self) -> dict[str, Vehicle]:
        return self.room.free

    @property
    def hospitals(self) -> dict[str, HospitalState]:
        return self.room.hospitals

    @property
    def router(self) -> Router:
        return self.room.router

    @property
    def router_normal(self) -> Router:
        return self.room.router_normal

    @property
    def base_router(self) -> Router:
        return self.room.base_router

    @property
    def base_router_normal(self) -> Router:
        return self.room.base_router_normal

    def dispatcher_for(self, incident: Incident) -> str:
        """The seat whose sector the incident is in (the first dispatcher if off the map)."""
        return self.room.dispatcher_for(incident)

    def emit(self, event: ev.Event) -> None:
        self.kernel.emit(event)

    def subscribe(self, listener: Listener, replay: bool = True) -> None:
        """Feed ``listener`` every future event (and, with ``replay``, all past ones first)."""
        self.kernel.subscribe(listener, replay)

    def after(self, delay: float, action: Callable[..., None], *args: Any) -> None:
        self.kernel.after(delay, action, *args)

    def view(self, *, onlooker: bool = True) -> RoomView:
        """A read-only ``RoomView`` of what the control room can know (no hidden truth).
        ``onlooker`` (the default, for anyone outside the run): its ETA questions go to the
        onlookers' router and never change the run."""
        return RoomView(self.kernel, self.room, self.fleet, onlooker=onlooker)

    # --- time ----------------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.kernel.env.now  # type: ignore[no-any-return]

    @property
    def finished(self) -> bool:
        return self.kernel.ended

    def run_until(self, t: float) -> None:
        """Advance the simulation to time ``t`` (capped at the shift's end, or with a run-out
        at the moment it is over)."""
        kernel = self.kernel
        end_s = kernel.end_s
        target = min(float(t), end_s)
        if target > kernel.env.now:
            kernel.env.run(until=target)
        if target >= end_s and not kernel.ended and kernel.now <= end_s:
            kernel.env.run(until=end_s + 1e-9)
        finisher = self._finisher
        if float(t) > end_s and not kernel.ended and finisher is not None:
            # the run-out: on to ``t`` or to its end, whichever comes first, and not one event
            # beyond its end (the clock stops when the run-out's process does)
            if float(t) >= kernel.stop_s:
                kernel.env.run(until=finisher)
            else:
                step = kernel.env.timeout(float(t) - kernel.now)
                kernel.env.run(until=kernel.env.any_of([finisher, step]))

    def run(self, progress: Callable[[float], None] | None = None, step_s: float = 3600.0) -> None:
        """Run to the end of the shift, and through the run-out if there is one (headless)."""
        t = self.now
        kernel = self.kernel
        with fewer_collections():
            while t < kernel.end_s:
                t = min(t + step_s, kernel.end_s)
                self.run_until(t)
                if progress is not None:
                    progress(self.now / kernel.end_s)
            if not kernel.ended:
                self.run_until(kernel.stop_s)

    def _end_of_shift(self) -> Any:
        kernel = self.kernel
        yield kernel.env.timeout(kernel.end_s)
        if self.run_out_s is None:
            kernel.ended = True
            kernel.emit(ev.ShiftEnded(t=kernel.now))
            return
        kernel.emit(ev.ShiftEnded(t=kernel.now))
        self._finisher = kernel.env.process(self._run_out())

    def _run_out(self) -> Any:
        """No new calls; the oncoming crews and the policies close what is left, or the cap."""
        kernel, room = self.kernel, self.room
        self.fleet.oncoming_crews(until=kernel.stop_s)
        while (room.open or room.calls_open()) and kernel.now < kernel.stop_s:
            yield kernel.env.timeout(min(RUN_OUT_STEP_S, kernel.stop_s - kernel.now))
        kernel.ended = True
        kernel.emit(
            ev.RunOutEnded(
                t=kernel.now,
                open_incidents=len(room.open),
                open_calls=room.calls_open(),
            )
        )

    # --- the command door ----------------------------------------------------------------

    def handlers(self) -> dict[type[cmd.Command], Handler]:
        """The door's own: a malformed command is rejected with the reason ``check`` found;
        who plays a seat (the engine holds the policies)."""
        return {cmd.MalformedCommand: self._cmd_malformed, cmd.CoverSeat: self._cmd_cover}

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
        self.kernel.drain()
        return accepted

    def replay(self, log: Iterable[cmd.TimedCommand], until: float | None = None) -> None:
        """Re-apply a recorded command log (the same way the desk applied it), then run on."""
        with fewer_collections():
            for timed in log:
                self.run_until(timed.t)
                self.submit(timed.command)
            self.run_until(self.kernel.stop_s if until is None else until)

    def reject(self, command: cmd.Command, reason: str) -> None:
        self.rejections += 1
        kind = command.KIND
        if type(command) is cmd.MalformedCommand:
            kind = command.given or kind  # the kind the trainee or instructor meant to give
        self.kernel.emit(
            ev.CommandRejected(t=self.now, command=kind, seat=command.seat, reason=reason)
        )

    def _apply(self, command: cmd.Command) -> None:
        handler = self._handlers.get(type(command))
        if self.kernel.ended:
            self.reject(command, "the shift has ended")
            return
        if handler is None:
            self.reject(command, f"unknown command {command.KIND!r}")
            return
        try:
            problem = handler(command)
        except Exception as exc:  # noqa: BLE001 - the engine must never raise into the desk
            problem = f"internal error: {type(exc).__name__}: {exc}"
        if problem:
            self.reject(command, problem)

    def _cmd_malformed(self, c: cmd.MalformedCommand) -> str | None:
        return c.reason or "a malformed command"

    def _cmd_cover(self, c: cmd.CoverSeat) -> str | None:
        """Hand seat ``c.covered`` to a person or to the virtual colleagues (the first policy,
        which plays the colleagues' seats)."""
        room = self.room
        if c.covered not in room.seats:
            return f"no seat {c.covered!r} in this control room"
        if c.by not in SEAT_COVERS:
            return f"a seat is covered by {' or '.join(SEAT_COVERS)}, not {c.by!r}"
        if c.by == "colleague":
            if not self.policies:
                return "no virtual colleague plays in this room"
            colleagues = self.policies[0]
            if c.covered not in colleagues.seats:
                playing = set(colleagues.seats) | {c.covered}
                colleagues.set_seats([s for s in room.seats if s in playing])
        else:
            for policy in self.policies:
                if c.covered in policy.seats:
                    policy.set_seats([s for s in policy.seats if s != c.covered])
        room.virtual_seats = {seat for p in self.policies for seat in p.seats}
        self.kernel.emit(ev.SeatCovered(t=self.now, seat=c.covered, by=c.by, trainee=c.trainee))
        return None

    # --- incidents (the control room's, under their old names) ---------------------------

    def open_incident(self, call: Call, disposition: str) -> Incident:
        """Open the room's record for a call and close the call with ``disposition``."""
        return self.control.open_incident(call, disposition)

    def set_category(self, inc: Incident, category: str, reason: str) -> None:
        self.control.set_category(inc, category, reason)

    def close_by_phone(self, inc: Incident, *, by: str, kind: str) -> None:
        """Hear-and-treat: advice or a referral closes the incident without a vehicle."""
        self.control.close_by_phone(inc, by=by, kind=kind)

    def close_incident(self, inc: Incident, outcome: str) -> None:
        self.control.close_incident(inc, outcome)

    def set_queued(self, inc: Incident, queued: bool) -> None:
        self.room.set_queued(inc, queued)

    # --- read-only views for the desk (no truth) -----------------------------------------

    def ringing_calls(self) -> list[Call]:
        return self.room.ringing_calls()

    def open_incidents(self) -> list[Incident]:
        return self.room.open_incidents()

    def open_incidents_about(self, complaint: str) -> list[Incident]:
        """Open incidents with this complaint, in opening order."""
        return self.room.open_incidents_about(complaint)

    def dispatch_queue(self) -> list[Incident]:
        """Incidents waiting for a vehicle, most urgent first, then oldest."""
        return self.room.dispatch_queue()

    def free_vehicles(self, vtype: str | None = None) -> list[Vehicle]:
        return self.room.free_vehicles(vtype)

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
        return float(self.kernel.streams.get(*key).random())
