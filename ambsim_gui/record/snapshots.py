"""Seeking in a recording: the room and the shift's figures at any moment, quickly.

One job: ``SnapshotIndex`` is the time machine (as in FueSim MANV): a pickled copy of the
``ReplayState`` and of the shift's running ``ShiftMetrics`` every ``interval_s`` of simulated
time, so ``state_at(t)`` restores the nearest snapshot before ``t`` and re-applies the few
events after it; ``ReplayCursor`` plays forward from there event by event. No Qt.
"""

from __future__ import annotations

import bisect
import gc
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ambsim_gui.assess.metrics import MetricsReport, ShiftMetrics
from ambsim_gui.record.replay_state import ReplayState, TranscriptLine
from ambsim_gui.scenario.model import UnitCosts
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.regimes import Regime

if TYPE_CHECKING:
    from ambsim_gui.record.reader import SessionFile
    from ambsim_gui.record.replay import Rebuilt


@dataclass(frozen=True)
class ReplayFrame:
    """The room and the shift's figures at one moment."""

    t: float
    state: ReplayState
    metrics: MetricsReport


@dataclass(frozen=True)
class _Snapshot:
    t: float
    index: int  # events[:index] are applied
    blob: bytes


class SnapshotIndex:
    """Snapshots of (ReplayState, ShiftMetrics) every ``interval_s``; ``state_at`` seeks.

    States here keep no transcripts (``keep_transcripts=False``): ``transcript(call, t)``
    folds one call's events on demand. ``interval_s`` None picks 10 minutes, or 1/48 of a
    longer recording (48 snapshots): a 12-hour session seeks in a few hundred milliseconds
    and holds a few tens of megabytes.
    """

    def __init__(
        self,
        events: Sequence[ev.Event],
        regime: Regime,
        costs: UnitCosts,
        *,
        interval_s: float | None = None,
    ) -> None:
        self.events = events
        self.regime = regime
        self.costs = costs
        self.times = [e.t for e in events]
        end = self.times[-1] if self.times else 0.0
        self.interval_s = float(interval_s) if interval_s else max(600.0, end / 48.0)
        self.snapshots: list[_Snapshot] = []
        self._call_events: dict[str, list[int]] = {}
        state = ReplayState(keep_transcripts=False)
        metrics = ShiftMetrics(regime, costs)
        self.snapshots.append(_Snapshot(0.0, 0, self._dump(state, metrics)))
        next_t = self.interval_s
        call_events = self._call_events
        for i, event in enumerate(events):
            while event.t > next_t:
                # every event at or before next_t is applied: the snapshot is "as at next_t"
                self.snapshots.append(_Snapshot(next_t, i, self._dump(state, metrics)))
                next_t += self.interval_s
            state.apply(event)
            metrics.feed(event)
            call_id = event.__dict__.get("call_id")
            if call_id is not None:
                call_events.setdefault(call_id, []).append(i)
        self._snapshot_times = [snap.t for snap in self.snapshots]

    @classmethod
    def from_session(
        cls,
        session: SessionFile,
        rebuilt: Rebuilt | None = None,
        *,
        interval_s: float | None = None,
    ) -> SnapshotIndex:
        from ambsim_gui.sim.regimes import REGIMES

        regime = rebuilt.regime if rebuilt is not None else REGIMES[session.info.regime]
        if rebuilt is not None:
            costs = rebuilt.scenario.costs
        else:
            costs = _costs_of(session)
        return cls(session.events(), regime, costs, interval_s=interval_s)

    @staticmethod
    def _dump(state: ReplayState, metrics: ShiftMetrics) -> bytes:
        return pickle.dumps((state, metrics), protocol=pickle.HIGHEST_PROTOCOL)

    @property
    def end_t(self) -> float:
        return self.times[-1] if self.times else 0.0

    def memory_bytes(self) -> int:
        return sum(len(s.blob) for s in self.snapshots)

    def restore(self, t: float) -> tuple[ReplayState, ShiftMetrics, int]:
        """A fresh (state, metrics, next event index) as at ``t``: nearest snapshot + events."""
        k = bisect.bisect_right(self._snapshot_times, t) - 1
        snap = self.snapshots[max(0, k)]
        collecting = gc.isenabled()
        gc.disable()  # tens of thousands of new objects: no collector passes over them
        try:
            state, metrics = pickle.loads(snap.blob)
        finally:
            if collecting:
                gc.enable()
        stop = bisect.bisect_right(self.times, t)
        events = self.events
        for i in range(snap.index, stop):
            state.apply(events[i])
            metrics.feed(events[i])
        state.t = max(state.t, t)
        return state, metrics, max(stop, snap.index)

    def state_at(self, t: float) -> ReplayFrame:
        """The room and the figures as they were at ``t`` (every event at or before ``t``)."""
        state, metrics, _ = self.restore(t)
        return ReplayFrame(t, state, metrics.snapshot(t))

    def transcript(self, call_id: str, t: float | None = None) -> list[TranscriptLine]:
        """What was said on a call up to ``t`` (default: all of it)."""
        indices = self._call_events.get(call_id, [])
        if t is not None:
            indices = indices[: bisect.bisect_right([self.times[i] for i in indices], t)]
        fold = ReplayState()
        for i in indices:
            fold.apply(self.events[i])
        call = fold.calls.get(call_id)
        return list(call.transcript) if call is not None else []

    def cursor(self, t: float = 0.0) -> ReplayCursor:
        """A cursor at ``t`` that plays forward cheaply (``advance``) and seeks (``seek``)."""
        return ReplayCursor(self, t)


class ReplayCursor:
    """Play a recording forward event by event; a seek back restores a snapshot."""

    def __init__(self, index: SnapshotIndex, t: float = 0.0) -> None:
        self.index = index
        self.seek(t)

    def seek(self, t: float) -> None:
        self.state, self.metrics, self.next = self.index.restore(t)
        self.t = t

    def advance(self, t: float) -> list[ev.Event]:
        """Move to ``t`` (forward: apply the events on the way; back: seek). Returns the
        events applied, for views that animate them."""
        if t < self.t:
            self.seek(t)
            return []
        index = self.index
        stop = bisect.bisect_right(index.times, t)
        applied = list(index.events[self.next : stop])
        for event in applied:
            self.state.apply(event)
            self.metrics.feed(event)
        self.next = max(self.next, stop)
        self.t = t
        self.state.t = max(self.state.t, t)
        return applied

    def report(self) -> MetricsReport:
        return self.metrics.snapshot(self.t)


def _costs_of(session: SessionFile) -> UnitCosts:
    """The scenario's unit costs, read from the stored text without building the world."""
    import tempfile
    from pathlib import Path

    from ambsim_gui.scenario.loader import load_yaml, validate_data

    with tempfile.TemporaryDirectory(prefix="ambsim-costs-") as tmp:
        path = Path(tmp) / "scenario.yaml"
        path.write_text(session.scenario_text(), encoding="utf-8")
        return validate_data(load_yaml(path), path).costs
