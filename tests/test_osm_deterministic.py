"""Importing a real OpenStreetMap extract gives the same map file, byte for byte, every time.

The extracts in ``tests/data/osm/`` (ODbL, see its README) are imported in fresh interpreters
with different ``PYTHONHASHSEED``s, so nothing may depend on the order of a set or a dict; the
origin is the centre of the file's bounds, whatever roads the import keeps; and every option of
``import-osm`` shows in its ``--help``. With osmnx installed, its engine must write the very
same bytes as the built-in one.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ambsim_gui.geo import osm_import
from ambsim_gui.geo.mapfile import load_map
from ambsim_gui.geo.osm_import import ATTRIBUTION, import_osm, origin_of, project

ROOT = Path(__file__).resolve().parent.parent
OSM = ROOT / "tests" / "data" / "osm"
LIECHTENSTEIN = OSM / "liechtenstein-2013-08-03.osm.bz2"
OAKLAND = OSM / "west-oakland.osm.bz2"


def _import(source: Path, out: Path, seed: int, *options: str) -> tuple[str, float]:
    """Run ``main.py import-osm`` in a fresh interpreter; (what it printed, seconds taken)."""
    env = {**os.environ, "PYTHONHASHSEED": str(seed), "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "import-osm", str(source), "-o", str(out),
         *options],
        capture_output=True, text=True, timeout=600, env=env, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, time.perf_counter() - started


def _source(path: Path) -> dict[str, object]:
    note: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))["source"]
    return note


def test_liechtenstein_imports_to_the_same_bytes_whatever_the_hash_seed(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "li.json", tmp_path / "b" / "li.json"
    printed, seconds = _import(LIECHTENSTEIN, first, 1, "--engine", "builtin")
    _import(LIECHTENSTEIN, second, 2024, "--engine", "builtin")
    assert first.read_bytes() == second.read_bytes()
    assert seconds < 60, f"the import took {seconds:.0f} s"
    data = load_map(first)
    assert f"{len(data.node_x)} nodes" in printed
    assert len(data.node_x) == 11_200 and len(data.edge_u) == 22_942
    note = _source(first)
    # the centre of <bounds minlat="47.04774" minlon="9.471078" maxlat="47.27128"
    # maxlon="9.636217">, rounded to 1e-4 degrees
    assert note["origin"] == {"lat": 47.1595, "lon": 9.5536}
    assert note["osm_file"] == LIECHTENSTEIN.name and note["attribution"] == ATTRIBUTION
    # Vaduz's town hall (47.1410 N, 9.5215 E) lies about 2.4 km west and 2.1 km south of it
    x, y = project(np.array([47.1410]), np.array([9.5215]), (47.1595, 9.5536))
    assert x[0] == pytest.approx(-2430, abs=10) and y[0] == pytest.approx(-2057, abs=10)
    assert data.node_x.min() < x[0] < data.node_x.max()
    assert data.node_y.min() < y[0] < data.node_y.max()
    # its places, hospital and fire stations are points; the summary says what is missing
    assert "29 area(s)" in printed and "origin (0, 0) at 47.1595 N, 9.5536 E" in printed
    assert ("points: 21: 1 hospital(s), 0 ambulance station(s), 6 fire station(s) (station "
            "points), 1 town(s), 13 village(s)") in printed
    assert "warning: no ambulance station found" in printed
    points = {p.name: p for p in data.points}
    assert points["Liechtensteinisches Landesspital"].kind == "hospital"
    vaduz = points["Vaduz"]
    assert vaduz.kind == "town" and math.hypot(vaduz.x - x[0], vaduz.y - y[0]) < 500
    assert sum(p.kind == "station" for p in data.points) == 6
    assert {"Schaan", "Balzers", "Triesenberg", "Eschen"} <= {
        p.name for p in data.points if p.kind == "village"}


def test_the_origin_is_the_bounds_centre_or_as_given(tmp_path: Path) -> None:
    default = import_osm(OAKLAND, tmp_path / "wo.json", engine="builtin")
    # <bounds minlon="-122.30258" minlat="37.80615" maxlon="-122.29825" maxlat="37.80914">
    assert _source(default)["origin"] == {"lat": 37.8076, "lon": -122.3004}
    moved = import_osm(OAKLAND, tmp_path / "wo2.json", engine="builtin", origin=(37.8, -122.3))
    assert _source(moved)["origin"] == {"lat": 37.8, "lon": -122.3}
    a, b = load_map(default), load_map(moved)
    assert len(a.node_x) == len(b.node_x)
    # the same roads, shifted by the origins' difference (scaled at each origin's latitude)
    dx = (a.node_x / math.cos(math.radians(37.8076)) - b.node_x / math.cos(math.radians(37.8)))
    dy = a.node_y - b.node_y
    m_per_deg = osm_import.EARTH_RADIUS_M * math.pi / 180
    assert np.allclose(dx, (-122.3 + 122.3004) * m_per_deg, atol=0.2)
    assert np.allclose(dy, (37.8 - 37.8076) * m_per_deg, atol=0.2)


def test_origin_without_bounds_is_the_centre_of_all_nodes() -> None:
    assert origin_of(None, (47.0, 9.0, 47.0002, 9.0004)) == (47.0001, 9.0002)
    assert origin_of((1.0, 2.0, 3.0, 4.0), (0.0, 0.0, 10.0, 10.0)) == (2.0, 3.0)


def test_every_option_shows_in_help_and_may_come_first(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "import-osm", "--help"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    options = [o for a in osm_import._parser()._actions for o in a.option_strings]
    assert {"-o", "--output", "--name", "--engine", "--origin", "--country"} <= set(options)
    for option in options:
        assert option in done.stdout
    assert "ODbL" in done.stdout and "bounds" in done.stdout
    out = tmp_path / "first.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "import-osm", "--engine", "builtin",
         "--origin", "37.8,-122.3", "--country", "us", str(OAKLAND), "-o", str(out)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert _source(out)["origin"] == {"lat": 37.8, "lon": -122.3}
    assert "US limits 40/89/105 km/h" in done.stdout  # 25, 55 and 65 mph
    bad = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "import-osm", str(OAKLAND), "--origin", "north"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert bad.returncode == 2 and "LAT,LON" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize("extract", [OAKLAND, LIECHTENSTEIN], ids=["oakland", "liechtenstein"])
def test_osmnx_writes_the_same_bytes_as_the_built_in_engine(tmp_path: Path, extract: Path
                                                            ) -> None:
    pytest.importorskip("osmnx")
    builtin = import_osm(extract, tmp_path / "builtin.json", engine="builtin")
    osmnx = import_osm(extract, tmp_path / "osmnx.json", engine="osmnx")
    assert hashlib.sha256(osmnx.read_bytes()).hexdigest() == hashlib.sha256(
        builtin.read_bytes()).hexdigest()
