"""Semantic checks of a scenario: what the schema cannot see, each located at ``file:line:col``.

The pydantic models check each value on its own; this module checks a validated scenario against
the files it refers to and against itself: map points and areas exist, coordinates lie on the
map, scripted calls and injects fall inside the shift, call cards and their variants exist, the
hospitals, stations and call signs an inject names exist, some vehicle is on duty at every
moment, some emergency department is open at the start, and a protocol or call-card folder
of the scenario's own loads as a run would load it. Those are errors: the shift would
fail or silently lose a scripted event. Three things are only warnings: demand that looks more
than the fleet can plausibly serve, a clinical hub without clinicians facing a mix rich in
C3/C4 calls, and a road closure that cuts part of the network off. Positions come from the
round-trip YAML (``loader.load_yaml``).
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from ambsim_gui import paths as project_paths
from ambsim_gui.datafile.positions import (
    item_position,
    key_position,
    own_position,
    value_position,
)
from ambsim_gui.datafile.problems import MAX_MESSAGE, MAX_PROBLEMS
from ambsim_gui.datafile.yamlfile import check_limits, load_yaml
from ambsim_gui.geo.mapfile import MapError
from ambsim_gui.geo.network import RoadNetwork
from ambsim_gui.scenario.errors import Problem, ScenarioError
from ambsim_gui.scenario.loader import LoadedScenario
from ambsim_gui.scenario.model import (
    Breakdown,
    CallBurst,
    CrewChange,
    DiversionInject,
    RoadClosure,
    Scenario,
    Surge,
    clock_to_minutes,
)
from ambsim_gui.scenario.rota import duty_intervals, roster

__all__ = [
    "JOB_HOURS",
    "LOW_ACUITY_SHARE",
    "UTILISATION_WARNING",
    "VEHICLE_SHARE",
    "check_semantics",
]

YamlPath = tuple[str | int, ...]

JOB_HOURS = 1.3
"""Hours a vehicle is committed per job: mobilise, travel, on scene, hospital, clear (DOMAIN.md:
a whole job takes 60 to 93 minutes on average by trust; a little more with handover queues)."""
VEHICLE_SHARE = 0.8
"""Share of incidents that need a vehicle (England 2024/25: hear-and-treat 15.8%)."""
UTILISATION_WARNING = 0.9
"""Offered load above this share of the vehicles on duty: queues are all but certain."""
LOW_ACUITY_SHARE = 0.2
"""A category mix with at least this share of C3/C4 needs a clinical hub to validate it."""


@dataclass
class _Checker:
    loaded: LoadedScenario
    data: CommentedMap
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)
    """Figures several checks share (a map's road names, its largest strongly connected part)."""

    @property
    def scenario(self) -> Scenario:
        return self.loaded.scenario

    @property
    def file(self) -> str:
        return os.fspath(self.loaded.path)

    # --- positions -------------------------------------------------------------------------

    def position(self, path: YamlPath, *, key: bool = False) -> tuple[int, int]:
        """0-based line:col of the value at ``path`` (of its key with ``key=True``).

        Walks as far as the YAML goes: a key left out (a default value) is reported at the
        nearest thing the author wrote.
        """
        node: Any = self.data
        position = own_position(node) or (0, 0)
        for index, step in enumerate(path):
            last = index == len(path) - 1
            if isinstance(node, Mapping) and isinstance(step, str) and step in node:
                if last and key:
                    found = key_position(node, step)
                else:
                    found = value_position(node, step)
                node = node[step]
            elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
                found = item_position(node, step)
                node = node[step]
            else:
                break
            position = found or position
        return position

    def _problem(self, path: YamlPath, message: str, key: bool) -> Problem:
        line0, col0 = self.position(path, key=key)
        where = ".".join(str(part) for part in path) or "(root)"
        text = " ".join(message.split())  # one line, whatever a loader's message held
        if len(text) > MAX_MESSAGE:
            text = text[: MAX_MESSAGE - 3] + "..."
        return Problem(self.file, line0 + 1, col0 + 1, where, text)

    def suggest(self, name: str, known: Iterable[str], what: str) -> str:
        """``_suggest``, until the errors are more than ``validate`` lists (a file naming
        thousands of unknown roads would otherwise spend a minute on 'did you mean')."""
        if len(self.errors) >= MAX_PROBLEMS:
            return ""
        return _suggest(name, known, what)

    def error(self, path: YamlPath, message: str, *, key: bool = False) -> None:
        self.errors.append(self._problem(path, message, key))

    def warn(self, path: YamlPath, message: str, *, key: bool = False) -> None:
        self.warnings.append(self._problem(path, message, key))


# --------------------------------------------------------------------------- helpers


def _suggest(name: str, known: Iterable[str], what: str) -> str:
    """' (did you mean X?)' or a short list of what there is."""
    choices = sorted(set(known))
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    if not choices:
        return f" (there are no {what})"
    shown = ", ".join(repr(c) for c in choices[:8])
    more = f" ... ({len(choices)} in all)" if len(choices) > 8 else ""
    return f" ({what}: {shown}{more})"


def _clock(minutes: float) -> str:
    total = int(round(minutes)) % 1440
    return f"{total // 60:02d}:{total % 60:02d}"


def _duration(minutes: float) -> str:
    hours, mins = divmod(int(round(minutes)), 60)
    return f"{hours}:{mins:02d}"


def _offset_min(scenario: Scenario, at: str | None, at_min: float | None) -> float:
    """Minutes after the start, the way the engine schedules it (a clock time: the first one)."""
    if at_min is not None:
        return float(at_min)
    return float((clock_to_minutes(at or "00:00") - scenario.start_min) % 1440)


def _card_names(folder: Path) -> list[str]:
    """Call-card names: the stems of ``*.yaml`` files (the card library enforces name == stem)."""
    try:
        return sorted(p.stem for p in folder.glob("*.yaml"))
    except OSError:
        return []


def _card_variants(folder: Path, card: str) -> list[str] | None:
    """Variant names of one card, or None when the card file cannot be read as expected."""
    try:
        raw = YAML(typ="safe").load((folder / f"{card}.yaml").read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - the card library reports a broken card at run time
        return None
    variants = raw.get("variants") if isinstance(raw, dict) else None
    if not isinstance(variants, list):
        return None
    return [str(v["name"]) for v in variants if isinstance(v, dict) and "name" in v]


def _callsigns(scenario: Scenario) -> set[str]:
    """Call signs (and vehicle ids) of the roster, as ``rota.roster`` numbers them."""
    signs: set[str] = set()
    for crew in roster(scenario):
        signs.add(crew.callsign)
        signs.add(crew.vehicle_id)
    return signs


def _gaps(intervals: Sequence[tuple[float, float]], end: float) -> list[tuple[float, float]]:
    """Stretches of [0, end) that no interval covers."""
    gaps: list[tuple[float, float]] = []
    t = 0.0
    for lo, hi in sorted(intervals):
        lo, hi = max(0.0, lo), min(end, hi)
        if hi <= lo:
            continue
        if lo > t:
            gaps.append((t, lo))
        t = max(t, hi)
    if t < end:
        gaps.append((t, end))
    return [(a, b) for a, b in gaps if b - a > 1e-6]


# --------------------------------------------------------------------------- the checks


def check_semantics(
    loaded: LoadedScenario, data: CommentedMap | None = None
) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) of a validated scenario, each at the ``file:line:col`` to fix.

    ``data`` is the round-trip YAML the scenario was validated from; when absent the file is
    read again with :func:`loader.load_yaml`. Errors mean the shift would fail or lose something
    the author wrote; warnings mean it will run but probably not as the author expects. Problems
    name the scenario by its absolute path (``loaded.path``), sorted by line and column.
    """
    if data is None:
        data = load_yaml(loaded.path)
    check = _Checker(loaded, data)
    network = _load_network(check)
    cards_folder = loaded.cards_path or (project_paths.RESOURCES / "cards")
    cards = _card_names(cards_folder)
    if not cards:
        check.error(("cards",) if "cards" in data else (), f"no call cards in {cards_folder}")
    _check_triage(check)
    _check_places(check, network)
    _check_calls(check, network, cards_folder, cards)
    _check_injects(check, network, cards_folder, cards)
    _check_demand(check, network, cards)
    _check_duty(check)
    _check_hospitals(check)
    _warn_load(check)
    _warn_hub(check)
    return sorted(check.errors, key=_order), sorted(check.warnings, key=_order)


def _order(problem: Problem) -> tuple[int, int, str, str]:
    return problem.line, problem.col, problem.where, problem.message


MAX_CARD_FILES = 1_000
"""Call-card files in a folder (44 ship): more is the wrong folder."""


def _check_triage(check: _Checker) -> None:
    """A protocol or card folder of the scenario's own must load as the engine loads it.

    The shipped ones are checked by their own tests; these are read here exactly as a run reads
    them (``sim.world.build_world``), after the loader's size limits (a 'billion laughs' in a
    protocol file would hang the run). Reported at the scenario's ``protocol`` or ``cards``.
    """
    from ambsim_gui.triage.cards import CardLibrary
    from ambsim_gui.triage.protocol import Protocol

    loaded = check.loaded
    if loaded.protocol_path is None and loaded.cards_path is None:
        return
    files: list[tuple[str, Path]] = []
    if loaded.protocol_path is not None:
        files.append(("protocol", loaded.protocol_path))
    if loaded.cards_path is not None:
        if loaded.cards_path.is_dir():
            cards = sorted(loaded.cards_path.glob("*.yaml"))
            if len(cards) > MAX_CARD_FILES:
                check.error(
                    ("cards",), f"more than {MAX_CARD_FILES} call cards: is this the right folder?"
                )
                return
            files += [("cards", card) for card in cards]
    for key, file in files:
        try:
            check_limits(file)
        except ScenarioError as exc:
            check.error((key,), f"{file.name} cannot be used: {exc.problems[0]}")
            return
    try:
        protocol = Protocol.load(loaded.protocol_path)
    except Exception as exc:  # noqa: BLE001 - TriageDataError mostly; report, never crash
        check.error(("protocol",), f"the triage protocol cannot be used: {exc}")
        return
    try:
        CardLibrary.load(loaded.cards_path, protocol=protocol)
    except Exception as exc:  # noqa: BLE001 - as above
        if loaded.cards_path is None:
            check.error(("protocol",), f"the shipped call cards do not fit this protocol: {exc}")
        else:
            check.error(("cards",), f"the call cards cannot be used: {exc}")


def _load_network(check: _Checker) -> RoadNetwork | None:
    try:
        return RoadNetwork.load(check.loaded.map_path)
    except MapError as exc:
        check.error(("map",), f"the map cannot be used: {exc}")
        return None


def _check_point(check: _Checker, network: RoadNetwork, path: YamlPath, name: str) -> None:
    known = {p.name for p in network.points}
    if name not in known:
        check.error(
            path,
            f"no point {name!r} on the map {network.name!r}" + check.suggest(name, known, "points"),
        )


def _check_xy(check: _Checker, network: RoadNetwork, path: YamlPath, xy: Sequence[float]) -> None:
    x0, y0, x1, y1 = network.bounds
    x, y = float(xy[0]), float(xy[1])
    if not (x0 <= x <= x1 and y0 <= y <= y1):
        check.error(
            path,
            f"[{x:g}, {y:g}] is off the map {network.name!r}, whose roads lie within "
            f"x {x0:g}..{x1:g}, y {y0:g}..{y1:g} (metres)",
        )


def _check_area(
    check: _Checker, network: RoadNetwork, path: YamlPath, name: str, *, key: bool = False
) -> None:
    known = [a.name for a in network.areas]
    if name not in known:
        check.error(
            path,
            f"no area {name!r} on the map {network.name!r}" + check.suggest(name, known, "areas"),
            key=key,
        )


def _check_location(
    check: _Checker,
    network: RoadNetwork | None,
    base: YamlPath,
    point: str | None,
    xy: Sequence[float] | None,
    area: str | None = None,
) -> None:
    if network is None:
        return
    if point is not None:
        _check_point(check, network, (*base, "point"), point)
    if xy is not None:
        _check_xy(check, network, (*base, "xy"), xy)
    if area is not None:
        _check_area(check, network, (*base, "area"), area)


def _check_places(check: _Checker, network: RoadNetwork | None) -> None:
    for i, station in enumerate(check.scenario.stations):
        _check_location(check, network, ("stations", i), station.point, station.xy)
    for i, hospital in enumerate(check.scenario.hospitals):
        _check_location(check, network, ("hospitals", i), hospital.point, hospital.xy)


def _check_card(
    check: _Checker,
    base: YamlPath,
    folder: Path,
    cards: list[str],
    card: str,
    variant: str | None,
) -> None:
    if not cards:
        return  # reported once already
    if card not in cards:
        check.error((*base, "card"), f"no call card {card!r}" + check.suggest(card, cards, "cards"))
        return
    if variant is None:
        return
    variants = _card_variants(folder, card)
    if variants is not None and variant not in variants:
        check.error(
            (*base, "variant"),
            f"call card {card!r} has no variant {variant!r}"
            + check.suggest(variant, variants, "variants"),
        )


def _check_time(
    check: _Checker, base: YamlPath, at: str | None, at_min: float | None, what: str
) -> None:
    scenario = check.scenario
    offset = _offset_min(scenario, at, at_min)
    length = scenario.duration_h * 60.0
    if offset < length:
        return
    end = _clock(scenario.start_min + length)
    if at is not None:
        message = (
            f"{what} at {at} comes {_duration(offset)} after the start ({scenario.start}), "
            f"after the shift ends ({end}, {scenario.duration_h:g} h): it would never happen"
        )
        check.error((*base, "at"), message)
    else:
        check.error(
            (*base, "at_min"),
            f"{what} at minute {offset:g} is after the shift ends (minute {length:g}, {end}): "
            "it would never happen",
        )


def _check_calls(
    check: _Checker, network: RoadNetwork | None, folder: Path, cards: list[str]
) -> None:
    for i, call in enumerate(check.scenario.scripted_calls):
        base: YamlPath = ("scripted_calls", i)
        _check_time(check, base, call.at, call.at_min, "this call")
        _check_card(check, base, folder, cards, call.card, call.variant)
        _check_location(check, network, base, call.point, call.xy, call.area)


def _check_injects(
    check: _Checker, network: RoadNetwork | None, folder: Path, cards: list[str]
) -> None:
    scenario = check.scenario
    hospitals = [h.name for h in scenario.hospitals]
    stations = [s.name for s in scenario.stations]
    callsigns = _callsigns(scenario)
    for i, inject in enumerate(scenario.injects):
        base: YamlPath = ("injects", i)
        _check_time(check, base, inject.at, inject.at_min, f"this {inject.type} inject")
        if isinstance(inject, CallBurst):
            _check_card(check, base, folder, cards, inject.card, inject.variant)
            _check_location(check, network, base, inject.point, inject.xy, inject.area)
        elif isinstance(inject, Surge):
            _check_location(check, network, base, None, None, inject.area)
        elif isinstance(inject, DiversionInject):
            if inject.hospital not in hospitals:
                check.error(
                    (*base, "hospital"),
                    f"no hospital {inject.hospital!r} in this scenario"
                    + check.suggest(inject.hospital, hospitals, "hospitals"),
                )
        elif isinstance(inject, CrewChange):
            if inject.station not in stations:
                check.error(
                    (*base, "station"),
                    f"no station {inject.station!r} in this scenario"
                    + check.suggest(inject.station, stations, "stations"),
                )
        elif isinstance(inject, Breakdown):
            if inject.vehicle not in callsigns:
                signs = sorted(s for s in callsigns if not s.startswith("V"))
                check.error(
                    (*base, "vehicle"),
                    f"no vehicle with call sign {inject.vehicle!r}"
                    + check.suggest(inject.vehicle, signs, "call signs"),
                )
        elif isinstance(inject, RoadClosure) and network is not None:
            _check_closure(check, network, base, inject)


def _check_closure(
    check: _Checker, network: RoadNetwork, base: YamlPath, inject: RoadClosure
) -> None:
    from shapely.geometry import Polygon

    if "road_names" not in check.cache:
        check.cache["road_names"] = sorted({str(n) for n in network.edge_name.tolist() if n})
    names: list[str] = check.cache["road_names"]
    closed: list[np.ndarray] = []
    for j, road in enumerate(inject.roads):
        found = network.edges_named(road)
        if len(found) == 0:
            check.error(
                (*base, "roads", j),
                f"no road called {road!r} on the map {network.name!r}"
                + check.suggest(road, names, "some roads"),
            )
        closed.append(np.asarray(found, dtype=np.int64))
    if inject.polygon is not None:
        polygon = Polygon(inject.polygon)
        inside = network.edges_within(polygon) if polygon.is_valid else np.zeros(0)
        if not polygon.is_valid:
            check.error((*base, "polygon"), "the closure polygon crosses itself")
        elif len(inside) == 0:
            check.error((*base, "polygon"), "no road lies inside the closure polygon")
        closed.append(np.asarray(inside, dtype=np.int64))
    if "largest_scc" not in check.cache:
        check.cache["largest_scc"] = _largest_scc(network.n_nodes, network.edge_u, network.edge_v)
    cut = _cut_off(
        network,
        np.concatenate(closed) if closed else np.zeros(0, dtype=np.int64),
        check.cache["largest_scc"],
    )
    if cut:
        path: YamlPath = (*base, "roads") if inject.roads else (*base, "polygon")
        check.warn(
            path,
            f"this closure cuts {cut} road node(s) off from the rest of the map: a crew "
            "sent to a call there cannot drive away again while it lasts, and the engine "
            "stops with 'no route'; close a stretch that leaves a way out",
        )


def _largest_scc(n: int, u: np.ndarray, v: np.ndarray) -> int:
    """Size of the largest strongly connected component of the directed graph (u -> v)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if n == 0:
        return 0
    graph = coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=True, connection="strong")
    return int(np.bincount(labels).max())


def _cut_off(network: RoadNetwork, closed: np.ndarray, before: int) -> int:
    """How many more nodes fall outside the largest strongly connected part once closed
    (``before``: its size with every road open)."""
    if closed.size == 0:
        return 0
    keep = np.ones(network.n_edges, dtype=bool)
    keep[closed] = False
    after = _largest_scc(network.n_nodes, network.edge_u[keep], network.edge_v[keep])
    return max(0, before - after)


def _check_demand(check: _Checker, network: RoadNetwork | None, cards: list[str]) -> None:
    demand = check.scenario.demand
    if demand.cards and cards:
        for name in demand.cards:
            if name not in cards:
                check.error(
                    ("demand", "cards", name),
                    f"no call card {name!r}" + check.suggest(name, cards, "cards"),
                    key=True,
                )
    if network is None:
        return
    weights = {a.name: float(a.demand_weight) for a in network.areas}
    for name, weight in (demand.area_weights or {}).items():
        if name not in weights:
            _check_area(check, network, ("demand", "area_weights", name), name, key=True)
        else:
            weights[name] = float(weight)
    if not network.areas:
        check.error(("map",), f"the map {network.name!r} has no areas to draw calls from")
    elif sum(weights.values()) <= 0:
        where: YamlPath = ("demand", "area_weights") if demand.area_weights else ("map",)
        check.error(where, "every area has zero demand weight: no call could be placed")


def _on_duty_intervals(scenario: Scenario) -> list[tuple[float, float]]:
    end = scenario.duration_s
    intervals: list[tuple[float, float]] = []
    for station in scenario.stations:
        for group in station.vehicles:
            intervals += duty_intervals(group.shift, scenario.start, end)
    for inject in scenario.injects:
        if isinstance(inject, CrewChange) and inject.on_duty:
            begin = _offset_min(scenario, inject.at, inject.at_min) * 60.0
            if begin < end:
                intervals.append((begin, end))
    return intervals


def _check_duty(check: _Checker) -> None:
    scenario = check.scenario
    for lo, hi in _gaps(_on_duty_intervals(scenario), scenario.duration_s):
        start = scenario.start_min
        check.error(
            ("stations",),
            f"no vehicle is on duty from {_clock(start + lo / 60)} to {_clock(start + hi / 60)}: "
            "give some vehicle group a shift that covers it (or no shift: on duty all the time)",
            key=True,
        )


def _check_hospitals(check: _Checker) -> None:
    eds = [(i, h) for i, h in enumerate(check.scenario.hospitals) if h.kind == "ed"]
    if eds and all(h.diverted for _, h in eds):
        first = eds[0][0]
        check.error(
            ("hospitals", first, "diverted"),
            "every emergency department is on diversion at the start: crews would have "
            "nowhere to take a patient; leave at least one open",
        )


# --------------------------------------------------------------------------- warnings


def _duty_table(scenario: Scenario) -> list[tuple[int, list[tuple[float, float]]]]:
    """(vehicles, on-duty intervals) of each vehicle group and each crews inject that adds."""
    table = [
        (group.count, duty_intervals(group.shift, scenario.start, scenario.duration_s))
        for station in scenario.stations
        for group in station.vehicles
    ]
    for inject in scenario.injects:
        if isinstance(inject, CrewChange) and inject.on_duty:
            begin = _offset_min(scenario, inject.at, inject.at_min) * 60.0
            table.append((inject.count, [(begin, math.inf)]))
    return table


def _vehicles_on_duty(table: list[tuple[int, list[tuple[float, float]]]], t: float) -> int:
    return sum(count for count, intervals in table if any(lo <= t < hi for lo, hi in intervals))


def _warn_load(check: _Checker) -> None:
    """Offered load (incidents/h x hours per job x share needing a vehicle) vs the fleet.

    The scenario's mean hourly rate is set against the vehicles on duty in the hour of the shift
    with the fewest: a rough figure on purpose (peak hours run about a quarter above the mean,
    and a good clinical hub keeps many calls off the road), so the warning means "this fleet
    cannot keep up even on average", not "this shift will be busy". Surges are left out: they
    are meant to overload.
    """
    scenario = check.scenario
    hours = max(1, math.ceil(scenario.duration_h))
    fewest: tuple[int, float] | None = None  # (vehicles, offset of that hour's middle, s)
    table = _duty_table(scenario)
    for h in range(hours):
        t = (h * 3600.0 + min((h + 1) * 3600.0, scenario.duration_s)) / 2  # mid-hour
        vehicles = _vehicles_on_duty(table, t)
        if fewest is None or vehicles < fewest[0]:
            fewest = (vehicles, t)
    if fewest is None or fewest[0] == 0:
        return  # no vehicle at all is an error of its own (_check_duty)
    vehicles, t = fewest
    rate = scenario.demand.incidents_per_hour
    busy = rate * JOB_HOURS * VEHICLE_SHARE
    utilisation = busy / vehicles
    if utilisation <= UTILISATION_WARNING:
        return
    hour = int((scenario.start_min + t / 60.0) // 60) % 24
    check.warn(
        ("demand", "incidents_per_hour"),
        f"demand looks more than the fleet can serve: {rate:g} incidents an hour x "
        f"{JOB_HOURS:g} h a job x {VEHICLE_SHARE:.0%} needing a vehicle keep about {busy:.0f} "
        f"vehicles busy, {utilisation:.0%} of the {vehicles} on duty at {hour:02d}:00; "
        "expect queues that never clear (fine if that is the lesson)",
    )


def _warn_hub(check: _Checker) -> None:
    scenario = check.scenario
    if scenario.clinical_hub.clinicians > 0:
        return
    mix = scenario.demand.category_mix
    total = sum(mix.values())
    low = (mix.get("C3", 0.0) + mix.get("C4", 0.0)) / total if total else 0.0
    if low >= LOW_ACUITY_SHARE:
        check.warn(
            ("clinical_hub", "clinicians"),
            f"the clinical hub has no clinicians but {low:.0%} of the calls are C3/C4: "
            "nobody can validate them, so every one of them gets a vehicle",
        )
