"""Scenario loading: every bad file gives ``file:line:col: where: message`` at the right place."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from ambsim_gui import paths as project_paths
from ambsim_gui.scenario.errors import Problem, ScenarioError
from ambsim_gui.scenario.loader import (
    SCHEMA_ID,
    LoadedScenario,
    json_schema,
    load_scenario,
    load_yaml,
    resolve_resource,
    validate_data,
    validate_files,
)

VALID = """\
schema_version: 1
name: Tiny
duration_h: 1
map: tiny.json
stations:
  - name: Alpha
    xy: [0, 0]
    vehicles:
      - type: DCA
        count: 2
hospitals:
  - name: General
    xy: [1000, 0]
demand:
  incidents_per_hour: 5
"""
# Line numbers of VALID, for reading the expectations below:
#  1 schema_version   4 map        7 xy: [0, 0]   10 count: 2     13 xy: [1000, 0]
#  2 name             5 stations   8 vehicles     11 hospitals    14 demand
#  3 duration_h       6 - name     9 - type: DCA  12 - name       15 incidents_per_hour


# A real (tiny) map: loading runs the semantic checks, which read the map the scenario names.
TINY_MAP = json.dumps(
    {
        "format": "ambsim-map",
        "version": 1,
        "name": "Tiny",
        "units": "m",
        "road_classes": {"street": {"speed_kph": 40, "blue_light_factor": 1.3}},
        "nodes": {"x": [0, 1000, 1000, 0], "y": [0, 0, 1000, 1000]},
        "edges": {
            "u": [0, 1, 1, 2, 2, 3, 3, 0],
            "v": [1, 0, 2, 1, 3, 2, 0, 3],
            "class": ["street"] * 8,
            "length_m": [1000.0] * 8,
            "speed_kph": [40.0] * 8,
            "name": ["High Street"] * 8,
        },
        "areas": [
            {
                "name": "Town",
                "kind": "urban",
                "demand_weight": 1,
                "polygon": [[-10, -10], [1010, -10], [1010, 1010], [-10, 1010]],
            }
        ],
        "points": [],
    }
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A scenario folder holding the tiny map the scenarios refer to."""
    (tmp_path / "tiny.json").write_text(TINY_MAP, encoding="utf-8")
    return tmp_path


def write(folder: Path, text: str, name: str = "s.yaml") -> Path:
    path = folder / name
    path.write_bytes(text.encode("utf-8"))
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [str(problem) for problem in info.value.problems]


def edited(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new, 1)


# --------------------------------------------------------------------------- errors


def test_problem_and_error_format() -> None:
    first = Problem("a.yaml", 3, 7, "stations.0.name", "Field required")
    second = Problem("a.yaml", 1, 1, "(file)", "file is empty")
    assert str(first) == "a.yaml:3:7: stations.0.name: Field required"
    error = ScenarioError([first, second])
    assert error.problems == [first, second]
    assert (
        str(error)
        == "a.yaml:3:7: stations.0.name: Field required\na.yaml:1:1: (file): file is empty"
    )
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == [first, second] and str(copy) == str(error)


# --------------------------------------------------------------------------- a good file


def test_valid_minimal_scenario_loads(folder: Path) -> None:
    path = write(folder, VALID)
    loaded = load_scenario(path)
    assert isinstance(loaded, LoadedScenario)
    assert loaded.scenario.name == "Tiny"
    assert loaded.scenario.stations[0].vehicles[0].count == 2
    assert loaded.scenario.stations[0].xy == (0.0, 0.0)
    assert loaded.path == path.resolve()
    assert loaded.text == VALID
    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert loaded.map_path == (folder / "tiny.json").resolve()
    assert loaded.protocol_path is None and loaded.cards_path is None


def test_text_is_exact_and_ruamel_scalars_become_plain(folder: Path) -> None:
    text = VALID.replace("\n", "\r\n").replace("duration_h: 1", "duration_h: 1.5e0")
    text = text.replace("count: 2", "count: 0x2")
    path = folder / "crlf.yaml"
    path.write_bytes(text.encode("utf-8"))
    loaded = load_scenario(path)
    assert loaded.text == text
    assert loaded.scenario.duration_h == 1.5 and type(loaded.scenario.duration_h) is float
    assert type(loaded.scenario.stations[0].vehicles[0].count) is int


def test_load_yaml_keeps_positions(folder: Path) -> None:
    data = load_yaml(write(folder, VALID))
    assert data.lc.key("demand") == (13, 0)
    assert data["stations"][0]["vehicles"][0].lc.value("count") == (9, 15)


# --------------------------------------------------------------------------- file-level failures


def test_missing_file(folder: Path) -> None:
    path = folder / "nope.yaml"
    assert problems_of(path) == [f"{path}:1:1: (file): file not found"]


def test_directory(folder: Path) -> None:
    assert problems_of(folder) == [f"{folder}:1:1: (file): is a folder, not a scenario file"]


def test_unreadable_file(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(folder, VALID)

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)  # chmod 0 does not stop root
    assert problems_of(path) == [f"{path}:1:1: (file): cannot read the file: permission denied"]


def test_not_utf8(folder: Path) -> None:
    path = folder / "latin1.yaml"
    path.write_bytes(VALID.replace("name: Tiny", "name: Tin\xe9").encode("latin-1"))
    assert problems_of(path) == [
        f"{path}:2:10: (file): not UTF-8 text (byte 0xe9); save the file as UTF-8"
    ]


@pytest.mark.parametrize("text", ["", "# only a comment\n\n"])
def test_empty_file(folder: Path, text: str) -> None:
    path = write(folder, text)
    [line] = problems_of(path)
    assert line.startswith(f"{path}:1:1: (file): file is empty")


def test_top_level_not_a_mapping(folder: Path) -> None:
    path = write(folder, "# a list\n- name: Tiny\n")
    assert problems_of(path) == [
        f"{path}:2:1: (file): the top level must be a mapping of keys like 'name: ...', not a list"
    ]
    path = write(folder, "\njust words\n")
    assert problems_of(path) == [
        f"{path}:2:1: (file): the top level must be a mapping of keys like 'name: ...', "
        "not a single value (str)"
    ]


def test_syntax_error_points_at_the_marker(folder: Path) -> None:
    path = write(folder, edited("duration_h: 1", "duration_h: 1: 2"))
    assert problems_of(path) == [f"{path}:3:14: (file): YAML: mapping values are not allowed here"]


def test_unclosed_flow_sequence(folder: Path) -> None:
    path = write(folder, edited("xy: [0, 0]\n    vehicles", "xy: [0, 0\n    vehicles"))
    [line] = problems_of(path)
    assert line.startswith(f"{path}:8:13: (file): YAML: expected ',' or ']', but got ':'")
    assert line.endswith("(while parsing a flow sequence at 7:9)")


def test_tab_indentation(folder: Path) -> None:
    path = write(folder, edited("demand:\n  incidents", "demand:\n\tincidents"))
    [line] = problems_of(path)
    assert line.startswith(f"{path}:15:1: (file): YAML: found character '\\t' that cannot start")


def test_duplicate_key(folder: Path) -> None:
    path = write(folder, edited("duration_h: 1\n", "duration_h: 1\nname: Other\n"))
    assert problems_of(path) == [
        f'{path}:4:1: (file): YAML: found duplicate key "name" with value "Other" '
        '(original value: "Tiny")'
    ]


def test_value_yaml_cannot_build(folder: Path) -> None:
    path = write(folder, edited("name: Tiny", "name: 2024-13-45"))
    assert problems_of(path) == [
        f"{path}:2:7: (file): YAML: cannot read this value: month must be in 1..12"
    ]


def test_control_character(folder: Path) -> None:
    path = write(folder, edited("name: Tiny", "name: Ti\x07ny"))
    assert problems_of(path) == [
        f"{path}:2:9: (file): YAML: special character U+0007 is not allowed"
    ]


def test_alias_bomb_is_refused(folder: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    path = write(folder, "\n".join(lines) + "\n")
    assert problems_of(path) == [
        f"{path}:1:1: (file): more than 200000 values once aliases are expanded"
    ]


# --------------------------------------------------------------------------- schema failures


def test_unknown_key_with_suggestion(folder: Path) -> None:
    path = write(folder, edited("count: 2", "cuont: 2"))
    assert problems_of(path) == [
        f"{path}:10:9: stations.0.vehicles.0.cuont: "
        "Extra inputs are not permitted; did you mean 'count'?"
    ]


def test_unknown_top_level_key(folder: Path) -> None:
    path = write(folder, VALID + "hospitls: []\n")
    assert problems_of(path) == [
        f"{path}:16:1: hospitls: Extra inputs are not permitted; did you mean 'hospitals'?"
    ]


def test_unknown_key_without_close_match_lists_a_small_model(folder: Path) -> None:
    path = write(folder, edited("count: 2", "count: 2\n        colour: red"))
    assert problems_of(path) == [
        f"{path}:11:9: stations.0.vehicles.0.colour: Extra inputs are not permitted; "
        "allowed keys: type, count, callsign_prefix, shift"
    ]


def test_missing_field_points_at_the_parent(folder: Path) -> None:
    path = write(folder, edited("  - name: Alpha\n    xy: [0, 0]", "  - xy: [0, 0]"))
    assert problems_of(path) == [f"{path}:6:5: stations.0.name: Field required"]


def test_missing_top_level_field_points_at_the_root(folder: Path) -> None:
    path = write(folder, "# comment\n" + edited("name: Tiny\n", ""))
    assert problems_of(path) == [f"{path}:2:1: name: Field required"]


def test_wrong_type_inside_list_item(folder: Path) -> None:
    path = write(folder, edited("count: 2", "count: two"))
    assert problems_of(path) == [
        f"{path}:10:16: stations.0.vehicles.0.count: "
        "Input should be a valid integer, unable to parse string as an integer (got 'two')"
    ]


def test_wrong_item_in_flow_sequence(folder: Path) -> None:
    path = write(folder, edited("xy: [0, 0]", "xy: [0, a]"))
    assert problems_of(path) == [
        f"{path}:7:13: stations.0.xy.1: "
        "Input should be a valid number, unable to parse string as a number (got 'a')"
    ]


def test_literal_and_bounds(folder: Path) -> None:
    text = edited("type: DCA", "type: DCX").replace("duration_h: 1", "duration_h: 0")
    path = write(folder, text)
    assert problems_of(path) == [
        f"{path}:3:13: duration_h: Input should be greater than 0 (got 0)",
        f"{path}:9:15: stations.0.vehicles.0.type: Input should be 'DCA' or 'RRV' (got 'DCX')",
    ]


def test_infinity_is_refused(folder: Path) -> None:
    path = write(folder, edited("incidents_per_hour: 5", "incidents_per_hour: .inf"))
    assert problems_of(path) == [
        f"{path}:15:23: demand.incidents_per_hour: Input should be a finite number (got inf)"
    ]


def test_empty_section_points_at_its_key(folder: Path) -> None:
    path = write(folder, edited("demand:\n  incidents_per_hour: 5\n", "demand:\n"))
    assert problems_of(path) == [
        f"{path}:14:1: demand: "
        "Input should be a valid dictionary or instance of Demand (got an empty value)"
    ]


def test_bad_dict_key(folder: Path) -> None:
    path = write(folder, VALID + "  category_mix: {C1: 1, C9: 2}\n")
    assert problems_of(path) == [
        f"{path}:16:25: demand.category_mix.C9: "
        "Input should be 'C1', 'C2', 'C3' or 'C4' (got key 'C9')"
    ]


def test_model_validator_errors(folder: Path) -> None:
    path = write(folder, edited("    xy: [0, 0]\n", "    xy: [0, 0]\n    point: depot\n"))
    assert problems_of(path) == [
        f"{path}:6:5: stations.0: give exactly one of 'point' (a map point name) or 'xy' ([x, y])"
    ]
    second = "  - name: Alpha\n    xy: [5, 5]\n    vehicles: [{type: RRV}]\nhospitals:\n"
    path = write(folder, edited("hospitals:\n", second))
    assert problems_of(path) == [f"{path}:1:1: (root): two stations are called 'Alpha'"]


def test_block_list_error_points_at_its_key(folder: Path) -> None:
    path = write(folder, VALID + "  profile:\n    - 1\n    - 2\n")
    assert problems_of(path) == [f"{path}:16:3: demand.profile: needs 24 hourly values, got 2"]


def test_unsupported_tag(folder: Path) -> None:
    path = write(folder, edited("name: Tiny", "name: !include other.yaml"))
    assert problems_of(path) == [f"{path}:2:7: name: YAML tag '!include' is not supported"]


def test_standard_tag_is_fine(folder: Path) -> None:
    path = write(folder, edited("name: Tiny", "name: !!str 12"))
    assert load_scenario(path).scenario.name == "12"


def test_all_problems_reported_sorted(folder: Path) -> None:
    text = VALID.replace("count: 2", "count: 0").replace("map: tiny.json", "map: nope.json")
    text = text.replace("duration_h: 1", "duration_h: -1") + "extra: 1\n"
    path = write(folder, text)
    lines = problems_of(path)
    assert [line.split(":")[1] for line in lines] == ["3", "4", "10", "16"]
    assert lines[1] == (
        f"{path}:4:6: map: map file 'nope.json' not found next to the scenario or in "
        "resources/maps/"
    )


def test_union_noise_collapses(folder: Path) -> None:
    class Strictly(BaseModel):
        model_config = ConfigDict(extra="forbid")
        where: str | tuple[float, float]

    def check(text: str) -> str:
        with pytest.raises(ScenarioError) as info:
            validate_data(load_yaml(write(folder, text, "u.yaml")), "u.yaml", Strictly)
        return str(info.value)

    # no member got into the value: one line naming every accepted form
    assert check("where: 5\n") == (
        "u.yaml:1:8: where: Input should be a valid string or a valid tuple (got 5)"
    )
    # the tuple member got into the list: its error, at the item
    assert check("where: [1, a]\n") == (
        "u.yaml:1:12: where.1: "
        "Input should be a valid number, unable to parse string as a number (got 'a')"
    )


def test_validate_plain_python_has_no_positions() -> None:
    with pytest.raises(ScenarioError) as info:
        validate_data({"schema_version": 2}, "x.yaml")
    assert "x.yaml:1:1: schema_version: Input should be 1 (got 2)" in str(info.value)
    assert all(p.line == 1 and p.col == 1 for p in info.value.problems)


# --------------------------------------------------------------------------- references


def test_path_escape_refused(folder: Path) -> None:
    path = write(folder, edited("map: tiny.json", "map: ../../../../../../etc/passwd"))
    assert problems_of(path) == [
        f"{path}:4:6: map: '../../../../../../etc/passwd' is outside the allowed folders "
        "(the scenario's folder, resources/, scenarios/)"
    ]


def test_absolute_path_elsewhere_refused(
    folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "map.json"
    elsewhere.write_text("{}", encoding="utf-8")
    path = write(folder, edited("map: tiny.json", f"map: {elsewhere}"))
    [line] = problems_of(path)
    assert line.startswith(f"{path}:4:6: map: ") and "outside the allowed folders" in line


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_symlink_out_of_the_folder_refused(
    folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "map.json"
    elsewhere.write_text("{}", encoding="utf-8")
    (folder / "link.json").symlink_to(elsewhere)
    path = write(folder, edited("map: tiny.json", "map: link.json"))
    [line] = problems_of(path)
    assert line.startswith(f"{path}:4:6: map: 'link.json' is outside the allowed folders")


def test_missing_map_reported_at_the_map_line(folder: Path) -> None:
    path = write(folder, edited("map: tiny.json", "map:   nope.json"))
    assert problems_of(path) == [
        f"{path}:4:8: map: map file 'nope.json' not found next to the scenario or in "
        "resources/maps/"
    ]


def test_map_that_is_a_folder(folder: Path) -> None:
    (folder / "maps.json").mkdir()
    path = write(folder, edited("map: tiny.json", "map: maps.json"))
    assert problems_of(path) == [f"{path}:4:6: map: 'maps.json' is a folder, not a file"]


def test_references_resolve_in_resources(
    folder: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    resources = tmp_path_factory.mktemp("resources")
    (resources / "maps").mkdir()
    (resources / "maps" / "county.json").write_text("{}", encoding="utf-8")
    (resources / "triage").mkdir()
    (resources / "triage" / "protocol.json").write_text("{}", encoding="utf-8")
    (resources / "cards" / "winter").mkdir(parents=True)
    monkeypatch.setattr(project_paths, "RESOURCES", resources)
    text = edited("map: tiny.json", "map: county\nprotocol: protocol.json\ncards: winter")
    # placeholder files: only the resolution is under test, not the semantic checks
    loaded = load_scenario(write(folder, text), semantic=False)
    assert loaded.map_path == (resources / "maps" / "county.json").resolve()
    assert loaded.protocol_path == (resources / "triage" / "protocol.json").resolve()
    assert loaded.cards_path == (resources / "cards" / "winter").resolve()
    # next to the scenario wins over resources; '..' into resources is allowed
    (folder / "county.json").write_text("{}", encoding="utf-8")
    assert (
        resolve_resource(folder / "s.yaml", "county", "maps") == (folder / "county.json").resolve()
    )
    sub = folder / "sub"
    sub.mkdir()
    county = resources / "maps" / "county.json"
    up = os.path.relpath(county, sub)
    assert resolve_resource(sub / "s.yaml", up, "maps") == county.resolve()
    with pytest.raises(ScenarioError, match="outside the allowed folders"):
        resolve_resource(sub / "s.yaml", "../tiny.json", "maps")  # the parent is not allowed


def test_resolve_resource_problem_position(folder: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        resolve_resource(folder / "s.yaml", "/etc/passwd", "triage", line=7, col=11)
    [problem] = info.value.problems
    assert (problem.line, problem.col, problem.where) == (7, 11, "protocol")
    with pytest.raises(ValueError):
        resolve_resource(folder / "s.yaml", "x", "fonts")


# --------------------------------------------------------------------------- validate, schema


def test_validate_files(folder: Path) -> None:
    # 1 incident an hour: 5 would be more than 2 ambulances can serve, which is a warning
    good = write(folder, edited("incidents_per_hour: 5", "incidents_per_hour: 1"), "good.yaml")
    bad = write(folder, edited("count: 2", "count: 0"), "bad.yaml")
    code, lines = validate_files([str(good)])
    assert code == 0 and lines == [f"{good}: ok ('Tiny')", "1 file checked, 0 with problems"]
    code, lines = validate_files([str(good), str(bad), str(folder / "gone.yaml")])
    assert code == 1
    assert lines == [
        f"{good}: ok ('Tiny')",
        f"{bad}:10:16: stations.0.vehicles.0.count: "
        "Input should be greater than or equal to 1 (got 0)",
        f"{folder / 'gone.yaml'}:1:1: (file): file not found",
        "3 files checked, 2 with problems",
    ]
    assert validate_files([]) == (1, ["validate: no files given"])


def test_json_schema() -> None:
    schema = json_schema()
    assert schema["$id"] == SCHEMA_ID
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"] == "ambsim scenario"
    assert {"schema_version", "stations", "demand"} <= set(schema["properties"])
    assert json.loads(json.dumps(schema)) == schema


# --------------------------------------------------------------------------- fuzzing

SCALARS = [
    "9" * 400,
    "1e999",
    "-1",
    "0",
    "'a string'",
    "[1, 2, 3]",
    "{a: 1}",
    "",
    "~",
    "*nowhere",
    "&anchor",
    "!!binary zz",
    "2024-13-45",
    '"unterminated',
    "[",
    "? complex",
    "!tag x",
    "yes",
]


@st.composite
def mutated_scenario(draw: st.DrawFn) -> bytes:
    """The valid scenario with one to four random edits."""
    lines = VALID.split("\n")
    truncate = False
    for _ in range(draw(st.integers(1, 4))):
        op = draw(
            st.sampled_from(
                ["delete", "duplicate", "indent", "scalar", "unknown", "truncate", "noise"]
            )
        )
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        if op == "delete" and lines:
            del lines[i]
        elif op == "duplicate" and lines:
            lines.insert(i, lines[i])
        elif op == "indent" and lines:
            indent = draw(st.sampled_from([0, 1, 2, 3, 4, 6, 8, 10, 13]))
            lines[i] = " " * indent + lines[i].lstrip(" ")
        elif op == "scalar" and lines:
            head = lines[i].split(": ", 1)[0] if ": " in lines[i] else lines[i].rstrip(" -")
            lines[i] = head + ": " + draw(st.sampled_from(SCALARS))
        elif op == "unknown":
            key = draw(st.from_regex(r"[a-z_]{1,12}", fullmatch=True))
            indent = draw(st.sampled_from([0, 2, 4, 6, 8]))
            lines.insert(i, " " * indent + key + ": " + draw(st.sampled_from(SCALARS)))
        elif op == "truncate":
            truncate = True
        elif op == "noise" and lines:
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.text(max_size=4)) + lines[i][at:]
    data = "\n".join(lines).encode("utf-8")
    if truncate:
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.integers(0, 19)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\xff" + data[at:]
    return data


@pytest.fixture(scope="module")
def fuzz_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "tiny.json").write_text(TINY_MAP, encoding="utf-8")
    return folder


@settings(max_examples=150, deadline=None)
@given(data=mutated_scenario())
def test_mutated_files_fail_only_with_located_problems(fuzz_folder: Path, data: bytes) -> None:
    path = fuzz_folder / "fuzz.yaml"
    path.write_bytes(data)
    try:
        text = data.decode("utf-8")
        n_lines = len(text.splitlines())
    except UnicodeDecodeError:
        n_lines = data.count(b"\n") + 1
    try:
        loaded = load_scenario(path)
    except ScenarioError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.file == str(path)
            assert 1 <= problem.line <= n_lines + 1, problem
            assert problem.col >= 1, problem
            assert problem.where and problem.message
            assert "\n" not in str(problem) and "\r" not in str(problem)
    else:
        assert loaded.sha256 == hashlib.sha256(data).hexdigest()
