"""Read a scenario file into a validated `Scenario`, every error located at `file:line:col`.

The file goes through the one loading path of :mod:`ambsim_gui.datafile`: read within its
limits, parsed with ruamel's round-trip loader (which remembers the line and column of every key
and value), its ``schema_version`` checked and migrated, and validated by pydantic with each
error walked back to the place the author has to fix. The files a scenario refers to (map,
triage protocol, call cards) are resolved here too, and only inside the scenario's own folder or
the project's ``resources/`` and ``scenarios/`` folders.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, overload

from pydantic import BaseModel
from ruamel.yaml.comments import CommentedMap

from ambsim_gui import paths as project_paths
from ambsim_gui.datafile import validation
from ambsim_gui.datafile.limits import MAX_BYTES, MAX_NODES
from ambsim_gui.datafile.positions import position_of, value_position
from ambsim_gui.datafile.problems import MAX_PROBLEMS, Unlisted, listed
from ambsim_gui.datafile.versions import SchemaVersions
from ambsim_gui.datafile.yamlfile import check_limits, decode, load_yaml, parse_yaml, read_bytes
from ambsim_gui.scenario.errors import Problem, ScenarioError
from ambsim_gui.scenario.model import Scenario

__all__ = [
    "MAX_BYTES",
    "MAX_NODES",
    "MAX_PROBLEMS",
    "SCENARIO_VERSIONS",
    "LoadedScenario",
    "SCHEMA_ID",
    "check_limits",
    "json_schema",
    "load_scenario",
    "load_yaml",
    "resolve_resource",
    "validate_data",
    "validate_files",
    "warning_line",
]

M = TypeVar("M", bound=BaseModel)

SCHEMA_ID = "https://ambsim.invalid/scenario.schema.json"
SCENARIO_VERSIONS = SchemaVersions("scenario", current=1)
"""Scenario files: format 1 is the only one so far; a format 2 adds its step here."""

RESOURCE_KINDS: dict[str, str] = {"maps": "map", "triage": "protocol", "cards": "cards"}
"""Resource kind -> the scenario key that refers to a resource of that kind."""
REFERENCES: tuple[tuple[str, str], ...] = (
    ("map", "maps"),
    ("protocol", "triage"),
    ("cards", "cards"),
)
"""Scenario key -> resource kind, for the references :func:`load_scenario` checks."""


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with the file it came from and the files it refers to."""

    scenario: Scenario
    path: Path
    """Absolute path of the scenario file."""
    text: str
    """The file's exact text."""
    sha256: str
    """Hex SHA-256 of the file's bytes; a recording names the scenario it was played with."""
    map_path: Path
    protocol_path: Path | None = None
    """None when the scenario uses the shipped protocol."""
    cards_path: Path | None = None
    """None when the scenario uses the shipped call cards."""
    warnings: tuple[Problem, ...] = ()
    """Semantic warnings (``scenario.semantic``): the shift runs, maybe not as the author meant."""


@overload
def validate_data(data: Any, path: str | os.PathLike[str]) -> Scenario: ...


@overload
def validate_data(data: Any, path: str | os.PathLike[str], model: type[M]) -> M: ...


def validate_data(
    data: Any, path: str | os.PathLike[str], model: type[BaseModel] = Scenario
) -> BaseModel:
    """Validate loaded YAML against ``model`` (default: a scenario); every error located.

    ``data`` is normally what :func:`load_yaml` returned; plain python works too, with every
    problem at 1:1. Raises ScenarioError with all problems, sorted by line and column.
    """
    return validation.validate_data(data, path, model)


# --------------------------------------------------------------------------- resources


def _resource_candidates(scenario_dir: Path, ref: str, kind: str) -> list[Path]:
    names = [ref]
    if kind == "maps" and not Path(ref).suffix:
        names.append(ref + ".json")
    if Path(ref).is_absolute():
        return [Path(n) for n in names]
    bases = [scenario_dir, project_paths.RESOURCES / kind]
    return [base / n for base in bases for n in names]


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def resolve_resource(
    scenario_path: Path,
    ref: str,
    kind: str,
    *,
    line: int = 1,
    col: int = 1,
    file: str | None = None,
) -> Path:
    """Resolve a file named inside a scenario (``map: county``) to an existing, allowed path.

    Tried relative to the scenario's folder first, then under ``resources/<kind>``; a map name
    without a suffix also tries ``.json``. The result, with symlinks and ``..`` resolved, must lie
    inside the scenario's folder, ``resources/`` or ``scenarios/``; anything else is refused.
    ``kind`` is one of ``maps``, ``triage``, ``cards``. Problems are reported at ``line``:``col``
    of ``file`` (default: the scenario path), under the key that holds the reference.
    """
    if kind not in RESOURCE_KINDS:
        raise ValueError(
            f"unknown resource kind {kind!r}; expected one of {sorted(RESOURCE_KINDS)}"
        )
    where = RESOURCE_KINDS[kind]
    name = file if file is not None else os.fspath(scenario_path)

    def refuse(message: str) -> ScenarioError:
        return ScenarioError([Problem(name, max(1, line), max(1, col), where, message)])

    if not ref.strip():
        raise refuse(f"{where} is empty")
    if "\0" in ref:
        raise refuse(f"{where} {ref!r} is not a usable file name")
    try:
        scenario_dir = Path(scenario_path).resolve().parent
        roots = [
            scenario_dir,
            Path(project_paths.RESOURCES).resolve(),
            Path(project_paths.SCENARIOS).resolve(),
        ]
        outside = False
        wrong_type: Path | None = None
        for candidate in _resource_candidates(scenario_dir, ref, kind):
            resolved = candidate.resolve()
            if not _inside(resolved, roots):
                outside = True
                continue
            if resolved.is_file() or (kind == "cards" and resolved.is_dir()):
                return resolved
            if resolved.exists() and wrong_type is None:
                wrong_type = resolved
    except (OSError, RuntimeError, ValueError) as exc:
        raise refuse(f"{where} {ref!r} cannot be used: {exc}") from None
    if outside:
        raise refuse(
            f"{ref!r} is outside the allowed folders (the scenario's folder, resources/, "
            "scenarios/)"
        )
    if wrong_type is not None:
        raise refuse(f"{ref!r} is a folder, not a file")
    what = {"maps": "map file", "triage": "protocol file", "cards": "call cards"}[kind]
    raise refuse(f"{what} {ref!r} not found next to the scenario or in resources/{kind}/")


# --------------------------------------------------------------------------- the whole file


def load_scenario(path: str | os.PathLike[str], *, semantic: bool = True) -> LoadedScenario:
    """Read, validate and resolve a scenario file; ScenarioError lists every problem found.

    With ``semantic`` (the default) the scenario is also checked against its map, call cards and
    itself (:mod:`ambsim_gui.scenario.semantic`): semantic errors raise like schema errors, and
    semantic warnings come back in ``LoadedScenario.warnings``.
    """
    name = os.fspath(path)
    loaded, data = _load_form(path, name)
    if not semantic:
        return loaded
    errors, warned = _semantic_problems(loaded, data, name)
    if errors:
        raise ScenarioError(errors)
    return dataclasses.replace(loaded, warnings=tuple(warned))


def _load_form(path: str | os.PathLike[str], name: str) -> tuple[LoadedScenario, CommentedMap]:
    """The file read, validated and its references resolved; with the YAML, for positions."""
    file_path = Path(path)
    raw = read_bytes(file_path, name)
    text = decode(raw, name)
    data = parse_yaml(text, name)
    SCENARIO_VERSIONS.upgrade(data, name, lambda path: position_of(data, path))
    problems: list[Problem] = []
    scenario: Scenario | None = None
    try:
        scenario = validate_data(data, name)
    except ScenarioError as exc:
        problems += exc.problems
    resolved: dict[str, Path] = {}
    for key, kind in REFERENCES:
        ref = data.get(key)
        if not isinstance(ref, str) or (scenario is None and not _usable_text(ref)):
            continue  # absent, or a wrong value that validation has reported
        line0, col0 = value_position(data, key) or (0, 0)
        try:
            resolved[key] = resolve_resource(
                file_path, str(ref), kind, line=line0 + 1, col=col0 + 1, file=name
            )
        except ScenarioError as exc:
            problems += exc.problems
    if problems or scenario is None:
        raise ScenarioError(listed(name, problems))
    loaded = LoadedScenario(
        scenario=scenario,
        path=file_path.resolve(),
        text=text,
        sha256=hashlib.sha256(raw).hexdigest(),
        map_path=resolved["map"],
        protocol_path=resolved.get("protocol"),
        cards_path=resolved.get("cards"),
    )
    return loaded, data


def _usable_text(ref: str) -> bool:
    """A reference worth resolving while the file has other problems: short, encodable text."""
    return len(ref) <= 1000 and ref.isprintable()


def _semantic_problems(
    loaded: LoadedScenario, data: CommentedMap, name: str
) -> tuple[list[Problem], list[Problem]]:
    """Semantic (errors, warnings), reported under the file name the caller used; each list
    at most MAX_PROBLEMS long, with one more line counting the rest."""
    from ambsim_gui.scenario.semantic import check_semantics  # it imports this module

    errors, warned = check_semantics(loaded, data)
    return (
        listed(name, [dataclasses.replace(p, file=name) for p in errors]),
        listed(name, [dataclasses.replace(p, file=name) for p in warned]),
    )


def warning_line(problem: Problem) -> str:
    """A warning as ``validate`` prints it: ``file:line:col: where: warning: message``."""
    where = f"{problem.file}:{problem.line}:{problem.col}: {problem.where}"
    return f"{where}: warning: {problem.message}"


def validate_files(paths: list[str]) -> tuple[int, list[str]]:
    """Check scenario files for ``main.py validate``: (exit code, output lines).

    Every file is checked and its problems listed (up to MAX_PROBLEMS), one per line: schema and
    semantic errors as ``file:line:col: where: message``, semantic warnings as
    ``file:line:col: where: warning: message``. The exit code is 1 when any file has an error;
    warnings alone leave it 0.
    """
    if not paths:
        return 1, ["validate: no files given"]
    lines: list[str] = []
    bad = 0
    warned_total = 0
    for name in paths:
        try:
            loaded, data = _load_form(name, name)
            errors, warned = _semantic_problems(loaded, data, name)
        except ScenarioError as exc:
            bad += 1
            lines += [str(problem) for problem in exc.problems]
            continue
        warned_total += sum(p.count if isinstance(p, Unlisted) else 1 for p in warned)
        found = [(p, str(p)) for p in errors] + [(p, warning_line(p)) for p in warned]
        found.sort(key=lambda item: (item[0].line, item[0].col, item[1]))
        lines += [line for _, line in found]
        if errors:
            bad += 1
        else:
            lines.append(f"{name}: ok ({loaded.scenario.name!r})")
    files = "file" if len(paths) == 1 else "files"
    summary = f"{len(paths)} {files} checked, {bad} with problems"
    if warned_total:
        summary += f", {warned_total} warning{'' if warned_total == 1 else 's'}"
    lines.append(summary)
    return (1 if bad else 0), lines


def json_schema() -> dict[str, Any]:
    """The scenario file's JSON Schema, for editors that complete and check YAML."""
    schema = Scenario.model_json_schema()
    schema["title"] = "ambsim scenario"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
