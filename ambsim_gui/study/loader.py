"""Read a study file into a `Study`: its form validated, its variants expanded and each
variant's scenario written out and loaded like any scenario, every problem at ``file:line:col``.

A variant's scenario is the base scenario's YAML with the overrides written in, saved as
``DIR/variants/<id>/<base name>.yaml`` (the base's file name, because the event stream names
the scenario by it): ``python main.py run`` on that file plays the very shift the study played.
A problem in a variant (a value out of bounds, a path that leads nowhere) is reported at the
override in the study file that made it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from ambsim_gui import paths as project_paths
from ambsim_gui.calibration import seeds_for
from ambsim_gui.datafile import validation
from ambsim_gui.datafile.positions import item_position, key_position, value_position
from ambsim_gui.datafile.problems import DataFileError, Problem, listed, problem
from ambsim_gui.datafile.yamlfile import decode, parse_yaml, read_bytes
from ambsim_gui.fingerprint import code_fingerprint
from ambsim_gui.scenario.loader import REFERENCES, LoadedScenario, load_scenario, resolve_resource
from ambsim_gui.study.model import MAX_SHIFTS, StudyFile
from ambsim_gui.study.overrides import OverrideError, apply_override

STUDY_KIND = "study"


@dataclass(frozen=True)
class Variant:
    """One scenario variant: its overrides (path -> value, plain data) and where they came from."""

    id: str  # 12 hex digits of the overrides' hash: the variant's folder
    label: str
    overrides: dict[str, Any]
    positions: dict[str, tuple[int, int]]  # path -> 0-based place in the study file
    scenario_path: Path | None = None  # the variant's scenario file, once written
    scenario_sha256: str = ""


@dataclass(frozen=True)
class ShiftTask:
    """One shift of a study: plain data, so that a process pool or a cluster can carry it."""

    key: str  # what identifies the shift's result: scenario text, policy, seed, hours, code
    variant: str  # Variant.id
    label: str
    overrides: str  # JSON
    policy: str
    seed: int
    hours: float | None
    scenario_path: str
    scenario_sha256: str


@dataclass(frozen=True)
class Study:
    path: Path
    spec: StudyFile
    base: LoadedScenario
    variants: list[Variant]
    seeds: list[int]

    def shifts(self) -> list[ShiftTask]:
        """Every shift, variant by variant, seed by seed, policy by policy."""
        out = []
        code = code_fingerprint()
        for variant in self.variants:
            assert variant.scenario_path is not None
            for seed in self.seeds:
                for policy in self.spec.policies:
                    key = hashlib.sha256(
                        json.dumps(
                            [variant.scenario_sha256, policy, seed, self.spec.hours, code]
                        ).encode()
                    ).hexdigest()
                    out.append(
                        ShiftTask(
                            key=key,
                            variant=variant.id,
                            label=variant.label,
                            overrides=json.dumps(variant.overrides, sort_keys=False),
                            policy=policy,
                            seed=seed,
                            hours=self.spec.hours,
                            scenario_path=str(variant.scenario_path),
                            scenario_sha256=variant.scenario_sha256,
                        )
                    )
        return out


def _plain(value: Any) -> Any:
    """ruamel's tree as plain JSON-able data (for keys, labels and the table)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def variant_label(overrides: dict[str, Any], name: str | None = None) -> str:
    if name:
        return name
    if not overrides:
        return "base"
    return ", ".join(f"{path}={_show(value)}" for path, value in overrides.items())


def variant_id(overrides: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(overrides).encode()).hexdigest()[:12]


def expand_variants(spec: StudyFile, data: CommentedMap) -> list[Variant]:
    """The grid's every combination, each with every hand-made variant (or the base alone)."""
    grid = data.get("grid") or {}
    axes = []
    for path, values in spec.grid.items():
        axes.append(
            [
                (path, _plain(v), item_position(grid[path], i) or value_position(grid, path))
                for i, v in enumerate(values)
            ]
        )
    points = list(itertools.product(*axes)) if axes else [()]
    hand: list[tuple[str | None, list[tuple[str, Any, tuple[int, int] | None]]]] = []
    for j, spec_variant in enumerate(spec.variants):
        node = data["variants"][j]["set"]
        hand.append(
            (
                spec_variant.name,
                [
                    (path, _plain(v), value_position(node, path) or key_position(node, path))
                    for path, v in spec_variant.set.items()
                ],
            )
        )
    if not hand:
        hand = [(None, [])]
    # a grid path with one value is the same in every variant: said once, not in every label
    varying = {path for path, values in spec.grid.items() if len(values) > 1} or set(spec.grid)
    out: list[Variant] = []
    seen: set[str] = set()
    for name, settings in hand:
        for point in points:
            items = [*settings, *point]
            overrides = {path: value for path, value, _ in items}
            positions = {path: pos or (0, 0) for path, _, pos in items}
            shown = {p: v for p, v, _ in point if p in varying}
            if name is None:
                label = variant_label({p: v for p, v, _ in settings} | shown)
            else:
                label = f"{name}; {variant_label(shown)}" if shown else name
            vid = variant_id(overrides)
            if vid in seen:
                continue
            seen.add(vid)
            out.append(Variant(vid, label, overrides, positions))
    return out


def _base_path(study_path: Path, ref: str) -> Path:
    given = Path(ref)
    if not given.is_absolute():
        local = study_path.resolve().parent / given
        if local.exists():
            return local
        shipped = project_paths.SCENARIOS / (ref if given.suffix else f"{ref}.yaml")
        if shipped.is_file():
            return shipped
        return local
    return given


def _keep_references(tree: CommentedMap, base: LoadedScenario, target: Path) -> None:
    """Point the variant at the base's map, protocol and cards from its own folder."""
    resolved = {"map": base.map_path, "protocol": base.protocol_path, "cards": base.cards_path}
    for key, kind in REFERENCES:
        ref = tree.get(key)
        if not isinstance(ref, str) or resolved[key] is None:
            continue
        try:
            same = resolve_resource(target, ref, kind) == resolved[key]
        except DataFileError:
            same = False
        if not same:
            tree[key] = str(resolved[key])


def _attribute(variant: Variant, found: Problem, name: str) -> Problem:
    """A problem in a variant's scenario, told at the override that made it."""
    where = found.where
    chosen = next(iter(variant.positions), None)
    for path in variant.positions:
        head = path.split(".")[0].split("[")[0]
        if where == head or where.startswith(head + ".") or where.startswith(head + "["):
            chosen = path
            break
    if chosen is None:  # the base itself
        return found
    line0, col0 = variant.positions[chosen]
    value = _show(variant.overrides[chosen])
    return problem(name, line0, col0, chosen, f"with {value}: {where}: {found.message}")


def _write_variant(
    variant: Variant, base: LoadedScenario, out_dir: Path, name: str
) -> tuple[Variant, list[Problem]]:
    tree = parse_yaml(base.text, str(base.path))  # a fresh copy of the base, comments and all
    problems: list[Problem] = []
    for path, value in variant.overrides.items():
        try:
            apply_override(tree, path, value)
        except OverrideError as exc:
            line0, col0 = variant.positions[path]
            problems.append(problem(name, line0, col0, path, str(exc)))
    if problems:
        return variant, problems
    folder = out_dir / "variants" / variant.id
    target = folder / base.path.name
    _keep_references(tree, base, target)
    # JSON is YAML too, and quotes every string: "18:00" stays a clock time for any reader
    text = (
        f"# ambsim study variant of {base.path.name}: {variant.label}\n"
        + json.dumps(_plain(tree), indent=2)
        + "\n"
    )
    folder.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        tmp = target.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    try:
        loaded = load_scenario(target)
    except DataFileError as exc:
        return variant, [_attribute(variant, p, name) for p in exc.problems]
    return (
        Variant(
            variant.id,
            variant.label,
            variant.overrides,
            variant.positions,
            scenario_path=target,
            scenario_sha256=loaded.sha256,
        ),
        [],
    )


def load_study(path: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> Study:
    """Validate the study file and write its variants' scenarios under ``out_dir``.

    Raises DataFileError with every problem: the study file's own (its form, an override that
    leads nowhere or makes a wrong scenario) at its line and column, the base scenario's at
    the base's."""
    name = os.fspath(path)
    study_path = Path(path)
    text = decode(read_bytes(study_path, name, STUDY_KIND), name)
    data = parse_yaml(text, name, STUDY_KIND)
    spec = validation.validate_data(data, name, StudyFile)
    base_ref = Path(spec.scenario)
    base_path = _base_path(study_path, spec.scenario)
    try:
        base = load_scenario(base_path)
    except DataFileError as exc:
        if base_path.exists():
            raise
        line0, col0 = value_position(data, "scenario") or (0, 0)
        raise DataFileError(
            [problem(name, line0, col0, "scenario", f"no scenario {str(base_ref)!r}: {exc}")]
        ) from None
    variants = expand_variants(spec, data)
    seeds = seeds_for(base, spec.seeds) if isinstance(spec.seeds, int) else list(spec.seeds)
    seeds = list(dict.fromkeys(seeds))
    shifts = len(variants) * len(seeds) * len(spec.policies)
    if shifts > MAX_SHIFTS:
        raise DataFileError(
            [problem(name, 0, 0, "(root)", f"{shifts} shifts; at most {MAX_SHIFTS} in a study")]
        )
    for chart in spec.charts:
        if chart.x is not None and chart.x not in spec.grid:
            index = spec.charts.index(chart)
            line0, col0 = value_position(data["charts"][index], "x") or (0, 0)
            raise DataFileError(
                [problem(name, line0, col0, f"charts.{index}.x", f"{chart.x!r} is not a grid path")]
            )
    out = Path(out_dir)
    written: list[Variant] = []
    problems: list[Problem] = []
    for variant in variants:
        done, found = _write_variant(variant, base, out, name)
        written.append(done)
        problems += found
    if problems:
        raise DataFileError(listed(name, sorted(problems, key=lambda p: (p.line, p.col))))
    return Study(study_path.resolve(), spec, base, written, seeds)
