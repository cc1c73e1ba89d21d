"""Shift KPIs as an incremental projection of the engine's event stream.

One job: ``ShiftMetrics`` folds events (hidden truth included) into running tallies as they
happen, and ``snapshot`` turns those tallies into a frozen ``MetricsReport``: call answering,
response times by category, regime group and area, outcomes, unnecessary dispatches (and the
NAO's dispatch counts), unsafe advice, handover delays, fleet utilisation, crews' late finishes,
cost and the clinical hub. The report is a pure function of the events fed, so a report rebuilt
from a recording equals the live one. What the desk may show of it is the desk's decision, not
this module's.

Two windows of one shift (``windows``): *at the end of the shift* (every event up to the shift's
end time; an incident still waiting for a vehicle then counts in the response figures with its
wait so far, a lower bound of its response) and the *run-out* (every event, including any the
engine emits after the shift's end while the last incidents close). The shift's end time is
``ShiftStarted.t + duration_s``, else ``ShiftEnded.t``; the shift's window closes with
``ShiftEnded`` (what follows it is the run-out's, even at the same moment), or without one with
the shift's end time. A stream with nothing after the shift's end has a run-out equal to the
end-of-shift figures with nothing waiting.
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
    IncidentQueued,
    IncidentTruth,
    PatientCreated,
    PatientOutcome,
    ReferralBounced,
    ShiftEnded,
    ShiftStarted,
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

# The NAO's reference figures for dispatch under response-time targets (docs/domain.md, "Why
# ambsim exists: the NAO finding": NAO, *Transforming NHS ambulance services*, HC 1086, 2011,
# England 2009-10). About 10 million dispatches attended about 7.9 million incidents: 1.27
# dispatches per incident attended (derived, 10 / 7.9); more than one vehicle went to 49% of
# call-outs in England and 61% in London. The measures: docs/domain.md, "Incidents and
# dispatches" and "Late finishes".
NAO_DISPATCHES_PER_ATTENDED = 1.27
NAO_MULTI_VEHICLE_ENGLAND = 0.49
NAO_MULTI_VEHICLE_LONDON = 0.61

# A crew off duty within this long after its shift's end finished on time (clock rounding).
LATE_FINISH_TOLERANCE_S = 1.0
# An event later than the shift's end by more than this belongs to the run-out.
_AFTER_END_S = 1e-6

# VehicleStatus values in which a crew is still working (busy, or driving home): a crew in one
# of them past its shift's end has not finished yet
WORKING_STATUSES = BUSY_STATUSES | {"returning"}


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
    # of ``count``: incidents still waiting for a vehicle, each counted with its wait so far (a
    # lower bound of its response); only the end-of-shift window counts them, elsewhere 0
    waiting: int = 0
    longest_wait_s: float | None = None  # the longest wait so far of those ``waiting``


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
    waiting: int = 0  # of ``count``: still waiting, counted with the wait so far (end of shift)


@dataclass(frozen=True)
class OutcomeBlock(JsonMixin):
    """How room incidents ended, as shares of the incidents that have an outcome (closed).

    AmbSYS counts each incident's outcome once it has one, so its shares are shares of closed
    incidents and sum to 1: the four shares here do too (None while nothing has closed).
    Incidents still open when the figures are taken are counted apart in ``open``, not in the
    shares. Records closed as duplicates of another incident are neither.
    """

    incidents: int  # room incidents that are not duplicates of another
    open: int  # of which not yet closed: beside the shares, not in them
    closed: int  # incidents closed with one of the five counted outcomes: the denominator
    hear_and_treat: float | None
    see_and_treat: float | None
    convey_ed: float | None
    convey_elsewhere: float | None
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
class NaoBlock(JsonMixin):
    """Dispatches as the NAO counted them (HC 1086, 2011), with its figures beside them."""

    dispatches: int  # VehicleAssigned, diversions included
    attended_incidents: int  # incidents at which at least one vehicle arrived (VehicleArrived)
    dispatches_per_attended: float | None  # dispatches / attended incidents
    dispatched_incidents: int  # incidents with at least one VehicleAssigned: the call-outs
    multi_vehicle_incidents: int  # of which more than one distinct vehicle was sent
    multi_vehicle_share: float | None  # multi_vehicle_incidents / dispatched_incidents
    reference_dispatches_per_attended: float  # NAO: 1.27 (England, 2009-10)
    reference_multi_vehicle_england: float  # NAO: 0.49
    reference_multi_vehicle_london: float  # NAO: 0.61


@dataclass(frozen=True)
class LateFinishBlock(JsonMixin):
    """Crews who finished after their shift's end (``VehicleCreated.shift_end_s``).

    A crew finishes when its vehicle goes off duty; one still working when the figures are
    taken (busy, or driving home) finishes no earlier than then, so its overrun so far counts,
    a lower bound (``still_out``). Only crews whose shift ended before the figures' moment can
    be late; they are ``due``.
    """

    due: int  # crews whose shift ended before the figures' moment
    late: int  # of which finished (or are still working) after their shift's end
    mean_overrun_min: float | None  # over the late ones
    max_overrun_min: float | None
    still_out: int  # of the late, still working: their overrun so far is a lower bound


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
    # "end_of_shift" (events up to the shift's end, waiting incidents counted), "run_out" (every
    # event) or "as_at" (a snapshot at any moment: responses that arrived, nothing waiting)
    window: str
    shift_end_s: float | None  # the shift's end time, when the stream has told it
    still_waiting: int  # incidents counted in the responses with their wait so far
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
    dispatches_per_incident: float | None  # per patient (``incidents``)
    nao: NaoBlock
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
    late_finishes: LateFinishBlock
    cost_total: float
    cost_per_incident: float | None
    hub: HubBlock


@dataclass(frozen=True)
class ShiftWindows(JsonMixin):
    """A shift's figures in both windows: at the end of the shift, and after the run-out."""

    shift_end_s: float | None
    runs_on: bool  # the stream has events after the shift's end (a run-out happened)
    end_of_shift: MetricsReport
    run_out: MetricsReport


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
    # waiting for a vehicle (queued for dispatch, or one sent) rather than on the clinical hub's
    # stack: only such an incident counts as "still waiting" in the end-of-shift responses
    awaiting: bool = False
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
    shift_end_s: float | None = None  # VehicleCreated: when the crew's last duty ends
    off_at: float | None = None  # the last time it went off duty


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


def _category_block(
    values: list[float], standard: Standard, waiting: int = 0, longest: float | None = None
) -> CategoryBlock:
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
        waiting=waiting,
        longest_wait_s=longest,
    )


def _group_block(
    group: str, values: list[float], standard: Standard, waiting: int = 0
) -> GroupBlock:
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
        waiting=waiting,
    )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _minutes(seconds: list[float]) -> tuple[float | None, float | None]:
    """Mean and largest of some durations, in minutes; None when there are none."""
    if not seconds:
        return None, None
    return sum(seconds) / len(seconds) / 60.0, max(seconds) / 60.0


class ShiftMetrics:
    """Feed it every event of a shift, in order; ask for a ``MetricsReport`` at any moment."""

    def __init__(self, regime: Regime, costs: UnitCosts) -> None:
        self.regime = regime
        self.costs = costs
        self._n = _Tallies()
        self._last_t = 0.0
        self._ended_at: float | None = None  # ShiftEnded.t
        self._declared_end: float | None = None  # ShiftStarted.t + duration_s
        # the end-of-shift report, taken just before the first event after the shift's end
        self._end_report: MetricsReport | None = None
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
        # the NAO's counts: distinct vehicles sent to each incident, incidents attended
        self._sent_to: dict[str, set[str]] = {}
        self._multi_vehicle = 0
        self._attended: set[str] = set()
        # the response-time blocks only change when some incident's clock does; the desk asks
        # four times a second, mostly between such changes
        self._clock_version = 0
        self._responses: tuple[int, _Responses] | None = None
        self._events_fed = 0
        self._last_report: tuple[tuple[int, float, str], MetricsReport] | None = None
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
            IncidentQueued: self._on_incident_queued,
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
            ShiftStarted: self._on_shift_started,
            ShiftEnded: self._on_shift_ended,
        }

    # --- feeding ----------------------------------------------------------------------------

    def feed(self, event: Event) -> None:
        """Fold one event in; O(1) apart from dictionary look-ups (and, once, the end-of-shift
        report, taken when the first event of the run-out arrives)."""
        if self._end_report is None:
            # the shift's window closes with ShiftEnded: whatever follows it is the run-out's,
            # even at the same moment (the oncoming crews take over at the shift's end); with
            # no ShiftEnded, an event after the shift's end time is
            end = self._ended_at
            if end is None and self._declared_end is not None:
                if event.t > self._declared_end + _AFTER_END_S:
                    end = self._declared_end
            if end is not None:
                self._end_report = self._report(end, "end_of_shift", waiting=True)
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
        v = self._vehicles.setdefault(e.vehicle_id, _Vehicle())
        v.type = e.type
        v.shift_end_s = e.shift_end_s

    def _on_vehicle_status(self, e: VehicleStatus) -> None:
        v = self._vehicles.setdefault(e.vehicle_id, _Vehicle())
        self._accrue(v, e.t)
        if e.status == "off_duty" and v.status != "off_duty":
            v.off_at = e.t
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
        sent = self._sent_to.get(e.incident_id)
        if sent is None:
            sent = self._sent_to[e.incident_id] = set()
        if e.vehicle_id not in sent:
            sent.add(e.vehicle_id)
            if len(sent) == 2:
                self._multi_vehicle += 1
        # a vehicle sent to an incident on the hub's stack takes it off the stack, silently
        self._hub_queued_at.pop(e.incident_id, None)
        if e.diverted_from is not None:
            # a diversion ends the old dispatch as "not unnecessary", even if the engine's
            # VehicleStoodDown(reason="diverted") for it has not come (or comes later)
            self._open_dispatch.discard((e.vehicle_id, e.diverted_from))
        self._open_dispatch.add((e.vehicle_id, e.incident_id))
        inc = self._incidents.get(e.incident_id)
        if inc is not None:
            inc.awaiting = True
            if inc.clock.assigned(e.t):
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
        self._attended.add(e.incident_id)
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
        inc = self._incidents.get(e.incident_id)
        if inc is not None:
            inc.awaiting = False  # on the stack for a call-back, not waiting for a vehicle

    def _on_incident_queued(self, e: IncidentQueued) -> None:
        inc = self._incidents.get(e.incident_id)
        if inc is not None:
            inc.awaiting = True

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

    def _on_shift_started(self, e: ShiftStarted) -> None:
        self._declared_end = e.t + e.duration_s

    def _on_shift_ended(self, e: ShiftEnded) -> None:
        if self._ended_at is None:
            self._ended_at = e.t

    # --- the report -------------------------------------------------------------------------

    @property
    def shift_end_s(self) -> float | None:
        """The shift's end time: ShiftStarted's duration, else ShiftEnded; None until told."""
        return self._declared_end if self._declared_end is not None else self._ended_at

    @property
    def runs_on(self) -> bool:
        """Whether an event after the shift's end (after ShiftEnded, or later than the shift's
        end time) has been fed: the run-out has begun."""
        return self._end_report is not None

    def _end_time(self, now: float | None) -> float:
        if self.runs_on:
            # the run-out: crews stay on duty past the shift's end while they finish their jobs
            return self._last_t if now is None else now
        if now is None:
            return self._ended_at if self._ended_at is not None else self._last_t
        # vehicles stop being on duty when the shift ends, however late the report is asked
        return min(now, self._ended_at) if self._ended_at is not None else now

    def snapshot(self, now: float | None = None) -> MetricsReport:
        """The report as of ``now`` (default: the shift's end, else the last event's time; once
        the stream has run past the shift's end, the last event's time).

        Responses count only those that arrived (window "as_at"). O(incidents + vehicles) at
        worst; response clocks are cached per incident until it changes, the response blocks
        until any clock changes, and the whole report until an event is fed or ``now`` moves.
        Treat the returned report as read-only: it may be the same object as the previous
        call's.
        """
        return self._report(self._end_time(now), "as_at", waiting=False)

    def end_of_shift(self, at: float | None = None) -> MetricsReport:
        """The figures at the end of the shift: every event up to the shift's end time.

        An incident still waiting for a vehicle then counts in the response figures with its
        wait so far (from its clock's start to the shift's end, or to an RRV's arrival that may
        yet stop the clock): a lower bound of its response; ``still_waiting`` and each block's
        ``waiting`` say how many. A stream that stops before the shift's end gives the figures
        at its last event, counted the same way, or at ``at`` (a recording's end, so that two
        streams cut at one moment are counted at that moment).
        """
        if self._end_report is not None:
            return self._end_report
        return self._report(self._end_time(at), "end_of_shift", waiting=True)

    def run_out(self) -> MetricsReport:
        """The figures over every event fed, the run-out after the shift's end included.

        Responses count only those that arrived. With nothing after the shift's end these are
        the end-of-shift figures without the incidents still waiting.
        """
        return self._report(self._end_time(None), "run_out", waiting=False)

    def windows(self) -> ShiftWindows:
        return ShiftWindows(
            shift_end_s=self.shift_end_s,
            runs_on=self.runs_on,
            end_of_shift=self.end_of_shift(),
            run_out=self.run_out(),
        )

    def _report(self, end: float, window: str, *, waiting: bool) -> MetricsReport:
        key = (self._events_fed, end, window)
        if self._last_report is not None and self._last_report[0] == key:
            return self._last_report[1]
        n = self._n
        incidents = len(self._patient_need)
        responses = self._waiting_blocks(end) if waiting else self._response_blocks()
        ht_closed = self._closed_outcomes["hear_and_treat"] + self._closed_outcomes["referred"]
        cost_total = float(
            self.costs.dispatch * n.dispatches
            + self.costs.conveyance * n.conveyed
            + self.costs.hear_and_treat * ht_closed
            + self.costs.call * n.answered
        )
        report = MetricsReport(
            t=end,
            window=window,
            shift_end_s=self.shift_end_s,
            still_waiting=sum(b.waiting for b in responses.categories.values()),
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
            nao=self._nao(),
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
            late_finishes=self._late_finishes(end),
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
        self._last_report = (key, report)
        return report

    def _response_blocks(self) -> _Responses:
        """Response and transport times grouped by category, regime group and area."""
        if self._responses is not None and self._responses[0] == self._clock_version:
            return self._responses[1]
        result = self._blocks(None)
        self._responses = (self._clock_version, result)
        return result

    def _waiting_blocks(self, end: float) -> _Responses:
        """The response blocks with every incident still waiting at ``end`` counted at its wait
        so far; not cached (asked for once per window, not four times a second)."""
        return self._blocks(end)

    def _cached_times(self, inc: _Incident) -> tuple[float | None, float | None]:
        if inc.cached is None:
            times = inc.clock.times(inc.category)
            inc.cached = (self.regime.response_time(times), self.regime.transport_time(times))
        return inc.cached

    def _wait_so_far(self, incident_id: str, inc: _Incident, end: float) -> float | None:
        """A lower bound of the response of an incident still waiting for a vehicle at ``end``;
        None when it is not waiting (closed, on the hub's stack) or its clock has not started."""
        if not inc.awaiting or incident_id in self._closed_ids:
            return None
        # an RRV already on scene stops an ARP C2-C4 clock at its arrival if its clinician
        # treats the patient, which may be told later: the response is at least to then
        stop = min([end, *inc.clock.rrv_arrivals.values()])
        start = self.regime.clock_start(inc.clock.times(inc.category))
        return stop - start if start <= stop else None

    def _blocks(self, waiting_at: float | None) -> _Responses:
        regime = self.regime
        groups = regime.groups
        by_cat: dict[str, list[float]] = {c: [] for c in CATEGORIES}
        by_group: dict[str, list[float]] = {g: [] for g in dict.fromkeys(groups.values())}
        transport_group: list[float] = []
        c1t: list[float] = []
        by_area: dict[str, dict[str, list[float]]] = {}
        waiting_cat: dict[str, int] = {c: 0 for c in CATEGORIES}
        waiting_group: dict[str, int] = {g: 0 for g in by_group}
        waiting_area: dict[str, dict[str, int]] = {}
        longest: dict[str, float] = {}
        transport_judged = groups["C1"]  # A19 covers Category A; C1T covers C1
        for incident_id, inc in self._incidents.items():
            category = inc.category
            if category not in by_cat:
                continue  # not a response category (should not happen): it cannot be judged
            response, transport = self._cached_times(inc)
            area = by_area.get(inc.area)
            if area is None:
                area = by_area[inc.area] = {c: [] for c in CATEGORIES}
                waiting_area[inc.area] = {c: 0 for c in CATEGORIES}
            group = groups[category]
            if response is None and waiting_at is not None:
                response = self._wait_so_far(incident_id, inc, waiting_at)
                if response is not None:
                    waiting_cat[category] += 1
                    longest[category] = max(response, longest.get(category, 0.0))
                    waiting_group[group] += 1
                    waiting_area[inc.area][category] += 1
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
        return _Responses(
            categories={
                c: _category_block(by_cat[c], standards[c], waiting_cat[c], longest.get(c))
                for c in CATEGORIES
            },
            c1t=TimeStats(count=len(c1t), mean_s=_mean(c1t), p90_s=_p90(c1t)),
            regime_groups={
                g: _group_block(g, values, regime.standards[g], waiting_group[g])
                for g, values in by_group.items()
            },
            regime_transport=(
                _group_block(transport_judged, transport_group, regime.transport_standard)
                if regime.transport_standard is not None
                else None
            ),
            by_area={
                name: {
                    c: _category_block(lists[c], standards[c], waiting_area[name][c])
                    for c in CATEGORIES
                }
                for name, lists in sorted(by_area.items())
            },
        )

    def _outcomes(self) -> OutcomeBlock:
        counts = {k: 0 for k in OUTCOME_KEYS}
        for outcome, count in self._closed_outcomes.items():
            counts[_OUTCOME_OF_CLOSE[outcome]] += count
        closed = sum(counts.values())
        incidents = len(self._incidents) - self._duplicate_records
        # shares of the incidents with an outcome: the still-open ones are counted beside them
        shares = {k: _share(counts[k], closed) for k in OUTCOME_KEYS}
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

    def _nao(self) -> NaoBlock:
        n = self._n
        attended = len(self._attended)
        dispatched = len(self._sent_to)
        return NaoBlock(
            dispatches=n.dispatches,
            attended_incidents=attended,
            dispatches_per_attended=_share(n.dispatches, attended),
            dispatched_incidents=dispatched,
            multi_vehicle_incidents=self._multi_vehicle,
            multi_vehicle_share=_share(self._multi_vehicle, dispatched),
            reference_dispatches_per_attended=NAO_DISPATCHES_PER_ATTENDED,
            reference_multi_vehicle_england=NAO_MULTI_VEHICLE_ENGLAND,
            reference_multi_vehicle_london=NAO_MULTI_VEHICLE_LONDON,
        )

    def _late_finishes(self, end: float) -> LateFinishBlock:
        due = 0
        still_out = 0
        overruns: list[float] = []
        for v in self._vehicles.values():
            shift_end = v.shift_end_s
            if shift_end is None or shift_end >= end - _AFTER_END_S or v.status is None:
                continue  # no rota known, or its shift had not ended by ``end``
            due += 1
            if v.status == "off_duty":
                finished = v.off_at if v.off_at is not None else v.since
            elif v.status in WORKING_STATUSES:
                finished = end  # still working: it finishes no earlier than now
            else:
                continue  # free and on duty: the rota has not taken it off yet
            overrun = finished - shift_end
            if overrun > LATE_FINISH_TOLERANCE_S:
                overruns.append(overrun)
                still_out += v.status != "off_duty"
        mean_min, max_min = _minutes(overruns)
        return LateFinishBlock(
            due=due,
            late=len(overruns),
            mean_overrun_min=mean_min,
            max_overrun_min=max_min,
            still_out=still_out,
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
