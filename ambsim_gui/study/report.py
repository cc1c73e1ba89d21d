"""A study's report from its results folder: each figure by variant and policy, with its mean
and 95% confidence interval (``stats.py``), as a terminal table and as HTML with charts.

Only the shifts of the study as last run count (the table ``current``); failed shifts are
listed with their errors and left out of the means.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ambsim_gui.calibration import Figure
from ambsim_gui.study.figures import BY_KEY
from ambsim_gui.study.model import Chart, StudyFile
from ambsim_gui.study.stats import Estimate, estimate
from ambsim_gui.study.store import FAILED, OK, RESULTS, ResultStore


class NoStudy(ValueError):
    """A folder without a study's results."""


@dataclass(frozen=True)
class VariantInfo:
    id: str
    label: str
    overrides: dict[str, Any]


@dataclass(frozen=True)
class Cell:
    figure: str
    variant: VariantInfo
    policy: str
    shifts: int  # rows ok
    failed: int
    missing: int  # shifts of this variant and policy not in the table yet
    estimate: Estimate


@dataclass
class StudyReport:
    folder: Path
    spec: StudyFile
    base: str
    variants: list[VariantInfo]
    seeds: list[int]
    rows: list[dict[str, Any]]
    cells: dict[tuple[str, str, str], Cell]  # (figure, variant id, policy)

    @property
    def failed_rows(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["status"] == FAILED]

    def cell(self, figure: str, variant: str, policy: str) -> Cell:
        return self.cells[(figure, variant, policy)]


def load_report(folder: str | Path) -> StudyReport:
    path = Path(folder)
    if not (path / RESULTS).is_file():
        raise NoStudy(f"{folder}: no {RESULTS} here (run: python main.py study FILE -o {folder})")
    with ResultStore(path) as store:
        meta = store.meta()
        rows = store.current_rows()
    spec = StudyFile.model_validate_json(meta["study"])
    variants = [
        VariantInfo(v["id"], v["label"], v["overrides"]) for v in json.loads(meta["variants"])
    ]
    seeds = json.loads(meta["seeds"])
    cells: dict[tuple[str, str, str], Cell] = {}
    for variant in variants:
        for policy in spec.policies:
            mine = [r for r in rows if r["variant"] == variant.id and r["policy"] == policy]
            ok = [r for r in mine if r["status"] == OK]
            for key in spec.figures:
                cells[(key, variant.id, policy)] = Cell(
                    figure=key,
                    variant=variant,
                    policy=policy,
                    shifts=len(ok),
                    failed=len(mine) - len(ok),
                    missing=len(seeds) - len(mine),
                    estimate=estimate([r[key] for r in ok]),
                )
    return StudyReport(path, spec, meta.get("base", ""), variants, seeds, rows, cells)


# --- words and numbers ------------------------------------------------------------------------


def value_text(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "count" and abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def interval_text(e: Estimate, unit: str) -> str:
    if e.low is None or e.high is None:
        return "-"
    return f"{value_text(e.low, unit)} to {value_text(e.high, unit)}"


def figure_label(fig: Figure) -> str:
    return f"{fig.label} (min)" if fig.unit == "min" else fig.label


def header_lines(report: StudyReport) -> list[str]:
    spec = report.spec
    ok = sum(r["status"] == OK for r in report.rows)
    expected = len(report.variants) * len(spec.policies) * len(report.seeds)
    hours = f"{spec.hours:g} h of each shift" if spec.hours else "whole shifts"
    return [
        f"Study: {spec.name} (base scenario {report.base}); {hours}",
        f"{len(report.variants)} variant(s) x {len(spec.policies)} policies"
        f" ({', '.join(spec.policies)}) x {len(report.seeds)} seeds = {expected} shifts:"
        f" {ok} ok, {len(report.failed_rows)} failed, {expected - len(report.rows)} not played",
        "each figure: mean over the shifts that had it (n), with its 95% confidence interval"
        " (Student's t); figures at the end of the shift (docs/domain.md, Studies)",
    ]


HEADINGS = ("Variant", "Policy", "n", "Mean", "95% CI")


def figure_rows(report: StudyReport, key: str) -> list[tuple[str, str, str, str, str]]:
    fig = BY_KEY[key]
    out: list[tuple[str, str, str, str, str]] = []
    for variant in report.variants:
        for policy in report.spec.policies:
            c = report.cell(key, variant.id, policy)
            n = f"{c.estimate.n}" + (f" ({c.failed} failed)" if c.failed else "")
            out.append(
                (
                    variant.label,
                    policy,
                    n,
                    value_text(c.estimate.mean, fig.unit),
                    interval_text(c.estimate, fig.unit),
                )
            )
    return out


def format_table(report: StudyReport) -> str:
    """Every figure's block as fixed-width text for the terminal."""
    lines = [*header_lines(report)]
    for key in report.spec.figures:
        rows = [HEADINGS, *figure_rows(report, key)]
        widths = [max(len(r[i]) for r in rows) for i in range(len(HEADINGS))]
        lines += ["", figure_label(BY_KEY[key])]
        for n, row in enumerate(rows):
            cells = [
                c.rjust(widths[i]) if i in (2, 3) else c.ljust(widths[i]) for i, c in enumerate(row)
            ]
            lines.append("  " + "  ".join(cells).rstrip())
            if n == 0:
                lines.append("  " + "-" * (len(lines[-1]) - 2))
    if report.failed_rows:
        lines += ["", "Failed shifts:"]
        lines += [
            f"  {r['label']} / {r['policy']} / seed {r['seed']}: {r['error']}"
            for r in report.failed_rows
        ]
    return "\n".join(lines)


# --- HTML -------------------------------------------------------------------------------------


def default_charts(report: StudyReport) -> list[Chart]:
    """Without charts in the study file: each figure against the first grid path with more than
    one value, or one bar a variant."""
    axis = next((p for p, values in report.spec.grid.items() if len(values) > 1), None)
    return [Chart(figure=key, x=axis) for key in report.spec.figures]


_STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border-bottom: 1px solid #ccc; padding: 0.2em 0.8em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; } .note { white-space: pre-wrap; background: #f6f6f6; padding: 0.8em; }
"""


def render_html(report: StudyReport) -> str:
    from ambsim_gui.study.charts import chart_svg

    spec = report.spec
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>Study: {esc(spec.name)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Study: {esc(spec.name)}</h1>",
    ]
    parts += [f"<p>{esc(line)}</p>" for line in header_lines(report)]
    if spec.note:
        parts.append(f"<div class='note'>{esc(spec.note.strip())}</div>")
    parts.append("<h2>Charts</h2>")
    for chart in spec.charts or default_charts(report):
        parts.append(f"<figure>{chart_svg(report, chart)}</figure>")
    parts.append("<h2>Figures</h2>")
    for key in spec.figures:
        parts.append(f"<h3>{esc(figure_label(BY_KEY[key]))}</h3><table><tr>")
        parts += [f"<th>{esc(h)}</th>" for h in HEADINGS]
        parts.append("</tr>")
        for row in figure_rows(report, key):
            cells = [
                f"<td class='num'>{esc(c)}</td>" if i >= 2 else f"<td>{esc(c)}</td>"
                for i, c in enumerate(row)
            ]
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</table>")
    if report.failed_rows:
        parts.append(
            "<h2>Failed shifts</h2><table><tr><th>Variant</th><th>Policy</th>"
            "<th>Seed</th><th>Error</th></tr>"
        )
        for r in report.failed_rows:
            parts.append(
                f"<tr><td>{esc(r['label'])}</td><td>{esc(r['policy'])}</td>"
                f"<td>{r['seed']}</td><td>{esc(str(r['error']))}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_html(report: StudyReport, path: str | Path) -> None:
    Path(path).write_text(render_html(report), encoding="utf-8")
