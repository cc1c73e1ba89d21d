"""Generate the two fictional maps that ship with ambsim, deterministically.

``python -m ambsim_gui.geo.generate`` (re)writes ``resources/maps/county.json`` and
``resources/maps/metropolitan.json``; the bytes are the same every run (fixed seeds, coordinates
rounded to 0.1 m, stable key order), so the committed files can be checked against a fresh build.

- **county**: "Wessex", a fictional English county of about 60 km x 40 km: a county town with a
  dense street grid, five market towns, twenty-two villages, A roads between the towns, B roads
  and lanes to the villages, and one dual carriageway (class ``motorway``) across the county.
  Place names are borrowed from Thomas Hardy's fictional Wessex.
- **metropolitan**: "Kingsmere", a fictional London-scale city about 30 km across: a street grid
  that is dense in the centre and sparser in the suburbs, a river crossed by bridges, an inner
  ring road, an orbital dual carriageway, ten radial A roads and twelve boroughs.

Names are invented; any resemblance to a real street or place is a coincidence. Both maps are
strongly connected (every node can reach every other), every node lies in an area, and every
station, hospital and urgent treatment centre sits on a node.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import Point, Polygon

from ambsim_gui.geo.mapfile import (
    DEFAULT_ROAD_CLASSES,
    AreaSpec,
    MapData,
    MapPoint,
    save_map,
)
from ambsim_gui.paths import MAPS

COUNTY_SEED = 1874  # Far from the Madding Crowd
METRO_SEED = 1666  # rebuilt after the fire
COUNTY_FILE = "county.json"
METRO_FILE = "metropolitan.json"

#: A crossing this close to a segment's end joins at that end instead of making a sliver.
_JOIN_SNAP_M = 1.5


# ============================================================================================
# Building blocks shared by both maps


@dataclass(frozen=True, slots=True)
class _Seg:
    """A straight piece of road between two nodes, before it becomes one or two edges."""

    u: int
    v: int
    cls: str
    speed: float
    name: str
    oneway: bool = False


class _Builder:
    """Collects nodes (merged by rounded position) and road segments."""

    def __init__(self) -> None:
        self.xs: list[float] = []
        self.ys: list[float] = []
        self._index: dict[tuple[int, int], int] = {}
        self.segs: list[_Seg] = []

    def node(self, x: float, y: float) -> int:
        # Nodes are keyed by their position in decimetres, the precision of the file, so two
        # roads that meet at a point share the node and no edge has zero length.
        key = (round(x * 10), round(y * 10))
        found = self._index.get(key)
        if found is None:
            found = len(self.xs)
            self._index[key] = found
            self.xs.append(key[0] / 10)
            self.ys.append(key[1] / 10)
        return found

    def seg(self, u: int, v: int, cls: str, speed: float, name: str, oneway: bool = False) -> None:
        if u != v:
            self.segs.append(_Seg(u, v, cls, float(speed), name, oneway))

    def road(
        self,
        pts: Sequence[tuple[float, float]],
        cls: str,
        speed: float | Callable[[float, float], float],
        name: str,
    ) -> list[int]:
        """A two-way road along a polyline; `speed` may depend on the segment's midpoint."""
        ids = [self.node(x, y) for x, y in pts]
        for k in range(len(ids) - 1):
            (px, py), (qx, qy) = pts[k], pts[k + 1]
            s = speed((px + qx) / 2, (py + qy) / 2) if callable(speed) else speed
            self.seg(ids[k], ids[k + 1], cls, s, name)
        return ids

    def xy(self) -> np.ndarray:
        return np.column_stack([self.xs, self.ys])


def _joins(a: str, b: str) -> bool:
    """Whether two roads that cross meet at a junction. A motorway meets only A roads (at
    interchanges); it bridges over everything else."""
    if a == "motorway" or b == "motorway":
        return {a, b} <= {"motorway", "a_road"} and a != b
    return True


def _planarize(b: _Builder, query: Sequence[int] | None = None) -> None:
    """Add a junction wherever two segments cross (where `_joins` allows).

    `query` limits the search to crossings involving those segments (all if None): the city's
    grid never crosses itself, so only the main roads laid over it need looking at.
    """
    segs = b.segs
    xy = b.xy()
    u = np.array([s.u for s in segs])
    v = np.array([s.v for s in segs])
    lines = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
    tree = shapely.STRtree(lines)
    q = np.arange(len(segs)) if query is None else np.asarray(query, dtype=np.int64)
    qi, ti = tree.query(lines[q], predicate="crosses")
    a, c = np.minimum(q[qi], ti), np.maximum(q[qi], ti)
    pairs = np.unique(np.column_stack([a, c]), axis=0)
    pairs = np.array(
        [(i, j) for i, j in pairs.tolist() if i != j and _joins(segs[i].cls, segs[j].cls)],
        dtype=np.int64,
    ).reshape(-1, 2)
    if pairs.size == 0:
        return
    # The crossing points are computed here rather than by GEOS, so the map's bytes do not
    # depend on the GEOS version (shapely only finds which segments cross).
    p0, p1 = xy[u[pairs[:, 0]]], xy[v[pairs[:, 0]]]
    q0, q1 = xy[u[pairs[:, 1]]], xy[v[pairs[:, 1]]]
    d1, d2 = p1 - p0, q1 - q0
    denom = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
    w = q0 - p0
    t = (w[:, 0] * d2[:, 1] - w[:, 1] * d2[:, 0]) / denom
    where = p0 + t[:, None] * d1

    splits: dict[int, list[tuple[float, int]]] = {}
    for (i, j), (px, py) in zip(pairs.tolist(), where.tolist(), strict=True):
        ends = [segs[i].u, segs[i].v, segs[j].u, segs[j].v]
        d = [math.hypot(xy[e, 0] - px, xy[e, 1] - py) for e in ends]
        k = int(np.argmin(d))
        node = ends[k] if d[k] < _JOIN_SNAP_M else b.node(px, py)
        for s in (i, j):
            seg = segs[s]
            if node in (seg.u, seg.v):
                continue
            x0, y0 = xy[seg.u]
            dx, dy = xy[seg.v] - xy[seg.u]
            t = ((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy)
            splits.setdefault(s, []).append((t, node))

    out: list[_Seg] = []
    for s, seg in enumerate(segs):
        cuts = splits.get(s)
        if not cuts:
            out.append(seg)
            continue
        chain = [seg.u] + [n for _, n in sorted(cuts)] + [seg.v]
        for p, r in zip(chain, chain[1:], strict=False):
            if p != r:
                out.append(replace(seg, u=p, v=r))
    b.segs = out


def _components(n: int, u: np.ndarray, v: np.ndarray, strong: bool) -> np.ndarray:
    m = coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n)).tocsr()
    _, labels = connected_components(
        m, directed=strong, connection="strong" if strong else "weak"
    )
    return np.asarray(labels)


def _directed(segs: Sequence[_Seg]) -> tuple[np.ndarray, np.ndarray]:
    u: list[int] = []
    v: list[int] = []
    for s in segs:
        u.append(s.u)
        v.append(s.v)
        if not s.oneway:
            u.append(s.v)
            v.append(s.u)
    return np.array(u, dtype=np.int64), np.array(v, dtype=np.int64)


def _ensure_connected(b: _Builder, removed: Sequence[_Seg]) -> None:
    """Put back just enough removed streets to join the network, then make one-way streets
    two-way where they alone cut a part off, so every node can reach every other."""
    n = len(b.xs)
    u, v = _directed(b.segs)
    labels = _components(n, u, v, strong=False)
    parent = list(range(int(labels.max()) + 1))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for seg in removed:
        ra, rb = find(int(labels[seg.u])), find(int(labels[seg.v]))
        if ra != rb:
            parent[ra] = rb
            b.segs.append(seg)

    for _ in range(50):
        u, v = _directed(b.segs)
        labels = _components(n, u, v, strong=True)
        if labels.max() == 0:
            return
        b.segs = [
            replace(s, oneway=False) if s.oneway and labels[s.u] != labels[s.v] else s
            for s in b.segs
        ]
    raise RuntimeError("generator bug: the road network could not be made strongly connected")


def _finish(
    b: _Builder,
    name: str,
    areas: list[AreaSpec],
    points: list[MapPoint],
) -> MapData:
    """Drop unused nodes, turn segments into directed edges and check the promises."""
    used = sorted({s.u for s in b.segs} | {s.v for s in b.segs})
    renumber = np.full(len(b.xs), -1, dtype=np.int64)
    renumber[used] = np.arange(len(used))
    xy = b.xy()[used]
    eu: list[int] = []
    ev: list[int] = []
    ecls: list[str] = []
    espeed: list[float] = []
    ename: list[str] = []
    for s in b.segs:
        pairs = [(s.u, s.v)] if s.oneway else [(s.u, s.v), (s.v, s.u)]
        for p, q in pairs:
            eu.append(int(renumber[p]))
            ev.append(int(renumber[q]))
            ecls.append(s.cls)
            espeed.append(s.speed)
            ename.append(s.name)
    u, v = np.array(eu), np.array(ev)
    length = np.maximum(np.round(np.hypot(*(xy[v] - xy[u]).T), 1), 0.1)
    data = MapData(
        name=name,
        road_classes=dict(DEFAULT_ROAD_CLASSES),
        node_x=xy[:, 0],
        node_y=xy[:, 1],
        edge_u=u,
        edge_v=v,
        edge_class=ecls,
        edge_length_m=length,
        edge_speed_kph=np.array(espeed),
        edge_name=ename,
        areas=areas,
        points=points,
    )
    data.validate(name)
    _check_promises(data)
    return data


def _check_promises(data: MapData) -> None:
    """What the rest of ambsim relies on; a failure here is a generator bug."""
    n = len(data.node_x)
    labels = _components(n, data.edge_u, data.edge_v, strong=True)
    if labels.max() != 0:
        raise RuntimeError(f"{data.name}: not strongly connected")
    covered = np.zeros(n, dtype=bool)
    for area in data.areas:
        covered |= shapely.intersects_xy(Polygon(area.polygon), data.node_x, data.node_y)
    if not covered.all():
        i = int(np.flatnonzero(~covered)[0])
        raise RuntimeError(f"{data.name}: node {i} lies in no area")
    tree = shapely.STRtree(shapely.points(data.node_x, data.node_y))
    for p in data.points:
        if p.kind in ("station", "hospital", "utc"):
            _, dist = tree.query_nearest(Point(p.x, p.y), return_distance=True)
            if float(dist[0]) > 300:
                raise RuntimeError(f"{data.name}: {p.name} is {dist[0]:.0f} m from the road")


def _polygon_spec(
    coords: Sequence[tuple[float, float]] | np.ndarray, name: str, kind: str, weight: float
) -> AreaSpec:
    """An area from outline coordinates, rounded to the file's precision.

    Outlines are computed with plain arithmetic, not GEOS buffers or overlays, so the bytes do
    not change with the GEOS version; neighbouring areas are drawn to overlap by a metre or two
    instead of sharing an edge (rounding could open a gap; the first listed owns an overlap).
    """
    ring = tuple((round(float(x), 1), round(float(y), 1)) for x, y in coords)
    if not Polygon(ring).is_valid:
        raise RuntimeError(f"area {name} is not a valid polygon")
    return AreaSpec(name=name, kind=kind, demand_weight=round(weight, 1), polygon=ring)


def _clip(ring: list[tuple[float, float]], p: tuple[float, float], q: tuple[float, float],
          margin: float) -> list[tuple[float, float]]:
    """Clip a convex polygon to the points no more than `margin` metres nearer q than p
    (one step of Sutherland-Hodgman on the perpendicular bisector of p and q)."""
    nx_, ny_ = p[0] - q[0], p[1] - q[1]
    norm = math.hypot(nx_, ny_)
    nx_, ny_ = nx_ / norm, ny_ / norm
    mx, my = (p[0] + q[0]) / 2, (p[1] + q[1]) / 2

    def side(pt: tuple[float, float]) -> float:
        return (pt[0] - mx) * nx_ + (pt[1] - my) * ny_ + margin

    out: list[tuple[float, float]] = []
    for i, cur in enumerate(ring):
        prev = ring[i - 1]
        sc, sp = side(cur), side(prev)
        if (sc >= 0) != (sp >= 0):
            f = sp / (sp - sc)
            out.append((prev[0] + f * (cur[0] - prev[0]), prev[1] + f * (cur[1] - prev[1])))
        if sc >= 0:
            out.append(cur)
    return out


def _wiggle(
    a: tuple[float, float], b: tuple[float, float], step: float, amp: float,
    rng: np.random.Generator,
) -> list[tuple[float, float]]:
    """A gently curving road from a to b: a few sine waves across the straight line,
    zero at both ends, sampled every `step` metres."""
    ax, ay = a
    bx, by = b
    length = math.hypot(bx - ax, by - ay)
    k = max(1, math.ceil(length / step))
    coef = rng.uniform(-1, 1, 3) / np.arange(1, 4)
    nx_, ny_ = (-(by - ay) / length, (bx - ax) / length) if length else (0.0, 0.0)
    pts = [a]
    for i in range(1, k):
        t = i / k
        off = amp * length * float(sum(c * math.sin((m + 1) * math.pi * t)
                                       for m, c in enumerate(coef)))
        pts.append((ax + t * (bx - ax) + off * nx_, ay + t * (by - ay) + off * ny_))
    pts.append(b)
    return pts


def _names(rng: np.random.Generator, words: Sequence[str], kinds: Sequence[str], k: int
           ) -> list[str]:
    """k distinct names like "Elm Grove", drawn without replacement."""
    combos = [f"{w} {t}" for w in words for t in kinds]
    order = rng.permutation(len(combos))
    return [combos[i] for i in order[:k]]


_STREET_WORDS = (
    "Acacia", "Albert", "Alma", "Ash", "Beech", "Bridge", "Brook", "Castle", "Cedar", "Chapel",
    "Cherry", "Church", "Clarence", "Coronation", "Cromwell", "Elm", "Fairfield", "Forge",
    "Garden", "George", "Gladstone", "Grange", "Green", "Grove", "Hawthorn", "Hazel", "Highfield",
    "Hill", "Holly", "Kings", "Laurel", "Lime", "Manor", "Maple", "Market", "Meadow", "Mill",
    "Nelson", "Newton", "Oak", "Orchard", "Park", "Priory", "Queens", "Rectory", "Rose",
    "St Johns", "Salisbury", "School", "Spring", "Station", "Sycamore", "Tannery", "Tower",
    "Union", "Victoria", "Vicarage", "Walnut", "Water", "Well", "Wellington", "Willow", "Windsor",
    "York",
)
_STREET_KINDS = ("Street", "Road", "Lane", "Avenue", "Grove", "Close", "Way", "Gardens", "Terrace")


# ============================================================================================
# Wessex: the county


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
    b: _Builder, rng: np.random.Generator, cx: float, cy: float, size: int,
    spacing: float, *, one_way_centre: bool,
) -> tuple[np.ndarray, float, list[_Seg]]:
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
    names = _names(rng, _STREET_WORDS, _STREET_KINDS, 2 * size)
    row_names, col_names = names[:size], names[size:]
    row_names[mid], col_names[mid] = "High Street", "Cornhill"
    removed: list[_Seg] = []
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
                seg = _Seg(u, v, cls, speed, label, oneway)
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
    b = _Builder()
    removed: list[_Seg] = []

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
        lane_names = _names(r_villages, ("Church", "Mill", "School", "Back", "Chapel", "Well",
                                         "Manor", "Pound"), ("Lane", "Street", "Close"), k)
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
        b.road(_wiggle((b.xs[a], b.ys[a]), (b.xs[c], b.ys[c]), step, amp, r_roads),
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
            b.road(_wiggle((vl.x, vl.y), end, 250, 0.1, r_roads), "lane", 50.0, "")

    # The dual carriageway west to east, north of the county town, with links to two towns.
    waypoints = [(0.0, 25500.0), (14000.0, 24200.0), (26000.0, 23800.0), (38000.0, 23000.0),
                 (50000.0, 21800.0), (_COUNTY_W, 22800.0)]
    pts: list[tuple[float, float]] = []
    for w1, w2 in zip(waypoints, waypoints[1:], strict=False):
        pts += _wiggle(w1, w2, 700, 0.01, r_roads)[:-1]
    pts.append(waypoints[-1])
    motorway = b.road(pts, "motorway", 112.0, "Wessex Way")
    for t in (towns[0], towns[1]):
        mx = min(motorway, key=lambda n: (math.hypot(b.xs[n] - t.cx, b.ys[n] - t.cy), n))
        link(gate(t, b.xs[mx], b.ys[mx]), mx, "a_road", 80.0, f"{t.name} Link", 450, 0.03)

    _planarize(b)
    _ensure_connected(b, removed)

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
        areas.append(_polygon_spec(outline, t.name, "urban", t.population_k))
    box = [(-2000.0, -2000.0), (_COUNTY_W + 2000, -2000.0), (_COUNTY_W + 2000, _COUNTY_H + 2000),
           (-2000.0, _COUNTY_H + 2000)]
    seeds_xy = [(x + float(r_areas.uniform(-1500, 1500)), y + float(r_areas.uniform(-1500, 1500)))
                for _, x, y in _COUNTY_DISTRICTS]
    for k, (name, _, _) in enumerate(_COUNTY_DISTRICTS):
        cell = box
        for j, other in enumerate(seeds_xy):
            if j != k:
                cell = _clip(cell, seeds_xy[k], other, margin=1.0)
        poly = Polygon(cell)
        n_villages = sum(1 for vl in villages if poly.contains(Point(vl.x, vl.y)))
        areas.append(_polygon_spec(cell, name, "rural", 6.0 + 1.5 * n_villages))

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

    return _finish(b, "Wessex (fictional county)", areas, points)


# ============================================================================================
# Kingsmere: the metropolitan area

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
    b = _Builder()
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
    street_names = _names(r_names, _STREET_WORDS + tuple(words[::7]), _STREET_KINDS, 4000)
    road_names = [f"{words[i]} Road" for i in r_names.permutation(len(words))]

    def street(line: int, along: int, horizontal: bool) -> str:
        key = ((line + span) * 2 + horizontal) * 40 + (along + span) // 10
        return street_names[key % len(street_names)]

    one_way = 12
    removed: list[_Seg] = []
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
                seg = _Seg(u, v, "b_road", 48.0, road_names[(line + span) % len(road_names)])
            else:
                speed = 32.0 if r_mid < 3000 else 40.0  # 20 mph in the centre
                seg = _Seg(u, v, "street", speed, street(line, i if horizontal else j,
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
    kept: list[_Seg] = []
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

    _planarize(b, range(first_main, len(b.segs)))
    _ensure_connected(b, removed)

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
        areas.append(_polygon_spec(ring, name, "urban", weight))

    points = _metro_points(b, areas, owner, used, r_places)
    return _finish(b, "Kingsmere (fictional metropolitan area)", areas, points)


def _metro_points(
    b: _Builder, areas: list[AreaSpec], owner: np.ndarray, used: np.ndarray,
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


# ============================================================================================
# Command line


def write_maps(directory: str | Path = MAPS, which: Sequence[str] = ("county", "metropolitan")
               ) -> list[Path]:
    """Generate and write the named maps into `directory`; return the paths written."""
    out = Path(directory)
    written: list[Path] = []
    makers = {"county": (generate_county, COUNTY_FILE),
              "metropolitan": (generate_metropolitan, METRO_FILE)}
    for key in which:
        make, filename = makers[key]
        written.append(save_map(make(), out / filename))
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ambsim_gui.geo.generate",
        description="Write the fictional county and metropolitan maps (deterministic).",
    )
    parser.add_argument("--out", type=Path, default=MAPS, help=f"directory (default {MAPS})")
    parser.add_argument("--only", choices=("county", "metropolitan"),
                        help="write just one of the maps")
    args = parser.parse_args(argv)
    which = (args.only,) if args.only else ("county", "metropolitan")
    for path in write_maps(args.out, which):
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
