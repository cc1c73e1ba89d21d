"""The engine's mutable state: patients, calls, incidents, vehicles, hospitals and seats.

Attributes whose names start with ``truth`` hold what the control room cannot know (and an
incident's ``node`` is where its patient really is). These objects are the engine's working
memory, held in ``room.RoomState``: policies read them through ``view.RoomView``, which hands
out read-only stand-ins without the truth, and views outside the engine should prefer
projections of the event stream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import simpy

    from ambsim_gui.geo.routing import Route
    from ambsim_gui.scenario.model import HandoverModel
    from ambsim_gui.triage.cards import PatientTruth
    from ambsim_gui.triage.protocol import Assessment

CATEGORY_RANK = {"C1": 1, "C2": 2, "C3": 3, "C4": 4}
FREE_STATUSES = ("available", "returning")
EN_ROUTE_STATUSES = ("mobilising", "to_scene")
# A crew with a patient (at scene, conveying, at hospital, clearing) finishes the job first.
WITH_PATIENT_STATUSES = ("on_scene", "to_hospital", "at_hospital", "clearing")


@dataclass
class Patient:
    id: str
    index: int
    truth: PatientTruth
    x: float
    y: float
    node: int
    area: str
    t_first_call: float
    recontact_of: str | None = None
    responded: bool = False  # an appropriate response reached them (harm clock stops)
    incident_ids: list[str] = field(default_factory=list)
    calls: int = 0
    treating: str | None = None  # the vehicle whose crew has the patient
    treating_incident: str | None = None
    waiting_rrvs: list[str] = field(default_factory=list)  # RRVs on scene waiting for a DCA
    done: bool = False  # the episode of care ended (treated, conveyed or closed by phone)
    # one of several casualties of one scene (a mass-casualty inject): each needs its own crew
    scene: str | None = None
    casualty: str | None = None  # how callers at the scene describe this one
    # a scripted call's teaching: the hint shown with each of its calls, and whether only the
    # trainee may take them
    hint: str = ""
    for_trainee: bool = False


@dataclass
class Call:
    id: str
    truth_patient: Patient
    t_arrive: float
    x: float
    y: float
    uncertainty_m: float
    area: str
    opening: str
    # the caller's answer to "is this about someone we already have?": no, another casualty
    new_casualty: bool = False
    casualty: str | None = None  # which person at a scene the caller is about, in their words
    status: str = "ringing"  # ringing | answered | closed
    seat: str | None = None
    t_answered: float | None = None
    answers: dict[str, str] = field(default_factory=dict)
    answer_texts: dict[str, str] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    pending_question: str | None = None
    assessment: Assessment | None = None
    category: str | None = None
    incident_id: str | None = None
    disposition: str | None = None

    @property
    def for_trainee(self) -> bool:
        """A teaching call: only the trainee's seat may take it."""
        return self.truth_patient.for_trainee


@dataclass
class Incident:
    id: str
    truth_patient: Patient
    call_ids: list[str]
    category: str
    x: float
    y: float
    node: int
    area: str
    complaint: str
    code: str
    t_open: float
    status: str = "open"  # open | closed
    queued: bool = False  # waiting for a vehicle
    needs: str = "any"  # any | DCA
    t_queued: float = 0.0
    on_hub: bool = False
    vehicles: list[str] = field(default_factory=list)  # assigned and not yet released
    outcome: str | None = None
    dca_arrived: bool = False  # a transport-capable vehicle has been on scene

    @property
    def rank(self) -> int:
        return CATEGORY_RANK[self.category]


@dataclass
class Vehicle:
    id: str
    callsign: str
    type: str
    station: str
    home_node: int
    duty: tuple[tuple[float, float], ...]
    status: str = "off_duty"
    on_duty: bool = False
    incident_id: str | None = None
    node: int = 0  # where it is, or the node it last left
    route: Route | None = None
    depart_t: float = 0.0
    ready_t: float = 0.0  # end of mobilisation
    broken: bool = False  # broken down: off the road until repaired
    back_at: float = math.inf  # while broken: when the repair ends (inf: not this shift)
    # A breakdown met while the crew has a patient: seconds off the road once it clears
    # (inf: for the rest of the shift); None when there is none.
    breakdown_due: float | None = None
    retired: bool = False  # sent off duty early by an inject: no more shifts today
    # The end of the shift whose rest break is due and not yet taken; None when none is due.
    break_due: float | None = None
    process: simpy.Process | None = None  # the job (or drive home) the vehicle is on
    repair: simpy.Process | None = None  # the repair, apart: nothing interrupts it

    @property
    def free(self) -> bool:
        return self.on_duty and self.status in FREE_STATUSES


@dataclass
class HospitalState:
    name: str
    kind: str
    node: int
    x: float
    y: float
    handover: HandoverModel
    diverted: bool = False
    waiting: int = 0


@dataclass
class Seat:
    id: str
    handler: bool
    dispatcher: bool
    call_id: str | None = None
    wrapping_up: bool = False
    reaching: bool = False  # a virtual handler is picking up the phone

    @property
    def free(self) -> bool:
        return self.handler and self.call_id is None and not self.wrapping_up and not self.reaching
