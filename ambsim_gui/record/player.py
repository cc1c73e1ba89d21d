"""A built-in policy playing the trainee's seat from outside the engine, like a desk would.

One job: produce recordings with real external commands without a screen (tests, archived
sessions, benchmarks). ``ExternalPlayer`` wraps a policy for the trainee's seat; ``play`` steps
the engine the way the desk's timer does (``run_until`` a little further, then act) and sends
the policy's commands through ``Engine.submit``, so they land in the command log and a session
recorder writes each at once. The engine must be built with ``trainee_policy=None``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ambsim_gui.sim import events as ev
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.policies import make_policy

if TYPE_CHECKING:
    from ambsim_gui.record.session import SessionRecorder
    from ambsim_gui.scenario.loader import LoadedScenario
    from ambsim_gui.sim.world import World


class ExternalPlayer:
    """A policy in the trainee's seat whose commands go through the front door."""

    def __init__(self, engine: Engine, policy: str = "expert") -> None:
        if "trainee" in engine.virtual_seats:
            raise ValueError("the engine already plays the trainee's seat itself")
        self.engine = engine
        # Like a trainee at a desk: it reads the room's view, and its ETA questions go to the
        # onlookers' router, so asking them never changes the run.
        self.policy = make_policy(policy, engine.view(onlooker=True), ["trainee"])
        self.wants = False
        self.commands = 0
        engine.subscribe(self._observe, replay=True)

    def _observe(self, event: ev.Event) -> None:
        if self.policy.observe(event):
            self.wants = True

    def act(self, on_command: Callable[[int], None] | None = None) -> int:
        """Submit what the policy wants to do now; returns how many commands were sent."""
        sent = 0
        for _ in range(50):  # acting makes events that may call for more acting, at this time
            if not self.wants:
                break
            self.wants = False
            for command in self.policy.act():
                self.engine.submit(command)
                sent += 1
                self.commands += 1
                if on_command is not None:
                    on_command(self.commands)
        return sent


def play(
    engine: Engine,
    player: ExternalPlayer,
    *,
    step_s: float = 5.0,
    until: float | None = None,
    pace_s: float = 0.0,
    on_command: Callable[[int], None] | None = None,
) -> None:
    """Step the engine to ``until`` (default: the end) in ``step_s`` steps, acting after each;
    ``pace_s`` of wall time is slept per step (to stretch a run out, e.g. for crash tests)."""
    stop = engine.end_s if until is None else min(until, engine.end_s)
    t = engine.now
    player.act(on_command)
    while t < stop:
        t = min(t + step_s, stop)
        engine.run_until(t)
        if not engine.finished:  # nobody gives orders once the shift is over
            player.act(on_command)
        if pace_s > 0:
            time.sleep(pace_s)
    if until is None:
        engine.run_until(engine.end_s)


def record_played_shift(
    path: str | os.PathLike[str],
    loaded: LoadedScenario,
    world: World,
    *,
    player: str = "expert",
    colleagues: str | None = "expert",
    role: str | None = None,
    seed: int | None = None,
    hours: float | None = None,
    stop_at_s: float | None = None,
    step_s: float = 5.0,
    pace_s: float = 0.0,
    close: bool = True,
    on_command: Callable[[int], None] | None = None,
    **recorder_options: Any,
) -> tuple[Engine, SessionRecorder]:
    """Record a shift whose trainee's seat is played by ``player`` through ``submit``.

    ``hours`` limits the shift itself (the engine's duration); ``stop_at_s`` stops the desk
    earlier without ending the shift (a recording closed early). With ``close`` False the
    recorder is left open (as a killed desk would leave it).
    """
    from ambsim_gui.record.session import SessionRecorder

    engine = Engine(
        world,
        seed=seed,
        policy=colleagues,
        trainee_policy=None,
        duration_s=None if hours is None else hours * 3600.0,
        role=role,
    )
    recorder = SessionRecorder.start(path, loaded, engine, **recorder_options)
    external = ExternalPlayer(engine, player)
    play(engine, external, step_s=step_s, until=stop_at_s, pace_s=pace_s, on_command=on_command)
    if close:
        recorder.close()
    return engine, recorder
