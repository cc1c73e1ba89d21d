"""The fleet and the hospitals: shifts, the job cycle, diversion, stand-down and handover.

A job runs as one simpy process per vehicle: mobilise, drive to scene, the crew's decision
from the patient's true need (see-and-treat, or convey to an ED or elsewhere), the drive to
hospital, handover (its delay grows with the crews already waiting), clearing, and the drive
back to station. A vehicle on its way to a job or home can be interrupted: diverted to a more
urgent incident, stood down, or given a new job; it re-routes from the next road junction.

Interrupts: a vehicle's job (or drive home) process is interrupted only by ``_restart`` ("new
orders": a dispatch, a diversion, a stand-down, sent home) and by a breakdown, and only while
the vehicle is on its way to a job or home; both ways end the process at once. A crew with a
patient (at scene, conveying, at hospital, clearing) is never interrupted: a breakdown then
waits until the crew clears, and the waits of those phases (``_hold``) outlast an interrupt
anyway. A repair is a process of its own that nothing interrupts: a second breakdown while
repairing moves its end to the later of the two. No other process of the engine (shifts,
callers, the clinical hub, injects) is ever interrupted.

Vehicle positions are never ticked: a ``VehicleMoving`` event gives the route's ends and times,
and views interpolate along the route.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from ambsim_gui.geo.routing import NoRoute, Router
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim import rng as R
from ambsim_gui.sim.state import (
    EN_ROUTE_STATUSES,
    FREE_STATUSES,
    WITH_PATIENT_STATUSES,
    Incident,
    Patient,
    Vehicle,
)

if TYPE_CHECKING:
    from ambsim_gui.geo.routing import Route
    from ambsim_gui.sim.control import ControlRoom
    from ambsim_gui.sim.hub import ClinicalHub
    from ambsim_gui.sim.kernel import Kernel
    from ambsim_gui.sim.room import RoomState

SURPLUS_ON_SCENE_S = 5 * 60.0  # a crew that finds another already there hands over and leaves
RRV_HANDOVER_S = 5 * 60.0  # an RRV leaves this long after the conveying DCA arrives


class Fleet:
    """Every vehicle's job cycle and every hospital's handover queue."""

    def __init__(self, kernel: Kernel, room: RoomState) -> None:
        self.k = kernel
        self.room = room
        self.hub: ClinicalHub  # connected once they exist (``connect``)
        self.control: ControlRoom
        for spec in room.world.vehicles:
            room.vehicles[spec.vehicle_id] = Vehicle(
                id=spec.vehicle_id,
                callsign=spec.callsign,
                type=spec.type,
                station=spec.station,
                home_node=spec.home_node,
                duty=spec.duty,
                node=spec.home_node,
            )
        self.rebuild_station_times()

    def connect(self, hub: ClinicalHub, control: ControlRoom) -> None:
        """The clinical hub (a vehicle sent takes its incident off the stack) and the control
        room (the end of an episode of care closes its incidents), built after the fleet."""
        self.hub = hub
        self.control = control

    def handlers(self) -> dict[type[cmd.Command], Callable[[Any], str | None]]:
        return {
            cmd.DispatchVehicle: self.cmd_dispatch,
            cmd.DivertVehicle: self.cmd_divert,
            cmd.StandDown: self.cmd_stand_down,
        }

    def cmd_dispatch(self, c: cmd.DispatchVehicle) -> str | None:
        seat, why = self.room.seat_for(c, handler=False)
        if seat is None:
            return why
        return self.dispatch(c.vehicle_id, c.incident_id, c.seat, divert=False)

    def cmd_divert(self, c: cmd.DivertVehicle) -> str | None:
        seat, why = self.room.seat_for(c, handler=False)
        if seat is None:
            return why
        return self.dispatch(c.vehicle_id, c.incident_id, c.seat, divert=True)

    def cmd_stand_down(self, c: cmd.StandDown) -> str | None:
        seat, why = self.room.seat_for(c, handler=False)
        if seat is None:
            return why
        return self.stand_down(c.vehicle_id)

    def rebuild_station_times(self) -> None:
        """Travel times from every station to every node, one row a station: the ETA of a
        vehicle standing at its station is a lookup, not a search. Rebuilt when roads close."""
        homes = sorted({s.node for s in self.room.world.stations.values()})
        self._home_row = {node: i for i, node in enumerate(homes)}
        router = self.room.router
        self._from_home = (
            np.vstack([router.times_from(n) for n in homes]) if homes else np.zeros((0, 0))
        )

    # --- shifts --------------------------------------------------------------------------

    def start(self) -> None:
        k, room = self.k, self.room
        for v in room.vehicles.values():
            x, y = self._xy(v.node)
            first = v.duty[0] if v.duty else (k.end_s, k.end_s)
            k.emit(
                ev.VehicleCreated(
                    t=0.0,
                    vehicle_id=v.id,
                    callsign=v.callsign,
                    type=v.type,
                    station=v.station,
                    x=x,
                    y=y,
                    shift_start_s=first[0],
                    shift_end_s=v.duty[-1][1] if v.duty else k.end_s,
                )
            )
        for v in room.vehicles.values():
            k.env.process(self._shift(v))

    def _shift(self, v: Vehicle) -> Any:
        k = self.k
        for begin, end in v.duty:
            if begin > k.now:
                yield k.env.timeout(begin - k.now)
            if v.retired:
                return
            if v.broken:
                yield k.env.timeout(max(0.0, end - k.now))
                if not v.on_duty:
                    continue
                # repaired during this shift (``_repaired`` put it on duty): off duty now
            else:
                v.on_duty = True
                self._track_free(v)
                if v.status == "off_duty":
                    self._status(v, "available")
                self._plan_rest_break(v, begin, end)
                yield k.env.timeout(max(0.0, end - k.now))
            v.on_duty = False
            self._track_free(v)
            if v.status == "available":
                self._status(v, "off_duty")
            # a vehicle on a job or on its way home goes off duty when it gets back

    # --- crews' rest breaks and their protection near the finish ------------------------

    def _plan_rest_break(self, v: Vehicle, begin: float, end: float) -> None:
        rules = self.room.scenario.crews
        if rules.rest_break_min <= 0 or end - begin < rules.rest_break_from_shift_h * 3600.0:
            return
        due = begin + rules.rest_break_window_h[0] * 3600.0
        self.k.after(max(0.0, due - self.k.now), self._rest_break_due, v, end)

    def _rest_break_due(self, v: Vehicle, shift_end: float) -> None:
        if not v.on_duty or v.retired:
            return
        v.break_due = shift_end
        if v.status == "available":
            self._take_rest_break(v)

    def _take_rest_break(self, v: Vehicle) -> None:
        """Back at station with a break due: the crew rests (not free, not dispatchable)."""
        shift_end, v.break_due = v.break_due, None
        length = self.room.scenario.crews.rest_break_min * 60.0
        if shift_end is None or self.k.now + length > shift_end:
            return  # too late in the shift for a break: the crew finishes instead
        self._status(v, "rest")
        v.process = self.k.env.process(self._rest(v, length))

    def _rest(self, v: Vehicle, length: float) -> Any:
        try:
            yield self.k.env.timeout(length)
        except simpy.Interrupt:
            return  # a breakdown took the vehicle off the road meanwhile
        self._status(v, "available" if v.on_duty else "off_duty")

    def duty_end(self, v: Vehicle) -> float | None:
        """When the crew's current shift ends (None: not on a shift now)."""
        now = self.k.now
        return next((b for a, b in v.duty if a <= now < b), None)

    def going_to_rest(self, v: Vehicle) -> bool:
        """Driving back to station with its rest break due: sent only to a C1 meanwhile."""
        return v.break_due is not None and v.status == "returning"

    def protected(self, v: Vehicle) -> bool:
        """The crew is in its last minutes on a shift that ends before the scenario does: sent
        only to C1 and C2 (a crew whose shift ends with the scenario is relieved by the next
        one, the run-out's, at the end)."""
        minutes = self.room.scenario.crews.late_job_protection_min
        end = self.duty_end(v)
        if minutes <= 0 or end is None or end >= self.k.end_s - 1.0:
            return False
        return end - self.k.now < minutes * 60.0

    def on_shift_now(self, v: Vehicle) -> bool:
        return not v.retired and any(a <= self.k.now < b for a, b in v.duty)

    def end_duty(self, v: Vehicle) -> None:
        """Off duty now if free, else when back at station; no further shifts today."""
        v.retired = True
        v.on_duty = False
        self._track_free(v)
        if v.status == "available":
            self._status(v, "off_duty")

    def take_off_road(self, v: Vehicle, for_s: float | None) -> str:
        """A breakdown, off the road for ``for_s`` seconds (None: for the rest of the shift).

        Returns how it took effect: ``"now"`` (the vehicle stops where it is; a job it was on
        its way to goes back on the queue), ``"again"`` (it was already broken down: the repair
        ends at the later of the two ends), or ``"after_job"`` (its crew has a patient: the
        vehicle stops when the crew clears, and is off the road for ``for_s`` from then; a
        second breakdown meanwhile keeps the longer time)."""
        k = self.k
        if v.broken:
            back_at = math.inf if for_s is None else k.now + for_s
            v.back_at = max(v.back_at, back_at)
            return "again"
        if v.status in WITH_PATIENT_STATUSES:
            due = math.inf if for_s is None else for_s
            v.breakdown_due = due if v.breakdown_due is None else max(v.breakdown_due, due)
            return "after_job"
        self._stop(v, for_s)
        return "now"

    def _stop(self, v: Vehicle, for_s: float | None) -> None:
        k, room = self.k, self.room
        if v.incident_id is not None and v.status in EN_ROUTE_STATUSES:
            self._release(v, room.incidents[v.incident_id], "breakdown")
        node, _ = self.where_now(v)
        if v.process is not None and v.process.is_alive and v.process is not k.env.active_process:
            v.process.interrupt("breakdown")  # on its way to a job or home: it ends there
        v.node = node
        v.route = None
        v.broken = True
        v.on_duty = False
        self._status(v, "off_duty")
        v.back_at = math.inf if for_s is None else k.now + for_s
        if for_s is not None:
            v.repair = k.env.process(self._repaired(v))

    def _breaks_down_now(self, v: Vehicle) -> bool:
        """The crew has cleared: a breakdown met with the patient takes the vehicle off now."""
        due = v.breakdown_due
        if due is None:
            return False
        v.breakdown_due = None
        self._stop(v, None if due == math.inf else due)
        return True

    def _repaired(self, v: Vehicle) -> Any:
        k = self.k
        while True:
            back_at = v.back_at
            if back_at == math.inf:
                return  # broke down again meanwhile, for the rest of the shift
            try:
                yield k.env.timeout(max(0.0, back_at - k.now))
            except simpy.Interrupt:
                continue  # nothing interrupts a repair; were it to, the repair goes on
            if v.back_at == back_at:
                break  # else a second breakdown meanwhile moved the end later: wait on
        v.broken = False
        v.back_at = math.inf
        if self.on_shift_now(v):
            v.on_duty = True
            self.send_home(v, v.node, 0.0)
            if v.status == "off_duty":  # repaired at its own station
                self._status(v, "available")

    def oncoming_crews(self, until: float) -> list[str]:
        """The next shift comes on at the end of this one, for the run-out: a fresh crew and
        vehicle at the station of every vehicle that was on its shift at the end, on duty
        until ``until``. The crews going off finish the job they are on (a late finish) and
        go off duty; those free go off at once (their rota ends with the shift)."""
        k, room = self.k, self.room
        ending = k.end_s - 1e-6
        leaving = [
            v for v in room.vehicles.values()
            if not v.retired and any(a <= ending < b for a, b in v.duty)
        ]  # fmt: skip
        added: list[str] = []
        for old in leaving:
            n = len(room.vehicles) + 1
            v = Vehicle(
                id=f"V{n:03d}", callsign=f"{old.callsign}N", type=old.type, station=old.station,
                home_node=old.home_node, duty=((k.now, until),), node=old.home_node,
            )  # fmt: skip
            room.vehicles[v.id] = v
            x, y = self._xy(v.node)
            k.emit(
                ev.VehicleCreated(
                    t=k.now, vehicle_id=v.id, callsign=v.callsign, type=v.type,
                    station=v.station, x=x, y=y, shift_start_s=k.now, shift_end_s=until,
                )
            )  # fmt: skip
            k.env.process(self._shift(v))
            added.append(v.callsign)
        return added

    def add_crews(self, station: str, vtype: str, count: int) -> list[str]:
        """Extra vehicles on duty now at a station until the shift's end."""
        k, room = self.k, self.room
        site = room.world.stations[station]
        added: list[str] = []
        for _ in range(count):
            n = len(room.vehicles) + 1
            prefix = "".join(ch for ch in station.upper() if ch.isalpha())[:3] or "STN"
            callsign = f"{prefix}-X{n:02d}"
            v = Vehicle(
                id=f"V{n:03d}", callsign=callsign, type=vtype, station=station,
                home_node=site.node, duty=((k.now, k.end_s),), node=site.node,
            )  # fmt: skip
            room.vehicles[v.id] = v
            x, y = self._xy(v.node)
            k.emit(
                ev.VehicleCreated(
                    t=k.now, vehicle_id=v.id, callsign=callsign, type=vtype, station=station,
                    x=x, y=y, shift_start_s=k.now, shift_end_s=k.end_s,
                )
            )  # fmt: skip
            k.env.process(self._shift(v))
            added.append(callsign)
        return added

    # --- geometry ------------------------------------------------------------------------

    def _xy(self, node: int) -> tuple[float, float]:
        x, y = self.room.world.network.xy[node]
        return float(x), float(y)

    def position(self, v: Vehicle, t: float) -> tuple[float, float]:
        if v.route is not None and v.status in ("to_scene", "to_hospital", "returning"):
            return v.route.position_at(max(0.0, t - v.depart_t))
        return self._xy(v.node)

    def where_now(self, v: Vehicle) -> tuple[int, float]:
        """The node a vehicle can turn at, and the seconds until it gets there."""
        now = self.k.now
        if v.route is not None and v.status in ("to_scene", "to_hospital", "returning"):
            elapsed = now - v.depart_t
            if elapsed < 0:
                return int(v.route.nodes[0]), -elapsed
            node, t_at = v.route.next_node_at(elapsed)
            return int(node), max(0.0, float(t_at) - elapsed)
        if v.status == "mobilising":
            return v.node, max(0.0, v.ready_t - now)
        return v.node, 0.0

    def onlooker_router(self) -> Router:
        """The router that answers questions from outside the run (``onlooker=True``): the
        run's roads as they are now (closures included), with caches of its own."""
        return self.room.onlooker_router()

    def etas(
        self,
        target: int,
        vehicles: Sequence[Vehicle],
        bound: bool = False,
        *,
        onlooker: bool = False,
    ) -> np.ndarray:
        """Seconds for each vehicle to reach ``target``, mobilisation included.

        Vehicles standing at their station are answered from the station's precomputed tree.
        The others (driving home, on their way to a job) need one reverse search from the
        target. With ``bound`` only the nearest matters: the search stops once nobody left
        could beat the best vehicle found (a station vehicle, a crew finishing its drive home,
        or one reached on the way), and those it did not reach get ``inf``. An ``onlooker``
        (the desk, a player outside the engine) is answered by ``onlooker_router``: asking
        never changes what the run's own router answers next.
        """
        out = np.empty(len(vehicles))
        if not vehicles:
            return out
        mobilise = self.room.scenario.job_times.mobilise_s
        at_home = np.array([v.status == "available" and v.node == v.home_node for v in vehicles])
        if at_home.any():
            pairs = zip(vehicles, at_home, strict=True)
            rows = [self._home_row[v.home_node] for v, home in pairs if home]
            out[at_home] = self._from_home[rows, target] + mobilise
        if not at_home.all():
            away = np.flatnonzero(~at_home)
            nodes = np.empty(away.size, dtype=np.int64)
            delay = np.empty(away.size)
            for k, i in enumerate(away):
                v = vehicles[int(i)]
                nodes[k], delay[k] = self.where_now(v)
                if v.status == "available":
                    delay[k] += mobilise
            router = self.onlooker_router() if onlooker else self.room.router
            if bound:
                limit = float(out[at_home].min()) if at_home.any() else np.inf
                limit = min(limit, self._via_home_bound(target, vehicles, at_home))
                times = router.nearest_times(target, nodes, delay, limit)
            else:
                times = router.times_to(target)
            out[away] = times[nodes] + delay
        return out

    def _via_home_bound(
        self, target: int, vehicles: Sequence[Vehicle], at_home: np.ndarray
    ) -> float:
        """An upper bound on the best ETA among vehicles driving home: finish the drive home,
        then go from the station. The true best can only be sooner, so a search cut off at
        this bound still finds it, and a search that explores the whole city is avoided."""
        best = np.inf
        for i in np.flatnonzero(~at_home):
            v = vehicles[int(i)]
            if v.status == "returning" and v.route is not None:
                home_in = v.depart_t + float(v.route.duration_s) - self.k.now
                row = self._home_row.get(v.home_node)
                if row is not None:
                    best = min(best, max(0.0, home_in) + float(self._from_home[row, target]))
        return best

    def nearest(
        self, target: int, vehicles: Sequence[Vehicle], *, onlooker: bool = False
    ) -> tuple[Vehicle | None, float]:
        """The vehicle that can reach ``target`` soonest (lowest index on a tie)."""
        if not vehicles:
            return None, np.inf
        etas = self.etas(target, vehicles, bound=True, onlooker=onlooker)
        i = int(np.argmin(etas))
        return vehicles[i], float(etas[i])

    # --- status --------------------------------------------------------------------------

    def _track_free(self, v: Vehicle) -> None:
        if v.free:
            self.room.free[v.id] = v
        else:
            self.room.free.pop(v.id, None)

    def _status(self, v: Vehicle, status: str) -> None:
        v.status = status
        self._track_free(v)
        x, y = self.position(v, self.k.now)
        self.k.emit(
            ev.VehicleStatus(
                t=self.k.now, vehicle_id=v.id, status=status, incident_id=v.incident_id, x=x, y=y
            )
        )
        if status == "available" and v.break_due is not None and v.on_duty:
            self._take_rest_break(v)

    def _restart(self, v: Vehicle, process: Any) -> None:
        old = v.process
        if old is not None and old.is_alive and old is not self.k.env.active_process:
            old.interrupt("new orders")
        v.process = self.k.env.process(process)

    def route(self, source: int, target: int, *, blue: bool) -> Route:
        """The way from ``source`` to ``target`` avoiding closed roads; where a closure leaves
        no way out (a crew at a scene on the closed road), the way ignoring the closure, as
        police would let an ambulance through."""
        router = self.room.router if blue else self.room.router_normal
        try:
            return router.route(source, target)
        except NoRoute:
            base = self.room.base_router if blue else self.room.base_router_normal
            return base.route(source, target)

    def _drive(self, v: Vehicle, route: Route, delay: float, blue: bool) -> Route:
        source, target = int(route.nodes[0]), int(route.nodes[-1])
        v.route = route
        v.depart_t = self.k.now + delay
        self.k.emit(
            ev.VehicleMoving(
                t=self.k.now,
                vehicle_id=v.id,
                from_node=int(source),
                to_node=int(target),
                depart_t=v.depart_t,
                arrive_t=v.depart_t + float(route.duration_s),
                blue_light=blue,
            )
        )
        return route

    # --- the dispatch queue --------------------------------------------------------------

    def queue(self, inc: Incident, reason: str, needs: str = "any") -> None:
        if inc.status != "open":
            return
        if not inc.queued:
            inc.t_queued = self.k.now if reason == "decision" else min(inc.t_open, self.k.now)
        self.room.set_queued(inc, True)
        inc.needs = needs
        self.k.emit(
            ev.IncidentQueued(
                t=self.k.now, incident_id=inc.id, category=inc.category, needs=needs, reason=reason
            )
        )

    def dispatch(self, vehicle_id: str, incident_id: str, seat: str, *, divert: bool) -> str | None:
        k, room = self.k, self.room
        v = room.vehicles.get(vehicle_id)
        if v is None:
            return f"no vehicle {vehicle_id!r}"
        inc = room.incidents.get(incident_id)
        if inc is None:
            return f"no incident {incident_id!r}"
        if inc.status != "open":
            return f"incident {inc.id} is closed"
        if v.id in inc.vehicles:
            return f"{v.callsign} is already assigned to {inc.id}"
        if not v.on_duty:
            return f"{v.callsign} is off duty"
        if v.status == "rest":
            return f"{v.callsign}'s crew is on its rest break"
        if inc.category != "C1" and self.going_to_rest(v):
            return (
                f"{v.callsign}'s crew is on its way back for its rest break: only a C1 may "
                f"take it now ({inc.id} is {inc.category})"
            )
        if inc.category in ("C3", "C4") and self.protected(v):
            left = max(0.0, (self.duty_end(v) or self.k.now) - self.k.now) / 60.0
            minutes = self.room.scenario.crews.late_job_protection_min
            return (
                f"{v.callsign}'s crew finishes in {left:.0f} min: in its last {minutes:.0f} min "
                f"on shift a crew is sent only to C1 and C2 ({inc.id} is {inc.category})"
            )
        diverted_from: str | None = None
        if divert:
            if v.status not in EN_ROUTE_STATUSES or v.incident_id is None:
                return (
                    f"{v.callsign} is {v.status.replace('_', ' ')}"
                    + ("" if v.incident_id else " to no job")
                    + ": only a vehicle on its way to a job can be diverted"
                )
            old = room.incidents[v.incident_id]
            if inc.rank >= old.rank:
                return (
                    f"{v.callsign} is on its way to a {old.category} job: it may only be diverted "
                    f"to a more urgent incident (this is {inc.category})"
                )
            diverted_from = old.id
            self._release(v, old, "diverted")
        elif v.status not in FREE_STATUSES:
            hint = " (use divert)" if v.status in EN_ROUTE_STATUSES else ""
            return f"{v.callsign} is {v.status.replace('_', ' ')}, not free{hint}"

        node, delay = self.where_now(v)
        mobilise = v.status == "available"
        route = self.route(node, inc.node, blue=True)
        eta = (
            delay
            + float(route.duration_s)
            + (room.scenario.job_times.mobilise_s if mobilise else 0.0)
        )
        v.incident_id = inc.id
        inc.vehicles.append(v.id)
        if inc.needs == "any" or v.type == inc.needs:
            self.room.set_queued(inc, False)
        if inc.on_hub:
            self.hub.remove(inc)
        k.emit(
            ev.VehicleAssigned(
                t=k.now,
                vehicle_id=v.id,
                incident_id=inc.id,
                eta_s=eta,
                seat=seat,
                diverted_from=diverted_from,
            )
        )
        # The status changes now, not when the process first runs, so that no second command
        # at this same instant can find the vehicle still free.
        if mobilise:
            v.ready_t = k.now + room.scenario.job_times.mobilise_s
            self._status(v, "mobilising")
        else:
            self._drive(v, route, delay, blue=True)
            self._status(v, "to_scene")
        self._restart(v, self._respond(v, inc, route, delay, mobilise))
        return None

    def stand_down(self, vehicle_id: str) -> str | None:
        v = self.room.vehicles.get(vehicle_id)
        if v is None:
            return f"no vehicle {vehicle_id!r}"
        if v.status not in EN_ROUTE_STATUSES or v.incident_id is None:
            return (
                f"{v.callsign} is {v.status.replace('_', ' ')}: "
                "only a vehicle on its way to a job can be stood down"
            )
        inc = self.room.incidents[v.incident_id]
        self._release(v, inc, "stand_down")
        node, delay = self.where_now(v)
        self.send_home(v, node, delay)
        return None

    def _release(self, v: Vehicle, inc: Incident, reason: str) -> None:
        """Take an en-route vehicle off an incident; re-queue the incident if it is left bare."""
        if v.id in inc.vehicles:
            inc.vehicles.remove(v.id)
        v.incident_id = None
        self.k.emit(
            ev.VehicleStoodDown(t=self.k.now, vehicle_id=v.id, incident_id=inc.id, reason=reason)
        )
        if inc.status == "open" and not inc.vehicles and inc.truth_patient.treating is None:
            self.queue(inc, reason)

    def release_all(self, inc: Incident) -> None:
        """The incident closed: vehicles still on their way go home."""
        for vid in list(inc.vehicles):
            v = self.room.vehicles[vid]
            if v.status in EN_ROUTE_STATUSES:
                inc.vehicles.remove(vid)
                v.incident_id = None
                self.k.emit(
                    ev.VehicleStoodDown(
                        t=self.k.now, vehicle_id=v.id, incident_id=inc.id, reason="incident_closed"
                    )
                )
                node, delay = self.where_now(v)
                self.send_home(v, node, delay)

    # --- the job cycle -------------------------------------------------------------------

    def _respond(
        self, v: Vehicle, inc: Incident, route: Route, delay: float, mobilise: bool
    ) -> Any:
        k = self.k
        try:
            if mobilise:
                yield k.env.timeout(max(0.0, v.ready_t - k.now))
                self._drive(v, route, delay, blue=True)
                self._status(v, "to_scene")
            yield k.env.timeout(max(0.0, v.depart_t + float(route.duration_s) - k.now))
        except simpy.Interrupt:
            return
        v.node = inc.node
        v.route = None
        yield from self._at_scene(v, inc)

    def _at_scene(self, v: Vehicle, inc: Incident) -> Any:
        k, room = self.k, self.room
        patient = inc.truth_patient
        self._status(v, "on_scene")
        c1_transport = v.type == "DCA" and inc.category == "C1" and not inc.dca_arrived
        if v.type == "DCA":
            inc.dca_arrived = True
        if patient.done or inc.status != "open":
            # ARP's C1 transport-capable response is never surplus, even when the car's crew
            # finished before it came: it leaves as a surplus one would
            role = "transport" if c1_transport else "surplus"
        elif patient.treating is None:
            role = "first"
        elif (
            v.type == "DCA"
            and (patient.truth.need.startswith("convey") or inc.category == "C1")
            and room.vehicles[patient.treating].type == "RRV"
        ):
            role = "backup"  # the ambulance the car asked for, or a C1's dual response
        else:
            role = "surplus"
        k.emit(
            ev.VehicleArrived(t=k.now, vehicle_id=v.id, incident_id=inc.id, type=v.type, role=role)
        )
        if role in ("surplus", "transport"):
            yield from self._hold(SURPLUS_ON_SCENE_S)
            if v.id in inc.vehicles:
                inc.vehicles.remove(v.id)
            v.incident_id = None
            yield from self._return(v, v.node, 0.0)
            return
        patient.responded = True
        patient.treating = v.id
        patient.treating_incident = inc.id
        if role == "backup":
            for rid in patient.waiting_rrvs:
                rrv = room.vehicles[rid]
                self._restart(rrv, self._leave_scene(rrv, RRV_HANDOVER_S))
            patient.waiting_rrvs.clear()
            self.room.set_queued(inc, False)
        yield from self._treat(v, inc, patient)

    def _treat(self, v: Vehicle, inc: Incident, patient: Patient) -> Any:
        k, room = self.k, self.room
        jt = room.scenario.job_times
        rng = k.streams.get(R.PATIENT, patient.index, R.PATIENT_SCENE)
        need = patient.truth.need
        if need.startswith("convey") and v.type == "RRV":
            # An RRV cannot convey: its crew stays with the patient and asks for an ambulance.
            patient.waiting_rrvs.append(v.id)
            others = [
                room.vehicles[x] for i in patient.incident_ids for x in room.incidents[i].vehicles
            ]
            if not any(o.type == "DCA" and o.status in EN_ROUTE_STATUSES for o in others):
                self.queue(inc, "backup", needs="DCA")
            else:
                inc.needs = "DCA"
            return
        if need in ("hear_and_treat", "see_and_treat"):
            lo, hi = (
                jt.on_scene_no_care_min
                if need == "hear_and_treat"
                else jt.on_scene_see_and_treat_min
            )
            yield from self._hold(self._on_scene_s(rng, lo, hi))
            k.emit(
                ev.PatientOutcome(
                    t=k.now,
                    incident_id=inc.id,
                    vehicle_id=v.id,
                    outcome="see_and_treat",
                    hospital=None,
                )
            )
            self._episode_done(patient, inc, "see_and_treat")
            v.incident_id = None
            if v.id in inc.vehicles:
                inc.vehicles.remove(v.id)
            yield from self._return(v, v.node, 0.0)
            return
        lo, hi = jt.on_scene_convey_min
        yield from self._hold(self._on_scene_s(rng, lo, hi))
        hospital = self.choose_hospital(v.node, need)
        k.emit(
            ev.PatientOutcome(
                t=k.now, incident_id=inc.id, vehicle_id=v.id, outcome=need, hospital=hospital.name
            )
        )
        blue = inc.category in ("C1", "C2")
        route = self._drive(v, self.route(v.node, hospital.node, blue=blue), 0.0, blue=blue)
        self._status(v, "to_hospital")
        yield from self._hold(float(route.duration_s))
        v.node = hospital.node
        v.route = None
        self._status(v, "at_hospital")
        hrng = k.streams.get(R.PATIENT, patient.index, R.PATIENT_HOSPITAL)
        model = hospital.handover
        waiting = hospital.waiting
        k.emit(
            ev.HandoverStarted(
                t=k.now,
                vehicle_id=v.id,
                incident_id=inc.id,
                hospital=hospital.name,
                crews_waiting=waiting,
            )
        )
        hospital.waiting += 1
        median = model.median_min + model.per_waiting_min * waiting
        wait_min = min(model.max_min, median * float(np.exp(model.sigma * hrng.standard_normal())))
        yield from self._hold(wait_min * 60.0)
        hospital.waiting -= 1
        k.emit(
            ev.HandoverCompleted(
                t=k.now,
                vehicle_id=v.id,
                incident_id=inc.id,
                hospital=hospital.name,
                wait_s=wait_min * 60.0,
            )
        )
        self._episode_done(patient, inc, need)
        v.incident_id = None
        if v.id in inc.vehicles:
            inc.vehicles.remove(v.id)
        self._status(v, "clearing")
        yield from self._hold(jt.clearing_min * 60.0)
        yield from self._return(v, v.node, 0.0)

    def _hold(self, delay: float) -> Any:
        """Wait ``delay`` seconds of a job with a patient (or at a scene). Nothing interrupts
        these waits (a breakdown waits for the crew to clear, orders go only to vehicles on
        their way); were one interrupted, the crew would finish with the patient all the same:
        the wait goes on to its end, and the same timeout is waited for again."""
        wake = self.k.env.timeout(delay)
        while True:
            try:
                yield wake
                return
            except simpy.Interrupt:
                continue

    def _on_scene_s(self, rng: np.random.Generator, lo: float, hi: float) -> float:
        if self.room.scenario.job_times.on_scene_distribution == "exponential":
            return float(rng.exponential((lo + hi) / 2.0)) * 60.0
        return float(rng.uniform(min(lo, hi), max(lo, hi))) * 60.0

    def choose_hospital(self, scene: int, need: str) -> Any:
        """The nearest receiving unit for the need that is not on diversion."""
        room = self.room
        kinds = ("utc", "ed") if need == "convey_elsewhere" else ("ed",)
        router = room.router
        for kind in kinds:
            options = [h for h in room.hospitals.values() if h.kind == kind and not h.diverted]
            if options:
                times = [float(router.times_to(h.node)[scene]) for h in options]
                return options[int(np.argmin(times))]
        # every ED is diverted: the crew goes to the nearest ED anyway
        options = [h for h in room.hospitals.values() if h.kind == "ed"]
        times = [float(router.times_to(h.node)[scene]) for h in options]
        return options[int(np.argmin(times))]

    def _episode_done(self, patient: Patient, inc: Incident, outcome: str) -> None:
        patient.done = True
        patient.treating = None
        self.control.close_incident(inc, outcome)
        for other_id in patient.incident_ids:
            other = self.room.incidents[other_id]
            if other is not inc and other.status == "open":
                self.control.close_incident(other, "duplicate")
        for rid in patient.waiting_rrvs:
            rrv = self.room.vehicles[rid]
            self._leave_now(rrv)
        patient.waiting_rrvs.clear()

    def _leave_scene(self, v: Vehicle, after_s: float) -> Any:
        try:
            yield self.k.env.timeout(after_s)
        except simpy.Interrupt:
            return  # given other orders meanwhile: they stand
        if v.status == "on_scene":
            self._leave_now(v)

    def _leave_now(self, v: Vehicle) -> None:
        if v.incident_id is not None:
            inc = self.room.incidents[v.incident_id]
            if v.id in inc.vehicles:
                inc.vehicles.remove(v.id)
            v.incident_id = None
        self.send_home(v, v.node, 0.0)

    def send_home(self, v: Vehicle, node: int, delay: float) -> None:
        """Start the drive back to station now (status changes at once), as a new process;
        or, for a crew that met a breakdown with its patient, stop here."""
        if self._breaks_down_now(v):
            return
        wait = self._set_off_home(v, node, delay)
        self._restart(v, self._homeward(v, wait))

    def _return(self, v: Vehicle, node: int, delay: float) -> Any:
        """The same, within the vehicle's running job process."""
        if self._breaks_down_now(v):
            return
        yield from self._homeward(v, self._set_off_home(v, node, delay))

    def _set_off_home(self, v: Vehicle, node: int, delay: float) -> float:
        if node == v.home_node and delay <= 0:
            return 0.0
        route = self._drive(v, self.route(node, v.home_node, blue=False), delay, blue=False)
        self._status(v, "returning")
        return delay + float(route.duration_s)

    def _homeward(self, v: Vehicle, wait: float) -> Any:
        try:
            if wait > 0:
                yield self.k.env.timeout(wait)
        except simpy.Interrupt:
            return  # new orders, or a breakdown: whoever interrupted has taken over
        if v.broken:
            return  # broke down before this drive (of no length) began
        v.node = v.home_node
        v.route = None
        self._status(v, "available" if v.on_duty else "off_duty")
