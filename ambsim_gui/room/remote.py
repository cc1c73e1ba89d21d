"""A desk's ports over a room: the same doors as a solo desk, answered by the room server.

One job: ``RemotePorts`` implements ``readmodel.ports.DeskPorts`` over a ``RoomClient``, so
the one desk (``ui.desk.DeskWindow``) runs unchanged on a seat of a room. Commands go to the
room, which stamps and applies them; ETAs are asked of the room; the static facts come from
the scenario's own world built here (checked against the room's by the scenario's sha256);
vehicle positions are interpolated along the streamed ``VehicleMoving`` drives, re-routed on
that world as the replay does (``record.vehicle_positions.RouteCache``).

The events come in on the client's reader thread and wait in its list; ``run_until``, which
the desk's clock calls on its own thread every tick, hands the new ones to the desk's
listeners, so the desk is only ever touched from its thread. The room's clock is the clock:
``now`` is the room's time, run on at the room's speed between its messages.

The desk calls its own seat ``trainee`` (its panels show "your" calls by that name); the
ports translate between that and the room's name for this seat both ways, on every event's
``seat`` and in every command sent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ambsim_gui.readmodel.ports import DeskSetup, Listener, Ports, SeatRoles, sites_of
from ambsim_gui.readmodel.room import RoomProjection
from ambsim_gui.record.vehicle_positions import RouteCache
from ambsim_gui.room.client import RoomClient
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev

if TYPE_CHECKING:
    from ambsim_gui.geo.routing import Route
    from ambsim_gui.sim.world import World

DESK_SEAT = "trainee"
"""What the desk calls the seat it sits at."""


class RemotePorts(Ports):
    """``DeskPorts`` over a joined ``RoomClient`` (``client.fold`` False: the desk folds)."""

    def __init__(self, client: RoomClient, world: World) -> None:
        assert client.welcome is not None, "join the room first"
        self.client = client
        self.world = world
        self.seat = client.seat or DESK_SEAT
        self._listeners: list[Listener] = []
        self._delivered: list[ev.Event] = []
        self._taken = 0
        self._room = RoomProjection(keep_transcripts=False)
        self._routes = RouteCache(world)

    # --- the seat's name -----------------------------------------------------------------------

    def _as_desk(self, event: ev.Event) -> ev.Event:
        seat = getattr(event, "seat", None)
        if self.seat == DESK_SEAT or seat not in (self.seat, DESK_SEAT):
            return event
        return dataclasses.replace(event, seat=DESK_SEAT if seat == self.seat else self.seat)  # type: ignore[call-arg]

    # --- the shift's static facts --------------------------------------------------------------

    def setup(self) -> DeskSetup:
        world = self.world
        welcome = self.client.welcome
        assert welcome is not None
        seats = {}
        for s in welcome.seats:
            name = (
                DESK_SEAT if s.seat == self.seat else (self.seat if s.seat == DESK_SEAT else s.seat)
            )
            seats[name] = SeatRoles(s.handler, s.dispatcher)
        stations, hospitals = sites_of(world)
        mine = seats[DESK_SEAT]
        role = {(True, True): "both", (True, False): "call_handler"}.get(
            (mine.handler, mine.dispatcher), "dispatcher"
        )
        return DeskSetup(
            scenario=world.scenario,
            seed=welcome.seed,
            role=role,  # this seat's, not the scenario's trainee's
            seats=seats,
            protocol=world.protocol,
            network=world.network,
            area_names=tuple(world.area_names),
            stations=stations,
            hospitals=hospitals,
        )

    # --- CommandDoor and Dispatcher -------------------------------------------------------------

    def submit(self, command: cmd.Command) -> bool:
        if command.seat == DESK_SEAT:
            command = dataclasses.replace(command, seat=self.seat)
        reply = self.client.send(command)
        self._deliver()
        if not reply.accepted and not self._engine_refused(reply.t):
            # refused by the room before the engine, or the line is down: the desk shows the
            # reason as it shows the engine's (which came as an event already)
            self._emit(
                ev.CommandRejected(
                    t=self.now, command=command.KIND, seat=DESK_SEAT, reason=reply.reason
                )
            )
        return reply.accepted

    def _engine_refused(self, t: float | None) -> bool:
        return t is not None  # the room stamps a time only on what reached the engine

    def etas(self, incident_id: str, vehicle_ids: Sequence[str]) -> list[float]:
        return self.client.etas(incident_id, list(vehicle_ids))

    # --- Tracker -------------------------------------------------------------------------------

    def position(self, vehicle_id: str, t: float) -> tuple[float, float]:
        vehicle = self._room.vehicles[vehicle_id]
        x, y = self._routes.position(vehicle, t)  # type: ignore[arg-type]
        return float(x), float(y)

    def route(self, vehicle_id: str) -> tuple[Route, float] | None:
        drive = self._room.vehicles[vehicle_id].drive
        if drive is None:
            return None
        route = self._routes.route(drive)  # type: ignore[arg-type]
        return None if route is None else (route, drive.depart_t)

    def stand_node(self, vehicle_id: str) -> int:
        vehicle = self._room.vehicles[vehicle_id]
        if vehicle.drive is not None:
            drive = vehicle.drive
            return drive.to_node if self.now >= drive.arrive_t else drive.from_node
        return int(self.world.stations[vehicle.station].node)

    # --- ShiftDriver ---------------------------------------------------------------------------

    @property
    def now(self) -> float:
        return min(self.client.now(), self.end_s)

    @property
    def finished(self) -> bool:
        clock = self.client.clock
        return bool(clock is not None and clock.finished) or self._room.shift_ended

    @property
    def end_s(self) -> float:
        welcome = self.client.welcome
        return float(welcome.end_s) if welcome is not None else 0.0

    @property
    def connected(self) -> bool:
        return self.client.connected

    def run_until(self, t: float) -> None:
        """The room runs the shift: hand the desk what has arrived since the last tick."""
        del t
        self._deliver()

    def _deliver(self) -> None:
        # After a rejoin the client holds the whole shift again, from its welcome: the room's
        # stream is one stream, so what the desk has is its first ``_taken`` events still.
        client = self.client
        with client._cond:
            new = client.events[self._taken :]
            self._taken = len(client.events)
        for event in new:
            self._emit(self._as_desk(event))

    def _emit(self, event: ev.Event) -> None:
        self._delivered.append(event)
        self._room.apply(event)
        for listener in list(self._listeners):
            listener(event)

    def subscribe(self, listener: Listener, replay: bool = True) -> None:
        self._deliver()
        if replay:
            for event in list(self._delivered):
                listener(event)
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)
