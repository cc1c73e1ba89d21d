"""OSM import: a small hand-written extract becomes a map that loads, routes and runs a shift."""

from __future__ import annotations

import math
import sys
import types
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from ambsim_gui.geo.mapfile import load_map
from ambsim_gui.geo.network import RoadNetwork
from ambsim_gui.geo.osm_import import OsmImportError, convert, import_osm, main, parse_maxspeed
from ambsim_gui.geo.routing import NoRoute, Router

# A village street grid near 50.71 N, 2.44 W (0.002 degrees of longitude is about 141 m there,
# 0.0015 of latitude about 167 m):
#
#   4 --Church Lane (one way, east)--> 5 ----> 6
#   |                                  :       |
#   Mill Lane (unclassified)     footpath      Bridport Road (A35, primary, 40 mph)
#   |                                  :       |
#   1 ------------ High Street (20 mph) ------ 2 ------ 3 --(one way)--> 9 (dead end)
#
#   7 -- 8: a lane that joins nothing (dropped with the dead end: not strongly connected)
OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <bounds minlat="50.7090" minlon="-2.4410" maxlat="50.7125" maxlon="-2.4340"/>
  <node id="1" lat="50.7100" lon="-2.4400"/>
  <node id="2" lat="50.7100" lon="-2.4380"/>
  <node id="3" lat="50.7100" lon="-2.4360"/>
  <node id="4" lat="50.7115" lon="-2.4400"/>
  <node id="5" lat="50.7115" lon="-2.4380"/>
  <node id="6" lat="50.7115" lon="-2.4360"/>
  <node id="7" lat="50.7120" lon="-2.4350"/>
  <node id="8" lat="50.7122" lon="-2.4345"/>
  <node id="9" lat="50.7095" lon="-2.4350"/>
  <node id="20" lat="50.7102" lon="-2.4362">
    <tag k="amenity" v="hospital"/>
    <tag k="name" v="Dorset County Hospital"/>
  </node>
  <node id="21" lat="50.7113" lon="-2.4398">
    <tag k="emergency" v="ambulance_station"/>
  </node>
  <node id="40" lat="50.7104" lon="-2.4392"/>
  <node id="41" lat="50.7104" lon="-2.4388"/>
  <node id="42" lat="50.7108" lon="-2.4388"/>
  <node id="43" lat="50.7108" lon="-2.4392"/>
  <way id="100">
    <nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="residential"/>
    <tag k="name" v="High Street"/>
    <tag k="maxspeed" v="20 mph"/>
  </way>
  <way id="101">
    <nd ref="4"/><nd ref="5"/><nd ref="6"/>
    <tag k="highway" v="residential"/>
    <tag k="name" v="Church Lane"/>
    <tag k="oneway" v="yes"/>
  </way>
  <way id="102">
    <nd ref="3"/><nd ref="6"/>
    <tag k="highway" v="primary"/>
    <tag k="ref" v="A35"/>
    <tag k="name" v="Bridport Road"/>
    <tag k="maxspeed" v="40 mph"/>
  </way>
  <way id="103">
    <nd ref="1"/><nd ref="4"/>
    <tag k="highway" v="unclassified"/>
    <tag k="name" v="Mill Lane"/>
  </way>
  <way id="104">
    <nd ref="2"/><nd ref="5"/>
    <tag k="highway" v="footway"/>
  </way>
  <way id="105">
    <nd ref="7"/><nd ref="8"/>
    <tag k="highway" v="residential"/>
  </way>
  <way id="106">
    <nd ref="3"/><nd ref="9"/>
    <tag k="highway" v="service"/>
    <tag k="oneway" v="yes"/>
  </way>
  <way id="107">
    <nd ref="40"/><nd ref="41"/><nd ref="42"/><nd ref="43"/><nd ref="40"/>
    <tag k="building" v="hospital"/>
    <tag k="amenity" v="hospital"/>
    <tag k="name" v="Minor Injuries Unit"/>
  </way>
</osm>
"""

# the map's origin: the centre of <bounds>, rounded to 1e-4 degrees
ORIGIN = (round((50.7090 + 50.7125) / 2, 4), round((-2.4410 - 2.4340) / 2, 4))
M_PER_DEG = 6_371_008.8 * math.pi / 180.0


@pytest.fixture
def osm_file(tmp_path: Path) -> Path:
    path = tmp_path / "Puddletown.osm"
    path.write_text(OSM, encoding="utf-8")
    return path


@pytest.fixture
def imported(osm_file: Path, tmp_path: Path) -> RoadNetwork:
    out = import_osm(osm_file, tmp_path / "maps" / "puddletown.json", engine="builtin")
    assert out == tmp_path / "maps" / "puddletown.json"
    return RoadNetwork.load(out)


def node_at(net: RoadNetwork, x: float, y: float) -> int:
    d = np.hypot(net.xy[:, 0] - x, net.xy[:, 1] - y)
    assert d.min() < 1.0
    return int(d.argmin())


def grid(net: RoadNetwork) -> dict[int, int]:
    """OSM node id -> map node, from the projection the importer documents."""
    lonlat = {
        1: (-2.4400, 50.7100),
        2: (-2.4380, 50.7100),
        3: (-2.4360, 50.7100),
        4: (-2.4400, 50.7115),
        5: (-2.4380, 50.7115),
        6: (-2.4360, 50.7115),
    }
    sx = M_PER_DEG * math.cos(math.radians(ORIGIN[0]))
    return {
        k: node_at(net, (lon - ORIGIN[1]) * sx, (lat - ORIGIN[0]) * M_PER_DEG)
        for k, (lon, lat) in lonlat.items()
    }


def edge(net: RoadNetwork, a: int, b: int) -> int | None:
    found = np.flatnonzero((net.edge_u == a) & (net.edge_v == b))
    return int(found[0]) if found.size else None


def test_roads_classes_oneway_and_speeds(imported: RoadNetwork) -> None:
    net = imported
    assert net.name == "Puddletown"
    assert net.n_nodes == 6  # the lone lane (7-8) and the one-way dead end (9) are gone
    g = grid(net)
    # projected to metres east and north of the origin (the centre of <bounds>, 50.7108 N
    # 2.4375 W): 0.002 deg of longitude ~ 141 m
    assert ORIGIN == (50.7108, -2.4375)
    assert net.xy[g[1]].tolist() == pytest.approx([-176.0, -89.0], abs=0.2)
    assert net.xy[g[2], 0] - net.xy[g[1], 0] == pytest.approx(141.0, abs=1.0)
    assert net.xy[g[4], 1] - net.xy[g[1], 1] == pytest.approx(166.8, abs=1.0)
    # one way: Church Lane runs east only; two-way streets appear in both directions
    assert edge(net, g[4], g[5]) is not None and edge(net, g[5], g[4]) is None
    assert edge(net, g[1], g[2]) is not None and edge(net, g[2], g[1]) is not None
    assert edge(net, g[2], g[5]) is None  # a footway is not a road
    classes = {
        name: net.class_names[net.edge_class[i]] for i, name in enumerate(net.edge_name.tolist())
    }
    assert classes == {
        "High Street": "street",
        "Church Lane": "street",
        "Bridport Road": "a_road",
        "Mill Lane": "lane",
    }
    high = edge(net, g[1], g[2])
    a35 = edge(net, g[3], g[6])
    lane = edge(net, g[1], g[4])
    church = edge(net, g[4], g[5])
    assert high is not None and a35 is not None and lane is not None and church is not None
    # six streets are no settlement (road_speeds: the "open" column): a posted limit caps the
    # typical speed (20 mph under a residential street's 35 km/h, 40 mph under a primary's
    # 75); untagged, the typical speed under GB's 60 mph (map files keep 0.1 km/h)
    assert net.edge_speed_kph[high] == pytest.approx(20 * 1.609344, abs=0.05)
    assert net.edge_speed_kph[a35] == pytest.approx(40 * 1.609344, abs=0.05)
    assert net.edge_speed_kph[lane] == pytest.approx(50.0)
    assert net.edge_speed_kph[church] == pytest.approx(35.0)
    assert net.edge_length_m[high] == pytest.approx(141.0, abs=1.0)


def test_area_and_points(imported: RoadNetwork) -> None:
    net = imported
    [area] = net.areas  # no town or village: one area, named after the file
    assert (area.name, area.kind) == ("Puddletown", "rural")  # six streets: not built up
    assert (net.area_of_node >= 0).all()  # every road node lies in the area
    points = {p.name: p.kind for p in net.points}
    assert points == {
        "Dorset County Hospital": "hospital",
        "Ambulance Station 1": "station",
        "Minor Injuries Unit": "hospital",  # a building: its centre
    }
    unit = net.point("Minor Injuries Unit")
    hospital = net.point("Dorset County Hospital")
    assert net.area_index_at(unit.x, unit.y) == 0
    assert hospital.x > unit.x  # east of the building, near the A35


def test_routes_respect_one_way_streets(imported: RoadNetwork) -> None:
    net = imported
    g = grid(net)
    router = Router(net, blue_light=False)
    east = router.route(g[4], g[6])
    west = router.route(g[6], g[4])
    assert east.nodes.tolist() == [g[4], g[5], g[6]]  # along Church Lane
    # back west the long way: down the A35, along High Street, up Mill Lane
    assert west.nodes.tolist() == [g[6], g[3], g[2], g[1], g[4]]
    assert west.duration_s > east.duration_s
    # every node reaches every other (the largest strongly connected part was kept)
    for a in range(net.n_nodes):
        assert np.isfinite(router.times_from(a)).all()
    # with Church Lane closed there is no way east along the top any more, only round
    church = [i for i, n in enumerate(net.edge_name.tolist()) if n == "Church Lane"]
    closed = router.with_closures(church)
    assert closed.route(g[4], g[6]).nodes.tolist() == [g[4], g[1], g[2], g[3], g[6]]
    with pytest.raises(NoRoute):
        closed.route(g[6], g[5])  # Church Lane was the only way into node 5


def test_the_imported_map_runs_a_shift(imported: RoadNetwork, tmp_path: Path) -> None:
    from ambsim_gui.headless import run_scenario
    from ambsim_gui.scenario.loader import validate_files

    scenario = tmp_path / "maps" / "village.yaml"
    scenario.write_text(
        "schema_version: 1\nname: Puddletown\nduration_h: 2\nmap: puddletown.json\n"
        "stations:\n  - name: Station\n    point: Ambulance Station 1\n"
        "    vehicles: [{type: DCA, count: 2}]\n"
        "hospitals:\n  - name: County\n    point: Dorset County Hospital\n"
        "demand:\n  incidents_per_hour: 1\n",
        encoding="utf-8",
    )
    assert validate_files([str(scenario)])[0] == 0
    result = run_scenario(scenario, policy="expert", seed=3)
    assert result.metrics.incidents >= 1
    assert result.engine.finished


def test_main_writes_and_reports(
    osm_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "village.json"
    assert (
        main([str(osm_file), "-o", str(out), "--name", "Puddletown village", "--engine", "builtin"])
        == 0
    )
    printed = capsys.readouterr().out
    assert f"wrote {out}: 6 nodes" in printed and "2 hospital(s), 1 ambulance station(s)" in printed
    assert load_map(out).name == "Puddletown village"
    # a file that is not OSM, and one with no roads: a message and exit 1, no traceback
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><node id='1'", encoding="utf-8")
    assert main([str(bad), "-o", str(tmp_path / "x.json"), "--engine", "builtin"]) == 1
    empty = tmp_path / "empty.osm"
    empty.write_text('<osm><node id="1" lat="50" lon="-2"/></osm>', encoding="utf-8")
    assert main([str(empty), "-o", str(tmp_path / "y.json"), "--engine", "builtin"]) == 1
    err = capsys.readouterr().err
    assert "not OSM XML" in err and "no drivable roads" in err
    assert main([str(tmp_path / "gone.osm"), "--engine", "builtin"]) == 1


def test_compressed_input(osm_file: Path, tmp_path: Path) -> None:
    import bz2

    packed = tmp_path / "Puddletown.osm.bz2"
    packed.write_bytes(bz2.compress(osm_file.read_bytes()))
    net = RoadNetwork.load(import_osm(packed, tmp_path / "p.json", engine="builtin"))
    assert net.n_nodes == 6 and net.areas[0].name == "Puddletown"


def test_parse_maxspeed() -> None:
    assert parse_maxspeed("50") == 50.0
    assert parse_maxspeed("30 mph") == pytest.approx(48.28, abs=0.01)
    assert parse_maxspeed("50 km/h") == 50.0
    assert parse_maxspeed("GB:nsl_single") == pytest.approx(96.56, abs=0.01)
    assert parse_maxspeed("30;40") == 30.0
    assert parse_maxspeed(["40 mph", "30 mph"]) == pytest.approx(48.28, abs=0.01)
    assert parse_maxspeed("signals") is None and parse_maxspeed(None) is None


def _fake_osmnx() -> types.ModuleType:
    """An osmnx stand-in (osmnx is optional) whose graph_from_xml builds the graph as osmnx 2
    does with ``all_oneway`` on: every way's links in its node order (reversed for ``oneway=-1``,
    ``reverse`` or ``T``), each with the way's tags among ``useful_tags_way``."""
    import xml.etree.ElementTree as ET

    fake = types.ModuleType("osmnx")
    settings = types.SimpleNamespace(all_oneway=False, useful_tags_way=["highway", "name"])

    def graph_from_xml(path: Path, **kwargs: object) -> nx.MultiDiGraph:
        assert kwargs["simplify"] is False and kwargs["retain_all"] is True
        assert settings.all_oneway is True
        g = nx.MultiDiGraph()
        root = ET.parse(path).getroot()
        for node in root.iter("node"):
            g.add_node(int(node.get("id", "0")), x=float(node.get("lon", "0")),
                       y=float(node.get("lat", "0")))
        for way in root.iter("way"):
            tags = {t.get("k", ""): t.get("v", "") for t in way.iter("tag")}
            refs = [int(nd.get("ref", "0")) for nd in way.iter("nd")]
            if tags.get("oneway") in ("-1", "reverse", "T"):
                refs.reverse()
            kept = {k: v for k, v in tags.items() if k in settings.useful_tags_way}
            for a, b in zip(refs, refs[1:], strict=False):
                g.add_edge(a, b, osmid=int(way.get("id", "0")), length=1.0, **kept)
        return g

    fake.settings = settings  # type: ignore[attr-defined]
    fake.graph_from_xml = graph_from_xml  # type: ignore[attr-defined]
    return fake


def test_osmnx_engine(osm_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With osmnx the road links come from its graph_from_xml, through the same rules: the
    file is the same, byte for byte, as the built-in parser's."""
    monkeypatch.setitem(sys.modules, "osmnx", None)  # not importable
    with pytest.raises(OsmImportError, match="osmnx is not installed"):
        import_osm(osm_file, tmp_path / "n.json", engine="osmnx")
    # auto falls back to the built-in parser
    assert RoadNetwork.load(import_osm(osm_file, tmp_path / "a.json")).n_nodes == 6

    fake = _fake_osmnx()
    monkeypatch.setitem(sys.modules, "osmnx", fake)
    builtin = import_osm(osm_file, tmp_path / "b.json", engine="builtin")
    by_osmnx = import_osm(osm_file, tmp_path / "o.json", engine="osmnx")
    assert by_osmnx.read_bytes() == builtin.read_bytes()
    assert fake.settings.all_oneway is False  # type: ignore[attr-defined]
    assert fake.settings.useful_tags_way == ["highway", "name"]  # type: ignore[attr-defined]
    # a one-way street drawn against its traffic (oneway=-1) is the same street to both
    backwards = tmp_path / "backwards" / "Puddletown.osm"  # the same name: the same map name
    backwards.parent.mkdir()
    church = '<nd ref="4"/><nd ref="5"/><nd ref="6"/>'
    church_end = '<tag k="oneway" v="yes"/>\n  </way>\n  <way id="102">'
    backwards.write_text(
        OSM.replace(church, '<nd ref="6"/><nd ref="5"/><nd ref="4"/>').replace(
            church_end, church_end.replace('"yes"', '"-1"'), 1),
        encoding="utf-8",
    )
    assert '<tag k="oneway" v="-1"/>' in backwards.read_text(encoding="utf-8")
    again = import_osm(backwards, tmp_path / "r.json", engine="osmnx")
    assert again.read_bytes() == builtin.read_bytes()
    assert import_osm(backwards, tmp_path / "rb.json", engine="builtin").read_bytes() == (
        builtin.read_bytes())


def test_import_osm_from_the_command_line(osm_file: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    out = tmp_path / "cli_town.json"
    result = subprocess.run(
        [sys.executable, str(root / "main.py"), "import-osm", str(osm_file), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert RoadNetwork.load(out).n_nodes > 0
    missing = subprocess.run(
        [sys.executable, str(root / "main.py"), "import-osm", str(tmp_path / "nope.osm")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert missing.returncode != 0 and "Traceback" not in missing.stderr


PLACES_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <bounds minlat="50.7090" minlon="-2.4410" maxlat="50.7125" maxlon="-2.4340"/>
  <node id="1" lat="50.7100" lon="-2.4400"/>
  <node id="2" lat="50.7100" lon="-2.4360"/>
  <node id="30" lat="50.7110" lon="-2.4390"><tag k="place" v="city"/>
    <tag k="name" v="Dorchester"/></node>
  <node id="31" lat="50.7105" lon="-2.4370"><tag k="place" v="village"/>
    <tag k="name" v="Puddletown"/></node>
  <node id="32" lat="50.7106" lon="-2.4371"><tag k="place" v="village"/>
    <tag k="name" v="Puddletown"/></node>
  <node id="33" lat="50.7107" lon="-2.4380"><tag k="place" v="village"/></node>
  <node id="34" lat="50.7101" lon="-2.4399"><tag k="place" v="hamlet"/>
    <tag k="name" v="Tincleton"/></node>
  <node id="35" lat="51.0000" lon="-2.4400"><tag k="place" v="town"/>
    <tag k="name" v="Far Away"/></node>
  <node id="36" lat="50.7102" lon="-2.4362"><tag k="amenity" v="fire_station"/></node>
  <node id="37" lat="50.7103" lon="-2.4363"><tag k="amenity" v="fire_station"/>
    <tag k="name" v="Dorchester Fire Station"/></node>
  <way id="100">
    <nd ref="1"/><nd ref="2"/>
    <tag k="highway" v="residential"/><tag k="name" v="High Street"/>
  </way>
</osm>
"""


def test_places_and_fire_stations_become_points(tmp_path: Path) -> None:
    source = tmp_path / "dorset.osm"
    source.write_text(PLACES_OSM, encoding="utf-8")
    done = convert(source, tmp_path / "dorset.json", engine="builtin")
    points = [(p.kind, p.name) for p in RoadNetwork.load(done.path).points]
    assert points == [
        ("station", "Fire Station 1"),
        ("station", "Dorchester Fire Station"),
        ("town", "Dorchester"),  # a city: map files have town points
        ("village", "Puddletown"),  # once: the second node of the same name is left out
    ]  # no nameless village, no hamlet, nothing 32 km from the roads
    assert done.found["fire_station"] == 2 and done.found["outside"] == 1
    text = "\n".join(done.summary())
    assert "points: 4: 0 hospital(s), 0 ambulance station(s), 2 fire station(s)" in text
    assert "1 town(s) (1 cities), 1 village(s)" in text
    assert "left out 1 place(s) more than 2 km from the roads" in text
    assert "warning: no ambulance station found" in text and "the 2 fire station(s)" in text
    assert "warning: no hospital found" in text
    assert "no named town" not in text
    assert "OpenStreetMap contributors, ODbL" in text
