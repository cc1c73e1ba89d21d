"""What the control room could not know, folded apart: for the instructor's replay and debrief.

One job: ``TruthProjection.apply(event)`` keeps the hidden events (each patient's true category
and need, which patient a call or incident is about) and the assessment's findings (harm,
unsafe advice). The desk's ``RoomProjection`` has no field for any of them; only the replay
window's truth overlay and the debrief read this. No Qt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ambsim_gui.sim import events as ev


@dataclass
class TruthProjection:
    """The patient truth of a shift, as a pure fold of the events up to one moment."""

    patients: dict[str, ev.PatientCreated] = field(default_factory=dict)
    call_patient: dict[str, str] = field(default_factory=dict)
    call_reason: dict[str, str] = field(default_factory=dict)
    incident_patient: dict[str, str] = field(default_factory=dict)
    harm: list[ev.HarmOccurred] = field(default_factory=list)
    unsafe_advice: list[ev.UnsafeAdvice] = field(default_factory=list)

    def apply(self, event: ev.Event) -> None:
        handler = _APPLY.get(type(event))
        if handler is not None:
            handler(self, event)

    def apply_all(self, events: Iterable[ev.Event]) -> None:
        for event in events:
            self.apply(event)

    def _patient(self, e: ev.PatientCreated) -> None:
        self.patients[e.patient_id] = e

    def _call_truth(self, e: ev.CallTruth) -> None:
        self.call_patient[e.call_id] = e.patient_id
        self.call_reason[e.call_id] = e.reason

    def _incident_truth(self, e: ev.IncidentTruth) -> None:
        self.incident_patient[e.incident_id] = e.patient_id

    def _unsafe(self, e: ev.UnsafeAdvice) -> None:
        self.unsafe_advice.append(e)

    def _harm(self, e: ev.HarmOccurred) -> None:
        self.harm.append(e)


TRUTH_EVENTS: tuple[type[ev.Event], ...] = (
    ev.PatientCreated,
    ev.CallTruth,
    ev.IncidentTruth,
    ev.UnsafeAdvice,
    ev.HarmOccurred,
)
"""What only the truth folds: the hidden events and the assessment's findings."""

_APPLY: dict[type[ev.Event], Callable[[TruthProjection, Any], None]] = {
    ev.PatientCreated: TruthProjection._patient,
    ev.CallTruth: TruthProjection._call_truth,
    ev.IncidentTruth: TruthProjection._incident_truth,
    ev.UnsafeAdvice: TruthProjection._unsafe,
    ev.HarmOccurred: TruthProjection._harm,
}
