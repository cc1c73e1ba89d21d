"""An imported map's areas and road speeds (geo/osm_areas.py, geo/road_speeds.py).

Areas come from administrative boundaries where the extract has them (Liechtenstein's eleven
municipalities) or else from settlement density, each named after its place; speeds come from
a table per road type and terrain, capped by the posted limit or the country's default limit.
The figures are those of docs/domain.md (Road speeds and Areas of an imported map).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from ambsim_gui.geo.network import RoadNetwork
from ambsim_gui.geo.osm_import import convert, project
from ambsim_gui.geo.road_speeds import (
    COUNTRY_LIMITS,
    TERRAINS,
    TYPICAL_KPH,
    road_speed,
    terrain_of,
)
from ambsim_gui.geo.routing import Router
from ambsim_gui.paths import MAPS

ROOT = Path(__file__).resolve().parent.parent
LIECHTENSTEIN_OSM = ROOT / "tests" / "data" / "osm" / "liechtenstein-2013-08-03.osm.bz2"
SHIPPED = MAPS / "liechtenstein.json"
ORIGIN = (47.1595, 9.5536)  # the centre of the extract's <bounds> (test_osm_deterministic)
MUNICIPALITIES = {"Balzers", "Eschen", "Gamprin", "Mauren", "Planken", "Ruggell", "Schaan",
                  "Schellenberg", "Triesen", "Triesenberg", "Vaduz"}
"""Liechtenstein's eleven Gemeinden (admin_level 8 in its OSM data)."""


# --------------------------------------------------------------------------- the speed table


@pytest.mark.parametrize("country", [*COUNTRY_LIMITS, None])
@pytest.mark.parametrize("terrain", TERRAINS)
def test_a_service_road_is_never_faster_than_a_residential_street(
        terrain: str, country: str | None) -> None:
    # the old import drove untagged service roads as fast as any street
    service = road_speed("service", terrain, None, country)  # type: ignore[arg-type]
    street = road_speed("residential", terrain, None, country)  # type: ignore[arg-type]
    assert service < street


def test_untagged_roads_take_the_country_limits() -> None:
    # an untagged mountain road in Liechtenstein: a secondary's 40 on a winding road, not the
    # 65 km/h of a generic B road; in the valley the typical 65 is under LI's 80 outside towns
    assert road_speed("secondary", "winding", None, "LI") == 40.0
    assert road_speed("secondary", "open", None, "LI") == 65.0
    # a primary outside town: its typical 75 under Liechtenstein's 80 and GB's 60 mph
    assert road_speed("primary", "open", None, "LI") == 75.0
    # a motorway: England's 70 mph (112.7 km/h) lets the typical 112 through; the US's
    # 65 mph caps it at 104.6
    assert road_speed("motorway", "open", None, "GB") == 112.0
    assert road_speed("motorway", "open", None, "US") == pytest.approx(65 * 1.609344)
    # in town a US main road's 25 mph is below the typical 45
    assert road_speed("primary", "built_up", None, "US") == pytest.approx(25 * 1.609344)
    # a posted limit replaces the country's: a 20 km/h zone
    assert road_speed("residential", "open", 20.0, "LI") == 20.0
    # never above the typical speed, whatever the sign says
    assert road_speed("tertiary", "built_up", 80.0, "LI") == TYPICAL_KPH["tertiary"][0]


def test_hairpins_wind_and_straight_roads_do_not() -> None:
    # six 180-degree hairpins 50 m apart over 350 m: 1,800 degrees in 350 m, far over 40/100 m
    zigzag = [(0.0, 0.0)] + [(50.0 * (k % 2), 50.0 * k) for k in range(1, 8)]
    assert terrain_of(False, zigzag) == "winding"
    straight = [(0.0, 0.0), (100.0, 1.0), (200.0, 0.0), (400.0, 2.0)]
    assert terrain_of(False, straight) == "open"
    # too short to tell a bend from a junction
    assert terrain_of(False, [(0.0, 0.0), (30.0, 30.0), (0.0, 60.0)]) == "open"
    assert terrain_of(True, zigzag) == "built_up"


# --------------------------------------------------------------------------- Liechtenstein


@pytest.fixture(scope="module")
def li() -> RoadNetwork:
    return RoadNetwork.load(SHIPPED)


def _here(net: RoadNetwork, lat: float, lon: float) -> tuple[float, float]:
    x, y = project(np.array([lat]), np.array([lon]), ORIGIN)
    return float(x[0]), float(y[0])


def test_the_shipped_map_reimports_to_the_same_bytes(tmp_path: Path) -> None:
    done = convert(LIECHTENSTEIN_OSM, tmp_path / "liechtenstein.json", name="Liechtenstein",
                   engine="builtin")
    assert done.path.read_bytes() == SHIPPED.read_bytes()
    assert done.country == "LI"  # 28 addr:country=LI tags, no other country


def test_liechtenstein_areas_are_its_municipalities(li: RoadNetwork) -> None:
    stems = {re.sub(r"( rural)?( \(\d+\))?$", "", a.name) for a in li.areas}
    assert stems == MUNICIPALITIES
    urban = {a.name for a in li.areas if a.kind == "urban"}
    assert {"Vaduz", "Schaan", "Balzers", "Triesen"} <= urban  # the four largest villages
    # the hospital is in Vaduz, in town
    hospital = li.point("Liechtensteinisches Landesspital")
    area = li.areas[li.area_index_at(hospital.x, hospital.y)]
    assert (area.name, area.kind) == ("Vaduz", "urban")
    # Malbun, the ski village 1,600 m up in Triesenberg, is country
    x, y = _here(li, 47.1025, 9.6094)
    area = li.areas[li.area_index_at(x, y)]
    assert area.kind == "rural" and area.name.startswith("Triesenberg rural")
    # weights are km of road (the 2013 data gives no population): the whole network's 376 km
    assert sum(a.demand_weight for a in li.areas) == pytest.approx(376, abs=15)


def test_liechtenstein_drives_take_route_planner_times(li: RoadNetwork) -> None:
    """Without lights, the hospital to Malbun is about 14 km and 20 minutes by car; to Schaan
    4 km and 6 to 8 minutes: the mountain road drives at under half the valley's speed."""
    router = Router(li, blue_light=False)
    hospital = li.point("Liechtensteinisches Landesspital")
    start = int(li.snap(hospital.x, hospital.y))
    malbun = router.route(start, int(li.snap(*_here(li, 47.1025, 9.6094))))
    schaan = router.route(start, int(li.snap(*_here(li, 47.1650, 9.5100))))
    assert 12_000 < malbun.length_m < 16_000
    assert 17 * 60 < malbun.duration_s < 23 * 60
    assert 3_000 < schaan.length_m < 5_000 and 4 * 60 < schaan.duration_s < 9 * 60
    # the roads within 3 km of Malbun are mountain roads: most of them at 50 km/h or less
    # (the old import drove them all at 65)
    near = np.hypot(li.xy[:, 0] - li.xy[malbun.target, 0], li.xy[:, 1] - li.xy[malbun.target, 1])
    up = (near[li.edge_u] < 3000) & (near[li.edge_v] < 3000)
    slow = up & (li.edge_speed_kph <= 50.0)
    assert li.edge_length_m[slow].sum() > 0.75 * li.edge_length_m[up].sum()


# --------------------------------------------------------------------------- without boundaries


def _grid(first_id: int, lon0: float, lat0: float, n: int, step: float) -> tuple[list[str],
                                                                                  list[str]]:
    """An n x n street grid (residential) from (lon0, lat0), ``step`` degrees apart."""
    nodes, ways = [], []
    ids = {}
    for i in range(n):
        for j in range(n):
            ids[i, j] = first_id + i * n + j
            nodes.append(f'<node id="{ids[i, j]}" lat="{lat0 + j * step:.6f}" '
                         f'lon="{lon0 + i * step * 1.47:.6f}"/>')
    way = first_id
    for i in range(n):
        row = "".join(f'<nd ref="{ids[i, j]}"/>' for j in range(n))
        col = "".join(f'<nd ref="{ids[j, i]}"/>' for j in range(n))
        for refs in (row, col):
            way += 1
            ways.append(f'<way id="{way}">{refs}<tag k="highway" v="residential"/></way>')
    return nodes, ways


def _two_villages(admin: bool) -> str:
    """Adorf and Bedorf (Germany), 9 x 9 street grids 100 m apart, 5 km from each other on a
    straight untagged secondary road; with ``admin``, each in a municipality with a population."""
    step = 0.0009  # 100 m of latitude; 1.47 x in longitude is 100 m at 47.2 N
    a_nodes, a_ways = _grid(1000, 9.50, 47.20, 9, step)
    b_nodes, b_ways = _grid(3000, 9.57, 47.20, 9, step)
    link = ['<node id="5001" lat="47.2036" lon="9.5300"/>',
            '<node id="5002" lat="47.2036" lon="9.5500"/>']
    road = ('<way id="6000"><nd ref="1076"/><nd ref="5001"/><nd ref="5002"/><nd ref="3004"/>'
            '<tag k="highway" v="secondary"/><tag k="name" v="Landstrasse"/></way>')
    places = ['<node id="7001" lat="47.2036" lon="9.5060"><tag k="place" v="village"/>'
              '<tag k="name" v="Adorf"/><tag k="addr:country" v="DE"/></node>',
              '<node id="7002" lat="47.2036" lon="9.5760"><tag k="place" v="village"/>'
              '<tag k="name" v="Bedorf"/></node>']
    boundaries: list[str] = []
    if admin:
        corners = {  # west and east halves, split at 9.54 E
            "Adorf": [(47.18, 9.48), (47.23, 9.48), (47.23, 9.54), (47.18, 9.54)],
            "Bedorf": [(47.18, 9.54), (47.23, 9.54), (47.23, 9.61), (47.18, 9.61)],
        }
        for k, (name, ring) in enumerate(corners.items()):
            ids = [8000 + 10 * k + i for i in range(4)]
            boundaries += [f'<node id="{n}" lat="{la}" lon="{lo}"/>'
                           for n, (la, lo) in zip(ids, ring, strict=True)]
            refs = "".join(f'<nd ref="{n}"/>' for n in [*ids, ids[0]])
            boundaries.append(f'<way id="{9000 + k}">{refs}</way>')
            population = 3000 if name == "Adorf" else 1000
            boundaries.append(
                f'<relation id="{9500 + k}"><member type="way" ref="{9000 + k}" role="outer"/>'
                f'<tag k="boundary" v="administrative"/><tag k="admin_level" v="8"/>'
                f'<tag k="name" v="{name}"/><tag k="population" v="{population}"/></relation>')
    nodes = a_nodes + b_nodes + link + places + [b for b in boundaries if b.startswith("<node")]
    ways = a_ways + b_ways + [road] + [b for b in boundaries if b.startswith("<way")]
    relations = [b for b in boundaries if b.startswith("<relation")]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
            + "\n".join(nodes + ways + relations) + "\n</osm>\n")


def test_settlements_become_urban_areas_named_after_their_places(tmp_path: Path) -> None:
    source = tmp_path / "villages.osm"
    source.write_text(_two_villages(admin=False), encoding="utf-8")
    done = convert(source, tmp_path / "villages.json", engine="builtin")
    net = RoadNetwork.load(done.path)
    kinds = {a.name: a.kind for a in net.areas}
    # a 9 x 9 grid 100 m apart has 14.4 km of street on 0.64 km2, 22 km/km2: built up
    assert kinds == {"Adorf": "urban", "Bedorf": "urban", "Adorf rural": "rural",
                     "Bedorf rural": "rural"}
    assert done.areas_from == "nearest place" and done.weights_by == "road km"
    summary = "\n".join(done.summary())
    assert "areas: 2 urban, 2 rural, from nearest place; demand weight: road km" in summary
    assert "DE limits 50/100/130 km/h" in summary
    # the street grids drive at a residential street's 30 in town; the road between the
    # villages at a secondary's typical 65 (under Germany's 100 outside towns)
    # (streets on a village's edge, in a square less dense than the threshold, drive at a
    # residential street's 35 outside town)
    streets: list[float] = []
    road: set[float] = set()
    for name, kph, u in zip(net.edge_name.tolist(), net.edge_speed_kph.tolist(),
                            net.edge_u.tolist(), strict=True):
        if name == "Landstrasse" and net.areas[int(net.area_of_node[u])].kind != "urban":
            road.add(kph)  # its first and last links start in the villages
        elif not name:
            streets.append(kph)
    assert set(streets) <= {30.0, 35.0} and streets.count(30.0) > 0.6 * len(streets)
    assert road == {65.0}
    # the road's middle lies in the country, on Adorf's side of the halfway line
    mid_x = float(net.xy[:, 0].mean())
    assert net.areas[net.area_index_at(mid_x - 500, float(net.xy[:, 1].mean()))].name == (
        "Adorf rural")
    # each village's weight is its km of road: the same grid, the same weight
    weight = {a.name: a.demand_weight for a in net.areas}
    assert weight["Adorf"] == pytest.approx(weight["Bedorf"], rel=0.02)
    # 144 sides of 100 m in each grid, most of them in town; with the 4.6 km road between the
    # villages every km of road is in some area
    assert 0.8 * 14.4 < weight["Adorf"] <= 14.4
    assert sum(weight.values()) == pytest.approx(2 * 14.4 + 4.6, abs=0.2)


def test_boundaries_with_population_share_it_by_road_length(tmp_path: Path) -> None:
    source = tmp_path / "villages.osm"
    source.write_text(_two_villages(admin=True), encoding="utf-8")
    done = convert(source, tmp_path / "villages.json", engine="builtin")
    net = RoadNetwork.load(done.path)
    assert done.areas_from == "administrative level 8" and done.weights_by == "population"
    total = {"Adorf": 0.0, "Bedorf": 0.0}
    for area in net.areas:
        total[area.name.split(" ")[0]] += area.demand_weight
    # 3,000 and 1,000 people, every one of them in some area of their municipality
    assert total["Adorf"] == pytest.approx(3000, abs=0.01)
    assert total["Bedorf"] == pytest.approx(1000, abs=0.01)
    town = {a.name: a.demand_weight for a in net.areas}
    assert town["Adorf"] > town["Adorf rural"]  # the village has most of the road
    assert math.isclose(sum(town.values()), 4000, abs_tol=0.01)
