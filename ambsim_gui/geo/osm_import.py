"""Import an OpenStreetMap extract (``.osm`` XML) as an ambsim map file.

One job: ``import_osm("area.osm", "resources/maps/area.json")`` reads the drivable roads of an
OSM extract (ways tagged ``highway=*``), maps their highway types to ambsim's road classes,
honours ``oneway``, ``maxspeed`` and road names, projects longitude/latitude to local metres
(equirectangular: x east and y north of the map's origin, see :func:`origin_of`), keeps the
largest strongly connected part (every kept node can reach every other, as routing needs), and
writes the map file with a ``source`` line (the OSM file's name, the origin, the projection and
the ODbL attribution). Each link's speed comes from its road type, terrain and limit
(`road_speeds`); the areas are settlements and their surroundings, named after municipalities
or places (`osm_areas`). Hospitals, ambulance and fire stations, and named cities, towns and
villages, mapped as nodes or as outlines, become named points a scenario can use (`PLACES`).
`convert` also says what it made (`Imported.summary`: nodes, links, areas, terrains and
limits, points by kind, and warnings such as "no ambulance station found"), which
``import-osm`` prints.

The same file and options give the same map file, byte for byte, on every run: the origin is
a function of the file alone (or ``--origin LAT,LON``), and the road links are written in the
order of their OSM node ids, whatever order they were read in.

The built-in parser (``xml.etree``, standard library) needs nothing else. When the optional
extra is installed (``pip install -e ".[osm]"``), osmnx can read the road graph instead
(``engine="osmnx"``; ``auto`` uses it when installed); its links go through the same rules, so
both engines write the same file. Points of interest come from the built-in parser.

Command line (the project's ``main.py import-osm`` calls :func:`main`)::

    python -m ambsim_gui.geo.osm_import AREA.osm -o resources/maps/NAME.json [--name NAME]
        [--engine auto|osmnx|builtin] [--origin LAT,LON] [--country CC]
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import importlib
import math
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal, cast

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import MultiPoint, Point
from shapely.geometry.base import BaseGeometry

from ambsim_gui import paths
from ambsim_gui.geo.mapfile import (
    DEFAULT_ROAD_CLASSES,
    AreaSpec,
    MapData,
    MapError,
    MapPoint,
    dumps_map,
)
from ambsim_gui.geo.osm_areas import AdminBoundary, boundary_shape, built_up, districts, make_areas
from ambsim_gui.geo.road_speeds import (
    COUNTRY_LIMITS,
    TERRAINS,
    Terrain,
    limits_of,
    road_speed,
    winding_ways,
)

__all__ = ["HIGHWAY_CLASSES", "PLACES", "Imported", "OsmImportError", "convert", "import_osm",
           "main", "origin_of", "parse_maxspeed", "project"]

Engine = Literal["auto", "osmnx", "builtin"]

HIGHWAY_CLASSES: dict[str, str] = {
    "motorway": "motorway",
    "motorway_link": "motorway",
    "trunk": "a_road",
    "trunk_link": "a_road",
    "primary": "a_road",
    "primary_link": "a_road",
    "secondary": "b_road",
    "secondary_link": "b_road",
    "tertiary": "b_road",
    "tertiary_link": "b_road",
    "unclassified": "lane",
    "residential": "street",
    "living_street": "street",
    "road": "street",
    "service": "street",
}
"""OSM ``highway`` value -> ambsim road class. Anything else (footways, tracks, cycleways,
roads under construction...) is not driven by an ambulance and is left out."""

_SKIP_SERVICE = frozenset({"parking_aisle", "parking", "driveway", "drive-through"})
_ONEWAY_YES = frozenset({"yes", "true", "1"})
_ONEWAY_REVERSE = frozenset({"-1", "reverse"})
_ONEWAY_NO = frozenset({"no", "false", "0"})
_IMPLIED_ONEWAY_HIGHWAYS = frozenset({"motorway", "motorway_link"})
_ROUNDABOUTS = frozenset({"roundabout", "circular"})

EARTH_RADIUS_M = 6_371_008.8
"""Mean earth radius; an equirectangular projection about the centre is within 0.1% over a
city-sized extract."""
ORIGIN_DECIMALS = 4
"""The origin is rounded to 1e-4 degrees, so it is written and typed back exactly."""
ATTRIBUTION = "Map data (c) OpenStreetMap contributors, ODbL 1.0"
"""What a map made from OpenStreetMap data must say (the Open Database License)."""
HULL_MARGIN_M = 50.0
"""The urban area is the convex hull of the roads grown by this much, so edge nodes lie inside."""
POINT_MARGIN_M = 2000.0
"""Hospitals and stations farther than this outside the kept roads are dropped."""

MPH_KPH = 1.609344
_UK_LIMITS_MPH = {"nsl_single": 60.0, "nsl_dual": 70.0, "motorway": 70.0, "national": 60.0}


class OsmImportError(MapError):
    """The OSM file cannot be read or holds no usable road network; the message says why."""


# --------------------------------------------------------------------------- small helpers


def parse_maxspeed(value: str | Sequence[str] | None) -> float | None:
    """A ``maxspeed`` tag in km/h, or None when it gives no number.

    Accepts ``"50"`` (km/h), ``"30 mph"``, ``"50 km/h"``, UK implicit limits such as
    ``"GB:nsl_single"`` (60 mph), several values (``"30;40"`` or a list: the lowest is taken).
    """
    if value is None:
        return None
    parts = [value] if isinstance(value, str) else list(value)
    speeds: list[float] = []
    for part in parts:
        for piece in str(part).split(";"):
            kph = _one_maxspeed(piece.strip().lower())
            if kph is not None and kph > 0:
                speeds.append(kph)
    return min(speeds) if speeds else None


def _one_maxspeed(text: str) -> float | None:
    if ":" in text:  # e.g. GB:nsl_single, UK:motorway, DE:urban
        limit = _UK_LIMITS_MPH.get(text.split(":", 1)[1])
        return limit * MPH_KPH if limit is not None else None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?", text)
    if match is None:
        return None
    number = float(match.group(1))
    return number * MPH_KPH if match.group(2) == "mph" else number


def _road_class(highway: str | None) -> str | None:
    return HIGHWAY_CLASSES.get(highway) if highway is not None else None


def _open_binary(path: Path) -> BinaryIO:
    suffix = path.suffix.lower()
    if suffix == ".bz2":
        return cast(BinaryIO, bz2.open(path, "rb"))
    if suffix == ".gz":
        return cast(BinaryIO, gzip.open(path, "rb"))
    return path.open("rb")


# --------------------------------------------------------------------------- reading OSM XML


@dataclass
class _Edge:
    """A directed road link between two OSM node ids."""

    u: int
    v: int
    highway: str
    road_class: str
    limit_kph: float | None
    """The way's ``maxspeed`` in km/h; None when untagged (the country's default applies)."""
    name: str


@dataclass
class _Osm:
    """What the import needs from the file: node positions, road links and named places."""

    lonlat: dict[int, tuple[float, float]] = field(default_factory=dict)
    edges: list[_Edge] = field(default_factory=list)
    places: list[tuple[str, str | None, float, float]] = field(default_factory=list)
    """(what, name or None, lon, lat) of the places in `PLACES`, in file order."""
    bounds: tuple[float, float, float, float] | None = None
    """The file's ``<bounds>``: (min lat, min lon, max lat, max lon), when it has one."""
    extent: tuple[float, float, float, float] | None = None
    """(min lat, min lon, max lat, max lon) of every node in the file."""
    road_ways: list[list[int]] = field(default_factory=list)
    """The node ids of each drivable way, to tell a winding road (road_speeds.terrain_of)."""
    way_refs: dict[int, list[int]] = field(default_factory=dict)
    """Node ids of every way, for the outlines of boundary relations."""
    boundaries: list[tuple[int, str, list[int], float | None]] = field(default_factory=list)
    """(admin_level, name, ids of its outer ways, population tag) of each named
    ``boundary=administrative`` relation."""
    countries: dict[str, int] = field(default_factory=dict)
    """How often each ``addr:country`` code is given: the country whose default limits apply."""


PLACES: dict[str, tuple[str, str]] = {
    "hospital": ("hospital", "Hospital"),
    "ambulance_station": ("station", "Ambulance Station"),
    "fire_station": ("station", "Fire Station"),
    "city": ("town", ""),
    "town": ("town", ""),
    "village": ("village", ""),
}
"""What in the data becomes a map point: its kind on the map and the name an unnamed one gets
(numbered; a town or village without a name is left out). Hospitals are ``amenity=hospital``
or ``healthcare=hospital``; ambulance stations ``emergency=ambulance_station``; fire stations
``amenity=fire_station`` (station points too: ambulances are often based at them); places
``place=city|town|village`` (a city is a town point: map files have no city kind). Each is a
node, or a way (a building or outline) taken at the mean of its nodes."""


def _place_kind(tags: dict[str, str]) -> str | None:
    """Which of `PLACES` an OSM element is, or None."""
    if tags.get("emergency") == "ambulance_station":
        return "ambulance_station"
    if tags.get("amenity") == "hospital" or tags.get("healthcare") == "hospital":
        return "hospital"
    if tags.get("amenity") == "fire_station":
        return "fire_station"
    place = tags.get("place")
    return place if place in ("city", "town", "village") else None


def _way_edges(refs: list[int], tags: dict[str, str]) -> Iterator[_Edge]:
    highway = tags.get("highway")
    road_class = _road_class(highway)
    if road_class is None or tags.get("area") == "yes":
        return
    if highway == "service" and tags.get("service") in _SKIP_SERVICE:
        return
    emergency_ok = tags.get("emergency") in ("yes", "designated")
    if not emergency_ok and tags.get("motor_vehicle", tags.get("access")) == "no":
        return  # an ambulance may use a private road, not one closed to all motor traffic
    oneway = tags.get("oneway", "").lower()
    forward = backward = True
    if oneway in _ONEWAY_YES:
        backward = False
    elif oneway in _ONEWAY_REVERSE:
        forward = False
    elif oneway not in _ONEWAY_NO and (
        highway in _IMPLIED_ONEWAY_HIGHWAYS or tags.get("junction") in _ROUNDABOUTS
    ):
        backward = False
    limit = parse_maxspeed(tags.get("maxspeed"))
    name = tags.get("name") or tags.get("ref") or ""
    assert highway is not None
    for a, b in zip(refs, refs[1:], strict=False):
        if a == b:
            continue
        if forward:
            yield _Edge(a, b, highway, road_class, limit, name)
        if backward:
            yield _Edge(b, a, highway, road_class, limit, name)


def _drivable(tags: dict[str, str]) -> bool:
    """Whether a way's links are roads (what `_way_edges` makes links of, one way or not)."""
    return next(_way_edges([1, 2], tags), None) is not None


def _read_xml(path: Path, *, roads: bool = True) -> _Osm:
    """Stream the file once: nodes, then ways (OSM files list nodes first)."""
    osm = _Osm()
    pending_ways: list[tuple[list[int], dict[str, str]]] = []
    lo_lat = lo_lon = math.inf
    hi_lat = hi_lon = -math.inf
    try:
        with _open_binary(path) as handle:
            for _, elem in ET.iterparse(handle, events=("end",)):
                tag = elem.tag
                if tag == "node":
                    node_id = int(elem.get("id", "0"))
                    lat, lon = float(elem.get("lat", "nan")), float(elem.get("lon", "nan"))
                    if math.isfinite(lat) and math.isfinite(lon):
                        osm.lonlat[node_id] = (lon, lat)
                        lo_lat, hi_lat = min(lo_lat, lat), max(hi_lat, lat)
                        lo_lon, hi_lon = min(lo_lon, lon), max(hi_lon, lon)
                        tags = _tags(elem)
                        kind = _place_kind(tags) if tags else None
                        if kind is not None:
                            osm.places.append((kind, tags.get("name"), lon, lat))
                        _count_country(osm, tags)
                    elem.clear()
                elif tag == "way":
                    refs = [int(nd.get("ref", "0")) for nd in elem.iter("nd")]
                    tags = _tags(elem)
                    osm.way_refs[int(elem.get("id", "0"))] = refs
                    _count_country(osm, tags)
                    if refs and "highway" in tags and _drivable(tags):
                        osm.road_ways.append(refs)
                    if refs and (("highway" in tags and roads) or _place_kind(tags)):
                        pending_ways.append((refs, tags))
                    elem.clear()
                elif tag == "relation":
                    _boundary(osm, elem)
                    elem.clear()
                elif tag == "bounds":
                    osm.bounds = _bounds(elem)
    except ET.ParseError as exc:
        raise OsmImportError(f"{path}: not OSM XML: {exc}") from None
    except (OSError, EOFError, ValueError) as exc:
        raise OsmImportError(f"{path}: cannot read the file: {exc}") from None
    if math.isfinite(lo_lat):
        osm.extent = (lo_lat, lo_lon, hi_lat, hi_lon)
    for refs, tags in pending_ways:
        kind = _place_kind(tags)
        if kind is not None:  # a hospital or station drawn as a building: its centre
            ring = refs[:-1] if len(refs) > 1 and refs[0] == refs[-1] else refs
            coords = [osm.lonlat[r] for r in ring if r in osm.lonlat]
            if coords:
                lon = sum(c[0] for c in coords) / len(coords)
                lat = sum(c[1] for c in coords) / len(coords)
                osm.places.append((kind, tags.get("name"), lon, lat))
            continue
        for piece in _present_runs(refs, osm.lonlat):  # an extract cuts ways at its edge
            osm.edges.extend(_way_edges(piece, tags))
    return osm


def _count_country(osm: _Osm, tags: dict[str, str]) -> None:
    code = tags.get("addr:country", "").strip().upper()
    if len(code) == 2 and code.isalpha():
        osm.countries[code] = osm.countries.get(code, 0) + 1


def _boundary(osm: _Osm, elem: ET.Element) -> None:
    """Note a named administrative boundary relation (its outer ways are read later)."""
    tags = _tags(elem)
    if tags.get("boundary") != "administrative" or not tags.get("name"):
        return
    try:
        level = int(tags.get("admin_level", ""))
    except ValueError:
        return
    ways = [int(m.get("ref", "0")) for m in elem.iter("member")
            if m.get("type") == "way" and m.get("role", "") in ("outer", "")]
    try:
        population: float | None = float(tags["population"].replace(",", "").strip())
    except (KeyError, ValueError):
        population = None
    if population is not None and not (math.isfinite(population) and population >= 0):
        population = None
    if ways:
        osm.boundaries.append((level, tags["name"], ways, population))


def _present_runs(refs: list[int], lonlat: dict[int, tuple[float, float]]) -> list[list[int]]:
    """The runs of a way's nodes that are in the file: a way the extract cut is split where
    its nodes are missing, never joined across the gap."""
    runs: list[list[int]] = [[]]
    for ref in refs:
        if ref in lonlat:
            runs[-1].append(ref)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if len(run) > 1]


def _bounds(elem: ET.Element) -> tuple[float, float, float, float] | None:
    try:
        box = tuple(float(elem.get(k, "nan")) for k in ("minlat", "minlon", "maxlat", "maxlon"))
    except ValueError:
        return None
    ok = all(math.isfinite(v) for v in box) and box[0] <= box[2] and box[1] <= box[3]
    return cast(tuple[float, float, float, float], box) if ok else None


def _tags(elem: ET.Element) -> dict[str, str]:
    return {t.get("k", ""): t.get("v", "") for t in elem.iter("tag")}


_WAY_TAGS = ("highway", "area", "service", "emergency", "motor_vehicle", "access", "oneway",
             "junction", "maxspeed", "name", "ref")
"""The way tags the road links are made from (osmnx is asked to keep exactly these)."""
_OSMNX_REVERSED = frozenset({"-1", "reverse", "T"})
"""``oneway`` values for which osmnx reverses a way's nodes when it takes every way as one way."""


def _read_osmnx(path: Path, osmnx: Any) -> _Osm:
    """Road links from osmnx's graph, made exactly as the built-in reader makes them.

    osmnx is asked for the graph as the file has it (not simplified: a map file has no road
    geometry between nodes, so a merged link would be drawn as a straight chord), every way
    in its own node order with its tags as written (``all_oneway``), and each of its links
    goes through the built-in rules (classes, one way, access, speeds, names). Places, the
    bounds and the origin come from the built-in reader: the map is the same file, byte for
    byte, whichever engine read it.
    """
    settings = osmnx.settings
    saved = (settings.all_oneway, list(settings.useful_tags_way))
    settings.all_oneway, settings.useful_tags_way = True, list(_WAY_TAGS)
    try:
        graph = osmnx.graph_from_xml(path, simplify=False, retain_all=True, bidirectional=False)
    except Exception as exc:  # noqa: BLE001 - osmnx raises many kinds; say what failed
        raise OsmImportError(f"{path}: osmnx could not read the file: {exc}") from None
    finally:
        settings.all_oneway, settings.useful_tags_way = saved
    osm = _read_xml(path, roads=False)
    lonlat: dict[int, tuple[float, float]] = {}
    for node, data in graph.nodes(data=True):
        if "x" in data and "y" in data:
            lonlat[int(node)] = (float(data["x"]), float(data["y"]))
    osm.lonlat = lonlat
    for u, v, data in graph.edges(data=True):
        tags = {k: str(data[k]) for k in _WAY_TAGS if data.get(k) is not None}
        a, b = (int(v), int(u)) if tags.get("oneway") in _OSMNX_REVERSED else (int(u), int(v))
        osm.edges.extend(_way_edges([a, b], tags))
    return osm


def _osmnx_module(engine: Engine) -> Any | None:
    if engine == "builtin":
        return None
    try:
        return importlib.import_module("osmnx")
    except ImportError:
        if engine == "osmnx":
            raise OsmImportError(
                'osmnx is not installed: pip install -e ".[osm]", or use the built-in parser'
            ) from None
        return None


# --------------------------------------------------------------------------- building the map


def _largest_strong_component(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Boolean mask of the nodes in the largest strongly connected component."""
    graph = coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=True, connection="strong")
    biggest = int(np.argmax(np.bincount(labels)))
    mask: np.ndarray = labels == biggest
    return mask


def _unique(name: str, taken: set[str]) -> str:
    candidate, k = name, 2
    while candidate in taken:
        candidate = f"{name} ({k})"
        k += 1
    taken.add(candidate)
    return candidate


def origin_of(osm_bounds: tuple[float, float, float, float] | None,
              extent: tuple[float, float, float, float] | None) -> tuple[float, float]:
    """The map's origin (lat, lon), its point (0, 0): the centre of the file's ``<bounds>``,
    or where it has none the centre of the box round all its nodes, rounded to 1e-4 degrees
    (about 11 m). A function of the file alone, so a re-import never moves a scenario's ``xy``."""
    box = osm_bounds or extent
    if box is None:
        raise OsmImportError("the file has no nodes")
    return (round((box[0] + box[2]) / 2, ORIGIN_DECIMALS),
            round((box[1] + box[3]) / 2, ORIGIN_DECIMALS))


def project(lat: np.ndarray, lon: np.ndarray, origin: tuple[float, float]
            ) -> tuple[np.ndarray, np.ndarray]:
    """Metres east (x) and north (y) of ``origin`` (lat, lon): equirectangular, the scale of
    longitude taken at the origin's latitude."""
    lat0, lon0 = origin
    scale_y = EARTH_RADIUS_M * math.pi / 180.0
    scale_x = scale_y * math.cos(math.radians(lat0))
    return (np.asarray(lon, dtype=np.float64) - lon0) * scale_x, (
        np.asarray(lat, dtype=np.float64) - lat0) * scale_y


def _edge_key(e: _Edge) -> tuple[int, int, str, str, str, float]:
    return (e.u, e.v, e.highway, e.road_class, e.name,
            -1.0 if e.limit_kph is None else e.limit_kph)


@dataclass(frozen=True)
class _Built:
    """A built map and what the import found on the way (for the summary)."""

    data: MapData
    found: dict[str, int]
    areas_from: str
    country: str | None
    terrain: dict[str, int]
    """Road links by terrain (road_speeds.TERRAINS)."""
    untagged: int
    """Road links with no ``maxspeed``: the country's default limits apply to them."""
    weights_by: str


def _build(osm: _Osm, name: str, source: str, origin: tuple[float, float],
           country: str | None) -> _Built:
    # one order whatever order the reader met the links in: by OSM node ids, then the rest
    edges = sorted((e for e in osm.edges if e.u in osm.lonlat and e.v in osm.lonlat),
                   key=_edge_key)
    if not edges:
        raise OsmImportError(f"{source}: no drivable roads (ways tagged highway=...) found")
    ids = sorted({e.u for e in edges} | {e.v for e in edges})
    index = {node: i for i, node in enumerate(ids)}
    lon = np.array([osm.lonlat[i][0] for i in ids])
    lat = np.array([osm.lonlat[i][1] for i in ids])
    u = np.array([index[e.u] for e in edges], dtype=np.int64)
    v = np.array([index[e.v] for e in edges], dtype=np.int64)

    keep = _largest_strong_component(len(ids), u, v)
    if keep.sum() < 2:
        raise OsmImportError(f"{source}: the roads do not connect: no two places reach each other")
    kept_edge = keep[u] & keep[v]
    renumber = np.cumsum(keep) - 1

    x_all, y_all = project(lat, lon, origin)
    x = x_all[keep]
    y = y_all[keep]

    eu = renumber[u[kept_edge]]
    ev = renumber[v[kept_edge]]
    chosen = [e for e, k in zip(edges, kept_edge.tolist(), strict=True) if k]
    lengths = np.hypot(x[eu] - x[ev], y[eu] - y[ev])  # the links are OSM's own: straight
    mid_x, mid_y = (x[eu] + x[ev]) / 2, (y[eu] + y[ev]) / 2
    once = np.asarray(eu < ev) | ~_has_reverse(eu, ev)  # each road once, whatever its ways
    town = built_up(mid_x[once], mid_y[once], lengths[once])

    hull = MultiPoint(np.column_stack([x, y])).convex_hull.buffer(HULL_MARGIN_M, join_style="mitre")
    points, found = _points(osm.places, origin, hull.buffer(POINT_MARGIN_M))
    places = [(p.name, p.x, p.y) for p in points if p.kind in ("town", "village")]
    admin = _admin_boundaries(osm, origin)
    found_districts, areas_from = districts(admin, places, hull, x, y, name)
    segments = np.column_stack([x[eu], y[eu], x[ev], y[ev]])[once]
    areas, by_population = make_areas(found_districts, town, segments, lengths[once])
    if not areas:  # no settlement and no road in reach of any district: the whole map
        outline = tuple((float(px), float(py)) for px, py in hull.exterior.coords[:-1])
        areas = [AreaSpec(name=name, kind="rural", demand_weight=1.0, polygon=outline)]
        areas_from = "one area"

    in_town = shapely.intersects(town, shapely.points(mid_x, mid_y)) if not town.is_empty else (
        np.zeros(len(mid_x), dtype=bool))
    winding = _winding_links(osm, origin)
    terrains: list[Terrain] = [
        "built_up" if built else ("winding" if (e.u, e.v) in winding else "open")
        for e, built in zip(chosen, in_town.tolist(), strict=True)]
    speeds = [road_speed(e.highway, terrain, e.limit_kph, country)
              for e, terrain in zip(chosen, terrains, strict=True)]

    data = MapData(
        name=name,
        road_classes=dict(DEFAULT_ROAD_CLASSES),
        node_x=x,
        node_y=y,
        edge_u=eu,
        edge_v=ev,
        edge_class=[e.road_class for e in chosen],
        edge_length_m=lengths,
        edge_speed_kph=np.array(speeds),
        edge_name=[e.name for e in chosen],
        areas=areas,
        points=points,
    )
    data.validate(source)
    counts: dict[str, int] = {t: terrains.count(t) for t in TERRAINS}
    untagged = sum(e.limit_kph is None for e in chosen)
    return _Built(data, found, areas_from, country, counts, untagged,
                  "population" if by_population else "road km")


def _has_reverse(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """For each link u -> v, whether the map also has v -> u (a two-way road)."""
    n = int(max(u.max(), v.max())) + 1 if len(u) else 1
    there = set((u * n + v).tolist())
    return np.array([b * n + a in there for a, b in zip(u.tolist(), v.tolist(), strict=True)],
                    dtype=bool)


def _winding_links(osm: _Osm, origin: tuple[float, float]) -> set[tuple[int, int]]:
    """The (from, to) OSM node pairs, both ways, of the drivable ways that wind as mountain
    roads do, or that lie among roads that do (``road_speeds.winding_ways``)."""
    runs: list[list[int]] = []
    lines: list[list[tuple[float, float]]] = []
    for refs in osm.road_ways:
        run = [r for r in refs if r in osm.lonlat]
        if len(run) < 2:
            continue
        lon = np.array([osm.lonlat[r][0] for r in run])
        lat = np.array([osm.lonlat[r][1] for r in run])
        xs, ys = project(lat, lon, origin)
        runs.append(run)
        lines.append(list(zip(xs.tolist(), ys.tolist(), strict=True)))
    pairs: set[tuple[int, int]] = set()
    for run, winding in zip(runs, winding_ways(lines), strict=True):
        if winding:
            for a, b in zip(run, run[1:], strict=False):
                pairs.add((a, b))
                pairs.add((b, a))
    return pairs


def _admin_boundaries(osm: _Osm, origin: tuple[float, float]) -> list[AdminBoundary]:
    """The administrative boundaries whose outer ways are all in the file, projected."""
    out: list[AdminBoundary] = []
    for level, label, way_ids, population in osm.boundaries:
        rings: list[list[tuple[float, float]]] = []
        for way in way_ids:
            refs = osm.way_refs.get(way)
            if refs is None or any(r not in osm.lonlat for r in refs):
                rings = []
                break  # cut by the extract's edge: its outline is unknown
            lon = np.array([osm.lonlat[r][0] for r in refs])
            lat = np.array([osm.lonlat[r][1] for r in refs])
            xs, ys = project(lat, lon, origin)
            rings.append(list(zip(xs.tolist(), ys.tolist(), strict=True)))
        shape = boundary_shape(rings) if rings else None
        if shape is not None and not shape.is_empty:
            out.append(AdminBoundary(level, label, shape, population))
    return out


def _points(places: list[tuple[str, str | None, float, float]], origin: tuple[float, float],
            reach: BaseGeometry) -> tuple[list[MapPoint], dict[str, int]]:
    """The map points of the places within reach of the roads, in the order of `PLACES` and
    then of the file, and how many of each were made (``outside``: left out, too far out)."""
    order = {what: i for i, what in enumerate(PLACES)}
    ranked = sorted(range(len(places)), key=lambda i: (order[places[i][0]], i))
    taken: set[str] = set()
    seen: set[tuple[str, str]] = set()
    found = dict.fromkeys(PLACES, 0) | {"outside": 0}
    points: list[MapPoint] = []
    for i in ranked:
        what, label, lon, lat = places[i]
        kind, default = PLACES[what]
        if not label and not default:
            continue  # a town or village with no name labels nothing
        if label and (kind, label) in seen:
            continue  # the same place mapped twice (a node and an outline...)
        xs, ys = project(np.array([lat]), np.array([lon]), origin)
        x, y = float(xs[0]), float(ys[0])
        if not reach.contains(Point(x, y)):
            found["outside"] += 1
            continue
        if label:
            seen.add((kind, label))
        found[what] += 1
        title = label or f"{default} {found[what]}"
        points.append(MapPoint(kind=kind, name=_unique(title, taken), x=x, y=y))
    return points, found


# --------------------------------------------------------------------------- the entry points


@dataclass(frozen=True)
class Imported:
    """A map file written by `convert`: where, what it holds, and what the data gave."""

    path: Path
    data: MapData
    origin: tuple[float, float]
    found: dict[str, int]
    """Map points made of each of `PLACES` (and ``outside``: places too far from the roads)."""
    areas_from: str = "one area"
    """How the areas were drawn (``osm_areas.districts``)."""
    country: str | None = None
    """The country whose default speed limits apply to untagged roads (None: ambsim's)."""
    terrain: dict[str, int] = field(default_factory=dict)
    """Road links by terrain (``road_speeds.TERRAINS``)."""
    untagged: int = 0
    """Road links without a ``maxspeed`` tag."""
    weights_by: str = "road km"
    """What the areas' demand weights are: ``population`` or ``road km``."""

    def warnings(self) -> list[str]:
        """What an author should know before writing a scenario on the map."""
        found, out = self.found, []
        if not found["ambulance_station"]:
            fire = found["fire_station"]
            then = (f"the {fire} fire station(s) are station points; " if fire else "")
            out.append(f"no ambulance station found (emergency=ambulance_station): {then}"
                       "give a scenario's stations as a point or xy")
        if not found["hospital"]:
            out.append("no hospital found (amenity=hospital): give a scenario's hospitals as xy")
        if not (found["city"] or found["town"] or found["village"]):
            out.append("no named town or village found (place=city|town|village): the map has "
                       "no place names")
        return out

    def summary(self) -> list[str]:
        """The lines ``import-osm`` prints."""
        d = self.data
        width = float(d.node_x.max() - d.node_x.min()) / 1000.0
        height = float(d.node_y.max() - d.node_y.min()) / 1000.0
        lat, lon = self.origin
        f = self.found
        kinds = [
            f"{f['hospital']} hospital(s)",
            f"{f['ambulance_station']} ambulance station(s)",
            f"{f['fire_station']} fire station(s) (station points)",
            f"{f['city'] + f['town']} town(s)" + (f" ({f['city']} cities)" if f["city"] else ""),
            f"{f['village']} village(s)",
        ]
        urban = sum(a.kind == "urban" for a in d.areas)
        built_up, outside, motorway = limits_of(self.country)
        t = self.terrain
        lines = [
            f"wrote {self.path}: {len(d.node_x)} nodes, {len(d.edge_u)} road links, "
            f"{len(d.areas)} area(s), {width:.1f} x {height:.1f} km",
            f"areas: {urban} urban, {len(d.areas) - urban} rural, from {self.areas_from}; "
            f"demand weight: {self.weights_by}",
            f"road links: {t.get('built_up', 0)} built-up, {t.get('open', 0)} open, "
            f"{t.get('winding', 0)} winding; {self.untagged} without maxspeed take "
            f"{self.country or 'the default'} limits "
            f"{built_up:.0f}/{outside:.0f}/{motorway:.0f} km/h (built-up/outside/motorway)",
            f"origin (0, 0) at {abs(lat):.4f} {'N' if lat >= 0 else 'S'}, "
            f"{abs(lon):.4f} {'E' if lon >= 0 else 'W'}",
            f"points: {len(d.points)}: " + ", ".join(kinds),
        ]
        if f["outside"]:
            lines.append(f"left out {f['outside']} place(s) more than {POINT_MARGIN_M / 1000:g} km "
                         "from the roads")
        lines += [f"warning: {w}" for w in self.warnings()]
        lines.append(f"map data: {ATTRIBUTION}")
        return lines


def import_osm(
    osm_path: str | Path,
    out_path: str | Path,
    *,
    name: str | None = None,
    engine: Engine = "auto",
    origin: tuple[float, float] | None = None,
    country: str | None = None,
) -> Path:
    """Convert an OSM extract to an ambsim map file (see `convert`); the path written."""
    return convert(osm_path, out_path, name=name, engine=engine, origin=origin,
                   country=country).path


def convert(
    osm_path: str | Path,
    out_path: str | Path,
    *,
    name: str | None = None,
    engine: Engine = "auto",
    origin: tuple[float, float] | None = None,
    country: str | None = None,
) -> Imported:
    """Convert an OSM XML extract (``.osm``, ``.osm.bz2``, ``.osm.gz``) to an ambsim map file.

    ``name`` names the map (default: the file's stem; an area too when there are no places).
    ``engine`` chooses the road-graph reader: ``auto`` (osmnx when installed), ``osmnx`` or
    ``builtin``; both give the same file. ``origin`` (lat, lon) is the map's point (0, 0); by
    default :func:`origin_of` the file. ``country`` (ISO code) sets the default limits of
    untagged roads (``road_speeds.COUNTRY_LIMITS``); by default the ``addr:country`` most
    often given in the file. The same file and options give the same bytes on every run.
    Returns what was written; raises :class:`OsmImportError` (a ``MapError``) with the reason.
    """
    source = Path(osm_path)
    if not source.is_file():
        raise OsmImportError(f"{source}: no such file")
    if source.suffix.lower() == ".pbf":
        raise OsmImportError(f"{source}: .pbf is not supported; export the area as .osm XML")
    stem = source.name.split(".")[0] or "map"
    title = name or stem
    if origin is not None:
        _check_origin(origin)
    osmnx = _osmnx_module(engine)
    osm = _read_osmnx(source, osmnx) if osmnx is not None else _read_xml(source)
    where = origin if origin is not None else origin_of(osm.bounds, osm.extent)
    code = (country or _main_country(osm) or "").upper() or None
    built = _build(osm, title, str(source), where, code)
    path = _write(built.data, Path(out_path), _source_note(source, where))
    return Imported(path, built.data, where, built.found, built.areas_from, code,
                    built.terrain, built.untagged, built.weights_by)


def _main_country(osm: _Osm) -> str | None:
    """The ``addr:country`` given most often (the first in the alphabet on a tie), or None."""
    if not osm.countries:
        return None
    return min(osm.countries, key=lambda c: (-osm.countries[c], c))


def _check_origin(origin: tuple[float, float]) -> None:
    lat, lon = origin
    if not (math.isfinite(lat) and math.isfinite(lon) and -85 <= lat <= 85 and -180 <= lon <= 180):
        raise OsmImportError(
            f"origin {lat},{lon}: give a latitude within +-85 and a longitude within +-180")


def _source_note(source: Path, origin: tuple[float, float]) -> dict[str, Any]:
    """What the map file says of where it came from (the loader reads past it)."""
    return {
        "osm_file": source.name,
        "origin": {"lat": origin[0], "lon": origin[1]},
        "projection": "equirectangular: x metres east, y metres north of the origin",
        "attribution": ATTRIBUTION,
    }


def _write(data: MapData, path: Path, note: dict[str, Any]) -> Path:
    """The map file with a ``source`` note after its header: the file the map came from, its
    origin and projection, and the ODbL attribution."""
    data.source = note
    text = dumps_map(data)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except OSError as exc:
        raise OsmImportError(f"{path}: cannot write the map file ({exc.strerror or exc})") from None
    return path


def _latlon(text: str) -> tuple[float, float]:
    """``--origin LAT,LON`` as two numbers."""
    parts = text.replace(" ", "").split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        lat, lon = float(parts[0]), float(parts[1])
        _check_origin((lat, lon))
    except (ValueError, OsmImportError):
        raise argparse.ArgumentTypeError(
            f"{text!r}: give LAT,LON in decimal degrees, e.g. 47.1595,9.5536") from None
    return lat, lon


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ambsim import-osm",
        description="Convert an OpenStreetMap extract (.osm XML) to an ambsim map file. The same "
        "file and options give the same map, byte for byte, on every run and with either engine.",
        epilog="Coordinates are metres east (x) and north (y) of the origin, which by default is "
        "the centre of the file's <bounds> (or, without one, of the box round all its nodes), "
        "rounded to 0.0001 degrees; the map file's \"source\" line records it. "
        f"Maps made from OpenStreetMap data must say: {ATTRIBUTION}.",
    )
    parser.add_argument("osm", help="the OpenStreetMap extract: AREA.osm (.osm.bz2, .osm.gz)")
    parser.add_argument(
        "-o",
        "--output",
        help="map file to write (default: resources/maps/AREA.json in a checkout, "
        "./AREA.json for an installed ambsim)",
    )
    parser.add_argument("--name", help="name of the map and its area (default: AREA)")
    parser.add_argument(
        "--engine",
        choices=["auto", "osmnx", "builtin"],
        default="auto",
        help="road-graph reader: osmnx when installed (auto), or the built-in parser; "
        "both give the same map",
    )
    parser.add_argument(
        "--origin",
        type=_latlon,
        metavar="LAT,LON",
        help="the map's point (0, 0) in decimal degrees (default: the centre of the file's "
        "bounds, rounded to 0.0001 degrees); south or west with '=': --origin=-33.92,18.42",
    )
    parser.add_argument(
        "--country",
        metavar="CC",
        help="ISO country code whose default speed limits apply to roads without a maxspeed "
        "tag (default: the addr:country most often given in the file; "
        f"known: {', '.join(COUNTRY_LIMITS)}; others get 50/90/120 km/h)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``import-osm AREA.osm [-o resources/maps/NAME.json] [--name NAME] [--engine ENGINE]
    [--origin LAT,LON] [--country CC]``; 0 when written."""
    args = _parser().parse_args(argv)
    source = Path(args.osm)
    # by default beside the shipped maps in a checkout; an installed program never writes into
    # its own package, so there it writes to the working folder
    maps = paths.MAPS if paths.SOURCE_CHECKOUT else Path.cwd()
    out = Path(args.output) if args.output else maps / f"{source.name.split('.')[0]}.json"
    try:
        done = convert(source, out, name=args.name, engine=args.engine, origin=args.origin,
                       country=args.country)
    except MapError as exc:
        print(f"import-osm: {exc}", file=sys.stderr)
        return 1
    print("\n".join(done.summary()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
