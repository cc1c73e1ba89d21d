"""The room's state: everything the engine's components share, and nothing they do.

``RoomState`` holds the calls, incidents, vehicles, hospitals and seats of one shift, the
indexes kept beside them (calls ringing, open incidents, the dispatch queue, free vehicles),
the dispatch sectors, the run's routers and the scenario and world it was built from. Every
component receives it explicitly with the kernel (``Callers(kernel, room)``); no component
holds the engine.

Which component changes what: ``Callers`` rings and closes calls (``calls``, ``ringing``,
seats' calls); ``ControlRoom`` opens and closes incidents (``incidents`` and their indexes);
``Fleet`` moves vehicles (``vehicles``, ``free``) and queues incidents for them;
``Hospitals`` puts hospitals on diversion; ``Injects`` closes roads (the routers). The state
objects carry the hidden patient truth (``truth_patient``): policies and the desk read the room
through ``view.RoomView`` instead, which has none of it.
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING

from ambsim_gui.geo.routing import Router
from ambsim_gui.sim.state import Call, HospitalState, Incident, Seat, Vehicle

if TYPE_CHECKING:
    from ambsim_gui.sim import commands as cmd
    from ambsim_gui.sim.distribution import CallDistributor
    from ambsim_gui.sim.world import World

#: The dispatch queue's order: most urgent first, then longest waiting (C-level key, sorted
#: at every policy step).
QUEUE_ORDER = attrgetter("rank", "t_queued", "id")
BY_ID = attrgetter("id")

ROLES = ("call_handler", "dispatcher", "both")


class RoomState:
    """The shift's mutable state and its indexes (see the module's note for who changes what)."""

    def __init__(self, world: World, role: str | None = None) -> None:
        self.world = world
        self.scenario = world.scenario
        self.role = role or self.scenario.control_room.trainee_role
        if self.role not in ROLES:
            raise ValueError(f"unknown trainee role {self.role!r}")

        self.calls: dict[str, Call] = {}
        self.ringing: list[str] = []  # call ids in arrival order
        self.incidents: dict[str, Incident] = {}
        self.open: dict[str, Incident] = {}  # open incidents in opening order
        self.queued: dict[str, Incident] = {}  # open incidents waiting for a vehicle
        self.open_by_complaint: dict[str, dict[str, Incident]] = {}  # in opening order
        self.seats: dict[str, Seat] = {}
        self.virtual_seats: set[str] = set()  # seats played by the engine's own policies
        self.vehicles: dict[str, Vehicle] = {}
        self.free: dict[str, Vehicle] = {}  # on duty and available or returning, kept by Fleet
        self.hospitals: dict[str, HospitalState] = {}
        # which ringing calls a colleague may take (the engine sets it; None: any)
        self.distributor: CallDistributor | None = None

        self._build_seats()
        self.sectors = self._dispatch_sectors()

        # Routers of this shift's own (the world's roads and pinned trees, empty caches): which
        # cached tree answers a query, and so which of two equally fast routes is driven,
        # depends on earlier queries, and those of another shift on the same world must not
        # count. A road closure swaps them for this shift only.
        self.base_router = world.router.for_run()
        self.base_router_normal = world.router_normal.for_run()
        self.router = self.base_router
        self.router_normal = self.base_router_normal
        self._onlooker: tuple[Router, Router] | None = None

    # --- seats ---------------------------------------------------------------------------

    def calls_open(self) -> int:
        """Calls still ringing or on a line (the run-out waits for them to close)."""
        return sum(1 for call in self.calls.values() if call.status != "closed")

    def _build_seats(self) -> None:
        room = self.scenario.control_room
        role = self.role
        trainee_handles = role in ("call_handler", "both")
        trainee_dispatches = role in ("dispatcher", "both")
        self.seats["trainee"] = Seat(
            "trainee", handler=trainee_handles, dispatcher=trainee_dispatches
        )
        for i in range(1, room.call_handlers - int(trainee_handles) + 1):
            self.seats[f"CH{i}"] = Seat(f"CH{i}", handler=True, dispatcher=False)
        for i in range(1, room.dispatchers - int(trainee_dispatches) + 1):
            self.seats[f"D{i}"] = Seat(f"D{i}", handler=False, dispatcher=True)

    def _dispatch_sectors(self) -> dict[str, str]:
        """Area name -> the dispatcher seat that covers it.

        A control room splits its patch between dispatchers; areas go, busiest first, to the
        seat with the least demand so far. So a trainee who dispatches has a sector of their
        own that virtual colleagues leave alone, and its incidents wait if the trainee does.
        """
        world = self.world
        seats = [s.id for s in self.seats.values() if s.dispatcher]
        load = dict.fromkeys(seats, 0.0)
        sectors: dict[str, str] = {}
        order = sorted(
            range(len(world.area_names)),
            key=lambda i: (-float(world.area_weights[i]), world.area_names[i]),
        )
        for i in order:
            seat = min(seats, key=lambda s: (load[s], seats.index(s)))
            sectors[world.area_names[i]] = seat
            load[seat] += float(world.area_weights[i])
        return sectors

    def dispatcher_for(self, incident: Incident) -> str:
        """The seat whose sector the incident is in (the first dispatcher if off the map)."""
        seat = self.sectors.get(incident.area)
        if seat is None:
            seat = next(s.id for s in self.seats.values() if s.dispatcher)
        return seat

    def seat_for(self, command: cmd.Command, *, handler: bool) -> tuple[Seat | None, str]:
        """The seat that gave ``command``, if it may (take calls with ``handler``, else
        dispatch); else None and why not."""
        seat = self.seats.get(command.seat)
        if seat is None:
            return None, f"no seat {command.seat!r} in this control room"
        if handler and not seat.handler:
            return None, f"seat {seat.id} does not take calls in this scenario"
        if not handler and not seat.dispatcher:
            return None, f"seat {seat.id} does not dispatch in this scenario"
        return seat, ""

    # --- indexes -------------------------------------------------------------------------

    def ringing_for(self, seat: str) -> list[str]:
        """The ringing calls ``seat`` may answer, oldest first (the distributor keeps some
        for the trainee)."""
        if self.distributor is None:
            return list(self.ringing)
        return self.distributor.free_for(seat)

    def ringing_calls(self) -> list[Call]:
        return [self.calls[c] for c in self.ringing]

    def open_incidents(self) -> list[Incident]:
        return list(self.open.values())

    def open_incidents_about(self, complaint: str) -> list[Incident]:
        """Open incidents with this complaint, in opening order (where a duplicate caller's
        incident is looked for)."""
        return list(self.open_by_complaint.get(complaint, {}).values())

    def set_queued(self, inc: Incident, queued: bool) -> None:
        """Put an incident in the dispatch queue or take it out (the one place that does, so
        the queue the policies read every step need not be searched for)."""
        inc.queued = queued
        if queued:
            self.queued[inc.id] = inc
        else:
            self.queued.pop(inc.id, None)

    def dispatch_queue(self) -> list[Incident]:
        """Incidents waiting for a vehicle, most urgent first, then oldest."""
        queue = list(self.queued.values())
        queue.sort(key=QUEUE_ORDER)
        return queue

    def free_vehicles(self, vtype: str | None = None) -> list[Vehicle]:
        free = sorted(self.free.values(), key=BY_ID)
        return free if vtype is None else [v for v in free if v.type == vtype]

    # --- routing -------------------------------------------------------------------------

    def onlooker_router(self) -> Router:
        """The router that answers questions from outside the run (``onlooker=True``): the
        run's roads as they are now (closures included), with caches of its own."""
        router = self.router
        if self._onlooker is None or self._onlooker[0] is not router:
            self._onlooker = (router, router.for_run())
        return self._onlooker[1]
