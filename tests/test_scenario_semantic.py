"""Semantic checks: each mistake the schema cannot see is reported at the line:col to fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ambsim_gui.scenario.errors import Problem, ScenarioError
from ambsim_gui.scenario.loader import load_scenario, validate_files
from ambsim_gui.scenario.semantic import check_semantics

BASE = """\
schema_version: 1
name: Semantic
start: "22:00"
duration_h: 4
map: county
stations:
  - name: North
    point: Casterbridge North Ambulance Station
    vehicles:
      - {type: DCA, count: 3, callsign_prefix: N-A}
      - {type: RRV, count: 1}
  - name: Coast
    xy: [21811, 5782]
    vehicles:
      - type: DCA
        count: 2
        shift: {start: "20:00", end: "08:00"}
hospitals:
  - name: County
    point: Casterbridge County Hospital
  - name: Coast General
    point: Budmouth Regis General Hospital
demand:
  incidents_per_hour: 2
  cards: {fall: 2, chest_pain: 1}
  area_weights: {Casterbridge: 5, Froom Valley: 1}
scripted_calls:
  - {at: "23:30", card: fall, variant: long_lie, area: Casterbridge}
  - at_min: 30
    card: stroke
    point: Stickleford
injects:
  - {type: hospital_diversion, at: "23:00", hospital: County, duration_min: 60}
  - {type: vehicle_breakdown, at_min: 60, vehicle: N-A02}
  - {type: crews, at: "01:00", station: Coast, count: 1}
  - {type: surge, at_min: 90, factor: 2, duration_min: 30, area: Egdon Heath}
  - {type: call_burst, at: "00:30", card: rtc, callers: 3, xy: [26668, 23782]}
  - {type: road_closure, at: "01:30", roads: [High Street], duration_min: 30}
"""
# Line numbers of BASE, for reading the expectations below:
#  5 map            13 xy            24 incidents_per_hour   28 - {at: "23:30" ...
#  6 stations       18 hospitals     25 cards                29 - at_min: 30
#  8 point (North)  20 point         26 area_weights         31 point: Stickleford
#  10 N-A vehicles  23 demand        27 scripted_calls       32 injects (33 to 38)


def edited(*pairs: tuple[str, str]) -> str:
    text = BASE
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def write(folder: Path, text: str, name: str = "s.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def checked(folder: Path, text: str) -> tuple[list[str], list[str]]:
    """(errors, warnings) as ``file:line:col: where: message`` lines, file name shortened."""
    path = write(folder, text)
    loaded = load_scenario(path, semantic=False)
    errors, warnings = check_semantics(loaded)

    def short(p: Problem) -> str:
        return str(p).replace(str(path.resolve()), "s.yaml")

    return [short(p) for p in errors], [short(p) for p in warnings]


def only_error(folder: Path, text: str) -> str:
    errors, _ = checked(folder, text)
    assert len(errors) == 1, errors
    return errors[0]


# --------------------------------------------------------------------------- a good file


def test_base_is_clean(tmp_path: Path) -> None:
    assert checked(tmp_path, BASE) == ([], [])
    loaded = load_scenario(write(tmp_path, BASE))
    assert loaded.warnings == ()


# --------------------------------------------------------------------------- the map


def test_unknown_point_suggests_the_nearest_name(tmp_path: Path) -> None:
    text = edited(("Casterbridge North Ambulance Station", "Casterbridge Nrth Ambulance Station"))
    assert only_error(tmp_path, text) == (
        "s.yaml:8:12: stations.0.point: no point 'Casterbridge Nrth Ambulance Station' on the "
        "map 'Wessex (fictional county)' (did you mean 'Casterbridge North Ambulance Station'?)"
    )


def test_hospital_point_and_scripted_point(tmp_path: Path) -> None:
    text = edited(("point: Casterbridge County Hospital", "point: Nowhere Infirmary"))
    text = text.replace("point: Stickleford", "point: Stickelford")
    errors, _ = checked(tmp_path, text)
    assert [e.split(": ", 2)[:2] for e in errors] == [
        ["s.yaml:20:12", "hospitals.0.point"],
        ["s.yaml:31:12", "scripted_calls.1.point"],
    ]
    assert "did you mean 'Stickleford'?" in errors[1]


def test_xy_off_the_map(tmp_path: Path) -> None:
    text = edited(("xy: [21811, 5782]", "xy: [21811, -5782]"))
    assert only_error(tmp_path, text) == (
        "s.yaml:13:9: stations.1.xy: [21811, -5782] is off the map 'Wessex (fictional county)', "
        "whose roads lie within x 0..60000, y 3168.7..37056.3 (metres)"
    )
    burst = edited(("xy: [26668, 23782]", "xy: [96668, 23782]"))
    assert only_error(tmp_path, burst).startswith("s.yaml:37:64: injects.4.xy: [96668, 23782]")


def test_areas(tmp_path: Path) -> None:
    text = edited(
        ("area: Casterbridge}", "area: Casterbrige}"),
        ("Froom Valley: 1}", "Frome Valley: 1}"),
        ("area: Egdon Heath}", "area: Egdon}"),
    )
    errors, _ = checked(tmp_path, text)
    assert [e.split(": ", 2)[:2] for e in errors] == [
        ["s.yaml:26:35", "demand.area_weights.Frome Valley"],  # at the key
        ["s.yaml:28:56", "scripted_calls.0.area"],
        ["s.yaml:36:66", "injects.3.area"],
    ]
    assert "(did you mean 'Froom Valley'?)" in errors[0]
    assert "(did you mean 'Casterbridge'?)" in errors[1]
    assert "(did you mean 'Egdon Heath'?)" in errors[2]


def test_every_area_weight_zero(tmp_path: Path) -> None:
    names = [
        "Casterbridge",
        "Sherton Abbas",
        "Shaston",
        "Anglebury",
        "Budmouth Regis",
        "Ivell",
        "Blackmoor Vale",
        "Hintock Woodlands",
        "Froom Valley",
        "Egdon Heath",
    ]
    zero = ", ".join(f"{n}: 0" for n in names)
    text = edited(("{Casterbridge: 5, Froom Valley: 1}", "{" + zero + "}"))
    assert only_error(tmp_path, text) == (
        "s.yaml:26:17: demand.area_weights: every area has zero demand weight: "
        "no call could be placed"
    )


def test_unreadable_map_is_an_error_at_the_map_key(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{}", encoding="utf-8")
    text = edited(("map: county", "map: broken.json"))
    error = only_error(tmp_path, text)
    assert error.startswith("s.yaml:5:6: map: the map cannot be used: ")
    assert 'format: expected "ambsim-map"' in error


def test_road_closures(tmp_path: Path) -> None:
    text = edited(("roads: [High Street]", "roads: [High Street, Wessex Wy]"))
    errors, warnings = checked(tmp_path, text)
    assert errors == [
        "s.yaml:38:60: injects.5.roads.1: no road called 'Wessex Wy' on the map "
        "'Wessex (fictional county)' (did you mean 'Wessex Way'?)"
    ]
    assert warnings == []
    # the whole dual carriageway: crews at a scene on it could not drive away (engine: NoRoute)
    text = edited(("roads: [High Street]", "roads: [Wessex Way]"))
    errors, warnings = checked(tmp_path, text)
    assert errors == []
    [warning] = warnings
    assert warning.startswith("s.yaml:38:46: injects.5.roads: this closure cuts 89 road node(s)")
    empty = edited(("roads: [High Street]", "polygon: [[1, 1], [2, 1], [2, 2]]"))
    assert only_error(tmp_path, empty) == (
        "s.yaml:38:48: injects.5.polygon: no road lies inside the closure polygon"
    )


# --------------------------------------------------------------------------- time


def test_scripted_call_after_the_shift(tmp_path: Path) -> None:
    # the shift runs 22:00 to 02:00; 03:00 is five hours in
    text = edited(('{at: "23:30", card: fall', '{at: "03:00", card: fall'))
    assert only_error(tmp_path, text) == (
        "s.yaml:28:10: scripted_calls.0.at: this call at 03:00 comes 5:00 after the start "
        "(22:00), after the shift ends (02:00, 4 h): it would never happen"
    )
    text = edited(("  - at_min: 30\n", "  - at_min: 240\n"))
    assert only_error(tmp_path, text) == (
        "s.yaml:29:13: scripted_calls.1.at_min: this call at minute 240 is after the shift "
        "ends (minute 240, 02:00): it would never happen"
    )


def test_inject_after_the_shift(tmp_path: Path) -> None:
    # 21:59 is the minute before the start: the next 21:59 is almost a day away
    text = edited(('type: crews, at: "01:00"', 'type: crews, at: "21:59"'))
    assert only_error(tmp_path, text).startswith(
        "s.yaml:35:23: injects.2.at: this crews inject at 21:59 comes 23:59 after the start"
    )


# --------------------------------------------------------------------------- names


def test_cards_and_variants(tmp_path: Path) -> None:
    text = edited(
        ("cards: {fall: 2, chest_pain: 1}", "cards: {fall: 2, chestpain: 1}"),
        ("variant: long_lie", "variant: long_lay"),
        ("card: rtc", "card: road_crash"),
    )
    errors, _ = checked(tmp_path, text)
    assert errors == [
        "s.yaml:25:20: demand.cards.chestpain: no call card 'chestpain' "
        "(did you mean 'chest_pain'?)",
        "s.yaml:28:40: scripted_calls.0.variant: call card 'fall' has no variant 'long_lay' "
        "(did you mean 'long_lie'?)",
        "s.yaml:37:43: injects.4.card: no call card 'road_crash' (cards: 'abdominal_pain', "
        "'allergic_reaction', 'anaphylaxis', 'assault', 'asthma', 'back_pain', "
        "'breathing_problems', 'burns' ... (46 in all))",
    ]
    text = edited(("card: stroke", "card: strok"))
    assert only_error(tmp_path, text).startswith("s.yaml:30:11: scripted_calls.1.card:")


def test_injects_name_what_exists(tmp_path: Path) -> None:
    text = edited(
        ("hospital: County,", "hospital: Country,"),
        ("vehicle: N-A02", "vehicle: N-A04"),
        ("station: Coast,", "station: Coastal,"),
    )
    errors, _ = checked(tmp_path, text)
    assert errors == [
        "s.yaml:33:55: injects.0.hospital: no hospital 'Country' in this scenario "
        "(did you mean 'County'?)",
        "s.yaml:34:52: injects.1.vehicle: no vehicle with call sign 'N-A04' "
        "(did you mean 'N-A03'?)",
        "s.yaml:35:41: injects.2.station: no station 'Coastal' in this scenario "
        "(did you mean 'Coast'?)",
    ]


@pytest.mark.parametrize("vehicle", ["N-A03", "NOR-R01", "COA-A02", "V006"])
def test_call_signs_as_the_world_numbers_them(tmp_path: Path, vehicle: str) -> None:
    # explicit prefix, default prefixes from the station name, and plain vehicle ids
    assert checked(tmp_path, edited(("vehicle: N-A02", f"vehicle: {vehicle}"))) == ([], [])


# --------------------------------------------------------------------------- the fleet


def test_hours_with_no_vehicle_on_duty(tmp_path: Path) -> None:
    text = edited(
        (
            "      - {type: DCA, count: 3, callsign_prefix: N-A}\n      - {type: RRV, count: 1}\n",
            "      - {type: DCA, count: 3, callsign_prefix: N-A, shift: {start: '21:00', "
            "end: '23:00'}}\n",
        ),
        ('shift: {start: "20:00", end: "08:00"}', 'shift: {start: "00:30", end: "08:00"}'),
        ('  - {type: crews, at: "01:00", station: Coast, count: 1}\n', ""),
        ("vehicle: N-A02", "vehicle: N-A01"),
    )
    assert only_error(tmp_path, text) == (
        "s.yaml:6:1: stations: no vehicle is on duty from 23:00 to 00:30: give some vehicle "
        "group a shift that covers it (or no shift: on duty all the time)"
    )


def test_crews_coming_on_duty_close_a_gap(tmp_path: Path) -> None:
    text = edited(
        (
            "      - {type: DCA, count: 3, callsign_prefix: N-A}\n      - {type: RRV, count: 1}\n",
            "      - {type: DCA, count: 3, callsign_prefix: N-A, shift: {start: '21:00', "
            "end: '23:00'}}\n",
        ),
        ('shift: {start: "20:00", end: "08:00"}', 'shift: {start: "00:30", end: "08:00"}'),
        (
            'type: crews, at: "01:00", station: Coast, count: 1',
            'type: crews, at: "23:00", station: Coast, count: 3',
        ),
    )
    assert checked(tmp_path, text) == ([], [])


def test_every_ed_diverted_at_the_start(tmp_path: Path) -> None:
    text = edited(
        (
            "    point: Casterbridge County Hospital\n",
            "    point: Casterbridge County Hospital\n    diverted: true\n",
        ),
        (
            "    point: Budmouth Regis General Hospital\n",
            "    point: Budmouth Regis General Hospital\n    diverted: true\n",
        ),
    )
    assert only_error(tmp_path, text) == (
        "s.yaml:21:15: hospitals.0.diverted: every emergency department is on diversion at the "
        "start: crews would have nowhere to take a patient; leave at least one open"
    )
    one = edited(
        (
            "    point: Casterbridge County Hospital\n",
            "    point: Casterbridge County Hospital\n    diverted: true\n",
        ),
    )
    assert checked(tmp_path, one) == ([], [])


# --------------------------------------------------------------------------- warnings


def test_demand_beyond_the_fleet_is_a_warning(tmp_path: Path) -> None:
    text = edited(("incidents_per_hour: 2", "incidents_per_hour: 6"))
    errors, warnings = checked(tmp_path, text)
    assert errors == []
    assert warnings == [
        "s.yaml:24:23: demand.incidents_per_hour: demand looks more than the fleet can serve: "
        "6 incidents an hour x 1.3 h a job x 80% needing a vehicle keep about 6 vehicles busy, "
        "104% of the 6 on duty at 22:00; expect queues that never clear (fine if that is the "
        "lesson)"
    ]
    # 5 incidents an hour keep about 5.2 vehicles busy: 87% of 6, no warning
    assert checked(tmp_path, edited(("incidents_per_hour: 2", "incidents_per_hour: 5"))) == (
        [],
        [],
    )


def test_empty_hub_with_many_low_acuity_calls_is_a_warning(tmp_path: Path) -> None:
    text = edited(("demand:\n", "clinical_hub: {clinicians: 0}\ndemand:\n"))
    errors, warnings = checked(tmp_path, text)
    assert errors == []
    assert warnings == [
        "s.yaml:23:28: clinical_hub.clinicians: the clinical hub has no clinicians but 40% of "
        "the calls are C3/C4: nobody can validate them, so every one of them gets a vehicle"
    ]
    urgent = edited(
        ("demand:\n", "clinical_hub: {clinicians: 0}\ndemand:\n"),
        ("  incidents_per_hour: 2\n", "  incidents_per_hour: 2\n  category_mix: {C1: 1, C2: 4}\n"),
    )
    assert checked(tmp_path, urgent) == ([], [])


# --------------------------------------------------------------------------- the two doors


def test_load_scenario_raises_for_errors_only(tmp_path: Path) -> None:
    warned = write(tmp_path, edited(("incidents_per_hour: 2", "incidents_per_hour: 6")), "w.yaml")
    loaded = load_scenario(warned)
    assert [p.where for p in loaded.warnings] == ["demand.incidents_per_hour"]
    assert loaded.warnings[0].file == str(warned)
    broken = write(tmp_path, edited(("vehicle: N-A02", "vehicle: X")), "e.yaml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(broken)
    assert [str(p) for p in info.value.problems] == [
        f"{broken}:34:52: injects.1.vehicle: no vehicle with call sign 'X' (call signs: "
        "'COA-A01', 'COA-A02', 'N-A01', 'N-A02', 'N-A03', 'NOR-R01')"
    ]
    assert load_scenario(broken, semantic=False).scenario.name == "Semantic"


def test_validate_prints_warnings_and_exits_0(tmp_path: Path) -> None:
    warned = write(tmp_path, edited(("incidents_per_hour: 2", "incidents_per_hour: 6")), "w.yaml")
    code, lines = validate_files([str(warned)])
    assert code == 0
    assert lines[0].startswith(
        f"{warned}:24:23: demand.incidents_per_hour: warning: demand looks more than the fleet"
    )
    assert lines[1:] == [f"{warned}: ok ('Semantic')", "1 file checked, 0 with problems, 1 warning"]
    broken = write(tmp_path, edited(("hospital: County,", "hospital: Nope,")), "e.yaml")
    code, lines = validate_files([str(broken), str(warned)])
    assert code == 1
    assert lines[0].startswith(f"{broken}:33:55: injects.0.hospital: no hospital 'Nope'")
    assert lines[-1] == "2 files checked, 1 with problems, 1 warning"


def test_main_validate_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ambsim_gui.cli import main

    warned = write(tmp_path, edited(("incidents_per_hour: 2", "incidents_per_hour: 6")), "w.yaml")
    assert main(["validate", str(warned)]) == 0
    assert ": warning: " in capsys.readouterr().out
    broken = write(tmp_path, edited(("card: stroke", "card: strokes")), "e.yaml")
    assert main(["validate", str(broken)]) == 1
    assert "scripted_calls.1.card: no call card 'strokes'" in capsys.readouterr().err


# --------------------------------------------------------------------------- fuzzing

NAMES = st.sampled_from(
    [
        "Casterbridge",
        "Casterbridge North Ambulance Station",
        "Nowhere",
        "",
        "V001",
        "N-A01",
        "fall",
        "long_lie",
        "Wessex Way",
        "County",
        "Coast",
    ]
)
TIMES = st.sampled_from(
    ['"00:00"', '"21:59"', '"22:00"', '"01:59"', '"02:00"', "0", "239.9", "240", "1e4"]
)
NUMBERS = st.sampled_from(["0", "1", "-1", "1e9", "0.001", "[0, 0]", "[99999, 99999]"])

SLOTS = [
    ("point: Casterbridge North Ambulance Station", "point: {}", NAMES),
    ("xy: [21811, 5782]", "xy: {}", st.sampled_from(["[0, 0]", "[-1, 5]", "[60000, 37056.3]"])),
    ('at: "23:30", card: fall', "at: {}, card: fall", TIMES),
    ("  - at_min: 30\n", "  - at_min: {}\n", TIMES),
    ("card: stroke", "card: {}", NAMES),
    ("variant: long_lie", "variant: {}", NAMES),
    ("area: Casterbridge}", "area: {}}}", NAMES),
    ("hospital: County,", "hospital: {},", NAMES),
    ("vehicle: N-A02", "vehicle: {}", NAMES),
    ("station: Coast,", "station: {},", NAMES),
    ("roads: [High Street]", "roads: [{}]", NAMES),
    ("incidents_per_hour: 2", "incidents_per_hour: {}", NUMBERS),
    ("count: 3, callsign_prefix", "count: {}, callsign_prefix", NUMBERS),
    ('shift: {start: "20:00", end: "08:00"}', 'shift: {{start: {}, end: "08:00"}}', TIMES),
    ("duration_h: 4", "duration_h: {}", NUMBERS),
    ('start: "22:00"', "start: {}", TIMES),
    ("Froom Valley: 1}", "{}: 1}}", NAMES),
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = BASE
    for old, template, values in draw(st.lists(st.sampled_from(SLOTS), min_size=1, max_size=4)):
        if old in text:
            text = text.replace(old, template.format(draw(values)), 1)
    return text


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("semantic_fuzz")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated())
def test_semantic_mistakes_are_always_located(fuzz_dir: Path, text: str) -> None:
    """Wrong names, times and numbers: a located problem or a clean load, never a crash."""
    path = write(fuzz_dir, text)
    n_lines = len(text.splitlines())
    try:
        loaded = load_scenario(path)
    except ScenarioError as exc:
        problems = exc.problems
    else:
        problems = list(loaded.warnings)
    for problem in problems:
        assert problem.file == str(path)
        assert 1 <= problem.line <= n_lines + 1, problem
        assert problem.col >= 1 and problem.where and problem.message
        assert "\n" not in str(problem)
    json.dumps([str(p) for p in problems])  # plain text all the way
