"""Whatever ``validate`` accepts runs: seeded mutants of every shipped scenario.

Each shipped scenario is mutated at random (fixed seeds, so the run is the same every time):
numbers pushed to extremes (0, negative, 1e300, NaN, infinity, huge integers), text turned into
lone surrogates, control characters, nothing or 10,000 characters, keys deleted, list items
duplicated, values swapped for values of another type, injects and scripted calls added. Each
mutant is checked with ``validate_files`` (what ``python main.py validate`` runs); one it accepts
must then run without an exception and within a bounded number of engine events and simpy steps.
A mutant it refuses must be refused with located problems only (never a crash).

The mutator is also what a longer campaign outside the suite runs (thousands of mutants, each in
a subprocess with a timeout): ``mutants()`` and ``to_yaml()`` are its building blocks.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from ambsim_gui import paths as project_paths
from ambsim_gui.assess.report_text import format_kpi_table
from ambsim_gui.headless import run_scenario
from ambsim_gui.scenario.loader import validate_files

SCENARIOS = sorted(project_paths.SCENARIOS.glob("*.yaml"))

MUTANTS_PER_SCENARIO = 24
"""9 scenarios x 24: about 220 mutants, about a third of them accepted and run."""
RUN_HOURS = 0.5
"""Simulated time each accepted mutant runs for (the London-scale day: 10 minutes)."""
METRO_RUN_HOURS = 1 / 6
MAX_ENGINE_EVENTS = 2_000_000
"""More than any shift the limits allow can emit in half an hour (a London-scale day emits about
120,000 events in 24 hours; 50,000 incidents, the most a shift may expect, about 1.3 million):
past it, the run would not have ended."""
MAX_SIMPY_STEPS = 20_000_000

# --------------------------------------------------------------------------- YAML out


def _quote(text: str) -> str:
    """A YAML double-quoted scalar for any Python string, lone surrogates included."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F or 0x80 <= code <= 0x9F:
            out.append(f"\\x{code:02x}")
        elif 0xD800 <= code <= 0xDFFF or code in (0xFEFF, 0xFFFE, 0xFFFF):
            out.append(f"\\u{code:04x}")
        elif code in (0x2028, 0x2029):
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def to_yaml(value: Any) -> str:
    """Flow-style YAML 1.2 for plain data, with ``.nan`` and ``.inf`` for the odd floats."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{to_yaml(k)}: {to_yaml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(to_yaml(v) for v in value) + "]"
    return _quote(str(value))


# --------------------------------------------------------------------------- mutations

NUMBERS: list[Any] = [
    0, -1, -0.0, 0.5, 1, 2, 23, 59, 1440, 10080, 100_000, 10**6, 10**9, 2**31, 2**63,
    2**64, 10**30, -(10**30), 10**400, 1e-300, 1e300, -1e300, 1e308, float("nan"),
    float("inf"), float("-inf"),
]  # fmt: skip
STRINGS: list[str] = [
    "", " ", "\ud800", "a\udfffb", "x" * 10_000, "\x00", "bell\x07", "tab\there", "new\nline",
    "\u202egnp", "next\x85line", "\ufeffbom", "caf\u00e9", "\U0001f691", "00:00", "23:59",
    "24:00", "7:5", "C1", "C9", "county", "metropolitan", "../../etc/passwd", "default.yaml",
    "protocol.yaml", "DCA", "RRV", "ed", "utc", "fall", "chest_pain", "Casterbridge",
]  # fmt: skip
INJECT_TEMPLATES: list[dict[str, Any]] = [
    {"type": "call_burst", "at_min": 5, "card": "rtc", "count": 20, "callers": 5, "over_min": 3},
    {"type": "surge", "at_min": 1, "factor": 3, "duration_min": 60},
    {"type": "hospital_diversion", "at_min": 2, "hospital": "?", "duration_min": 30},
    {"type": "road_closure", "at_min": 3, "polygon": [[0, 0], [5000, 0], [5000, 5000]]},
    {"type": "vehicle_breakdown", "at_min": 4, "vehicle": "V001", "duration_min": 20},
    {"type": "crews", "at_min": 6, "station": "?", "count": 3},
    {"type": "crews", "at_min": 7, "station": "?", "count": 2, "on_duty": False},
]
CALL_TEMPLATE: dict[str, Any] = {"at_min": 2, "card": "fall", "callers": 3}


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _nodes(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _nodes(item, (*path, i))


def _set(root: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    node = root
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return root


def _names(data: dict[str, Any], key: str) -> list[str]:
    items = data.get(key)
    if not isinstance(items, list):
        return []
    return [str(x["name"]) for x in items if isinstance(x, dict) and "name" in x]


def mutate(data: dict[str, Any], rng: random.Random) -> tuple[Any, list[str]]:
    """``data`` changed by one to three random edits; and what was done, for a failure message."""
    data = copy.deepcopy(data)
    done: list[str] = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        nodes = list(_nodes(data))
        op = rng.choice(
            ["number", "number", "number", "scale", "string", "string", "delete", "duplicate",
             "swap", "splice", "inject", "inject", "call", "flip"]
        )  # fmt: skip
        if op in ("number", "scale"):
            numbers = [
                (p, v) for p, v in nodes if isinstance(v, (int, float)) and not isinstance(v, bool)
            ]
            if not numbers:
                continue
            path, old = rng.choice(numbers)
            if op == "number":
                new = rng.choice(NUMBERS)
            else:
                factor = rng.choice((10, 100, 1000, 10**6, 0.1, 0.001, -1))
                try:
                    new = old * factor
                except OverflowError:
                    new = float("inf")
            data = _set(data, path, new)
            done.append(f"{op} {path}: {old!r} -> {new!r}")
        elif op == "string":
            strings = [(p, v) for p, v in nodes if isinstance(v, str)]
            keyed = [p for p, v in nodes if isinstance(v, dict) and v]
            if strings and (not keyed or rng.random() < 0.8):
                path, old = rng.choice(strings)
                new = rng.choice(STRINGS + [v for _, v in strings])
                data = _set(data, path, new)
                done.append(f"string {path}: {old[:20]!r} -> {new[:20]!r}")
            elif keyed:  # a weird key
                path = rng.choice(keyed)
                parent = _get(data, path)
                old_key = rng.choice(list(parent))
                new_key = rng.choice(STRINGS)
                parent[new_key] = parent.pop(old_key)
                done.append(f"key {path}: {old_key!r} -> {new_key[:20]!r}")
        elif op == "delete":
            mappings = [(p, v) for p, v in nodes if isinstance(v, dict) and v]
            path, node = rng.choice(mappings)
            key = rng.choice(list(node))
            del node[key]
            done.append(f"delete {(*path, key)}")
        elif op == "duplicate":
            lists = [(p, v) for p, v in nodes if isinstance(v, list) and v]
            if not lists:
                continue
            path, node = rng.choice(lists)
            times = rng.choice((1, 1, 2, 10, 50))
            item = rng.choice(node)
            node.extend(copy.deepcopy(item) for _ in range(times))
            done.append(f"duplicate {path} x{times}")
        elif op == "swap":
            path, old = rng.choice(nodes[1:])
            new = rng.choice([None, True, "x", 7, 2.5, [], {}, [old], {"a": old}])
            data = _set(data, path, copy.deepcopy(new))
            done.append(f"swap {path} -> {type(new).__name__}")
        elif op == "splice":
            (path, _), (_, other) = rng.choice(nodes[1:]), rng.choice(nodes[1:])
            data = _set(data, path, copy.deepcopy(other))
            done.append(f"splice {path}")
        elif op == "inject":
            inject = copy.deepcopy(rng.choice(INJECT_TEMPLATES))
            if inject.get("hospital") == "?":
                inject["hospital"] = rng.choice(_names(data, "hospitals") or ["?"])
            if inject.get("station") == "?":
                inject["station"] = rng.choice(_names(data, "stations") or ["?"])
            key = rng.choice([k for k in inject if k != "type"])
            if rng.random() < 0.7:
                inject[key] = rng.choice(NUMBERS + STRINGS[:6])
            if not isinstance(data.get("injects"), list):
                data["injects"] = []
            data["injects"].append(inject)
            done.append(f"inject {inject['type']} {key}={str(inject[key])[:20]!r}")
        elif op == "call":
            call = dict(CALL_TEMPLATE)
            key = rng.choice(list(call))
            call[key] = rng.choice(NUMBERS + STRINGS[:6])
            if not isinstance(data.get("scripted_calls"), list):
                data["scripted_calls"] = []
            data["scripted_calls"].append(call)
            done.append(f"call {key}={str(call[key])[:20]!r}")
        elif op == "flip":
            flags = [(p, v) for p, v in nodes if isinstance(v, bool)]
            if flags:
                path, old = rng.choice(flags)
                data = _set(data, path, not old)
                done.append(f"flip {path}")
    return data, done


def _get(root: Any, path: tuple[Any, ...]) -> Any:
    node = root
    for step in path:
        node = node[step]
    return node


def load_plain(path: Path) -> dict[str, Any]:
    data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def mutants(path: Path, count: int, seed: int) -> Iterator[tuple[str, list[str]]]:
    """``count`` mutants of one scenario file as YAML text, with what was done to each."""
    original = load_plain(path)
    rng = random.Random(f"{seed}:{path.name}")
    for _ in range(count):
        data, done = mutate(original, rng)
        yield to_yaml(data) + "\n", done


# --------------------------------------------------------------------------- running


class TooLong(Exception):
    """A mutant went past the event or step budget: the shift would not end in bounded time."""


def bounded(engine: Any) -> None:
    """Make ``engine`` raise TooLong past MAX_ENGINE_EVENTS events or MAX_SIMPY_STEPS steps."""
    events = 0

    def count(_event: Any) -> None:
        nonlocal events
        events += 1
        if events > MAX_ENGINE_EVENTS:
            raise TooLong(f"more than {MAX_ENGINE_EVENTS} engine events")

    engine.subscribe(count, replay=False)
    env = engine.env
    step = env.step
    steps = 0

    def counted_step() -> None:
        nonlocal steps
        steps += 1
        if steps > MAX_SIMPY_STEPS:
            raise TooLong(f"more than {MAX_SIMPY_STEPS} simpy steps")
        step()

    env.step = counted_step


def exercise(path: Path, *, hours: float | None, policy: str, record: Path | None = None) -> None:
    """Run a shift the way ``python main.py run`` does and render everything it prints: the KPI
    table, the JSON report and the event log's hash (which encodes every event as UTF-8)."""
    if record is None:
        result = run_scenario(path, policy=policy, hours=hours, on_engine=bounded)
    else:
        from ambsim_gui.session_commands import run_recorded

        result = run_recorded(path, record, policy=policy, hours=hours)  # unbounded: use a timeout
    report = result.to_json()
    title = f"{result.loaded.scenario.name} - policy {result.policy}, seed {result.seed}"
    format_kpi_table(result.metrics, title=title).encode("utf-8")
    json.dumps(report, ensure_ascii=False).encode("utf-8")
    assert len(report["event_log_sha256"]) == 64


_LOCATED = re.compile(r"^.+:\d+:\d+: \S.*: .+$")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_accepted_mutants_run(scenario: Path, tmp_path: Path) -> None:
    hours = METRO_RUN_HOURS if scenario.stem == "metropolitan_24h" else RUN_HOURS
    ran = 0
    for n, (text, done) in enumerate(mutants(scenario, MUTANTS_PER_SCENARIO, seed=9)):
        path = tmp_path / f"{scenario.stem}_{n}.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        code, lines = validate_files([str(path)])
        what = f"mutant {n} of {scenario.name}: {done}"
        if code != 0:
            problems = [line for line in lines[:-1] if ": warning: " not in line]
            assert problems, what
            for line in problems:
                assert _LOCATED.match(line) and line.startswith(str(path)), (what, line)
            continue
        try:
            exercise(path, hours=hours, policy=("expert", "target_chaser")[n % 2])
        except Exception as exc:  # noqa: BLE001 - the failure message says what was mutated
            pytest.fail(f"{what}: accepted by validate, but the run failed: {exc!r}")
        ran += 1
    assert ran >= 1  # seed 9 runs 2 to 10 mutants of each scenario: the test is not vacuous
