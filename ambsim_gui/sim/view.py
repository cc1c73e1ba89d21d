"""What the control room can know, read-only: the view policies (and outside players) read.

``RoomView`` shows the room's state as its staff see it: each call as the handler has it (where
the caller said they are, their opening words, the questions asked, the answers given, the
protocol's recommendation), incidents, vehicles, hospitals, seats, the queues and the clock,
and answers ETA questions. Every object it hands out is a read-only stand-in (``CallView``,
``IncidentView``, ...) whose public attributes are plain values, tuples or read-only mappings;
none leads to a ``Patient`` or a ``PatientTruth`` (true category, true need, the answers not
yet given, where the patient really is). Commands are the only way to change anything.

The hidden truth is reachable only from the engine's own state (``RoomState``, the components)
and the event stream's truth events, which the assessment and the instructor's replay read.

**The oracle.** One read of the truth is left, named and in one place: ETA questions
(``nearest``, ``etas``) are answered for the node where the patient really is
(``oracle_scene_node``), not for the caller's reported position, as the engine always has.
The room only knows the reported ``x, y`` (tens to hundreds of metres off); snapping that to the
road network would give other ETAs, other vehicles and a different event stream for every
pinned scenario, so the behaviour is kept and the read is documented here instead.

ETA questions go to the run's own router for the engine's built-in policies, and to the
onlookers' router for anyone outside the run (``onlooker=True``: a desk, an external player),
whose questions must never change what the run's router answers next.
"""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, Sequence, ValuesView
from operator import attrgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

if TYPE_CHECKING:
    from ambsim_gui.sim.fleet import Fleet
    from ambsim_gui.sim.kernel import Kernel
    from ambsim_gui.sim.room import RoomState
    from ambsim_gui.sim.state import Call, HospitalState, Incident, Seat, Vehicle
    from ambsim_gui.triage.protocol import Assessment, Protocol

_inner = attrgetter("_s")  # the state object behind a view object (this module only)


def _field(name: str) -> Any:
    """A read-only attribute passed through from the state object (a C-level getter)."""
    return property(attrgetter(f"_s.{name}"))


def _tuple(name: str) -> Any:
    get = attrgetter(f"_s.{name}")
    return property(lambda self: tuple(get(self)))


def _mapping(name: str) -> Any:
    get = attrgetter(f"_s.{name}")
    return property(lambda self: MappingProxyType(get(self)))


class _View:
    __slots__ = ("_s",)

    def __init__(self, state: Any) -> None:
        self._s = state

    def __setattr__(self, name: str, value: Any) -> None:
        if name != "_s":
            raise AttributeError(f"{type(self).__name__} is read-only")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._s.id if hasattr(self._s, 'id') else self._s.name})"


class CallView(_View):
    """A call as the call handler has it."""

    __slots__ = ()
    id: str = _field("id")
    t_arrive: float = _field("t_arrive")
    x: float = _field("x")  # where the caller says they are
    y: float = _field("y")
    uncertainty_m: float = _field("uncertainty_m")
    area: str = _field("area")
    opening: str = _field("opening")  # the caller's first words
    new_casualty: bool = _field("new_casualty")  # says it is another person hurt at a scene
    casualty: str | None = _field("casualty")  # which person at a scene the caller is about
    status: str = _field("status")
    seat: str | None = _field("seat")
    t_answered: float | None = _field("t_answered")
    answers: Mapping[str, str] = _mapping("answers")  # to the questions asked so far
    answer_texts: Mapping[str, str] = _mapping("answer_texts")
    asked: tuple[str, ...] = _tuple("asked")
    pending_question: str | None = _field("pending_question")
    assessment: Assessment | None = _field("assessment")  # the protocol's recommendation
    category: str | None = _field("category")  # the handler's
    incident_id: str | None = _field("incident_id")
    disposition: str | None = _field("disposition")


class IncidentView(_View):
    """An incident as the room has it (where the caller said, not where the patient is)."""

    __slots__ = ()
    id: str = _field("id")
    call_ids: tuple[str, ...] = _tuple("call_ids")
    category: str = _field("category")
    rank: int = _field("rank")
    x: float = _field("x")
    y: float = _field("y")
    area: str = _field("area")
    complaint: str = _field("complaint")
    code: str = _field("code")
    t_open: float = _field("t_open")
    status: str = _field("status")
    queued: bool = _field("queued")
    needs: str = _field("needs")
    t_queued: float = _field("t_queued")
    on_hub: bool = _field("on_hub")
    vehicles: tuple[str, ...] = _tuple("vehicles")
    outcome: str | None = _field("outcome")


class VehicleView(_View):
    """A vehicle as the dispatcher's screen shows it."""

    __slots__ = ()
    id: str = _field("id")
    callsign: str = _field("callsign")
    type: str = _field("type")
    station: str = _field("station")
    home_node: int = _field("home_node")
    duty: tuple[tuple[float, float], ...] = _field("duty")
    status: str = _field("status")
    on_duty: bool = _field("on_duty")
    free: bool = _field("free")
    incident_id: str | None = _field("incident_id")
    node: int = _field("node")  # where it is, or the node it last left
    broken: bool = _field("broken")
    retired: bool = _field("retired")


class SeatView(_View):
    __slots__ = ()
    id: str = _field("id")
    handler: bool = _field("handler")
    dispatcher: bool = _field("dispatcher")
    call_id: str | None = _field("call_id")
    wrapping_up: bool = _field("wrapping_up")
    reaching: bool = _field("reaching")
    free: bool = _field("free")


class HospitalView(_View):
    __slots__ = ()
    name: str = _field("name")
    kind: str = _field("kind")
    node: int = _field("node")
    x: float = _field("x")
    y: float = _field("y")
    diverted: bool = _field("diverted")
    waiting: int = _field("waiting")


S = TypeVar("S")
V = TypeVar("V", bound=_View)


class ViewMap(dict[str, V], Generic[S, V]):
    """A read-only mapping of the room's id -> state as id -> view object (one per id).

    A view object is made on the first lookup of its id; a lookup that hits is a plain
    dict's (policies look calls, incidents and seats up at every step). Walks over it
    (``values``, ``items``) go in the room's order. Nothing may be stored in it from outside."""

    __slots__ = ("_source", "_make", "_ordered")

    def __init__(self, source: dict[str, S], make: Callable[[S], V]) -> None:
        super().__init__()
        self._source = source
        self._make = make
        self._ordered = True  # the views made so far are in the room's order

    def __missing__(self, key: str) -> V:
        source = self._source
        view = self._make(source[key])  # KeyError for an id the room does not have
        dict.__setitem__(self, key, view)
        if self._ordered and next(reversed(source)) != key:
            self._ordered = False
        return view

    def synced(self) -> ViewMap[S, V]:
        """Every view made, in the room's order (the room only ever adds ids); returns itself."""
        source = self._source
        if not self._ordered or dict.__len__(self) != len(source):
            views = [(key, self[key]) for key in source]
            dict.clear(self)
            dict.update(self, views)
            self._ordered = True
        return self

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def of(self, state: S) -> V:
        """The view of a state object of this mapping."""
        return self[state.id]  # type: ignore[attr-defined]

    def __iter__(self) -> Iterator[str]:
        return iter(self._source)

    def __len__(self) -> int:
        return len(self._source)

    def __contains__(self, key: object) -> bool:
        return key in self._source

    def keys(self) -> KeysView[str]:  # type: ignore[override]
        return dict.keys(self.synced())

    def values(self) -> ValuesView[V]:  # type: ignore[override]
        return dict.values(self.synced())

    def items(self) -> ItemsView[str, V]:  # type: ignore[override]
        return dict.items(self.synced())

    def __eq__(self, other: object) -> bool:
        return dict.__eq__(self.synced(), other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ViewMap({len(self)} entries)"

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("the room's view is read-only: send a command instead")

    __setitem__ = __delitem__ = _read_only  # type: ignore[assignment]
    pop = popitem = clear = update = setdefault = __ior__ = _read_only  # type: ignore[assignment]


class RoomView:
    """The room as its staff can know it, read-only (see the module's note)."""

    __slots__ = ("_k", "_room", "_fleet", "onlooker", "calls", "incidents", "vehicles", "seats",
                 "hospitals", "protocol", "regime", "hub_clinicians")  # fmt: skip

    def __init__(
        self, kernel: Kernel, room: RoomState, fleet: Fleet, *, onlooker: bool = False
    ) -> None:
        self._k = kernel
        self._room = room
        self._fleet = fleet
        self.onlooker = onlooker
        self.calls: ViewMap[Call, CallView] = ViewMap(room.calls, CallView)
        self.incidents: ViewMap[Incident, IncidentView] = ViewMap(room.incidents, IncidentView)
        self.vehicles: ViewMap[Vehicle, VehicleView] = ViewMap(room.vehicles, VehicleView)
        self.seats: ViewMap[Seat, SeatView] = ViewMap(room.seats, SeatView)
        self.hospitals: ViewMap[HospitalState, HospitalView] = ViewMap(room.hospitals, HospitalView)
        self.protocol: Protocol = room.world.protocol
        self.regime: str = room.scenario.regime
        self.hub_clinicians: int = room.scenario.clinical_hub.clinicians

    @property
    def now(self) -> float:
        return self._k.now

    @property
    def end_s(self) -> float:
        return self._k.end_s

    @property
    def ringing(self) -> tuple[str, ...]:
        """Ids of the calls ringing, in arrival order."""
        return tuple(self._room.ringing)

    def ringing_for(self, seat: str) -> list[str]:
        """The ringing calls ``seat`` may answer, oldest first (some are kept for the
        trainee: ``distribution.CallDistributor``)."""
        return self._room.ringing_for(seat)

    def dispatcher_for(self, incident: IncidentView) -> str:
        """The seat whose sector the incident is in (the first dispatcher if off the map)."""
        seat = self._room.sectors.get(incident.area)
        if seat is None:
            seat = next(s.id for s in self._room.seats.values() if s.dispatcher)
        return seat

    def open_incidents(self) -> list[IncidentView]:
        views = self.incidents
        return [views[k] for k in self._room.open]

    def open_incidents_about(self, complaint: str) -> list[IncidentView]:
        """Open incidents with this complaint, in opening order."""
        views = self.incidents
        return [views[k] for k in self._room.open_by_complaint.get(complaint, ())]

    def dispatch_queue(self) -> list[IncidentView]:
        """Incidents waiting for a vehicle, most urgent first, then oldest."""
        views = self.incidents
        return [views[i.id] for i in self._room.dispatch_queue()]

    def free_vehicles(self, vtype: str | None = None) -> list[VehicleView]:
        """Vehicles on duty and free (available, or driving home), by id."""
        views = self.vehicles
        free = self._room.free
        if vtype is None:
            return [views[k] for k in sorted(free)]
        return [views[k] for k in sorted(free) if free[k].type == vtype]

    # --- ETA questions -------------------------------------------------------------------

    def oracle_scene_node(self, incident: IncidentView) -> int:
        """ORACLE: the road node where the incident's patient really is (hidden truth: the
        room knows only the caller's reported ``x, y``). ETA questions are answered for it,
        as they always were; see the module's note."""
        return int(self._room.incidents[incident.id].node)

    def protected(self, vehicle: VehicleView) -> bool:
        """The crew is in its last minutes on shift: sent only to C1 and C2 (``Fleet``)."""
        return self._fleet.protected(_inner(vehicle))

    def going_to_rest(self, vehicle: VehicleView) -> bool:
        """The crew is on its way back for its rest break: sent only to a C1 (``Fleet``)."""
        return self._fleet.going_to_rest(_inner(vehicle))

    def nearest(
        self, incident: IncidentView, vehicles: Sequence[VehicleView]
    ) -> tuple[VehicleView | None, float]:
        """The vehicle that can reach the incident soonest (lowest index on a tie)."""
        pool = list(map(_inner, vehicles))
        best, eta = self._fleet.nearest(
            self.oracle_scene_node(incident), pool, onlooker=self.onlooker
        )
        return (None if best is None else self.vehicles.of(best)), eta

    def etas(self, incident: IncidentView, vehicles: Sequence[VehicleView]) -> np.ndarray:
        """Seconds until each vehicle could reach the incident, mobilisation included."""
        pool = list(map(_inner, vehicles))
        return self._fleet.etas(self.oracle_scene_node(incident), pool, onlooker=self.onlooker)
