"""Shift KPIs as an incremental projection of the engine's event stream.

One job: ``ShiftMetrics`` folds events (hidden truth included) into running tallies as they
happen, and ``snapshot`` turns those tallies into a frozen ``MetricsReport``: call answering,
response times by category, regime group and area, outcomes, unnecessary dispatches, unsafe
advice, handover delays, fleet utilisation, cost and the clinical hub. The report is a pure
function of the events fed, so a report rebuilt from a recording equals the live one. What the
desk may show of it is the desk's decision, not this module's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ambsim_gui.assess.jsonable import JsonMixin
from ambsim_gui.scenario.model import UnitCosts
from ambsim_gui.sim.events import (
    CallAbandoned,
    CallAnswered,
    CallArrived,
    CategorySet,
    Event,
    HandoverCompleted,
    HarmOccurred,
    HubBreached,
    HubCallbackStarted,
    HubOutcome,
    HubQueued,
    IncidentCategoryChanged,
    IncidentClosed,
    IncidentOpened,
    IncidentTruth,
    PatientCreated,
    PatientOutcome,
    ReferralBounced,
    ShiftEnded,
    UnsafeAdvice,
    VehicleArrived,
    VehicleAssigned,
    VehicleCreated,
    VehicleStatus,
    VehicleStoodDown,
)
from ambsim_gui.sim.regimes import CATEGORIES, Regime, ResponseClock, Standard, percentile90

BUSY_STATUSES = frozenset(
    {"mobilising", "to_scene", "on_scene", "to_hospital", "at_hospital", "clearing"}
)
FREE_STATUSES = frozenset({"available", "returning"})
# off_duty (and any status we do not know) is neither: that time is not on-duty time at all.

# IncidentClosed outcomes that count towards the NHS outcome shares; "referred" is folded into
# hear-and-treat because NHS England's hear-and-treat figure includes referral by phone.
OUTCOME_KEYS = ("hear_and_treat", "see_and_treat", "convey_ed", "convey_elsewhere")
_OUTCOME_OF_CLOSE = {
    "hear_and_treat": "hear_and_treat",
    "referred": "hear_and_treat",
    "see_and_treat": "see_and_treat",
    "convey_ed": "convey_ed",
    "convey_elsewhere": "convey_elsewhere",
}

HANDOVER_STANDARD_S = 15 * 60.0  # the national standard: handover within 15 minutes


# --- the report -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeStats(JsonMixin):
    """Count, mean and 90th centile of some durations (seconds); None when there are none."""

    count: int
    mean_s: float | None
    p90_s: float | None


@dataclass(frozen=True)
class CategoryBlock(JsonMixin):
    """Response times of one ARP category, against the standard the regime applies to it."""

    count: int  # incidents of this category with a response time
    mean_response_s: float | None
    p90_response_s: float | None
    share_within: float | None  # share within standard_within_s; None when that is not set
    standard: str  # Standard.describe(), e.g. "mean 7 min, 90th 15 min"
    standard_mean_s: float | None
    standard_p90_s: float | None
    standard_within_s: float | None  # Cat A/B regimes only
    standard_share: float | None  # Cat A/B regimes only
    met: bool | None  # Standard.met over these response times; None with no data


@dataclass(frozen=True)
class GroupBlock(JsonMixin):
    """Response (or transport) times of one of the regime's own groups of calls."""

    group: str
    standard: str
    count: int
    mean_s: float | None
    p90_s: float | None
    within_s: float | None
    required_share: float | None
    share_within: float | None  # the share achieved; None without within_s or data
    met: bool | None


@dataclass(frozen=True)
class OutcomeBlock(JsonMixin):
    """How room incidents ended, as shares of all incidents (AmbSYS: H&T as % of incidents).

    The denominator is every room incident except records closed as duplicates of another;
    incidents still open when the figures are taken make up ``open``, so the four outcome
    shares sum to 1 only once every incident has closed.
    """

    incidents: int  # room incidents that are not duplicates of another
    open: int  # of which not yet closed
    closed: int  # incidents closed with one of the five counted outcomes
    hear_and_treat: float
    see_and_treat: float
    convey_ed: float
    convey_elsewhere: float
    counts: dict[str, int]  # the four outcome keys (hear_and_treat includes referred)
    referred: int  # of which closed by referral


@dataclass(frozen=True)
class UnnecessaryBlock(JsonMixin):
    """Dispatches that did not need to happen, each dispatch classified once by its fate."""

    duplicate: int  # a surplus arrival, or still on its way when another crew closed the job
    stood_down: int  # stood down by control before it arrived
    avoidable: int  # first on scene to a patient who only needed hear-and-treat
    total: int
    share_of_dispatches: float | None


@dataclass(frozen=True)
class HospitalHandover(JsonMixin):
    count: int
    mean_s: float | None


@dataclass(frozen=True)
class HandoverBlock(JsonMixin):
    """Hospital handover waits; ``crew_hours_lost`` counts only time beyond the 15-min standard."""

    count: int
    mean_s: float | None
    over_15_min: float | None  # shares of handovers
    over_30_min: float | None
    over_60_min: float | None
    crew_hours_lost: float  # sum of max(0, wait - 15 min), in hours
    by_hospital: dict[str, HospitalHandover]


@dataclass(frozen=True)
class UtilisationBlock(JsonMixin):
    """Share of on-duty vehicle time spent busy (mobilised, on a job, at hospital, clearing)."""

    fleet: float | None
    on_duty_h: float
    busy_h: float
    by_type: dict[str, float | None]


@dataclass(frozen=True)
class HubBlock(JsonMixin):
    """The clinical hub's pending stack: what came in, how long it waited, how it ended."""

    referrals: int  # HubQueued with reason "referral"
    bounced: int  # ReferralBounced: another service sent the patient back
    callbacks: int
    outcomes: dict[str, int]
    breaches: int
    waiting: int  # queued now, no call-back or breach yet
    mean_wait_to_callback_s: float | None


@dataclass(frozen=True)
class MetricsReport(JsonMixin):
    """Every KPI of a shift at one moment; ``to_json_dict`` gives the same as plain JSON."""

    t: float  # the moment the time-dependent figures (utilisation) run up to
    regime: str  # Regime.name
    regime_label: str  # Regime.label, for people
    calls: int
    calls_answered: int
    calls_abandoned: int
    answer_time_mean_s: float | None
    answer_time_p90_s: float | None
    incidents: int  # distinct patients (PatientCreated), re-contacts included
    room_incidents: int  # IncidentOpened
    dispatches: int  # VehicleAssigned, diversions included
    dispatches_per_incident: float | None
    categories: dict[str, CategoryBlock]  # always C1, C2, C3, C4
    c1t: TimeStats  # transport clock (first DCA) for C1 incidents
    regime_groups: dict[str, GroupBlock]  # C1..C4 for ARP; A, B for the Cat A/B regimes
    regime_transport: GroupBlock | None  # A19 for the Cat A/B regimes; None for ARP
    by_area: dict[str, dict[str, CategoryBlock]]  # area -> C1..C4
    outcomes: OutcomeBlock
    unnecessary_dispatches: UnnecessaryBlock
    unsafe_advice: int
    recontacts: int
    harm_events: int
    harm_by_category: dict[str, int]  # by the patient's true category; C1..C4 always present
    handover: HandoverBlock
    utilisation: UtilisationBlock
    cost_total: float
    cost_per_incident: float | None
    hub: HubBlock


@dataclass(frozen=True)
class _Responses:
    """The response-time part of a report, kept between snapshots while no clock changes."""

    categories: dict[str, CategoryBlock]
    c1t: TimeStats
    regime_groups: dict[str, GroupBlock]
    regime_transport: GroupBlock | None
    by_area: dict[str, dict[str, CategoryBlock]]


# --- running state --------------------------------------------------------------------------


@dataclass
class _Incident:
    """What the clock needs of one room incident, plus a cached answer while it is unchanged."""

    area: str
    category: str
    clock: ResponseClock
    # (response, transport), recomputed only after a change: a snapshot 4 times a second over
    # thousands of incidents must not rebuild every clock each time
    cached: tuple[float | None, float | None] | None = None


@dataclass
class _Vehicle:
    type: str = "unknown"
    status: str | None = None
    since: float = 0.0
    busy_s: float = 0.0
    duty_s: float = 0.0


@dataclass
class _HospitalTally:
    count: int = 0
    total_s: float = 0.0


@dataclass
class _Tallies:
    """Plain counters, kept apart from the indexes so the class stays readable."""

    calls: int = 0
    answered: int = 0
    abandoned: int = 0
    dispatches: int = 0
    conveyed: int = 0
    unsafe_advice: int = 0
    recontacts: int = 0
    harm: int = 0
    stood_down: int = 0
    duplicate: int = 0
    handovers: int = 0
    handover_total_s: float = 0.0
    handover_over: dict[int, int] = field(default_factory=lambda: {15: 0, 30: 0, 60: 0})
    handover_lost_s: float = 0.0
    hub_referrals: int = 0
    hub_bounced: int = 0
    hub_callbacks: int = 0
    hub_breaches: int = 0
    hub_wait_total_s: float = 0.0
    hub_waits: int = 0


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _p90(values: list[float]) -> float | None:
    return percentile90(values) if values else None


def _share_within(values: list[float], within_s: float | None) -> float | None:
    if within_s is None or not values:
        return None
    return float(np.mean(np.asarray(values) <= within_s))


def _category_block(values: list[float], standard: Standard) -> CategoryBlock:
    return CategoryBlock(
        count=len(values),
        mean_response_s=_mean(values),
        p90_response_s=_p90(values),
        share_within=_share_within(values, standard.within_s),
        standard=standard.describe(),
        standard_mean_s=standard.mean_s,
        standard_p90_s=standard.p90_s,
        standard_within_s=standard.within_s,
        standard_share=standard.share,
        met=standard.met(values),
    )


def _group_block(group: str, values: list[float], standard: Standard) -> GroupBlock:
    return GroupBlock(
        group=group,
        standard=standard.describe(),
        count=len(values),
        mean_s=_mean(values),
        p90_s=_p90(values),
        within_s=standard.within_s,
        required_share=standard.share,
        share_within=_share_within(values, standard.within_s),
        met=standard.met(values),
    )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


class ShiftMetrics:
    """Feed it every event of a shift, in order; ask for a ``MetricsReport`` at any moment."""

    def __init__(self, regime: Regime, costs: UnitCosts) -> None:
        self.regime = regime
        self.costs = costs
        self._n = _Tallies()
        self._last_t = 0.0
        self._shift_end: float | None = None
        self._call_arrived: dict[str, float] = {}
        self._answer_times: list[float] = []
        self._category_set_at: dict[str, float] = {}  # call -> last CategorySet.t so far
        self._patient_need: dict[str, str] = {}
        self._incidents: dict[str, _Incident] = {}
        self._incident_patient: dict[str, str] = {}
        self._closed_outcomes: dict[str, int] = {k: 0 for k in _OUTCOME_OF_CLOSE}
        self._duplicate_records = 0
        self._closed_ids: set[str] = set()
        # dispatches not yet classified; removed once their fate (arrival, stand-down) is known
        self._open_dispatch: set[tuple[str, str]] = set()
        # first arrivals at a patient who only needed hear-and-treat; an arrival whose patient's
        # need is not known yet waits in the list and is judged at snapshot time
        self._avoidable = 0
        self._first_arrivals_unjudged: list[str] = []
        self._harm_by_category: dict[str, int] = {c: 0 for c in CATEGORIES}
        self._hospitals: dict[str, _HospitalTally] = {}
        self._vehicles: dict[str, _Vehicle] = {}
        self._hub_queued_at: dict[str, float] = {}
        self._hub_outcomes: dict[str, int] = {}
        # the response-time blocks only change when some incident's clock does; the desk asks
        # four times a second, mostly between such changes
        self._clock_version = 0
        self._responses: tuple[int, _Responses] | None = None
        self._events_fed = 0
        self._last_report: tuple[int, float, MetricsReport] | None = None
        self._handlers: dict[type[Event], Callable[[Any], None]] = {
            CallArrived: self._on_call_arrived,
            CallAnswered: self._on_call_answered,
            CallAbandoned: self._on_call_abandoned,
            CategorySet: self._on_category_set,
            PatientCreated: self._on_patient_created,
            IncidentOpened: self._on_incident_opened,
            IncidentTruth: self._on_incident_truth,
            IncidentCategoryChanged: self._on_category_changed,
            IncidentClosed: self._on_incident_closed,
            VehicleCreated: self._on_vehicle_created,
            VehicleStatus: self._on_vehicle_status,
            VehicleAssigned: self._on_vehicle_assigned,
            VehicleStoodDown: self._on_stood_down,
            VehicleArrived: self._on_vehicle_arrived,
            PatientOutcome: self._on_patient_outcome,
            HandoverCompleted: self._on_handover,
            UnsafeAdvice: self._on_unsafe_advice,
            HarmOccurred: self._on_harm,
            HubQueued: self._on_hub_queued,
            HubCallbackStarted: self._on_hub_callback,
            HubOutcome: self._on_hub_outcome,
            HubBreached: self._on_hub_breached,
            ReferralBounced: self._on_referral_bounced,
            ShiftEnded: self._on_shift_ended,
        }

    # --- feeding ----------------------------------------------------------------------------

    def feed(self, event: Event) -> None:
        """Fold one event in; O(1) apart from dictionary look-ups."""
        if event.t > self._last_t:
            self._last_t = event.t
        self._events_fed += 1
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def feed_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.feed(event)

    def _touch(self, inc: _Incident) -> None:
        inc.cached = None
        self._clock_version += 1

    def _on_call_arrived(self, e: CallArrived) -> None:
        self._n.calls += 1
        self._call_arrived[e.call_id] = e.t

    def _on_call_answered(self, e: CallAnswered) -> None:
        self._n.answered += 1
        arrived = self._call_arrived.get(e.call_id)
        if arrived is not None:
            self._answer_times.append(e.t - arrived)

    def _on_call_abandoned(self, e: CallAbandoned) -> None:
        self._n.abandoned += 1

    def _on_category_set(self, e: CategorySet) -> None:
        # events come in time order, so the latest one seen when the incident opens is "the
        # last CategorySet before the incident opened"
        self._category_set_at[e.call_id] = e.t

    def _on_patient_created(self, e: PatientCreated) -> None:
        self._patient_need[e.patient_id] = e.need
        if e.recontact_of is not None:
            self._n.recontacts += 1

    def _on_incident_opened(self, e: IncidentOpened) -> None:
        self._incidents[e.incident_id] = _Incident(
            area=e.area,
            category=e.category,
            clock=ResponseClock(
                # a call we never saw ring cannot start the clock earlier than its incident
                call_connect=self._call_arrived.get(e.call_id, e.t),
                category_set=self._category_set_at.get(e.call_id),
            ),
        )
        self._clock_version += 1

    def _on_incident_truth(self, e: IncidentTruth) -> None:
        self._incident_patient[e.incident_id] = e.patient_id

    def _on_category_changed(self, e: IncidentCategoryChanged) -> None:
        inc = self._incidents.get(e.incident_id)
        if inc is not None:
            inc.category = e.category
            self._touch(inc)

    def _on_incident_closed(self, e: IncidentClosed) -> None:
        # An incident closes once; a repeated close (a damaged or hand-made stream) is ignored
        # so that shares stay shares.
        if e.incident_id in self._closed_ids:
            return
        self._closed_ids.add(e.incident_id)
        self._hub_queued_at.pop(e.incident_id, None)  # the hub drops it without an event
        if e.outcome in self._closed_outcomes:
            self._closed_outcomes[e.outcome] += 1
        elif e.outcome == "duplicate":
            self._duplicate_records += 1

    def _on_vehicle_created(self, e: VehicleCreated) -> None:
        self._vehicles.setdefault(e.vehicle_id, _Vehicle()).type = e.type

    def _on_vehicle_status(self, e: VehicleStatus) -> None:
        v = self._vehicles.setdefault(e.vehicle_id, _Vehicle())
        self._accrue(v, e.t)
        v.status = e.status
        v.since = e.t

    @staticmethod
    def _accrue(v: _Vehicle, until: float) -> None:
        span = max(0.0, until - v.since)
        if v.status in BUSY_STATUSES:
            v.busy_s += span
            v.duty_s += span
        elif v.status in FREE_STATUSES:
            v.duty_s += span

    def _on_vehicle_assigned(self, e: VehicleAssigned) -> None:
        self._n.dispatches += 1
        # a vehicle sent to an incident on the hub's stack takes it off the stack, silently
        self._hub_queued_at.pop(e.incident_id, None)
        if e.diverted_from is not None:
            # a diversion ends the old dispatch as "not unnecessary", even if the engine's
            # VehicleStoodDown(reason="diverted") for it has not come (or comes later)
            self._open_dispatch.discard((e.vehicle_id, e.diverted_from))
        self._open_dispatch.add((e.vehicle_id, e.incident_id))
        inc = self._incidents.get(e.incident_id)
        if inc is not None and inc.clock.assigned(e.t):
            self._touch(inc)

    def _on_stood_down(self, e: VehicleStoodDown) -> None:
        key = (e.vehicle_id, e.incident_id)
        if key not in self._open_dispatch:
            return  # already arrived or classified: a dispatch is counted once
        self._open_dispatch.discard(key)
        if e.reason == "stand_down":
            self._n.stood_down += 1
        elif e.reason == "incident_closed":
            # still on its way when another crew finished the job: a second vehicle it never needed
            self._n.duplicate += 1
        # "diverted" and "off_duty" are control's or the rota's needs, not waste

    def _on_vehicle_arrived(self, e: VehicleArrived) -> None:
        key = (e.vehicle_id, e.incident_id)
        if key in self._open_dispatch:
            self._open_dispatch.discard(key)
            if e.role == "surplus":
                self._n.duplicate += 1
            elif e.role == "first":
                if self._judge_avoidable(e.incident_id) is None:
                    self._first_arrivals_unjudged.append(e.incident_id)
        vehicle = self._vehicles.setdefault(e.vehicle_id, _Vehicle())
        if vehicle.type == "unknown":  # VehicleCreated, when it came, is the authority
            vehicle.type = e.type
        inc = self._incidents.get(e.incident_id)
        if inc is not None and inc.clock.arrived(e.vehicle_id, e.type, e.t):
            self._touch(inc)

    def _on_patient_outcome(self, e: PatientOutcome) -> None:
        if e.outcome.startswith("convey_"):
            self._n.conveyed += 1
        inc = self._incidents.get(e.incident_id)
        if inc is not None and inc.clock.treated(e.vehicle_id, e.outcome):
            self._touch(inc)

    def _on_handover(self, e: HandoverCompleted) -> None:
        n = self._n
        n.handovers += 1
        n.handover_total_s += e.wait_s
        for minutes in n.handover_over:
            if e.wait_s > minutes * 60.0:
                n.handover_over[minutes] += 1
        n.handover_lost_s += max(0.0, e.wait_s - HANDOVER_STANDARD_S)
        h = self._hospitals.setdefault(e.hospital, _HospitalTally())
        h.count += 1
        h.total_s += e.wait_s

    def _on_unsafe_advice(self, e: UnsafeAdvice) -> None:
        self._n.unsafe_advice += 1

    def _on_harm(self, e: HarmOccurred) -> None:
        self._n.harm += 1
        self._harm_by_category[e.true_category] = self._harm_by_category.get(e.true_category, 0) + 1

    def _on_hub_queued(self, e: HubQueued) -> None:
        if e.reason == "referral":
            self._n.hub_referrals += 1
        self._hub_queued_at[e.incident_id] = e.t

    def _on_hub_callback(self, e: HubCallbackStarted) -> None:
        self._n.hub_callbacks += 1
        queued = self._hub_queued_at.pop(e.incident_id, None)
        if queued is not None:
            self._n.hub_wait_total_s += e.t - queued
            self._n.hub_waits += 1

    def _on_hub_outcome(self, e: HubOutcome) -> None:
        self._hub_outcomes[e.outcome] = self._hub_outcomes.get(e.outcome, 0) + 1

    def _on_hub_breached(self, e: HubBreached) -> None:
        self._n.hub_breaches += 1
        self._hub_queued_at.pop(e.incident_id, None)

    def _on_referral_bounced(self, e: ReferralBounced) -> None:
        self._n.hub_bounced += 1

    def _on_shift_ended(self, e: ShiftEnded) -> None:
        self._shift_end = e.t

    # --- the report -------------------------------------------------------------------------

    def _end_time(self, now: float | None) -> float:
        if now is None:
            return self._shift_end if self._shift_end is not None else self._last_t
        # vehicles stop being on duty when the shift ends, however late the report is asked
        return min(now, self._shift_end) if self._shift_end is not None else now

    def snapshot(self, now: float | None = None) -> MetricsReport:
        """The report as of ``now`` (default: the shift's end, else the last event's time).

        O(incidents + vehicles) at worst; response clocks are cached per incident until it
        changes, the response blocks until any clock changes, and the whole report until an
        event is fed or ``now`` moves. Treat the returned report as read-only: it may be the
        same object as the previous call's.
        """
        end = self._end_time(now)
        if self._last_report is not None and self._last_report[:2] == (self._events_fed, end):
            return self._last_report[2]
        n = self._n
        incidents = len(self._patient_need)
        responses = self._response_blocks()
        ht_closed = self._closed_outcomes["hear_and_treat"] + self._closed_outcomes["referred"]
        cost_total = float(
            self.costs.dispatch * n.dispatches
            + self.costs.conveyance * n.conveyed
            + self.costs.hear_and_treat * ht_closed
            + self.costs.call * n.answered
        )
        report = MetricsReport(
            t=end,
            regime=self.regime.name,
            regime_label=self.regime.label,
            calls=n.calls,
            calls_answered=n.answered,
            calls_abandoned=n.abandoned,
            answer_time_mean_s=_mean(self._answer_times),
            answer_time_p90_s=_p90(self._answer_times),
            incidents=incidents,
            room_incidents=len(self._incidents),
            dispatches=n.dispatches,
            dispatches_per_incident=n.dispatches / incidents if incidents else None,
            categories=responses.categories,
            c1t=responses.c1t,
            regime_groups=responses.regime_groups,
            regime_transport=responses.regime_transport,
            by_area=responses.by_area,
            outcomes=self._outcomes(),
            unnecessary_dispatches=self._unnecessary(),
            unsafe_advice=n.unsafe_advice,
            recontacts=n.recontacts,
            harm_events=n.harm,
            harm_by_category=dict(sorted(self._harm_by_category.items())),
            handover=self._handover(),
            utilisation=self._utilisation(end),
            cost_total=cost_total,
            cost_per_incident=cost_total / incidents if incidents else None,
            hub=HubBlock(
                referrals=n.hub_referrals,
                bounced=n.hub_bounced,
                callbacks=n.hub_callbacks,
                outcomes=dict(sorted(self._hub_outcomes.items())),
                breaches=n.hub_breaches,
                waiting=len(self._hub_queued_at),
                mean_wait_to_callback_s=(n.hub_wait_total_s / n.hub_waits if n.hub_waits else None),
            ),
        )
        self._last_report = (self._events_fed, end, report)
        return report

    def _response_blocks(self) -> _Responses:
        """Response and transport times grouped by category, regime group and area."""
        if self._responses is not None and self._responses[0] == self._clock_version:
            return self._responses[1]
        regime = self.regime
        groups = regime.groups
        by_cat: dict[str, list[float]] = {c: [] for c in CATEGORIES}
        by_group: dict[str, list[float]] = {g: [] for g in dict.fromkeys(groups.values())}
        transport_group: list[float] = []
        c1t: list[float] = []
        by_area: dict[str, dict[str, list[float]]] = {}
        transport_judged = groups["C1"]  # A19 covers Category A; C1T covers C1
        for inc in self._incidents.values():
            category = inc.category
            if category not in by_cat:
                continue  # not a response category (should not happen): it cannot be judged
            if inc.cached is None:
                times = inc.clock.times(category)
                inc.cached = (regime.response_time(times), regime.transport_time(times))
            response, transport = inc.cached
            area = by_area.get(inc.area)
            if area is None:
                area = by_area[inc.area] = {c: [] for c in CATEGORIES}
            group = groups[category]
            if response is not None:
                by_cat[category].append(response)
                by_group[group].append(response)
                area[category].append(response)
            if transport is not None:
                if category == "C1":
                    c1t.append(transport)
                if group == transport_judged:
                    transport_group.append(transport)

        standards = {c: regime.standard_for(c) for c in CATEGORIES}
        result = _Responses(
            categories={c: _category_block(by_cat[c], standards[c]) for c in CATEGORIES},
            c1t=TimeStats(count=len(c1t), mean_s=_mean(c1t), p90_s=_p90(c1t)),
            regime_groups={
                g: _group_block(g, values, regime.standards[g]) for g, values in by_group.items()
            },
            regime_transport=(
                _group_block(transport_judged, transport_group, regime.transport_standard)
                if regime.transport_standard is not None
                else None
            ),
            by_area={
                name: {c: _category_block(lists[c], standards[c]) for c in CATEGORIES}
                for name, lists in sorted(by_area.items())
            },
        )
        self._responses = (self._clock_version, result)
        return result

    def _outcomes(self) -> OutcomeBlock:
        counts = {k: 0 for k in OUTCOME_KEYS}
        for outcome, count in self._closed_outcomes.items():
            counts[_OUTCOME_OF_CLOSE[outcome]] += count
        closed = sum(counts.values())
        incidents = len(self._incidents) - self._duplicate_records
        shares = {k: (counts[k] / incidents if incidents else 0.0) for k in OUTCOME_KEYS}
        return OutcomeBlock(
            incidents=incidents,
            open=max(0, incidents - closed),
            closed=closed,
            hear_and_treat=shares["hear_and_treat"],
            see_and_treat=shares["see_and_treat"],
            convey_ed=shares["convey_ed"],
            convey_elsewhere=shares["convey_elsewhere"],
            counts=counts,
            referred=self._closed_outcomes["referred"],
        )

    def _judge_avoidable(self, incident_id: str) -> bool | None:
        """Count a first arrival at a hear-and-treat patient; None while the need is unknown."""
        patient = self._incident_patient.get(incident_id)
        need = self._patient_need.get(patient) if patient is not None else None
        if need is None:
            return None
        if need == "hear_and_treat":
            self._avoidable += 1
        return need == "hear_and_treat"

    def _unnecessary(self) -> UnnecessaryBlock:
        n = self._n
        # the engine tells the truth before any vehicle arrives, so this list is normally empty
        self._first_arrivals_unjudged = [
            i for i in self._first_arrivals_unjudged if self._judge_avoidable(i) is None
        ]
        total = n.duplicate + n.stood_down + self._avoidable
        return UnnecessaryBlock(
            duplicate=n.duplicate,
            stood_down=n.stood_down,
            avoidable=self._avoidable,
            total=total,
            share_of_dispatches=_share(total, n.dispatches),
        )

    def _handover(self) -> HandoverBlock:
        n = self._n
        return HandoverBlock(
            count=n.handovers,
            mean_s=n.handover_total_s / n.handovers if n.handovers else None,
            over_15_min=_share(n.handover_over[15], n.handovers),
            over_30_min=_share(n.handover_over[30], n.handovers),
            over_60_min=_share(n.handover_over[60], n.handovers),
            crew_hours_lost=n.handover_lost_s / 3600.0,
            by_hospital={
                name: HospitalHandover(count=h.count, mean_s=h.total_s / h.count)
                for name, h in sorted(self._hospitals.items())
            },
        )

    def _utilisation(self, end: float) -> UtilisationBlock:
        busy_by_type: dict[str, float] = {}
        duty_by_type: dict[str, float] = {}
        for v in self._vehicles.values():
            busy, duty = v.busy_s, v.duty_s
            # the current status's open interval runs up to the report's moment; it is added
            # here, not stored, so asking for a report never changes what the next one sees
            span = max(0.0, end - v.since)
            if v.status in BUSY_STATUSES:
                busy += span
                duty += span
            elif v.status in FREE_STATUSES:
                duty += span
            busy_by_type[v.type] = busy_by_type.get(v.type, 0.0) + busy
            duty_by_type[v.type] = duty_by_type.get(v.type, 0.0) + duty
        busy_all = sum(busy_by_type.values())
        duty_all = sum(duty_by_type.values())
        return UtilisationBlock(
            fleet=busy_all / duty_all if duty_all > 0 else None,
            on_duty_h=duty_all / 3600.0,
            busy_h=busy_all / 3600.0,
            by_type={
                t: (busy_by_type[t] / duty_by_type[t] if duty_by_type[t] > 0 else None)
                for t in sorted(duty_by_type)
            },
        )
