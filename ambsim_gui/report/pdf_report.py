"""The debrief as a PDF: the same sections and figures as the HTML, laid out by ``pdf.py``."""

from __future__ import annotations

from ambsim_gui.report.data import (
    DECISION_HEADER,
    Debrief,
    decision_row,
    fmt_value,
    headline_rows,
)
from ambsim_gui.report.html import chart_drawings, session_line
from ambsim_gui.report.pdf import Block, Chart, Heading, PageBreak, Paragraph, Spacer, Table, render

GOOD = (236, 246, 236)
BAD = (252, 236, 236)


def blocks(d: Debrief) -> list[Block]:
    s = d.scenario
    out: list[Block] = [
        Heading(f"Debrief: {s.name}", 1),
        Paragraph(session_line(d), 8, color=(100, 100, 100)),
    ]
    if d.verification is not None:
        out.append(Paragraph(f"Recording check: {d.verification.message}", 9, bold=True))
    out += [Paragraph(note, 8.5, color=(90, 90, 90)) for note in d.notes]
    if s.description:
        out.append(Paragraph(s.description))
    if s.learning_objectives:
        out.append(Heading("Learning objectives", 3))
        out += [Paragraph(f"- {o}") for o in s.learning_objectives]

    out.append(Heading(f"Headline figures ({d.metrics.regime_label})", 2))
    rows = headline_rows(d)
    out.append(
        Table(
            ("Figure", "This shift", "Standard / reference", "Result"),
            tuple(rows),
            (2.2, 2.6, 2.6, 1.0),
            shade=tuple(BAD if r[3] == "MISSED" else None for r in rows),
        )
    )

    c = d.comparison
    if c is not None:
        out.append(Heading("Against the expert", 2))
        out.append(
            Paragraph(
                "The same scenario, seed and injects, played by the built-in expert in every seat.",
                8.5,
                color=(100, 100, 100),
            )
        )
        rows2 = []
        shade = []
        for row in c.headline:
            better = row.better()
            rows2.append(
                (
                    row.label,
                    fmt_value(row.trainee, row.unit),
                    fmt_value(row.expert, row.unit),
                    {"trainee": "you", "expert": "expert", None: "="}[better],
                )
            )
            shade.append({"trainee": GOOD, "expert": BAD, None: None}[better])
        out.append(
            Table(
                ("Figure", "You", "Expert", "Better"),
                tuple(rows2),
                (3, 2, 2, 1),
                shade=tuple(shade),
            )
        )
        out += [Paragraph(note, 8, color=(90, 90, 90)) for note in c.notes]

    out.append(PageBreak())
    out.append(Heading("The shift in charts", 2))
    for drawing in chart_drawings(d):
        out.append(Chart(drawing))
        out.append(Spacer(6))

    key = [m for m in d.markers if m.severity >= 2]
    out.append(Heading(f"Key moments ({len(key)})", 2))
    if key:
        out.append(
            Table(
                ("Time", "What", "Detail"),
                tuple((d.clock(m.t), m.kind.replace("_", " "), m.label) for m in key),
                (1, 1.4, 6),
            )
        )
    else:
        out.append(Paragraph("No standard breached, no unsafe advice, no harm."))

    out.append(Heading(f"Your decisions ({d.trainee_calls} calls)", 2))
    if d.decisions:
        good = sum(1 for r in d.decisions if r.get("good"))
        out.append(
            Paragraph(f"{good} of {len(d.decisions)} matched the ideal decision with no problem.")
        )
        out.append(
            Table(
                DECISION_HEADER,
                tuple(decision_row(d, r) for r in d.decisions),
                (0.9, 0.9, 0.5, 0.9, 1.2, 1.2, 4.4),
                size=7.0,
                shade=tuple(GOOD if r.get("good") else BAD for r in d.decisions),
            )
        )
    else:
        out.append(Paragraph("The trainee's seat closed no call in this recording."))
    if c is not None and c.differing:
        out.append(Heading(f"Patients the expert handled differently ({len(c.differing)})", 3))
        out.append(
            Table(
                ("Arrived", "Patient", "Truth", "You", "Expert", "Differences"),
                tuple(
                    (
                        d.clock(x.trainee.t_created),
                        x.patient_id,
                        x.truth,
                        x.trainee.summary(),
                        x.expert.summary() if x.expert else "-",
                        "; ".join(x.differences),
                    )
                    for x in c.differing
                ),
                (0.8, 0.9, 2, 2, 2, 2.6),
                size=6.8,
            )
        )

    out.append(Heading(f"Instructor's notes ({len(d.annotations)})", 2))
    if d.annotations:
        out.append(
            Table(
                ("Time", "Call", "By", "Note"),
                tuple((d.clock(a.t), a.call_id or "-", a.author, a.text) for a in d.annotations),
                (1, 1, 1.2, 6),
            )
        )
    else:
        out.append(Paragraph("None."))
    if s.debrief_hint:
        out.append(Heading("Debrief hint", 3))
        out.append(Paragraph(s.debrief_hint))
    return out


def render_pdf(d: Debrief) -> bytes:
    title = f"Debrief: {d.scenario.name}"
    footer = f"ambsim debrief - {d.scenario.name} - seed {d.info.seed}"
    return render(blocks(d), title=title, footer=footer)
