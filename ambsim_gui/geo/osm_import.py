"""Import an OpenStreetMap extract (``.osm`` XML) as an ambsim map file.

One job: ``import_osm("area.osm", "resources/maps/area.json")`` reads the drivable roads of an
OSM extract (ways tagged ``highway=*``), maps their highway types to ambsim's road classes,
honours ``oneway``, ``maxspeed`` and road names, projects longitude/latitude to local metres
(equirectangular about the extract's centre, shifted so the south-west corner is at 0, 0), keeps
the largest strongly connected part (every kept node can reach every other, as routing needs),
and writes the result with :func:`ambsim_gui.geo.mapfile.save_map`. The map gets one urban area,
the convex hull of the roads, named after the file; hospitals (``amenity=hospital`` or
``healthcare=hospital``) and ambulance stations (``emergency=ambulance_station``), mapped as
nodes or as buildings, become named points a scenario can use.

The built-in parser (``xml.etree``, standard library) needs nothing else. When the optional
extra is installed (``pip install -e ".[osm]"``), osmnx builds the road graph instead and
merges the nodes between junctions (smaller maps, true lengths along each road); points of
interest still come from the built-in parser. ``engine="builtin"`` forces the built-in path.

Command line (the project's ``main.py import-osm`` calls :func:`main`)::

    python -m ambsim_gui.geo.osm_import AREA.osm -o resources/maps/NAME.json [--name NAME]
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
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import MultiPoint, Point

from ambsim_gui import paths
from ambsim_gui.geo.mapfile import (
    DEFAULT_ROAD_CLASSES,
    AreaSpec,
    MapData,
    MapError,
    MapPoint,
    save_map,
)

__all__ = ["HIGHWAY_CLASSES", "OsmImportError", "import_osm", "main", "parse_maxspeed"]

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


def _first(value: Any) -> str | None:
    """osmnx gives a list where a merged edge had several values; take the first."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return None if value is None else str(value)


def _road_class(highway: str | None) -> str | None:
    return HIGHWAY_CLASSES.get(highway) if highway is not None else None


def _edge_speed(road_class: str, maxspeed: Any) -> float:
    """The class's typical speed, capped by a lower posted limit (a 20 mph zone...)."""
    typical = DEFAULT_ROAD_CLASSES[road_class].speed_kph
    limit = parse_maxspeed(maxspeed)
    return min(typical, limit) if limit is not None else typical


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
    road_class: str
    speed_kph: float
    name: str
    length_m: float | None = None  # None: measure the straight line after projection


@dataclass
class _Osm:
    """What the import needs from the file: node positions, road links and named places."""

    lonlat: dict[int, tuple[float, float]] = field(default_factory=dict)
    edges: list[_Edge] = field(default_factory=list)
    places: list[tuple[str, str | None, float, float]] = field(default_factory=list)
    """(kind, name or None, lon, lat) of hospitals and ambulance stations."""


def _place_kind(tags: dict[str, str]) -> str | None:
    if tags.get("emergency") == "ambulance_station":
        return "station"
    if tags.get("amenity") == "hospital" or tags.get("healthcare") == "hospital":
        return "hospital"
    return None


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
    speed = _edge_speed(road_class, tags.get("maxspeed"))
    name = tags.get("name") or tags.get("ref") or ""
    for a, b in zip(refs, refs[1:], strict=False):
        if a == b:
            continue
        if forward:
            yield _Edge(a, b, road_class, speed, name)
        if backward:
            yield _Edge(b, a, road_class, speed, name)


def _read_xml(path: Path, *, roads: bool = True) -> _Osm:
    """Stream the file once: nodes, then ways (OSM files list nodes first)."""
    osm = _Osm()
    pending_ways: list[tuple[list[int], dict[str, str]]] = []
    try:
        with _open_binary(path) as handle:
            for _, elem in ET.iterparse(handle, events=("end",)):
                tag = elem.tag
                if tag == "node":
                    node_id = int(elem.get("id", "0"))
                    lat, lon = float(elem.get("lat", "nan")), float(elem.get("lon", "nan"))
                    if math.isfinite(lat) and math.isfinite(lon):
                        osm.lonlat[node_id] = (lon, lat)
                        tags = _tags(elem)
                        kind = _place_kind(tags) if tags else None
                        if kind is not None:
                            osm.places.append((kind, tags.get("name"), lon, lat))
                    elem.clear()
                elif tag == "way":
                    refs = [int(nd.get("ref", "0")) for nd in elem.iter("nd")]
                    tags = _tags(elem)
                    if refs and (("highway" in tags and roads) or _place_kind(tags)):
                        pending_ways.append((refs, tags))
                    elem.clear()
                elif tag == "relation":
                    elem.clear()
    except ET.ParseError as exc:
        raise OsmImportError(f"{path}: not OSM XML: {exc}") from None
    except (OSError, EOFError, ValueError) as exc:
        raise OsmImportError(f"{path}: cannot read the file: {exc}") from None
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
        present = [r for r in refs if r in osm.lonlat]  # an extract cuts ways at its edge
        osm.edges.extend(_way_edges(present, tags))
    return osm


def _tags(elem: ET.Element) -> dict[str, str]:
    return {t.get("k", ""): t.get("v", "") for t in elem.iter("tag")}


def _read_osmnx(path: Path, osmnx: Any) -> _Osm:
    """Road links from osmnx's graph (junction-to-junction, true lengths); places built in."""
    try:
        graph = osmnx.graph_from_xml(path, simplify=True, retain_all=True, bidirectional=False)
    except Exception as exc:  # noqa: BLE001 - osmnx raises many kinds; say what failed
        raise OsmImportError(f"{path}: osmnx could not read the file: {exc}") from None
    osm = _Osm()
    for node, data in graph.nodes(data=True):
        osm.lonlat[int(node)] = (float(data["x"]), float(data["y"]))
    for u, v, data in graph.edges(data=True):
        road_class = _road_class(_first(data.get("highway")))
        if road_class is None or u == v:
            continue
        length = data.get("length")
        osm.edges.append(
            _Edge(
                int(u),
                int(v),
                road_class,
                _edge_speed(road_class, data.get("maxspeed")),
                _first(data.get("name")) or _first(data.get("ref")) or "",
                float(length) if length is not None else None,
            )
        )
    osm.places = _read_xml(path, roads=False).places
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


def _build(osm: _Osm, name: str, source: str) -> MapData:
    edges = [e for e in osm.edges if e.u in osm.lonlat and e.v in osm.lonlat]
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

    # equirectangular about the centre of the kept roads, shifted to start at (0, 0)
    lon0 = float((lon[keep].min() + lon[keep].max()) / 2)
    lat0 = float((lat[keep].min() + lat[keep].max()) / 2)
    scale_x = EARTH_RADIUS_M * math.cos(math.radians(lat0)) * math.pi / 180.0
    scale_y = EARTH_RADIUS_M * math.pi / 180.0
    x_all = (lon - lon0) * scale_x
    y_all = (lat - lat0) * scale_y
    x0, y0 = float(x_all[keep].min()), float(y_all[keep].min())
    x = x_all[keep] - x0
    y = y_all[keep] - y0

    eu = renumber[u[kept_edge]]
    ev = renumber[v[kept_edge]]
    chosen = [e for e, k in zip(edges, kept_edge.tolist(), strict=True) if k]
    straight = np.hypot(x[eu] - x[ev], y[eu] - y[ev])
    lengths = np.array(
        [e.length_m if e.length_m is not None else s for e, s in zip(chosen, straight, strict=True)]
    )

    hull = MultiPoint(np.column_stack([x, y])).convex_hull.buffer(HULL_MARGIN_M, join_style="mitre")
    outline = tuple((float(px), float(py)) for px, py in hull.exterior.coords[:-1])
    area = AreaSpec(name=name, kind="urban", demand_weight=1.0, polygon=outline)

    taken: set[str] = set()
    points: list[MapPoint] = []
    reach = hull.buffer(POINT_MARGIN_M)
    counters = {"hospital": 0, "station": 0}
    for kind, label, plon, plat in osm.places:
        px = (plon - lon0) * scale_x - x0
        py = (plat - lat0) * scale_y - y0
        if not reach.contains(Point(px, py)):
            continue
        counters[kind] += 1
        default = "Hospital" if kind == "hospital" else "Ambulance Station"
        title = label or f"{default} {counters[kind]}"
        points.append(MapPoint(kind=kind, name=_unique(title, taken), x=float(px), y=float(py)))

    data = MapData(
        name=name,
        road_classes=dict(DEFAULT_ROAD_CLASSES),
        node_x=x,
        node_y=y,
        edge_u=eu,
        edge_v=ev,
        edge_class=[e.road_class for e in chosen],
        edge_length_m=lengths,
        edge_speed_kph=np.array([e.speed_kph for e in chosen]),
        edge_name=[e.name for e in chosen],
        areas=[area],
        points=points,
    )
    data.validate(source)
    return data


# --------------------------------------------------------------------------- the entry points


def import_osm(
    osm_path: str | Path,
    out_path: str | Path,
    *,
    name: str | None = None,
    engine: Engine = "auto",
) -> Path:
    """Convert an OSM XML extract (``.osm``, ``.osm.bz2``, ``.osm.gz``) to an ambsim map file.

    ``name`` names the map and its one area (default: the file's stem). ``engine`` chooses
    the road-graph reader: ``auto`` (osmnx when installed), ``osmnx`` or ``builtin``. Returns
    the path written; raises :class:`OsmImportError` (a ``MapError``) with the reason.
    """
    source = Path(osm_path)
    if not source.is_file():
        raise OsmImportError(f"{source}: no such file")
    if source.suffix.lower() == ".pbf":
        raise OsmImportError(f"{source}: .pbf is not supported; export the area as .osm XML")
    stem = source.name.split(".")[0] or "map"
    title = name or stem
    osmnx = _osmnx_module(engine)
    osm = _read_osmnx(source, osmnx) if osmnx is not None else _read_xml(source)
    data = _build(osm, title, str(source))
    return save_map(data, out_path)


def _summary(path: Path) -> str:
    from ambsim_gui.geo.mapfile import load_map

    data = load_map(path)
    hospitals = sum(p.kind == "hospital" for p in data.points)
    stations = sum(p.kind == "station" for p in data.points)
    width = float(data.node_x.max() - data.node_x.min()) / 1000.0
    height = float(data.node_y.max() - data.node_y.min()) / 1000.0
    return (
        f"wrote {path}: {len(data.node_x)} nodes, {len(data.edge_u)} road links, "
        f"{width:.1f} x {height:.1f} km, {hospitals} hospital(s), {stations} ambulance station(s)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``import-osm AREA.osm [-o resources/maps/NAME.json] [--name NAME]``; 0 when written."""
    parser = argparse.ArgumentParser(
        prog="ambsim import-osm",
        description="Convert an OpenStreetMap extract (.osm XML) to an ambsim map file.",
    )
    parser.add_argument("osm", help="the OpenStreetMap extract: AREA.osm (.osm.bz2, .osm.gz)")
    parser.add_argument(
        "-o", "--output", help="map file to write (default: resources/maps/AREA.json)"
    )
    parser.add_argument("--name", help="name of the map and its area (default: AREA)")
    parser.add_argument(
        "--engine",
        choices=["auto", "osmnx", "builtin"],
        default="auto",
        help="road-graph reader: osmnx when installed (auto), or the built-in parser",
    )
    args = parser.parse_args(argv)
    source = Path(args.osm)
    out = Path(args.output) if args.output else paths.MAPS / f"{source.name.split('.')[0]}.json"
    try:
        written = import_osm(source, out, name=args.name, engine=args.engine)
    except MapError as exc:
        print(f"import-osm: {exc}", file=sys.stderr)
        return 1
    print(_summary(written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
