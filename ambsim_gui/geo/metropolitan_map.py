"""Kingsmere, the fictional metropolitan area that ships with ambsim, generated deterministically.

One job: ``generate_metropolitan`` builds "Kingsmere", a fictional London-scale city about
30 km across: a street grid that is dense in the centre and sparser in the suburbs, a river
crossed by bridges, an inner ring road, an orbital dual carriageway, ten radial A roads and
twelve boroughs, with about seventy stations spread by demand, a hospital in each borough and
three urgent treatment centres. The seed is fixed, so every run gives the same map.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import shapely
from shapely.geometry import Polygon

from ambsim_gui.geo.area_outlines import area_spec
from ambsim_gui.geo.mapfile import AreaSpec, MapData, MapPoint
from ambsim_gui.geo.road_builder import (
    RoadBuilder,
    Segment,
    add_junctions,
    ensure_connected,
    finish_map,
)
from ambsim_gui.geo.street_names import STREET_KINDS, STREET_WORDS, distinct_names

METRO_SEED = 1666  # rebuilt after the fire

_METRO_CX, _METRO_CY = 17000.0, 17000.0
_METRO_ROTATION = 0.21  # radians: the street grid is not aligned with north
# The street grid is a lattice warped outwards: spacing C_M at the centre, growing with radius
# so the suburbs are sparser; a lattice radius rho lies at r = C_M * rho + D_M * rho**2 metres.
_C_M, _D_M = 80.0, 1.2
_RHO_EDGE = 80.5
_BOROUGHS_CENTRAL = ("Kingsmere Central",)
_BOROUGHS_INNER = ("Ravensgate", "Aldbridge", "Eastholm", "St Ambrose", "Westmarsh")
_BOROUGHS_OUTER = ("Northfold", "Hawkridge", "Fenwick Green", "Marlpit", "Copperhill",
                   "Thornleigh Vale")
_CENTRAL_R, _INNER_R = 2600.0, 7600.0
_RADIALS = ("Great North Road", "Abbotsleigh Road", "Eastern Avenue", "Marshgate Road",
            "Old Downs Road", "Great South Road", "Portway", "Western Avenue", "Great West Road",
            "Highgrove Road")
_LOCALITY_WORDS = (
    "Ash", "Bex", "Brom", "Cal", "Cran", "Dun", "Elm", "Fair", "Gold", "Hawk", "Ivy", "Kin",
    "Lark", "Mar", "Nor", "Oak", "Pen", "Rad", "Sel", "Thorn", "Up", "Wal", "Wick", "Yew",
    "Bram", "Chis", "Hol", "Lee", "Mor", "Stan",
)
_LOCALITY_ENDINGS = ("ford", "ham", "ley", "wick", "field", "stead", "bury", "well", "wood",
                     "cote", "hurst", "ton", "den", "worth")


def _warp(rho: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = _C_M * rho + _D_M * rho**2
    ang = theta + _METRO_ROTATION
    return _METRO_CX + r * np.cos(ang), _METRO_CY + r * np.sin(ang)


def _river_y(x: np.ndarray) -> np.ndarray:
    """The river runs west to east through the centre, meandering."""
    dx = (x - _METRO_CX) / 1000.0
    return _METRO_CY - 700.0 + 900.0 * np.sin(dx / 4.2 + 0.6) + 350.0 * np.sin(dx / 1.7)


def generate_metropolitan() -> MapData:
    """The fictional city of Kingsmere (see the module docstring)."""
    seeds = np.random.SeedSequence(METRO_SEED).spawn(6)
    r_grid, r_cut, r_names, r_roads, r_places, r_areas = (np.random.default_rng(s) for s in seeds)
    b = RoadBuilder()
    phase = r_grid.uniform(0, 2 * math.pi, 2)

    def rho_edge(theta: np.ndarray) -> np.ndarray:
        return np.asarray(
            _RHO_EDGE + 6.0 * np.sin(3 * theta + phase[0]) + 3.0 * np.sin(5 * theta + phase[1])
        )

    # The lattice, jittered, clipped to an irregular outline, then warped.
    span = int(_RHO_EDGE + 12)
    ii, jj = np.meshgrid(np.arange(-span, span + 1), np.arange(-span, span + 1), indexing="ij")
    pi = ii + r_grid.uniform(-0.22, 0.22, ii.shape)
    pj = jj + r_grid.uniform(-0.22, 0.22, jj.shape)
    rho = np.hypot(pi, pj)
    theta = np.arctan2(pj, pi)
    inside = rho <= rho_edge(theta)
    wx, wy = _warp(rho, theta)
    ids = np.full(ii.shape, -1, dtype=np.int64)
    for a, c in zip(*np.nonzero(inside), strict=True):
        ids[a, c] = b.node(float(wx[a, c]), float(wy[a, c]))
    xy = b.xy()

    # Street names: each lattice line is cut into stretches of about ten blocks, each a street.
    words = [f"{w}{e}" for w in _LOCALITY_WORDS for e in _LOCALITY_ENDINGS]
    street_names = distinct_names(r_names, STREET_WORDS + tuple(words[::7]), STREET_KINDS, 4000)
    road_names = [f"{words[i]} Road" for i in r_names.permutation(len(words))]

    def street(line: int, along: int, horizontal: bool) -> str:
        key = ((line + span) * 2 + horizontal) * 40 + (along + span) // 10
        return street_names[key % len(street_names)]

    one_way = 12
    removed: list[Segment] = []
    centre = _METRO_CX, _METRO_CY
    for a, c in zip(*np.nonzero(inside), strict=True):
        i, j = int(ii[a, c]), int(jj[a, c])
        for da, dc in ((1, 0), (0, 1)):
            a2, c2 = a + da, c + dc
            if a2 >= ids.shape[0] or c2 >= ids.shape[1] or ids[a2, c2] < 0:
                continue
            u, v = int(ids[a, c]), int(ids[a2, c2])
            horizontal = da == 1  # i changes: the edge runs along lattice row j
            line = j if horizontal else i
            r_mid = math.hypot((xy[u, 0] + xy[v, 0]) / 2 - centre[0],
                               (xy[u, 1] + xy[v, 1]) / 2 - centre[1])
            if line % 7 == 0:
                seg = Segment(u, v, "b_road", 48.0, road_names[(line + span) % len(road_names)])
            else:
                speed = 32.0 if r_mid < 3000 else 40.0  # 20 mph in the centre
                seg = Segment(u, v, "street", speed, street(line, i if horizontal else j,
                                                            horizontal))
            crosses_river = (_river_y(xy[u, 0]) < xy[u, 1]) != (_river_y(xy[v, 0]) < xy[v, 1])
            central = max(abs(i), abs(j), abs(i + da), abs(j + dc)) <= one_way
            if crosses_river:
                bridge = r_cut.random() < (0.5 if seg.cls == "b_road" else 0.06)
                if not bridge:
                    removed.append(seg)
                    continue
                seg = replace(seg, name=f"{seg.name.rsplit(' ', 1)[0]} Bridge")
            elif seg.cls == "street" and central and line % 2:
                seg = replace(seg, oneway=True)
                if (line // 2) % 2:
                    seg = replace(seg, u=v, v=u)
            elif seg.cls == "street" and not central:
                rho_mid = abs(complex(i, j))
                if r_cut.random() < (0.05 if rho_mid < 40 else 0.15):
                    removed.append(seg)
                    continue
            b.segs.append(seg)
    # Streets removed where that left a node with a single way in or out go back.
    degree = np.bincount(np.array([s.u for s in b.segs] + [s.v for s in b.segs]),
                         minlength=len(b.xs))
    kept: list[Segment] = []
    for seg in removed:
        if degree[seg.u] < 2 or degree[seg.v] < 2:
            b.segs.append(seg)
            degree[seg.u] += 1
            degree[seg.v] += 1
        else:
            kept.append(seg)
    removed = kept

    # Main roads laid over the grid: inner ring, orbital, radials.
    first_main = len(b.segs)
    ph = r_roads.uniform(0, 2 * math.pi, 3)

    def loop(radius: Callable[[float], float], count: int) -> list[tuple[float, float]]:
        pts = []
        for k in range(count + 1):
            t = 2 * math.pi * (k % count) / count
            r = radius(t)
            pts.append((centre[0] + r * math.cos(t), centre[1] + r * math.sin(t)))
        return pts

    b.road(loop(lambda t: 3300 + 250 * math.sin(2 * t + ph[0]), 170), "a_road", 48.0,
           "Inner Ring Road")
    b.road(loop(lambda t: 10300 + 350 * math.sin(3 * t + ph[1]), 230), "motorway", 112.0,
           "Kingsmere Orbital")

    def radial_speed(x: float, y: float) -> float:
        r = math.hypot(x - centre[0], y - centre[1])
        return 48.0 if r < 3500 else 64.0 if r < 9000 else 80.0

    for k, name in enumerate(_RADIALS):
        t0 = 2 * math.pi * k / len(_RADIALS) + float(r_roads.uniform(-0.12, 0.12))
        wob = float(r_roads.uniform(0, 2 * math.pi))
        pts = []
        r = 700.0
        while True:
            t = t0 + 0.06 * math.sin(r / 2300 + wob)
            edge_rho = float(rho_edge(np.array(t - _METRO_ROTATION))) - 1.0
            r_end = _C_M * edge_rho + _D_M * edge_rho**2
            r = min(r, r_end)
            pts.append((centre[0] + r * math.cos(t), centre[1] + r * math.sin(t)))
            if r >= r_end:
                break
            r += 260.0
        b.road(pts, "a_road", radial_speed, name)

    add_junctions(b, range(first_main, len(b.segs)))
    ensure_connected(b, removed)

    # Areas: a central borough, five inner and six outer, the outer ones reaching 300 m past
    # the city's edge. Built in polar coordinates round the centre (the outline is a radius
    # for each bearing), each overlapping its neighbours by a couple of metres.
    turn = float(r_areas.uniform(0, 2 * math.pi))

    def edge_radius(bearing: np.ndarray) -> np.ndarray:
        rho = rho_edge(bearing - _METRO_ROTATION) + 0.6
        return np.asarray(_C_M * rho + _D_M * rho**2 + 300.0)

    def sector(a0: float, a1: float, r_in: float, r_out: float | None) -> np.ndarray:
        pad = 2.0 / _INNER_R  # radians: a couple of metres of overlap with the neighbours
        bearings = np.linspace(a0 - pad, a1 + pad, max(8, int((a1 - a0) / 0.01)))
        outer = edge_radius(bearings) if r_out is None else np.full(bearings.size, r_out + 2)
        inner = np.full(bearings.size, r_in - 2.0)
        r = np.concatenate([inner, outer[::-1]])
        ang = np.concatenate([bearings, bearings[::-1]])
        return np.column_stack([centre[0] + r * np.cos(ang), centre[1] + r * np.sin(ang)])

    disc = np.linspace(0, 2 * math.pi, 361)[:-1]
    shapes: list[tuple[str, np.ndarray]] = [(
        _BOROUGHS_CENTRAL[0],
        np.column_stack([centre[0] + (_CENTRAL_R + 2) * np.cos(disc),
                         centre[1] + (_CENTRAL_R + 2) * np.sin(disc)]),
    )]
    for k, name in enumerate(_BOROUGHS_INNER):
        a0 = turn + 2 * math.pi * k / 5
        shapes.append((name, sector(a0, a0 + 2 * math.pi / 5, _CENTRAL_R, _INNER_R)))
    for k, name in enumerate(_BOROUGHS_OUTER):
        a0 = turn + 0.3 + 2 * math.pi * k / 6
        shapes.append((name, sector(a0, a0 + 2 * math.pi / 6, _INNER_R, None)))
    xy = b.xy()
    owner = np.full(len(b.xs), -1, dtype=np.int64)
    for k, (_, ring) in enumerate(shapes):
        hit = shapely.intersects_xy(Polygon(ring), xy[:, 0], xy[:, 1]) & (owner < 0)
        owner[hit] = k
    used = np.zeros(len(b.xs), dtype=bool)
    used[[s.u for s in b.segs]] = True
    used[[s.v for s in b.segs]] = True
    areas: list[AreaSpec] = []
    for k, (name, ring) in enumerate(shapes):
        # Demand weight: resident population in thousands, about 380 people per street corner
        # (Kingsmere is London-sized), half as many again in the centre for the daytime crowd.
        nodes_here = int(np.count_nonzero(used & (owner == k)))
        weight = nodes_here * 0.38 * (1.5 if k == 0 else 1.0)
        areas.append(area_spec(ring, name, "urban", weight))

    points = _metro_points(b, areas, owner, used, r_places)
    return finish_map(b, "Kingsmere (fictional metropolitan area)", areas, points)


def _metro_points(
    b: RoadBuilder, areas: list[AreaSpec], owner: np.ndarray, used: np.ndarray,
    rng: np.random.Generator,
) -> list[MapPoint]:
    """Borough labels, ~70 stations spread by demand, a hospital with an ED in each borough
    and three urgent treatment centres in the suburbs."""
    xy = b.xy()
    weights = np.array([a.demand_weight for a in areas])
    n_stations = 70
    # Largest remainder, at least one station per borough.
    share = weights / weights.sum() * (n_stations - len(areas))
    alloc = np.floor(share).astype(int) + 1
    for k in np.argsort(-(share - np.floor(share)), kind="stable")[: n_stations - alloc.sum()]:
        alloc[k] += 1

    localities = [f"{w}{e}" for w in _LOCALITY_WORDS for e in _LOCALITY_ENDINGS]
    order = rng.permutation(len(localities))
    locality_iter = iter(localities[i] for i in order)
    taken: set[int] = set()
    points: list[MapPoint] = []
    stations: list[MapPoint] = []
    hospitals: list[MapPoint] = []
    utcs: list[MapPoint] = []

    def nearest_free(nodes: np.ndarray, x: float, y: float) -> int:
        d = np.hypot(xy[nodes, 0] - x, xy[nodes, 1] - y)
        for i in np.argsort(d, kind="stable"):
            node = int(nodes[i])
            if node not in taken:
                taken.add(node)
                return node
        raise RuntimeError("no free node")

    hospital_names = (
        "Kingsmere Royal Infirmary", "Ravensgate General Hospital", "St Ambrose's Hospital",
        "Eastholm University Hospital", "Aldbridge Hospital", "Westmarsh General Hospital",
        "Northfold Hospital", "Hawkridge General Hospital", "Fenwick Green Hospital",
        "Marlpit General Hospital", "Copperhill Hospital", "Thornleigh Vale General Hospital",
    )
    for k, area in enumerate(areas):
        nodes = np.flatnonzero(used & (owner == k))
        cx, cy = xy[nodes].mean(axis=0)
        label = nearest_free(nodes, cx, cy)
        points.append(MapPoint("town", area.name, b.xs[label], b.ys[label]))
        taken.discard(label)  # a label may share its corner with the hospital
        hosp = nearest_free(nodes, cx + 250.0, cy - 150.0)
        hospitals.append(MapPoint("hospital", hospital_names[k], b.xs[hosp], b.ys[hosp]))
        if k in (7, 9, 11):
            r = np.hypot(xy[nodes, 0] - _METRO_CX, xy[nodes, 1] - _METRO_CY)
            far = nodes[int(np.argmax(r))]
            ux = nearest_free(nodes, (cx + xy[far, 0]) / 2, (cy + xy[far, 1]) / 2)
            utcs.append(MapPoint("utc", f"{area.name} Urgent Treatment Centre",
                                 b.xs[ux], b.ys[ux]))
        # Stations: k-means over the borough's street corners (where people live), a few rounds.
        pts = xy[nodes]
        centres = pts[np.sort(rng.choice(len(nodes), int(alloc[k]), replace=False))]
        for _ in range(12):
            d2 = ((pts[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
            nearest = np.argmin(d2, axis=1)
            for c in range(len(centres)):
                mine = pts[nearest == c]
                if len(mine):
                    centres[c] = mine.mean(axis=0)
        for c in range(len(centres)):
            node = nearest_free(nodes, float(centres[c, 0]), float(centres[c, 1]))
            stations.append(MapPoint("station", f"{next(locality_iter)} Ambulance Station",
                                     b.xs[node], b.ys[node]))
    return points + stations + hospitals + utcs
