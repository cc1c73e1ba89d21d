"""The loaded road map (`RoadNetwork`): nodes, directed edges, areas and named places, with the
spatial look-ups the rest of ambsim needs (snap a point to the road, which area is this in, pick a
random place in an area, which edges does a closure cover).

The arrays are the truth and are read-only; the networkx graph (`RoadNetwork.graph`) is built
from them on first use, for editing, import and cross-checking. Routing queries do not use it:
see `ambsim_gui.geo.routing`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from ambsim_gui.geo.mapfile import (
    AreaSpec,
    MapData,
    MapError,
    MapPoint,
    RoadClass,
    load_map,
    save_map,
)

__all__ = ["Area", "MapError", "MapPoint", "RoadNetwork"]

#: Give up sampling a point in an area after this many misses: only a degenerate (sliver) area,
#: or one wholly covered by areas listed before it, gets near it.
_MAX_SAMPLING_ATTEMPTS = 100_000


@dataclass(frozen=True)
class Area:
    """A named area of the map (a town, a rural district, a borough) that demand is drawn from."""

    name: str
    kind: str
    demand_weight: float
    polygon: Polygon
    index: int


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False
    return arr


class RoadNetwork:
    """A road map loaded for simulation. Build it with `load` or `from_mapdata`.

    Attributes (arrays are read-only):
        name: the map's display name.
        xy: node coordinates in metres, shape (n_nodes, 2).
        edge_u, edge_v: the from and to node of each directed edge.
        edge_class: road class code of each edge; `class_names[code]` is its name.
        edge_length_m, edge_speed_kph: length and normal (not blue-light) speed of each edge.
        edge_name: road name of each edge ("" when unnamed), an object array of str.
        road_classes: class name -> `RoadClass` (default speed, blue-light factor).
        class_blue_light_factor: blue-light factor by class code.
        areas: the map's areas in file order (earlier areas own any overlap).
        area_of_node: index of the area each node lies in, -1 where it lies in none.
        points: stations, hospitals, urgent treatment centres, town and village labels.
    """

    def __init__(self, data: MapData) -> None:
        """Wrap already-validated map data (use `load` or `from_mapdata`, which validate)."""
        self.name: str = data.name
        self.road_classes: dict[str, RoadClass] = dict(data.road_classes)
        self.class_names: tuple[str, ...] = tuple(self.road_classes)
        codes = {name: i for i, name in enumerate(self.class_names)}

        self.xy: np.ndarray = _readonly(np.column_stack([data.node_x, data.node_y]))
        self.n_nodes: int = int(self.xy.shape[0])
        self.n_edges: int = int(len(data.edge_u))
        self.edge_u: np.ndarray = _readonly(np.array(data.edge_u, dtype=np.int64))
        self.edge_v: np.ndarray = _readonly(np.array(data.edge_v, dtype=np.int64))
        self.edge_class: np.ndarray = _readonly(
            np.fromiter((codes[c] for c in data.edge_class), dtype=np.int16, count=self.n_edges)
        )
        self.edge_length_m: np.ndarray = _readonly(np.array(data.edge_length_m, dtype=np.float64))
        self.edge_speed_kph: np.ndarray = _readonly(
            np.array(data.edge_speed_kph, dtype=np.float64)
        )
        names = np.empty(self.n_edges, dtype=object)
        names[:] = data.edge_name
        self.edge_name: np.ndarray = _readonly(names)
        self.class_blue_light_factor: np.ndarray = _readonly(
            np.array([rc.blue_light_factor for rc in self.road_classes.values()], dtype=np.float64)
        )

        self.areas: list[Area] = []
        for i, spec in enumerate(data.areas):
            poly = Polygon(spec.polygon)
            # Prepared geometry makes the many point-in-polygon tests of sampling cheap.
            shapely.prepare(poly)
            self.areas.append(Area(spec.name, spec.kind, spec.demand_weight, poly, i))
        self.points: list[MapPoint] = list(data.points)
        self._points_by_name = {p.name: p for p in self.points}
        self.source: dict[str, Any] | None = data.source
        self.origin: tuple[float, float] | None = data.origin
        """(lat, lon) of the point (0, 0) of an imported map; None for a generated one."""

        area_of_node = np.full(self.n_nodes, -1, dtype=np.int64)
        for area in self.areas:
            unassigned = area_of_node < 0
            if not unassigned.any():
                break
            inside = shapely.intersects_xy(area.polygon, self.xy[:, 0], self.xy[:, 1])
            area_of_node[unassigned & inside] = area.index
        self.area_of_node: np.ndarray = _readonly(area_of_node)
        self._nodes_in_area: dict[int, np.ndarray] = {}

    # ----------------------------------------------------------------------------------------
    # Construction and saving

    @classmethod
    def load(cls, path: str | Path) -> RoadNetwork:
        """Load a map file; raise `MapError` naming the file and the problem."""
        return cls(load_map(path))

    @classmethod
    def from_mapdata(cls, data: MapData, *, source: str = "<map data>") -> RoadNetwork:
        """Validate `data` (raising `MapError` prefixed with `source`) and wrap it."""
        data.validate(source)
        return cls(data)

    def to_mapdata(self) -> MapData:
        """The network as plain map data, e.g. to save after an edit or import."""
        return MapData(
            name=self.name,
            road_classes=dict(self.road_classes),
            node_x=self.xy[:, 0].copy(),
            node_y=self.xy[:, 1].copy(),
            edge_u=self.edge_u.copy(),
            edge_v=self.edge_v.copy(),
            edge_class=[self.class_names[c] for c in self.edge_class.tolist()],
            edge_length_m=self.edge_length_m.copy(),
            edge_speed_kph=self.edge_speed_kph.copy(),
            edge_name=list(self.edge_name),
            areas=[
                AreaSpec(
                    a.name,
                    a.kind,
                    a.demand_weight,
                    tuple((float(x), float(y)) for x, y in a.polygon.exterior.coords[:-1]),
                )
                for a in self.areas
            ],
            points=list(self.points),
            source=dict(self.source) if self.source is not None else None,
        )

    def save(self, path: str | Path) -> Path:
        """Write the network as a map file."""
        return save_map(self.to_mapdata(), path)

    # ----------------------------------------------------------------------------------------
    # Named places and areas

    def point(self, name: str) -> MapPoint:
        """The point called `name`; `MapError` listing some known names if there is none."""
        try:
            return self._points_by_name[name]
        except KeyError:
            known = [p.name for p in self.points]
            shown = ", ".join(known[:8]) + (f" ... ({len(known)} in all)" if len(known) > 8 else "")
            raise MapError(
                f"{self.name}: no point named {name!r} (known: {shown or 'none'})"
            ) from None

    def points_of_kind(self, kind: str) -> list[MapPoint]:
        """Points of one kind ("station", "hospital", "utc", "town", "village"), in map order."""
        return [p for p in self.points if p.kind == kind]

    def area_named(self, name: str) -> Area:
        """The area called `name`; `MapError` listing the known areas if there is none."""
        for area in self.areas:
            if area.name == name:
                return area
        known = ", ".join(a.name for a in self.areas) or "none"
        raise MapError(f"{self.name}: no area named {name!r} (known: {known})")

    def area_index_at(self, x: float, y: float) -> int:
        """Index of the area containing (x, y) (boundary included; first listed wins), or -1."""
        bounds = self._area_bounds
        for area in self.areas:
            minx, miny, maxx, maxy = bounds[area.index]
            # The bounding box first: most areas are ruled out without asking GEOS.
            inside_box = minx <= x <= maxx and miny <= y <= maxy
            if inside_box and shapely.intersects_xy(area.polygon, x, y):
                return area.index
        return -1

    @cached_property
    def _area_bounds(self) -> list[tuple[float, float, float, float]]:
        """Each area's bounding box; also prepares the polygons (GEOS indexes their edges),
        which makes a point-in-area test several times faster with the same answers."""
        for area in self.areas:
            shapely.prepare(area.polygon)
        out = []
        for area in self.areas:
            minx, miny, maxx, maxy = (float(b) for b in area.polygon.bounds)
            out.append((minx, miny, maxx, maxy))
        return out

    def nodes_in_area(self, area_index: int) -> np.ndarray:
        """Ids of the nodes whose area is `area_index` (read-only, ascending)."""
        self._check_area(area_index)
        cached = self._nodes_in_area.get(area_index)
        if cached is None:
            cached = _readonly(np.flatnonzero(self.area_of_node == area_index))
            self._nodes_in_area[area_index] = cached
        return cached

    def random_point_in_area(
        self, area_index: int, rng: np.random.Generator
    ) -> tuple[float, float]:
        """A uniformly random point of the area, by rejection sampling in its bounding box.

        A point counts only where the area owns it (`area_index_at` agrees), so a rural district
        that surrounds a town never yields a point in the town. The same rng state gives the
        same point.
        """
        self._check_area(area_index)
        area = self.areas[area_index]
        minx, miny, maxx, maxy = area.polygon.bounds
        for _ in range(_MAX_SAMPLING_ATTEMPTS):
            x = float(rng.uniform(minx, maxx))
            y = float(rng.uniform(miny, maxy))
            if self.area_index_at(x, y) == area_index:
                return x, y
        raise MapError(f"{self.name}: area {area.name!r} has (almost) no ground of its own")

    def random_node_in_area(self, area_index: int, rng: np.random.Generator) -> int:
        """The node nearest a random point of the area, moved to the nearest node of the area
        itself when the road nearest the point belongs to a neighbour (if the area has nodes)."""
        x, y = self.random_point_in_area(area_index, rng)
        node = self.snap(x, y)
        if self.area_of_node[node] == area_index:
            return node
        own = self.nodes_in_area(area_index)
        if own.size == 0:
            return node
        d2 = (self.xy[own, 0] - x) ** 2 + (self.xy[own, 1] - y) ** 2
        return int(own[int(np.argmin(d2))])

    def _check_area(self, area_index: int) -> None:
        if not 0 <= area_index < len(self.areas):
            raise MapError(
                f"{self.name}: no area with index {area_index} (the map has {len(self.areas)})"
            )

    # ----------------------------------------------------------------------------------------
    # Snapping

    @cached_property
    def _node_tree(self) -> shapely.STRtree:
        return shapely.STRtree(shapely.points(self.xy))

    def snap(self, x: float, y: float) -> int:
        """The node nearest (x, y); on an exact tie, the lowest node id."""
        hits = self._node_tree.query_nearest(shapely.Point(x, y), all_matches=True)
        return int(np.min(hits))

    def snap_many(self, xs: Iterable[float] | np.ndarray, ys: Iterable[float] | np.ndarray
                  ) -> np.ndarray:
        """`snap` for many points at once; returns node ids (int64), one per point."""
        x = np.asarray(xs, dtype=np.float64).ravel()
        y = np.asarray(ys, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError(f"snap_many: {x.size} x values but {y.size} y values")
        if x.size == 0:
            return np.zeros(0, dtype=np.int64)
        query, found = self._node_tree.query_nearest(shapely.points(x, y), all_matches=True)
        # all_matches returns every node at the nearest distance; keep the lowest id, as snap does.
        result = np.full(x.size, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(result, query, found)
        return result

    # ----------------------------------------------------------------------------------------
    # Edges: travel times, drawing, closures

    def edge_time_s(self, blue_light: bool) -> np.ndarray:
        """Travel time of every edge in seconds, normal or under blue lights."""
        speed_ms = self.edge_speed_kph / 3.6
        if blue_light:
            speed_ms = speed_ms * self.class_blue_light_factor[self.edge_class]
        return np.asarray(self.edge_length_m / speed_ms, dtype=np.float64)

    def segments_by_class(self) -> dict[str, np.ndarray]:
        """Road segments to draw, by class: (k, 4) arrays of x1, y1, x2, y2.

        The two directions of a two-way road (and parallel duplicates) give one segment.
        Every class is present, with an empty (0, 4) array when unused.
        """
        lo = np.minimum(self.edge_u, self.edge_v)
        hi = np.maximum(self.edge_u, self.edge_v)
        out: dict[str, np.ndarray] = {}
        for code, cname in enumerate(self.class_names):
            mask = self.edge_class == code
            keys = np.unique(lo[mask] * self.n_nodes + hi[mask])
            a, b = keys // self.n_nodes, keys % self.n_nodes
            out[cname] = np.hstack([self.xy[a], self.xy[b]]).reshape(-1, 4)
        return out

    @cached_property
    def _edge_tree(self) -> shapely.STRtree:
        coords = np.stack([self.xy[self.edge_u], self.xy[self.edge_v]], axis=1)
        return shapely.STRtree(shapely.linestrings(coords))

    def edges_within(self, geometry: BaseGeometry) -> np.ndarray:
        """Ids (ascending) of edges whose straight segment intersects `geometry`, both
        directions of a two-way road included: what a road closure drawn as a polygon covers."""
        if self.n_edges == 0:
            return np.zeros(0, dtype=np.int64)
        hits = self._edge_tree.query(geometry, predicate="intersects")
        return np.unique(np.asarray(hits, dtype=np.int64))

    def edges_named(self, name: str, within: BaseGeometry | None = None) -> np.ndarray:
        """Ids (ascending) of the edges of roads called exactly `name`, optionally only those
        intersecting `within` (a city has many a Church Road)."""
        named = np.flatnonzero(self.edge_name == name)
        if within is None:
            return named
        return np.intersect1d(named, self.edges_within(within))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min x, min y, max x, max y) of the nodes."""
        lo = self.xy.min(axis=0)
        hi = self.xy.max(axis=0)
        return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])

    # ----------------------------------------------------------------------------------------
    # networkx view

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The map as a networkx MultiDiGraph, built on first use.

        Nodes carry x, y and area (index, -1 if none); edges are keyed by edge id and carry
        road_class, name, length_m, speed_kph, time_s and blue_light_time_s. A MultiDiGraph
        because a map may hold parallel edges (a slip road beside a main road); networkx's
        shortest-path functions take the cheapest of them, as the router does.
        """
        g: nx.MultiDiGraph = nx.MultiDiGraph(name=self.name)
        xs, ys = self.xy[:, 0].tolist(), self.xy[:, 1].tolist()
        areas = self.area_of_node.tolist()
        g.add_nodes_from(
            (i, {"x": xs[i], "y": ys[i], "area": areas[i]}) for i in range(self.n_nodes)
        )
        time_s = self.edge_time_s(blue_light=False).tolist()
        blue_s = self.edge_time_s(blue_light=True).tolist()
        classes = [self.class_names[c] for c in self.edge_class.tolist()]
        lengths = self.edge_length_m.tolist()
        speeds = self.edge_speed_kph.tolist()
        names = self.edge_name.tolist()
        g.add_edges_from(
            (
                u,
                v,
                e,
                {
                    "road_class": classes[e],
                    "name": names[e],
                    "length_m": lengths[e],
                    "speed_kph": speeds[e],
                    "time_s": time_s[e],
                    "blue_light_time_s": blue_s[e],
                },
            )
            for e, (u, v) in enumerate(zip(self.edge_u.tolist(), self.edge_v.tolist(), strict=True))
        )
        return g

    def __repr__(self) -> str:
        return (
            f"RoadNetwork({self.name!r}, {self.n_nodes} nodes, {self.n_edges} edges, "
            f"{len(self.areas)} areas, {len(self.points)} points)"
        )
