"""The debrief's key moments of a shift, for the replay window's timeline and the report.

One job: ``build_markers`` lists the moments worth a debrief in time order: calls, decisions,
dispatches, response standards breached, unsafe advice, duplicate, stood-down and avoidable
dispatches (classified exactly as ``ShiftMetrics`` counts them), harm, injects and rejected
commands. Markers known only with the truth are ``hidden``. No Qt.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ambsim_gui.labels import command_words, done_words, outcome_words, reason_words
from ambsim_gui.record.replay_state import CATEGORY_RANK, TRAINEE, IncidentView, ReplayState
from ambsim_gui.record.response_standards import breach_limit
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.regimes import Regime


@dataclass(frozen=True)
class Marker:
    """A moment worth a debrief, for the replay window's timeline and the report."""

    t: float
    kind: str  # see MARKER_KINDS
    label: str
    call_id: str | None = None
    incident_id: str | None = None
    vehicle_id: str | None = None
    patient_id: str | None = None
    seat: str | None = None
    severity: int = 0  # 0 information, 1 notable, 2 a problem
    hidden: bool = False  # known only with the truth (overlay on)
    # how bad, within its kind, in seconds: a breach's time past its limit, a harmed patient's
    # wait; 0 where a kind has no such measure (the report ranks key moments by it)
    weight: float = 0.0


MARKER_KINDS = (
    "call",
    "decision",
    "dispatch",
    "breach",
    "unsafe_advice",
    "duplicate_dispatch",
    "stood_down",
    "avoidable_dispatch",
    "harm",
    "inject",
    "rejected",
)


@dataclass
class DispatchFates:
    """Each dispatch classified once by its fate, with ShiftMetrics' rules."""

    duplicate: list[Marker] = field(default_factory=list)
    stood_down: list[Marker] = field(default_factory=list)
    avoidable: list[Marker] = field(default_factory=list)


def build_markers(events: Sequence[ev.Event], regime: Regime) -> list[Marker]:
    """The shift's markers in time order (see the module docstring)."""
    out: list[Marker] = []
    need: dict[str, str] = {}
    incident_patient: dict[str, str] = {}
    # a patient is named by the incident number the room saw (its first incident), else by
    # the call that reported them: the reference the desk, the replay and the report share
    patient_incident: dict[str, str] = {}
    patient_call: dict[str, str] = {}
    open_dispatch: dict[tuple[str, str], float] = {}
    end_t = events[-1].t if events else 0.0
    state = ReplayState()
    for e in events:
        state.apply(e)
        if isinstance(e, ev.CallArrived):
            out.append(Marker(e.t, "call", f"{e.call_id} rings ({e.area})", call_id=e.call_id))
        elif isinstance(e, ev.CallClosed):
            call = state.calls.get(e.call_id)
            category = f" {call.category}" if call is not None and call.category else ""
            where = f" -> {e.incident_id}" if e.incident_id else ""
            out.append(
                Marker(
                    e.t,
                    "decision",
                    f"{e.call_id}{category}: {done_words(e.disposition)}{where}",
                    call_id=e.call_id,
                    incident_id=e.incident_id,
                    seat=e.seat,
                    severity=1 if e.disposition == "abandoned" else 0,
                )
            )
        elif isinstance(e, ev.VehicleAssigned):
            v = state.vehicles.get(e.vehicle_id)
            name = v.callsign if v is not None else e.vehicle_id
            diverted = f" (diverted from {e.diverted_from})" if e.diverted_from else ""
            out.append(
                Marker(
                    e.t,
                    "dispatch",
                    f"{name} to {e.incident_id}, ETA {e.eta_s / 60:.0f} min{diverted}",
                    incident_id=e.incident_id,
                    vehicle_id=e.vehicle_id,
                    seat=e.seat,
                )
            )
            if e.diverted_from is not None:
                open_dispatch.pop((e.vehicle_id, e.diverted_from), None)
            open_dispatch[(e.vehicle_id, e.incident_id)] = e.t
        elif isinstance(e, ev.VehicleStoodDown):
            sent = open_dispatch.pop((e.vehicle_id, e.incident_id), None)
            if sent is not None and e.reason in ("stand_down", "incident_closed"):
                kind = "stood_down" if e.reason == "stand_down" else "duplicate_dispatch"
                what = "stood down" if e.reason == "stand_down" else "not needed: job closed"
                out.append(
                    Marker(
                        e.t,
                        kind,
                        f"{_callsign(state, e.vehicle_id)} to {e.incident_id} {what}",
                        incident_id=e.incident_id,
                        vehicle_id=e.vehicle_id,
                        severity=1,
                    )
                )
        elif isinstance(e, ev.VehicleArrived):
            sent = open_dispatch.pop((e.vehicle_id, e.incident_id), None)
            if sent is None:
                continue
            if e.role == "surplus":
                out.append(
                    Marker(
                        e.t,
                        "duplicate_dispatch",
                        f"{_callsign(state, e.vehicle_id)} at {e.incident_id}: "
                        "a crew was already there",
                        incident_id=e.incident_id,
                        vehicle_id=e.vehicle_id,
                        severity=1,
                    )
                )
            elif e.role == "first":
                patient = incident_patient.get(e.incident_id)
                if patient is not None and need.get(patient) == "hear_and_treat":
                    out.append(
                        Marker(
                            e.t,
                            "avoidable_dispatch",
                            f"{_callsign(state, e.vehicle_id)} at {e.incident_id}: "
                            "the patient needed only advice",
                            incident_id=e.incident_id,
                            vehicle_id=e.vehicle_id,
                            patient_id=patient,
                            severity=1,
                            hidden=True,
                        )
                    )
        elif isinstance(e, ev.PatientCreated):
            need[e.patient_id] = e.need
        elif isinstance(e, ev.IncidentTruth):
            incident_patient[e.incident_id] = e.patient_id
            patient_incident.setdefault(e.patient_id, e.incident_id)
        elif isinstance(e, ev.CallTruth):
            patient_call.setdefault(e.patient_id, e.call_id)
        elif isinstance(e, ev.UnsafeAdvice):
            out.append(
                Marker(
                    e.t,
                    "unsafe_advice",
                    f"{e.incident_id}: advice to a patient who needed"
                    f" {outcome_words(e.need)} (by {e.by})",
                    incident_id=e.incident_id,
                    patient_id=e.patient_id,
                    seat=e.by,
                    severity=2,
                    hidden=True,
                )
            )
        elif isinstance(e, ev.HarmOccurred):
            incident = patient_incident.get(e.patient_id)
            reported = patient_call.get(e.patient_id)
            who = incident or (f"the patient of call {reported}" if reported else e.patient_id)
            out.append(
                Marker(
                    e.t,
                    "harm",
                    f"{who} ({e.true_category}) harmed: waited {e.waited_s / 60:.0f} min",
                    incident_id=incident,
                    call_id=None if incident else reported,
                    patient_id=e.patient_id,
                    severity=2,
                    hidden=True,
                    weight=e.waited_s,
                )
            )
        elif isinstance(e, ev.InjectApplied):
            out.append(Marker(e.t, "inject", e.summary, severity=1))
        elif isinstance(e, ev.CommandRejected) and e.seat == TRAINEE:
            out.append(
                Marker(
                    e.t,
                    "rejected",
                    f"refused ({command_words(e.command)}): {reason_words(e.reason)}",
                    seat=e.seat,
                    severity=1,
                )
            )
    out += _breaches(state.incidents.values(), regime, end_t)
    out.sort(key=lambda m: m.t)
    return out


def _callsign(state: ReplayState, vehicle_id: str) -> str:
    v = state.vehicles.get(vehicle_id)
    return v.callsign if v is not None else vehicle_id


def _breaches(incidents: Iterable[IncidentView], regime: Regime, end_t: float) -> list[Marker]:
    out = []
    for inc in incidents:
        if inc.category not in CATEGORY_RANK:
            continue
        limit = breach_limit(regime.standard_for(inc.category))
        if limit is None:
            continue
        seconds, what = limit
        times = inc.times()
        start = regime.clock_start(times)
        stop = regime.clock_stop(times)
        due = start + seconds
        if (stop is None and due <= end_t) or (stop is not None and stop - start > seconds):
            overrun = (end_t if stop is None else stop) - due
            if stop is None:
                late = "no response by the end of the recording"
            else:
                whole = round(stop - start)
                late = f"the response took {whole // 60}:{whole % 60:02d}"
            out.append(
                Marker(
                    due,
                    "breach",
                    f"{inc.id} {inc.category}: {seconds / 60:.0f} min {what} passed; {late}",
                    incident_id=inc.id,
                    call_id=inc.call_ids[0] if inc.call_ids else None,
                    severity=2,
                    weight=max(0.0, overrun),
                )
            )
    return out
