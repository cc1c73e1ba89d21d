"""A mass-casualty scene: several patients at one place, each needing their own crew.

The expert must tell a caller about another casualty (who says so when asked whether this is the
incident already open there) from a bystander repeating a known one: one incident and one vehicle
per casualty, duplicate callers linked to their own casualty's incident and to no other.
"""

from __future__ import annotations

from functools import lru_cache

from ambsim_gui.assess.feedback import CallFeedback, FeedbackProjection
from ambsim_gui.headless import build_from
from ambsim_gui.paths import DEFAULT_SCENARIO
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.callers import NEW_CASUALTY_OPENING
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.world import World

CASUALTIES = 6


@lru_cache(maxsize=1)
def world() -> World:
    return build_from(load_scenario(DEFAULT_SCENARIO))


@lru_cache(maxsize=1)
def coach_crash() -> Engine:
    e = Engine(world(), policy="expert", trainee_policy="expert")  # type: ignore[arg-type]
    spec = {
        "type": "call_burst",
        "card": "rtc",
        "variant": "trapped_high_energy",  # C2: each casualty needs a crew
        "count": CASUALTIES,
        "over_min": 3,
        "callers": 3,
        "area": "Casterbridge",
    }
    assert e.submit(cmd.Inject(seat="instructor", spec=spec))
    e.run_until(3 * 3600)
    return e


def _casualties(e: Engine) -> set[str]:
    # the inject's patients are numbered J (the scenario's own scripted calls S)
    return {
        p.patient_id
        for p in e.events
        if isinstance(p, ev.PatientCreated) and p.patient_id.startswith("J")
    }


def test_each_casualty_gets_its_own_incident_and_crew() -> None:
    e = coach_crash()
    hurt = _casualties(e)
    assert len(hurt) == CASUALTIES
    opened = {i.truth_patient.id for i in e.incidents.values()} & hurt
    assert opened == hurt  # none of them was folded into another's incident
    sent = {
        e.incidents[a.incident_id].truth_patient.id
        for a in e.events
        if isinstance(a, ev.VehicleAssigned)
    }
    serious = {
        p.patient_id
        for p in e.events
        if isinstance(p, ev.PatientCreated)
        and p.patient_id in hurt
        and p.true_category in ("C1", "C2")
    }
    assert serious and serious <= sent  # a vehicle per seriously hurt casualty


def test_only_true_duplicates_are_linked_and_to_their_own_casualty() -> None:
    e = coach_crash()
    hurt = _casualties(e)
    linked = [c for c in e.calls.values() if c.disposition == "linked"]
    scene_links = [c for c in linked if c.truth_patient.id in hurt]
    # three callers a casualty: the two bystanders after the first are duplicates to link
    assert scene_links
    for c in scene_links:
        assert not c.new_casualty
        assert e.incidents[c.incident_id or ""].truth_patient is c.truth_patient


def test_the_caller_says_it_is_another_casualty() -> None:
    e = coach_crash()
    hurt = _casualties(e)
    firsts = {
        t.call_id
        for t in e.events
        if isinstance(t, ev.CallTruth) and t.reason == "first" and t.patient_id in hurt
    }
    openings = {a.call_id: a.opening for a in e.events if isinstance(a, ev.CallArrived)}
    assert len(firsts) == CASUALTIES
    assert all(openings[c].startswith(NEW_CASUALTY_OPENING) for c in firsts)
    repeats = [
        t.call_id
        for t in e.events
        if isinstance(t, ev.CallTruth) and t.reason != "first" and t.patient_id in hurt
    ]
    assert repeats and not any(openings[c].startswith(NEW_CASUALTY_OPENING) for c in repeats)


def _scene_feedback(e: Engine) -> list[CallFeedback]:
    fb = FeedbackProjection()
    fb.feed_all(e.events)
    fb.flush()
    hurt = _casualties(e)
    return [r for r in fb.records if r.patient_id in hurt]


def test_a_crew_sent_to_every_casualty_is_not_marked_down() -> None:
    # target_chaser never links: it opens an incident for every caller, as the trainee who
    # sends a crew to every casualty does, and a second one for every bystander as well
    e = Engine(world(), policy="expert", trainee_policy="target_chaser")  # type: ignore[arg-type]
    spec = {"type": "call_burst", "card": "rtc", "variant": "trapped_high_energy",
            "count": CASUALTIES, "over_min": 3, "callers": 3, "area": "Casterbridge"}  # fmt: skip
    assert e.submit(cmd.Inject(seat="instructor", spec=spec))
    e.run_until(3 * 3600)
    records = _scene_feedback(e)
    firsts = [r for r in records if r.call_reason == "first"]
    assert len(firsts) == CASUALTIES
    # the first call about each casualty: a new patient, rightly given an incident of their own
    for r in firsts:
        assert not any(v.startswith("duplicate") for v in r.verdict), r.verdict
    # a bystander's repeat call answered while the casualty's incident was open is a duplicate
    repeats = [r for r in records if r.call_reason == "duplicate" and r.disposition == "dispatch"]
    assert any(any(v.startswith("duplicate") for v in r.verdict) for r in repeats)


def test_the_expert_links_no_casualty_to_another() -> None:
    records = _scene_feedback(coach_crash())
    assert records
    assert not any(v.startswith("linked to the wrong incident") for r in records for v in r.verdict)
