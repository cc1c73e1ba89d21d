"""The room at one moment, as the replay window shows it: the one read model plus the truth.

One job: ``ReplayState`` is the desk's read model (``readmodel.RoomProjection``: calls,
incidents, the dispatch queue, the hub's stack, vehicles, hospitals, seats) with, kept apart in
``truth``, what the room could not see (``readmodel.TruthProjection``) for the instructor's truth
overlay and the debrief. ``apply`` folds one event into both.

The same code serves a live engine (``engine.subscribe(state.apply)``) and a recording
(``state.apply`` over its events), and the two give equal states. No Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ambsim_gui.readmodel.room import (
    CATEGORY_RANK,
    TRAINEE,
    CallView,
    Drive,
    HospitalView,
    IncidentView,
    RoomProjection,
    SeatView,
    TranscriptLine,
    VehicleView,
    incident_views,
)
from ambsim_gui.readmodel.truth import TruthProjection
from ambsim_gui.sim import events as ev

Truth = TruthProjection

__all__ = [
    "CATEGORY_RANK",
    "TRAINEE",
    "CallView",
    "Drive",
    "HospitalView",
    "IncidentView",
    "ReplayState",
    "SeatView",
    "TranscriptLine",
    "Truth",
    "VehicleView",
    "incident_views",
]


@dataclass
class ReplayState(RoomProjection):
    """The room and its truth at one moment, as a pure fold of the events up to it."""

    truth: TruthProjection = field(default_factory=TruthProjection)

    def apply(self, event: ev.Event) -> None:
        """Fold one event in (events must come in the engine's order)."""
        RoomProjection.apply(self, event)
        self.truth.apply(event)
