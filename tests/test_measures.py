"""The national definitions of ambsim's measures (docs/domain.md, "Measures ambsim reports"):
outcome shares of closed incidents, the end-of-shift and run-out windows, the NAO's dispatch
counts and crews' late finishes. Hand-built streams whose answers are worked out by hand; one
default shift run headless."""

from __future__ import annotations

import dataclasses
import json
from functools import lru_cache
from pathlib import Path

import pytest

from ambsim_gui.assess.metrics import (
    NAO_DISPATCHES_PER_ATTENDED,
    NAO_MULTI_VEHICLE_ENGLAND,
    NAO_MULTI_VEHICLE_LONDON,
    MetricsReport,
    ShiftMetrics,
)
from ambsim_gui.assess.report_text import format_kpi_table, format_shift_report
from ambsim_gui.headless import RunResult, run_scenario
from ambsim_gui.paths import DEFAULT_SCENARIO
from ambsim_gui.record.reader import SessionFile
from ambsim_gui.report.data import gather
from ambsim_gui.report.document import sections
from ambsim_gui.report.layout import debrief_document, headline_rows
from ambsim_gui.scenario.model import UnitCosts
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.regimes import ARP_2017

MIN = 60.0
SHIFT_END = 4 * 3600.0  # a four-hour shift from 18:00, like the default scenario


class Shift:
    """A hand-built stream: the shift's start (it tells the end time), then whatever is added."""

    def __init__(self, duration_s: float = SHIFT_END) -> None:
        self.events: list[ev.Event] = [
            ev.ShiftStarted(
                t=0.0, scenario="hand", seed=1, start_clock="18:00", duration_s=duration_s,
                regime="arp2017",
            )
        ]  # fmt: skip

    def add(self, event: ev.Event) -> None:
        self.events.append(event)

    def incident(self, iid: str, cat: str, t: float, *, need: str = "convey_ed") -> None:
        """A patient whose call rings, is answered and categorised at ``t``: the ARP clock
        starts then (the category set is the earliest of its three starts)."""
        pid, cid = f"P{iid[1:]}", f"C{iid[1:]}"
        self.add(
            ev.PatientCreated(
                t=t, patient_id=pid, card="chest_pain", variant="v1", complaint="chest pain",
                true_category=cat, need=need, ideal="dispatch", x=0.0, y=0.0, area="Casterbridge",
            )
        )  # fmt: skip
        self.add(
            ev.CallArrived(
                t=t, call_id=cid, x=0.0, y=0.0, uncertainty_m=25.0, area="Casterbridge",
                opening="my husband has chest pain",
            )
        )  # fmt: skip
        self.add(ev.CallTruth(t=t, call_id=cid, patient_id=pid, reason="first"))
        self.add(ev.CallAnswered(t=t, call_id=cid, seat="trainee"))
        self.add(
            ev.CategorySet(
                t=t, call_id=cid, category=cat, recommended=cat, override=False, seat="trainee"
            )
        )
        self.add(
            ev.IncidentOpened(
                t=t, incident_id=iid, call_id=cid, category=cat, x=0.0, y=0.0,
                area="Casterbridge", complaint="chest pain", code="10-C-1",
            )
        )  # fmt: skip
        self.add(ev.IncidentTruth(t=t, incident_id=iid, patient_id=pid))

    def queue(self, t: float, iid: str, cat: str) -> None:
        self.add(ev.IncidentQueued(t=t, incident_id=iid, category=cat, needs="any",
                                   reason="decision"))  # fmt: skip

    def assign(self, t: float, vid: str, iid: str) -> None:
        self.add(ev.VehicleAssigned(t=t, vehicle_id=vid, incident_id=iid, eta_s=600.0,
                                    seat="trainee"))  # fmt: skip

    def arrive(self, t: float, vid: str, iid: str, vtype: str = "DCA", role: str = "first") -> None:
        self.add(ev.VehicleArrived(t=t, vehicle_id=vid, incident_id=iid, type=vtype, role=role))

    def closed(self, t: float, iid: str, outcome: str) -> None:
        self.add(ev.IncidentClosed(t=t, incident_id=iid, outcome=outcome))

    def vehicle(self, vid: str, shift_end_s: float, vtype: str = "DCA") -> None:
        self.add(
            ev.VehicleCreated(
                t=0.0, vehicle_id=vid, callsign=vid, type=vtype, station="Casterbridge",
                x=0.0, y=0.0, shift_start_s=0.0, shift_end_s=shift_end_s,
            )
        )  # fmt: skip
        self.status(0.0, vid, "available")

    def status(self, t: float, vid: str, status: str, iid: str | None = None) -> None:
        self.add(ev.VehicleStatus(t=t, vehicle_id=vid, status=status, incident_id=iid, x=0, y=0))

    def end(self) -> None:
        self.add(ev.ShiftEnded(t=SHIFT_END))

    def metrics(self) -> ShiftMetrics:
        metrics = ShiftMetrics(ARP_2017, UnitCosts())
        metrics.feed_all(self.events)
        return metrics


def share_sum(r: MetricsReport) -> float:
    o = r.outcomes
    return sum(s or 0.0 for s in (o.hear_and_treat, o.see_and_treat, o.convey_ed,
                                  o.convey_elsewhere))  # fmt: skip


# --- outcome shares ------------------------------------------------------------------------


def test_outcome_shares_are_shares_of_the_closed_incidents_and_the_open_are_beside() -> None:
    s = Shift()
    for n, cat in enumerate(["C3", "C2", "C2", "C1", "C2"], start=1):
        s.incident(f"I{n:05d}", cat, t=n * 60.0)
    s.closed(900.0, "I00001", "hear_and_treat")  # advice by phone
    s.closed(5000.0, "I00002", "see_and_treat")
    s.closed(7000.0, "I00003", "convey_ed")
    s.closed(7100.0, "I00005", "duplicate")  # a second record of one patient: no outcome
    s.end()  # I00004 is still open
    r = s.metrics().end_of_shift()
    o = r.outcomes
    # three incidents have an outcome, one of each: a third each, summing to 1 exactly
    assert (o.closed, o.open, o.incidents) == (3, 1, 4)
    assert o.hear_and_treat == pytest.approx(1 / 3)
    assert o.see_and_treat == pytest.approx(1 / 3)
    assert o.convey_ed == pytest.approx(1 / 3)
    assert o.convey_elsewhere == 0.0
    assert share_sum(r) == pytest.approx(1.0)

    text = format_kpi_table(r, title="Evening")
    assert "open at end: 1" in text and "shares of the 3 closed incidents" in text
    # the verdicts judge the shares of the closed: a third is above the trusts' 20.8% for
    # hear and treat, and below their 45.8% for conveyance to ED
    hear = next(line for line in text.splitlines() if line.startswith("Hear and treat"))
    ed = next(line for line in text.splitlines() if line.startswith("Conveyed to ED"))
    assert "33.3%" in hear and hear.endswith("above range")
    assert "33.3%" in ed and ed.endswith("below range")


def test_no_closed_incident_gives_no_share_and_no_verdict() -> None:
    s = Shift()
    s.incident("I00001", "C2", t=60.0)
    o = s.metrics().end_of_shift().outcomes
    assert (o.closed, o.open) == (0, 1)
    assert o.hear_and_treat is None and o.convey_ed is None  # nothing to divide by
    text = format_kpi_table(s.metrics().end_of_shift(), title="x")
    assert "range" not in text.split("Outcomes")[1].split("Unnecessary")[0]


# --- the two windows -------------------------------------------------------------------------


def _waiting_at_the_end() -> Shift:
    """Two C2s: one answered in 10 min during the shift, one still waiting at the end.

    I00001 rings at 1:00, its DCA arrives at 11:00: a 10-minute response.
    I00002 rings 40 minutes before the end (3:20:00); at 4:00:00 it has waited 40 minutes and
    its DCA arrives in the run-out, 30 minutes after the end: a 70-minute response.
    I00003, a C3, waits on the clinical hub's stack for a call-back: not waiting for a vehicle.
    """
    s = Shift()
    s.incident("I00001", "C2", t=60.0)
    s.queue(60.0, "I00001", "C2")
    s.assign(120.0, "V1", "I00001")
    s.arrive(660.0, "V1", "I00001")
    s.incident("I00002", "C2", t=SHIFT_END - 40 * MIN)
    s.queue(SHIFT_END - 40 * MIN, "I00002", "C2")
    s.assign(SHIFT_END - 10 * MIN, "V2", "I00002")
    s.incident("I00003", "C3", t=SHIFT_END - 20 * MIN)
    s.add(ev.HubQueued(t=SHIFT_END - 20 * MIN, incident_id="I00003", category="C3",
                       breach_at=SHIFT_END + 40 * MIN, reason="referral"))  # fmt: skip
    s.end()
    return s


def test_an_incident_still_waiting_counts_with_its_wait_so_far_then_with_its_real_response() -> (
    None
):
    s = _waiting_at_the_end()
    s.arrive(SHIFT_END + 30 * MIN, "V2", "I00002")  # the run-out
    s.add(ev.HubOutcome(t=SHIFT_END + 5 * MIN, incident_id="I00003", clinician="N1",
                        outcome="hear_and_treat", category="C3"))  # fmt: skip
    s.closed(SHIFT_END + 5 * MIN, "I00003", "hear_and_treat")
    w = s.metrics().windows()
    assert w.runs_on and w.shift_end_s == SHIFT_END

    end = w.end_of_shift.categories["C2"]
    # at the end: 10 min and 40 min so far, a mean of 25 min; one of the two still waiting
    assert (end.count, end.waiting) == (2, 1)
    assert end.mean_response_s == pytest.approx(25 * MIN)
    assert w.end_of_shift.still_waiting == 1  # the hub's call-back is not waiting for a vehicle
    assert w.end_of_shift.categories["C3"].count == 0
    # the mean 25 min is over the 18-minute standard: a miss is certain whatever comes later
    assert end.met is False

    out = w.run_out.categories["C2"]
    # after the run-out: 10 min and 70 min, a mean of 40 min; nothing waiting
    assert (out.count, out.waiting) == (2, 0)
    assert out.mean_response_s == pytest.approx(40 * MIN)
    assert w.run_out.still_waiting == 0
    assert end.mean_response_s <= out.mean_response_s  # the wait so far is a lower bound
    # the outcome closed in the run-out is in the run-out's shares only
    assert w.end_of_shift.outcomes.closed == 0 and w.run_out.outcomes.closed == 1

    text = format_shift_report(w, title="Evening")
    assert "incl. 1 still waiting for a vehicle" in text
    assert "Run-out" in text and "run-out: every event, to 4:30:00" in text


def test_an_rrv_on_scene_at_the_end_bounds_the_wait_by_its_arrival() -> None:
    # ARP C2: an RRV whose clinician treats on scene stops the clock at its arrival, even when
    # the treatment is told after the shift's end; the wait so far must not exceed that
    s = Shift()
    s.incident("I00001", "C2", t=SHIFT_END - 60 * MIN)
    s.queue(SHIFT_END - 60 * MIN, "I00001", "C2")
    s.assign(SHIFT_END - 55 * MIN, "R1", "I00001")
    s.arrive(SHIFT_END - 45 * MIN, "R1", "I00001", vtype="RRV")
    s.end()
    s.add(ev.PatientOutcome(t=SHIFT_END + 20 * MIN, incident_id="I00001", vehicle_id="R1",
                            outcome="see_and_treat", hospital=None))  # fmt: skip
    w = s.metrics().windows()
    end, out = w.end_of_shift.categories["C2"], w.run_out.categories["C2"]
    assert (end.waiting, out.waiting) == (1, 0)
    # 15 minutes from the clock's start to the RRV's arrival, in both windows
    assert end.mean_response_s == pytest.approx(15 * MIN)
    assert out.mean_response_s == pytest.approx(15 * MIN)


def test_without_a_run_out_the_run_out_is_the_end_of_shift_without_the_waiting() -> None:
    s = _waiting_at_the_end()
    metrics = s.metrics()
    w = metrics.windows()
    assert not w.runs_on
    # only the 10-minute response arrived: the run-out counts it alone
    out = w.run_out.categories["C2"]
    assert (out.count, out.waiting, out.mean_response_s) == (1, 0, pytest.approx(10 * MIN))
    # everything but the waiting incident's lower bound is the same in both windows
    same = dataclasses.replace(
        w.end_of_shift,
        window="run_out",
        still_waiting=0,
        categories=w.run_out.categories,
        regime_groups=w.run_out.regime_groups,
        by_area=w.run_out.by_area,
    )
    assert same == w.run_out
    # and the plain snapshot at the shift's end is the run-out's figures
    assert dataclasses.replace(metrics.snapshot(), window="run_out") == w.run_out
    assert "Run-out: none recorded" in format_shift_report(w, title="Evening")


def test_what_follows_shift_ended_is_the_run_outs_even_at_the_same_moment() -> None:
    # the oncoming crews take over at the shift's end: their first dispatch, stamped with the
    # end time but after ShiftEnded, is the run-out's, not the shift's
    s = _waiting_at_the_end()
    s.assign(SHIFT_END, "V9", "I00002")
    w = s.metrics().windows()
    assert w.runs_on
    assert (w.end_of_shift.dispatches, w.run_out.dispatches) == (2, 3)
    assert w.end_of_shift.t == SHIFT_END


def test_the_shift_end_comes_from_shift_ended_when_shift_started_is_missing() -> None:
    s = _waiting_at_the_end()
    del s.events[0]  # no ShiftStarted: ShiftEnded at 4:00:00 tells the end
    s.arrive(SHIFT_END + 30 * MIN, "V2", "I00002")
    w = s.metrics().windows()
    assert w.runs_on and w.shift_end_s == SHIFT_END
    assert w.end_of_shift.categories["C2"].mean_response_s == pytest.approx(25 * MIN)


def test_the_end_of_shift_report_is_the_same_fed_at_once_or_with_snapshots_between() -> None:
    s = _waiting_at_the_end()
    s.arrive(SHIFT_END + 30 * MIN, "V2", "I00002")
    at_once = s.metrics()
    stepwise = ShiftMetrics(ARP_2017, UnitCosts())
    for event in s.events:
        stepwise.feed(event)
        stepwise.snapshot()
        stepwise.end_of_shift()  # asking early must not freeze the wrong moment
    assert stepwise.windows() == at_once.windows()


# --- the NAO's counts ------------------------------------------------------------------------


def test_dispatches_per_attended_incident_and_call_outs_with_more_than_one_vehicle() -> None:
    s = Shift()
    for n in range(1, 5):
        s.incident(f"I{n:05d}", "C2", t=n * 60.0)
    s.assign(300.0, "V1", "I00001")
    s.assign(310.0, "V2", "I00001")  # a second vehicle to the same call-out
    s.arrive(900.0, "V1", "I00001")
    s.arrive(960.0, "V2", "I00001", role="surplus")
    s.assign(320.0, "V3", "I00002")
    s.arrive(1000.0, "V3", "I00002")
    s.assign(330.0, "V4", "I00003")
    s.arrive(1100.0, "V4", "I00003")
    s.assign(340.0, "V5", "I00004")
    s.add(ev.VehicleStoodDown(t=400.0, vehicle_id="V5", incident_id="I00004",
                              reason="stand_down"))  # fmt: skip
    nao = s.metrics().end_of_shift().nao
    # 5 assignments; vehicles arrived at 3 incidents (I00004's was stood down): 5 / 3
    assert (nao.dispatches, nao.attended_incidents) == (5, 3)
    assert nao.dispatches_per_attended == pytest.approx(5 / 3)
    # 4 incidents got a dispatch, 1 of them two distinct vehicles: 25%
    assert (nao.dispatched_incidents, nao.multi_vehicle_incidents) == (4, 1)
    assert nao.multi_vehicle_share == pytest.approx(0.25)

    s.assign(1200.0, "V6", "I00003")  # a second distinct vehicle to I00003
    s.add(ev.VehicleStoodDown(t=1300.0, vehicle_id="V3", incident_id="I00002",
                              reason="stand_down"))  # fmt: skip
    s.assign(1400.0, "V3", "I00002")  # the same vehicle sent again: a dispatch, not a vehicle
    nao = s.metrics().end_of_shift().nao
    assert nao.dispatches_per_attended == pytest.approx(7 / 3)
    # 2 of the 4 call-outs got more than one distinct vehicle: 50%
    assert (nao.dispatched_incidents, nao.multi_vehicle_incidents) == (4, 2)
    assert nao.multi_vehicle_share == pytest.approx(0.5)
    # the NAO's figures travel with the counts (docs/domain.md, NAO 2011)
    assert nao.reference_dispatches_per_attended == NAO_DISPATCHES_PER_ATTENDED == 1.27
    assert (nao.reference_multi_vehicle_england, nao.reference_multi_vehicle_london) == (
        NAO_MULTI_VEHICLE_ENGLAND, NAO_MULTI_VEHICLE_LONDON
    ) == (0.49, 0.61)  # fmt: skip

    text = format_kpi_table(s.metrics().end_of_shift(), title="x")
    assert "Dispatches per attended incident: 2.33" in text and "NAO: 1.27" in text
    assert "more than one vehicle: 50.0% (2 of 4)" in text and "49% England, 61% London" in text


def test_no_dispatch_gives_no_nao_ratio() -> None:
    nao = Shift().metrics().end_of_shift().nao
    assert nao.dispatches_per_attended is None and nao.multi_vehicle_share is None


# --- late finishes -------------------------------------------------------------------------


def test_two_crews_finishing_10_and_30_minutes_late_and_one_on_time() -> None:
    s = Shift()
    day_end = 2 * 3600.0  # three day crews finish at 20:00, two hours into the shift
    for vid in ("CAS-A1", "CAS-A2", "CAS-A3"):
        s.vehicle(vid, day_end)
    s.vehicle("KGB-N1", SHIFT_END)  # a night crew on until the shift's end
    s.status(day_end - 30 * MIN, "CAS-A1", "on_scene", "I00001")
    s.status(day_end + 10 * MIN, "CAS-A1", "off_duty")  # 10 minutes late
    s.status(day_end - 20 * MIN, "CAS-A2", "at_hospital", "I00002")
    s.status(day_end + 20 * MIN, "CAS-A2", "returning")
    s.status(day_end + 30 * MIN, "CAS-A2", "off_duty")  # 30 minutes late
    s.status(day_end, "CAS-A3", "off_duty")  # on time: off at its shift's end
    s.status(SHIFT_END - 5 * MIN, "KGB-N1", "to_scene", "I00003")
    s.end()
    lf = s.metrics().end_of_shift().late_finishes
    # the night crew's shift ends with the shift: not due yet, so it cannot be late
    assert (lf.due, lf.late, lf.still_out) == (3, 2, 0)
    assert lf.mean_overrun_min == pytest.approx(20.0)  # (10 + 30) / 2
    assert lf.max_overrun_min == pytest.approx(30.0)
    text = format_kpi_table(s.metrics().end_of_shift(), title="x")
    assert "Late finishes: 2 of 3 crews whose shift had ended, mean overrun 20.0 min" in text


def test_a_crew_still_working_counts_with_its_overrun_so_far() -> None:
    s = Shift()
    s.vehicle("CAS-A1", 2 * 3600.0)
    s.status(3600.0, "CAS-A1", "on_scene", "I00001")
    s.status(2 * 3600.0 + 50 * MIN, "CAS-A1", "to_hospital", "I00001")
    s.vehicle("KGB-N1", SHIFT_END)
    s.status(SHIFT_END - 30 * MIN, "KGB-N1", "on_scene", "I00002")
    s.end()
    metrics = s.metrics()
    lf = metrics.end_of_shift().late_finishes
    # CAS-A1 is still out at 4:00:00, two hours after its 2:00:00 finish: a lower bound
    assert (lf.due, lf.late, lf.still_out) == (1, 1, 1)
    assert lf.mean_overrun_min == pytest.approx(120.0)

    s.status(SHIFT_END + 25 * MIN, "CAS-A1", "off_duty")  # the run-out: both finish
    s.status(SHIFT_END + 15 * MIN, "KGB-N1", "returning")
    s.status(SHIFT_END + 15 * MIN, "KGB-N1", "off_duty")
    w = s.metrics().windows()
    assert w.end_of_shift.late_finishes == lf  # the end-of-shift figures do not move
    out = w.run_out.late_finishes
    # after the run-out: 145 and 15 minutes late, both off duty
    assert (out.due, out.late, out.still_out) == (2, 2, 0)
    assert out.mean_overrun_min == pytest.approx(80.0)


# --- the default shift, headless -------------------------------------------------------------


@lru_cache(maxsize=1)
def _default_hour() -> RunResult:
    return run_scenario(DEFAULT_SCENARIO, hours=1.0)


def test_the_default_shift_has_closed_shares_summing_to_one_and_a_sane_nao_ratio() -> None:
    result = _default_hour()
    end = result.windows.end_of_shift
    o = end.outcomes
    assert o.closed > 0 and o.open > 0  # an hour in, some incidents have ended, some not
    # shares of the closed incidents: together they are all of them (each printed to 0.1%)
    assert 100 * share_sum(end) == pytest.approx(100.0, abs=0.5)
    assert o.closed + o.open == o.incidents
    # no vehicle reaches a scene without being sent: at least one dispatch per attended incident
    nao = end.nao
    assert nao.attended_incidents > 0
    assert nao.dispatches_per_attended is not None and nao.dispatches_per_attended >= 1.0
    # a call-out with more than one vehicle is one of the call-outs
    assert 0 <= nao.multi_vehicle_incidents <= nao.dispatched_incidents


def test_the_run_json_has_both_windows_and_the_new_measures() -> None:
    report = json.loads(json.dumps(_default_hour().to_json()))
    for window in ("end_of_shift", "run_out"):
        block = report[window]
        assert block["window"] == window
        assert {"nao", "late_finishes", "outcomes", "still_waiting"} <= set(block)
        assert {"dispatches_per_attended", "multi_vehicle_share"} <= set(block["nao"])
        assert {"due", "late", "mean_overrun_min"} <= set(block["late_finishes"])
    assert report["shift_end_s"] == 3600.0 and isinstance(report["runs_on"], bool)
    # the run-out counts responses as they ended: nothing is counted as waiting there
    assert report["run_out"]["still_waiting"] == 0
    # the flat keys are every event's figures, as the run-out's are
    assert report["outcomes"] == report["run_out"]["outcomes"]


ARCHIVED = Path(__file__).parent / "sessions" / "default_1h_both_chaser_inject.schema2.ambsession"


def test_the_debrief_shows_closed_shares_the_open_the_nao_counts_and_late_finishes() -> None:
    with SessionFile.open(ARCHIVED) as session:
        d = gather(session, expert=False)
    assert d.metrics.window == "end_of_shift" and d.run_out.window == "run_out"
    rows = {row[0]: row for row in headline_rows(d)}
    o = d.metrics.outcomes
    shares = [row[1] for label, row in rows.items() if label.endswith(f"of {o.closed} closed)")]
    # four outcome rows, shares of the closed: printed to 0.1%, together 100% within rounding
    assert len(shares) == 4 and o.closed > 0
    assert sum(float(x.rstrip("%")) for x in shares) == pytest.approx(100.0, abs=0.5)
    assert rows["Incidents still open"][1] == str(o.open)
    nao = d.metrics.nao
    per = rows["Dispatches per attended incident"]
    assert per[1].startswith(f"{nao.dispatches_per_attended:.2f} ({nao.dispatches} dispatches")
    assert per[2].startswith("NAO 2011: 1.27")
    assert "49% England, 61% London" in rows["Call-outs with more than one vehicle"][2]
    assert "Late finishes" in rows
    # the recording stops at the shift's end: no run-out table, a sentence saying so
    assert (3, "After the run-out") not in sections(debrief_document(d))
    ran_on = dataclasses.replace(d, runs_on=True)
    assert (3, "After the run-out") in sections(debrief_document(ran_on))
