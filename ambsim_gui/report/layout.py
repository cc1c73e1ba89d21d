"""What the debrief says and in what order: one ``Document`` built from the report's data.

One job: ``debrief_document(debrief)`` lays the debrief out once, section by section (the
session, the headline figures against the standards, the expert's shift beside the trainee's,
the charts, the key moments, the trainee's decisions with their feedback, the instructor's
notes), with every figure already worded. The HTML and the PDF render this same document, so
a section, its title and its figures are defined here and nowhere else.
"""

from __future__ import annotations

from typing import Any

from ambsim_gui.assess.feedback import (
    PROBLEM,
    TRAINEE,
    LaterFinding,
    feedback_from_json,
    findings_line,
    grouped_findings,
    standing,
)
from ambsim_gui.assess.metrics import MetricsReport
from ambsim_gui.assess.report_text import (
    OUTCOME_REFERENCE,
    mmss,
    range_verdict,
    response_verdict,
    waiting_words,
)
from ambsim_gui.labels import (
    action_words,
    disposition_words,
    ideal_words,
    outcome_words,
    role_words,
)
from ambsim_gui.record.dispatch_review import FATE_WORDS, NEAREST_SLACK_S, DispatchReview
from ambsim_gui.report import charts
from ambsim_gui.report.data import Debrief
from ambsim_gui.report.document import (
    Block,
    BulletList,
    Callout,
    Cell,
    Chart,
    Column,
    Document,
    Fold,
    Heading,
    PageBreak,
    Paragraph,
    Table,
    Tone,
)
from ambsim_gui.report.key_moments import rank_key_moments

DECISIONS_OPEN_UP_TO = 60


def debrief_document(d: Debrief) -> Document:
    s = d.scenario
    title = f"Debrief: {s.name}"
    blocks: list[Block] = [Heading(title, 1), Paragraph(session_line(d), "meta")]
    if d.verification is not None:
        blocks.append(Callout("Recording check", d.verification.message))
    blocks += [Paragraph(note, "note") for note in d.notes]
    if s.description:
        blocks.append(Paragraph(s.description))
    if s.learning_objectives:
        blocks += [Heading("Learning objectives", 3), BulletList(tuple(s.learning_objectives))]
    blocks += objectives_section(d)
    blocks += headline_section(d)
    blocks += expert_section(d)
    blocks.append(PageBreak())
    blocks += chart_section(d)
    blocks += key_moments_section(d)
    blocks += decisions_section(d)
    blocks += dispatching_section(d)
    blocks += notes_section(d)
    return Document(
        title=title,
        footer=f"ambsim debrief - {s.name} - seed {d.info.seed}",
        blocks=tuple(blocks),
    )


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
        f"{role_words(info.role)}, {who}; starts {d.scenario.start}; {span}."
    )


# --- the sections -------------------------------------------------------------------------------


def headline_section(d: Debrief) -> list[Block]:
    out: list[Block] = [
        Heading(f"Headline figures ({d.metrics.regime_label})"),
        Paragraph(window_sentence(d, d.metrics), "lead"),
        figures_table(headline_rows(d)),
    ]
    if d.runs_on:
        out += [
            Heading("After the run-out", 3),
            Paragraph(window_sentence(d, d.run_out), "lead"),
            figures_table(headline_rows(d, d.run_out)),
        ]
    else:
        end = d.metrics
        out.append(
            Paragraph(
                "No run-out in this recording: it has no event after the shift's end"
                f" ({end.outcomes.open} incidents still open, {end.still_waiting} still"
                " waiting for a vehicle).",
                "footnote",
            )
        )
    return out


def figures_table(rows: list[tuple[str, str, str, str]]) -> Table:
    verdict: dict[str, Tone] = {"MISSED": "bad", "met": "good"}  # "open ...": unshaded
    return Table(
        (
            Column("Figure", 2.2),
            Column("This shift", 2.6),
            Column("Standard / reference", 2.6),
            Column("Result", 1.0),
        ),
        tuple((*r[:3], Cell(r[3], verdict.get(r[3]))) for r in rows),
        tones=tuple("bad" if r[3] == "MISSED" else None for r in rows),
    )


def window_sentence(d: Debrief, m: MetricsReport) -> str:
    """What a table of figures counts: its window, the incidents waiting, the open ones."""
    o = m.outcomes
    if m.window == "run_out":
        when = f"After the run-out: every event, to {d.clock(m.t)}."
    elif m.shift_end_s is not None and m.t < m.shift_end_s - 1e-6:
        when = f"At {d.clock(m.t)}, where the recording stops (before the shift's end)."
    else:
        when = f"At the end of the shift ({d.clock(m.t)})."
    waiting = (
        f" Response figures include {m.still_waiting} incidents still waiting for a vehicle,"
        " each counted with its wait so far (a lower bound): a standard missed is missed, and"
        " one not yet missed is open, not met, while its patients wait."
        if m.still_waiting
        else " Response figures count the responses that arrived."
    )
    shares = (
        f" Outcome shares are of the {o.closed} closed incidents; {o.open} were still open."
        if o.open
        else f" Outcome shares are of the {o.closed} closed incidents."
    )
    return when + waiting + shares


def expert_section(d: Debrief) -> list[Block]:
    c = d.comparison
    if c is None:
        return []
    rows: list[tuple[str, ...]] = []
    tones: list[Tone] = []
    for row in c.headline:
        better = row.better()
        verdict = {"trainee": "you", "expert": "expert", None: "="}[better]
        if row.undecided:
            verdict = "no verdict"
        rows.append(
            (
                row.label,
                fmt_value(row.trainee, row.unit) + _waiting_suffix(row.trainee_waiting),
                fmt_value(row.expert, row.unit) + _waiting_suffix(row.expert_waiting),
                verdict,
            )
        )
        tones.append({"trainee": "good", "expert": "bad", None: None}[better])
    withheld = sorted({row.withheld for row in c.headline if row.withheld})
    return [
        Heading("Against the expert"),
        Paragraph(
            "The same scenario, seed and injects, played by the built-in expert in every seat.",
            "lead",
        ),
        Table(
            (Column("Figure", 3), Column("You", 2), Column("Expert", 2), Column("Better", 1)),
            tuple(rows),
            tones=tuple(tones),
        ),
        *(Paragraph(note, "footnote") for note in c.notes),
        Paragraph(
            "Response times count the incidents still waiting for a vehicle with their wait so"
            ' far ("+ N waiting"), in both shifts alike, as the headline figures do: such a'
            " figure is a lower bound, so it gets no verdict unless it is already the worse.",
            "footnote",
        ),
        *(
            Paragraph(f"No verdict on cost or unnecessary dispatches: {why}.", "footnote")
            for why in withheld
        ),
    ]


def _waiting_suffix(waiting: int) -> str:
    return f" + {waiting} waiting" if waiting else ""


def chart_section(d: Debrief) -> list[Block]:
    return [Heading("The shift in charts"), *(Chart(drawing) for drawing in chart_drawings(d))]


def chart_drawings(d: Debrief) -> list[charts.Drawing]:
    duration = max(d.end_t, 1.0)
    return [
        charts.response_chart(d.response_points, d.standards, duration, d.start_min),
        charts.queue_chart(d.queue_series, duration, d.start_min),
        charts.status_chart(d.status_series, duration, d.start_min),
    ]


def key_moments_section(d: Debrief) -> list[Block]:
    ranked = rank_key_moments(d.markers)
    out: list[Block] = [Heading(f"Key moments ({ranked.total})")]
    if not ranked.total:
        return [
            *out,
            Paragraph("No standard breached, no unsafe advice, no harm, no needless dispatch."),
        ]
    shown = len(ranked.top)
    out += [
        Paragraph(
            ("All" if shown == ranked.total else f"The {shown} that matter most of the")
            + f" {ranked.total}, one line per patient: harm first, then unsafe"
            " advice, breaches from C1 down and needless dispatches, the worst of each kind in"
            " turn.",
            "lead",
        ),
        Table(
            (Column("Time", 0.9), Column("Patient", 1.0), Column("What", 2.0), Column("Detail", 5)),
            tuple((d.clock(m.t), m.reference, m.what, "; ".join(m.details)) for m in ranked.top),
            tones=tuple("bad" if m.kind in ("harm", "unsafe_advice") else None for m in ranked.top),
        ),
    ]
    rest = ranked.rest_sentence()
    if rest:
        out.append(Paragraph(rest, "footnote"))
    return out


def decisions_section(d: Debrief) -> list[Block]:
    out: list[Block] = [Heading(f"Your decisions ({d.trainee_calls} calls)")]
    if d.decisions:
        table = Table(
            tuple(
                Column(title, width)
                for title, width in zip(
                    DECISION_HEADER,
                    (0.8, 1.1, 0.45, 0.9, 1.1, 1.0, 2.3, 3.6),
                    strict=True,
                )
            ),
            tuple(decision_row(d, r) for r in d.decisions),
            tones=tuple(decision_tone(r) for r in d.decisions),
            print_size=7.0,
        )
        if d.trainee_tally is not None:
            score = d.trainee_tally.sentence()
        else:
            good = sum(1 for r in d.decisions if r.get("good"))
            score = f"{good} of {len(d.decisions)} matched the ideal decision with no problem."
        out += [
            Paragraph(score),
            Paragraph(
                "Each finding says who decided it: you, the protocol (you did what it"
                " recommended, and its recommendation missed), a colleague or the clinical hub."
                " Only your own decisions count in your score.",
                "footnote",
            ),
            Fold(
                "Every call, with its feedback",
                (table,),
                open=len(d.decisions) <= DECISIONS_OPEN_UP_TO,
            ),
        ]
    elif d.dispatching is not None and d.dispatching.role == "dispatcher":
        out.append(
            Paragraph(
                "Your seat (dispatcher) takes no calls in this session: your dispatching is"
                " judged below."
            )
        )
    else:
        out.append(Paragraph("The trainee's seat closed no call in this recording."))
        if d.info.autopilot and d.info.autopilot == d.info.policy:
            # the engine then plays the trainee's seat with the colleagues, as one team
            out.append(
                Paragraph(
                    f"On autopilot with the colleagues' own policy ({d.info.autopilot}), every"
                    " seat works as one team: each call and dispatch is shown under the seat"
                    " that took it.",
                    "footnote",
                )
            )
    c = d.comparison
    if c is not None and c.differing:
        table = Table(
            (
                Column("Arrived", 0.8),
                Column("Patient", 0.9),
                Column("Truth", 2),
                Column("You", 2),
                Column("Expert", 2),
                Column("Differences", 2.6),
            ),
            tuple(
                (
                    d.clock(x.trainee.t_created),
                    x.trainee.reference,
                    x.truth,
                    x.trainee.summary(),
                    x.expert.summary() if x.expert else "-",
                    "; ".join(x.differences),
                )
                for x in c.differing
            ),
            print_size=6.8,
        )
        out.append(
            Fold(
                f"Patients the expert handled differently ({len(c.differing)})",
                (table,),
                heading=True,
            )
        )
    return out


def _objective(text: str, result: str, target: str, ok: bool | None) -> tuple[str, str, str, Cell]:
    """An objective's row; ``ok`` None: nothing to judge (no call, no dispatch of yours)."""
    if ok is None:
        return (text, result, target, Cell("-"))
    return (
        text,
        result,
        target,
        Cell("achieved" if ok else "not achieved", "good" if ok else "bad"),
    )


def objectives_section(d: Debrief) -> list[Block]:
    """The trainee's seat's own objectives, measured: a call handler's calls, a dispatcher's
    sector (docs/domain.md, "The trainee's objectives")."""
    r = d.dispatching
    role = r.role if r is not None else (d.info.role or "both")
    rows: list[tuple[str, str, str, Cell]] = []
    t = d.trainee_tally
    if role in ("call_handler", "both") and t is not None:
        judged = t.calls > 0  # no verdict on calls never taken
        m = d.metrics
        unreached = m.calls - m.calls_answered  # abandoned, or still ringing
        unsafe = _own_unsafe_advice(d)
        rows += [
            _objective(
                "Calls decided as the ideal decision",
                f"{t.ideal} of {t.calls}",
                "every call",
                t.ideal + t.protocol == t.calls if judged else None,
            ),
            _objective(
                "Calls with a problem of your own",
                str(t.with_problem),
                "none",
                t.with_problem == 0 if judged else None,
            ),
            _objective(
                "Callers who hung up or were never answered (the room's)",
                str(unreached),
                "none",
                unreached == 0,
            ),
            _objective(
                "Unsafe advice given by you",
                str(unsafe),
                "none",
                False if unsafe else (True if judged else None),
            ),
        ]
    if r is not None and r.dispatches:
        n = len(r.lines)
        longest = f" (longest {mmss(max(w.waited_s for w in r.waiting))})" if r.waiting else ""
        rows += [
            _objective(
                "Incidents in your sector left waiting for a vehicle at the end",
                f"{len(r.waiting)}{longest}",
                "none",
                not r.waiting,
            ),
            _objective(
                "Vehicles sent that were the nearest suitable one",
                f"{n - r.not_nearest} of {n}",
                f"every dispatch (within {NEAREST_SLACK_S / 60:.0f} min)",
                r.not_nearest == 0 if n else None,
            ),
            _objective(
                "Duplicate vehicles sent",
                str(r.duplicates),
                "none",
                r.duplicates == 0 if n else None,
            ),
        ]
    if not rows:
        return []
    return [
        Heading(f"Your objectives as {role_words(role)}", 3),
        Table(
            (Column("Objective", 4), Column("You", 2), Column("Target", 2), Column("Result", 1.2)),
            tuple(rows),
        ),
    ]


def _own_unsafe_advice(d: Debrief) -> int:
    return sum(1 for m in d.markers if m.kind == "unsafe_advice" and m.seat == TRAINEE)


def dispatching_section(d: Debrief) -> list[Block]:
    """The trainee's dispatching, judged like their call handling (see dispatch_review)."""
    r = d.dispatching
    if r is None:
        return []
    out: list[Block] = [Heading(f"Your dispatching ({len(r.lines)} vehicles sent)")]
    if not r.dispatches:
        return [
            *out,
            Paragraph(
                f"Your seat ({role_words(r.role)}) does not dispatch in this session: virtual"
                " dispatchers allocated the vehicles."
            ),
        ]
    out.append(Paragraph(dispatch_sentence(r)))
    if r.lines:
        table = Table(
            (
                Column("Sent", 0.8),
                Column("Incident", 0.9),
                Column("Cat", 0.45),
                Column("Vehicle sent, ETA", 1.6),
                Column("Nearest suitable, ETA", 1.6),
                Column("Diverted from", 1.0),
                Column("What became of it", 2.2),
            ),
            tuple(
                (
                    d.clock(x.t),
                    x.incident_id,
                    x.category,
                    f"{x.callsign} ({x.vehicle_type}), {mmss(x.eta_s)}",
                    "the one sent"
                    if x.nearest_callsign == x.callsign
                    else f"{x.nearest_callsign or '-'}, {mmss(x.nearest_eta_s)}",
                    x.diverted_from or "-",
                    FATE_WORDS[x.fate],
                )
                for x in r.lines
            ),
            tones=tuple("bad" if x.duplicate or not x.nearest else None for x in r.lines),
            print_size=7.0,
        )
        out.append(
            Fold("Every vehicle you sent", (table,), open=len(r.lines) <= DECISIONS_OPEN_UP_TO)
        )
    if r.waiting:
        out.append(
            Fold(
                f"Left waiting in your sector ({len(r.waiting)})",
                (
                    Table(
                        (
                            Column("Incident", 1),
                            Column("Cat", 0.6),
                            Column("Area", 2),
                            Column("Waiting since opened", 1.5),
                        ),
                        tuple(
                            (w.incident_id, w.category, w.area, mmss(w.waited_s)) for w in r.waiting
                        ),
                        tones=tuple("bad" for _ in r.waiting),
                    ),
                ),
                open=True,
                heading=True,
            )
        )
    return out


def dispatch_sentence(r: DispatchReview) -> str:
    incidents = len({x.incident_id for x in r.lines})
    sector = ", ".join(r.sector) if r.sector else "-"
    text = (
        f"Your sector: {sector}. You sent {len(r.lines)} vehicles to {incidents} incidents:"
        f" {r.not_nearest} not the nearest suitable vehicle (more than"
        f" {NEAREST_SLACK_S / 60:.0f} min slower), {r.diverts} diverted from another job,"
        f" {r.stood_down} stood down, {r.duplicates} duplicates."
    )
    if r.waiting:
        longest = max(r.waiting, key=lambda w: w.waited_s)
        text += (
            f" {len(r.waiting)} incidents in your sector were still waiting for a vehicle at"
            f" the end, the longest {longest.incident_id} ({longest.category}) for"
            f" {mmss(longest.waited_s)}."
        )
    else:
        text += " No incident in your sector was left waiting for a vehicle."
    return text


def notes_section(d: Debrief) -> list[Block]:
    out: list[Block] = [Heading(f"Instructor's notes ({len(d.annotations)})")]
    if d.annotations:
        out.append(
            Table(
                (
                    Column("Time", 1),
                    Column("Incident (call)", 1.5),
                    Column("By", 1.2),
                    Column("Note", 6),
                ),
                tuple(
                    (d.clock(a.t), d.call_reference(a.call_id), a.author, a.text)
                    for a in d.annotations
                ),
            )
        )
    else:
        out.append(Paragraph("None."))
    hint = d.scenario.debrief_hint
    if hint:
        out += [Heading("Debrief hint", 3), Paragraph(hint)]
    return out


# --- the wording of figures ---------------------------------------------------------------------


def fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return mmss(value)
    if unit == "share":
        return f"{value:.1%}"
    if unit == "gbp":
        return f"GBP {value:,.0f}"
    return f"{value:g}"


def response_label(category: str, count: int, waiting: int) -> str:
    """A response row's figure: the category, how many incidents, how many still waiting."""
    still = f", incl. {waiting} still waiting" if waiting else ""
    return f"{category} response ({count} incident{'' if count == 1 else 's'}{still})"


def _share_text(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"


def outcome_rows(m: MetricsReport) -> list[tuple[str, str, str, str]]:
    """The outcome shares of the closed incidents against the trusts' spread, then the open."""
    o = m.outcomes
    rows: list[tuple[str, str, str, str]] = []
    for key, label, spread, england in OUTCOME_REFERENCE:
        share = getattr(o, key)
        reference = f"England {england:.1%}"
        if spread is not None:
            reference = f"trusts {spread[0]:.1%}-{spread[1]:.1%} ({reference})"
        rows.append(
            (
                f"{label} ({o.counts[key]} of {o.closed} closed)",
                _share_text(share),
                reference,
                range_verdict(share, spread),
            )
        )
    hub = f"; {m.hub.waiting} on the clinical hub's stack" if m.hub.waiting and o.open else ""
    rows.append(("Incidents still open", str(o.open), f"not in the shares{hub}", ""))
    return rows


def dispatch_rows(m: MetricsReport) -> list[tuple[str, str, str, str]]:
    """The NAO's dispatch counts, with its figures (England, 2009-10) beside them."""
    nao = m.nao
    per = "-" if nao.dispatches_per_attended is None else f"{nao.dispatches_per_attended:.2f}"
    return [
        (
            "Dispatches per attended incident",
            f"{per} ({nao.dispatches} dispatches, {nao.attended_incidents} incidents attended)",
            f"NAO 2011: {nao.reference_dispatches_per_attended:.2f}"
            " (England 2009-10, under response-time targets)",
            "",
        ),
        (
            "Call-outs with more than one vehicle",
            f"{_share_text(nao.multi_vehicle_share)}"
            f" ({nao.multi_vehicle_incidents} of {nao.dispatched_incidents})",
            f"NAO 2011: {nao.reference_multi_vehicle_england:.0%} England,"
            f" {nao.reference_multi_vehicle_london:.0%} London",
            "",
        ),
    ]


def late_finish_row(d: Debrief, m: MetricsReport) -> tuple[str, str, str, str]:
    lf = m.late_finishes
    if lf.due == 0:
        value = "none due"
        reference = f"no crew's shift ended before {d.clock(m.t)}"
    else:
        value = f"{lf.late} of {lf.due} crews"
        if lf.late and lf.mean_overrun_min is not None and lf.max_overrun_min is not None:
            value += f", mean {lf.mean_overrun_min:.1f} min over (longest {lf.max_overrun_min:.1f})"
        reference = "off duty after their shift's end"
        if lf.still_out:
            reference += f"; {lf.still_out} still out, counted to {d.clock(m.t)}"
    return ("Late finishes", value, reference, "")


def headline_rows(d: Debrief, m: MetricsReport | None = None) -> list[tuple[str, str, str, str]]:
    """(figure, value, standard or reference, verdict) for the headline table of ``m``
    (default: the figures at the end of the shift)."""
    m = d.metrics if m is None else m
    rows: list[tuple[str, str, str, str]] = []
    for c, block in m.categories.items():
        # a figure with patients not yet reached counts them at a lower bound: a miss is
        # certain, a pass is not, so it reads "open", never "met"
        verdict = response_verdict(block)
        value = f"mean {mmss(block.mean_response_s)}, 90th {mmss(block.p90_response_s)}"
        if block.standard_within_s is not None:
            share = "-" if block.share_within is None else f"{block.share_within:.1%}"
            value += f", within {share}"
        standard = block.standard
        if block.waiting:
            standard += f"; {waiting_words(block)}"
        rows.append((response_label(c, block.count, block.waiting), value, standard, verdict))
    u = m.unnecessary_dispatches
    # callers still waiting to be answered: patients not reached, in no response figure
    ringing = max(0, m.calls - m.calls_answered - m.calls_abandoned)
    rows += [
        (
            "Calls",
            f"{m.calls} (answered {m.calls_answered}, abandoned {m.calls_abandoned}"
            + (f", {ringing} still ringing, never answered" if ringing else "")
            + ")",
            f"answer mean {mmss(m.answer_time_mean_s)}, 90th {mmss(m.answer_time_p90_s)}",
            "",
        ),
        *outcome_rows(m),
        *dispatch_rows(m),
        (
            "Unnecessary dispatches",
            f"{u.total} of {m.dispatches}",
            f"duplicate {u.duplicate}, stood down {u.stood_down}, avoidable {u.avoidable}",
            "",
        ),
        ("Unsafe advice", str(m.unsafe_advice), f"re-contacts {m.recontacts}", ""),
        ("Harm events", str(m.harm_events), "patients who waited past the harm threshold", ""),
        (
            "Handover",
            f"mean {mmss(m.handover.mean_s)}, over 15 min "
            + ("-" if m.handover.over_15_min is None else f"{m.handover.over_15_min:.1%}"),
            "standard 15 min",
            "",
        ),
        late_finish_row(d, m),
        (
            "Cost",
            f"GBP {m.cost_total:,.0f}",
            "-" if m.cost_per_incident is None else f"GBP {m.cost_per_incident:,.0f} per incident",
            "",
        ),
    ]
    return rows


DECISION_HEADER = (
    "Closed",
    "Incident (call)",
    "Set",
    "Decision",
    "Protocol",
    "Truth",
    "Ideal decision, and why",
    "Feedback",
)


def decision_row(d: Debrief, r: dict[str, Any]) -> tuple[str, ...]:
    protocol = r.get("recommended") or "-"
    if r.get("protocol_action"):
        protocol += f" ({action_words(r['protocol_action'])})"
    truth = "-"
    if r.get("true_category"):
        truth = f"{r['true_category']}, {outcome_words(str(r.get('need') or '-'))}"
    record = feedback_from_json(r)
    later = [LaterFinding(**f) for f in r.get("later") or ()]
    ideal = "-"
    if record.ideal:
        ideal = ideal_words(record.ideal)
        if record.ideal_reason:
            ideal += f": {record.ideal_reason}"
    call = str(r.get("call_id"))
    incident = r.get("incident_id") or d.call_incidents.get(call)
    return (
        d.clock(float(r.get("closed_t") or 0.0)),
        f"{incident} (call {call})" if incident else call,
        str(r.get("category_set") or "-"),
        decision_text(record.disposition, record.seat),
        protocol,
        truth,
        ideal,
        " ".join(findings_line(by, items) for by, items in grouped_findings(record, later)),
    )


def decision_text(disposition: str, seat: str | None) -> str:
    """The decision in words, and whose it was when it was not the trainee's."""
    words = disposition_words(disposition)
    if seat is None or seat == TRAINEE:
        return words
    return f"{words} (colleague {seat})"


def decision_tone(r: dict[str, Any]) -> Tone:
    """Good: the trainee's decisions were ideal and nobody's went wrong; bad: a problem or a
    non-ideal decision of the trainee's own; unshaded: the trainee's were right, another's
    (the protocol's, a colleague's, the hub's) were not."""
    record = feedback_from_json(r)
    later = r.get("later") or ()
    own_later = any(f.get("by") == TRAINEE and f.get("kind") == PROBLEM for f in later)
    mine = record.seat == TRAINEE
    state = standing(record)
    if own_later or (mine and state in ("problem", "not_ideal")):
        return "bad"
    others = (
        not mine
        or state == "protocol"
        or any(k == PROBLEM for _, by, k in record.findings() if by != TRAINEE)
        or any(f.get("kind") == PROBLEM for f in later)
    )
    if others:
        return None
    return "good" if record.good else "bad"
