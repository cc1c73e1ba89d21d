"""ResponseClock: one fold of the clock moments, shared by metrics, the desk and replay."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from ambsim_gui.headless import RunResult, run_scenario
from ambsim_gui.paths import DEFAULT_SCENARIO
from ambsim_gui.record.replay_state import ReplayState
from ambsim_gui.record.response_standards import response_times
from ambsim_gui.sim.regimes import ARP_2017, CAT_AB_2008, REGIMES, ResponseClock, percentile90

MIN = 60.0


def test_first_assignment_is_kept_and_reported_once() -> None:
    clock = ResponseClock(call_connect=0.0, category_set=20.0)
    assert clock.assigned(60.0) is True
    assert clock.assigned(90.0) is False  # a second vehicle does not move the clock start
    assert clock.first_assigned == 60.0


def test_first_arrival_is_kept_and_a_dca_sets_its_own_moment() -> None:
    clock = ResponseClock(call_connect=0.0)
    assert clock.arrived("R1", "RRV", 300.0) is True  # the first vehicle of any kind
    assert (clock.first_arrival, clock.first_dca_arrival) == (300.0, None)
    assert clock.arrived("D1", "DCA", 500.0) is True  # not the first, but the first DCA
    assert (clock.first_arrival, clock.first_dca_arrival) == (300.0, 500.0)
    assert clock.arrived("D2", "DCA", 600.0) is False  # neither: nothing the clock reads moved
    assert (clock.first_arrival, clock.first_dca_arrival) == (300.0, 500.0)


def test_a_later_rrv_arrival_is_recorded_but_changes_nothing_yet() -> None:
    clock = ResponseClock(call_connect=0.0)
    clock.arrived("D1", "DCA", 200.0)
    assert clock.arrived("R1", "RRV", 250.0) is False
    assert clock.arrived("R1", "RRV", 900.0) is False  # its first arrival here is the one kept
    assert clock.rrv_arrivals == {"R1": 250.0}


def test_an_rrv_first_on_scene_whose_patient_is_conveyed_does_not_stop_an_arp_c2_clock() -> None:
    clock = ResponseClock(call_connect=0.0, category_set=60.0)
    clock.assigned(60.0)
    clock.arrived("R1", "RRV", 8 * MIN)
    assert ARP_2017.clock_stop(clock.times("C2")) is None  # an RRV alone is not the response
    clock.arrived("D1", "DCA", 30 * MIN)
    assert clock.treated("D1", "convey_ed") is False
    assert clock.treated("R1", "convey_ed") is False  # conveyed: the RRV did not treat
    times = clock.times("C2")
    assert times.first_treating_rrv_arrival is None
    assert ARP_2017.clock_stop(times) == 30 * MIN  # the DCA stopped it
    # C1, and the Category A/B clock, stop at the first vehicle of any kind
    assert ARP_2017.clock_stop(clock.times("C1")) == 8 * MIN
    assert CAT_AB_2008.clock_stop(times) == 8 * MIN


def test_an_rrv_that_sees_and_treats_stops_an_arp_c2_clock_at_its_arrival() -> None:
    clock = ResponseClock(call_connect=0.0, category_set=60.0)
    clock.assigned(60.0)
    clock.arrived("R1", "RRV", 8 * MIN)
    clock.arrived("D1", "DCA", 30 * MIN)
    assert clock.treated("R1", "see_and_treat") is True
    times = clock.times("C2")
    assert times.first_treating_rrv_arrival == 8 * MIN
    assert ARP_2017.clock_stop(times) == 8 * MIN
    assert ARP_2017.response_time(times) == 7 * MIN  # from the category set at 1 min
    assert clock.treated("R1", "see_and_treat") is False  # told twice: nothing new


def test_the_earliest_treating_rrv_wins_whatever_order_the_outcomes_come_in() -> None:
    clock = ResponseClock(call_connect=0.0)
    clock.arrived("R1", "RRV", 400.0)
    clock.arrived("R2", "RRV", 600.0)
    assert clock.treated("R2", "see_and_treat") is True
    assert clock.treated("R1", "see_and_treat") is True  # earlier arrival: a new stop
    assert clock.treated("R2", "see_and_treat") is False  # later arrival: no change
    assert clock.first_treating_rrv_arrival == 400.0


def test_see_and_treat_by_a_vehicle_that_is_not_a_recorded_rrv_changes_nothing() -> None:
    clock = ResponseClock(call_connect=0.0)
    clock.arrived("D1", "DCA", 400.0)
    assert clock.treated("D1", "see_and_treat") is False  # a DCA's arrival is its own moment
    assert clock.treated("R9", "see_and_treat") is False  # never arrived here
    assert clock.first_treating_rrv_arrival is None


def test_times_carries_every_moment_and_the_category_asked_for() -> None:
    clock = ResponseClock(call_connect=10.0, category_set=40.0)
    clock.assigned(70.0)
    clock.arrived("R1", "RRV", 300.0)
    clock.arrived("D1", "DCA", 500.0)
    clock.treated("R1", "see_and_treat")
    times = clock.times("C3")
    assert times.category == "C3"
    assert (times.call_connect, times.category_set, times.first_assigned) == (10.0, 40.0, 70.0)
    assert (times.first_arrival, times.first_dca_arrival) == (300.0, 500.0)
    assert times.first_treating_rrv_arrival == 300.0


# --- the three readers of the event stream agree ----------------------------------------------


@lru_cache(maxsize=1)
def _default_run() -> RunResult:
    return run_scenario(DEFAULT_SCENARIO)


def _desk_response_times(result: RunResult, state: ReplayState) -> dict[str, list[float]]:
    """Response times as the live desk's projection gives them (no window is built)."""
    pytest.importorskip("PySide6")  # ambsim_gui.ui applies its Qt work-arounds on import
    from ambsim_gui.ui.live import DeskProjection

    regime = REGIMES[result.loaded.scenario.regime]
    desk = DeskProjection(result.engine, regime)
    for event in result.engine.events:
        desk.feed(event)
    now = result.engine.events[-1].t
    out: dict[str, list[float]] = {"C1": [], "C2": []}
    for inc in state.incidents.values():
        if inc.category not in out:
            continue
        seconds, stopped = desk.response_clock(inc.id, inc.category, now)
        if stopped:
            out[inc.category].append(seconds)
    return out


def test_metrics_the_live_desk_and_the_timeline_give_the_same_c1_c2_response_times() -> None:
    result = _default_run()
    regime = REGIMES[result.loaded.scenario.regime]
    state = ReplayState()
    state.apply_all(result.engine.events)
    timeline: dict[str, list[float]] = {"C1": [], "C2": []}
    for _, _, seconds, category in response_times(state.incidents.values(), regime):
        if category in timeline:
            timeline[category].append(seconds)
    desk = _desk_response_times(result, state)
    # the run exercises the see-and-treat stop, so agreement covers it too
    assert any(
        inc.category == "C2"
        and inc.clock.first_treating_rrv_arrival is not None
        and regime.clock_stop(inc.times()) == inc.clock.first_treating_rrv_arrival
        for inc in state.incidents.values()
    )
    for category in ("C1", "C2"):
        assert timeline[category], category
        assert sorted(desk[category]) == sorted(timeline[category]), category
        block = result.metrics.categories[category]
        assert block.count == len(timeline[category])
        assert block.mean_response_s == pytest.approx(float(np.mean(timeline[category])))
        assert block.p90_response_s == pytest.approx(percentile90(timeline[category]))
