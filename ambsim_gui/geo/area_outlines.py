"""Outlines of a generated map's areas, drawn with plain arithmetic.

One job: ``area_spec`` makes an area from outline coordinates rounded to the file's precision;
``clip_to_bisector`` cuts a convex outline on the perpendicular bisector of two seed points,
which is how rural districts become Voronoi cells. No GEOS buffers or overlays, so the map's
bytes do not change with the GEOS version.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from shapely.geometry import Polygon

from ambsim_gui.geo.mapfile import AreaSpec


def area_spec(
    coords: Sequence[tuple[float, float]] | np.ndarray, name: str, kind: str, weight: float
) -> AreaSpec:
    """An area from outline coordinates, rounded to the file's precision.

    Outlines are computed with plain arithmetic, not GEOS buffers or overlays, so the bytes do
    not change with the GEOS version; neighbouring areas are drawn to overlap by a metre or two
    instead of sharing an edge (rounding could open a gap; the first listed owns an overlap).
    """
    ring = tuple((round(float(x), 1), round(float(y), 1)) for x, y in coords)
    if not Polygon(ring).is_valid:
        raise RuntimeError(f"area {name} is not a valid polygon")
    return AreaSpec(name=name, kind=kind, demand_weight=round(weight, 1), polygon=ring)


def clip_to_bisector(
    ring: list[tuple[float, float]], p: tuple[float, float], q: tuple[float, float], margin: float
) -> list[tuple[float, float]]:
    """Clip a convex polygon to the points no more than `margin` metres nearer q than p
    (one step of Sutherland-Hodgman on the perpendicular bisector of p and q)."""
    nx_, ny_ = p[0] - q[0], p[1] - q[1]
    norm = math.hypot(nx_, ny_)
    nx_, ny_ = nx_ / norm, ny_ / norm
    mx, my = (p[0] + q[0]) / 2, (p[1] + q[1]) / 2

    def side(pt: tuple[float, float]) -> float:
        return (pt[0] - mx) * nx_ + (pt[1] - my) * ny_ + margin

    out: list[tuple[float, float]] = []
    for i, cur in enumerate(ring):
        prev = ring[i - 1]
        sc, sp = side(cur), side(prev)
        if (sc >= 0) != (sp >= 0):
            f = sp / (sp - sc)
            out.append((prev[0] + f * (cur[0] - prev[0]), prev[1] + f * (cur[1] - prev[1])))
        if sc >= 0:
            out.append(cur)
    return out
