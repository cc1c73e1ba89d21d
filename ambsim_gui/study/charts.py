"""A study report's charts, drawn with matplotlib (no screen: the Agg backend) as inline SVG.

A chart with ``x`` (a grid path) draws a figure's mean against that override's value, one line
a policy (and a line for each combination of the other overrides), with the 95% interval as
error bars; without ``x``, one bar a variant and policy. A ``band`` is shaded across.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.hashsalt"] = "ambsim"  # the same chart, the same SVG text
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend

from ambsim_gui.study.figures import BY_KEY  # noqa: E402
from ambsim_gui.study.model import Chart  # noqa: E402

if TYPE_CHECKING:
    from ambsim_gui.study.report import StudyReport

_SHARE = "share"


def _scale(value: float, unit: str) -> float:
    return value * 100 if unit == _SHARE else value


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def chart_svg(report: StudyReport, chart: Chart) -> str:
    fig_def = BY_KEY[chart.figure]
    unit = fig_def.unit
    figure, ax = plt.subplots(figsize=(7.5, 4.2), dpi=100)
    try:
        if chart.band is not None:
            ax.axhspan(
                _scale(chart.band.low, unit),
                _scale(chart.band.high, unit),
                color="#2a9d8f",
                alpha=0.15,
                label=chart.band.label or "band",
            )
        if chart.x is not None:
            _lines(report, chart, ax, unit)
        else:
            _bars(report, chart, ax, unit)
        ylabel = fig_def.label + (" (%)" if unit == _SHARE else " (min)" if unit == "min" else "")
        ax.set_ylabel(ylabel)
        ax.set_title(chart.title or f"{fig_def.label}: mean and 95% interval")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    finally:
        plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _lines(report: StudyReport, chart: Chart, ax: Any, unit: str) -> None:
    assert chart.x is not None
    groups: dict[tuple[str, str], list[tuple[Any, Any]]] = {}
    varying = {
        p for p in report.spec.grid if len({str(v.overrides.get(p)) for v in report.variants}) > 1
    }
    for variant in report.variants:
        rest = ", ".join(
            f"{p}={v}" for p, v in variant.overrides.items() if p != chart.x and p in varying
        )
        for policy in report.spec.policies:
            cell = report.cell(chart.figure, variant.id, policy)
            groups.setdefault((policy, rest), []).append((variant.overrides.get(chart.x), cell))
    xs_all = [x for points in groups.values() for x, _ in points]
    numeric = all(_numeric(x) for x in xs_all)
    order = sorted(set(xs_all)) if numeric else list(dict.fromkeys(xs_all))
    for (line_policy, rest), points in groups.items():
        pts = [(x, c.estimate) for x, c in points if c.estimate.mean is not None]
        if not pts:
            continue
        xs = [x if numeric else order.index(x) for x, _ in pts]
        means = [_scale(e.mean or 0.0, unit) for _, e in pts]
        errs = [_scale(e.half_width or 0.0, unit) for _, e in pts]
        label = line_policy if not rest else f"{line_policy}; {rest}"
        # categories (a regime's name) are not on a scale: points, no line between them
        style = "-" if numeric else "none"
        ax.errorbar(xs, means, yerr=errs, marker="o", capsize=4, linestyle=style, label=label)
    if not numeric or all(isinstance(x, int) for x in order):
        ticks = order if numeric else range(len(order))
        ax.set_xticks(list(ticks), [str(x) for x in order])
    ax.set_xlabel(chart.x)


def _bars(report: StudyReport, chart: Chart, ax: Any, unit: str) -> None:
    policies = report.spec.policies
    width = 0.8 / len(policies)
    for j, policy in enumerate(policies):
        means, errs = [], []
        for variant in report.variants:
            e = report.cell(chart.figure, variant.id, policy).estimate
            means.append(_scale(e.mean or 0.0, unit))
            errs.append(_scale(e.half_width or 0.0, unit))
        xs = [i + (j - (len(policies) - 1) / 2) * width for i in range(len(report.variants))]
        ax.bar(xs, means, width=width, yerr=errs, capsize=4, label=policy)
    ax.set_xticks(
        range(len(report.variants)),
        [v.label for v in report.variants],
        rotation=15,
        ha="right",
        fontsize="small",
    )
