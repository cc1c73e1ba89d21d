"""The trainee's dispatching, judged dispatch by dispatch, from a re-simulated session.

One job: ``review_dispatching(session)`` re-simulates the recorded shift (its settings and
commands, as ``verify`` does) and, at each vehicle the trainee's seat sends, asks the engine as
an onlooker (so the run is not changed) for the free vehicles able to take the job and their
ETAs: the nearest suitable one beside the one sent. Each dispatch is followed to its fate with
``ShiftMetrics``' rules (a surplus arrival, or still on its way when another crew closed the
job: a duplicate; stood down before it arrived; diverted to another job). At the end it lists
the incidents in the trainee's sector still waiting for a vehicle. What counts: docs/domain.md,
"The trainee's dispatching". No Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ambsim_gui.record.reader import SessionFile
from ambsim_gui.record.replay import Rebuilt, new_engine, rebuild
from ambsim_gui.record.replay_state import CATEGORY_RANK, TRAINEE
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.engine import Engine

# a vehicle sent this much later than the nearest suitable one could have arrived is "not the
# nearest": less is routing noise beside a desk's minute-rounded ETAs
NEAREST_SLACK_S = 60.0

FATE_WORDS = {
    "arrived": "arrived first",
    "surplus": "duplicate: a crew was already there",
    "closed": "duplicate: the job closed before it arrived",
    "stood_down": "stood down",
    "diverted": "diverted to another job",
    "off_duty": "released at the crew's shift end",
    "on_its_way": "still on its way",
    "arrived_later": "arrived (not first)",
}
DUPLICATE_FATES = frozenset({"surplus", "closed"})


@dataclass(frozen=True)
class DispatchLine:
    """One vehicle the trainee sent."""

    t: float
    incident_id: str
    category: str
    area: str
    callsign: str
    vehicle_type: str
    eta_s: float
    nearest_callsign: str | None  # the nearest suitable vehicle free then (the one sent included)
    nearest_eta_s: float | None
    diverted_from: str | None
    fate: str  # a FATE_WORDS key

    @property
    def late_s(self) -> float:
        """How much later the one sent could arrive than the nearest suitable (0 if it was)."""
        return 0.0 if self.nearest_eta_s is None else max(0.0, self.eta_s - self.nearest_eta_s)

    @property
    def nearest(self) -> bool:
        return self.late_s <= NEAREST_SLACK_S

    @property
    def duplicate(self) -> bool:
        return self.fate in DUPLICATE_FATES


@dataclass(frozen=True)
class WaitingIncident:
    incident_id: str
    category: str
    area: str
    waited_s: float  # from the incident's opening to the end of the recording


@dataclass(frozen=True)
class DispatchReview:
    role: str  # the trainee's seat: call_handler | dispatcher | both
    dispatches: bool  # the trainee's seat dispatches in this session
    sector: tuple[str, ...]  # the areas whose incidents are the trainee's to dispatch
    lines: tuple[DispatchLine, ...]
    waiting: tuple[WaitingIncident, ...]  # in the sector, waiting for a vehicle at the end
    end_t: float

    @property
    def diverts(self) -> int:
        return sum(1 for x in self.lines if x.diverted_from is not None)

    @property
    def stood_down(self) -> int:
        return sum(1 for x in self.lines if x.fate == "stood_down")

    @property
    def duplicates(self) -> int:
        return sum(1 for x in self.lines if x.duplicate)

    @property
    def not_nearest(self) -> int:
        return sum(1 for x in self.lines if not x.nearest)


def review_dispatching(session: SessionFile, rebuilt: Rebuilt | None = None) -> DispatchReview:
    """The trainee's dispatching in the recorded shift (see the module docstring)."""
    rebuilt = rebuild(session) if rebuilt is None else rebuilt
    engine = new_engine(session, rebuilt)
    recorded = session.events()
    end_t = recorded[-1].t if recorded else 0.0
    watcher = _Watcher(engine)
    engine.subscribe(watcher.on_event, replay=False)
    engine.replay(session.commands(), until=end_t)
    room = engine.room
    seats = room.sectors
    sector = tuple(sorted(area for area, seat in seats.items() if seat == TRAINEE))
    dispatches = any(s.dispatcher and s.id == TRAINEE for s in room.seats.values())
    waiting = tuple(
        WaitingIncident(i.id, i.category, i.area, max(0.0, end_t - i.t_open))
        for i in room.dispatch_queue()
        if room.dispatcher_for(i) == TRAINEE and not i.vehicles
    )
    lines = tuple(
        replace(line, fate=watcher.fates.get(k, line.fate)) for k, line in watcher.lines.items()
    )
    return DispatchReview(
        role=room.role,
        dispatches=dispatches or bool(lines),
        sector=sector,
        lines=tuple(sorted(lines, key=lambda x: (x.t, x.incident_id))),
        waiting=tuple(
            sorted(waiting, key=lambda w: (CATEGORY_RANK.get(w.category, 9), -w.waited_s))
        ),
        end_t=end_t,
    )


class _Watcher:
    """Follows the re-simulated events: the trainee's dispatches and each one's fate."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.lines: dict[tuple[str, str, float], DispatchLine] = {}
        self.open: dict[tuple[str, str], tuple[str, str, float]] = {}  # (vehicle, incident)
        self.fates: dict[tuple[str, str, float], str] = {}

    def on_event(self, e: ev.Event) -> None:
        if isinstance(e, ev.VehicleAssigned):
            self._assigned(e)
        elif isinstance(e, ev.VehicleArrived):
            key = self.open.pop((e.vehicle_id, e.incident_id), None)
            if key is not None:
                role = {"surplus": "surplus", "first": "arrived"}.get(e.role, "arrived_later")
                self.fates[key] = role
        elif isinstance(e, ev.VehicleStoodDown):
            key = self.open.pop((e.vehicle_id, e.incident_id), None)
            if key is not None:
                self.fates[key] = {
                    "stand_down": "stood_down",
                    "incident_closed": "closed",
                    "diverted": "diverted",
                    "off_duty": "off_duty",
                }.get(e.reason, "stood_down")

    def _assigned(self, e: ev.VehicleAssigned) -> None:
        if e.diverted_from is not None:
            old = self.open.pop((e.vehicle_id, e.diverted_from), None)
            if old is not None:
                self.fates[old] = "diverted"
        if e.seat != TRAINEE:
            return
        engine = self.engine
        room = engine.room
        inc = room.incidents.get(e.incident_id)
        vehicle = room.vehicles.get(e.vehicle_id)
        if inc is None or vehicle is None:
            return
        # the free vehicles that could have taken the job instead; asked as an onlooker, so
        # the run's routing is not touched
        pool = [
            v
            for v in room.free_vehicles()
            if v.id != vehicle.id
            and v.id not in inc.vehicles
            and (inc.needs != "DCA" or v.type == "DCA")
        ]
        nearest_name, nearest_eta = vehicle.callsign, float(e.eta_s)
        if pool:
            etas = engine.vehicle_etas(inc, pool, onlooker=True)
            best = int(etas.argmin())
            if float(etas[best]) < nearest_eta:
                nearest_name, nearest_eta = pool[best].callsign, float(etas[best])
        key = (e.vehicle_id, e.incident_id, e.t)
        self.lines[key] = DispatchLine(
            t=e.t,
            incident_id=e.incident_id,
            category=inc.category,
            area=inc.area,
            callsign=vehicle.callsign,
            vehicle_type=vehicle.type,
            eta_s=float(e.eta_s),
            nearest_callsign=nearest_name,
            nearest_eta_s=nearest_eta,
            diverted_from=e.diverted_from,
            fate="on_its_way",
        )
        self.open[(e.vehicle_id, e.incident_id)] = key
