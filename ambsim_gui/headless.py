"""Headless shifts: load a scenario, build its world, run it with a policy, report the figures.

This is the one path the command line, the tests and the benchmarks share, so a figure checked
in a test is the figure a user sees from ``python main.py run``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ambsim_gui.assess.metrics import MetricsReport, ShiftMetrics, ShiftWindows
from ambsim_gui.scenario.loader import LoadedScenario, load_scenario
from ambsim_gui.sim.engine import RUN_OUT_CAP_S, Engine
from ambsim_gui.sim.events import event_log_sha256
from ambsim_gui.sim.regimes import REGIMES
from ambsim_gui.sim.world import World
from ambsim_gui.sim.world_cache import cached_build_world


def build_from(loaded: LoadedScenario) -> World:
    """The scenario's world, from the world cache when it has been built before
    (``sim/world_cache.py``)."""
    return cached_build_world(
        loaded.scenario,
        loaded.map_path,
        loaded.protocol_path,
        loaded.cards_path,
        name=loaded.path.stem,
    )


@dataclass
class RunResult:
    loaded: LoadedScenario
    engine: Engine
    metrics: MetricsReport  # every event, as at the engine's last moment (window "as_at")
    policy: str
    seed: int
    wall_seconds: float
    load_seconds: float
    # the figures at the end of the shift (incidents still waiting counted) and after the
    # run-out; what ``run`` prints
    windows: ShiftWindows

    @property
    def sha256(self) -> str:
        return event_log_sha256(self.engine.events)

    def to_json(self) -> dict[str, Any]:
        """The run's report: every key the issue tracker and the debrief rely on.

        The flat keys are ``metrics``, every event's figures as before; ``end_of_shift`` and
        ``run_out`` are the two windows in full (``runs_on``: whether any event came after the
        shift's end at ``shift_end_s``)."""
        report: dict[str, Any] = {
            "scenario": self.loaded.path.stem,
            "scenario_name": self.loaded.scenario.name,
            "scenario_sha256": self.loaded.sha256,
            "seed": self.seed,
            "policy": self.policy,
            "regime": self.loaded.scenario.regime,
        }
        report.update(self.metrics.to_json_dict())
        report.update(self.windows.to_json_dict())
        report["events"] = len(self.engine.events)
        report["wall_seconds"] = round(self.wall_seconds, 3)
        report["load_seconds"] = round(self.load_seconds, 3)
        report["event_log_sha256"] = self.sha256
        return report


def run_scenario(
    path: str | Path,
    *,
    policy: str = "expert",
    seed: int | None = None,
    hours: float | None = None,
    progress: Callable[[float], None] | None = None,
    loaded: LoadedScenario | None = None,
    world: World | None = None,
    on_engine: Callable[[Engine], None] | None = None,
    run_out: bool = True,
) -> RunResult:
    """Run a whole shift with ``policy`` in every seat (the trainee's included).

    ``on_engine`` is called with the engine once it is built, before it runs (a session
    recorder attaches itself there: ``ambsim_gui.session_commands.run_recorded``). With
    ``run_out`` (the default) the room runs on after the shift's end, without new calls, until
    everything has closed or ``RUN_OUT_CAP_S`` has passed: the run-out figures."""
    t0 = time.perf_counter()
    if loaded is None:
        loaded = load_scenario(Path(path))
    if world is None:
        world = build_from(loaded)
    load_seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    duration = None if hours is None else hours * 3600.0
    engine = Engine(
        world,
        seed=seed,
        policy=policy,
        trainee_policy=policy,
        duration_s=duration,
        run_out_s=RUN_OUT_CAP_S if run_out else None,
    )
    if on_engine is not None:
        on_engine(engine)
    metrics = ShiftMetrics(REGIMES[loaded.scenario.regime], loaded.scenario.costs)
    engine.subscribe(metrics.feed)
    engine.run(progress=progress, step_s=max(600.0, engine.end_s / 24))
    wall = time.perf_counter() - t1
    return RunResult(
        loaded=loaded,
        engine=engine,
        metrics=metrics.snapshot(engine.now),
        policy=policy,
        seed=engine.seed,
        wall_seconds=wall,
        load_seconds=load_seconds,
        windows=metrics.windows(),
    )
