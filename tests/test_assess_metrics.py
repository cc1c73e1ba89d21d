"""ShiftMetrics on hand-built event streams: every expected number has a reason next to it."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ambsim_gui.assess.metrics import MetricsReport, ShiftMetrics
from ambsim_gui.assess.report_text import format_kpi_table, mmss
from ambsim_gui.scenario.model import UnitCosts
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.regimes import ARP_2017, CAT_AB_2008, CAT_AB_PRE2008, Regime

MIN = 60.0


class Stream:
    """A tiny builder of event streams, with defaults that stay out of the way."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []

    def add(self, event: ev.Event) -> None:
        self.events.append(event)

    def patient(
        self,
        t: float,
        pid: str,
        *,
        cat: str = "C1",
        need: str = "convey_ed",
        ideal: str = "dispatch",
        recontact_of: str | None = None,
    ) -> None:
        self.add(
            ev.PatientCreated(
                t=t, patient_id=pid, card="card", variant="v", complaint="c", true_category=cat,
                need=need, ideal=ideal, x=0.0, y=0.0, area="town", recontact_of=recontact_of,
            )
        )  # fmt: skip

    def call(self, t: float, cid: str, pid: str, *, area: str = "town") -> None:
        self.add(
            ev.CallArrived(
                t=t, call_id=cid, x=0.0, y=0.0, uncertainty_m=25.0, area=area, opening="help"
            )
        )
        self.add(ev.CallTruth(t=t, call_id=cid, patient_id=pid, reason="first"))

    def answer(self, t: float, cid: str) -> None:
        self.add(ev.CallAnswered(t=t, call_id=cid, seat="trainee"))

    def category(self, t: float, cid: str, cat: str) -> None:
        self.add(
            ev.CategorySet(
                t=t, call_id=cid, category=cat, recommended=cat, override=False, seat="trainee"
            )
        )

    def open(self, t: float, iid: str, cid: str, pid: str, cat: str, area: str = "town") -> None:
        self.add(
            ev.IncidentOpened(
                t=t, incident_id=iid, call_id=cid, category=cat, x=0.0, y=0.0, area=area,
                complaint="c", code="x",
            )
        )  # fmt: skip
        self.add(ev.IncidentTruth(t=t, incident_id=iid, patient_id=pid))

    def incident(
        self,
        iid: str,
        cat: str,
        *,
        connect: float = 0.0,
        area: str = "town",
        need: str = "convey_ed",
    ) -> None:
        """A patient, a call and an incident, categorised at connect: ARP starts the clock then."""
        pid, cid = "P" + iid, "C" + iid
        self.patient(connect, pid, cat=cat, need=need)
        self.call(connect, cid, pid, area=area)
        self.answer(connect, cid)
        self.category(connect, cid, cat)
        self.open(connect, iid, cid, pid, cat, area=area)

    def assign(self, t: float, vid: str, iid: str, diverted_from: str | None = None) -> None:
        self.add(
            ev.VehicleAssigned(
                t=t, vehicle_id=vid, incident_id=iid, eta_s=60.0, seat="trainee",
                diverted_from=diverted_from,
            )
        )  # fmt: skip

    def arrive(self, t: float, vid: str, iid: str, vtype: str = "DCA", role: str = "first") -> None:
        self.add(ev.VehicleArrived(t=t, vehicle_id=vid, incident_id=iid, type=vtype, role=role))

    def stood_down(self, t: float, vid: str, iid: str, reason: str) -> None:
        self.add(ev.VehicleStoodDown(t=t, vehicle_id=vid, incident_id=iid, reason=reason))

    def status(self, t: float, vid: str, status: str) -> None:
        self.add(ev.VehicleStatus(t=t, vehicle_id=vid, status=status, incident_id=None, x=0, y=0))

    def closed(self, t: float, iid: str, outcome: str) -> None:
        self.add(ev.IncidentClosed(t=t, incident_id=iid, outcome=outcome))

    def report(
        self, regime: Regime = ARP_2017, costs: UnitCosts | None = None, now: float | None = None
    ) -> MetricsReport:
        metrics = ShiftMetrics(regime, costs or UnitCosts())
        metrics.feed_all(self.events)
        return metrics.snapshot(now)


# --- response times -------------------------------------------------------------------------


def test_two_c1_responses_of_6_and_10_minutes_miss_the_7_minute_mean() -> None:
    s = Stream()
    s.incident("I1", "C1", connect=0.0)
    s.assign(10.0, "V1", "I1")
    s.arrive(6 * MIN, "V1", "I1")
    s.incident("I2", "C1", connect=100.0)
    s.assign(110.0, "V2", "I2")
    s.arrive(100.0 + 10 * MIN, "V2", "I2")
    c1 = s.report().categories["C1"]
    assert c1.count == 2
    assert c1.mean_response_s == pytest.approx(8 * MIN)
    # linear interpolation between 6 and 10: 6 + 0.9 * 4 = 9.6 min, within the 15-min 90th
    assert c1.p90_response_s == pytest.approx(9.6 * MIN)
    assert c1.standard_mean_s == 7 * MIN and c1.standard_p90_s == 15 * MIN
    assert c1.met is False  # the mean (8 min) is over 7 min


def test_no_data_gives_none_and_all_four_categories_are_present() -> None:
    r = Stream().report()
    assert list(r.categories) == ["C1", "C2", "C3", "C4"]
    for block in r.categories.values():
        assert block.count == 0 and block.mean_response_s is None and block.p90_response_s is None
        assert block.met is None
    assert r.categories["C3"].standard_mean_s is None  # ARP sets no C3 mean
    assert r.categories["C3"].standard_p90_s == 120 * MIN
    assert r.c1t.count == 0 and r.c1t.mean_s is None


def test_arp_clock_starts_30_s_after_connect_for_a_c1_categorised_late() -> None:
    s = Stream()
    s.patient(0.0, "P1")
    s.call(0.0, "C1", "P1")
    s.answer(5.0, "C1")
    s.category(100.0, "C1", "C1")  # set late: the 30-second rule starts the clock first
    s.open(100.0, "I1", "C1", "P1", "C1")
    s.assign(120.0, "V1", "I1")
    s.arrive(430.0, "V1", "I1")
    assert s.report().categories["C1"].mean_response_s == pytest.approx(430.0 - 30.0)


def test_arp_c2_clock_starts_at_240_s_or_earlier_category() -> None:
    s = Stream()
    s.patient(0.0, "P1", cat="C2")
    s.call(0.0, "C1", "P1")
    s.category(300.0, "C1", "C2")
    s.open(300.0, "I1", "C1", "P1", "C2")
    s.assign(310.0, "V1", "I1")
    s.arrive(1000.0, "V1", "I1")
    s.patient(0.0, "P2", cat="C2")
    s.call(0.0, "C2", "P2")
    s.category(90.0, "C2", "C2")  # categorised within 240 s: the clock starts there
    s.open(90.0, "I2", "C2", "P2", "C2")
    s.assign(100.0, "V2", "I2")
    s.arrive(1090.0, "V2", "I2")
    c2 = s.report().categories["C2"]
    assert c2.count == 2
    assert c2.mean_response_s == pytest.approx(((1000.0 - 240.0) + (1090.0 - 90.0)) / 2)


def _rrv_then_dca_c2() -> Stream:
    """A C2 categorised 60 s after connect; an RRV on scene at 400 s, a DCA at 900 s."""
    s = Stream()
    s.patient(0.0, "P1", cat="C2")
    s.call(0.0, "C1", "P1")
    s.answer(5.0, "C1")
    s.category(60.0, "C1", "C2")
    s.open(60.0, "I1", "C1", "P1", "C2")
    s.assign(70.0, "R1", "I1")
    s.assign(80.0, "D1", "I1")
    s.arrive(400.0, "R1", "I1", vtype="RRV")
    s.arrive(900.0, "D1", "I1", vtype="DCA", role="backup")
    return s


def test_2008_regime_clock_runs_from_connect_and_an_rrv_stops_it() -> None:
    r = _rrv_then_dca_c2().report(CAT_AB_2008)
    assert r.categories["C2"].mean_response_s == pytest.approx(400.0)  # connect 0 -> RRV
    assert r.categories["C2"].standard_within_s == 8 * MIN
    assert r.categories["C2"].standard_share == 0.75
    group_a = r.regime_groups["A"]
    assert list(r.regime_groups) == ["A", "B"]
    assert group_a.count == 1 and group_a.share_within == 1.0 and group_a.met is True
    assert r.regime_groups["B"].count == 0 and r.regime_groups["B"].met is None
    # A19: the DCA at 900 s is within 19 minutes of connect
    assert r.regime_transport is not None
    assert r.regime_transport.mean_s == pytest.approx(900.0)
    assert r.regime_transport.met is True
    assert r.c1t.count == 0  # C1T is for C1 incidents only


def test_pre2008_regime_starts_at_categorisation() -> None:
    r = _rrv_then_dca_c2().report(CAT_AB_PRE2008)
    assert r.categories["C2"].mean_response_s == pytest.approx(400.0 - 60.0)


def test_arp_c2_is_stopped_by_the_dca_unless_the_rrv_treats_on_scene() -> None:
    s = _rrv_then_dca_c2()
    assert s.report().categories["C2"].mean_response_s == pytest.approx(900.0 - 60.0)
    assert s.report().regime_transport is None  # ARP judges no transport standard

    s = Stream()
    s.incident("I1", "C2", need="see_and_treat")
    s.assign(10.0, "R1", "I1")
    s.arrive(500.0, "R1", "I1", vtype="RRV")
    s.add(ev.PatientOutcome(t=2000.0, incident_id="I1", vehicle_id="R1", outcome="see_and_treat",
                            hospital=None))  # fmt: skip
    assert s.report().categories["C2"].mean_response_s == pytest.approx(500.0)


def test_c1t_runs_to_the_first_dca() -> None:
    s = Stream()
    s.incident("I1", "C1")
    s.assign(10.0, "R1", "I1")
    s.assign(20.0, "D1", "I1")
    s.arrive(300.0, "R1", "I1", vtype="RRV")
    s.arrive(700.0, "D1", "I1", vtype="DCA", role="backup")
    r = s.report()
    assert r.categories["C1"].mean_response_s == pytest.approx(300.0)  # any responder stops C1
    assert (r.c1t.count, r.c1t.mean_s, r.c1t.p90_s) == (1, 700.0, 700.0)


def test_category_change_moves_the_incident_even_after_a_snapshot() -> None:
    s = Stream()
    s.incident("I1", "C3")
    s.assign(10.0, "V1", "I1")
    s.arrive(600.0, "V1", "I1")
    metrics = ShiftMetrics(ARP_2017, UnitCosts())
    metrics.feed_all(s.events)
    assert metrics.snapshot().categories["C3"].count == 1
    metrics.feed(
        ev.IncidentCategoryChanged(t=700.0, incident_id="I1", category="C1", previous="C3",
                                   reason="clinical validation")
    )  # fmt: skip
    r = metrics.snapshot()
    assert r.categories["C3"].count == 0
    assert r.categories["C1"].count == 1 and r.categories["C1"].mean_response_s == 600.0


def test_percentile_is_linear_interpolation() -> None:
    s = Stream()
    for i in range(1, 11):  # responses of 1..10 minutes
        s.incident(f"I{i}", "C3", connect=0.0)
        s.assign(1.0, f"V{i}", f"I{i}")
        s.arrive(i * MIN, f"V{i}", f"I{i}")
    c3 = s.report().categories["C3"]
    assert c3.p90_response_s == pytest.approx(9.1 * MIN)  # numpy's linear method
    assert c3.mean_response_s == pytest.approx(5.5 * MIN)
    assert c3.met is True

    one = Stream()
    one.incident("I1", "C4")
    one.assign(1.0, "V1", "I1")
    one.arrive(200.0, "V1", "I1")
    assert one.report().categories["C4"].p90_response_s == 200.0  # one value is its own 90th


def test_by_area_shows_the_failing_rural_patch_behind_a_passing_trust() -> None:
    s = Stream()
    for i in range(9):  # nine town C1s in 5 minutes
        s.incident(f"T{i}", "C1", area="town")
        s.assign(1.0, f"VT{i}", f"T{i}")
        s.arrive(5 * MIN, f"VT{i}", f"T{i}")
    s.incident("R0", "C1", area="moor")  # one rural C1 in 20 minutes
    s.assign(1.0, "VR", "R0")
    s.arrive(20 * MIN, "VR", "R0")
    r = s.report()
    # trust-wide mean 6.5 min, 90th 6.5 min: met
    assert r.categories["C1"].mean_response_s == pytest.approx(6.5 * MIN)
    assert r.categories["C1"].met is True
    assert list(r.by_area) == ["moor", "town"]
    assert r.by_area["moor"]["C1"].met is False
    assert r.by_area["town"]["C1"].met is True
    assert r.by_area["town"]["C2"].count == 0 and r.by_area["town"]["C2"].met is None


# --- calls, incidents, dispatches -----------------------------------------------------------


def test_call_answering_and_counts() -> None:
    s = Stream()
    s.patient(0.0, "P1", need="hear_and_treat")
    s.call(0.0, "C1", "P1")
    s.answer(5.0, "C1")
    s.call(10.0, "C2", "P1")
    s.answer(25.0, "C2")
    s.call(20.0, "C3", "P1")
    s.add(ev.CallAbandoned(t=50.0, call_id="C3"))
    s.patient(4000.0, "P2", recontact_of="P1")  # a re-contact is a new patient record
    r = s.report()
    assert (r.calls, r.calls_answered, r.calls_abandoned) == (3, 2, 1)
    assert r.answer_time_mean_s == pytest.approx(10.0)  # (5 + 15) / 2
    assert r.answer_time_p90_s == pytest.approx(14.0)  # 5 + 0.9 * 10
    assert r.incidents == 2 and r.recontacts == 1 and r.room_incidents == 0
    assert r.dispatches_per_incident == 0.0
    assert r.cost_per_incident is not None


def test_unnecessary_dispatches_stood_down_surplus_and_avoidable() -> None:
    s = Stream()
    s.incident("I1", "C2")
    s.assign(10.0, "A", "I1")
    s.assign(20.0, "B", "I1")
    s.stood_down(100.0, "B", "I1", "stand_down")  # control stood it down before it arrived
    s.assign(30.0, "C", "I1")
    s.arrive(400.0, "A", "I1", role="first")  # the needed crew
    s.arrive(500.0, "C", "I1", role="surplus")  # a crew was already doing the job
    s.incident("I2", "C3", need="hear_and_treat")
    s.assign(10.0, "D", "I2")
    s.arrive(900.0, "D", "I2", role="first")  # a crew for a phone-only patient
    u = s.report().unnecessary_dispatches
    assert (u.stood_down, u.duplicate, u.avoidable, u.total) == (1, 1, 1, 3)
    assert u.share_of_dispatches == pytest.approx(3 / 4)


def test_each_dispatch_has_one_fate() -> None:
    s = Stream()
    s.incident("I1", "C1")
    s.incident("I2", "C3")
    s.assign(10.0, "A", "I2")
    s.stood_down(20.0, "A", "I2", "diverted")  # diversion: control's need, not waste
    s.assign(20.0, "A", "I1", diverted_from="I2")  # counts as a dispatch to I1
    s.assign(30.0, "B", "I1")
    s.arrive(300.0, "A", "I1", role="first")
    s.stood_down(3000.0, "B", "I1", "incident_closed")  # still coming when A finished: duplicate
    s.assign(40.0, "C", "I2")
    s.arrive(900.0, "C", "I2", role="first")
    s.stood_down(950.0, "C", "I2", "stand_down")  # after arriving: not a stand-down
    s.assign(50.0, "E", "I2")
    s.stood_down(60.0, "E", "I2", "off_duty")
    r = s.report()
    assert r.dispatches == 5
    u = r.unnecessary_dispatches
    assert (u.duplicate, u.stood_down, u.avoidable, u.total) == (1, 0, 0, 1)
    assert r.dispatches_per_incident == pytest.approx(5 / 2)


# --- outcomes, handover, utilisation, cost, hub ---------------------------------------------


def test_outcome_shares_fold_referral_into_hear_and_treat() -> None:
    s = Stream()
    for iid, outcome in [("I1", "hear_and_treat"), ("I2", "referred"), ("I3", "see_and_treat"),
                         ("I4", "convey_ed"), ("I5", "duplicate")]:  # fmt: skip
        s.incident(iid, "C3")
        s.closed(100.0, iid, outcome)
    # Changed with the definition (docs/domain.md, Outcome shares): the shares are now of the
    # incidents with an outcome, as AmbSYS counts them; they were of all incidents, open ones
    # included (0.4, 0.2, 0.2, 0.0 here), which left them short of 100% while any was open.
    s.incident("I6", "C2")  # still open: counted apart, not in the denominator
    o = s.report().outcomes
    assert o.closed == 4  # the merged duplicate record is not an outcome
    assert (o.incidents, o.open) == (5, 1)
    # 2 of 4 closed by phone (advice and referral), 1 seen and treated, 1 conveyed to ED
    assert (o.hear_and_treat, o.see_and_treat, o.convey_ed, o.convey_elsewhere) == (
        0.5, 0.25, 0.25, 0.0
    )  # fmt: skip
    assert o.counts == {"hear_and_treat": 2, "see_and_treat": 1, "convey_ed": 1,
                        "convey_elsewhere": 0}  # fmt: skip
    assert o.referred == 1
    empty = Stream().report().outcomes
    # nothing closed, nothing to divide by: no share (it was 0.0 of no incidents)
    assert (empty.hear_and_treat, empty.see_and_treat, empty.convey_ed) == (None, None, None)


def test_handover_waits() -> None:
    s = Stream()
    for i, minutes in enumerate([10, 20, 40, 70]):
        hospital = "North" if i < 2 else "South"
        s.add(ev.HandoverCompleted(t=5000.0, vehicle_id=f"V{i}", incident_id=f"I{i}",
                                   hospital=hospital, wait_s=minutes * MIN))  # fmt: skip
    h = s.report().handover
    assert h.count == 4 and h.mean_s == pytest.approx(35 * MIN)
    assert (h.over_15_min, h.over_30_min, h.over_60_min) == (0.75, 0.5, 0.25)
    assert h.crew_hours_lost == pytest.approx((5 + 25 + 55) / 60)
    assert h.by_hospital["North"].mean_s == pytest.approx(15 * MIN)
    assert h.by_hospital["South"].count == 2


def test_utilisation_counts_busy_share_of_on_duty_time() -> None:
    s = Stream()
    s.add(ev.VehicleCreated(t=0.0, vehicle_id="V1", callsign="V1", type="DCA", station="S",
                            x=0.0, y=0.0, shift_start_s=0.0, shift_end_s=3600.0))  # fmt: skip
    s.status(0.0, "V1", "available")
    s.status(600.0, "V1", "mobilising")
    s.status(660.0, "V1", "to_scene")
    s.status(1200.0, "V1", "on_scene")
    s.status(2400.0, "V1", "returning")  # returning is free: 30 busy minutes, 600 s to 2400 s
    s.status(3000.0, "V1", "available")
    r = s.report(now=3600.0)
    assert r.utilisation.fleet == pytest.approx(0.5)
    assert r.utilisation.by_type == {"DCA": pytest.approx(0.5)}
    assert r.utilisation.on_duty_h == pytest.approx(1.0)

    s.status(3600.0, "V1", "off_duty")  # off-duty time is not on-duty time
    s.add(ev.ShiftEnded(t=7200.0))
    assert s.report().utilisation.fleet == pytest.approx(0.5)
    assert s.report(now=9000.0).utilisation.on_duty_h == pytest.approx(1.0)


def test_utilisation_open_interval_runs_to_now_without_changing_state() -> None:
    s = Stream()
    s.status(0.0, "V1", "available")
    s.status(1800.0, "V1", "on_scene")
    metrics = ShiftMetrics(ARP_2017, UnitCosts())
    metrics.feed_all(s.events)
    assert metrics.snapshot(now=3600.0).utilisation.fleet == pytest.approx(0.5)
    assert metrics.snapshot(now=2700.0).utilisation.fleet == pytest.approx(1 / 3)
    assert metrics.snapshot().utilisation.fleet == pytest.approx(0.0)  # last event's t: 1800
    assert metrics.snapshot().utilisation.by_type == {"unknown": 0.0}


def test_cost_arithmetic() -> None:
    s = Stream()
    s.incident("I1", "C2")  # answered call 1
    s.incident("I2", "C3")  # answered call 2
    s.incident("I3", "C4")  # answered call 3
    s.patient(0.0, "P4")  # a fourth patient whose call never got through
    s.assign(10.0, "A", "I1")
    s.assign(10.0, "B", "I1")
    s.add(ev.PatientOutcome(t=900.0, incident_id="I1", vehicle_id="A", outcome="convey_ed",
                            hospital="North"))  # fmt: skip
    s.closed(2000.0, "I1", "convey_ed")
    s.closed(100.0, "I2", "hear_and_treat")
    s.closed(100.0, "I3", "referred")
    costs = UnitCosts(dispatch=100.0, conveyance=10.0, hear_and_treat=5.0, call=1.0)
    r = s.report(costs=costs)
    # 2 dispatches x 100 + 1 conveyed x 10 + 2 closed by phone x 5 + 3 answered x 1
    assert r.cost_total == pytest.approx(223.0)
    assert r.incidents == 4
    assert r.cost_per_incident == pytest.approx(223.0 / 4)


def test_hub_and_harm_and_unsafe_advice() -> None:
    s = Stream()
    s.add(ev.HubQueued(t=0.0, incident_id="I1", category="C3", breach_at=3600.0, reason="referral"))
    s.add(ev.HubQueued(t=100.0, incident_id="I2", category="C4", breach_at=200.0,
                       reason="referral"))  # fmt: skip
    s.add(ev.HubCallbackStarted(t=600.0, incident_id="I1", clinician="N1"))
    s.add(ev.HubOutcome(t=900.0, incident_id="I1", clinician="N1", outcome="referred",
                        category="C3"))  # fmt: skip
    s.add(ev.HubBreached(t=200.0, incident_id="I2"))
    s.add(ev.ReferralBounced(t=2000.0, incident_id="I1"))
    s.add(ev.HubQueued(t=2000.0, incident_id="I1", category="C3", breach_at=5000.0,
                       reason="bounced"))  # fmt: skip
    s.add(ev.UnsafeAdvice(t=10.0, incident_id="I9", patient_id="P9", need="convey_ed",
                          by="trainee"))  # fmt: skip
    s.add(ev.HarmOccurred(t=900.0, patient_id="P9", true_category="C2", waited_s=900.0,
                          reason="late"))  # fmt: skip
    s.add(ev.HubQueued(t=2100.0, incident_id="I3", category="C3", breach_at=5000.0,
                       reason="referral"))  # fmt: skip
    s.assign(2200.0, "V1", "I3")  # sending a vehicle takes it off the stack
    s.add(ev.HubQueued(t=2100.0, incident_id="I4", category="C3", breach_at=5000.0,
                       reason="referral"))  # fmt: skip
    s.closed(2300.0, "I4", "hear_and_treat")  # so does closing it
    r = s.report()
    h = r.hub
    assert (h.referrals, h.bounced, h.callbacks, h.breaches, h.waiting) == (4, 1, 1, 1, 1)
    assert h.outcomes == {"referred": 1}
    assert h.mean_wait_to_callback_s == pytest.approx(600.0)
    assert r.unsafe_advice == 1 and r.harm_events == 1
    assert r.harm_by_category == {"C1": 0, "C2": 1, "C3": 0, "C4": 0}


# --- purity, JSON, speed, text --------------------------------------------------------------


def _busy_shift() -> Stream:
    s = _rrv_then_dca_c2()
    s.incident("I2", "C1", connect=50.0, area="moor")
    s.assign(60.0, "V2", "I2")
    s.arrive(700.0, "V2", "I2")
    s.status(0.0, "V2", "available")
    s.status(60.0, "V2", "mobilising")
    s.add(ev.HandoverCompleted(t=3000.0, vehicle_id="V2", incident_id="I2", hospital="North",
                               wait_s=1500.0))  # fmt: skip
    s.closed(3000.0, "I2", "convey_ed")
    return s


def test_feeding_in_one_go_equals_feeding_one_by_one_with_snapshots_between() -> None:
    events = _busy_shift().events
    at_once = ShiftMetrics(ARP_2017, UnitCosts())
    at_once.feed_all(events)
    stepwise = ShiftMetrics(ARP_2017, UnitCosts())
    for event in events:
        stepwise.feed(event)
        stepwise.snapshot()  # caching must not leak into the result
    assert at_once.snapshot() == stepwise.snapshot()
    assert at_once.snapshot(now=5000.0) == stepwise.snapshot(now=5000.0)


def test_json_dict_is_plain_json() -> None:
    for regime in (ARP_2017, CAT_AB_2008):
        d = _busy_shift().report(regime).to_json_dict()
        assert json.loads(json.dumps(d)) == d
        assert set(d["categories"]) == {"C1", "C2", "C3", "C4"}
        assert d["categories"]["C2"]["count"] == 1
        assert d["c1t"]["count"] == 1
        assert d["by_area"]["moor"]["C1"]["count"] == 1
        assert d["unnecessary_dispatches"]["total"] == 0
    assert Stream().report().to_json_dict()["regime_transport"] is None


_EVENT_KINDS = st.sampled_from(["assign", "arrive", "surplus", "stand", "closed", "status"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(_EVENT_KINDS, st.integers(0, 3), st.integers(0, 2)), max_size=40))
def test_random_streams_keep_the_invariants(steps: list[tuple[str, int, int]]) -> None:
    s = Stream()
    for i in range(4):
        s.incident(f"I{i}", ["C1", "C2", "C3", "C4"][i], need="hear_and_treat" if i == 3 else "x")
    outcomes = ["convey_ed", "see_and_treat", "hear_and_treat"]
    statuses = ["available", "on_scene", "off_duty"]
    for t, (kind, inc, veh) in enumerate(steps, start=1):
        iid, vid = f"I{inc}", f"V{veh}"
        if kind == "assign":
            s.assign(float(t), vid, iid)
        elif kind in ("arrive", "surplus"):
            s.arrive(float(t), vid, iid, role="first" if kind == "arrive" else "surplus")
        elif kind == "stand":
            s.stood_down(float(t), vid, iid, "stand_down")
        elif kind == "closed":
            s.closed(float(t), iid, outcomes[veh])
        else:
            s.status(float(t), vid, statuses[veh])
    r = s.report()
    u = r.unnecessary_dispatches
    assert u.total == u.duplicate + u.stood_down + u.avoidable <= r.dispatches
    o = r.outcomes
    shares = (o.hear_and_treat, o.see_and_treat, o.convey_ed, o.convey_elsewhere)
    # Changed with the definition (docs/domain.md, Outcome shares): shares of the closed
    # incidents sum to 1 whenever any has closed (they summed to closed / incidents before)
    if o.closed:
        assert sum(x or 0.0 for x in shares) == pytest.approx(1.0)
    else:
        assert shares == (None, None, None, None)
    assert o.open == o.incidents - o.closed
    assert r.utilisation.fleet is None or 0.0 <= r.utilisation.fleet <= 1.0
    stepwise = ShiftMetrics(ARP_2017, UnitCosts())
    for event in s.events:
        stepwise.feed(event)
    assert stepwise.snapshot() == r


def test_snapshot_of_5000_incidents_is_cheap() -> None:
    s = Stream()
    for i in range(5000):
        iid, vid = f"I{i}", f"V{i % 100}"
        s.incident(iid, ["C1", "C2", "C3", "C4"][i % 4], connect=float(i), area=f"A{i % 7}")
        s.assign(i + 10.0, vid, iid)
        s.status(i + 10.0, vid, "mobilising")
        s.arrive(i + 400.0 + i % 300, vid, iid)
    metrics = ShiftMetrics(ARP_2017, UnitCosts())
    metrics.feed_all(s.events)
    metrics.snapshot()  # the first one computes every clock
    start = time.perf_counter()
    for k in range(4):  # the worst case between frames: some clock changed
        metrics.feed(
            ev.IncidentCategoryChanged(t=9000.0 + k, incident_id=f"I{k}", category="C2",
                                       previous="C1", reason="test")
        )  # fmt: skip
        report = metrics.snapshot(now=9000.0 + k)
    per_snapshot = (time.perf_counter() - start) / 4
    assert report.categories["C1"].count == 1249
    assert per_snapshot < 0.1  # four a second must leave the desk most of its frame budget


def test_kpi_table_is_ascii_and_names_the_standards() -> None:
    s = Stream()
    s.incident("I1", "C1")
    s.assign(1.0, "V1", "I1")
    s.arrive(10 * MIN, "V1", "I1")
    s.closed(2000.0, "I1", "convey_ed")
    text = format_kpi_table(s.report(), title="Night shift")
    assert text.isascii()
    assert text.startswith("Night shift")
    assert "MISSED" in text  # a 10-minute C1 misses the 7-minute mean
    assert "mean 7 min, 90th 15 min" in text
    assert "15.8%" in text and "9.3%-20.8%" in text
    assert "10:00" in text
    assert "Unnecessary dispatches" in text and "Handover" in text and "per incident" in text

    ab = format_kpi_table(_rrv_then_dca_c2().report(CAT_AB_2008), title="2008")
    assert "Regime groups" in ab and "75% within 8 min" in ab and " met" in ab


def test_mmss() -> None:
    assert mmss(None) == "-"
    assert mmss(59.6) == "1:00"
    assert mmss(125 * MIN + 3) == "125:03"
