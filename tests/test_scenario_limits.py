"""Limits: whatever validates runs in bounded time and memory; whatever breaks a limit is refused
fast, at the ``file:line:col`` to fix.

The file itself (size, number of values, nesting, aliases and what they expand to), its text
(valid Unicode, no control characters, a length cap) and its numbers (an upper bound on each,
and on products such as the incidents a shift expects) are covered here; docs/authoring.md lists
the limits under "Limits".
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from annotated_types import Le, Lt
from pydantic import BaseModel

from ambsim_gui import paths as project_paths
from ambsim_gui.datafile import yamlfile
from ambsim_gui.scenario import loader, model
from ambsim_gui.scenario.errors import ScenarioError
from ambsim_gui.scenario.loader import check_limits, load_scenario, validate_files

TINY_MAP = {
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
  incidents_per_hour: 1
"""
# Line numbers of VALID:
#  1 schema_version   4 map        7 xy: [0, 0]   10 count: 2     13 xy: [1000, 0]
#  2 name             5 stations   8 vehicles     11 hospitals    14 demand
#  3 duration_h       6 - name     9 - type: DCA  12 - name       15 incidents_per_hour

BASE: dict[str, Any] = {
    "schema_version": 1,
    "name": "Limits",
    "duration_h": 1,
    "map": "tiny.json",
    "stations": [{"name": "Alpha", "xy": [0, 0], "vehicles": [{"type": "DCA", "count": 2}]}],
    "hospitals": [{"name": "General", "xy": [1000, 0]}],
    "demand": {"incidents_per_hour": 1},
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "tiny.json").write_text(json.dumps(TINY_MAP), encoding="utf-8")
    return tmp_path


def write(folder: Path, text: str, name: str = "s.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, *, semantic: bool = True) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, semantic=semantic)
    return [str(problem) for problem in info.value.problems]


def edited(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new, 1)


def timed(path: Path) -> tuple[float, list[str]]:
    """(seconds, output lines) of what ``python main.py validate`` does for one file."""
    started = time.perf_counter()
    code, lines = validate_files([str(path)])
    assert code == 1
    return time.perf_counter() - started, lines


@pytest.fixture(params=["libyaml", "ruamel"])
def parsers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each file-limit test twice: with the libyaml pre-scan, and with ruamel alone (the
    pre-scan is a shortcut: the same limits hold while ruamel reads the file)."""
    if request.param == "ruamel":
        monkeypatch.setattr(yamlfile, "prescan", lambda text, name: False)
    return str(request.param)


# --------------------------------------------------------------------------- the file


def test_oversized_file_is_refused_unread(folder: Path) -> None:
    path = write(folder, VALID + "# " + "x" * (loader.MAX_BYTES) + "\n")
    seconds, lines = timed(path)
    assert lines[0] == (
        f"{path}:1:1: (file): file is larger than 1 MiB: not a scenario "
        "(the London-scale day is 23 KB)"
    )
    assert seconds < 1.0


def test_a_file_just_under_the_size_limit_is_read(folder: Path) -> None:
    padding = loader.MAX_BYTES - len(VALID.encode()) - 3
    path = write(folder, VALID + "# " + "x" * padding + "\n")
    assert path.stat().st_size <= loader.MAX_BYTES
    assert load_scenario(path).scenario.name == "Tiny"


def test_100000_keys_are_refused_fast(folder: Path, parsers: str) -> None:
    keys = "".join(f"k{i}: 1\n" for i in range(100_000))
    path = write(folder, VALID + keys)
    assert path.stat().st_size < loader.MAX_BYTES  # the size limit alone would not catch it
    seconds, lines = timed(path)
    # VALID has 38 nodes; each key line adds two: the 25,001st node is the key of line 12,497
    line = 16 + (loader.MAX_NODES - 38) // 2
    assert lines == [
        f"{path}:{line}:1: (file): more than 25000 keys, list items and values: a "
        "scenario has a few thousand (the London-scale day about 2,600); is this the right file?",
        "1 file checked, 1 with problems",
    ]
    if parsers == "libyaml":
        assert seconds < 1.5  # 29 s before the limit; ruamel alone: a second or two


def test_25000_values_are_read(folder: Path) -> None:
    """Just under the limit: the file is read (the objectives are then too many for the model)."""
    items = "".join(f"  - objective {i}\n" for i in range(loader.MAX_NODES - 40))
    path = write(folder, VALID + "learning_objectives:\n" + items)  # 38 + 2 + 24,960 nodes
    [line] = problems_of(path)
    assert line == (
        f"{path}:16:1: learning_objectives: List should have at most 50 items after "
        "validation, not 24960"
    )


def test_deep_nesting_is_refused(folder: Path, parsers: str) -> None:
    path = write(folder, VALID + "description: " + "[" * 60 + "]" * 60 + "\n")
    [line] = problems_of(path)
    assert line == f"{path}:16:63: (file): nested more than 50 levels deep (a scenario needs six)"


def test_billion_laughs_is_refused_fast(folder: Path, parsers: str) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    path = write(folder, VALID + "\n".join(lines) + "\n")
    seconds, out = timed(path)
    assert out[0] == f"{path}:1:1: (file): more than 200000 values once aliases are expanded"
    assert seconds < 2.0


def test_a_long_text_aliased_many_times_is_refused_at_the_alias(folder: Path, parsers: str) -> None:
    """Few values but a lot of text: 100 KB copied 900 times would be 90 MB (and 900 x 1 MB,
    as the fuzzer wrote it, ran out of memory)."""
    text = VALID + f'description: &long "{"x" * 100_000}"\n'
    text += "learning_objectives: [" + ", ".join(["*long"] * 900) + "]\n"
    path = write(folder, text)
    [line] = problems_of(path)
    # the tenth alias takes the text past 1 MiB: 100,000 + 10 x 100,000 + ... characters
    column = len("learning_objectives: [") + 9 * len("*long, ") + 1
    assert line == (
        f"{path}:17:{column}: (file): more than 1048576 characters of text once aliases are "
        "expanded"
    )


def test_too_many_aliases(folder: Path, parsers: str) -> None:
    text = VALID + "shared: &s {start: '07:00', end: '19:00'}\n"
    text += "uses: [" + ", ".join(["*s"] * 1001) + "]\n"
    path = write(folder, text)
    [line] = problems_of(path)
    column = len("uses: [") + 1000 * len("*s, ") + 1
    assert line == (
        f"{path}:17:{column}: (file): more than 1000 aliases (*name): write the values out, or "
        "share fewer"
    )


def test_aliases_within_the_limits_are_fine(folder: Path, parsers: str) -> None:
    text = VALID.replace(
        "      - type: DCA\n        count: 2\n",
        "      - {type: DCA, count: 2, shift: &day {start: '07:00', end: '19:00'}}\n"
        "      - {type: RRV, shift: *day}\n"
        "      - {type: DCA, shift: {start: '19:00', end: '07:00'}}\n",
    )
    assert load_scenario(write(folder, text)).scenario.stations[0].vehicles[1].shift is not None


def test_a_protocol_bomb_is_refused_at_the_scenario(folder: Path) -> None:
    """A scenario's own protocol (or cards) goes through the same limits and is then loaded as
    the run loads it; the shipped protocol is refused as a card folder's content."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    (folder / "bomb.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = write(folder, VALID + "protocol: bomb.yaml\n")
    started = time.perf_counter()
    [line] = problems_of(path)
    assert time.perf_counter() - started < 3.0
    assert line == (
        f"{path}:16:11: protocol: bomb.yaml cannot be used: {folder / 'bomb.yaml'}:1:1: (file): "
        "more than 200000 values once aliases are expanded"
    )
    with pytest.raises(ScenarioError):
        check_limits(folder / "bomb.yaml")
    check_limits(project_paths.RESOURCES / "triage" / "protocol.yaml")  # within every limit


def test_a_protocol_that_does_not_load_is_refused(folder: Path) -> None:
    (folder / "not_a_protocol.yaml").write_text("questions: 5\n", encoding="utf-8")
    path = write(folder, VALID + "protocol: not_a_protocol.yaml\n")
    [line] = problems_of(path)
    assert line.startswith(f"{path}:16:11: protocol: the triage protocol cannot be used: ")


def test_problems_are_listed_up_to_a_hundred(folder: Path) -> None:
    """A file with thousands of mistakes is worded fast: a hundred lines and a count."""
    keys = "".join(f"colour_{i}: red\n" for i in range(5_000))
    path = write(folder, VALID + keys)
    seconds, lines = timed(path)
    assert len(lines) == 102
    assert lines[0] == f"{path}:16:1: colour_0: Extra inputs are not permitted"
    assert lines[99] == f"{path}:115:1: colour_99: Extra inputs are not permitted"
    assert lines[100] == (
        f"{path}:116:1: (file): 4900 more problems from here on, not listed: fix the ones "
        "above first"
    )
    assert seconds < 5.0


def test_long_values_are_cut_short_in_messages(folder: Path) -> None:
    path = write(folder, edited("duration_h: 1\n", f"duration_h: 1\nname: {'y' * 5000}\n"))
    [line] = problems_of(path)
    message = line.split(": (file): ", 1)[1]
    assert message.startswith("YAML: found duplicate key") and len(message) == 500
    assert message.endswith("...")


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "name: Tiny",
            'name: "Ti\\ud800ny"',
            "2:7: name: character 3 is U+D800, half of a surrogate pair, which is not valid "
            "Unicode text (check the \\u escapes) (got 'Ti\\ud800ny')",
        ),
        (
            "  - name: Alpha",
            '  - name: "Alpha\\udfff"',
            "6:11: stations.0.name: character 6 is U+DFFF, half of a surrogate pair, which is not "
            "valid Unicode text (check the \\u escapes) (got 'Alpha\\udfff')",
        ),
        (
            "name: Tiny",
            'name: "Ti\\tny"',
            "2:7: name: character 3 is a tab (U+0009): this must be one line of text "
            "(got 'Ti\\tny')",
        ),
        (
            "name: Tiny",
            'name: "Ti\\nny"',
            "2:7: name: character 3 is a line break (U+000A): this must be one line of text "
            "(got 'Ti\\nny')",
        ),
        (
            "name: Tiny",
            'name: "Ti\\x85ny"',
            "2:7: name: character 3 is a control character (U+0085) (got 'Ti\\x85ny')",
        ),
        (
            "name: Tiny",
            'name: Tiny\ndescription: "a bell \\a"',
            "3:14: description: character 8 is a control character (U+0007) (got 'a bell \\x07')",
        ),
        (
            "map: tiny.json",
            'map: "tiny\\0.json"',
            "4:6: map: character 5 is a control character (U+0000) (got 'tiny\\x00.json')",
        ),
        (
            "  incidents_per_hour: 1",
            '  incidents_per_hour: 1\n  cards: {"fa\\ud83dll": 1}',
            "16:11: demand.cards.'fa\\ud83dll': character 3 is U+D83D, half of a surrogate pair, "
            "which is not valid Unicode text (check the \\u escapes) (got key 'fa\\ud83dll')",
        ),
        (
            "name: Tiny",
            "name: " + "n" * 201,
            "2:7: name: String should have at most 200 characters (got '" + "n" * 37 + "...')",
        ),
        (
            "name: Tiny",
            "name: Tiny\ndescription: " + "d" * 20_001,
            "3:14: description: String should have at most 20000 characters (got '"
            + "d" * 37
            + "...')",
        ),
    ],
    ids=[
        "surrogate",
        "station-surrogate",
        "tab-in-name",
        "newline-in-name",
        "c1-control",
        "bell-in-text",
        "nul-in-path",
        "surrogate-key",
        "long-name",
        "long-text",
    ],
)
def test_text_must_be_valid(folder: Path, old: str, new: str, expected: str) -> None:
    path = write(folder, edited(old, new))
    assert problems_of(path, semantic=False) == [f"{path}:{expected}"]


def test_text_may_have_tabs_and_lines(folder: Path) -> None:
    text = edited(
        "name: Tiny", 'name: "Tiny \U0001f691 caf\u00e9"\ndescription: "one\\ttwo\\nthree"'
    )
    text += 'learning_objectives: ["line one\\nline two"]\n'
    scenario = load_scenario(write(folder, text)).scenario
    assert scenario.description == "one\ttwo\nthree"
    assert scenario.name == "Tiny \U0001f691 caf\u00e9"


def test_validate_prints_a_lone_surrogate_without_a_traceback(folder: Path) -> None:
    path = write(folder, edited("  - name: Alpha", '  - name: "\\ud800"'))
    done = subprocess.run(
        [sys.executable, str(project_paths.PROJECT_ROOT / "main.py"), "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and done.stdout == ""  # problems go to stderr, one a line
    assert done.stderr.splitlines() == [
        f"{path}:6:11: stations.0.name: character 1 is U+D800, half of a surrogate pair, which "
        "is not valid Unicode text (check the \\u escapes) (got '\\ud800')",
        "1 file checked, 1 with problems",
    ]


# --------------------------------------------------------------------------- numbers


def test_huge_demand_is_located(folder: Path) -> None:
    path = write(folder, edited("incidents_per_hour: 1", "incidents_per_hour: 1e300"))
    assert problems_of(path) == [
        f"{path}:15:23: demand.incidents_per_hour: Input should be less than or equal to 2000 "
        "(got 1e+300)"
    ]


def test_incidents_over_the_shift_are_capped(folder: Path) -> None:
    text = edited("duration_h: 1", "duration_h: 72").replace(
        "incidents_per_hour: 1", "incidents_per_hour: 1500"
    )
    path = write(folder, text)
    assert problems_of(path) == [
        f"{path}:15:23: demand.incidents_per_hour: about 108,000 incidents expected over the "
        "shift (1500 an hour for 72 h: 108,000): more than the 50,000 one shift may simulate; "
        "lower the demand or shorten the shift (got 1500.0)"
    ]


def test_bursts_and_surges_count_towards_the_incidents(folder: Path) -> None:
    text = edited("duration_h: 1", "duration_h: 72").replace(
        "incidents_per_hour: 1", "incidents_per_hour: 600\n  profile: [" + "1, " * 23 + "1]"
    )  # 43,200 incidents of random demand
    text += "injects:\n"
    text += "  - {type: surge, at_min: 0, factor: 1.05, duration_min: 600}\n"  # +300
    text += "".join(
        "  - {type: call_burst, at_min: 5, card: fall, count: 500}\n" for _ in range(14)
    )
    path = write(folder, text)
    # 43,200 + 300 + 13 x 500 = 50,000: the fourteenth burst (injects.14) goes past it
    line = text.splitlines().index("injects:") + 1 + 15
    column = len("  - {type: call_burst, at_min: 5, card: fall, count: ") + 1
    assert problems_of(path, semantic=False) == [
        f"{path}:{line}:{column}: injects.14.count: about 50,500 incidents expected over the "
        "shift (600 an hour for 72 h: 43,200; surges, scripted calls and call bursts: 7,300 "
        "more): more than the 50,000 one shift may simulate; lower the demand or shorten the "
        "shift (got 500)"
    ]


def test_expected_incidents_follow_the_day_profile() -> None:
    data = copy.deepcopy(BASE)
    data["start"] = "10:00"
    data["demand"]["profile"] = [0.0] * 10 + [1.0] * 2 + [0.0] * 12  # 10:00 to 12:00 only
    data["demand"]["incidents_per_hour"] = 10
    scenario = model.Scenario.model_validate(data)
    # the mean of the profile is 1/12: the two busy hours run at 12 x 10 an hour
    assert scenario.expected_arrivals(0, 3600) == pytest.approx(120)
    assert scenario.expected_arrivals(3600 * 2, 3600 * 24) == pytest.approx(0)
    assert scenario.expected_arrivals(0, 3600 * 24) == pytest.approx(240)


def test_the_fleet_is_capped(folder: Path) -> None:
    groups = "".join("      - {type: DCA, count: 500}\n" for _ in range(10))
    text = edited("      - type: DCA\n        count: 2\n", groups)
    text += "injects:\n  - {type: crews, at_min: 5, station: Alpha, count: 1}\n"
    path = write(folder, text)
    line = len(text.splitlines())
    assert problems_of(path, semantic=False) == [
        f"{path}:{line}:53: injects.0.count: this makes 5001 vehicles (crews injects "
        "included): more than the 5000 a scenario may have (got 1)"
    ]


def test_scripted_callers_are_capped(folder: Path) -> None:
    bursts = "".join(
        "  - {type: call_burst, at_min: 5, card: fall, count: 100, callers: 50}\n"
        for _ in range(21)
    )
    path = write(folder, VALID + "injects:\n" + bursts)
    [line] = problems_of(path, semantic=False)
    column = bursts.index("callers: ") + len("callers: ") + 1
    assert line == (
        f"{path}:37:{column}: injects.20.callers: this makes 105000 people ringing about "
        "scripted calls and call bursts (a burst: count x callers): more than the 100000 a "
        "scenario may have (got 5000)"
    )


def _with(data: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    node: Any = data
    for step, following in zip(path, path[1:], strict=False):
        if isinstance(node, dict) and step not in node:
            node[step] = [] if isinstance(following, int) else {}
        node = node[step]
    node[path[-1]] = value
    return data


INJECT = {"at_min": 5}
BOUNDS: list[tuple[tuple[str | int, ...], Any, Any, str]] = [
    # (where, the largest value allowed, one too large, the start of the message)
    (("duration_h",), 72, 72.5, "less than or equal to 72"),
    (("seed",), 10**12, 10**12 + 1, "less than or equal to 1000000000000"),
    (("demand", "incidents_per_hour"), 2000, 2000.5, "less than or equal to 2000"),
    (("demand", "profile"), [1e6] * 24, [1e6] * 23 + [2e6], "less than or equal to 1000000"),
    (("demand", "category_mix", "C1"), 1e6, 1.5e6, "less than or equal to 1000000"),
    (("demand", "cards", "fall"), 1e6, 1.5e6, "less than or equal to 1000000"),
    (("demand", "area_weights", "Town"), 1e6, 1.5e6, "less than or equal to 1000000"),
    (("stations", 0, "vehicles", 0, "count"), 500, 501, "less than or equal to 500"),
    (("stations", 0, "xy"), [1e7, -1e7], [1e7, -2e7], "greater than or equal to -10000000"),
    (("hospitals", 0, "handover", "median_min"), 1440, 1441, "less than or equal to 1440"),
    (("hospitals", 0, "handover", "per_waiting_min"), 240, 241, "less than or equal to 240"),
    (("hospitals", 0, "handover", "sigma"), 3, 3.5, "less than or equal to 3"),
    (("hospitals", 0, "handover", "max_min"), 2880, 2881, "less than or equal to 2880"),
    (("control_room", "call_handlers"), 200, 201, "less than or equal to 200"),
    (("control_room", "dispatchers"), 100, 101, "less than or equal to 100"),
    (("control_room", "pickup_s"), [3600, 3600], [3, 3601], "less than or equal to 3600"),
    (("control_room", "ask_s"), 600, 601, "less than or equal to 600"),
    (("control_room", "wrap_up_s"), 3600, 3601, "less than or equal to 3600"),
    (("clinical_hub", "clinicians"), 100, 101, "less than or equal to 100"),
    (("clinical_hub", "callback_min"), 240, 241, "less than or equal to 240"),
    (("clinical_hub", "breach_min", "C2"), 1440, 1441, "less than or equal to 1440"),
    (("clinical_hub", "accuracy"), 1, 1.01, "less than or equal to 1"),
    (("clinical_hub", "referral_bounce"), 1, 1.01, "less than or equal to 1"),
    (("callers", "patience_s"), 604800, 604801, "less than or equal to 604800"),
    (("callers", "redial_s"), 604800, 604801, "less than or equal to 604800"),
    (("callers", "duplicate_factor"), 10, 11, "less than or equal to 10"),
    (("callers", "duplicate_window_s"), 604800, 604801, "less than or equal to 604800"),
    (("recontact", "delay_min"), [10080, 10080], [30, 10081], "less than or equal to 10080"),
    (("harm", "threshold_min", "C1"), 10080, 10081, "less than or equal to 10080"),
    (("job_times", "mobilise_s"), 3600, 3601, "less than or equal to 3600"),
    (("job_times", "on_scene_convey_min"), [1440, 1440], [35, 1441], "less than or equal to 1440"),
    (("job_times", "on_scene_see_and_treat_min"), [1, 1440], [1441, 1], "less than or equal to"),
    (("job_times", "on_scene_no_care_min"), [1, 1440], [1, 1441], "less than or equal to 1440"),
    (("job_times", "clearing_min"), 1440, 1441, "less than or equal to 1440"),
    (("costs", "dispatch"), 1e6, 1.5e6, "less than or equal to 1000000"),
    (("costs", "conveyance"), 1e6, 1.5e6, "less than or equal to 1000000"),
    (("costs", "hear_and_treat"), 1e6, 1.5e6, "less than or equal to 1000000"),
    (("costs", "call"), 1e6, 1.5e6, "less than or equal to 1000000"),
    (("scripted_calls",), [{"at_min": 4320, "card": "fall", "callers": 50}],
     [{"at_min": 4321, "card": "fall"}], "less than or equal to 4320"),
    (("scripted_calls",), [{"at_min": 5, "card": "fall", "callers": 50}],
     [{"at_min": 5, "card": "fall", "callers": 51}], "less than or equal to 50"),
    (("injects",), [{**INJECT, "type": "call_burst", "card": "fall", "count": 500,
                     "callers": 50, "over_min": 4320}],
     [{**INJECT, "type": "call_burst", "card": "fall", "count": 501}], "less than or equal to 500"),
    (("injects",), [{**INJECT, "type": "call_burst", "card": "fall", "over_min": 4320}],
     [{**INJECT, "type": "call_burst", "card": "fall", "over_min": 4321}], "less than or equal"),
    (("injects",), [{**INJECT, "type": "surge", "factor": 20, "duration_min": 10080}],
     [{**INJECT, "type": "surge", "factor": 2, "duration_min": 10081}], "less than or equal"),
    (("injects",), [{"at_min": 4320, "type": "hospital_diversion", "hospital": "General",
                     "duration_min": 10080}],
     [{"at_min": 4320.5, "type": "hospital_diversion", "hospital": "General"}],
     "less than or equal to 4320"),
    (("injects",), [{**INJECT, "type": "road_closure", "roads": ["High Street"],
                     "duration_min": 10080}],
     [{**INJECT, "type": "road_closure", "roads": ["High Street"], "duration_min": 1e300}],
     "less than or equal to 10080"),
    (("injects",), [{**INJECT, "type": "vehicle_breakdown", "vehicle": "V001",
                     "duration_min": 10080}],
     [{**INJECT, "type": "vehicle_breakdown", "vehicle": "V001", "duration_min": 10081}],
     "less than or equal to 10080"),
    (("injects",), [{**INJECT, "type": "crews", "station": "Alpha", "count": 100}],
     [{**INJECT, "type": "crews", "station": "Alpha", "count": 101}], "less than or equal to 100"),
    # lists
    (("learning_objectives",), ["o"] * 50, ["o"] * 51, "List should have at most 50 items"),
    (("stations", 0, "vehicles"), [{"type": "RRV"}] * 50, [{"type": "RRV"}] * 51,
     "List should have at most 50 items"),
    (("hospitals",), [{"name": f"H{i}", "xy": [0, 0]} for i in range(200)],
     [{"name": f"H{i}", "xy": [0, 0]} for i in range(201)], "List should have at most 200"),
    (("stations",), [{"name": f"S{i}", "xy": [0, 0], "vehicles": [{"type": "DCA"}]}
                     for i in range(500)],
     [{"name": f"S{i}", "xy": [0, 0], "vehicles": [{"type": "DCA"}]} for i in range(501)],
     "List should have at most 500 items"),
    (("scripted_calls",), [{"at_min": 1, "card": "fall"}] * 1000,
     [{"at_min": 1, "card": "fall"}] * 1001, "List should have at most 1000 items"),
    (("injects",), [{**INJECT, "type": "crews", "station": "Alpha"}] * 500,
     [{**INJECT, "type": "crews", "station": "Alpha"}] * 501, "List should have at most 500"),
    (("injects",), [{**INJECT, "type": "road_closure", "roads": ["High Street"]}] * 20,
     [{**INJECT, "type": "road_closure", "roads": ["High Street"]}] * 21,
     "more than 20 road closures: each one re-plans every route"),
    (("injects",), [{**INJECT, "type": "road_closure", "roads": ["High Street"] * 100}],
     [{**INJECT, "type": "road_closure", "roads": ["High Street"] * 101}], "at most 100 items"),
    (("injects",), [{**INJECT, "type": "road_closure", "polygon": [[0, 0], [1, 0], [1, 1]] * 333}],
     [{**INJECT, "type": "road_closure", "polygon": [[0, 0], [1, 0], [1, 1]] * 334}],
     "List should have at most 1000 items"),
    (("demand", "cards"), {f"card{i}": 1 for i in range(500)}, {f"card{i}": 1 for i in range(501)},
     "Dictionary should have at most 500 items"),
    (("demand", "area_weights"), {f"a{i}": 1 for i in range(1000)},
     {f"a{i}": 1 for i in range(1001)}, "Dictionary should have at most 1000 items"),
    # text
    (("stations", 0, "vehicles", 0, "callsign_prefix"), "P" * 20, "P" * 21,
     "String should have at most 20 characters"),
    (("learning_objectives",), ["o" * 1000], ["o" * 1001], "at most 1000 characters"),
    (("map",), "m" * 1000, "m" * 1001, "String should have at most 1000 characters"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("where", "largest", "too_large", "message"),
    BOUNDS,
    ids=[f"{'.'.join(map(str, b[0]))}-{i}" for i, b in enumerate(BOUNDS)],
)
def test_each_bound(
    folder: Path, where: tuple[str | int, ...], largest: Any, too_large: Any, message: str
) -> None:
    """The largest value allowed passes the form check; one beyond is refused at its place."""
    ok = write(folder, json.dumps(_with(BASE, where, largest)) + "\n", "ok.yaml")
    model.Scenario.model_validate(_with(BASE, where, largest))
    assert loader.validate_data(loader.load_yaml(ok), ok)
    bad = write(folder, json.dumps(_with(BASE, where, too_large)) + "\n", "bad.yaml")
    [line] = problems_of(bad, semantic=False)
    head = f"{bad}:1:"
    assert line.startswith(head), line
    column = int(line[len(head) :].split(":", 1)[0])
    where_text, text = line[len(head) :].split(": ", 2)[1:]
    assert where_text.startswith(".".join(str(step) for step in where)), line
    assert message in text, line
    assert column > 1  # at the value, not the top of the file


def _numbers(tp: Any, metadata: list[Any]) -> list[tuple[type, list[Any]]]:
    """(int or float, constraints) for every number a type holds, however nested."""
    extra = list(metadata)
    while get_origin(tp) is Annotated:
        args = get_args(tp)
        tp = args[0]
        for item in args[1:]:
            extra += getattr(item, "metadata", [item])
    origin = get_origin(tp)
    if origin in (Union, types.UnionType, list, tuple, dict):
        args = [a for a in get_args(tp) if a is not type(None) and a is not Ellipsis]
        if origin is dict:
            args = args[1:]
        inner = extra if origin in (Union, types.UnionType) else []  # a list's bounds are not
        return [found for arg in args for found in _numbers(arg, inner)]  # its items' bounds
    if tp in (int, float):
        return [(tp, extra)]
    return []


def _models() -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []

    def visit(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp in seen:
                return
            seen.append(tp)
            for field in tp.model_fields.values():
                visit(field.annotation)
        for arg in get_args(tp):
            visit(arg)

    visit(model.Scenario)
    return seen


def test_every_number_has_an_upper_bound() -> None:
    """A number without an upper bound is how 1e300 incidents an hour validated."""
    unbounded = []
    for cls in _models():
        for name, field in cls.model_fields.items():
            for _, constraints in _numbers(field.annotation, list(field.metadata)):
                if not any(isinstance(c, (Le, Lt)) for c in constraints):
                    unbounded.append(f"{cls.__name__}.{name}")
    assert not unbounded


def test_every_shipped_scenario_is_within_the_limits() -> None:
    for path in sorted(project_paths.SCENARIOS.glob("*.yaml")):
        loaded = load_scenario(path)
        scenario = loaded.scenario
        assert scenario.expected_arrivals(0, scenario.duration_s) < model.MAX_INCIDENTS / 10
        assert path.stat().st_size < loader.MAX_BYTES / 10
