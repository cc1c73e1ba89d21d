"""Charts as plain shapes, drawn once and rendered twice: to inline SVG and into the PDF.

One job: turn the debrief's time series into a ``Drawing`` (lines, polylines, rectangles,
circles, text in a coordinate space of points, y downwards as in SVG). ``svg.py`` and
``pdf.py`` each render a ``Drawing``; neither knows what a chart is, and the charts know
nothing of either format, so the HTML and the PDF show the same picture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

Color = tuple[int, int, int]

INK: Color = (34, 34, 34)
GRID: Color = (221, 221, 221)
MUTED: Color = (120, 120, 120)
CATEGORY_COLORS: dict[str, Color] = {
    "C1": (200, 30, 45),
    "C2": (230, 120, 20),
    "C3": (40, 110, 190),
    "C4": (60, 150, 80),
}
STATUS_GROUPS: tuple[tuple[str, tuple[str, ...], Color], ...] = (
    ("available", ("available",), (90, 170, 90)),
    ("en route", ("mobilising", "to_scene"), (220, 80, 60)),
    ("on scene", ("on_scene",), (240, 170, 40)),
    ("to / at hospital", ("to_hospital", "at_hospital"), (130, 90, 170)),
    ("clearing, returning", ("clearing", "returning"), (80, 140, 200)),
    ("off duty", ("off_duty",), (200, 200, 200)),
)


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    color: Color = INK
    width: float = 1.0
    dash: tuple[float, ...] = ()


@dataclass(frozen=True)
class Polyline:
    points: tuple[tuple[float, float], ...]
    color: Color = INK
    width: float = 1.0
    fill: Color | None = None  # a closed, filled polygon when set
    dash: tuple[float, ...] = ()


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: Color | None = None
    color: Color | None = None
    width: float = 1.0


@dataclass(frozen=True)
class Circle:
    cx: float
    cy: float
    r: float
    fill: Color = INK


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # the baseline
    text: str
    size: float = 8.0
    anchor: str = "start"  # start | middle | end
    color: Color = INK
    bold: bool = False


Shape = Line | Polyline | Rect | Circle | Text


@dataclass
class Drawing:
    width: float
    height: float
    title: str = ""
    shapes: list[Shape] = field(default_factory=list)

    def add(self, shape: Shape) -> None:
        self.shapes.append(shape)


# --- axes ---------------------------------------------------------------------------------------


def nice_step(span: float, target: int = 5) -> float:
    """A round step (1, 2, 5 x 10^k) giving about ``target`` ticks over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / target
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power


def clock_label(t: float, start_min: int) -> str:
    minutes = int((start_min + t / 60.0) % 1440)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Frame:
    """A plot area inside a drawing, mapping data (t seconds, y) to points."""

    left: float
    top: float
    width: float
    height: float
    t0: float
    t1: float
    y0: float
    y1: float

    def x(self, t: float) -> float:
        span = self.t1 - self.t0 or 1.0
        return self.left + (min(max(t, self.t0), self.t1) - self.t0) / span * self.width

    def y(self, v: float) -> float:
        span = self.y1 - self.y0 or 1.0
        return (
            self.top + self.height - (min(max(v, self.y0), self.y1) - self.y0) / span * self.height
        )


def _axes(d: Drawing, f: Frame, start_min: int, y_label: str, y_step: float) -> None:
    hours = max(1.0, (f.t1 - f.t0) / 3600.0)
    t_step = 3600.0 * (1 if hours <= 8 else 2 if hours <= 16 else 3)
    t = f.t0
    while t <= f.t1 + 1e-6:
        x = f.x(t)
        d.add(Line(x, f.top, x, f.top + f.height, GRID, 0.5))
        d.add(Text(x, f.top + f.height + 10, clock_label(t, start_min), 7, "middle", MUTED))
        t += t_step
    v = f.y0
    while v <= f.y1 + 1e-9:
        y = f.y(v)
        d.add(Line(f.left, y, f.left + f.width, y, GRID, 0.5))
        d.add(Text(f.left - 4, y + 2.5, f"{v:g}", 7, "end", MUTED))
        v += y_step
    d.add(Rect(f.left, f.top, f.width, f.height, None, MUTED, 0.6))
    d.add(Text(f.left, f.top - 4, y_label, 7, "start", MUTED))


def _legend(d: Drawing, x: float, y: float, items: Sequence[tuple[str, Color]]) -> None:
    for label, color in items:
        d.add(Rect(x, y - 7, 8, 8, color))
        d.add(Text(x + 11, y, label, 7))
        x += 16 + 4.6 * len(label)


# --- the three charts ---------------------------------------------------------------------------


def response_chart(
    points: dict[str, list[tuple[float, float]]],
    standards: dict[str, tuple[float | None, float | None, str]],
    duration_s: float,
    start_min: int,
) -> Drawing:
    """Response times (minutes) of each incident at its clock stop, one panel per category,
    with the standard's mean (dotted) and 90th centile or 'within' time (dashed)."""
    width, panel_h, gap = 520.0, 88.0, 30.0
    d = Drawing(width, 4 * (panel_h + gap) + 6, "Response times by category over the shift")
    for k, cat in enumerate(("C1", "C2", "C3", "C4")):
        values = points.get(cat, [])
        mean_s, limit_s, describe = standards.get(cat, (None, None, ""))
        top = 16 + k * (panel_h + gap)
        highest = max([v for _, v in values] + [(limit_s or 0) / 60.0 * 1.15, 5.0])
        step = nice_step(highest, 4)
        f = Frame(
            50, top, width - 60, panel_h, 0.0, duration_s, 0.0, math.ceil(highest / step) * step
        )
        _axes(d, f, start_min, f"{cat} response (min)", step)
        color = CATEGORY_COLORS[cat]
        if limit_s is not None:
            y = f.y(limit_s / 60.0)
            d.add(Line(f.left, y, f.left + f.width, y, color, 1.0, (4, 3)))
        if mean_s is not None:
            y = f.y(mean_s / 60.0)
            d.add(Line(f.left, y, f.left + f.width, y, color, 1.0, (1, 2)))
        for t, v in values:
            over = limit_s is not None and v * 60.0 > limit_s
            d.add(Circle(f.x(t), f.y(v), 2.2 if over else 1.7, color if over else _tint(color)))
        hourly = _hourly_means(values, duration_s)
        if len(hourly) >= 2:
            d.add(Polyline(tuple((f.x(t), f.y(v)) for t, v in hourly), color, 1.3))
        d.add(
            Text(
                f.left + f.width,
                f.top - 4,
                f"{len(values)} {'response' if len(values) == 1 else 'responses'}; "
                f"standard: {describe or '-'}",
                7,
                "end",
                MUTED,
            )
        )
    return d


def _tint(color: Color) -> Color:
    return tuple(int(c + (255 - c) * 0.45) for c in color)  # type: ignore[return-value]


def _hourly_means(
    values: list[tuple[float, float]], duration_s: float
) -> list[tuple[float, float]]:
    buckets: dict[int, list[float]] = {}
    for t, v in values:
        buckets.setdefault(int(t // 3600), []).append(v)
    return [
        (min((h + 0.5) * 3600.0, duration_s), sum(vs) / len(vs))
        for h, vs in sorted(buckets.items())
    ]


def queue_chart(
    series: list[tuple[float, int, int, int]], duration_s: float, start_min: int
) -> Drawing:
    """Calls ringing, incidents waiting for a vehicle, and the clinical hub's stack."""
    width, height = 520.0, 170.0
    d = Drawing(width, height + 40, "Queues over the shift")
    highest = max([max(r, q, h) for _, r, q, h in series] + [4])
    step = nice_step(highest, 4)
    f = Frame(
        50, 16, width - 60, height - 20, 0.0, duration_s, 0.0, math.ceil(highest / step) * step
    )
    _axes(d, f, start_min, "count", step)
    names = (
        ("calls ringing", 1, (200, 30, 45)),
        ("dispatch queue", 2, (40, 110, 190)),
        ("clinical hub stack", 3, (60, 150, 80)),
    )
    for _label, index, color in names:
        pts: list[tuple[float, float]] = []
        for row in series:
            x, y = f.x(row[0]), f.y(row[index])
            if pts:
                pts.append((x, pts[-1][1]))  # a step: the count holds until the next sample
            pts.append((x, y))
        if pts:
            d.add(Polyline(tuple(pts), color, 1.1))
    _legend(d, f.left, height + 34, [(n, c) for n, _, c in names])
    return d


def status_chart(
    series: list[tuple[float, dict[str, int]]], duration_s: float, start_min: int
) -> Drawing:
    """Vehicles by status over the shift, stacked."""
    width, height = 520.0, 170.0
    d = Drawing(width, height + 40, "Vehicles by status over the shift")
    totals = [sum(c.values()) for _, c in series] or [1]
    highest = max(totals + [1])
    step = nice_step(highest, 4)
    f = Frame(
        50, 16, width - 60, height - 20, 0.0, duration_s, 0.0, math.ceil(highest / step) * step
    )
    _axes(d, f, start_min, "vehicles", step)
    base = [0.0] * len(series)
    for _label, statuses, color in STATUS_GROUPS:
        upper = [
            b + sum(c.get(s, 0) for s in statuses) for b, (_, c) in zip(base, series, strict=True)
        ]
        if any(u > b for u, b in zip(upper, base, strict=True)):
            top_pts = [(f.x(t), f.y(u)) for (t, _), u in zip(series, upper, strict=True)]
            bottom_pts = [(f.x(t), f.y(b)) for (t, _), b in zip(series, base, strict=True)]
            d.add(Polyline(tuple(top_pts + bottom_pts[::-1]), color, 0.0, fill=color))
        base = upper
    _legend(d, f.left, height + 34, [(n, c) for n, _, c in STATUS_GROUPS])
    return d
