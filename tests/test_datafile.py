"""The one loading path: every kind of data file reports a problem the same way, versions
migrate, and JSON positions are found where the author has to look."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ambsim_gui.datafile import DataFileError
from ambsim_gui.datafile.jsonfile import json_position
from ambsim_gui.datafile.versions import SchemaVersions
from ambsim_gui.geo.mapfile import dumps_map, load_map
from ambsim_gui.paths import MAPS, RESOURCES, SCENARIOS
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.triage.cards import CardLibrary
from ambsim_gui.triage.protocol import Protocol

LOCATED = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): (?P<where>\S+): (?P<what>.+)$")


def only_problem_line(exc: DataFileError, where: str | None = None) -> re.Match[str]:
    """The first line of the error (the first one at ``where``), each line checked."""
    lines = str(exc).splitlines()
    assert lines, exc
    matches = [LOCATED.match(line) for line in lines]
    assert all(matches), lines
    chosen = [m for m in matches if m is not None and where in (None, m["where"])]
    assert chosen, lines
    return chosen[0]


# ------------------------------------------------------------------ one error, one format


def test_every_kind_of_file_reports_file_line_col_where_what(tmp_path: Path) -> None:
    """A misspelt key in a scenario, a protocol, a call card, and a bad value in a map: one
    error type, one message format, each at the line the mistake is on."""
    scenario = (SCENARIOS / "default.yaml").read_text(encoding="utf-8")
    assert "\nseed:" in scenario
    bad_scenario = tmp_path / "s.yaml"
    bad_scenario.write_text(scenario.replace("\nseed:", "\nsede:", 1), encoding="utf-8")
    seed_line = scenario[: scenario.index("\nseed:") + 1].count("\n") + 1

    protocol = (RESOURCES / "triage" / "protocol.yaml").read_text(encoding="utf-8")
    bad_protocol = tmp_path / "protocol.yaml"
    bad_protocol.write_text(protocol.replace("\nquestions:", "\nquestoins:", 1), encoding="utf-8")
    questions_line = protocol[: protocol.index("\nquestions:") + 1].count("\n") + 1

    cards = tmp_path / "cards"
    cards.mkdir()
    card = (RESOURCES / "cards" / "chest_pain.yaml").read_text(encoding="utf-8")
    assert "\nweight:" in card
    (cards / "chest_pain.yaml").write_text(card.replace("\nweight:", "\nwieght:", 1), "utf-8")
    weight_line = card[: card.index("\nweight:") + 1].count("\n") + 1

    obj = json.loads((MAPS / "county.json").read_text(encoding="utf-8"))
    obj["edges"]["speed_kph"][3] = -4
    bad_map = tmp_path / "m.json"
    bad_map.write_text(json.dumps(obj, indent=1), encoding="utf-8")

    found: dict[str, re.Match[str]] = {}
    for kind, where, load in (
        ("scenario", "sede", lambda: load_scenario(bad_scenario, semantic=False)),
        ("protocol", "questoins", lambda: Protocol.load(bad_protocol)),
        ("card", "wieght", lambda: CardLibrary.load(cards)),
        ("map", "edges.speed_kph.3", lambda: load_map(bad_map)),
    ):
        with pytest.raises(DataFileError) as info:
            load()
        found[kind] = only_problem_line(info.value, where)

    assert (found["scenario"]["where"], int(found["scenario"]["line"])) == ("sede", seed_line)
    assert "did you mean 'seed'" in found["scenario"]["what"]
    assert found["protocol"]["where"] == "questoins"
    assert int(found["protocol"]["line"]) == questions_line
    assert (found["card"]["where"], int(found["card"]["line"])) == ("wieght", weight_line)
    assert "did you mean 'weight'" in found["card"]["what"]
    assert found["map"]["where"] == "edges.speed_kph.3"
    text = bad_map.read_text(encoding="utf-8").split("\n")
    line, col = int(found["map"]["line"]), int(found["map"]["col"])
    assert text[line - 1][col - 1 :].startswith("-4")


def test_a_missing_file_is_the_same_error_for_every_kind(tmp_path: Path) -> None:
    missing = tmp_path / "nothing"
    for load in (
        lambda: load_scenario(missing.with_suffix(".yaml")),
        lambda: Protocol.load(missing.with_suffix(".yaml")),
        lambda: CardLibrary.load(missing),
        lambda: load_map(missing.with_suffix(".json")),
    ):
        with pytest.raises(DataFileError) as info:
            load()
        match = only_problem_line(info.value)
        assert (match["line"], match["col"], match["where"]) == ("1", "1", "(file)")


# ------------------------------------------------------------------ schema_version


def _steps() -> tuple[SchemaVersions, list[int]]:
    done: list[int] = []

    def v1(data: Any) -> None:
        done.append(1)
        data["b"] = data.pop("a")

    def v2(data: Any) -> None:
        done.append(2)
        data["c"] = data.pop("b")

    return SchemaVersions("thing", current=3, migrations={1: v1, 2: v2}, legacy_key="ver"), done


def test_migrations_run_in_order_from_the_written_version() -> None:
    versions, done = _steps()
    data: dict[str, Any] = {"schema_version": 1, "a": 5}
    assert versions.upgrade(data, "f") == 1
    assert data == {"schema_version": 3, "c": 5} and done == [1, 2]
    data = {"schema_version": 2, "b": 6}
    done.clear()
    assert versions.upgrade(data, "f") == 2
    assert data == {"schema_version": 3, "c": 6} and done == [2]


def test_an_older_version_key_is_read_and_replaced() -> None:
    versions, _ = _steps()
    data: dict[str, Any] = {"ver": 1, "a": 1}
    versions.upgrade(data, "f")
    assert data == {"schema_version": 3, "c": 1}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "missing: a thing file says which format it is written in, 'schema_version: 3'"),
        ({"schema_version": "3"}, "must be a whole number (3 for this version of ambsim)"),
        ({"schema_version": True}, "must be a whole number"),
        ({"schema_version": 4}, "thing format 4 is newer than this ambsim"),
        ({"schema_version": 0}, "thing format 0 is too old for this ambsim, which reads 1 to 3"),
    ],
)
def test_unreadable_versions_are_refused_with_what_to_do(
    data: dict[str, Any], message: str
) -> None:
    versions, done = _steps()
    with pytest.raises(DataFileError) as info:
        versions.upgrade(data, "f.yaml", lambda path: (4, 2))
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.col, problem.where) == (
        "f.yaml",
        5,
        3,
        "schema_version",
    )
    assert message in problem.message
    assert done == []


def test_a_newer_scenario_is_refused_before_its_other_keys_are_judged(tmp_path: Path) -> None:
    text = (SCENARIOS / "default.yaml").read_text(encoding="utf-8")
    path = tmp_path / "future.yaml"
    path.write_text(
        text.replace("schema_version: 1", "schema_version: 2", 1) + "new_key: 1\n", "utf-8"
    )
    with pytest.raises(DataFileError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert problem.where == "schema_version"
    assert "scenario format 2 is newer than this ambsim" in problem.message


def test_every_shipped_file_is_written_in_the_current_format() -> None:
    for card in sorted((RESOURCES / "cards").glob("*.yaml")):
        assert "\nschema_version: 2\n" in "\n" + card.read_text(encoding="utf-8"), card
    for scenario in sorted(SCENARIOS.glob("*.yaml")):
        assert "\nschema_version: 1\n" in "\n" + scenario.read_text(encoding="utf-8"), scenario
    for path in sorted(MAPS.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        assert '\n"schema_version":2,\n' in text, path
        assert dumps_map(load_map(path)) == text


# ------------------------------------------------------------------ JSON positions


def test_json_position_walks_to_the_value() -> None:
    obj = {"a": {"b": [10, {"c": "x"}, 30]}, "d": [1, 2]}
    text = json.dumps(obj, indent=2)
    lines = text.split("\n")

    def at(path: list[str | int]) -> str:
        line0, col0 = json_position(text, path)
        return lines[line0][col0:]

    assert at(["a", "b", 2]).startswith("30")
    assert at(["a", "b", 1, "c"]).startswith('"x"')
    assert at(["d", 1]).startswith("2")
    assert at(["a", "nope"]).startswith("{")  # stops at the last value found
    assert json_position(text, []) == (0, 0)
