"""Road speeds of an imported map: a typical driven speed per OSM road type and terrain, capped
by the posted limit or, on an untagged road, by the country's default limit.

One job: :func:`road_speed` gives the km/h an ambulance's normal driving averages on one OSM
way (the blue-light factor of its road class comes on top). The figures are ambsim's teaching
defaults, written out in ``docs/domain.md`` (Road speeds of an imported map):

- ``TYPICAL_KPH``: what traffic achieves on each ``highway`` type in three terrains:
  ``built_up`` (inside a settlement, see ``osm_areas``), ``open`` (country roads) and
  ``winding`` (a road that turns at least `WINDING_DEG_PER_100M` on average, as mountain
  roads with hairpins do). A service road is never faster than a residential street.
- ``COUNTRY_LIMITS``: the national default limits (built-up, outside, motorway) that apply
  where a road has no ``maxspeed`` tag; a tagged limit replaces them.

A speed is the lower of the typical speed and the limit, so a 30 km/h zone drives at 30 and
an untagged secondary road in Liechtenstein's mountains at 40, not the 65 of a generic B road.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

Terrain = Literal["built_up", "open", "winding"]
TERRAINS: tuple[Terrain, ...] = ("built_up", "open", "winding")

TYPICAL_KPH: dict[str, tuple[float, float, float]] = {
    # highway: (built-up, open, winding)
    "motorway": (90.0, 112.0, 80.0),
    "motorway_link": (50.0, 60.0, 40.0),
    "trunk": (55.0, 85.0, 50.0),
    "trunk_link": (40.0, 50.0, 35.0),
    "primary": (45.0, 75.0, 45.0),
    "primary_link": (35.0, 45.0, 30.0),
    "secondary": (40.0, 65.0, 40.0),
    "secondary_link": (30.0, 40.0, 30.0),
    "tertiary": (35.0, 60.0, 35.0),
    "tertiary_link": (30.0, 40.0, 30.0),
    "unclassified": (30.0, 50.0, 30.0),
    "residential": (30.0, 35.0, 25.0),
    "road": (30.0, 35.0, 25.0),
    "living_street": (10.0, 10.0, 10.0),
    "service": (20.0, 25.0, 20.0),
}
"""Typical driven km/h of each OSM ``highway`` type by terrain (before any limit)."""

COUNTRY_LIMITS: dict[str, tuple[float, float, float]] = {
    # ISO 3166-1 code: (built-up, outside built-up areas, motorway) default limits in km/h
    "AT": (50.0, 100.0, 130.0),
    "CH": (50.0, 80.0, 120.0),
    "DE": (50.0, 100.0, 130.0),  # no motorway limit; 130 is the advisory speed
    "FR": (50.0, 80.0, 130.0),
    "GB": (30 * 1.609344, 60 * 1.609344, 70 * 1.609344),
    "IT": (50.0, 90.0, 130.0),
    "LI": (50.0, 80.0, 120.0),
    "NL": (50.0, 80.0, 100.0),
    "US": (25 * 1.609344, 55 * 1.609344, 65 * 1.609344),
}
"""National default speed limits where a road has no ``maxspeed`` tag."""
DEFAULT_LIMITS: tuple[float, float, float] = (50.0, 90.0, 120.0)
"""The limits of a country not in `COUNTRY_LIMITS` (the most common European ones)."""

WINDING_DEG_PER_100M = 40.0
"""A way outside a settlement that turns this much per 100 m on average is ``winding``."""
WINDING_MIN_LENGTH_M = 150.0
"""Shorter ways are too short to tell a bend from a junction: on their own never ``winding``."""
WINDING_REACH_M = 1000.0
"""A way is also ``winding`` when the roads whose middles lie within this distance of its
middle turn `WINDING_DEG_PER_100M` on average (by length): the straight stretch of a mountain
valley road is still in the mountains (in Liechtenstein's data this marks 72% of the roads east
of the Rhine valley's villages and 11% of those in the valley)."""


def limits_of(country: str | None) -> tuple[float, float, float]:
    """The default limits of a country code (any case), or `DEFAULT_LIMITS`."""
    return COUNTRY_LIMITS.get((country or "").upper(), DEFAULT_LIMITS)


def road_speed(highway: str, terrain: Terrain, limit_kph: float | None,
               country: str | None) -> float:
    """The km/h of one way: its typical speed in its terrain, capped by ``limit_kph`` (its
    ``maxspeed`` tag) or, untagged, by the country's default limit for the terrain."""
    typical = TYPICAL_KPH[highway][TERRAINS.index(terrain)]
    if limit_kph is None:
        built_up, outside, motorway = limits_of(country)
        if highway in ("motorway", "motorway_link"):
            limit_kph = motorway
        else:
            limit_kph = built_up if terrain == "built_up" else outside
    return min(typical, limit_kph)


def turning_deg_per_100m(xy: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """(length in metres, mean turning in degrees per 100 m) of a polyline."""
    length = 0.0
    turning = 0.0
    heading: float | None = None
    for (x0, y0), (x1, y1) in zip(xy, xy[1:], strict=False):
        step = math.hypot(x1 - x0, y1 - y0)
        if step <= 0.0:
            continue
        length += step
        new = math.atan2(y1 - y0, x1 - x0)
        if heading is not None:
            turn = abs((new - heading + math.pi) % (2 * math.pi) - math.pi)
            turning += math.degrees(turn)
        heading = new
    return length, (turning / length * 100.0 if length > 0 else 0.0)


def winding_ways(ways: Sequence[Sequence[tuple[float, float]]]) -> list[bool]:
    """Which of the ways (polylines in metres) are ``winding``: on their own (`terrain_of`) or
    among winding roads (`WINDING_REACH_M`)."""
    from scipy.spatial import cKDTree

    if not ways:
        return []
    stats = [turning_deg_per_100m(w) for w in ways]
    length = np.array([s[0] for s in stats])
    turned = np.array([s[0] * s[1] for s in stats])  # degrees x 100 m
    middle = np.array([np.mean(np.asarray(w, dtype=np.float64), axis=0) for w in ways])
    tree = cKDTree(middle)
    out: list[bool] = []
    for i, near in enumerate(tree.query_ball_point(middle, WINDING_REACH_M)):
        idx = np.sort(np.asarray(near, dtype=np.int64))  # one order: the same sums every run
        total = float(length[idx].sum())
        around = float(turned[idx].sum()) / total if total > 0 else 0.0
        alone = length[i] >= WINDING_MIN_LENGTH_M and stats[i][1] >= WINDING_DEG_PER_100M
        out.append(bool(alone or around >= WINDING_DEG_PER_100M))
    return out


def terrain_of(built_up: bool, xy: Sequence[tuple[float, float]]) -> Terrain:
    """``built_up`` inside a settlement; else ``winding`` when the way bends as a mountain road
    does (`WINDING_DEG_PER_100M` over at least `WINDING_MIN_LENGTH_M`), or ``open``."""
    if built_up:
        return "built_up"
    length, turning = turning_deg_per_100m(xy)
    if length >= WINDING_MIN_LENGTH_M and turning >= WINDING_DEG_PER_100M:
        return "winding"
    return "open"
