"""Build a generated map's road network, from roads drawn as polylines to a finished map.

One job: ``RoadBuilder`` collects nodes (merged by position at the file's precision) and road
segments; ``curving_road`` draws a gently curving country road; ``add_junctions`` joins roads
where they cross (a motorway only at interchanges); ``ensure_connected`` repairs the network
until every node can reach every other; ``finish_map`` turns the segments into the directed
edges of a ``MapData`` and checks what the rest of ambsim relies on. Everything is plain,
seeded arithmetic, so a map's bytes are the same on every run and every GEOS version.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import Point, Polygon

from ambsim_gui.geo.mapfile import DEFAULT_ROAD_CLASSES, AreaSpec, MapData, MapPoint

#: A crossing this close to a segment's end joins at that end instead of making a sliver.
_JOIN_SNAP_M = 1.5


@dataclass(frozen=True, slots=True)
class Segment:
    """A straight piece of road between two nodes, before it becomes one or two edges."""

    u: int
    v: int
    cls: str
    speed: float
    name: str
    oneway: bool = False


class RoadBuilder:
    """Collects nodes (merged by rounded position) and road segments."""

    def __init__(self) -> None:
        self.xs: list[float] = []
        self.ys: list[float] = []
        self._index: dict[tuple[int, int], int] = {}
        self.segs: list[Segment] = []

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
            self.segs.append(Segment(u, v, cls, float(speed), name, oneway))

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


def curving_road(
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


def _joins(a: str, b: str) -> bool:
    """Whether two roads that cross meet at a junction. A motorway meets only A roads (at
    interchanges); it bridges over everything else."""
    if a == "motorway" or b == "motorway":
        return {a, b} <= {"motorway", "a_road"} and a != b
    return True


def add_junctions(b: RoadBuilder, query: Sequence[int] | None = None) -> None:
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

    out: list[Segment] = []
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


def _directed(segs: Sequence[Segment]) -> tuple[np.ndarray, np.ndarray]:
    u: list[int] = []
    v: list[int] = []
    for s in segs:
        u.append(s.u)
        v.append(s.v)
        if not s.oneway:
            u.append(s.v)
            v.append(s.u)
    return np.array(u, dtype=np.int64), np.array(v, dtype=np.int64)


def ensure_connected(b: RoadBuilder, removed: Sequence[Segment]) -> None:
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


def finish_map(
    b: RoadBuilder,
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
