"""The shipped maps: regenerating them gives the committed bytes, and they keep the promises
the simulator relies on (size, areas, connectivity, stations on the road)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ambsim_gui.geo import generate
from ambsim_gui.geo.mapfile import dumps_map
from ambsim_gui.geo.network import RoadNetwork
from ambsim_gui.paths import MAPS

COUNTY = MAPS / "county.json"
METRO = MAPS / "metropolitan.json"
_REGENERATE = "python -m ambsim_gui.geo.generate"


@pytest.fixture(scope="module")
def county() -> RoadNetwork:
    return RoadNetwork.load(COUNTY)


@pytest.fixture(scope="module")
def metro() -> RoadNetwork:
    return RoadNetwork.load(METRO)


def strongly_connected(net: RoadNetwork) -> bool:
    m = coo_matrix((np.ones(net.n_edges), (net.edge_u, net.edge_v)),
                   shape=(net.n_nodes, net.n_nodes))
    n_components, _ = connected_components(m, directed=True, connection="strong")
    return bool(n_components == 1)


# --------------------------------------------------------------------------------------------
# Determinism


def test_county_regenerates_byte_for_byte() -> None:
    fresh = dumps_map(generate.generate_county())
    assert fresh == dumps_map(generate.generate_county())
    assert fresh == COUNTY.read_text(encoding="utf-8"), f"run {_REGENERATE} and commit"


def test_metropolitan_regenerates_byte_for_byte() -> None:
    # Takes a few seconds, well under the 10 s that would earn it a "slow" mark.
    fresh = hashlib.sha256(dumps_map(generate.generate_metropolitan()).encode()).hexdigest()
    assert fresh == hashlib.sha256(METRO.read_bytes()).hexdigest(), f"run {_REGENERATE}"


def test_command_line_writes_the_same_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    assert generate.main(["--out", str(tmp_path), "--only", "county"]) == 0
    assert (tmp_path / "county.json").read_bytes() == COUNTY.read_bytes()
    assert not (tmp_path / "metropolitan.json").exists()
    assert "county.json" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# The county


def test_county_size_and_shape(county: RoadNetwork) -> None:
    assert 2000 <= county.n_nodes <= 4000
    minx, miny, maxx, maxy = county.bounds
    assert 50_000 <= maxx - minx <= 70_000 and 30_000 <= maxy - miny <= 45_000
    assert strongly_connected(county)


def test_county_has_towns_rural_districts_and_a_dual_carriageway(county: RoadNetwork) -> None:
    urban = [a for a in county.areas if a.kind == "urban"]
    rural = [a for a in county.areas if a.kind == "rural"]
    county_town = max(urban, key=lambda a: a.demand_weight)
    assert county_town.name == "Casterbridge"
    assert 4 <= len(urban) - 1 <= 6  # market towns
    assert 3 <= len(rural) <= 4
    assert (county.area_of_node >= 0).all()
    assert county_town.demand_weight == max(a.demand_weight for a in county.areas)
    counts = np.bincount(county.edge_class, minlength=len(county.class_names))
    used = {name for name, c in zip(county.class_names, counts, strict=True) if c}
    assert used == {"motorway", "a_road", "b_road", "street", "lane"}
    assert county.edges_named("Wessex Way").size > 0
    # Some one-way streets in the county town.
    pairs = set(zip(county.edge_u.tolist(), county.edge_v.tolist(), strict=True))
    assert any((v, u) not in pairs for u, v in pairs)


def test_county_services(county: RoadNetwork) -> None:
    kinds = [p.kind for p in county.points]
    assert 8 <= kinds.count("station") <= 10
    assert kinds.count("hospital") == 3
    assert 1 <= kinds.count("utc") <= 2
    assert kinds.count("village") >= 18
    stations_in_county_town = [
        p for p in county.points_of_kind("station")
        if county.areas[county.area_index_at(p.x, p.y)].name == "Casterbridge"
    ]
    assert len(stations_in_county_town) == 2


# --------------------------------------------------------------------------------------------
# The metropolitan area


def test_metropolitan_size_and_shape(metro: RoadNetwork) -> None:
    assert metro.n_nodes >= 20_000
    minx, miny, maxx, maxy = metro.bounds
    assert 25_000 <= maxx - minx <= 35_000 and 25_000 <= maxy - miny <= 35_000
    assert METRO.stat().st_size < 6_000_000
    assert strongly_connected(metro)


def test_metropolitan_areas_and_roads(metro: RoadNetwork) -> None:
    assert len(metro.areas) >= 10
    assert (metro.area_of_node >= 0).all()
    assert len({a.name for a in metro.areas}) == len(metro.areas)
    counts = dict(zip(metro.class_names, np.bincount(metro.edge_class,
                                                    minlength=len(metro.class_names)),
                      strict=True))
    assert counts["motorway"] > 0 and counts["a_road"] > 0 and counts["street"] > 0
    radials = {str(n) for n in metro.edge_name[metro.edge_class == metro.class_names.index(
        "a_road")]} - {"Inner Ring Road"}
    assert 8 <= len(radials) <= 12


def test_metropolitan_services(metro: RoadNetwork) -> None:
    kinds = [p.kind for p in metro.points]
    assert 60 <= kinds.count("station") <= 80
    assert kinds.count("hospital") >= 10
    assert 2 <= kinds.count("utc") <= 3
    # Stations follow demand: every borough has one, the busiest has the most.
    per_area = np.bincount([metro.area_index_at(p.x, p.y) for p in metro.points_of_kind("station")],
                           minlength=len(metro.areas))
    assert (per_area >= 1).all()
    busiest = int(np.argmax([a.demand_weight for a in metro.areas]))
    assert per_area[busiest] == per_area.max()


@pytest.mark.parametrize("which", ["county", "metro"])
def test_services_sit_on_the_road(which: str, county: RoadNetwork, metro: RoadNetwork) -> None:
    net = county if which == "county" else metro
    services = [p for p in net.points if p.kind in ("station", "hospital", "utc")]
    nodes = net.snap_many([p.x for p in services], [p.y for p in services])
    gaps = np.hypot(net.xy[nodes, 0] - [p.x for p in services],
                    net.xy[nodes, 1] - [p.y for p in services])
    assert gaps.max() <= 300
    assert len(set(nodes.tolist())) == len(services)  # no two share a node
