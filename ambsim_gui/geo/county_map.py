"""Wessex, the fictional county that ships with ambsim, generated deterministically.

One job: ``generate_county`` builds "Wessex", a fictional English county of about 60 km x
40 km: a county town with a dense street grid, five market towns, twenty-two villages, A roads
between the towns, B roads and lanes to the villages, and one dual carriageway (class
``motorway``) across the county; towns and four rural districts as areas; stations, hospitals
and urgent treatment centres. Place names are borrowed from Thomas Hardy's fictional Wessex.
The seed is fixed, so every run gives the same map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from shapely.geometry import Point, Polygon

from ambsim_gui.geo.area_outlines import area_spec, clip_to_bisector
from ambsim_gui.geo.mapfile import AreaSpec, MapData, MapPoint
from ambsim_gui.geo.road_builder import (
    RoadBuilder,
    Segment,
    add_junctions,
    curving_road,
    ensure_connected,
    finish_map,
)
from ambsim_gui.geo.street_names import STREET_KINDS, STREET_WORDS, distinct_names

COUNTY_SEED = 1874  # Far from the Madding Crowd


@dataclass
class _Town:
    name: str
    cx: float
    cy: float
    size: int
    spacing: float
    population_k: float
    angle: float  # radians anticlockwise: the grid's streets are not aligned with north
    grid: np.ndarray  # node ids, (size, size), row-major from the south-west
    gates: list[int]  # nodes where country roads come in: ends of the main streets, corners


@dataclass
class _Village:
    name: str
    x: float
    y: float
    centre: int


# name, centre x, centre y, grid size, spacing m, population (thousands)
_COUNTY_TOWNS = (
    ("Casterbridge", 31000.0, 18500.0, 25, 110.0, 62.0),
    ("Sherton Abbas", 10500.0, 30500.0, 11, 105.0, 14.0),
    ("Shaston", 50500.0, 32000.0, 10, 100.0, 11.0),
    ("Anglebury", 47500.0, 8500.0, 11, 110.0, 16.0),
    ("Budmouth Regis", 22000.0, 5500.0, 12, 115.0, 22.0),
    ("Ivell", 7000.0, 11000.0, 9, 100.0, 9.0),
)
_COUNTY_VILLAGES = (
    "Mellstock", "Weatherbury", "Marlott", "Kingsbere", "Chaseborough", "Evershead", "Emminster",
    "Nuttlebury", "Stourcastle", "Trantridge", "Flintcomb-Ash", "Talbothays", "Little Hintock",
    "Great Hintock", "Overcombe", "Longpuddle", "Stickleford", "Tolchurch", "Oxwell", "Lulstead",
    "Knollsea", "Holmstoke",
)
# Rural districts: name, seed point of its (Voronoi) territory.
_COUNTY_DISTRICTS = (
    ("Blackmoor Vale", 14000.0, 29000.0),
    ("Hintock Woodlands", 46000.0, 30000.0),
    ("Froom Valley", 15000.0, 9000.0),
    ("Egdon Heath", 45000.0, 11000.0),
)
_COUNTY_W, _COUNTY_H = 60000.0, 40000.0


def _town_grid(
    b: RoadBuilder, rng: np.random.Generator, cx: float, cy: float, size: int,
    spacing: float, *, one_way_centre: bool,
) -> tuple[np.ndarray, float, list[Segment]]:
    """A jittered, slightly rotated street grid; returns node ids, the rotation and the streets
    removed (kept aside in case they are needed to keep the town connected)."""
    angle = float(rng.uniform(-0.25, 0.25))
    ca, sa = math.cos(angle), math.sin(angle)
    half = (size - 1) / 2
    grid = np.zeros((size, size), dtype=np.int64)
    jitter = rng.uniform(-0.17, 0.17, (size, size, 2)) * spacing
    for r in range(size):
        for c in range(size):
            lx = (c - half) * spacing + jitter[r, c, 0]
            ly = (r - half) * spacing + jitter[r, c, 1]
            grid[r, c] = b.node(cx + lx * ca - ly * sa, cy + lx * sa + ly * ca)
    mid = size // 2
    names = distinct_names(rng, STREET_WORDS, STREET_KINDS, 2 * size)
    row_names, col_names = names[:size], names[size:]
    row_names[mid], col_names[mid] = "High Street", "Cornhill"
    removed: list[Segment] = []
    one_way_zone = range(mid - 3, mid + 4)
    for r in range(size):
        for c in range(size):
            for dr, dc in ((0, 1), (1, 0)):
                r2, c2 = r + dr, c + dc
                if r2 >= size or c2 >= size:
                    continue
                along_row = dr == 0
                line = r if along_row else c
                main = line == mid
                cls, speed = ("a_road", 48.0) if main else ("street", 40.0)
                label = (row_names if along_row else col_names)[line]
                oneway = False
                u, v = int(grid[r, c]), int(grid[r2, c2])
                if (one_way_centre and not main and r in one_way_zone and c in one_way_zone
                        and r2 in one_way_zone and c2 in one_way_zone and line % 2 == 1):
                    oneway = True
                    if (line // 2) % 2:
                        u, v = v, u
                seg = Segment(u, v, cls, speed, label, oneway)
                edge_of_town = line in (0, size - 1)
                if not (main or oneway or edge_of_town) and rng.random() < 0.07:
                    removed.append(seg)
                else:
                    b.segs.append(seg)
    return grid, angle, removed


def generate_county() -> MapData:
    """The fictional county of Wessex (see the module docstring)."""
    seeds = np.random.SeedSequence(COUNTY_SEED).spawn(4)
    r_towns, r_villages, r_roads, r_areas = (np.random.default_rng(s) for s in seeds)
    b = RoadBuilder()
    removed: list[Segment] = []

    towns: list[_Town] = []
    for i, (name, cx, cy, size, spacing, pop) in enumerate(_COUNTY_TOWNS):
        grid, angle, gone = _town_grid(b, r_towns, cx, cy, size, spacing,
                                       one_way_centre=i == 0)
        removed += gone
        m, e = size // 2, size - 1
        gates = [int(grid[r, c]) for r, c in
                 ((0, m), (e, m), (m, 0), (m, e), (0, 0), (0, e), (e, 0), (e, e))]
        towns.append(_Town(name, cx, cy, size, spacing, pop, angle, grid, gates))

    villages: list[_Village] = []
    # (x, y, how far a new village must keep from it): villages sit in open country.
    spots: list[tuple[float, float, float]] = [(t.cx, t.cy, 4500.0 if k == 0 else 3300.0)
                                                for k, t in enumerate(towns)]
    for name in _COUNTY_VILLAGES:
        for _ in range(10_000):
            x = float(r_villages.uniform(2500, _COUNTY_W - 2500))
            y = float(r_villages.uniform(2500, _COUNTY_H - 2500))
            if all(math.hypot(x - sx, y - sy) >= gap for sx, sy, gap in spots):
                break
        else:
            raise RuntimeError(f"no room for the village {name}")
        spots.append((x, y, 3300.0))
        centre = b.node(x, y)
        villages.append(_Village(name, x, y, centre))
        k = int(r_villages.integers(2, 5))
        base = float(r_villages.uniform(0, 2 * math.pi))
        lane_names = distinct_names(r_villages, ("Church", "Mill", "School", "Back", "Chapel",
                                                 "Well", "Manor", "Pound"),
                                    ("Lane", "Street", "Close"), k)
        for j in range(k):
            ang = base + 2 * math.pi * j / k + float(r_villages.uniform(-0.3, 0.3))
            prev = centre
            dist = 0.0
            for _ in range(int(r_villages.integers(1, 3))):
                dist += float(r_villages.uniform(140, 240))
                nxt = b.node(x + dist * math.cos(ang), y + dist * math.sin(ang))
                b.seg(prev, nxt, "street", 40.0, lane_names[j])
                prev = nxt

    def gate(town: _Town, px: float, py: float) -> int:
        return min(town.gates, key=lambda n: (math.hypot(b.xs[n] - px, b.ys[n] - py), n))

    def link(a: int, c: int, cls: str, speed: float, name: str, step: float, amp: float) -> None:
        b.road(curving_road((b.xs[a], b.ys[a]), (b.xs[c], b.ys[c]), step, amp, r_roads),
               cls, speed, name)

    # A roads: the county town to each market town, and round the market towns.
    ct = towns[0]
    for t in towns[1:]:
        link(gate(ct, t.cx, t.cy), gate(t, ct.cx, ct.cy), "a_road", 80.0, f"{t.name} Road",
             450, 0.05)
    ring = sorted(towns[1:], key=lambda t: math.atan2(t.cy - ct.cy, t.cx - ct.cx))
    for t1, t2 in zip(ring, ring[1:] + ring[:1], strict=True):
        if math.hypot(t1.cx - t2.cx, t1.cy - t2.cy) < 32000:
            link(gate(t1, t2.cx, t2.cy), gate(t2, t1.cx, t1.cy), "a_road", 80.0,
                 f"{t1.name}-{t2.name} Road", 450, 0.05)

    # B roads: a minimum spanning tree joining every village to the A-road network.
    places: list[tuple[str, float, float, _Town | None, int]] = [
        (t.name, t.cx, t.cy, t, -1) for t in towns
    ] + [(vl.name, vl.x, vl.y, None, vl.centre) for vl in villages]
    parent = list(range(len(places)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(1, len(towns)):  # the towns are already joined by A roads
        parent[find(i)] = find(0)

    def anchor(i: int, toward: int) -> int:
        _, _, _, town, node = places[i]
        _, px, py, _, _ = places[toward]
        return gate(town, px, py) if town is not None else node

    pairs = sorted(
        (math.hypot(p[1] - q[1], p[2] - q[2]), i, j)
        for i, p in enumerate(places) for j, q in enumerate(places) if i < j
    )
    linked: set[tuple[int, int]] = set()
    for _, i, j in pairs:
        if find(i) != find(j):
            parent[find(i)] = find(j)
            linked.add((i, j))
            link(anchor(i, j), anchor(j, i), "b_road", 65.0, f"{places[j][0]} Road", 350, 0.06)
    # Lanes: a second way out of most villages, so one closure rarely cuts a village off.
    for i in range(len(towns), len(places)):
        near = sorted((math.hypot(places[i][1] - q[1], places[i][2] - q[2]), j)
                      for j, q in enumerate(places) if j != i)
        for _, j in near[:3]:
            key = (min(i, j), max(i, j))
            if key not in linked and r_roads.random() < 0.7:
                linked.add(key)
                link(anchor(i, j), anchor(j, i), "lane", 50.0, f"{places[j][0]} Lane", 250, 0.08)
                break
    # Farm tracks: dead-end lanes into the countryside from some villages.
    for vl in villages:
        if r_roads.random() < 0.5:
            ang = float(r_roads.uniform(0, 2 * math.pi))
            dist = float(r_roads.uniform(900, 1800))
            end = (vl.x + dist * math.cos(ang), vl.y + dist * math.sin(ang))
            b.road(curving_road((vl.x, vl.y), end, 250, 0.1, r_roads), "lane", 50.0, "")

    # The dual carriageway west to east, north of the county town, with links to two towns.
    waypoints = [(0.0, 25500.0), (14000.0, 24200.0), (26000.0, 23800.0), (38000.0, 23000.0),
                 (50000.0, 21800.0), (_COUNTY_W, 22800.0)]
    pts: list[tuple[float, float]] = []
    for w1, w2 in zip(waypoints, waypoints[1:], strict=False):
        pts += curving_road(w1, w2, 700, 0.01, r_roads)[:-1]
    pts.append(waypoints[-1])
    motorway = b.road(pts, "motorway", 112.0, "Wessex Way")
    for t in (towns[0], towns[1]):
        mx = min(motorway, key=lambda n: (math.hypot(b.xs[n] - t.cx, b.ys[n] - t.cy), n))
        link(gate(t, b.xs[mx], b.ys[mx]), mx, "a_road", 80.0, f"{t.name} Link", 450, 0.03)

    add_junctions(b)
    ensure_connected(b, removed)

    # Areas: towns first (they own their ground), then rural districts covering the rest.
    areas: list[AreaSpec] = []
    for t in towns:
        # The town's own frame, grown 150 m beyond its outermost streets, corners cut.
        half = (t.size - 1) / 2 * t.spacing + 0.17 * t.spacing + 150.0
        cut = 120.0
        local = [(half - cut, -half), (half, -half + cut), (half, half - cut), (half - cut, half),
                 (-half + cut, half), (-half, half - cut), (-half, -half + cut),
                 (-half + cut, -half)]
        ca, sa = math.cos(t.angle), math.sin(t.angle)
        outline = [(t.cx + x * ca - y * sa, t.cy + x * sa + y * ca) for x, y in local]
        areas.append(area_spec(outline, t.name, "urban", t.population_k))
    box = [(-2000.0, -2000.0), (_COUNTY_W + 2000, -2000.0), (_COUNTY_W + 2000, _COUNTY_H + 2000),
           (-2000.0, _COUNTY_H + 2000)]
    seeds_xy = [(x + float(r_areas.uniform(-1500, 1500)), y + float(r_areas.uniform(-1500, 1500)))
                for _, x, y in _COUNTY_DISTRICTS]
    for k, (name, _, _) in enumerate(_COUNTY_DISTRICTS):
        cell = box
        for j, other in enumerate(seeds_xy):
            if j != k:
                cell = clip_to_bisector(cell, seeds_xy[k], other, margin=1.0)
        poly = Polygon(cell)
        n_villages = sum(1 for vl in villages if poly.contains(Point(vl.x, vl.y)))
        areas.append(area_spec(cell, name, "rural", 6.0 + 1.5 * n_villages))

    # Points: places, then stations, hospitals and urgent treatment centres.
    points: list[MapPoint] = []

    def at(node: int, kind: str, name: str) -> MapPoint:
        return MapPoint(kind, name, b.xs[node], b.ys[node])

    for t in towns:
        points.append(at(int(t.grid[t.size // 2, t.size // 2]), "town", t.name))
    for vl in villages:
        points.append(at(vl.centre, "village", vl.name))
    g = ct.grid
    q1, q3 = ct.size // 4, 3 * ct.size // 4
    points.append(at(int(g[q3, q1]), "station", "Casterbridge North Ambulance Station"))
    points.append(at(int(g[q1, q3]), "station", "Casterbridge South Ambulance Station"))
    for t in towns[1:]:
        m = t.size // 2
        points.append(at(int(t.grid[m + 2, m - 2]), "station", f"{t.name} Ambulance Station"))
    # Rural hubs: the two villages farthest from any town.
    remote = sorted(villages, key=lambda vl: -min(math.hypot(vl.x - t.cx, vl.y - t.cy)
                                                   for t in towns))
    for vl in sorted(remote[:2], key=lambda vl: vl.name):
        points.append(at(vl.centre, "station", f"{vl.name} Ambulance Station"))
    points.append(at(int(g[ct.size // 2 + 4, ct.size // 2 + 5]), "hospital",
                     "Casterbridge County Hospital"))
    for t, label in ((towns[4], "Budmouth Regis General Hospital"),
                     (towns[3], "Anglebury Hospital")):
        m = t.size // 2
        points.append(at(int(t.grid[m - 2, m + 3]), "hospital", label))
    for t in (towns[1], towns[2]):
        m = t.size // 2
        points.append(at(int(t.grid[m - 3, m - 1]), "utc", f"{t.name} Urgent Treatment Centre"))

    return finish_map(b, "Wessex (fictional county)", areas, points)
