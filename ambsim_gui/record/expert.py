"""The expert's shift beside the trainee's: the same scenario, seed and injects, played by the
built-in expert in every seat, its figures and its handling of the same patients.

Patients are drawn from streams keyed by their arrival index (``P00001`` ...), so the expert
run meets the same patients as long as the same arrivals happen. A re-contact (after unsafe
advice) is a new patient and takes the next index, so after one the later patient numbers of the
two runs drift apart by the arrival slot: a matched patient then has the same illness and place
but arrives at the time of a neighbouring arrival. ``CallComparison.same_arrival`` says so, and
patients that exist in only one run (re-contacts) are listed with no partner.

The instructor's live injects (``Inject`` commands, and diversions set from outside the room's
seats) are applied to the expert run at the same moments; the trainee's own commands are not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ambsim_gui.assess.metrics import MetricsReport, ShiftMetrics
from ambsim_gui.labels import card_words, disposition_words, ideal_words, outcome_words
from ambsim_gui.record.reader import SessionFile
from ambsim_gui.record.replay import Rebuilt, new_engine, rebuild
from ambsim_gui.record.replay_state import TRAINEE, ReplayState
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.events import event_log_sha256
from ambsim_gui.sim.regimes import CATEGORIES, Regime
from ambsim_gui.triage.cards import CardLibrary


@dataclass(frozen=True)
class CallStep:
    call_id: str
    seat: str | None
    t_arrive: float
    reason: str  # first | duplicate | redial | recontact | still_waiting
    recommended: str | None
    category: str | None
    disposition: str | None
    incident_id: str | None


@dataclass(frozen=True)
class DispatchStep:
    t: float
    vehicle: str  # callsign
    type: str
    incident_id: str
    seat: str


@dataclass(frozen=True)
class PatientStory:
    """Everything the room did for one patient in one run, and how it ended."""

    patient_id: str
    t_created: float
    card: str
    variant: str
    true_category: str
    need: str
    ideal: str
    recontact_of: str | None
    x: float
    y: float
    calls: tuple[CallStep, ...]
    incidents: tuple[str, ...]
    category: str | None  # the first incident's final category
    dispatches: tuple[DispatchStep, ...]
    outcome: str | None  # how the first incident closed
    response_s: float | None
    unsafe_advice: bool
    harmed: bool

    @property
    def handled_by_trainee(self) -> bool:
        return any(c.seat == TRAINEE for c in self.calls) or any(
            d.seat == TRAINEE for d in self.dispatches
        )

    @property
    def disposition(self) -> str | None:
        """The decision on the first call that was not abandoned."""
        for call in self.calls:
            if call.disposition not in (None, "abandoned"):
                return call.disposition
        return self.calls[0].disposition if self.calls else None

    @property
    def category_set(self) -> str | None:
        for call in self.calls:
            if call.category is not None:
                return call.category
        return None

    @property
    def reference(self) -> str:
        """The patient as the room knew them: their first incident's number, else their
        first call's (the number the trainee saw at the desk)."""
        if self.incidents:
            return self.incidents[0]
        return self.calls[0].call_id if self.calls else self.patient_id

    def summary(self) -> str:
        parts = []
        if self.category_set:
            parts.append(self.category_set)
        parts.append(disposition_words(self.disposition) if self.disposition else "not handled")
        if self.dispatches:
            kinds = ", ".join(d.type for d in self.dispatches)
            parts.append(f"{len(self.dispatches)} sent ({kinds})")
        if self.response_s is not None:
            parts.append(f"response {_mmss(self.response_s)}")
        if self.outcome:
            parts.append(outcome_words(self.outcome))
        if self.unsafe_advice:
            parts.append("UNSAFE ADVICE")
        if self.harmed:
            parts.append("HARM")
        return "; ".join(parts)

    def same_patient(self, other: PatientStory) -> bool:
        return (self.card, self.variant, self.x, self.y) == (
            other.card,
            other.variant,
            other.x,
            other.y,
        )


@dataclass(frozen=True)
class CallComparison:
    """One patient the trainee's seat handled: what the trainee did, what the expert did."""

    patient_id: str
    truth: str  # "C2 Chest pain: Acute coronary syndrome, needed Conveyed to ED; ideal: ..."
    trainee: PatientStory
    expert: PatientStory | None
    same_arrival: bool
    differences: tuple[str, ...]


@dataclass(frozen=True)
class HeadlineRow:
    """One figure of both shifts. A response figure counts the incidents still waiting at their
    wait so far, a lower bound (``trainee_waiting``/``expert_waiting`` of them); ``withheld``
    names a reason no side is called better (a cheaper shift that reached fewer patients)."""

    label: str
    trainee: float | None
    expert: float | None
    unit: str  # s | share | count | gbp
    lower_is_better: bool = True
    trainee_waiting: int = 0
    expert_waiting: int = 0
    withheld: str | None = None

    def better(self) -> str | None:
        """'trainee', 'expert' or None (equal, not comparable, or not decided).

        A lower bound decides only when it is already worse than the other side's exact value:
        a shift with patients still waiting is never called better on a response figure."""
        if self.withheld is not None:
            return None
        if self.trainee is None or self.expert is None or self.trainee == self.expert:
            return None
        trainee_lower = self.trainee < self.expert
        # the true value of a side with incidents waiting is at least the one shown
        if self.trainee_waiting and (trainee_lower or self.expert_waiting):
            return None
        if self.expert_waiting and (not trainee_lower or self.trainee_waiting):
            return None
        return "trainee" if trainee_lower == self.lower_is_better else "expert"

    @property
    def undecided(self) -> bool:
        """Values differ, yet no side is called better (waiting patients, or withheld)."""
        return (
            self.trainee is not None
            and self.expert is not None
            and self.trainee != self.expert
            and self.better() is None
        )


@dataclass
class ExpertComparison:
    """The trainee's shift and the expert's, figure by figure and patient by patient."""

    trainee: MetricsReport
    expert: MetricsReport
    headline: list[HeadlineRow]
    calls: list[CallComparison]
    only_trainee: list[PatientStory] = field(default_factory=list)
    expert_sha256: str = ""
    until_t: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def differing(self) -> list[CallComparison]:
        return [c for c in self.calls if c.differences]


def _mmss(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = max(0, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def patient_stories(events: Sequence[ev.Event], regime: Regime) -> dict[str, PatientStory]:
    """Each patient's story in one run, keyed by patient id."""
    state = ReplayState()
    dispatches: dict[str, list[DispatchStep]] = {}
    for e in events:
        state.apply(e)
        if isinstance(e, ev.VehicleAssigned):
            v = state.vehicles.get(e.vehicle_id)
            step = DispatchStep(
                e.t,
                v.callsign if v is not None else e.vehicle_id,
                v.type if v is not None else "?",
                e.incident_id,
                e.seat,
            )
            dispatches.setdefault(e.incident_id, []).append(step)
    truth = state.truth
    calls_of: dict[str, list[str]] = {}
    for call_id, patient in truth.call_patient.items():
        calls_of.setdefault(patient, []).append(call_id)
    incidents_of: dict[str, list[str]] = {}
    for incident_id, patient in truth.incident_patient.items():
        incidents_of.setdefault(patient, []).append(incident_id)
    harmed = {h.patient_id for h in truth.harm}
    unsafe = {u.patient_id for u in truth.unsafe_advice}
    out: dict[str, PatientStory] = {}
    for pid, p in truth.patients.items():
        calls = []
        for call_id in calls_of.get(pid, []):
            c = state.calls.get(call_id)
            if c is None:
                continue
            calls.append(
                CallStep(
                    call_id,
                    c.seat,
                    c.t_arrive,
                    truth.call_reason.get(call_id, ""),
                    c.recommended,
                    c.category,
                    c.disposition,
                    c.incident_id,
                )
            )
        incidents = sorted(incidents_of.get(pid, []))
        first = state.incidents.get(incidents[0]) if incidents else None
        response: float | None = None
        if first is not None:
            times = first.times()
            stop = regime.clock_stop(times)
            if stop is not None:
                response = max(0.0, stop - regime.clock_start(times))
        steps = [d for i in incidents for d in dispatches.get(i, [])]
        out[pid] = PatientStory(
            patient_id=pid,
            t_created=p.t,
            card=p.card,
            variant=p.variant,
            true_category=p.true_category,
            need=p.need,
            ideal=p.ideal,
            recontact_of=p.recontact_of,
            x=p.x,
            y=p.y,
            calls=tuple(sorted(calls, key=lambda c: (c.t_arrive, c.call_id))),
            incidents=tuple(incidents),
            category=first.category if first is not None else None,
            dispatches=tuple(sorted(steps, key=lambda d: d.t)),
            outcome=first.outcome if first is not None else None,
            response_s=response,
            unsafe_advice=pid in unsafe,
            harmed=pid in harmed,
        )
    return out


def differences(mine: PatientStory, expert: PatientStory | None) -> list[str]:
    """What the trainee did differently from the expert with the same patient."""
    if expert is None:
        return ["the expert run has no such patient"]
    out = []
    if mine.disposition != expert.disposition:
        out.append(
            f"decision: you {disposition_words(mine.disposition)},"
            f" expert {disposition_words(expert.disposition)}"
        )
    if mine.category_set != expert.category_set:
        out.append(f"category: you {mine.category_set or '-'}, expert {expert.category_set or '-'}")
    if len(mine.dispatches) != len(expert.dispatches):
        out.append(f"vehicles sent: you {len(mine.dispatches)}, expert {len(expert.dispatches)}")
    if mine.response_s is not None or expert.response_s is not None:
        a, b = mine.response_s, expert.response_s
        if a is None or b is None or abs(a - b) >= 60.0:
            out.append(f"response: you {_mmss(a)}, expert {_mmss(b)}")
    if mine.unsafe_advice != expert.unsafe_advice:
        out.append("unsafe advice: " + ("yours" if mine.unsafe_advice else "the expert's"))
    if mine.harmed != expert.harmed:
        out.append("harm: " + ("in your shift" if mine.harmed else "in the expert's shift"))
    if mine.outcome != expert.outcome:
        yours = outcome_words(mine.outcome) if mine.outcome else "open"
        theirs = outcome_words(expert.outcome) if expert.outcome else "open"
        out.append(f"outcome: you {yours}, expert {theirs}")
    return out


def headline(trainee: MetricsReport, expert: MetricsReport) -> list[HeadlineRow]:
    """Both shifts' figures, from their end-of-shift reports (incidents still waiting counted
    at their wait so far, so that a shift that leaves patients unreached is not faster for it)."""
    rows = []
    for c in CATEGORIES:
        a, b = trainee.categories[c], expert.categories[c]
        for label, mine, theirs in (
            ("mean response", a.mean_response_s, b.mean_response_s),
            ("90th centile", a.p90_response_s, b.p90_response_s),
        ):
            rows.append(
                HeadlineRow(
                    f"{c} {label}",
                    mine,
                    theirs,
                    "s",
                    trainee_waiting=a.waiting,
                    expert_waiting=b.waiting,
                )
            )
    # a shift that sends fewer vehicles is cheaper and wastes fewer; when it leaves more
    # patients waiting that is no merit
    fewer = None
    if trainee.still_waiting > expert.still_waiting:
        fewer = (
            f"you left {trainee.still_waiting} incidents waiting, the expert"
            f" {expert.still_waiting}"
        )
    rows += [
        HeadlineRow(
            "Hear-and-treat share",
            trainee.outcomes.hear_and_treat,
            expert.outcomes.hear_and_treat,
            "share",
            lower_is_better=False,
        ),
        HeadlineRow(
            "Unnecessary dispatches",
            float(trainee.unnecessary_dispatches.total),
            float(expert.unnecessary_dispatches.total),
            "count",
            withheld=fewer,
        ),
        HeadlineRow(
            "Unsafe advice", float(trainee.unsafe_advice), float(expert.unsafe_advice), "count"
        ),
        HeadlineRow("Harm events", float(trainee.harm_events), float(expert.harm_events), "count"),
        HeadlineRow(
            "Calls abandoned",
            float(trainee.calls_abandoned),
            float(expert.calls_abandoned),
            "count",
        ),
        HeadlineRow("Cost", trainee.cost_total, expert.cost_total, "gbp", withheld=fewer),
    ]
    return rows


def _outside_commands(session: SessionFile) -> list[cmd.TimedCommand]:
    """The instructor's injects: commands that change the world, not the room's decisions."""
    out = []
    for timed in session.commands():
        c = timed.command
        if isinstance(c, cmd.Inject) or (
            isinstance(c, cmd.SetHospitalDiversion) and c.seat != TRAINEE
        ):
            out.append(timed)
    return out


def _truth_words(p: PatientStory, cards: CardLibrary | None = None) -> str:
    """'C2 Chest pain - heart attack, needed Conveyed to ED; ideal send a vehicle': the card's
    title and the variant's description, never their ids."""
    return (
        f"{p.true_category} {patient_words(p.card, p.variant, cards)}, needed"
        f" {outcome_words(p.need)}; ideal {ideal_words(p.ideal)}"
    )


def patient_words(card: str, variant: str, cards: CardLibrary | None) -> str:
    """A patient's complaint and condition in the call card's own words."""
    return card_words(card, variant, cards)


def expert_shift(
    session: SessionFile,
    rebuilt: Rebuilt | None = None,
    *,
    progress: Callable[[float], None] | None = None,
) -> ExpertComparison:
    """Run the expert through the session's shift and compare (see the module docstring)."""
    rebuilt = rebuild(session) if rebuilt is None else rebuilt
    regime = rebuilt.regime
    costs = rebuilt.scenario.costs
    events = session.events()
    until = events[-1].t if events else 0.0
    complete = any(isinstance(e, ev.ShiftEnded) for e in reversed(events))

    mine = ShiftMetrics(regime, costs)
    mine.feed_all(events)
    engine = new_engine(session, rebuilt, policy="expert", autopilot="expert")
    theirs = ShiftMetrics(regime, costs)
    engine.subscribe(theirs.feed)
    step = max(600.0, engine.end_s / 24)
    for timed in _outside_commands(session):
        engine.run_until(timed.t)
        engine.submit(timed.command)
    t = engine.now
    stop = engine.end_s if complete else until
    while t < stop and not engine.finished:
        t = min(t + step, stop)
        engine.run_until(t)
        if progress is not None:
            progress(t / max(stop, 1.0))
    if complete:
        engine.run_until(engine.end_s)
    report_t = None if complete else until
    trainee_report = mine.end_of_shift(report_t)
    expert_report = theirs.end_of_shift(report_t)

    my_stories = patient_stories(events, regime)
    expert_stories = patient_stories(engine.events, regime)
    calls = []
    only: list[PatientStory] = []
    for pid, story in my_stories.items():
        if not story.handled_by_trainee:
            continue
        partner = expert_stories.get(pid)
        if partner is not None and not story.same_patient(partner):
            partner = None
        if partner is None and story.recontact_of is not None:
            only.append(story)
            continue
        calls.append(
            CallComparison(
                patient_id=pid,
                truth=_truth_words(story, rebuilt.world.cards),
                trainee=story,
                expert=partner,
                same_arrival=partner is not None and partner.t_created == story.t_created,
                differences=tuple(differences(story, partner)),
            )
        )
    calls.sort(key=lambda c: (c.trainee.t_created, c.patient_id))
    notes = []
    if not complete:
        notes.append(f"the recording ends at t={until:.0f} s: both shifts compared up to there")
    shifted = sum(1 for c in calls if c.expert is not None and not c.same_arrival)
    if shifted:
        notes.append(
            f"{shifted} matched patients arrived at a different moment in the expert's shift "
            "(a re-contact earlier on shifts the arrival numbering)"
        )
    return ExpertComparison(
        trainee=trainee_report,
        expert=expert_report,
        headline=headline(trainee_report, expert_report),
        calls=calls,
        only_trainee=only,
        expert_sha256=event_log_sha256(engine.events),
        until_t=until,
        notes=notes,
    )
