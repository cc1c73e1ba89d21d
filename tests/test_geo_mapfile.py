"""Map files and RoadNetwork: round trips, byte-stable writing, clear errors for bad files, and
the spatial look-ups (snap, areas, sampling, segments, closures by polygon or name)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ambsim_gui.datafile import DataFileError
from ambsim_gui.geo.mapfile import (
    DEFAULT_ROAD_CLASSES,
    AreaSpec,
    MapData,
    MapError,
    MapFileError,
    MapPoint,
    dumps_map,
    load_map,
    loads_map,
    parse_map,
    save_map,
)
from ambsim_gui.geo.network import RoadNetwork
from ambsim_gui.paths import MAPS

COUNTY = MAPS / "county.json"


def tiny_map() -> MapData:
    """A 200 m square of four nodes: a two-way street round three sides, a one-way lane on
    the fourth, and an a-road parallel to one street; two areas that overlap."""
    return MapData(
        name="Tiny",
        road_classes=dict(DEFAULT_ROAD_CLASSES),
        node_x=np.array([0.0, 200.0, 200.0, 0.0]),
        node_y=np.array([0.0, 0.0, 200.0, 200.0]),
        edge_u=np.array([0, 1, 1, 2, 2, 3, 3, 0]),
        edge_v=np.array([1, 0, 2, 1, 3, 2, 0, 1]),
        edge_class=["street", "street", "street", "street", "street", "street", "lane", "a_road"],
        edge_length_m=np.array([200.0] * 8),
        edge_speed_kph=np.array([40.0] * 6 + [50.0, 80.0]),
        edge_name=[
            "South St",
            "South St",
            "East St",
            "East St",
            "North St",
            "North St",
            "West Lane",
            "Bypass",
        ],
        areas=[
            AreaSpec(
                "West",
                "urban",
                2.0,
                ((-10.0, -10.0), (100.0, -10.0), (100.0, 210.0), (-10.0, 210.0)),
            ),
            AreaSpec(
                "All",
                "rural",
                1.0,
                ((-10.0, -10.0), (210.0, -10.0), (210.0, 210.0), (-10.0, 210.0)),
            ),
        ],
        points=[
            MapPoint("station", "Corner Station", 0.0, 0.0),
            MapPoint("hospital", "Far Hospital", 200.0, 200.0),
        ],
    )


def tiny_obj() -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(dumps_map(tiny_map()))
    return obj


@pytest.fixture(scope="module")
def county() -> RoadNetwork:
    return RoadNetwork.load(COUNTY)


# --------------------------------------------------------------------------------------------
# Writing and reading


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    original = tiny_map()
    path = save_map(original, tmp_path / "tiny.json")
    loaded = load_map(path)
    assert loaded.name == "Tiny"
    np.testing.assert_array_equal(loaded.node_x, original.node_x)
    np.testing.assert_array_equal(loaded.edge_v, original.edge_v)
    assert loaded.edge_class == original.edge_class
    assert loaded.edge_name == original.edge_name
    assert loaded.areas == original.areas
    assert loaded.points == original.points
    assert loaded.road_classes == DEFAULT_ROAD_CLASSES
    assert dumps_map(loaded) == path.read_text(encoding="utf-8")


def test_writing_rounds_to_a_decimetre_and_is_compact() -> None:
    data = tiny_map()
    data.node_x = np.array([0.04, 200.0, 199.96, -0.04])
    text = dumps_map(data)
    obj = json.loads(text)
    assert obj["nodes"]["x"] == [0, 200, 200, 0]
    assert '"x":[0,200,200,0]' in text  # whole numbers without ".0", no "-0"
    assert " " not in text.split('"edges":')[1].split('"name"')[0]  # no padding in arrays
    assert obj["road_classes"]["street"] == {"speed_kph": 40, "blue_light_factor": 1.35}
    assert dumps_map(data) == text


def test_network_round_trips_the_shipped_county_byte_for_byte(county: RoadNetwork) -> None:
    assert dumps_map(county.to_mapdata()) == COUNTY.read_text(encoding="utf-8")


def test_missing_file_is_a_clear_map_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    with pytest.raises(MapError, match=r"nowhere\.json:1:1: \(file\): map file not found"):
        load_map(missing)
    with pytest.raises(MapError, match="not found"):
        RoadNetwork.load(missing)


def test_bad_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n"format": "ambsim-map",\n"version": 1,,\n}', encoding="utf-8")
    with pytest.raises(MapError, match=r"broken\.json:3:14: \(file\): not valid JSON"):
        load_map(path)


def test_map_error_is_a_value_error() -> None:
    assert issubclass(MapError, ValueError)
    assert issubclass(MapFileError, MapError) and issubclass(MapFileError, DataFileError)


def test_a_problem_is_placed_at_its_value_in_the_file() -> None:
    obj = tiny_obj()
    obj["edges"]["v"][5] = 99
    text = json.dumps(obj, indent=1)
    with pytest.raises(MapFileError) as info:
        loads_map(text, source="my.json")
    (found,) = info.value.problems
    assert found.where == "edges.v.5"
    line = text.split("\n")[found.line - 1]
    assert line[found.col - 1 :].startswith("99"), (found, line)


def test_a_format_1_map_is_migrated(tmp_path: Path) -> None:
    text = dumps_map(tiny_map())
    old = text.replace('"schema_version":2,', '"version":1,', 1)
    assert old != text
    assert dumps_map(loads_map(old, source="old.json")) == text


def _set(obj: dict[str, Any], path: str, value: Any) -> None:
    keys = [int(k) if k.isdigit() else k for k in path.split("/")]
    target: Any = obj
    for k in keys[:-1]:
        target = target[k]
    target[keys[-1]] = value


def _delete(obj: dict[str, Any], path: str) -> None:
    keys = [int(k) if k.isdigit() else k for k in path.split("/")]
    target: Any = obj
    for k in keys[:-1]:
        target = target[k]
    del target[keys[-1]]


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("format", "geojson", r"format: expected \"ambsim-map\", found \"geojson\""),
        ("schema_version", 3, r"schema_version: map format 3 is newer than this ambsim"),
        ("schema_version", "2", r"schema_version: must be a whole number"),
        ("schema_version", _DELETE, r"schema_version: missing"),
        ("units", "ft", r"units: only metres"),
        ("edges", _DELETE, r"edges: missing"),
        ("edges/v", _DELETE, r"edges\.v: missing"),
        ("edges/v/1", 99, r"edges\.v\.1: node 99 does not exist \(the map has 4 nodes\)"),
        ("edges/u/0", -1, r"edges\.u\.0: node -1 does not exist"),
        ("edges/u/2", 1.5, r"edges\.u\.2: expected a whole number \(node id\), found number"),
        ("edges/u/0", True, r"edges\.u\.0: expected a whole number .* boolean true"),
        ("edges/v/0", 0, r"edges\.0: edge leads from node 0 to itself"),
        ("edges/class/3", "autobahn", r"edges\.class\.3: unknown road class \"autobahn\""),
        ("edges/length_m/4", -5, r"edges\.length_m\.4: negative length"),
        ("edges/speed_kph/5", 0, r"edges\.speed_kph\.5: speed must be > 0"),
        ("edges/name", ["a"] * 7, r"edges: u has 8 values but name has 7"),
        ("edges/name/2", None, r"edges\.name\.2: expected a string, found null"),
        ("edges/u", "0,1,2", r"edges\.u: expected a JSON list, found string"),
        ("nodes/x/2", "200", r"nodes\.x\.2: expected a number, found string \"200\""),
        ("nodes/x/1", [1, 2], r"nodes\.x\.1: expected a number, found a list"),
        ("nodes/y", [0, 0, 200], r"nodes: x has 4 values but y has 3"),
        ("nodes/x", [], r"nodes: x has 0 values but y has 4"),
        ("road_classes", {}, r"road_classes: no road classes defined"),
        ("road_classes/lane/speed_kph", -1, r"road_classes\.lane\.speed_kph: must be > 0"),
        (
            "road_classes/lane/blue_light_factor",
            _DELETE,
            r"road_classes\.lane\.blue_light_factor: missing",
        ),
        ("areas/0/kind", "suburban", r"areas\.0\.kind: \"suburban\" is not one of urban, rural"),
        ("areas/0/polygon", [[0, 0], [1, 1]], r"areas\.0\.polygon: .* at least 3 distinct"),
        (
            "areas/0/polygon",
            [[0, 0], [10, 10], [10, 0], [0, 10]],
            r"areas\.0\.polygon: not a valid simple polygon \(Self-intersection",
        ),
        ("areas/0/polygon/1", [5], r"areas\.0\.polygon\.1: expected \[x, y\]"),
        ("areas/1/name", "West", r"areas\.1\.name: duplicate area name \"West\""),
        ("areas/0/demand_weight", -1, r"areas\.0\.demand_weight: must be a finite number >= 0"),
        ("points/1/kind", "pub", r"points\.1\.kind: \"pub\" is not one of station"),
        ("points/1/name", "Corner Station", r"points\.1\.name: duplicate point name"),
        ("points/0/x", _DELETE, r"points\.0\.x: missing"),
        ("points", {}, r"points: expected a JSON list, found an object"),
    ],
)
def test_bad_content_is_a_clear_map_error(path: str, value: Any, message: str) -> None:
    obj = tiny_obj()
    if value is _DELETE:
        _delete(obj, path)
    else:
        _set(obj, path, value)
    with pytest.raises(MapError, match=r"^my\.json:\d+:\d+: " + message):
        loads_map(json.dumps(obj), source="my.json")


def test_top_level_must_be_an_object() -> None:
    with pytest.raises(
        MapError, match=r"^x\.json:1:1: \(root\): expected a JSON object, found a list"
    ):
        loads_map("[1, 2]", source="x.json")


def test_non_finite_numbers_are_rejected() -> None:
    text = dumps_map(tiny_map()).replace('"x":[0,', '"x":[NaN,', 1)
    with pytest.raises(MapError, match=r"nodes\.x\.0: not a finite number"):
        loads_map(text)


def test_mapdata_built_in_code_is_checked_too() -> None:
    data = tiny_map()
    data.edge_v = np.array([1, 0, 2, 1, 3, 2, 0, 7])
    with pytest.raises(MapError, match=r"edges\.v\.7: node 7 does not exist"):
        RoadNetwork.from_mapdata(data, source="importer")
    with pytest.raises(MapError, match=r"^<map data>:1:1: edges\.v\.7"):
        dumps_map(data)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=8,
)
_paths = [
    "format",
    "version",
    "name",
    "units",
    "road_classes",
    "road_classes/street",
    "road_classes/street/speed_kph",
    "nodes",
    "nodes/x",
    "nodes/x/0",
    "nodes/y",
    "edges",
    "edges/u",
    "edges/u/3",
    "edges/v",
    "edges/v/0",
    "edges/class",
    "edges/class/1",
    "edges/length_m",
    "edges/length_m/2",
    "edges/speed_kph",
    "edges/name",
    "edges/name/0",
    "areas",
    "areas/0",
    "areas/0/polygon",
    "areas/0/polygon/0",
    "areas/0/polygon/0/1",
    "areas/1/demand_weight",
    "points",
    "points/0",
    "points/0/kind",
    "points/1/y",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(_paths), st.one_of(st.just(_DELETE), _json_values)),
        min_size=1,
        max_size=3,
    ),
)
def test_any_damage_gives_a_map_error_never_a_traceback(edits: list[tuple[str, Any]]) -> None:
    obj = tiny_obj()
    for path, value in edits:
        try:
            if value is _DELETE:
                _delete(obj, path)
            else:
                _set(obj, path, copy.deepcopy(value))
        except (KeyError, IndexError, TypeError):
            pass  # an earlier edit removed the parent; the damage is already done
    try:
        parse_map(obj, source="fuzz.json")
    except MapError as exc:
        # file:line:col: where: what (a key with a space in it is quoted: road_classes.' ')
        assert re.match(r"fuzz\.json:\d+:\d+: (\S+|.*'[^']*'.*): ", str(exc)), str(exc)


# --------------------------------------------------------------------------------------------
# RoadNetwork


def test_network_attributes_and_class_codes() -> None:
    net = RoadNetwork.from_mapdata(tiny_map())
    assert (net.n_nodes, net.n_edges) == (4, 8)
    assert net.xy.shape == (4, 2) and net.xy.dtype == np.float64
    assert [net.class_names[c] for c in net.edge_class] == tiny_map().edge_class
    assert net.edge_name[6] == "West Lane"
    with pytest.raises(ValueError):
        net.xy[0, 0] = 5.0  # shared by every router: read-only


def test_overlapping_areas_first_listed_wins() -> None:
    net = RoadNetwork.from_mapdata(tiny_map())
    assert net.area_of_node.tolist() == [0, 1, 1, 0]
    assert net.area_index_at(50, 50) == 0
    assert net.area_index_at(150, 50) == 1
    assert net.area_index_at(100, 50) == 0  # on West's boundary: boundaries count
    assert net.area_index_at(500, 500) == -1


def test_point_lookup_names_the_known_points() -> None:
    net = RoadNetwork.from_mapdata(tiny_map())
    assert net.point("Far Hospital") == MapPoint("hospital", "Far Hospital", 200.0, 200.0)
    with pytest.raises(
        MapError,
        match=r"no point named 'Near Hospital' \(known: Corner Station, "
        r"Far Hospital\)",
    ):
        net.point("Near Hospital")
    assert [p.name for p in net.points_of_kind("station")] == ["Corner Station"]
    assert net.area_named("All").index == 1
    with pytest.raises(MapError, match="no area named 'None'"):
        net.area_named("None")


def test_snap_is_the_nearest_node(county: RoadNetwork) -> None:
    rng = np.random.default_rng(3)
    minx, miny, maxx, maxy = county.bounds
    xs = rng.uniform(minx - 2000, maxx + 2000, 300)
    ys = rng.uniform(miny - 2000, maxy + 2000, 300)
    many = county.snap_many(xs, ys)
    for x, y, node in zip(xs, ys, many, strict=True):
        d = np.hypot(county.xy[:, 0] - x, county.xy[:, 1] - y)
        assert county.snap(x, y) == node
        assert d[node] == pytest.approx(d.min(), abs=1e-9)


def test_snap_ties_go_to_the_lowest_node_id() -> None:
    net = RoadNetwork.from_mapdata(tiny_map())
    assert net.snap(100, 100) == 0  # all four corners are equally near
    assert net.snap_many([100, 190], [100, 5]).tolist() == [0, 1]


def test_every_county_node_lies_in_an_area_and_towns_own_theirs(county: RoadNetwork) -> None:
    assert (county.area_of_node >= 0).all()
    rng = np.random.default_rng(5)
    for node in rng.choice(county.n_nodes, 200, replace=False).tolist():
        x, y = county.xy[node]
        assert county.area_index_at(x, y) == county.area_of_node[node]
    town = county.point("Casterbridge")
    assert county.areas[county.area_index_at(town.x, town.y)].name == "Casterbridge"


def test_random_places_in_areas_are_deterministic_and_inside(county: RoadNetwork) -> None:
    for area in county.areas:
        a = county.random_point_in_area(area.index, np.random.default_rng(11))
        b = county.random_point_in_area(area.index, np.random.default_rng(11))
        assert a == b
        assert county.area_index_at(*a) == area.index
        rng = np.random.default_rng(12)
        for _ in range(20):
            node = county.random_node_in_area(area.index, rng)
            assert county.area_of_node[node] == area.index
    with pytest.raises(MapError, match="no area with index 99"):
        county.random_point_in_area(99, np.random.default_rng(0))


def test_segments_by_class_draw_each_road_once() -> None:
    net = RoadNetwork.from_mapdata(tiny_map())
    segs = net.segments_by_class()
    assert set(segs) == set(DEFAULT_ROAD_CLASSES)
    assert segs["street"].shape == (3, 4)  # three two-way streets, drawn once each
    assert segs["lane"].tolist() == [[0.0, 0.0, 0.0, 200.0]]  # one-way 3 -> 0
    assert segs["a_road"].tolist() == [[0.0, 0.0, 200.0, 0.0]]
    assert segs["motorway"].shape == (0, 4)


def test_edges_within_a_polygon_and_by_name() -> None:
    net = RoadNetwork.from_mapdata(tiny_map())
    closure = shapely.box(90, -5, 110, 5)  # across the south side
    assert net.edges_within(closure).tolist() == [0, 1, 7]
    assert net.edges_named("North St").tolist() == [4, 5]
    assert net.edges_named("Nowhere").tolist() == []
    assert net.edges_named("Bypass", within=closure).tolist() == [7]
    assert net.edges_named("North St", within=closure).tolist() == []


def test_graph_mirrors_the_arrays(county: RoadNetwork) -> None:
    g = county.graph
    assert g.number_of_nodes() == county.n_nodes
    assert g.number_of_edges() == county.n_edges
    e = 10
    u, v = int(county.edge_u[e]), int(county.edge_v[e])
    attrs = g.edges[u, v, e]
    assert attrs["length_m"] == county.edge_length_m[e]
    assert attrs["road_class"] == county.class_names[county.edge_class[e]]
    assert attrs["blue_light_time_s"] < attrs["time_s"]
    assert g.nodes[u]["x"] == county.xy[u, 0]


def test_graph_keeps_parallel_edges() -> None:
    g = RoadNetwork.from_mapdata(tiny_map()).graph
    assert g.number_of_edges(0, 1) == 2
