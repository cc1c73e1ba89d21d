"""``new-scenario``: write a runnable starting scenario for a map, with comments on what to adjust.

One job: :func:`starter_text` makes the YAML of a first shift on a map file, from what the map
holds, and :func:`main` writes it and checks it as ``validate`` would:

- **stations**: the map's station points, one double-crewed ambulance (DCA) each; when the
  fleet the demand needs is smaller than the stations, the ones that spread it best (the
  station nearest the most demand first, then each time the one farthest from those chosen);
  the others are listed in a comment. Without a station point, one at the road node nearest
  the centre of the busiest area.
- **the fleet**: enough DCAs that the offered load (incidents an hour x `JOB_HOURS` x
  `VEHICLE_SHARE`, as ``validate`` reckons it) keeps `TARGET_UTILISATION` of them busy, and
  never fewer than `MIN_VEHICLES`.
- **hospitals**: the map's hospital points (emergency departments) and urgent treatment centres;
  without one, a stand-in beside the first station.
- **demand**: ``--population`` people at England's incidents per head (`INCIDENTS_PER_PERSON_HOUR`,
  docs/domain.md), spread over the map's areas by their demand weights (population or km of
  road, as the import made them), written out so they can be changed one by one. Without a
  population, the rate that keeps the fleet at the target.

The text says where every figure came from and marks what an author should look at with
``ADJUST``. The same map and options give the same text.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ambsim_gui import paths as project_paths
from ambsim_gui.geo.mapfile import MapError, MapPoint
from ambsim_gui.geo.network import RoadNetwork
from ambsim_gui.scenario.loader import validate_files
from ambsim_gui.scenario.semantic import JOB_HOURS, VEHICLE_SHARE

__all__ = ["INCIDENTS_PER_PERSON_HOUR", "MIN_VEHICLES", "TARGET_UTILISATION", "add_parser",
           "main", "starter_text"]

ENGLAND_INCIDENTS_A_DAY = 24_600
"""AmbSYS 2024/25 (docs/domain.md, Demand)."""
ENGLAND_POPULATION = 57_690_000
"""England's population, mid-2023 (ONS; docs/domain.md, Demand)."""
INCIDENTS_PER_PERSON_HOUR = ENGLAND_INCIDENTS_A_DAY / ENGLAND_POPULATION / 24.0
"""England's incidents an hour per person: about 0.43 a day per 1,000 people."""
TARGET_UTILISATION = 0.5
"""Share of the fleet the mean demand keeps busy: room for the peak hours (a quarter above the
mean) and for the trainee's slower decisions."""
MIN_VEHICLES = 2
"""A control room with one ambulance has no decision to make."""
DEFAULT_START = "08:00"
DEFAULT_HOURS = 12.0


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is YAML's)."""
    return json.dumps(text, ensure_ascii=False)


def _map_ref(map_path: Path, out: Path) -> str:
    """How the scenario names its map: by file name when it is a shipped map, else relative to
    the scenario's folder (the loader looks in both)."""
    maps = Path(project_paths.MAPS).resolve()
    resolved = map_path.resolve()
    if resolved.parent == maps:
        return resolved.name
    return Path(os.path.relpath(resolved, out.resolve().parent)).as_posix()


def _fleet_size(rate: float) -> int:
    return max(MIN_VEHICLES, math.ceil(rate * JOB_HOURS * VEHICLE_SHARE / TARGET_UTILISATION))


def _area_centres(net: RoadNetwork) -> list[tuple[float, float, float]]:
    """(x, y, weight) of each area: the mean of its road nodes (its polygon's centre without)."""
    out = []
    for i, area in enumerate(net.areas):
        nodes = net.nodes_in_area(i)
        if len(nodes):
            x, y = (float(v) for v in net.xy[nodes].mean(axis=0))
        else:
            c = area.polygon.centroid
            x, y = float(c.x), float(c.y)
        out.append((x, y, float(area.demand_weight)))
    return out


def _spread(stations: Sequence[MapPoint], count: int,
            centres: Sequence[tuple[float, float, float]]) -> list[MapPoint]:
    """``count`` stations: the one nearest the busiest area first, then each time the one
    farthest from those chosen (ties: the map's order)."""
    if count >= len(stations):
        return list(stations)
    busiest = max(centres, key=lambda c: c[2]) if centres else (0.0, 0.0, 0.0)
    first = min(range(len(stations)), key=lambda i: math.hypot(
        stations[i].x - busiest[0], stations[i].y - busiest[1]))
    chosen = [first]
    while len(chosen) < count:
        def gap(i: int) -> float:
            return min(math.hypot(stations[i].x - stations[j].x, stations[i].y - stations[j].y)
                       for j in chosen)
        rest = [i for i in range(len(stations)) if i not in chosen]
        chosen.append(max(rest, key=lambda i: (gap(i), -i)))
    return [stations[i] for i in sorted(chosen)]


def _near_node(net: RoadNetwork, x: float, y: float) -> tuple[float, float]:
    node = int(net.snap(x, y))
    return round(float(net.xy[node, 0]), 1), round(float(net.xy[node, 1]), 1)


def starter_text(map_path: Path, out: Path, *, population: float | None = None,
                 start: str = DEFAULT_START, hours: float = DEFAULT_HOURS,
                 name: str | None = None) -> str:
    """The starting scenario's YAML for the map at ``map_path``, to be written at ``out``."""
    net = RoadNetwork.load(map_path)
    centres = _area_centres(net)
    stations = [p for p in net.points if p.kind == "station"]
    hospitals = [p for p in net.points if p.kind in ("hospital", "utc")]
    title = name or f"{net.name}: a first shift"

    if population is not None:
        rate = population * INCIDENTS_PER_PERSON_HOUR
        fleet = _fleet_size(rate)
        rate_note = [
            f"{population:,.0f} people at England's rate of {ENGLAND_INCIDENTS_A_DAY:,} incidents",
            f"a day for {ENGLAND_POPULATION / 1e6:.1f} million (AmbSYS 2024/25, ONS mid-2023),",
            f"about {INCIDENTS_PER_PERSON_HOUR * 24_000:.2f} a day per 1,000 people: "
            f"{rate * 24:.1f} incidents a day.",
        ]
    else:
        fleet = max(MIN_VEHICLES, len(stations)) if stations else MIN_VEHICLES
        rate = fleet * TARGET_UTILISATION / (JOB_HOURS * VEHICLE_SHARE)
        rate_note = [
            "ADJUST: no --population was given, so this rate keeps about "
            f"{TARGET_UTILISATION:.0%} of the {fleet}",
            f"ambulances busy ({JOB_HOURS:g} h a job, {VEHICLE_SHARE:.0%} of incidents need "
            "a vehicle). England has",
            f"about {INCIDENTS_PER_PERSON_HOUR * 24_000:.2f} incidents a day per 1,000 people.",
        ]
    rate = max(round(rate, 2), 0.01)

    lines = [
        "# yaml-language-server: $schema=../docs/scenario.schema.json",
        f"# A starting scenario for the map {net.name!r}, written by `ambsim new-scenario`. It",
        "# runs as it is (python main.py run FILE); look at each line marked ADJUST, then at the",
        "# desk, before teaching with it.",
        "schema_version: 1",
        f"name: {_q(title)}",
        "description: >",
        f"  A {hours:g}-hour shift on {net.name}, with the map's stations and hospitals and the",
        "  demand spread over its areas. ADJUST: say what the trainee will meet.",
        "learning_objectives:",
        "  - Answer, triage and dispatch every call of an ordinary shift on this patch.",
        "debrief_hint: >",
        "  ADJUST: what the trainer should look at first in the debrief.",
        f"start: {_q(start)}",
        f"duration_h: {hours:g}",
        "seed: 1",
        f"map: {_q(_map_ref(map_path, out))}",
        "",
        "stations:",
    ]
    if stations:
        chosen = _spread(stations, fleet, centres)
        per = [fleet // len(chosen) + (1 if i < fleet % len(chosen) else 0)
               for i in range(len(chosen))]
        lines.append(f"  # {fleet} double-crewed ambulance(s) for the demand below (about "
                     f"{TARGET_UTILISATION:.0%} busy on average),")
        lines.append(f"  # at {len(chosen)} of the map's {len(stations)} station point(s). "
                     "ADJUST: the real bases, cars (RRV), shifts.")
        for point, count in zip(chosen, per, strict=True):
            lines += [f"  - name: {_q(point.name)}", f"    point: {_q(point.name)}",
                      "    vehicles:", f"      - {{type: DCA, count: {count}}}"]
        unused = [p.name for p in stations if p not in chosen]
        if unused:
            lines.append("  # other station points on the map: " + ", ".join(unused))
    else:
        busiest = max(centres, key=lambda c: c[2]) if centres else (0.0, 0.0, 0.0)
        x, y = _near_node(net, busiest[0], busiest[1])
        lines += [
            "  # ADJUST: the map has no station point: this one stands at the road nearest the",
            "  # middle of its busiest area; give the real base as xy or latlon.",
            "  - name: \"Station 1\"",
            f"    xy: [{x:g}, {y:g}]",
            "    vehicles:",
            f"      - {{type: DCA, count: {fleet}}}",
        ]
    lines += ["", "hospitals:"]
    if hospitals:
        for point in hospitals:
            lines += [f"  - name: {_q(point.name)}", f"    point: {_q(point.name)}"]
            if point.kind == "utc":
                lines.append("    kind: utc")
        lines.append("  # ADJUST: handover times (handover: {median_min: 15}), an emergency "
                     "department off the map")
    else:
        first = stations[0] if stations else None
        x, y = _near_node(net, first.x, first.y) if first else _near_node(net, 0.0, 0.0)
        lines += [
            "  # ADJUST: the map has no hospital point: this stands in for the nearest",
            "  # emergency department; give its place as xy or latlon.",
            "  - name: \"Hospital\"",
            f"    xy: [{x:g}, {y:g}]",
        ]
    call_handlers = max(2, math.ceil(rate / 6))
    lines += [
        "",
        "control_room:",
        f"  call_handlers: {call_handlers}",
        "  dispatchers: 1",
        "  trainee_role: both",
        "",
        "demand:",
        *[f"  # {line}" for line in rate_note],
        f"  incidents_per_hour: {rate:g}",
    ]
    weights = [(a.name, float(a.demand_weight)) for a in net.areas]
    if weights:
        lines += [
            "  # Each area's share of the calls: the map's demand weights (population, or km of",
            "  # road where the data gave no population). ADJUST: a busy town centre, a quiet",
            "  # valley.",
            "  area_weights:",
            *[f"    {_q(area)}: {weight:g}" for area, weight in weights],
        ]
    return "\n".join(lines) + "\n"


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The ``new-scenario`` subcommand."""
    p = sub.add_parser(
        "new-scenario",
        help="write a runnable starting scenario for a map file, with comments on what to adjust",
        description="Write a starting scenario for a map: its stations with a fleet sized to "
        "the demand, its hospitals, and demand spread over its areas by their weights.",
    )
    p.add_argument("--map", required=True, help="the map file (resources/maps/NAME.json)")
    p.add_argument("-o", "--output", required=True, help="scenario file to write (NAME.yaml)")
    p.add_argument("--population", type=float, default=None,
                   help="people living on the map: sets the incidents an hour at England's "
                   "rate per head (default: a rate that keeps half the fleet busy)")
    p.add_argument("--start", default=DEFAULT_START, help="clock time the shift starts (HH:MM)")
    p.add_argument("--hours", type=float, default=DEFAULT_HOURS, help="length of the shift")
    p.add_argument("--name", default=None, help="the scenario's name")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")


def main(args: argparse.Namespace) -> int:
    """Write the scenario, then check it as ``validate`` does; 0 when it validates."""
    out = Path(args.output)
    map_path = Path(args.map)
    if out.exists() and not args.force:
        print(f"new-scenario: {out} exists; give --force to overwrite it", file=sys.stderr)
        return 1
    if args.population is not None and not (math.isfinite(args.population)
                                            and args.population > 0):
        print("new-scenario: --population must be a number above 0", file=sys.stderr)
        return 2
    if not (math.isfinite(args.hours) and 0 < args.hours <= 48):
        print("new-scenario: --hours must be above 0 and at most 48", file=sys.stderr)
        return 2
    try:
        text = starter_text(map_path, out, population=args.population, start=args.start,
                            hours=args.hours, name=args.name)
    except MapError as exc:
        print(f"new-scenario: {exc}", file=sys.stderr)
        return 1
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8", newline="\n")
    except OSError as exc:
        print(f"new-scenario: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    code, lines = validate_files([str(out)])
    print(f"wrote {out}")
    for line in lines:
        print(line, file=sys.stdout if code == 0 else sys.stderr)
    return code

