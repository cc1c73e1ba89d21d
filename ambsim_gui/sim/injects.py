"""Injects: the events an instructor schedules in a scenario or fires live from the desk.

A burst of scripted calls, a surge of demand, a hospital on diversion, roads closed, a vehicle
broken down, crews coming on or going off duty. Scheduled injects come from the scenario's
``injects`` list; live ones arrive as ``Inject`` commands (the same mapping, validated by the
same pydantic model) and are recorded like any other command. Each one that takes effect emits
an ``InjectApplied`` event with a one-line summary for the timeline.

Road closures change routing for journeys planned after the closure; a vehicle already on its
way keeps the route it set off on (as a crew on the road would, until told otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import TypeAdapter, ValidationError
from shapely.geometry import Polygon

from ambsim_gui.scenario.model import (
    Breakdown,
    CallBurst,
    CrewChange,
    DiversionInject,
    Inject,
    RoadClosure,
    Surge,
    clock_to_minutes,
)
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim import rng as R
from ambsim_gui.sim.callers import casualty_words
from ambsim_gui.sim.state import EN_ROUTE_STATUSES, Vehicle

if TYPE_CHECKING:
    from ambsim_gui.sim.callers import Callers
    from ambsim_gui.sim.fleet import Fleet
    from ambsim_gui.sim.hospitals import Hospitals
    from ambsim_gui.sim.kernel import Kernel
    from ambsim_gui.sim.room import RoomState

INJECT_ADAPTER: TypeAdapter[Any] = TypeAdapter(Inject)


class Injects:
    """Schedules and applies injects for one shift (and owns the ``Inject`` command)."""

    def __init__(
        self,
        kernel: Kernel,
        room: RoomState,
        callers: Callers,
        fleet: Fleet,
        hospitals: Hospitals,
    ) -> None:
        self.k = kernel
        self.room = room
        self.callers = callers
        self.fleet = fleet
        self.hospitals = hospitals
        self._count = 0
        self._closures: dict[str, np.ndarray] = {}
        self._broken: dict[str, float | None] = {}  # vehicle id -> back on the road at

    def handlers(self) -> dict[type[cmd.Command], Callable[[Any], str | None]]:
        return {cmd.Inject: self.cmd_inject}

    def cmd_inject(self, c: cmd.Inject) -> str | None:
        return self.live(c.spec)

    def start(self) -> None:
        for spec in self.room.scenario.injects:
            at = self._offset(spec.at, spec.at_min)
            if 0 <= at < self.k.end_s:
                self.k.env.process(self._at(at, spec))

    def _offset(self, at: str | None, at_min: float | None) -> float:
        if at_min is not None:
            return at_min * 60.0
        return ((clock_to_minutes(at or "00:00") - self.room.scenario.start_min) % 1440) * 60.0

    def _at(self, at: float, spec: Any) -> Any:
        yield self.k.env.timeout(at)
        problem = self.apply(spec, live=False)
        if problem:
            self.k.emit(
                ev.InjectApplied(
                    t=self.k.now, inject=spec.type, summary=f"not applied: {problem}", live=False
                )
            )

    def live(self, raw: dict[str, Any]) -> str | None:
        """An instructor's inject from the desk: validate, then apply now."""
        data = dict(raw)
        data.pop("at", None)
        data["at_min"] = self.k.now / 60.0
        try:
            spec = INJECT_ADAPTER.validate_python(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            return f"inject {where}: {first['msg']}"
        return self.apply(spec, live=True)

    def apply(self, spec: Any, *, live: bool) -> str | None:
        self._count += 1
        handlers: dict[type, Callable[[Any], tuple[str | None, str]]] = {
            CallBurst: self._call_burst,
            Surge: self._surge,
            DiversionInject: self._diversion,
            RoadClosure: self._road_closure,
            Breakdown: self._breakdown,
            CrewChange: self._crews,
        }
        problem, summary = handlers[type(spec)](spec)
        if problem:
            return problem
        self.k.emit(ev.InjectApplied(t=self.k.now, inject=spec.type, summary=summary, live=live))
        return None

    # --- calls and demand ----------------------------------------------------------------

    def _place(self, spec: CallBurst | Surge) -> tuple[str | None, int | None, int | None]:
        """(problem, node, area index) of an inject's place."""
        world = self.room.world
        if isinstance(spec, CallBurst) and spec.point is not None:
            try:
                p = world.network.point(spec.point)
            except Exception as exc:  # MapError: say which inject
                return str(exc), None, None
            return None, int(world.network.snap(p.x, p.y)), None
        if isinstance(spec, CallBurst) and spec.xy is not None:
            return None, int(world.network.snap(spec.xy[0], spec.xy[1])), None
        if spec.area is not None:
            if spec.area not in world.area_names:
                return f"no area {spec.area!r} on the map", None, None
            return None, None, world.area_names.index(spec.area)
        return None, None, None

    def _call_burst(self, spec: CallBurst) -> tuple[str | None, str]:
        k, room = self.k, self.room
        if spec.card not in room.world.cards.cards:
            return f"no call card {spec.card!r}", ""
        if spec.variant is not None:
            try:
                room.world.cards.cards[spec.card].variant(spec.variant)
            except ValueError as exc:  # said now, not raised later by the calls' process
                return str(exc), ""
        problem, node, area = self._place(spec)
        if problem:
            return problem, ""
        index = self._count
        rng = k.streams.get(R.SCRIPTED, "inject", index)
        if node is None:
            a = (
                area
                if area is not None
                else int(rng.choice(len(room.world.area_weights), p=room.world.area_weights))
            )
            node = int(room.world.network.random_node_in_area(a, rng))
        gap = spec.over_min * 60.0 / max(1, spec.count)
        for n in range(spec.count):
            k.env.process(self._burst_call(spec, index, n, node, n * gap))
        place = room.world.area_name_at_node(node)
        return None, f"{spec.count} x {spec.card} in {place}, {spec.callers} caller(s) each"

    def _burst_call(self, spec: CallBurst, index: int, n: int, node: int, delay: float) -> Any:
        k, room = self.k, self.room
        if delay > 0:
            yield k.env.timeout(delay)
        rng = k.streams.get(R.SCRIPTED, "inject", index, n)
        truth = room.world.cards.draw_variant(rng, spec.card, spec.variant)
        patient = self.callers.new_patient(truth=truth, node=node, scripted=True, source="inject")
        if spec.count > 1:  # several casualties at one scene, not one casualty many times
            patient.scene = f"scene{index}"
            patient.casualty = casualty_words(n)
        self.callers.first_calls(patient, extra=spec.callers - 1)

    def _surge(self, spec: Surge) -> tuple[str | None, str]:
        problem, _, area = self._place(spec)
        if problem:
            return problem, ""
        if spec.factor > 1:
            self.k.env.process(
                self.callers.extra_arrivals(
                    self._count, spec.factor - 1, spec.duration_min * 60.0, area
                )
            )
        where = f" in {spec.area}" if spec.area else ""
        return None, f"demand x{spec.factor:g}{where} for {spec.duration_min:g} min"

    # --- hospitals and roads -------------------------------------------------------------

    def _diversion(self, spec: DiversionInject) -> tuple[str | None, str]:
        hosp = self.room.hospitals.get(spec.hospital)
        if hosp is None:
            return f"no hospital {spec.hospital!r}", ""
        self.hospitals.set_diverted(hosp, spec.diverted)
        if spec.duration_min is not None:
            self.k.env.process(
                self._undivert(hosp.name, not spec.diverted, spec.duration_min * 60.0)
            )
        state = "on" if spec.diverted else "off"
        until = f" for {spec.duration_min:g} min" if spec.duration_min else ""
        return None, f"{hosp.name} {state} diversion{until}"

    def _undivert(self, name: str, diverted: bool, after: float) -> Any:
        yield self.k.env.timeout(after)
        self.hospitals.set_diverted(self.room.hospitals[name], diverted)

    def _road_closure(self, spec: RoadClosure) -> tuple[str | None, str]:
        network = self.room.world.network
        edges: list[np.ndarray] = []
        for name in spec.roads:
            found = network.edges_named(name)
            if len(found) == 0:
                return f"no road called {name!r} on the map", ""
            edges.append(np.asarray(found))
        if spec.polygon is not None:
            edges.append(np.asarray(network.edges_within(Polygon(spec.polygon))))
        closed = np.unique(np.concatenate(edges)) if edges else np.zeros(0, dtype=np.int64)
        if closed.size == 0:
            return "no road lies inside the closure", ""
        closure_id = f"R{self._count}"
        self._closures[closure_id] = closed
        what = ", ".join(spec.roads) if spec.roads else "roads in the marked area"
        self._reroute()
        self.k.emit(
            ev.RoadClosed(
                t=self.k.now,
                closure_id=closure_id,
                edges=tuple(int(x) for x in closed),
                description=what,
            )
        )
        if spec.duration_min is not None:
            self.k.env.process(self._reopen(closure_id, spec.duration_min * 60.0))
        until = f" for {spec.duration_min:g} min" if spec.duration_min else ""
        return None, f"closed {what} ({closed.size} road links){until}"

    def _reopen(self, closure_id: str, after: float) -> Any:
        yield self.k.env.timeout(after)
        if self._closures.pop(closure_id, None) is not None:
            self._reroute()
            self.k.emit(ev.RoadReopened(t=self.k.now, closure_id=closure_id))

    def _reroute(self) -> None:
        room = self.room
        active = (
            np.concatenate(list(self._closures.values()))
            if self._closures
            else np.zeros(0, dtype=np.int64)
        )
        if active.size:
            room.router = room.base_router.with_closures(active.tolist())
            room.router_normal = room.base_router_normal.with_closures(active.tolist())
        else:
            room.router, room.router_normal = room.base_router, room.base_router_normal
        self.fleet.rebuild_station_times()

    # --- vehicles and crews --------------------------------------------------------------

    def _vehicle(self, callsign: str) -> Vehicle | None:
        for v in self.room.vehicles.values():
            if v.callsign == callsign or v.id == callsign:
                return v
        return None

    def _breakdown(self, spec: Breakdown) -> tuple[str | None, str]:
        k = self.k
        v = self._vehicle(spec.vehicle)
        if v is None:
            return f"no vehicle {spec.vehicle!r}", ""
        for_s = None if spec.duration_min is None else spec.duration_min * 60.0
        how = self.fleet.take_off_road(v, for_s)
        until = (
            f" for {spec.duration_min:g} min" if spec.duration_min else " for the rest of the shift"
        )
        if how == "again":  # the later of the two repairs' ends stands
            left = v.back_at - k.now
            again = f"{v.callsign} broke down again: "
            if left == float("inf"):
                return None, again + "off the road for the rest of the shift"
            return None, again + f"back on the road in {left / 60:g} min"
        if how == "after_job":
            return None, f"{v.callsign} broke down{until}, once its crew is done with the patient"
        return None, f"{v.callsign} broke down{until}"

    def _crews(self, spec: CrewChange) -> tuple[str | None, str]:
        room = self.room
        if spec.station not in room.world.stations:
            return f"no station {spec.station!r}", ""
        if spec.on_duty:
            added = self.fleet.add_crews(spec.station, spec.vehicle_type, spec.count)
            return (
                None,
                f"{spec.count} extra {spec.vehicle_type} on duty at {spec.station}: "
                + ", ".join(added),
            )
        candidates = [
            v
            for v in room.vehicles.values()
            if v.station == spec.station and v.type == spec.vehicle_type and v.on_duty
        ]
        candidates.sort(
            key=lambda v: (v.status not in ("available",), v.status in EN_ROUTE_STATUSES, v.id)
        )
        chosen = candidates[: spec.count]
        for v in chosen:
            self.fleet.end_duty(v)
        return None, f"{len(chosen)} {spec.vehicle_type} crews off duty at {spec.station}"
