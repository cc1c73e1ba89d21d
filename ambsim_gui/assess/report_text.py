"""A shift's KPIs as a fixed-width, plain-ASCII table for the terminal.

One job: ``format_kpi_table`` renders a ``MetricsReport`` for headless runs and ``ambsim
report``, with the national reference figures from docs/domain.md alongside so a reader can
tell a good shift from a bad one without looking anything up. What each figure counts:
docs/domain.md, "Measures ambsim reports".
"""

from __future__ import annotations

from ambsim_gui.assess.metrics import CategoryBlock, GroupBlock, MetricsReport

# England 2024/25 outcome shares and the spread between trusts in March 2025 (docs/domain.md,
# "Outcomes"); conveyed elsewhere has no published trust range.
OUTCOME_REFERENCE: tuple[tuple[str, str, tuple[float, float] | None, float], ...] = (
    ("hear_and_treat", "Hear and treat", (0.093, 0.208), 0.158),
    ("see_and_treat", "See and treat", (0.253, 0.372), 0.296),
    ("convey_ed", "Conveyed to ED", (0.458, 0.544), 0.499),
    ("convey_elsewhere", "Conveyed elsewhere", None, 0.047),
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


def _met(met: bool | None) -> str:
    return "-" if met is None else ("met" if met else "MISSED")


def _category_row(name: str, block: CategoryBlock) -> str:
    within = f"{_pct(block.share_within)}" if block.standard_within_s is not None else ""
    return (
        f"{name:<5}{block.count:>7}{mmss(block.mean_response_s):>9}{mmss(block.p90_response_s):>9}"
        f"{within:>8}  {block.standard or '-':<26}{_met(block.met)}"
    )


def _group_row(name: str, block: GroupBlock) -> str:
    within = _pct(block.share_within) if block.within_s is not None else ""
    return (
        f"{name:<5}{block.count:>7}{mmss(block.mean_s):>9}{mmss(block.p90_s):>9}"
        f"{within:>8}  {block.standard or '-':<26}{_met(block.met)}"
    )


def _range_word(share: float, spread: tuple[float, float] | None, closed: int) -> str:
    if spread is None or closed == 0:
        return ""
    low, high = spread
    return "below range" if share < low else "above range" if share > high else "in range"


def format_kpi_table(report: MetricsReport, *, title: str) -> str:
    """The report as lines of fixed-width ASCII text, ending without a newline."""
    r = report
    rule = "-" * 78
    head = f"{'Cat':<5}{'Count':>7}{'Mean':>9}{'90th':>9}{'Within':>8}  {'Standard':<26}Result"
    out = [
        title,
        "=" * max(len(title), 20),
        f"{r.regime_label}; figures at {_hms(r.t)} into the shift",
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
        head,
        rule,
    ]
    out += [_category_row(c, b) for c, b in r.categories.items()]
    out.append(
        f"{'C1T':<5}{r.c1t.count:>7}{mmss(r.c1t.mean_s):>9}{mmss(r.c1t.p90_s):>9}"
        f"{'':>8}  {'transport, reported only':<26}"
    )

    if set(r.regime_groups) != set(r.categories) or r.regime_transport is not None:
        # the Cat A/B regimes judge groups of categories; ARP's groups would repeat the above
        out += ["", "Regime groups", head.replace("Cat  ", "Group"), rule]
        out += [_group_row(g, b) for g, b in r.regime_groups.items()]
        if r.regime_transport is not None:
            out.append(_group_row(r.regime_transport.group + "19", r.regime_transport))

    area_rows = [
        f"{area[:18]:<19}" + _category_row(c, b)
        for area, cats in r.by_area.items()
        for c, b in cats.items()
        if b.count
    ]
    if area_rows:
        out += ["", "By area (a trust-wide figure can hide a failing patch)"]
        out += [f"{'Area':<19}" + head, "-" * 97] + area_rows

    o = r.outcomes
    out += [
        "",
        f"{f'Outcomes ({o.closed} incidents closed)':<34}"
        f"{'Share':>7}  {'Trusts 2025':>12}  {'England':>7}",
        rule,
    ]
    for key, label, spread, england in OUTCOME_REFERENCE:
        share = getattr(o, key)
        spread_text = f"{spread[0]:.1%}-{spread[1]:.1%}" if spread else "-"
        out.append(
            f"{label:<34}{_pct(share):>7}  {spread_text:>12}  {england:>7.1%}"
            f"  {_range_word(share, spread, o.closed)}"
        )
    if o.referred:
        out.append(f"  (hear and treat includes {o.referred} referred)")

    u = r.unnecessary_dispatches
    out += [
        "",
        f"Unnecessary dispatches: {u.total} of {r.dispatches} ({_pct(u.share_of_dispatches)}):"
        f" duplicate {u.duplicate}, stood down {u.stood_down}, avoidable {u.avoidable}",
        f"Unsafe advice {r.unsafe_advice}; re-contacts {r.recontacts}; harm events"
        f" {r.harm_events} ("
        + ", ".join(f"{c} {n}" for c, n in r.harm_by_category.items())
        + ")",
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

    hub = r.hub
    outcomes = ", ".join(f"{k} {n}" for k, n in hub.outcomes.items()) or "none"
    out += [
        f"Clinical hub: referrals {hub.referrals}, bounced {hub.bounced}, call-backs"
        f" {hub.callbacks} (mean wait {mmss(hub.mean_wait_to_callback_s)}),",
        f"  breaches {hub.breaches}, waiting {hub.waiting}; outcomes: {outcomes}",
    ]
    per = "-" if r.cost_per_incident is None else f"GBP {r.cost_per_incident:,.0f}"
    out.append(
        f"Cost: GBP {r.cost_total:,.0f} in all, {per} per incident"
        " (NAO 2011: GBP 144-216 per call)"
    )
    return "\n".join(line.rstrip() for line in out)
