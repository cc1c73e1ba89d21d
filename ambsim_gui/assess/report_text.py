"""A shift's KPIs as a fixed-width, plain-ASCII table for the terminal.

One job: ``format_kpi_table`` renders a ``MetricsReport`` for headless runs and ``ambsim
report``, with the national reference figures from docs/domain.md alongside so a reader can
tell a good shift from a bad one without looking anything up. What each figure counts:
docs/domain.md, "Measures ambsim reports".
"""

from __future__ import annotations

from ambsim_gui.assess.metrics import (
    CategoryBlock,
    GroupBlock,
    MetricsReport,
    ShiftWindows,
)
from ambsim_gui.labels import OUTCOME_WORDS
from ambsim_gui.labels import disposition_words as disposition_words
from ambsim_gui.labels import outcome_words as outcome_words

# England 2024/25 outcome shares and the spread between trusts in March 2025 (docs/domain.md,
# "Outcomes"); conveyed elsewhere has no published trust range.
# (the words are ambsim_gui.labels', re-exported here for the report's callers)
OUTCOME_REFERENCE: tuple[tuple[str, str, tuple[float, float] | None, float], ...] = (
    ("hear_and_treat", OUTCOME_WORDS["hear_and_treat"], (0.093, 0.208), 0.158),
    ("see_and_treat", OUTCOME_WORDS["see_and_treat"], (0.253, 0.372), 0.296),
    ("convey_ed", OUTCOME_WORDS["convey_ed"], (0.458, 0.544), 0.499),
    ("convey_elsewhere", OUTCOME_WORDS["convey_elsewhere"], None, 0.047),
)


def mmss(seconds: float | None) -> str:
    """Minutes and seconds (minutes unbounded, so a C3 90th centile reads 125:03); '-' for None."""
    if seconds is None:
        return "-"
    whole = max(0, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def _hms(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"


def _met(met: bool | None, waiting: int = 0) -> str:
    """The verdict; "open" when still-waiting incidents count at their wait so far (a lower
    bound: a miss is certain, a pass is not, so a figure with patients not yet reached is
    never called met)."""
    if met is None:
        return "-"
    if not met:
        return "MISSED"
    return "open" if waiting else "met"


def response_verdict(block: CategoryBlock) -> str:
    """A category's verdict in words: "-", "MISSED", "met", or "open (N waiting)"."""
    verdict = _met(block.met, block.waiting)
    return f"open ({block.waiting} waiting)" if verdict == "open" else verdict


def waiting_words(block: CategoryBlock) -> str:
    """The incidents of a category still waiting for a vehicle and the longest wait so far;
    "" when none waits."""
    if not block.waiting:
        return ""
    return f"{block.waiting} still waiting, longest {mmss(block.longest_wait_s)}"


def _waiting_cell(waiting: int, show: bool) -> str:
    return f"{waiting:>8}" if show else ""


def _category_row(name: str, block: CategoryBlock, waiting: bool = False) -> str:
    within = f"{_pct(block.share_within)}" if block.standard_within_s is not None else ""
    return (
        f"{name:<5}{block.count:>7}{_waiting_cell(block.waiting, waiting)}"
        f"{mmss(block.mean_response_s):>9}{mmss(block.p90_response_s):>9}"
        f"{within:>8}  {block.standard or '-':<26}{_met(block.met, block.waiting)}"
    )


def _group_row(name: str, block: GroupBlock, waiting: bool = False) -> str:
    within = _pct(block.share_within) if block.within_s is not None else ""
    return (
        f"{name:<5}{block.count:>7}{_waiting_cell(block.waiting, waiting)}"
        f"{mmss(block.mean_s):>9}{mmss(block.p90_s):>9}"
        f"{within:>8}  {block.standard or '-':<26}{_met(block.met, block.waiting)}"
    )


def range_verdict(share: float | None, spread: tuple[float, float] | None) -> str:
    """A share of closed incidents against the trusts' spread; "" when there is nothing to judge."""
    if spread is None or share is None:
        return ""
    low, high = spread
    return "below range" if share < low else "above range" if share > high else "in range"


def window_line(r: MetricsReport) -> str:
    """Which figures these are: the end of the shift, the run-out, or a moment."""
    if r.window == "end_of_shift":
        if r.shift_end_s is not None and r.t < r.shift_end_s - 1e-6:
            return f"figures at {_hms(r.t)} into the shift (the stream stops before its end)"
        return f"figures at the end of the shift ({_hms(r.t)})"
    if r.window == "run_out":
        return f"run-out: every event, to {_hms(r.t)} into the shift"
    return f"figures at {_hms(r.t)} into the shift"


def waiting_note(r: MetricsReport) -> str:
    """What the response figures count, when incidents still waiting are among them."""
    n = r.still_waiting
    if not n:
        return ""
    return (
        f"incl. {n} still waiting for a vehicle, each counted with its wait so far: a lower bound"
    )


def open_note(r: MetricsReport) -> str:
    """The incidents with no outcome yet, said beside the shares."""
    o = r.outcomes
    where = "open at end" if r.window in ("end_of_shift", "run_out") else "still open"
    hub = f" ({r.hub.waiting} on the clinical hub's stack)" if r.hub.waiting else ""
    return f"{where}: {o.open}{hub}"


def dispatch_lines(r: MetricsReport) -> list[str]:
    """The NAO's two dispatch counts, with its figures beside them."""
    nao = r.nao
    per = "-" if nao.dispatches_per_attended is None else f"{nao.dispatches_per_attended:.2f}"
    ref_per = nao.reference_dispatches_per_attended
    return [
        f"Dispatches per attended incident: {per} ({nao.dispatches} dispatches,"
        f" {nao.attended_incidents} incidents attended); NAO: {ref_per:.2f}",
        f"Call-outs with more than one vehicle: {_pct(nao.multi_vehicle_share)}"
        f" ({nao.multi_vehicle_incidents} of {nao.dispatched_incidents});"
        f" NAO: {nao.reference_multi_vehicle_england:.0%} England,"
        f" {nao.reference_multi_vehicle_london:.0%} London",
        "  (NAO 2011: England 2009-10, when response-time targets drove dispatch)",
    ]


def late_finish_line(r: MetricsReport) -> str:
    lf = r.late_finishes
    if lf.due == 0:
        return f"Late finishes: none (no crew's shift ended before {_hms(r.t)})"
    if lf.late == 0:
        return f"Late finishes: 0 of {lf.due} crews whose shift had ended"
    mean = "-" if lf.mean_overrun_min is None else f"{lf.mean_overrun_min:.1f}"
    longest = "-" if lf.max_overrun_min is None else f"{lf.max_overrun_min:.1f}"
    still = f"; {lf.still_out} still out, counted to {_hms(r.t)}" if lf.still_out else ""
    return (
        f"Late finishes: {lf.late} of {lf.due} crews whose shift had ended,"
        f" mean overrun {mean} min (longest {longest} min){still}"
    )


def format_shift_report(windows: ShiftWindows, *, title: str) -> str:
    """Both windows of a shift: the full table at the end of the shift, then the run-out's
    figures when the stream ran on past the shift's end (else a line saying it did not)."""
    out = [format_kpi_table(windows.end_of_shift, title=title), ""]
    if windows.runs_on:
        out.append(format_kpi_table(windows.run_out, title="Run-out", brief=True))
    else:
        end = windows.end_of_shift
        out.append(
            f"Run-out: none recorded (no event after the shift's end); {end.outcomes.open}"
            f" incidents open, {end.still_waiting} still waiting for a vehicle."
        )
    return "\n".join(out)


def format_kpi_table(report: MetricsReport, *, title: str, brief: bool = False) -> str:
    """The report as lines of fixed-width ASCII text, ending without a newline.

    ``brief``: the responses, outcomes, dispatch counts, utilisation and late finishes only
    (the run-out's block, beside a full table of the end of the shift)."""
    r = report
    waiting = r.still_waiting > 0
    wait_head = f"{'Waiting':>8}" if waiting else ""
    head = (
        f"{'Cat':<5}{'Count':>7}{wait_head}{'Mean':>9}{'90th':>9}{'Within':>8}"
        f"  {'Standard':<26}Result"
    )
    rule = "-" * max(78, len(head))
    out = [
        title,
        "=" * max(len(title), 20),
        f"{r.regime_label}; {window_line(r)}",
        "",
    ]

    per_incident = "-" if r.dispatches_per_incident is None else f"{r.dispatches_per_incident:.2f}"
    out += [
        f"Calls {r.calls}: answered {r.calls_answered}, abandoned {r.calls_abandoned};"
        f" answer mean {mmss(r.answer_time_mean_s)}, 90th {mmss(r.answer_time_p90_s)}",
        f"Incidents (patients) {r.incidents}; room incidents {r.room_incidents};"
        f" dispatches {r.dispatches} ({per_incident} per incident)",
        "",
        "Response times",
        *([f"  {waiting_note(r)}"] if waiting else []),
        head,
        rule,
    ]
    out += [_category_row(c, b, waiting) for c, b in r.categories.items()]
    out.append(
        f"{'C1T':<5}{r.c1t.count:>7}{'':>{8 if waiting else 0}}"
        f"{mmss(r.c1t.mean_s):>9}{mmss(r.c1t.p90_s):>9}"
        f"{'':>8}  {'transport, arrived only':<26}"
    )

    if set(r.regime_groups) != set(r.categories) or r.regime_transport is not None:
        # the Cat A/B regimes judge groups of categories; ARP's groups would repeat the above
        out += ["", "Regime groups", head.replace("Cat  ", "Group"), rule]
        out += [_group_row(g, b, waiting) for g, b in r.regime_groups.items()]
        if r.regime_transport is not None:
            out.append(_group_row(r.regime_transport.group + "19", r.regime_transport, waiting))

    area_rows = [
        f"{area[:18]:<19}" + _category_row(c, b, waiting)
        for area, cats in r.by_area.items()
        for c, b in cats.items()
        if b.count
    ]
    if area_rows and not brief:
        out += ["", "By area (a trust-wide figure can hide a failing patch)"]
        out += [f"{'Area':<19}" + head, "-" * (len(rule) + 19)] + area_rows

    o = r.outcomes
    out += [
        "",
        f"Outcomes: shares of the {o.closed} closed incident{'' if o.closed == 1 else 's'};"
        f" {open_note(r)}",
        f"{'':<34}{'Share':>7}  {'Trusts 2025':>12}  {'England':>7}",
        rule,
    ]
    for key, label, spread, england in OUTCOME_REFERENCE:
        share = getattr(o, key)
        spread_text = f"{spread[0]:.1%}-{spread[1]:.1%}" if spread else "-"
        named = f"{label} ({o.counts[key]})"
        out.append(
            f"{named:<34}{_pct(share):>7}  {spread_text:>12}  {england:>7.1%}"
            f"  {range_verdict(share, spread)}"
        )
    if o.referred:
        out.append(f"  (hear and treat includes {o.referred} referred)")
    if o.open and o.closed:
        out += [
            "  (a call closed by phone ends in minutes, a crew's job in an hour or more: while",
            "  incidents are open, hear and treat can read high and the crews' outcomes low)",
        ]

    if brief:
        ut = r.utilisation
        out += ["", *dispatch_lines(r), f"Utilisation: fleet {_pct(ut.fleet)}"]
        out.append(late_finish_line(r))
        return "\n".join(line.rstrip() for line in out)

    u = r.unnecessary_dispatches
    out += [
        "",
        f"Unnecessary dispatches: {u.total} of {r.dispatches} ({_pct(u.share_of_dispatches)}):"
        f" duplicate {u.duplicate}, stood down {u.stood_down}, avoidable {u.avoidable}",
        f"Unsafe advice {r.unsafe_advice}; re-contacts {r.recontacts}; harm events"
        f" {r.harm_events} (" + ", ".join(f"{c} {n}" for c, n in r.harm_by_category.items()) + ")",
        *dispatch_lines(r),
    ]

    h = r.handover
    out += [
        f"Handover: {h.count}, mean {mmss(h.mean_s)}; over 15 min {_pct(h.over_15_min)},"
        f" over 30 min {_pct(h.over_30_min)}, over 60 min {_pct(h.over_60_min)}",
        f"  crew hours lost beyond the 15-minute standard: {h.crew_hours_lost:.1f}",
    ]
    ut = r.utilisation
    by_type = ", ".join(f"{t} {_pct(s)}" for t, s in ut.by_type.items())
    out.append(f"Utilisation: fleet {_pct(ut.fleet)}" + (f" ({by_type})" if by_type else ""))
    out.append(late_finish_line(r))

    hub = r.hub
    outcomes = ", ".join(f"{outcome_words(k)} {n}" for k, n in hub.outcomes.items()) or "none"
    out += [
        f"Clinical hub: referrals {hub.referrals}, bounced {hub.bounced}, call-backs"
        f" {hub.callbacks} (mean wait {mmss(hub.mean_wait_to_callback_s)}),",
        f"  breaches {hub.breaches}, waiting {hub.waiting}; outcomes: {outcomes}",
    ]
    per = "-" if r.cost_per_incident is None else f"GBP {r.cost_per_incident:,.0f}"
    out.append(
        f"Cost: GBP {r.cost_total:,.0f} in all, {per} per incident (NAO 2011: GBP 144-216 per call)"
    )
    return "\n".join(line.rstrip() for line in out)
