"""The room's clock: simulation time as real time multiplied by the room's speed.

One job: ``RoomClock.now()`` is where the shift should be at this wall moment; pausing,
resuming and changing speed rebase it so simulated time never jumps. The wall clock is
``time.monotonic`` (never the engine's business: the engine only ever sees ``run_until(t)``
and commands at the time it reached, which is all a replay needs).
"""

from __future__ import annotations

import time
from collections.abc import Callable

MAX_SPEED = 64.0
"""The fastest a room runs (the desk's fastest speed)."""


class RoomClock:
    """Simulation seconds from wall seconds x ``speed``; paused or running."""

    def __init__(
        self,
        start_s: float = 0.0,
        speed: float = 1.0,
        *,
        paused: bool = False,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        self._wall = wall
        self._base_sim = float(start_s)
        self._base_wall = wall()
        self.speed = float(speed)
        self.paused = paused

    def now(self) -> float:
        if self.paused:
            return self._base_sim
        return self._base_sim + (self._wall() - self._base_wall) * self.speed

    def _rebase(self) -> None:
        self._base_sim = self.now()
        self._base_wall = self._wall()

    def pause(self) -> None:
        self._rebase()
        self.paused = True

    def resume(self) -> None:
        self._base_wall = self._wall()
        self.paused = False

    def set_speed(self, speed: float) -> str | None:
        """Run at ``speed`` from now on; the reason when it is not a speed the room runs at."""
        if not 0.0 < speed <= MAX_SPEED:
            return f"a room runs at a speed above 0 and at most {MAX_SPEED:g}, not {speed:g}"
        self._rebase()
        self.speed = float(speed)
        return None

    def hold_at(self, t: float) -> None:
        """Stay at ``t`` (the engine could not go further: the shift has ended)."""
        self._base_sim = float(t)
        self._base_wall = self._wall()
