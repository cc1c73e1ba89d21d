"""The clinical hub: clinicians who call patients back before a vehicle is committed.

Referred calls wait on a pending stack, most urgent first; each has a breach time after which a
vehicle is sent anyway (docs/domain.md, "Triage and the clinical hub": C3/C4 validation and C2
segmentation, with the hub's defaults and where they come from). A clinician's
call-back judges the patient's true need with the scenario's accuracy and ends in
hear-and-treat, a referral to another service (which may send the call back for lack of
capacity), or a dispatch at the clinician's category (an upgrade or a downgrade).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import simpy

from ambsim_gui.scenario.model import Category
from ambsim_gui.sim import events as ev
from ambsim_gui.sim import rng as R
from ambsim_gui.sim.state import CATEGORY_RANK, Incident

if TYPE_CHECKING:
    from ambsim_gui.sim.control import ControlRoom
    from ambsim_gui.sim.fleet import Fleet
    from ambsim_gui.sim.kernel import Kernel
    from ambsim_gui.sim.room import RoomState

MIN_CALLBACK_S = 3 * 60.0
MAX_CALLBACK_S = 45 * 60.0
REFERRAL_SHARE = 0.3  # of hear-and-treat-safe patients, the share a clinician refers on


class ClinicalHub:
    """Clinicians as simpy processes pulling from a priority stack of incidents."""

    def __init__(self, kernel: Kernel, room: RoomState, fleet: Fleet) -> None:
        self.k = kernel
        self.room = room
        self.fleet = fleet
        self.control: ControlRoom  # connected once the control room exists (``connect``)
        self.stack: list[Incident] = []
        self._breach_at: dict[str, float] = {}
        self._bounced: set[str] = set()
        self._idle: list[simpy.Event] = []
        self.clinicians = [f"CL{i + 1}" for i in range(room.scenario.clinical_hub.clinicians)]

    def connect(self, control: ControlRoom) -> None:
        """The control room, which closes a call-back's incident by phone or recategorises it
        (built after the hub, which it refers calls to)."""
        self.control = control

    def start(self) -> None:
        for name in self.clinicians:
            self.k.env.process(self._clinician(name))

    def refer(self, inc: Incident, reason: str) -> None:
        k, room = self.k, self.room
        hub = room.scenario.clinical_hub
        if not self.clinicians:
            self.fleet.queue(inc, "decision")
            return
        breach_at = k.now + hub.breach_min[cast(Category, inc.category)] * 60.0
        if reason == "bounced":
            breach_at = k.now + 30 * 60.0
            self._bounced.add(inc.id)
        inc.on_hub = True
        self._breach_at[inc.id] = breach_at
        self.stack.append(inc)
        k.emit(
            ev.HubQueued(
                t=k.now,
                incident_id=inc.id,
                category=inc.category,
                breach_at=breach_at,
                reason=reason,
            )
        )
        k.env.process(self._breach_watch(inc, breach_at))
        self._wake()

    def remove(self, inc: Incident) -> None:
        """Off the stack without a call-back (a vehicle was sent, or the incident closed)."""
        inc.on_hub = False
        if inc in self.stack:
            self.stack.remove(inc)

    def waiting(self) -> list[tuple[Incident, float]]:
        """The stack in the order clinicians take it, with each call's breach time."""
        return [(i, self._breach_at[i.id]) for i in self._ordered()]

    def _ordered(self) -> list[Incident]:
        return sorted(
            self.stack,
            # Earliest breach first (bounced calls ahead of all): a C2 waits 30 minutes at most,
            # a C4 three hours, so this serves urgency without starving the lower categories.
            key=lambda i: (
                i.id not in self._bounced,
                self._breach_at[i.id],
                CATEGORY_RANK[i.category],
                i.id,
            ),
        )

    def _wake(self) -> None:
        while self._idle:
            event = self._idle.pop(0)
            if not event.triggered:
                event.succeed()

    def _breach_watch(self, inc: Incident, breach_at: float) -> Any:
        k = self.k
        yield k.env.timeout(max(0.0, breach_at - k.now))
        if inc.on_hub and inc in self.stack and inc.status == "open":
            self.remove(inc)
            k.emit(ev.HubBreached(t=k.now, incident_id=inc.id))
            self.fleet.queue(inc, "hub_breach")

    def _clinician(self, name: str) -> Any:
        k, room = self.k, self.room
        hub = room.scenario.clinical_hub
        while True:
            if not self.stack:
                idle = k.env.event()
                self._idle.append(idle)
                yield idle
                continue
            inc = self._ordered()[0]
            self.stack.remove(inc)
            k.emit(ev.HubCallbackStarted(t=k.now, incident_id=inc.id, clinician=name))
            patient = inc.truth_patient
            rng = k.streams.get(R.PATIENT, patient.index, R.PATIENT_HUB)
            duration = float(rng.exponential(hub.callback_min * 60.0))
            yield k.env.timeout(min(MAX_CALLBACK_S, max(MIN_CALLBACK_S, duration)))
            if inc.status != "open" or not inc.on_hub:
                continue  # a vehicle was sent meanwhile, or the incident closed
            inc.on_hub = False
            truth = patient.truth
            correct = float(rng.random()) < hub.accuracy
            judged_safe = (truth.need == "hear_and_treat") == correct
            if judged_safe:
                bounced_before = inc.id in self._bounced
                refer = not bounced_before and float(rng.random()) < REFERRAL_SHARE
                kind = "referral" if refer else "advice"
                k.emit(
                    ev.HubOutcome(
                        t=k.now,
                        incident_id=inc.id,
                        clinician=name,
                        outcome="referred" if refer else "hear_and_treat",
                        category=inc.category,
                    )
                )
                if refer and float(rng.random()) < hub.referral_bounce:
                    k.env.process(self._bounce(inc, float(rng.uniform(20.0, 60.0)) * 60.0))
                    continue
                self.control.close_by_phone(inc, by=name, kind=kind)
                continue
            category = truth.true_category if correct else inc.category
            if truth.need == "hear_and_treat":
                category = inc.category  # a cautious clinician sends a crew at the same category
            k.emit(
                ev.HubOutcome(
                    t=k.now,
                    incident_id=inc.id,
                    clinician=name,
                    outcome="dispatch",
                    category=category,
                )
            )
            self.control.set_category(inc, category, reason=f"clinical validation by {name}")
            self.fleet.queue(inc, "hub_outcome")

    def _bounce(self, inc: Incident, delay: float) -> Any:
        """The service the call was referred to sends it back: the hub must deal with it."""
        yield self.k.env.timeout(delay)
        if inc.status != "open":
            return
        self.k.emit(ev.ReferralBounced(t=self.k.now, incident_id=inc.id))
        self.refer(inc, "bounced")
