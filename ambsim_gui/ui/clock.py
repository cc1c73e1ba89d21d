"""Drives the simulation from the Qt event loop: a precise timer steps the simpy environment.

One job: ``SimClock`` keeps simulated time moving at the chosen speed. Every tick of a
``Qt.PreciseTimer`` (about 16 ms) it measures the wall time since the last tick with a
``QElapsedTimer`` and runs the shift (the ``ShiftDriver`` port) to ``now + wall_elapsed x
speed``; pausing is simply not stepping. It emits ``ticked`` every tick (the map repaints) and
``slow_tick`` about four times a second (the text boards refresh, slowly enough to read): the
two refresh rates of the desk.

Trainee commands need no help from the clock: the command door applies them at ``now``,
which is always the time the trainee sees.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from PySide6.QtCore import QElapsedTimer, QObject, Qt, QTimer, Signal

from ambsim_gui.readmodel.ports import EnginePorts, ShiftDriver

SPEEDS: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
TICK_MS = 16
SLOW_MS = 250
MAX_WALL_STEP_S = 0.25
"""A tick never advances more than this much wall time (a stalled machine does not jump)."""


class SimClock(QObject):
    """Steps ``engine`` in real time x ``speed`` from a precise timer."""

    ticked = Signal(float)
    """Every tick, with the simulation time reached (the fast refresh: the map)."""
    slow_tick = Signal(float)
    """About four times a second (the slow refresh: boards, queue, KPIs)."""
    speed_changed = Signal(int)
    paused_changed = Signal(bool)
    finished = Signal()
    """The shift has ended (emitted once)."""

    def __init__(self, source: Any, parent: QObject | None = None, speed: int = 1) -> None:
        super().__init__(parent)
        self.driver: ShiftDriver = (
            source if isinstance(source, ShiftDriver) else EnginePorts(source)
        )
        self._speed = self.nearest_speed(speed)
        self._paused = True
        self._finished_sent = False
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._on_timeout)
        self._wall = QElapsedTimer()
        self._since_slow = QElapsedTimer()
        self.step_ms: deque[float] = deque(maxlen=2000)
        """Wall milliseconds of each tick's ``engine.run_until`` (the latest 2000)."""

    # --- speed and pause -----------------------------------------------------------------

    @staticmethod
    def nearest_speed(speed: float) -> int:
        return min(SPEEDS, key=lambda s: (abs(s - speed), s))

    @property
    def speed(self) -> int:
        return self._speed

    def set_speed(self, speed: float) -> None:
        new = self.nearest_speed(speed)
        if new != self._speed:
            self._speed = new
            self.speed_changed.emit(new)

    def faster(self) -> None:
        i = SPEEDS.index(self._speed)
        self.set_speed(SPEEDS[min(i + 1, len(SPEEDS) - 1)])

    def slower(self) -> None:
        i = SPEEDS.index(self._speed)
        self.set_speed(SPEEDS[max(i - 1, 0)])

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def start(self) -> None:
        """Start ticking (and stepping, unless paused by ``set_paused``)."""
        self._paused = False
        self._wall.start()
        self._since_slow.start()
        if not self._timer.isActive():
            self._timer.start()
        self.paused_changed.emit(False)

    def set_paused(self, paused: bool) -> None:
        if paused == self._paused:
            return
        self._paused = paused
        if not paused:
            self._wall.restart()  # the pause's wall time is not simulated
            if not self._timer.isActive() and not self.driver.finished:
                self._since_slow.start()
                self._timer.start()
        self.paused_changed.emit(paused)

    def toggle_pause(self) -> None:
        self.set_paused(not self._paused)

    def stop(self) -> None:
        """Stop the timer for good (the window is closing)."""
        self._timer.stop()
        self._paused = True

    # --- stepping ------------------------------------------------------------------------

    def _on_timeout(self) -> None:
        wall_s = min(self._wall.restart() / 1000.0, MAX_WALL_STEP_S)
        slow = self._since_slow.elapsed() >= SLOW_MS
        if slow:
            self._since_slow.restart()
        self.tick(wall_s, slow=slow)

    def tick(self, wall_s: float, *, slow: bool = False) -> None:
        """One frame: advance ``wall_s x speed`` simulated seconds (unless paused), then notify.

        The timer calls this; tests and benchmarks call it directly to drive the desk fast.
        """
        if not self._paused and not self.driver.finished:
            t0 = time.perf_counter()
            self.driver.run_until(self.driver.now + wall_s * self._speed)
            self.step_ms.append((time.perf_counter() - t0) * 1000.0)
        now = self.driver.now
        self.ticked.emit(now)
        if slow:
            self.slow_tick.emit(now)
        if self.driver.finished and not self._finished_sent:
            self._finished_sent = True
            self._timer.stop()
            self.slow_tick.emit(now)
            self.finished.emit()

    def advance_to(self, t: float, *, frame_s: float = 60.0) -> None:
        """Run the engine to ``t`` in steps of ``frame_s`` simulated seconds, refreshing the desk
        after each (fast and slow): for tests and the autopilot, whatever the pause state."""
        while self.driver.now < t and not self.driver.finished:
            self.driver.run_until(min(t, self.driver.now + frame_s))
            now = self.driver.now
            self.ticked.emit(now)
            self.slow_tick.emit(now)
        if self.driver.finished and not self._finished_sent:
            self._finished_sent = True
            self._timer.stop()
            self.finished.emit()
