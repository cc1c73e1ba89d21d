"""The scenario file's schema: pydantic v2 models of everything a shift is made of.

Defaults carry the figures of ``DOMAIN.md``; where a figure is marked unverified there, the field
says so in its description and stays configurable. Every model forbids unknown keys so a typo in a
scenario file is an error with a line number, never a silently ignored setting.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCHEMA_VERSION = 1

Category = Literal["C1", "C2", "C3", "C4"]
CATEGORIES: tuple[Category, ...] = ("C1", "C2", "C3", "C4")
ClockTime = Annotated[
    str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="24-hour clock time, HH:MM")
]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Probability = Annotated[float, Field(ge=0, le=1)]

# National hour-of-day shape of demand (lowest 04:00-06:00, highest late morning to evening);
# multipliers of the mean hourly rate, normalised by the engine so only the shape matters.
NATIONAL_DAY_PROFILE: tuple[float, ...] = (
    0.80, 0.70, 0.62, 0.56, 0.52, 0.52, 0.58, 0.74, 0.96, 1.12, 1.22, 1.26,
    1.26, 1.24, 1.22, 1.20, 1.20, 1.22, 1.22, 1.18, 1.12, 1.06, 0.98, 0.88,
)  # fmt: skip


def per_category(c1: float, c2: float, c3: float, c4: float) -> dict[Category, float]:
    """A fresh ``{"C1": c1, ..., "C4": c4}``, typed for the category-keyed fields."""
    return {"C1": c1, "C2": c2, "C3": c3, "C4": c4}


def clock_to_minutes(clock: str) -> int:
    """Minutes after midnight of an ``HH:MM`` clock time."""
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class Strict(BaseModel):
    """Base of every scenario model: unknown keys are errors, values are immutable.

    Numbers must be finite: YAML spells infinity ``.inf`` or ``1e999``, and an infinite rate or
    duration would hang the engine instead of failing with a line number.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Located(Strict):
    """Something placed on the map, by a named map point or by coordinates in metres."""

    point: str | None = Field(default=None, description="Name of a point in the map file")
    xy: tuple[float, float] | None = Field(default=None, description="Map coordinates in metres")

    @model_validator(mode="after")
    def _one_location(self) -> Located:
        if (self.point is None) == (self.xy is None):
            raise ValueError("give exactly one of 'point' (a map point name) or 'xy' ([x, y])")
        return self


class Shift(Strict):
    """When a crew is on duty, as clock times; an end before the start runs past midnight."""

    start: ClockTime
    end: ClockTime


class VehicleGroup(Strict):
    """Identical vehicles based at one station."""

    type: Literal["DCA", "RRV"] = Field(
        description="DCA: double-crewed ambulance, conveys. RRV: rapid response car, does not."
    )
    count: Annotated[int, Field(ge=1, le=500)] = 1
    callsign_prefix: str | None = Field(
        default=None, description="Call signs are PREFIX + number; default from station and type"
    )
    shift: Shift | None = Field(
        default=None, description="On duty for the whole scenario when absent"
    )


class Station(Located):
    """An ambulance station: where vehicles start their shift and return between jobs."""

    name: str
    vehicles: list[VehicleGroup] = Field(min_length=1)


class HandoverModel(Strict):
    """Hospital handover delay: lognormal, its median growing with crews already waiting.

    The standard is 15 minutes and none over 30 (DOMAIN.md); the defaults give roughly half of
    handovers over 15 minutes, like 2017-18.
    """

    median_min: Positive = 15.0
    per_waiting_min: NonNegative = Field(
        default=2.0, description="Minutes added to the median for each crew already waiting"
    )
    sigma: Annotated[float, Field(gt=0, le=3)] = 0.6
    max_min: Positive = 360.0


class Hospital(Located):
    """A receiving hospital: an emergency department, or an urgent treatment centre ('utc')."""

    name: str
    kind: Literal["ed", "utc"] = "ed"
    handover: HandoverModel = HandoverModel()
    diverted: bool = Field(default=False, description="On diversion at the start of the shift")


class ControlRoom(Strict):
    """Staffing of the emergency operations centre and the trainee's seat in it."""

    call_handlers: Annotated[int, Field(ge=1, le=200)] = 3
    dispatchers: Annotated[int, Field(ge=1, le=100)] = 1
    trainee_role: Literal["call_handler", "dispatcher", "both"] = "both"
    pickup_s: tuple[NonNegative, NonNegative] = Field(
        default=(3.0, 10.0),
        description="Seconds a virtual call handler takes to pick up (a trainee's are real)",
    )
    ask_s: Positive = Field(default=4.0, description="Seconds a handler takes to ask one question")
    wrap_up_s: NonNegative = Field(default=30.0, description="Seconds of admin after each call")
    assessment_mode: bool = Field(default=False, description="Hide vehicle suggestions at the desk")


class ClinicalHub(Strict):
    """Clinicians who call patients back: C3/C4 validation and C2 segmentation."""

    clinicians: Annotated[int, Field(ge=0, le=100)] = 2
    callback_min: Positive = Field(default=12.0, description="Mean length of a clinical call-back")
    breach_min: dict[Category, Positive] = Field(
        default_factory=lambda: per_category(5.0, 30.0, 120.0, 180.0),
        description="Minutes on the pending stack after which a vehicle is sent anyway",
    )
    accuracy: Probability = Field(
        default=0.95,
        description="Chance a clinician judges the patient's need correctly (unverified)",
    )
    referral_bounce: Probability = Field(
        default=0.15,
        description="Chance a service the call is referred to sends it back for lack of capacity",
    )


class Demand(Strict):
    """How many calls come in, when, where and of what kind."""

    incidents_per_hour: Positive = Field(description="Mean new incidents an hour over the day")
    profile: list[NonNegative] = Field(
        default_factory=lambda: list(NATIONAL_DAY_PROFILE),
        description="24 hourly multipliers, from 00:00; only the shape matters",
    )
    category_mix: dict[Category, NonNegative] = Field(
        default_factory=lambda: per_category(0.10, 0.50, 0.32, 0.08),
        description="True-category shares of incidents (AmbSYS 2024/25 with H&T spread)",
    )
    cards: dict[str, Positive] | None = Field(
        default=None, description="Restrict and reweight call cards by name; all cards when absent"
    )
    area_weights: dict[str, NonNegative] | None = Field(
        default=None, description="Override the map's demand weight of named areas"
    )

    @field_validator("profile")
    @classmethod
    def _day_profile(cls, value: list[float]) -> list[float]:
        if len(value) != 24:
            raise ValueError(f"needs 24 hourly values, got {len(value)}")
        if sum(value) <= 0:
            raise ValueError("needs at least one hour with demand")
        return value

    @field_validator("category_mix")
    @classmethod
    def _mix(cls, value: dict[str, float]) -> dict[str, float]:
        if sum(value.values()) <= 0:
            raise ValueError("needs at least one category with a positive share")
        return value


class Callers(Strict):
    """Behaviour of callers: patience in the queue, redialling and duplicate callers."""

    patience_s: Positive = Field(default=120.0, description="Mean wait before a caller hangs up")
    redial_s: Positive = Field(
        default=60.0, description="Mean time before a caller who hung up redials"
    )
    duplicate_factor: NonNegative = Field(
        default=1.0, description="Multiplies each call card's mean number of extra callers"
    )
    duplicate_window_s: Positive = Field(
        default=600.0, description="Extra callers ring within this many seconds of the first"
    )


class Recontact(Strict):
    """What unsafe advice brings back: the patient calls again, worse."""

    delay_min: tuple[Positive, Positive] = Field(
        default=(30.0, 120.0),
        description="Re-contact comes uniformly within this window after advice",
    )
    upgrade: bool = Field(default=True, description="The re-contact is one category more urgent")


class Harm(Strict):
    """Waits for a first appropriate response beyond which harm is recorded (teaching values)."""

    threshold_min: dict[Category, Positive] = Field(
        default_factory=lambda: per_category(15.0, 80.0, 240.0, 360.0),
        description="Defaults: the C1 90th-centile standard, twice the C2-C4 ones (unverified)",
    )


class JobTimes(Strict):
    """Durations of the job cycle (DOMAIN.md, from NHS England's AmbModelOpen)."""

    mobilise_s: Positive = 60.0
    on_scene_convey_min: tuple[Positive, Positive] = (35.0, 50.0)
    on_scene_see_and_treat_min: tuple[Positive, Positive] = (60.0, 70.0)
    on_scene_no_care_min: tuple[Positive, Positive] = Field(
        default=(20.0, 30.0), description="On scene with a patient who needed no face-to-face care"
    )
    on_scene_distribution: Literal["uniform", "exponential"] = Field(
        default="uniform",
        description="uniform over each range, or exponential with the range's midpoint as mean",
    )
    clearing_min: Positive = 15.0


class UnitCosts(Strict):
    """Unit costs in GBP (DOMAIN.md: GBP 144-216 a response, 2011; H&T unverified)."""

    dispatch: NonNegative = Field(default=180.0, description="Each vehicle mobilised")
    conveyance: NonNegative = Field(default=36.0, description="Added for each patient conveyed")
    hear_and_treat: NonNegative = Field(
        default=40.0, description="Each call closed by phone (unverified)"
    )
    call: NonNegative = Field(default=8.0, description="Each call answered (unverified)")


class ScriptedCall(Strict):
    """A call the author places at a set time, on top of random demand."""

    at: ClockTime | None = None
    at_min: NonNegative | None = Field(default=None, description="Minutes after the start")
    card: str
    variant: str | None = None
    point: str | None = None
    xy: tuple[float, float] | None = None
    area: str | None = Field(default=None, description="Random place in this area when no point/xy")
    callers: Annotated[int, Field(ge=1, le=50)] = 1

    @model_validator(mode="after")
    def _when_and_where(self) -> ScriptedCall:
        if (self.at is None) == (self.at_min is None):
            raise ValueError("give exactly one of 'at' (HH:MM) or 'at_min' (minutes)")
        if sum(x is not None for x in (self.point, self.xy, self.area)) > 1:
            raise ValueError("give at most one of 'point', 'xy' or 'area'")
        return self


class Timed(Strict):
    """Something that happens at a set time: ``at`` (clock) or ``at_min`` (after the start)."""

    at: ClockTime | None = None
    at_min: NonNegative | None = Field(default=None, description="Minutes after the start")

    @model_validator(mode="after")
    def _when(self) -> Timed:
        if (self.at is None) == (self.at_min is None):
            raise ValueError("give exactly one of 'at' (HH:MM) or 'at_min' (minutes)")
        return self


class CallBurst(Timed):
    """Several scripted calls from one card, spread over a few minutes (a major incident)."""

    type: Literal["call_burst"]
    card: str
    variant: str | None = None
    count: Annotated[int, Field(ge=1, le=500)] = 1
    over_min: NonNegative = Field(default=0.0, description="Calls spread evenly over this")
    callers: Annotated[int, Field(ge=1, le=50)] = 1
    point: str | None = None
    xy: tuple[float, float] | None = None
    area: str | None = None


class Surge(Timed):
    """Demand multiplied by ``factor`` for a while (a heatwave afternoon, a big event)."""

    type: Literal["surge"]
    factor: Annotated[float, Field(ge=1, le=20)]
    duration_min: Positive
    area: str | None = Field(default=None, description="Only this area surges when given")


class DiversionInject(Timed):
    """A hospital goes on diversion (or comes off it), for a while or for good."""

    type: Literal["hospital_diversion"]
    hospital: str
    diverted: bool = True
    duration_min: Positive | None = None


class RoadClosure(Timed):
    """Roads closed by name or inside a polygon; routing avoids them until reopened."""

    type: Literal["road_closure"]
    roads: list[str] = Field(default_factory=list)
    polygon: list[tuple[float, float]] | None = None
    duration_min: Positive | None = None

    @model_validator(mode="after")
    def _what(self) -> RoadClosure:
        if not self.roads and self.polygon is None:
            raise ValueError("give 'roads' (names) or a 'polygon' to close")
        if self.polygon is not None and len(self.polygon) < 3:
            raise ValueError("a polygon needs at least 3 points")
        return self


class Breakdown(Timed):
    """A vehicle (by call sign) breaks down: off the road for a while or for the shift."""

    type: Literal["vehicle_breakdown"]
    vehicle: str
    duration_min: Positive | None = None


class CrewChange(Timed):
    """Extra crews come on duty at a station, or crews go off early."""

    type: Literal["crews"]
    station: str
    vehicle_type: Literal["DCA", "RRV"] = "DCA"
    count: Annotated[int, Field(ge=1, le=100)] = 1
    on_duty: bool = True


Inject = Annotated[
    CallBurst | Surge | DiversionInject | RoadClosure | Breakdown | CrewChange,
    Field(discriminator="type"),
]


class Scenario(Strict):
    """One shift: the map, the resources, the demand and the rules it is judged by."""

    schema_version: Literal[1] = Field(description="Version of this file format")
    name: str
    description: str = ""
    learning_objectives: list[str] = Field(default_factory=list)
    debrief_hint: str = ""
    start: ClockTime = "18:00"
    duration_h: Annotated[float, Field(gt=0, le=72)]
    seed: int = 1
    regime: Literal["arp2017", "cat_ab_2008", "cat_ab_pre2008"] = "arp2017"
    map: str = Field(description="Map file, relative to the scenario or to resources/maps")
    protocol: str | None = Field(
        default=None, description="Triage protocol file; the shipped one if absent"
    )
    cards: str | None = Field(
        default=None, description="Call-card folder; the shipped one if absent"
    )
    stations: list[Station] = Field(min_length=1)
    hospitals: list[Hospital] = Field(min_length=1)
    control_room: ControlRoom = ControlRoom()
    clinical_hub: ClinicalHub = ClinicalHub()
    demand: Demand
    callers: Callers = Callers()
    recontact: Recontact = Recontact()
    harm: Harm = Harm()
    job_times: JobTimes = JobTimes()
    costs: UnitCosts = UnitCosts()
    scripted_calls: list[ScriptedCall] = Field(default_factory=list)
    injects: list[Inject] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> Scenario:
        for what, names in (
            ("station", [s.name for s in self.stations]),
            ("hospital", [h.name for h in self.hospitals]),
        ):
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise ValueError(f"two {what}s are called {name!r}")
                seen.add(name)
        if not any(h.kind == "ed" for h in self.hospitals):
            raise ValueError("needs at least one hospital of kind 'ed'")
        return self

    @property
    def duration_s(self) -> float:
        return self.duration_h * 3600.0

    @property
    def start_min(self) -> int:
        return clock_to_minutes(self.start)
