"""``new-scenario``: a runnable starting scenario for a map, with its stations, hospitals, a fleet
sized to the demand and the demand spread by the areas' weights (scenario/new_scenario.py)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from ambsim_gui import cli
from ambsim_gui.geo.network import RoadNetwork
from ambsim_gui.headless import run_scenario
from ambsim_gui.paths import MAPS
from ambsim_gui.scenario.loader import load_scenario, validate_files
from ambsim_gui.scenario.new_scenario import INCIDENTS_PER_PERSON_HOUR, starter_text

LIECHTENSTEIN = MAPS / "liechtenstein.json"
COUNTY = MAPS / "county.json"


def _new(tmp_path: Path, map_path: Path, *options: str, name: str = "new.yaml") -> Path:
    out = tmp_path / name
    assert cli.main(["new-scenario", "--map", str(map_path), "-o", str(out), *options]) == 0
    return out


def test_england_rate_per_head() -> None:
    # docs/domain.md: 24,600 incidents a day (AmbSYS 2024/25) for 57.69 million people
    assert INCIDENTS_PER_PERSON_HOUR * 24 * 1000 == pytest.approx(0.4264, abs=0.0005)


def test_liechtenstein_starter_runs_with_its_stations_and_hospital(tmp_path: Path) -> None:
    out = _new(tmp_path, LIECHTENSTEIN, "--population", "39000")
    scenario = load_scenario(out).scenario
    # 39,000 people x 0.4264 incidents a day per 1,000: 16.6 a day, 0.69 an hour
    assert scenario.demand.incidents_per_hour == pytest.approx(39_000 * INCIDENTS_PER_PERSON_HOUR,
                                                               abs=0.005)
    # 0.69 an hour x 1.3 h a job x 80% needing a vehicle keeps 0.72 ambulances busy: two at
    # half their time (and never fewer than two)
    vehicles = [g for s in scenario.stations for g in s.vehicles]
    assert sum(g.count for g in vehicles) == 2 and {g.type for g in vehicles} == {"DCA"}
    net = RoadNetwork.load(LIECHTENSTEIN)
    stations = {p.name for p in net.points if p.kind == "station"}
    assert {s.point for s in scenario.stations} <= stations
    # spread out: the two are at least 5 km apart (the country is 22 km long)
    a, b = (net.point(s.point or "") for s in scenario.stations)
    assert math.hypot(a.x - b.x, a.y - b.y) > 5000
    assert [h.point for h in scenario.hospitals] == ["Liechtensteinisches Landesspital"]
    # every area of the map, with the map's own weight
    weights = scenario.demand.area_weights or {}
    assert weights == {area.name: pytest.approx(area.demand_weight) for area in net.areas}
    text = out.read_text(encoding="utf-8")
    assert text.count("ADJUST") >= 4 and "39,000 people at England's rate" in text
    assert "other station points on the map:" in text
    # it runs: the whole shift with the expert, about 8 incidents in 12 hours (0.69 an hour
    # over the day's busier half); every one of them answered and closed by the run-out's end
    metrics = run_scenario(out).metrics
    assert 2 <= metrics.incidents <= 20
    assert metrics.calls_answered == metrics.calls and metrics.still_waiting == 0


def test_without_population_the_fleet_is_a_vehicle_a_station(tmp_path: Path) -> None:
    out = _new(tmp_path, COUNTY)
    scenario = load_scenario(out).scenario
    net = RoadNetwork.load(COUNTY)
    stations = [p for p in net.points if p.kind == "station"]
    assert len(scenario.stations) == len(stations)
    assert all(sum(g.count for g in s.vehicles) == 1 for s in scenario.stations)
    # the rate keeps half of them busy: rate x 1.3 h x 80% = 0.5 x vehicles
    rate = scenario.demand.incidents_per_hour
    assert rate * 1.3 * 0.8 == pytest.approx(0.5 * len(stations), abs=0.01)
    hospitals = {p.name: p.kind for p in net.points if p.kind in ("hospital", "utc")}
    assert {h.point: h.kind for h in scenario.hospitals} == {
        name: "ed" if kind == "hospital" else "utc" for name, kind in hospitals.items()}
    assert "ADJUST: no --population was given" in out.read_text(encoding="utf-8")
    assert validate_files([str(out)])[0] == 0


def test_a_map_with_no_station_or_hospital_gets_stand_ins(tmp_path: Path) -> None:
    from ambsim_gui.geo.osm_import import convert
    from tests.test_osm_areas_speeds import _two_villages  # two villages, nothing else

    source = tmp_path / "villages.osm"
    source.write_text(_two_villages(admin=False), encoding="utf-8")
    maps = tmp_path / "maps"
    done = convert(source, maps / "villages.json", engine="builtin")
    out = _new(tmp_path, done.path, "--population", "2000", "--hours", "8", "--start", "22:00")
    text = out.read_text(encoding="utf-8")
    assert "the map has no station point" in text and "the map has no hospital point" in text
    scenario = load_scenario(out).scenario
    assert scenario.map == "maps/villages.json"  # beside the scenario: relative to it
    assert (scenario.start, scenario.duration_h) == ("22:00", 8.0)
    [station] = scenario.stations
    assert station.xy is not None and sum(g.count for g in station.vehicles) == 2
    assert scenario.hospitals[0].xy is not None
    run_scenario(out, hours=1.0)


def test_the_same_map_gives_the_same_text(tmp_path: Path) -> None:
    one = starter_text(LIECHTENSTEIN, tmp_path / "a.yaml", population=39000)
    assert one == starter_text(LIECHTENSTEIN, tmp_path / "a.yaml", population=39000)
    YAML(typ="safe").load(one)


def test_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _new(tmp_path, LIECHTENSTEIN)
    before = out.read_bytes()
    again = ["new-scenario", "--map", str(LIECHTENSTEIN), "-o", str(out)]
    assert cli.main(again) == 1
    assert "exists; give --force" in capsys.readouterr().err and out.read_bytes() == before
    assert cli.main([*again, "--force", "--population", "39000"]) == 0
    assert out.read_bytes() != before
    assert cli.main([*again, "--force", "--population", "0"]) == 2
    missing = ["new-scenario", "--map", str(tmp_path / "none.json"), "-o", str(tmp_path / "x")]
    assert cli.main(missing) == 1
    err = capsys.readouterr().err
    assert "none.json" in err and "Traceback" not in err
