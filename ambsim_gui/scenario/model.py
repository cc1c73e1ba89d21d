"""The scenario file's schema: pydantic v2 models of everything a shift is made of.

Defaults carry the figures of ``docs/domain.md`` (the facts ambsim rests on, with their sources);
where a figure is marked unverified there, the field says so in its description and stays
configurable. Every model forbids unknown keys so a typo in a scenario file is an error with a
line number, never a silently ignored setting.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

SCHEMA_VERSION = 1

Category = Literal["C1", "C2", "C3", "C4"]
CATEGORIES: tuple[Category, ...] = ("C1", "C2", "C3", "C4")
ClockTime = Annotated[
    str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="24-hour clock time, HH:MM")
]

# --------------------------------------------------------------------------- limits
#
# Every number has an upper bound, so that whatever validates also runs to the end in bounded
# time and memory (an unbounded rate or duration made the engine run for ever). Each bound is
# far beyond the shipped scenarios (the London-scale day: 165 incidents an hour for 24 hours,
# 280 vehicles at 70 stations, 15 hospitals) and beyond any English trust (the largest, London,
# answers about 5,000 calls a day with some 1,100 front-line vehicles). docs/authoring.md lists
# them under "Limits"; tests/test_scenario_limits.py checks each one.

MAX_SHIFT_H = 72
"""A shift is at most three days: longer runs belong to a benchmark, not a training session."""
MAX_SHIFT_MIN = MAX_SHIFT_H * 60
DAY_MIN = 24 * 60
"""Job-cycle times (on scene, handover, clearing...) are at most a day: beyond that, a typo."""
WEEK_MIN = 7 * DAY_MIN
"""Waits and inject durations may reach a week (longer than any shift: 'for good')."""
WEEK_S = WEEK_MIN * 60
MAX_INCIDENTS_PER_HOUR = 2_000
"""Twelve times the London-scale day's 165 an hour."""
MAX_INCIDENTS = 50_000
"""Incidents expected over one shift (demand, surges, scripted calls and bursts): twelve
London-scale days. The engine keeps every event of a shift in memory: 10,000 incidents take
about 10 s and 250 MB, so this bound keeps a run to about a minute and a gigabyte or so."""
MAX_SCRIPTED_CALLERS = 100_000
"""People ringing about scripted calls and call bursts (a burst may bring 500 x 50): random
demand's extra callers are bounded by ``duplicate_factor`` and MAX_INCIDENTS instead."""
MAX_VEHICLES = 5_000
"""Vehicles on the roster, crews injects included: four times London's front-line fleet."""
MAX_STATIONS = 500
MAX_HOSPITALS = 200
MAX_SCRIPTED_CALLS = 1_000
"""A call every four minutes of the longest shift, on top of random demand."""
MAX_INJECTS = 500
MAX_ROAD_CLOSURES = 20
"""Road-closure injects: each closure and each reopening re-plans every route, about a second
on the London-scale map, so a hundred of them would add minutes to a run. One inject closes
any number of roads (``roads`` or a ``polygon``)."""
MAX_COORD_M = 10_000_000.0
"""Map coordinates are metres from the map's origin: 10,000 km holds any map."""
MAX_WEIGHT = 1_000_000.0
"""Relative weights (profile, category mix, card and area weights): only ratios matter; a
bound keeps their sums finite (two weights of 1e308 add up to infinity)."""
MAX_COST = 1_000_000.0
"""GBP for one unit (a response costs about 200)."""
MAX_SEED = 10**12
"""Twelve digits (shipped seeds are dates, eight): well inside the signed 64-bit integers session
files (SQLite) store a seed in."""
MAX_NAME = 200
"""Characters in a name or reference (a station, a card, a road...); the longest shipped is 39."""
MAX_PATH = 1_000
MAX_TEXT = 20_000
"""Characters in a description or debrief hint; the longest shipped is about 1,150."""
MAX_LINE = 1_000
"""Characters in one learning objective."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # tab and newline allowed
_CONTROL_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f]")
_CHARACTER_NAMES = {"\t": "a tab", "\n": "a line break", "\r": "a carriage return"}


def _check_text(value: str, *, one_line: bool) -> str:
    """``value`` if it is text that can be shown, saved and hashed; else a ValueError saying
    which character, where. Lone surrogates (from a broken ``\\ud800`` escape) cannot be encoded
    as UTF-8 at all; control characters garble the desk, the reports and the session files."""
    found = _SURROGATE.search(value)
    if found:
        code = ord(found.group())
        raise ValueError(
            f"character {found.start() + 1} is U+{code:04X}, half of a surrogate pair, which is "
            "not valid Unicode text (check the \\u escapes)"
        )
    found = (_CONTROL_ONE_LINE if one_line else _CONTROL_MULTILINE).search(value)
    if found:
        char = found.group()
        what = _CHARACTER_NAMES.get(char, "a control character")
        hint = ": this must be one line of text" if char in "\t\n\r" else ""
        raise ValueError(f"character {found.start() + 1} is {what} (U+{ord(char):04X}){hint}")
    return value


def _one_line(value: Any) -> Any:
    """Before pydantic's own check (which calls a lone surrogate 'unable to parse raw data')."""
    return _check_text(value, one_line=True) if isinstance(value, str) else value


def _multiline(value: Any) -> Any:
    return _check_text(value, one_line=False) if isinstance(value, str) else value


Name = Annotated[str, Field(max_length=MAX_NAME), BeforeValidator(_one_line)]
"""One line of text: names of things and references to them."""
FileRef = Annotated[str, Field(max_length=MAX_PATH), BeforeValidator(_one_line)]
Text = Annotated[str, Field(max_length=MAX_TEXT), BeforeValidator(_multiline)]
"""Text shown to people, which may run over several lines (tabs and line breaks allowed)."""
Line = Annotated[str, Field(max_length=MAX_LINE), BeforeValidator(_multiline)]

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Probability = Annotated[float, Field(ge=0, le=1)]
Weight = Annotated[float, Field(ge=0, le=MAX_WEIGHT)]
PositiveWeight = Annotated[float, Field(gt=0, le=MAX_WEIGHT)]
Coordinate = Annotated[float, Field(ge=-MAX_COORD_M, le=MAX_COORD_M)]
XY = tuple[Coordinate, Coordinate]
Seconds = Annotated[float, Field(ge=0, le=3600)]
"""Seconds of a desk task (picking up, wrapping up): at most an hour."""
JobMinutes = Annotated[float, Field(gt=0, le=DAY_MIN)]
WaitMinutes = Annotated[float, Field(gt=0, le=WEEK_MIN)]
WaitSeconds = Annotated[float, Field(gt=0, le=WEEK_S)]
ShiftMinute = Annotated[float, Field(ge=0, le=MAX_SHIFT_MIN)]
"""A moment of the shift, in minutes after its start."""
Cost = Annotated[float, Field(ge=0, le=MAX_COST)]


def _refusal(model: str, loc: tuple[str | int, ...], message: str, value: Any) -> ValidationError:
    """A validation error at ``loc`` (inside the model being validated), for limits that look
    at several fields at once but belong to one of them."""
    error = PydanticCustomError("scenario_limit", "{message}", {"message": message})
    return ValidationError.from_exception_data(
        model, [InitErrorDetails(type=error, loc=loc, input=value)]
    )


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

    point: Name | None = Field(default=None, description="Name of a point in the map file")
    xy: XY | None = Field(default=None, description="Map coordinates in metres")

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
    callsign_prefix: Annotated[str, Field(max_length=20), BeforeValidator(_one_line)] | None = (
        Field(
            default=None,
            description="Call signs are PREFIX + number; default from station and type",
        )
    )
    shift: Shift | None = Field(
        default=None, description="On duty for the whole scenario when absent"
    )


class Station(Located):
    """An ambulance station: where vehicles start their shift and return between jobs."""

    name: Name
    vehicles: list[VehicleGroup] = Field(min_length=1, max_length=50)


class HandoverModel(Strict):
    """Hospital handover delay: lognormal, its median growing with crews already waiting.

    The standard is 15 minutes and none over 30 (docs/domain.md, Hospital handover); the defaults
    give roughly half of handovers over 15 minutes, like 2017-18.
    """

    median_min: JobMinutes = 15.0
    per_waiting_min: Annotated[float, Field(ge=0, le=240)] = Field(
        default=2.0, description="Minutes added to the median for each crew already waiting"
    )
    sigma: Annotated[float, Field(gt=0, le=3)] = 0.6
    # December 2022 saw handovers past a day; two days is the end of any plausible queue
    max_min: Annotated[float, Field(gt=0, le=2 * DAY_MIN)] = 360.0


class Hospital(Located):
    """A receiving hospital: an emergency department, or an urgent treatment centre ('utc')."""

    name: Name
    kind: Literal["ed", "utc"] = "ed"
    handover: HandoverModel = HandoverModel()
    diverted: bool = Field(default=False, description="On diversion at the start of the shift")


class Escalation(Strict):
    """Waits on the dispatch queue, in the trainee's sector, after which the desk escalates."""

    alarm_min: dict[Category, WaitMinutes] = Field(
        default_factory=lambda: per_category(3.0, 10.0, 60.0, 120.0),
        description="Minutes an incident waits for a vehicle before the desk's alarm",
    )
    supervisor_min: dict[Category, WaitMinutes] = Field(
        default_factory=lambda: per_category(7.0, 18.0, 120.0, 180.0),
        description="Minutes before the supervisor prompt; defaults: the ARP C1 and C2 means "
        "and the C3 and C4 90th centiles",
    )
    sound: bool = Field(default=True, description="The alarm beeps as well as shows")

    @model_validator(mode="after")
    def _alarm_first(self) -> Escalation:
        for category, alarm in self.alarm_min.items():
            supervisor = self.supervisor_min.get(category)
            if supervisor is not None and supervisor < alarm:
                raise ValueError(
                    f"{category}: supervisor_min ({supervisor:g}) comes before alarm_min "
                    f"({alarm:g}); the alarm comes first"
                )
        return self


class ControlRoom(Strict):
    """Staffing of the emergency operations centre and the trainee's seat in it."""

    call_handlers: Annotated[int, Field(ge=1, le=200)] = 3
    dispatchers: Annotated[int, Field(ge=1, le=100)] = 1
    trainee_role: Literal["call_handler", "dispatcher", "both"] = "both"
    pickup_s: tuple[Seconds, Seconds] = Field(
        default=(3.0, 10.0),
        description="Seconds a virtual call handler takes to pick up (a trainee's are real)",
    )
    ask_s: Annotated[float, Field(gt=0, le=600)] = Field(
        default=4.0, description="Seconds a handler takes to ask one question"
    )
    wrap_up_s: Seconds = Field(default=30.0, description="Seconds of admin after each call")
    assessment_mode: bool = Field(default=False, description="Hide vehicle suggestions at the desk")
    call_distribution: Literal["trainee_first", "shared"] = Field(
        default="trainee_first",
        description="trainee_first: a free trainee seat is offered the next call for offer_s "
        "before colleagues may take it (an automatic call distributor); shared: first come",
    )
    offer_s: Annotated[float, Field(ge=1, le=600)] = Field(
        default=20.0,
        description="Seconds a call offered to the trainee waits for them (ring-no-answer)",
    )
    escalation: Escalation = Escalation()


class ClinicalHub(Strict):
    """Clinicians who call patients back: C3/C4 validation and C2 segmentation."""

    clinicians: Annotated[int, Field(ge=0, le=100)] = 2
    callback_min: Annotated[float, Field(gt=0, le=240)] = Field(
        default=12.0, description="Mean length of a clinical call-back"
    )
    breach_min: dict[Category, JobMinutes] = Field(
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

    incidents_per_hour: Annotated[float, Field(gt=0, le=MAX_INCIDENTS_PER_HOUR)] = Field(
        description="Mean new incidents an hour over the day"
    )
    profile: list[Weight] = Field(
        default_factory=lambda: list(NATIONAL_DAY_PROFILE),
        description="24 hourly multipliers, from 00:00; only the shape matters",
    )
    category_mix: dict[Category, Weight] = Field(
        default_factory=lambda: per_category(0.10, 0.50, 0.32, 0.08),
        description="True-category shares of incidents (AmbSYS 2024/25 with H&T spread)",
    )
    cards: Annotated[dict[Name, PositiveWeight], Field(max_length=500)] | None = Field(
        default=None, description="Restrict and reweight call cards by name; all cards when absent"
    )
    area_weights: Annotated[dict[Name, Weight], Field(max_length=1000)] | None = Field(
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

    patience_s: WaitSeconds = Field(default=120.0, description="Mean wait before a caller hangs up")
    redial_s: WaitSeconds = Field(
        default=60.0, description="Mean time before a caller who hung up redials"
    )
    # the cards' means go up to 3 extra callers (a crash on a main road): 10 x that is a crowd
    duplicate_factor: Annotated[float, Field(ge=0, le=10)] = Field(
        default=1.0, description="Multiplies each call card's mean number of extra callers"
    )
    duplicate_window_s: WaitSeconds = Field(
        default=600.0, description="Extra callers ring within this many seconds of the first"
    )


class Recontact(Strict):
    """What unsafe advice brings back: the patient calls again, worse."""

    delay_min: tuple[WaitMinutes, WaitMinutes] = Field(
        default=(30.0, 120.0),
        description="Re-contact comes uniformly within this window after advice",
    )
    upgrade: bool = Field(default=True, description="The re-contact is one category more urgent")


class Harm(Strict):
    """Waits for a first appropriate response beyond which harm is recorded (teaching values)."""

    threshold_min: dict[Category, WaitMinutes] = Field(
        default_factory=lambda: per_category(15.0, 80.0, 240.0, 360.0),
        description="Defaults: the C1 90th-centile standard, twice the C2-C4 ones (unverified)",
    )


class JobTimes(Strict):
    """Durations of the job cycle (docs/domain.md, The job cycle: NHS England's AmbModelOpen)."""

    mobilise_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    on_scene_convey_min: tuple[JobMinutes, JobMinutes] = (35.0, 50.0)
    on_scene_see_and_treat_min: tuple[JobMinutes, JobMinutes] = (60.0, 70.0)
    on_scene_no_care_min: tuple[JobMinutes, JobMinutes] = Field(
        default=(20.0, 30.0), description="On scene with a patient who needed no face-to-face care"
    )
    on_scene_distribution: Literal["uniform", "exponential"] = Field(
        default="uniform",
        description="uniform over each range, or exponential with the range's midpoint as mean",
    )
    clearing_min: JobMinutes = 15.0


class CrewRules(Strict):
    """A rest break in a long shift, and no late job near the finish (docs/domain.md)."""

    rest_break_min: Annotated[float, Field(ge=0, le=120)] = Field(
        default=30.0, description="Length of the rest break; 0 for none"
    )
    rest_break_from_shift_h: Annotated[float, Field(gt=0, le=24)] = Field(
        default=8.0, description="Only crews on a shift at least this long get a rest break"
    )
    rest_break_window_h: tuple[
        Annotated[float, Field(ge=0, le=24)], Annotated[float, Field(ge=0, le=24)]
    ] = Field(
        default=(3.0, 7.0),
        description="Hours into the shift within which the break is due; a crew busy all that "
        "time takes it as soon as it is back at station",
    )
    late_job_protection_min: Annotated[float, Field(ge=0, le=240)] = Field(
        default=30.0,
        description="In its last minutes on shift a crew is sent only to C1 and C2 incidents",
    )

    @model_validator(mode="after")
    def _window(self) -> CrewRules:
        if self.rest_break_window_h[1] < self.rest_break_window_h[0]:
            raise ValueError("rest_break_window_h must be [from, to] with from <= to")
        return self


class UnitCosts(Strict):
    """Unit costs in GBP (docs/domain.md, Resources and costs: GBP 144-216 a response, 2011).

    The hear-and-treat and call costs have no public unit cost: they are unverified.
    """

    dispatch: Cost = Field(default=180.0, description="Each vehicle mobilised")
    conveyance: Cost = Field(default=36.0, description="Added for each patient conveyed")
    hear_and_treat: Cost = Field(default=40.0, description="Each call closed by phone (unverified)")
    call: Cost = Field(default=8.0, description="Each call answered (unverified)")


class ScriptedCall(Strict):
    """A call the author places at a set time, on top of random demand."""

    at: ClockTime | None = None
    at_min: ShiftMinute | None = Field(default=None, description="Minutes after the start")
    card: Name
    variant: Name | None = None
    point: Name | None = None
    xy: XY | None = None
    area: Name | None = Field(
        default=None, description="Random place in this area when no point/xy"
    )
    callers: Annotated[int, Field(ge=1, le=50)] = 1
    hint: Text = Field(
        default="", description="Shown at the desk with this call when the trainee takes it"
    )
    for_trainee: bool = Field(
        default=False,
        description="A teaching call: virtual colleagues never take it from a trainee who takes "
        "calls; it rings for the trainee",
    )

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
    at_min: ShiftMinute | None = Field(default=None, description="Minutes after the start")

    @model_validator(mode="after")
    def _when(self) -> Timed:
        if (self.at is None) == (self.at_min is None):
            raise ValueError("give exactly one of 'at' (HH:MM) or 'at_min' (minutes)")
        return self


class CallBurst(Timed):
    """Several scripted calls from one card, spread over a few minutes (a major incident)."""

    type: Literal["call_burst"]
    card: Name
    variant: Name | None = None
    count: Annotated[int, Field(ge=1, le=500)] = 1
    over_min: ShiftMinute = Field(default=0.0, description="Calls spread evenly over this")
    callers: Annotated[int, Field(ge=1, le=50)] = 1
    point: Name | None = None
    xy: XY | None = None
    area: Name | None = None


class Surge(Timed):
    """Demand multiplied by ``factor`` for a while (a heatwave afternoon, a big event)."""

    type: Literal["surge"]
    factor: Annotated[float, Field(ge=1, le=20)]
    duration_min: WaitMinutes
    area: Name | None = Field(default=None, description="Only this area surges when given")


class DiversionInject(Timed):
    """A hospital goes on diversion (or comes off it), for a while or for good."""

    type: Literal["hospital_diversion"]
    hospital: Name
    diverted: bool = True
    duration_min: WaitMinutes | None = None


class RoadClosure(Timed):
    """Roads closed by name or inside a polygon; routing avoids them until reopened."""

    type: Literal["road_closure"]
    roads: list[Name] = Field(default_factory=list, max_length=100)
    polygon: Annotated[list[XY], Field(max_length=1000)] | None = None
    duration_min: WaitMinutes | None = None

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
    vehicle: Name
    duration_min: WaitMinutes | None = None


class CrewChange(Timed):
    """Extra crews come on duty at a station, or crews go off early."""

    type: Literal["crews"]
    station: Name
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
    name: Name
    description: Text = ""
    learning_objectives: list[Line] = Field(default_factory=list, max_length=50)
    debrief_hint: Text = ""
    start: ClockTime = "18:00"
    duration_h: Annotated[float, Field(gt=0, le=MAX_SHIFT_H)]
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 1
    regime: Literal["arp2017", "cat_ab_2008", "cat_ab_pre2008"] = "arp2017"
    map: FileRef = Field(description="Map file, relative to the scenario or to resources/maps")
    protocol: FileRef | None = Field(
        default=None, description="Triage protocol file; the shipped one if absent"
    )
    cards: FileRef | None = Field(
        default=None, description="Call-card folder; the shipped one if absent"
    )
    stations: list[Station] = Field(min_length=1, max_length=MAX_STATIONS)
    hospitals: list[Hospital] = Field(min_length=1, max_length=MAX_HOSPITALS)
    control_room: ControlRoom = ControlRoom()
    clinical_hub: ClinicalHub = ClinicalHub()
    demand: Demand
    callers: Callers = Callers()
    recontact: Recontact = Recontact()
    harm: Harm = Harm()
    job_times: JobTimes = JobTimes()
    crews: CrewRules = CrewRules()
    costs: UnitCosts = UnitCosts()
    scripted_calls: list[ScriptedCall] = Field(default_factory=list, max_length=MAX_SCRIPTED_CALLS)
    injects: list[Inject] = Field(default_factory=list, max_length=MAX_INJECTS)

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

    @model_validator(mode="after")
    def _fleet_size(self) -> Scenario:
        """At most MAX_VEHICLES vehicles, crews injects included; refused at the count that
        goes past it."""
        total = 0
        places: list[tuple[tuple[str | int, ...], int]] = [
            (("stations", i, "vehicles", j, "count"), group.count)
            for i, station in enumerate(self.stations)
            for j, group in enumerate(station.vehicles)
        ]
        places += [
            (("injects", k, "count"), inject.count)
            for k, inject in enumerate(self.injects)
            if isinstance(inject, CrewChange) and inject.on_duty
        ]
        for loc, count in places:
            total += count
            if total > MAX_VEHICLES:
                raise _refusal(
                    "Scenario",
                    loc,
                    f"this makes {total} vehicles (crews injects included): more than the "
                    f"{MAX_VEHICLES} a scenario may have",
                    count,
                )
        return self

    @model_validator(mode="after")
    def _road_closures(self) -> Scenario:
        closures = [k for k, inject in enumerate(self.injects) if isinstance(inject, RoadClosure)]
        if len(closures) > MAX_ROAD_CLOSURES:
            k = closures[MAX_ROAD_CLOSURES]
            raise _refusal(
                "Scenario",
                ("injects", k, "type"),
                f"more than {MAX_ROAD_CLOSURES} road closures: each one re-plans every route "
                "(about a second on the London-scale map); close several roads in one inject",
                "road_closure",
            )
        return self

    @model_validator(mode="after")
    def _scripted_callers(self) -> Scenario:
        """At most MAX_SCRIPTED_CALLERS people ringing about scripted calls and call bursts."""
        total = 0
        places: list[tuple[tuple[str | int, ...], int]] = [
            (("scripted_calls", i, "callers"), call.callers)
            for i, call in enumerate(self.scripted_calls)
        ]
        places += [
            (("injects", k, "callers"), inject.count * inject.callers)
            for k, inject in enumerate(self.injects)
            if isinstance(inject, CallBurst)
        ]
        for loc, callers in places:
            total += callers
            if total > MAX_SCRIPTED_CALLERS:
                raise _refusal(
                    "Scenario",
                    loc,
                    f"this makes {total} people ringing about scripted calls and call bursts "
                    f"(a burst: count x callers): more than the {MAX_SCRIPTED_CALLERS} a "
                    "scenario may have",
                    callers,
                )
        return self

    @model_validator(mode="after")
    def _shift_size(self) -> Scenario:
        """At most MAX_INCIDENTS incidents expected over the shift: random demand (with the
        hour-of-day profile), surges, scripted calls and call bursts. Refused at the figure that
        goes past it, so that every shift that validates also ends in bounded time."""
        end = self.duration_s
        random_demand = self.expected_arrivals(0.0, end)
        total = random_demand
        loc: tuple[str | int, ...] = ("demand", "incidents_per_hour")
        value: Any = self.demand.incidents_per_hour
        extra = 0.0
        if total <= MAX_INCIDENTS:
            if len(self.scripted_calls) + total > MAX_INCIDENTS:
                loc, value = ("scripted_calls",), len(self.scripted_calls)
            total += len(self.scripted_calls)
            for k, inject in enumerate(self.injects):
                if total > MAX_INCIDENTS:
                    break
                at = self.offset_s(inject.at, inject.at_min)
                if at >= end:
                    continue  # never happens (the semantic checks say so)
                if isinstance(inject, CallBurst):
                    total += inject.count
                    loc, value = ("injects", k, "count"), inject.count
                elif isinstance(inject, Surge) and inject.factor > 1:
                    until = min(end, at + inject.duration_min * 60.0)
                    total += self.expected_arrivals(at, until, inject.factor - 1)
                    loc, value = ("injects", k, "factor"), inject.factor
            extra = total - random_demand
        if total > MAX_INCIDENTS:
            rate = self.demand.incidents_per_hour
            parts = f"{rate:g} an hour for {self.duration_h:g} h: {random_demand:,.0f}"
            if extra:
                parts += f"; surges, scripted calls and call bursts: {extra:,.0f} more"
            raise _refusal(
                "Scenario",
                loc,
                f"about {total:,.0f} incidents expected over the shift ({parts}): more than the "
                f"{MAX_INCIDENTS:,} one shift may simulate; lower the demand or shorten the shift",
                value,
            )
        return self

    @property
    def duration_s(self) -> float:
        return self.duration_h * 3600.0

    @property
    def start_min(self) -> int:
        return clock_to_minutes(self.start)

    def offset_s(self, at: str | None, at_min: float | None) -> float:
        """Seconds after the start of a time given as ``at`` (the first such clock time after
        the start) or ``at_min``, the way the engine schedules it."""
        if at_min is not None:
            return at_min * 60.0
        return ((clock_to_minutes(at or "00:00") - self.start_min) % 1440) * 60.0

    def expected_arrivals(self, begin_s: float, end_s: float, factor: float = 1.0) -> float:
        """Mean number of random incidents between two moments of the shift (seconds after the
        start), ``factor`` times the demand: the hourly rate shaped by the day profile, as the
        engine draws it (``sim.callers.Callers.arrival_times``)."""
        mean = math.fsum(self.demand.profile) / len(self.demand.profile)
        profile = [x / mean for x in self.demand.profile]  # as the engine normalises it
        per_s = self.demand.incidents_per_hour * factor / 3600.0
        origin = self.start_min * 60.0
        total = 0.0
        t = max(0.0, begin_s)
        while t < end_s:
            clock = origin + t
            hour = int(clock // 3600.0)
            step_end = min(end_s, (hour + 1) * 3600.0 - origin)
            if step_end <= t:  # rounding at an hour boundary
                step_end = min(end_s, t + 1.0)
            total += per_s * profile[hour % 24] * (step_end - t)
            t = step_end
        return total
