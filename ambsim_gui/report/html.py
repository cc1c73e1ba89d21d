"""The debrief as one self-contained HTML file: inline CSS, inline SVG charts, no scripts.

One job: format a ``Debrief`` for a browser. Long lists fold away in ``<details>`` so the page
opens on the headline figures; nothing is fetched from the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ambsim_gui.report import charts
from ambsim_gui.report.data import (
    DECISION_HEADER,
    Debrief,
    decision_row,
    fmt_value,
    headline_rows,
)
from ambsim_gui.report.svg import to_svg

CSS = """
body{font-family:Helvetica,Arial,sans-serif;color:#222;margin:2em auto;max-width:60em;
padding:0 1em;line-height:1.4;font-size:14px}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.8em;
border-bottom:1px solid #ccc;padding-bottom:.2em}h3{font-size:1.05em}
table{border-collapse:collapse;width:100%;margin:.5em 0 1em}
th,td{border-bottom:1px solid #ddd;padding:.25em .45em;text-align:left;vertical-align:top;
font-size:.92em}th{background:#eee}
td.num{text-align:right;white-space:nowrap}
.missed{color:#b00020;font-weight:bold}.met{color:#1b7a2b}
.good{background:#f0f8f0}.bad{background:#fdf0f0}
.muted{color:#666}.note{color:#555;font-style:italic}
.sev2{color:#b00020}.sev1{color:#9a5b00}
figure{margin:1em 0}figcaption{font-weight:bold;margin-bottom:.3em}
details{margin:.5em 0}summary{cursor:pointer;font-weight:bold}
"""


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str]], classes: Sequence[str] | None = None
) -> str:
    out = ["<table><thead><tr>"]
    out += [f"<th>{escape(h)}</th>" for h in header]
    out.append("</tr></thead><tbody>")
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _verdict_cell(text: str) -> str:
    if text == "MISSED":
        return '<span class="missed">MISSED</span>'
    if text == "met":
        return '<span class="met">met</span>'
    return escape(text)


def render_html(d: Debrief) -> str:
    s = d.scenario
    title = f"Debrief: {s.name}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="muted">{escape(session_line(d))}</p>',
    ]
    if d.verification is not None:
        parts.append(f"<p><b>Recording check:</b> {escape(d.verification.message)}</p>")
    for note in d.notes:
        parts.append(f'<p class="note">{escape(note)}</p>')
    if s.description:
        parts.append(f"<p>{escape(s.description)}</p>")
    if s.learning_objectives:
        parts.append("<h3>Learning objectives</h3><ul>")
        parts += [f"<li>{escape(o)}</li>" for o in s.learning_objectives]
        parts.append("</ul>")

    # headline figures against the standards
    parts.append(f"<h2>Headline figures ({escape(d.metrics.regime_label)})</h2>")
    parts.append(
        "<table><thead><tr><th>Figure</th><th>This shift</th><th>Standard / reference</th>"
        "<th>Result</th></tr></thead><tbody>"
    )
    for label, value, reference, verdict in headline_rows(d):
        parts.append(
            f"<tr><td>{escape(label)}</td><td>{escape(value)}</td><td>{escape(reference)}</td>"
            f"<td>{_verdict_cell(verdict)}</td></tr>"
        )
    parts.append("</tbody></table>")

    # against the expert
    c = d.comparison
    if c is not None:
        parts.append("<h2>Against the expert</h2>")
        parts.append(
            '<p class="muted">The same scenario, seed and injects, played by the built-in expert '
            "in every seat.</p>"
        )
        rows: list[tuple[str, ...]] = []
        classes = []
        for row in c.headline:
            better = row.better()
            rows.append(
                (
                    row.label,
                    fmt_value(row.trainee, row.unit),
                    fmt_value(row.expert, row.unit),
                    {"trainee": "you", "expert": "expert", None: "="}[better],
                )
            )
            classes.append({"trainee": "good", "expert": "bad", None: ""}[better])
        parts.append(_table(("Figure", "You", "Expert", "Better"), rows, classes))
        for note in c.notes:
            parts.append(f'<p class="note">{escape(note)}</p>')

    # charts
    parts.append("<h2>The shift in charts</h2>")
    for drawing in chart_drawings(d):
        parts.append(f"<figure><figcaption>{escape(drawing.title)}</figcaption>")
        parts.append(to_svg(drawing))
        parts.append("</figure>")

    # key moments
    key = [m for m in d.markers if m.severity >= 2]
    parts.append(f"<h2>Key moments ({len(key)})</h2>")
    if key:
        moments = [(d.clock(m.t), m.kind.replace("_", " "), m.label) for m in key]
        parts.append(
            f"<details{' open' if len(moments) <= 30 else ''}><summary>Standards breached, "
            "unsafe advice and harm</summary>"
            + _table(("Time", "What", "Detail"), moments)
            + "</details>"
        )
    else:
        parts.append("<p>No standard breached, no unsafe advice, no harm.</p>")

    # decisions with feedback
    parts.append(f"<h2>Your decisions ({d.trainee_calls} calls)</h2>")
    if d.decisions:
        calls = [decision_row(d, r) for r in d.decisions]
        marks = ["good" if r.get("good") else "bad" for r in d.decisions]
        good = sum(1 for r in d.decisions if r.get("good"))
        parts.append(
            f"<p>{good} of {len(d.decisions)} matched the ideal decision with no problem.</p>"
        )
        parts.append(
            f"<details{' open' if len(calls) <= 60 else ''}><summary>Every call, with its "
            "feedback</summary>" + _table(DECISION_HEADER, calls, marks) + "</details>"
        )
    else:
        parts.append("<p>The trainee's seat closed no call in this recording.</p>")
    if c is not None and c.differing:
        patients = [
            (
                d.clock(x.trainee.t_created),
                x.patient_id,
                x.truth,
                x.trainee.summary(),
                x.expert.summary() if x.expert else "-",
                "; ".join(x.differences),
            )
            for x in c.differing
        ]
        parts.append(
            f"<details><summary>Patients the expert handled differently ({len(patients)})"
            "</summary>"
            + _table(("Arrived", "Patient", "Truth", "You", "Expert", "Differences"), patients)
            + "</details>"
        )

    # annotations
    parts.append(f"<h2>Instructor's notes ({len(d.annotations)})</h2>")
    if d.annotations:
        notes = [(d.clock(a.t), a.call_id or "-", a.author, a.text) for a in d.annotations]
        parts.append(_table(("Time", "Call", "By", "Note"), notes))
    else:
        parts.append("<p>None.</p>")
    if s.debrief_hint:
        parts.append(f"<h3>Debrief hint</h3><p>{escape(s.debrief_hint)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def session_line(d: Debrief) -> str:
    info = d.info
    who = f"autopilot {info.autopilot}" if info.autopilot else "played by a trainee"
    span = (
        "the whole shift"
        if d.complete
        else f"recording ends at {d.clock(d.end_t)} (shift not finished)"
    )
    return (
        f"Session recorded {info.created} with ambsim {info.program_version}; scenario "
        f"{info.scenario_stem} (sha256 {info.scenario_sha256[:12]}), seed {info.seed}, role "
        f"{info.role or '-'}, {who}; starts {d.scenario.start}; {span}."
    )


def chart_drawings(d: Debrief) -> list[charts.Drawing]:
    duration = max(d.end_t, 1.0)
    return [
        charts.response_chart(d.response_points, d.standards, duration, d.start_min),
        charts.queue_chart(d.queue_series, duration, d.start_min),
        charts.status_chart(d.status_series, duration, d.start_min),
    ]
