"""Asking is not acting: questions from outside a run never change its event stream.

Which of two equally fast routes a vehicle drives depends on which cached shortest-path tree
answers, and so on the questions asked before. A desk listing candidate ETAs, or a player
choosing vehicles before it submits, asks such questions, which a re-simulation from the
command log does not ask: they go to an onlookers' router, so the recording still verifies.
A second shift on the same world starts from empty caches too, so it runs like the first.
"""

from __future__ import annotations

from pathlib import Path

from test_pinned_streams import PINS

from ambsim_gui.headless import build_from, run_scenario
from ambsim_gui.paths import DEFAULT_SCENARIO
from ambsim_gui.record.player import record_played_shift
from ambsim_gui.record.verify import verify
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.state import EN_ROUTE_STATUSES


def test_a_whole_shift_played_through_the_door_verifies(tmp_path: Path) -> None:
    """The expert in the trainee's seat, asking ETAs before every dispatch: four hours
    (a divergence showed at 3:46:45, in the last digit of an ETA, before onlookers had their
    own router)."""
    loaded = load_scenario(DEFAULT_SCENARIO)
    path = tmp_path / "played.ambsession"
    engine, recorder = record_played_shift(path, loaded, build_from(loaded), hours=4.0)
    assert recorder.commands_written > 100
    result = verify(path)
    assert result.ok, result.divergence
    assert result.complete


def _ask_everything(engine: Engine) -> int:
    """What a desk asks on a refresh: ETAs of every free and divertable vehicle to every open
    incident, and the nearest one."""
    asked = 0
    free = engine.free_vehicles()
    moving = [v for v in engine.vehicles.values() if v.status in EN_ROUTE_STATUSES]
    for inc in engine.open_incidents():
        pool = free + moving
        if pool:
            engine.vehicle_etas(inc, pool, onlooker=True)
            engine.fleet.nearest(inc.node, pool, onlooker=True)
            asked += 1
    return asked


def test_an_onlooker_asking_all_shift_changes_nothing() -> None:
    loaded = load_scenario(DEFAULT_SCENARIO)
    world = build_from(loaded)
    quiet = Engine(world, seed=1, policy="expert", trainee_policy="expert")
    quiet.run()
    watched = Engine(world, seed=1, policy="expert", trainee_policy="expert")
    asked = 0
    t = 0.0
    while not watched.finished:
        t += 30.0
        watched.run_until(min(t, watched.end_s))
        asked += _ask_everything(watched)
    assert asked > 500
    assert ev.event_log_sha256(watched.events) == ev.event_log_sha256(quiet.events)


def test_a_second_shift_on_the_same_world_runs_like_the_first() -> None:
    loaded = load_scenario(DEFAULT_SCENARIO)
    world = build_from(loaded)
    first = run_scenario(loaded.path, seed=1, loaded=loaded, world=world).sha256
    run_scenario(loaded.path, seed=2, loaded=loaded, world=world, policy="target_chaser")
    again = run_scenario(loaded.path, seed=1, loaded=loaded, world=world).sha256
    assert first == again == PINS["default/expert/1"]
