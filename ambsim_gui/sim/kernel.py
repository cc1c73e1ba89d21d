"""The engine's kernel: the clock, the event stream and the random streams of one shift.

Every component of the engine receives the ``Kernel`` explicitly, the way simpy hands its
processes their ``env``: it waits on ``kernel.env`` (or ``kernel.after`` for a single timed
callback), draws random numbers from ``kernel.streams`` and tells the world what changed with
``kernel.emit``. The kernel knows nothing of calls, vehicles or commands' meaning: the room's
state is ``room.RoomState``, the commands' handlers live with the components that own the state
they change.

The kernel also runs the room's virtual colleagues (``Actor``: a policy seen from here): each
event is offered to them, and one that wants to act gets a *drain* scheduled, a zero-delay
simpy event after the current step in which the actors' commands are applied, in order,
through ``apply`` (the engine's command door).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import simpy

from ambsim_gui.sim import rng as R

if TYPE_CHECKING:
    from ambsim_gui.sim import commands as cmd
    from ambsim_gui.sim import events as ev

Listener = Callable[["ev.Event"], None]

DRAIN_STEPS = 10_000
"""The most commands and acts one drain runs before it carries on in a new simulation step."""


class Actor(Protocol):
    """A seat played inside the engine: told every event, asked to act when it wants to."""

    def observe(self, event: ev.Event) -> bool: ...

    def act(self) -> list[cmd.Command]: ...


class Kernel:
    """The simpy environment, the ordered event stream and the per-source random streams."""

    def __init__(self, seed: int, end_s: float) -> None:
        # A float clock from the start, so every event time is a float without converting.
        self.env = simpy.Environment(initial_time=0.0)
        self.seed = int(seed)
        self.streams = R.RandomStreams(self.seed)
        self.end_s = float(end_s)
        self.stop_s = self.end_s  # the run-out's cap, when the engine has one
        self.ended = False
        self.events: list[ev.Event] = []
        self.listeners: list[Listener] = []
        self.actors: list[Actor] = []
        self._wants: list[bool] = []
        self._pending: deque[cmd.Command] = deque()
        self._apply: Callable[[cmd.Command], None] = _nowhere
        self._drain_scheduled = False
        self._draining = False

    # --- time ----------------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.env.now  # type: ignore[no-any-return]

    def after(self, delay: float, action: Callable[..., None], *args: Any) -> None:
        """Run ``action(*args)`` ``delay`` seconds from now. A single wait needs no simpy
        process: a timed callback costs a third as much, and the engine waits tens of
        thousands of times a day (every caller's answer, patience and redial)."""
        self.env.timeout(delay).callbacks.append(lambda _event: action(*args))

    # --- events --------------------------------------------------------------------------

    def emit(self, event: ev.Event) -> None:
        self.events.append(event)
        for listener in self.listeners:
            listener(event)
        wants = self._wants
        for i, actor in enumerate(self.actors):
            # Already wanting: a drain is scheduled or running and will come to it.
            if actor.observe(event) and not wants[i]:
                wants[i] = True
                self.schedule_drain()

    def subscribe(self, listener: Listener, replay: bool = True) -> None:
        """Feed ``listener`` every future event (and, with ``replay``, all past ones first)."""
        if replay:
            for event in self.events:
                listener(event)
        self.listeners.append(listener)

    # --- the virtual colleagues ----------------------------------------------------------

    def seat_actors(self, actors: list[Actor], apply: Callable[[cmd.Command], None]) -> None:
        """The actors the kernel runs, and the door their commands go through."""
        self.actors = list(actors)
        self._wants = [False] * len(self.actors)
        self._apply = apply

    def schedule_drain(self) -> None:
        if self._drain_scheduled or self._draining:
            return
        self._drain_scheduled = True
        # A zero-delay event runs after the current process step, so policies act on a
        # consistent state, at the same simulation time, in a deterministic order.
        self.env.timeout(0).callbacks.append(self.drain)

    def drain(self, _event: Any = None) -> None:
        """Apply pending commands, then ask each actor that wants to act, first one first."""
        self._drain_scheduled = False
        self._draining = True
        pending, wants, apply = self._pending, self._wants, self._apply
        try:
            for _ in range(DRAIN_STEPS):
                if pending:
                    apply(pending.popleft())
                    continue
                if True not in wants:
                    break
                i = wants.index(True)  # the first actor that wants to act
                wants[i] = False
                pending.extend(self.actors[i].act())
        finally:
            self._draining = False
        if any(wants):
            self.schedule_drain()  # cut off by the step limit: carry on in a new step


def _nowhere(command: cmd.Command) -> None:  # pragma: no cover - replaced by seat_actors
    raise RuntimeError("no command door: the kernel's actors were never seated")
