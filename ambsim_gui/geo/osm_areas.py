"""The areas of an imported map: settlements (urban) and their surroundings (rural), each
named after its place, weighted by population or road length.

One job: :func:`make_areas` turns the roads, the named places and any administrative
boundaries of an OSM extract into map areas. The steps (figures in ``docs/domain.md``, Areas
of an imported map):

1. **Built-up land** (:func:`built_up`): the map is cut into `CELL_M` squares; a square with at
   least `BUILT_UP_KM_PER_KM2` of road per km² is built up. Squares are joined, gaps of one
   square closed, and settlements under `MIN_SETTLEMENT_KM2` dropped.
2. **Districts** (:func:`districts`): the administrative boundaries of the deepest level whose
   complete outlines hold at least half the road nodes (a municipality: Vaduz, Schaan...);
   without usable boundaries, the land nearest each named town or village; without places,
   the whole map, named after the file.
3. **Areas**: each district's built-up land is an urban area named after the district; the rest
   of the district within `RURAL_REACH_M` of a road is a rural area (``NAME rural`` when the
   district has a town part, else ``NAME``). Urban areas are listed first, smaller ones before
   larger, so a settlement owns its ground (map files give an overlap to the area listed first).
4. **Demand weight**: the district's ``population`` tag shared by road length between its
   parts when every district has one; otherwise the km of road in the area, a stand-in for the
   people living along them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import polygonize, unary_union

from ambsim_gui.geo.mapfile import AreaSpec

__all__ = ["BUILT_UP_KM_PER_KM2", "CELL_M", "AdminBoundary", "District", "built_up",
           "districts", "make_areas"]

CELL_M = 250.0
"""Side of the squares road density is counted in."""
BUILT_UP_KM_PER_KM2 = 10.0
"""Road length per km² from which a square is built up (Liechtenstein's villages reach 10 to
20; its fields and forests under 5)."""
MIN_SETTLEMENT_KM2 = 0.25
"""A built-up patch smaller than this (four squares) is a farm or a junction, not a settlement."""
RURAL_REACH_M = 500.0
"""Rural areas keep the land within this distance of a road: calls come from where people go,
not from the mountain tops between the valleys."""
SIMPLIFY_M = 20.0
"""Outlines are simplified to this tolerance (a map file stays small, a street stays inside)."""


@dataclass(frozen=True)
class AdminBoundary:
    """An administrative boundary from the file, already projected: its level (2 a country ...
    8 a municipality), name, outline and ``population`` tag (None when untagged)."""

    level: int
    name: str
    shape: BaseGeometry
    population: float | None


@dataclass(frozen=True)
class District:
    """Land that areas are named after: a municipality, or the land nearest a place."""

    name: str
    shape: BaseGeometry
    population: float | None


def boundary_shape(rings: Sequence[Sequence[tuple[float, float]]]) -> BaseGeometry | None:
    """The polygon(s) the ways of a boundary relation enclose, or None when they enclose none
    (a boundary cut by the extract's edge)."""
    lines = [shapely.LineString(r) for r in rings if len(r) >= 2]
    polygons = [p for p in polygonize(lines) if p.area > 0]
    if not polygons:
        return None
    shape = unary_union(polygons)
    return shape if shape.is_valid and not shape.is_empty else shape.buffer(0)


def built_up(mid_x: np.ndarray, mid_y: np.ndarray, length_m: np.ndarray) -> BaseGeometry:
    """Built-up land: the squares dense with road (each road counted once, at its midpoint)."""
    if len(mid_x) == 0:
        return Polygon()
    ix = np.floor(mid_x / CELL_M).astype(np.int64)
    iy = np.floor(mid_y / CELL_M).astype(np.int64)
    cells: dict[tuple[int, int], float] = {}
    for a, b, length in zip(ix.tolist(), iy.tolist(), length_m.tolist(), strict=True):
        cells[(a, b)] = cells.get((a, b), 0.0) + length
    need = BUILT_UP_KM_PER_KM2 * 1000.0 * (CELL_M / 1000.0) ** 2
    squares = [shapely.box(a * CELL_M, b * CELL_M, (a + 1) * CELL_M, (b + 1) * CELL_M)
               for (a, b), length in sorted(cells.items()) if length >= need]
    if not squares:
        return Polygon()
    half = CELL_M / 2
    joined = unary_union(squares).buffer(half, join_style="mitre").buffer(-half, join_style="mitre")
    keep = [p for p in _parts(joined) if p.area >= MIN_SETTLEMENT_KM2 * 1e6]
    return unary_union(keep) if keep else Polygon()


def districts(admin: Sequence[AdminBoundary], places: Sequence[tuple[str, float, float]],
              land: BaseGeometry, node_x: np.ndarray, node_y: np.ndarray,
              fallback: str) -> tuple[list[District], str]:
    """The districts and how they were found (``administrative level N``, ``nearest place``
    or ``one area``). ``places`` are (name, x, y) of towns and villages; ``land`` is the
    ground the map covers."""
    nodes = shapely.points(node_x, node_y)
    for level in sorted({b.level for b in admin}, reverse=True):
        chosen = sorted((b for b in admin if b.level == level), key=lambda b: b.name)
        covered = np.zeros(len(node_x), dtype=bool)
        for b in chosen:
            covered |= shapely.intersects(b.shape, nodes)
        if covered.mean() >= 0.5:
            found = [District(b.name, b.shape, b.population) for b in chosen]
            return found, f"administrative level {level}"
    if not places:
        return [District(fallback, land, None)], "one area"
    if len(places) == 1:
        return [District(places[0][0], land, None)], "nearest place"
    cells = shapely.voronoi_polygons(MultiPoint([(x, y) for _, x, y in places]),
                                     extend_to=land)
    out: list[District] = []
    for name, x, y in places:
        cell = next(c for c in _parts(cells) if c.covers(Point(x, y)))
        out.append(District(name, cell.intersection(land), None))
    return out, "nearest place"


def make_areas(found: Sequence[District], town: BaseGeometry, segments: np.ndarray,
               length_m: np.ndarray) -> tuple[list[AreaSpec], bool]:
    """The map's areas (urban first, smaller before larger), each with its demand weight, and
    whether the weights are populations (else km of road). ``segments`` are the roads, each
    once, as rows (x0, y0, x1, y1)."""
    mid = (segments[:, :2] + segments[:, 2:]) / 2
    roads = shapely.points(mid[:, 0], mid[:, 1])
    lines = shapely.linestrings(segments.reshape(-1, 2, 2))
    reach = (unary_union(shapely.buffer(lines, RURAL_REACH_M, quad_segs=2)) if len(segments)
             else Polygon())
    urban: list[tuple[str, Polygon, int, str]] = []
    rural: list[tuple[str, Polygon, int, str]] = []
    for k, district in enumerate(found):
        towns = [p for p in _parts(district.shape.intersection(town))
                 if p.area >= MIN_SETTLEMENT_KM2 * 1e6]
        urban += [(district.name, p, k, "urban") for p in towns]
        rest = district.shape.intersection(reach)
        label = f"{district.name} rural" if towns else district.name
        rural += [(label, p, k, "rural") for p in _parts(rest)
                  if p.area >= MIN_SETTLEMENT_KM2 * 1e6]
    ordered = (sorted(urban, key=_size_order) + sorted(rural, key=_size_order))
    outlines = [_outline(item[1]) for item in ordered]
    lengths = _road_length_by_area(outlines, roads, length_m)
    populations = [d.population for d in found]
    use_population = bool(found) and all(p is not None for p in populations)
    district_km = [0.0] * len(found)
    for item, km in zip(ordered, lengths, strict=True):
        district_km[item[2]] += km
    taken: set[str] = set()
    areas: list[AreaSpec] = []
    for (name, _, k, kind), outline, km in zip(ordered, outlines, lengths, strict=True):
        if km <= 0:
            continue  # no road: no call could be placed there
        if use_population:
            weight = float(populations[k] or 0.0) * km / district_km[k]
        else:
            weight = km
        areas.append(AreaSpec(
            name=_unique(name, taken),
            kind=kind,
            demand_weight=round(weight, 3),
            polygon=tuple((float(x), float(y)) for x, y in outline.exterior.coords[:-1]),
        ))
    return areas, use_population


def _size_order(item: tuple[str, Polygon, int, str]) -> tuple[float, str, float, float]:
    polygon = item[1]
    c = polygon.representative_point()
    return (round(polygon.area, 1), item[0], round(c.x, 1), round(c.y, 1))


def _outline(polygon: Polygon) -> Polygon:
    """The exterior of a polygon (map areas have no holes), simplified and rounded as the map
    file writes it, so the weights computed here are those of the file."""
    simple = Polygon(polygon.exterior).simplify(SIMPLIFY_M, preserve_topology=True)
    coords = [(round(x, 1) + 0.0, round(y, 1) + 0.0) for x, y in simple.exterior.coords[:-1]]
    out = Polygon(coords)
    if not out.is_valid:
        out = max(_parts(out.buffer(0)), key=lambda p: p.area)
        out = Polygon([(round(x, 1) + 0.0, round(y, 1) + 0.0) for x, y in out.exterior.coords])
    return out


def _road_length_by_area(outlines: Sequence[Polygon], roads: np.ndarray,
                         length_m: np.ndarray) -> list[float]:
    """km of road whose midpoint lies in each area, the first listed owning an overlap."""
    free = np.ones(len(roads), dtype=bool)
    out: list[float] = []
    for outline in outlines:
        inside = free & shapely.intersects(outline, roads)
        out.append(float(length_m[inside].sum()) / 1000.0)
        free &= ~inside
    return out


def _parts(shape: BaseGeometry) -> list[Polygon]:
    """The polygons of a geometry, in a fixed order."""
    if shape.is_empty:
        return []
    if isinstance(shape, Polygon):
        return [shape]
    parts = [g for g in getattr(shape, "geoms", []) if isinstance(g, Polygon)]
    for g in getattr(shape, "geoms", []):
        if not isinstance(g, Polygon):
            parts += _parts(g)
    return sorted(parts, key=lambda p: (p.bounds, p.area))


def _unique(name: str, taken: set[str]) -> str:
    candidate, k = name, 2
    while candidate in taken:
        candidate = f"{name} ({k})"
        k += 1
    taken.add(candidate)
    return candidate

