"""The scenario's rota: which crews it has, what each is called, and when each is on duty.

One rule for the whole program: the world that runs a shift (``sim.world``) and the checks of
a scenario file (``semantic``) both number crews with ``roster`` and time their duty with
``duty_intervals``, so a call sign an inject names is valid exactly when the shift has it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ambsim_gui.scenario.model import Scenario, Shift, Station, VehicleGroup, clock_to_minutes


@dataclass(frozen=True)
class Crew:
    """One crew of the roster, in the order the scenario lists them."""

    vehicle_id: str  # V001, V002 ... in roster order
    callsign: str  # the group's prefix (or the station's letters) and a number per prefix
    station: Station
    group: VehicleGroup


def default_callsign_prefix(station: str, vtype: str) -> str:
    """The prefix of a group without its own: the station's first three letters and A (a
    double-crewed ambulance) or R (a rapid response vehicle), e.g. ``CAS-A``."""
    letters = "".join(ch for ch in station.upper() if ch.isalpha())[:3] or "STN"
    return f"{letters}-{'A' if vtype == 'DCA' else 'R'}"


def roster(scenario: Scenario) -> Iterator[Crew]:
    """Every crew of the scenario's stations with its vehicle id and call sign."""
    counters: dict[str, int] = {}
    n = 0
    for station in scenario.stations:
        for group in station.vehicles:
            prefix = group.callsign_prefix or default_callsign_prefix(station.name, group.type)
            for _ in range(group.count):
                counters[prefix] = counters.get(prefix, 0) + 1
                n += 1
                yield Crew(f"V{n:03d}", f"{prefix}{counters[prefix]:02d}", station, group)


def duty_intervals(
    shift: Shift | None, start_clock: str, duration_s: float
) -> list[tuple[float, float]]:
    """On-duty intervals of a daily shift within the scenario, in simulation seconds."""
    if shift is None:
        return [(0.0, duration_s)]
    start_min = clock_to_minutes(start_clock)
    s = clock_to_minutes(shift.start)
    e = clock_to_minutes(shift.end)
    length = (e - s) % 1440 or 1440
    intervals: list[tuple[float, float]] = []
    day = -1
    while True:
        begin = (day * 1440 + s - start_min) * 60.0
        if begin >= duration_s:
            break
        end = begin + length * 60.0
        lo, hi = max(begin, 0.0), min(end, duration_s)
        if hi > lo:
            intervals.append((lo, hi))
        day += 1
    return intervals
