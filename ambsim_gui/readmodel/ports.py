"""The doors a desk talks to a shift through, beside the read model, and their engine adapter.

One job: a desk reads the room from ``RoomProjection`` (folded from the events it is fed) and
from ``DeskSetup`` (the shift's static facts: scenario, protocol, map, sites, seats); all it
may ask of the live simulation goes through these small typed ports:

- ``CommandDoor.submit``: the one way in, a command applied at the current simulation time;
- ``Dispatcher.etas``: candidate ETAs for a dispatch, answered as an onlooker (asking never
  changes the run: tests/test_onlooker_determinism.py);
- ``Tracker``: where a vehicle is along its drive, the drive's route, where it stands (route
  geometry is not in the events: a desk on another machine re-routes the ``VehicleMoving``
  drives, as ``record.vehicle_positions.RouteCache`` does for the replay);
- ``ShiftDriver``: the clock (``now``, ``finished``, ``end_s``), ``run_until`` for a desk that
  drives its own engine, and ``subscribe`` / ``unsubscribe`` for the event stream.

``EnginePorts`` implements all of them over a live engine, which it holds as an opaque object
(this module imports nothing of the engine's): the one place that knows the engine's shape.
No Qt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev

if TYPE_CHECKING:
    from ambsim_gui.geo.network import RoadNetwork
    from ambsim_gui.geo.routing import Route
    from ambsim_gui.scenario.model import Scenario

Listener = Callable[[ev.Event], None]


class CommandDoor(Protocol):
    def submit(self, command: cmd.Command) -> bool:
        """Apply ``command`` now; False when refused (a ``CommandRejected`` event says why)."""
        ...


class Dispatcher(Protocol):
    def etas(self, incident_id: str, vehicle_ids: Sequence[str]) -> list[float]:
        """Seconds for each vehicle to reach the incident, mobilisation included (inf: none)."""
        ...


class Tracker(Protocol):
    def position(self, vehicle_id: str, t: float) -> tuple[float, float]:
        """Where the vehicle is at ``t`` (interpolated along its current drive)."""
        ...

    def route(self, vehicle_id: str) -> tuple[Route, float] | None:
        """The vehicle's current drive (its route and when it set off), if it drives."""
        ...

    def stand_node(self, vehicle_id: str) -> int:
        """The road node where the vehicle stands (or last left, while driving)."""
        ...


@runtime_checkable
class ShiftDriver(Protocol):
    @property
    def now(self) -> float: ...

    @property
    def finished(self) -> bool: ...

    @property
    def end_s(self) -> float: ...

    def run_until(self, t: float) -> None: ...

    def subscribe(self, listener: Listener, replay: bool = True) -> None: ...

    def unsubscribe(self, listener: Listener) -> None: ...


class Question(Protocol):
    @property
    def text(self) -> str: ...


class TriageGuide(Protocol):
    """The triage protocol as the call panel asks it (static: the shift's protocol file)."""

    @property
    def questions(self) -> Mapping[str, Any]: ...

    def applicable(self, answers: Mapping[str, str]) -> list[str]: ...

    def next_question(self, answers: Mapping[str, str]) -> str | None: ...

    def describe(self, complaint: str, code: str = "") -> str: ...


@dataclass(frozen=True)
class SiteInfo:
    """A station or hospital on the map."""

    name: str
    kind: str  # station | ed | utc
    x: float
    y: float
    node: int


@dataclass(frozen=True)
class SeatRoles:
    handler: bool
    dispatcher: bool


@dataclass(frozen=True)
class DeskSetup:
    """What a desk knows before the first event: the shift's static facts."""

    scenario: Scenario
    seed: int
    role: str  # the trainee's: call_handler | dispatcher | both
    seats: Mapping[str, SeatRoles]
    protocol: TriageGuide
    network: RoadNetwork
    area_names: Sequence[str]
    stations: Mapping[str, SiteInfo]
    hospitals: Mapping[str, SiteInfo]  # in the world's order


class DeskPorts(CommandDoor, Dispatcher, Tracker, ShiftDriver, Protocol):
    """Everything a desk may ask of a shift, beside the events it is fed."""

    def setup(self) -> DeskSetup: ...


def _site(site: Any) -> SiteInfo:
    return SiteInfo(site.name, site.kind, float(site.x), float(site.y), int(site.node))


def sites_of(world: Any) -> tuple[dict[str, SiteInfo], dict[str, SiteInfo]]:
    """A world's stations and hospitals (in the world's order) as the desk sees them."""
    return (
        {name: _site(s) for name, s in world.stations.items()},
        {name: _site(s) for name, s in world.hospitals.items()},
    )


class Ports:
    """Base of a desk's set of ports (``DeskPorts``): over a live engine, or over a room
    (``room.remote.RemotePorts``). A desk given one uses it as it is."""


class EnginePorts(Ports):
    """The desk's ports over a live ``sim.engine.Engine`` (held opaquely)."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    @classmethod
    def of(cls, source: Any) -> DeskPorts:
        """``source`` itself when it already is a set of ports, else ports over an engine."""
        if isinstance(source, Ports):
            return source  # type: ignore[return-value]
        return cls(source)

    @property
    def engine(self) -> Any:
        """The engine behind the ports, for the one who built the desk (never for panels)."""
        return self._engine

    # --- the shift's static facts ----------------------------------------------------------

    def setup(self) -> DeskSetup:
        e = self._engine
        world = e.world
        return DeskSetup(
            scenario=e.scenario,
            seed=int(e.seed),
            role=str(e.role),
            seats={s.id: SeatRoles(bool(s.handler), bool(s.dispatcher)) for s in e.seats.values()},
            protocol=world.protocol,
            network=world.network,
            area_names=tuple(world.area_names),
            stations=sites_of(world)[0],
            hospitals=sites_of(world)[1],
        )

    # --- CommandDoor ------------------------------------------------------------------------

    def submit(self, command: cmd.Command) -> bool:
        return bool(self._engine.submit(command))

    # --- Dispatcher -------------------------------------------------------------------------

    def etas(self, incident_id: str, vehicle_ids: Sequence[str]) -> list[float]:
        e = self._engine
        incident = e.incidents[incident_id]
        vehicles = [e.vehicles[v] for v in vehicle_ids]
        if not vehicles:
            return []
        # an onlooker: never changes the shift's routing
        return [float(t) for t in e.vehicle_etas(incident, vehicles, onlooker=True)]

    # --- Tracker ----------------------------------------------------------------------------

    def position(self, vehicle_id: str, t: float) -> tuple[float, float]:
        e = self._engine
        x, y = e.fleet.position(e.vehicles[vehicle_id], t)
        return float(x), float(y)

    def route(self, vehicle_id: str) -> tuple[Route, float] | None:
        v = self._engine.vehicles[vehicle_id]
        return None if v.route is None else (v.route, float(v.depart_t))

    def stand_node(self, vehicle_id: str) -> int:
        return int(self._engine.vehicles[vehicle_id].node)

    # --- ShiftDriver ------------------------------------------------------------------------

    @property
    def now(self) -> float:
        return float(self._engine.now)

    @property
    def finished(self) -> bool:
        return bool(self._engine.finished)

    @property
    def end_s(self) -> float:
        return float(self._engine.end_s)

    def run_until(self, t: float) -> None:
        self._engine.run_until(t)

    def subscribe(self, listener: Listener, replay: bool = True) -> None:
        self._engine.subscribe(listener, replay=replay)

    def unsubscribe(self, listener: Listener) -> None:
        listeners = self._engine.listeners
        if listener in listeners:
            listeners.remove(listener)
