"""The world a shift is played in, built once from a validated scenario.

Roads and routers, stations and hospitals placed on the network, the vehicle roster with shift
intervals, the triage protocol and call cards, and area demand weights. The engine takes a
``World`` and never reads a file itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ambsim_gui.geo.network import RoadNetwork
from ambsim_gui.geo.routing import Router
from ambsim_gui.scenario.model import Located, Scenario
from ambsim_gui.scenario.rota import duty_intervals, roster
from ambsim_gui.triage.cards import CardLibrary
from ambsim_gui.triage.protocol import Protocol


class WorldError(ValueError):
    """A scenario that is valid in form but cannot be built (a point not on the map...)."""


@dataclass(frozen=True)
class Site:
    """A station or hospital placed on the road network."""

    name: str
    kind: str  # station | ed | utc
    x: float
    y: float
    node: int


@dataclass(frozen=True)
class VehicleSpec:
    vehicle_id: str
    callsign: str
    type: str  # DCA | RRV
    station: str
    home_node: int
    duty: tuple[tuple[float, float], ...]  # on-duty intervals in simulation seconds


@dataclass
class World:
    """Everything static about a shift."""

    scenario: Scenario
    name: str
    network: RoadNetwork
    router: Router  # blue-light travel
    router_normal: Router  # returning to station, no lights
    stations: dict[str, Site]
    hospitals: dict[str, Site]
    vehicles: list[VehicleSpec]
    protocol: Protocol
    cards: CardLibrary
    area_names: list[str]
    area_weights: np.ndarray  # normalised, by area index

    def area_name_at_node(self, node: int) -> str:
        idx = int(self.network.area_of_node[node])
        return self.area_names[idx] if idx >= 0 else "(outside)"


def _place(network: RoadNetwork, where: Located, what: str) -> tuple[float, float, int]:
    if where.point is not None:
        try:
            point = network.point(where.point)
        except Exception as exc:  # MapError: keep its message, say which scenario item
            raise WorldError(f"{what}: {exc}") from None
        x, y = float(point.x), float(point.y)
    else:
        assert where.xy is not None
        x, y = float(where.xy[0]), float(where.xy[1])
    return x, y, int(network.snap(x, y))


def build_world(
    scenario: Scenario,
    map_path: Path,
    protocol_path: Path | None = None,
    cards_path: Path | None = None,
    name: str | None = None,
) -> World:
    network = RoadNetwork.load(map_path)
    stations: dict[str, Site] = {}
    for st in scenario.stations:
        x, y, node = _place(network, st, f"station {st.name!r}")
        stations[st.name] = Site(st.name, "station", x, y, node)
    hospitals: dict[str, Site] = {}
    for h in scenario.hospitals:
        x, y, node = _place(network, h, f"hospital {h.name!r}")
        hospitals[h.name] = Site(h.name, h.kind, x, y, node)

    vehicles: list[VehicleSpec] = []
    duties: dict[int, tuple[tuple[float, float], ...]] = {}
    for crew in roster(scenario):
        group = crew.group
        if id(group) not in duties:
            duties[id(group)] = tuple(
                duty_intervals(group.shift, scenario.start, scenario.duration_s)
            )
        vehicles.append(
            VehicleSpec(
                vehicle_id=crew.vehicle_id,
                callsign=crew.callsign,
                type=group.type,
                station=crew.station.name,
                home_node=stations[crew.station.name].node,
                duty=duties[id(group)],
            )
        )

    router = Router(network, blue_light=True)
    router_normal = Router(network, blue_light=False)
    sites = [s.node for s in stations.values()] + [h.node for h in hospitals.values()]
    router.precompute(sites)
    router_normal.precompute(sites)

    protocol = Protocol.load(protocol_path)
    cards = CardLibrary.load(cards_path, protocol=protocol)
    if scenario.demand.cards:
        unknown = sorted(set(scenario.demand.cards) - set(cards.cards))
        if unknown:
            raise WorldError(f"demand.cards: unknown call card(s): {', '.join(unknown)}")
    for sc in scenario.scripted_calls:
        if sc.card not in cards.cards:
            raise WorldError(f"scripted_calls: unknown call card {sc.card!r}")

    area_names = [a.name for a in network.areas]
    weights = np.array([float(a.demand_weight) for a in network.areas], dtype=float)
    overrides = scenario.demand.area_weights or {}
    for area_name, weight in overrides.items():
        if area_name not in area_names:
            raise WorldError(
                f"demand.area_weights: no area {area_name!r} on the map "
                f"(areas: {', '.join(area_names)})"
            )
        weights[area_names.index(area_name)] = weight
    if weights.sum() <= 0:
        raise WorldError("demand: every area has zero demand weight")
    return World(
        scenario=scenario,
        name=name or scenario.name,
        network=network,
        router=router,
        router_normal=router_normal,
        stations=stations,
        hospitals=hospitals,
        vehicles=vehicles,
        protocol=protocol,
        cards=cards,
        area_names=area_names,
        area_weights=weights / weights.sum(),
    )
