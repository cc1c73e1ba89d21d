"""Read and write ambsim map files (JSON, "ambsim-map", schema_version 2), checking every field.

A map file is columnar so that a 20,000-node city stays a few megabytes::

    {
     "format": "ambsim-map", "schema_version": 2,
     "name": "Wessex (fictional county)", "units": "m",
     "road_classes": {"motorway": {"speed_kph": 112, "blue_light_factor": 1.1}, ...},
     "nodes": {"x": [...], "y": [...]},
     "edges": {"u": [...], "v": [...], "class": [...], "length_m": [...],
               "speed_kph": [...], "name": [...]},
     "areas": [{"name": ..., "kind": "urban"|"rural", "demand_weight": 3.0,
                "polygon": [[x, y], ...]}],
     "points": [{"kind": "station"|"hospital"|"utc"|"town"|"village", "name": ...,
                 "x": ..., "y": ...}]
    }

Coordinates are metres on a flat plane (x east, y north); a node's id is its index. Edges are
directed: a two-way road appears twice. Areas are simple polygons (no holes); where two areas
overlap, the one listed first owns the overlap, so a county can list its towns before the rural
districts that surround them. Point names are unique, and so are area names.

A file is read through the one loading path of :mod:`ambsim_gui.datafile`, and every problem found
raises `MapFileError` (a `DataFileError` and a `MapError`) at its line and column, e.g.
``county.json:7:34772: edges.v.17: node 2301 does not exist (the map has 2300 nodes)``.
Format 1 kept its version under ``version``; it is read and migrated.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from ambsim_gui.datafile.jsonfile import json_position, parse_json, read_json_text
from ambsim_gui.datafile.problems import DataFileError, Problem, dotted
from ambsim_gui.datafile.versions import KEY as VERSION_KEY
from ambsim_gui.datafile.versions import SchemaVersions

FORMAT_TAG = "ambsim-map"


def _v1_to_v2(top: Any) -> None:
    """Format 1 kept its version under ``version``; format 2 under ``schema_version``."""
    top.pop("version", None)


MAP_VERSIONS = SchemaVersions("map", current=2, migrations={1: _v1_to_v2}, legacy_key="version")
FORMAT_VERSION = MAP_VERSIONS.current
AREA_KINDS = ("urban", "rural")
POINT_KINDS = ("station", "hospital", "utc", "town", "village")

#: Decimal places kept on writing: 0.1 m is far finer than anything the simulation resolves and
#: keeps files small and byte-stable.
COORD_DECIMALS = 1


class MapError(ValueError):
    """A map, or a name or place asked of one, is unusable; the message says where."""


class MapFileError(DataFileError, MapError):
    """A map file (or map data built in code) is missing, unreadable or inconsistent."""


@dataclass(frozen=True)
class RoadClass:
    """Default speed of a class of road and how much faster it is driven under blue lights."""

    speed_kph: float
    blue_light_factor: float


#: Sensible defaults for English roads. Speeds are typical achieved speeds, not limits: a street
#: at 40 km/h is a 30 mph road with junctions and parked cars. Blue-light factors are
#: *(unverified)* teaching defaults: little gain where traffic already flows (motorway, narrow
#: lanes), most where other traffic can pull aside (urban streets).
DEFAULT_ROAD_CLASSES: dict[str, RoadClass] = {
    "motorway": RoadClass(speed_kph=112.0, blue_light_factor=1.1),
    "a_road": RoadClass(speed_kph=80.0, blue_light_factor=1.2),
    "b_road": RoadClass(speed_kph=65.0, blue_light_factor=1.25),
    "street": RoadClass(speed_kph=40.0, blue_light_factor=1.35),
    "lane": RoadClass(speed_kph=50.0, blue_light_factor=1.1),
}


@dataclass(frozen=True)
class AreaSpec:
    """A named area as stored in the file: an outline (exterior ring, no holes) and its demand."""

    name: str
    kind: str
    demand_weight: float
    polygon: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class MapPoint:
    """A named place on the map: an ambulance station, a hospital with an ED, an urgent
    treatment centre, or a town or village label."""

    kind: str
    name: str
    x: float
    y: float


@dataclass
class MapData:
    """The validated content of a map file, as plain arrays (see `RoadNetwork` for queries)."""

    name: str
    road_classes: dict[str, RoadClass]
    node_x: np.ndarray
    node_y: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_class: list[str]
    edge_length_m: np.ndarray
    edge_speed_kph: np.ndarray
    edge_name: list[str]
    areas: list[AreaSpec] = field(default_factory=list)
    points: list[MapPoint] = field(default_factory=list)
    source: dict[str, Any] | None = None
    """Where an imported map came from (the OSM file, its origin, projection and attribution),
    written back as it was read; None for a generated map."""

    @property
    def origin(self) -> tuple[float, float] | None:
        """The (lat, lon) of the map's point (0, 0) when its source note gives one."""
        note = self.source.get("origin") if isinstance(self.source, dict) else None
        if not isinstance(note, dict):
            return None
        lat, lon = note.get("lat"), note.get("lon")
        if not (isinstance(lat, (int, float)) and isinstance(lon, (int, float))
                and _is_number(lat) and _is_number(lon)):
            return None
        lat_f, lon_f = float(lat), float(lon)
        if not (-85 <= lat_f <= 85 and -180 <= lon_f <= 180):
            return None
        return lat_f, lon_f

    def validate(self, source: str = "<map data>") -> None:
        """Check the cross-field rules (edge ends exist, classes known, names unique ...) and
        normalise array dtypes; raise `MapError` prefixed with `source`.

        The parser calls this, and so do `dumps_map` and `RoadNetwork.from_mapdata`, so a
        generator or importer that builds MapData in code gets the same clear errors as someone
        editing a file by hand.
        """
        _check_mapdata(self, source)


# --------------------------------------------------------------------------------------------
# Reading


def load_map(path: str | Path) -> MapData:
    """Read and validate a map file; raise `MapFileError` at the problem's line and column."""
    try:
        text = read_json_text(path, "map")
    except DataFileError as exc:
        raise MapFileError(exc.problems) from None
    return loads_map(text, source=str(path))


def loads_map(text: str, source: str = "<string>") -> MapData:
    """Parse and validate map JSON text; `source` names it in error messages."""
    try:
        obj = parse_json(text, source)
    except DataFileError as exc:
        raise MapFileError(exc.problems) from None
    return parse_map(obj, source=source, text=text)


def parse_map(obj: Any, source: str = "<map>", text: str | None = None) -> MapData:
    """Validate an already-decoded JSON object and build `MapData` from it; ``text``, the JSON
    it was decoded from, places each problem at its line and column (else at 1:1). An older
    format is migrated, in place."""
    where = _Where(source, text)
    top = where.mapping(obj, "")
    fmt = top.get("format")
    if fmt != FORMAT_TAG:
        raise where.error("format", f'expected "{FORMAT_TAG}", found {_show(fmt)}')
    if not isinstance(top, dict):
        top = dict(top)
    try:
        MAP_VERSIONS.upgrade(top, source, where.locate)
    except DataFileError as exc:
        raise MapFileError(exc.problems) from None
    units = top.get("units", "m")
    if units != "m":
        raise where.error("units", f'only metres ("m") are supported, found {_show(units)}')
    name = where.string(where.require(top, "name", ""), "name")

    classes_obj = where.mapping(where.require(top, "road_classes", ""), "road_classes")
    if not classes_obj:
        raise where.error("road_classes", "no road classes defined")
    road_classes: dict[str, RoadClass] = {}
    for cname, spec in classes_obj.items():
        key = f"road_classes.{cname}"
        spec_map = where.mapping(spec, key)
        speed = where.positive(where.require(spec_map, "speed_kph", key), f"{key}.speed_kph")
        factor = where.positive(
            where.require(spec_map, "blue_light_factor", key), f"{key}.blue_light_factor"
        )
        road_classes[cname] = RoadClass(speed_kph=speed, blue_light_factor=factor)

    nodes = where.mapping(where.require(top, "nodes", ""), "nodes")
    node_x = where.float_array(where.require(nodes, "x", "nodes"), "nodes.x")
    node_y = where.float_array(where.require(nodes, "y", "nodes"), "nodes.y")

    edges = where.mapping(where.require(top, "edges", ""), "edges")
    edge_u = where.int_array(where.require(edges, "u", "edges"), "edges.u")
    edge_v = where.int_array(where.require(edges, "v", "edges"), "edges.v")
    edge_class = where.string_list(where.require(edges, "class", "edges"), "edges.class")
    edge_length = where.float_array(where.require(edges, "length_m", "edges"), "edges.length_m")
    edge_speed = where.float_array(where.require(edges, "speed_kph", "edges"), "edges.speed_kph")
    edge_name = where.string_list(where.require(edges, "name", "edges"), "edges.name")

    areas_obj = where.sequence(top.get("areas", []), "areas")
    areas: list[AreaSpec] = []
    for i, item in enumerate(areas_obj):
        key = f"areas[{i}]"
        a = where.mapping(item, key)
        areas.append(
            AreaSpec(
                name=where.string(where.require(a, "name", key), f"{key}.name"),
                kind=where.string(where.require(a, "kind", key), f"{key}.kind"),
                demand_weight=where.number(
                    where.require(a, "demand_weight", key), f"{key}.demand_weight"
                ),
                polygon=where.polygon(where.require(a, "polygon", key), f"{key}.polygon"),
            )
        )

    points_obj = where.sequence(top.get("points", []), "points")
    points: list[MapPoint] = []
    for i, item in enumerate(points_obj):
        key = f"points[{i}]"
        pt = where.mapping(item, key)
        points.append(
            MapPoint(
                kind=where.string(where.require(pt, "kind", key), f"{key}.kind"),
                name=where.string(where.require(pt, "name", key), f"{key}.name"),
                x=where.number(where.require(pt, "x", key), f"{key}.x"),
                y=where.number(where.require(pt, "y", key), f"{key}.y"),
            )
        )

    data = MapData(
        name=name,
        road_classes=road_classes,
        node_x=node_x,
        node_y=node_y,
        edge_u=edge_u,
        edge_v=edge_v,
        edge_class=edge_class,
        edge_length_m=edge_length,
        edge_speed_kph=edge_speed,
        edge_name=edge_name,
        areas=areas,
        points=points,
        source=dict(top["source"]) if isinstance(top.get("source"), Mapping) else None,
    )
    _check_mapdata(data, source, text)
    return data


def _check_mapdata(d: MapData, source: str, text: str | None = None) -> None:
    """Cross-field checks shared by the parser and `MapData` built in code."""
    where = _Where(source, text)
    try:
        d.node_x = np.ascontiguousarray(d.node_x, dtype=np.float64)
        d.node_y = np.ascontiguousarray(d.node_y, dtype=np.float64)
        d.edge_length_m = np.ascontiguousarray(d.edge_length_m, dtype=np.float64)
        d.edge_speed_kph = np.ascontiguousarray(d.edge_speed_kph, dtype=np.float64)
    except (TypeError, ValueError):
        raise where.error(
            "nodes/edges", "coordinates, lengths and speeds must be numbers"
        ) from None
    for key in ("edge_u", "edge_v"):
        ids = np.asarray(getattr(d, key))
        if ids.size and ids.dtype.kind not in "iu":
            raise where.error(f"edges.{key[-1]}", "node ids must be whole numbers")
        setattr(d, key, np.ascontiguousarray(ids, dtype=np.int64))
    d.edge_class = list(d.edge_class)
    d.edge_name = list(d.edge_name)

    if not d.road_classes:
        raise where.error("road_classes", "no road classes defined")
    for arr, key in ((d.node_x, "nodes.x"), (d.node_y, "nodes.y")):
        if arr.ndim != 1:
            raise where.error(key, "must be a flat list of numbers")
        _check_finite(where, arr, key)
    n = len(d.node_x)
    if len(d.node_y) != n:
        raise where.error("nodes", f"x has {n} values but y has {len(d.node_y)}")
    if n == 0:
        raise where.error("nodes", "the map has no nodes")

    m = len(d.edge_u)
    columns: list[tuple[str, int]] = [
        ("v", len(d.edge_v)),
        ("class", len(d.edge_class)),
        ("length_m", len(d.edge_length_m)),
        ("speed_kph", len(d.edge_speed_kph)),
        ("name", len(d.edge_name)),
    ]
    for key, length in columns:
        if length != m:
            raise where.error("edges", f"u has {m} values but {key} has {length}")
    for arr, key in ((d.edge_u, "edges.u"), (d.edge_v, "edges.v")):
        bad = np.flatnonzero((arr < 0) | (arr >= n))
        if bad.size:
            i = int(bad[0])
            raise where.error(
                f"{key}[{i}]", f"node {int(arr[i])} does not exist (the map has {n} nodes)"
            )
    loops = np.flatnonzero(d.edge_u == d.edge_v)
    if loops.size:
        i = int(loops[0])
        raise where.error(f"edges[{i}]", f"edge leads from node {int(d.edge_u[i])} to itself")
    _check_finite(where, d.edge_length_m, "edges.length_m")
    bad = np.flatnonzero(d.edge_length_m < 0)
    if bad.size:
        i = int(bad[0])
        raise where.error(f"edges.length_m[{i}]", f"negative length {d.edge_length_m[i]}")
    _check_finite(where, d.edge_speed_kph, "edges.speed_kph")
    bad = np.flatnonzero(d.edge_speed_kph <= 0)
    if bad.size:
        i = int(bad[0])
        raise where.error(
            f"edges.speed_kph[{i}]", f"speed must be > 0, found {d.edge_speed_kph[i]}"
        )
    for i, nm in enumerate(d.edge_name):
        if not isinstance(nm, str):
            raise where.error(f"edges.name[{i}]", f"expected a string, found {_kind(nm)}")
    for i, cname in enumerate(d.edge_class):
        if not isinstance(cname, str) or cname not in d.road_classes:
            raise where.error(
                f"edges.class[{i}]",
                f"unknown road class {_show(cname)} (known: {', '.join(d.road_classes)})",
            )

    seen: set[str] = set()
    for i, area in enumerate(d.areas):
        key = f"areas[{i}]"
        if area.kind not in AREA_KINDS:
            raise where.error(
                f"{key}.kind", f"{_show(area.kind)} is not one of {', '.join(AREA_KINDS)}"
            )
        if area.name in seen:
            raise where.error(f"{key}.name", f"duplicate area name {_show(area.name)}")
        seen.add(area.name)
        if not math.isfinite(area.demand_weight) or area.demand_weight < 0:
            raise where.error(f"{key}.demand_weight", "must be a finite number >= 0")
        where.polygon([list(p) for p in area.polygon], f"{key}.polygon")

    seen = set()
    for i, point in enumerate(d.points):
        key = f"points[{i}]"
        if point.kind not in POINT_KINDS:
            raise where.error(
                f"{key}.kind", f"{_show(point.kind)} is not one of {', '.join(POINT_KINDS)}"
            )
        if point.name in seen:
            raise where.error(f"{key}.name", f"duplicate point name {_show(point.name)}")
        seen.add(point.name)
        if not (math.isfinite(point.x) and math.isfinite(point.y)):
            raise where.error(key, "coordinates must be finite numbers")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_finite(where: _Where, arr: np.ndarray, key: str) -> None:
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        raise where.error(f"{key}[{i}]", f"not a finite number ({arr[i]})")


def _show(value: Any) -> str:
    """A short printable form of a bad value for an error message."""
    text = json.dumps(value) if _jsonable(value) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


_STEP = re.compile(r"\[(\d+)\]")


def _path(key: str) -> tuple[str | int, ...]:
    """``edges.v[17]`` -> ("edges", "v", 17): a field as the checks name it, as a JSON path."""
    steps: list[str | int] = []
    for piece in key.split(".") if key else []:
        name, _, rest = piece.partition("[")
        if name:
            steps.append(name)
        steps += [int(n) for n in _STEP.findall("[" + rest)] if rest else []
    return tuple(steps)


class _Where:
    """Type checks that turn a wrong shape into a `MapFileError` at the field's line and column."""

    def __init__(self, source: str, text: str | None = None) -> None:
        self.source = source
        self.text = text

    def locate(self, path: Sequence[str | int]) -> tuple[int, int]:
        """0-based position of a field in the file's text; the start when there is no text."""
        return json_position(self.text, path) if self.text is not None else (0, 0)

    def error(self, key: str, problem: str) -> MapFileError:
        path = _path(key)
        line0, col0 = self.locate(path)
        where = dotted(path)
        return MapFileError(Problem(self.source, line0 + 1, col0 + 1, where, problem))

    def require(self, obj: Mapping[str, Any], key: str, parent: str) -> Any:
        if key not in obj:
            full_key = f"{parent}.{key}" if parent else key
            raise self.error(full_key, f"missing (required in {parent or 'the top level'})")
        return obj[key]

    def mapping(self, value: Any, key: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(key, f"expected a JSON object, found {_kind(value)}")
        return value

    def sequence(self, value: Any, key: str) -> Sequence[Any]:
        if not isinstance(value, list):
            raise self.error(key, f"expected a JSON list, found {_kind(value)}")
        return value

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str):
            raise self.error(key, f"expected a string, found {_kind(value)}")
        return value

    def number(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"expected a number, found {_kind(value)}")
        try:
            result = float(value)
        except OverflowError:
            raise self.error(key, "number too large") from None
        if not math.isfinite(result):
            raise self.error(key, f"not a finite number ({value})")
        return result

    def positive(self, value: Any, key: str) -> float:
        result = self.number(value, key)
        if result <= 0:
            raise self.error(key, f"must be > 0, found {value}")
        return result

    def string_list(self, value: Any, key: str) -> list[str]:
        items = self.sequence(value, key)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise self.error(f"{key}[{i}]", f"expected a string, found {_kind(item)}")
        return list(items)

    def float_array(self, value: Any, key: str) -> np.ndarray:
        return self._number_array(value, key, allow_float=True).astype(np.float64)

    def int_array(self, value: Any, key: str) -> np.ndarray:
        return self._number_array(value, key, allow_float=False).astype(np.int64)

    def _number_array(self, value: Any, key: str, *, allow_float: bool) -> np.ndarray:
        items = self.sequence(value, key)
        if not items:
            return np.zeros(0, dtype=np.int64)
        # One pass over the item types (fast even for 100k edges) catches what numpy would
        # silently accept: true/false become 1/0 and "1.5" stays a string.
        allowed = {int, float} if allow_float else {int}
        if not set(map(type, items)) <= allowed:
            self._first_non_number(items, key, allow_float=allow_float)
        try:
            arr = np.asarray(items)
        except OverflowError:
            arr = np.asarray([None], dtype=object)
        if arr.dtype.kind not in ("iuf" if allow_float else "iu"):
            self._first_non_number(items, key, allow_float=allow_float)
        return arr

    def _first_non_number(self, items: Sequence[Any], key: str, *, allow_float: bool) -> None:
        wanted = "a number" if allow_float else "a whole number (node id)"
        for i, item in enumerate(items):
            ok = type(item) is int or (allow_float and type(item) is float)
            if not ok:
                raise self.error(f"{key}[{i}]", f"expected {wanted}, found {_kind(item)}")
            if isinstance(item, int) and abs(item) > 2**53:
                raise self.error(f"{key}[{i}]", "number too large")
        raise self.error(key, f"expected a flat list, each item {wanted}")

    def polygon(self, value: Any, key: str) -> tuple[tuple[float, float], ...]:
        items = self.sequence(value, key)
        coords: list[tuple[float, float]] = []
        for i, item in enumerate(items):
            if not (isinstance(item, (list, tuple)) and len(item) == 2):
                raise self.error(f"{key}[{i}]", f"expected [x, y], found {_show(item)}")
            coords.append(
                (self.number(item[0], f"{key}[{i}][0]"), self.number(item[1], f"{key}[{i}][1]"))
            )
        if len(coords) > 1 and coords[0] == coords[-1]:
            coords.pop()
        if len(set(coords)) < 3:
            raise self.error(key, "a polygon needs at least 3 distinct corners")
        poly = shapely.Polygon(coords)
        if not poly.is_valid or poly.area <= 0:
            reason = shapely.is_valid_reason(poly)
            raise self.error(key, f"not a valid simple polygon ({reason})")
        return tuple(coords)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {_show(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


# --------------------------------------------------------------------------------------------
# Writing


def dumps_map(data: MapData) -> str:
    """The file text for `data`: compact, one line per section, rounded, byte-stable.

    Coordinates, lengths and speeds are rounded to 0.1 and whole numbers are written without a
    decimal point, so regenerating a map gives byte-identical output.
    """
    data.validate()

    def compact(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=True)

    classes = {
        name: {
            "speed_kph": _num(rc.speed_kph, 3),
            "blue_light_factor": _num(rc.blue_light_factor, 3),
        }
        for name, rc in data.road_classes.items()
    }
    nodes = {"x": _num_list(data.node_x), "y": _num_list(data.node_y)}
    edges = {
        "u": [int(i) for i in data.edge_u.tolist()],
        "v": [int(i) for i in data.edge_v.tolist()],
        "class": data.edge_class,
        "length_m": _num_list(data.edge_length_m),
        "speed_kph": _num_list(data.edge_speed_kph),
        "name": data.edge_name,
    }
    lines = [
        "{",
        f'"format":{compact(FORMAT_TAG)},',
        f'"{VERSION_KEY}":{MAP_VERSIONS.current},',
        f'"name":{compact(data.name)},',
        '"units":"m",',
        *([f'"source":{compact(data.source)},'] if data.source is not None else []),
        f'"road_classes":{compact(classes)},',
        f'"nodes":{compact(nodes)},',
        f'"edges":{compact(edges)},',
    ]
    area_lines = [
        compact(
            {
                "name": a.name,
                "kind": a.kind,
                "demand_weight": _num(a.demand_weight, 3),
                "polygon": [[_num(x), _num(y)] for x, y in a.polygon],
            }
        )
        for a in data.areas
    ]
    point_lines = [
        compact({"kind": p.kind, "name": p.name, "x": _num(p.x), "y": _num(p.y)})
        for p in data.points
    ]
    lines.append('"areas":[' + _block(area_lines) + "],")
    lines.append('"points":[' + _block(point_lines) + "]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def save_map(data: MapData, path: str | Path) -> Path:
    """Write `data` to `path` (see `dumps_map`); return the path."""
    p = Path(path)
    text = dumps_map(data)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        # newline="\n" so the bytes are the same on Windows, where the maps are also built.
        with p.open("w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except OSError as exc:
        raise MapFileError(
            Problem(str(p), 1, 1, "(file)", f"cannot write map file ({exc.strerror or exc})")
        ) from None
    return p


def _block(items: list[str]) -> str:
    """List items one per line, so a diff of two map files shows which area or point moved."""
    return "\n" + ",\n".join(items) + "\n" if items else ""


def _num(value: float, decimals: int = COORD_DECIMALS) -> int | float:
    r = round(float(value), decimals)
    return int(r) if r.is_integer() else r


def _num_list(arr: np.ndarray, decimals: int = COORD_DECIMALS) -> list[int | float]:
    rounded = np.round(np.asarray(arr, dtype=np.float64), decimals)
    # "+ 0.0" turns -0.0 into 0.0 so a coordinate that rounds to zero is always written "0".
    return [int(v) if v.is_integer() else v for v in (rounded + 0.0).tolist()]
