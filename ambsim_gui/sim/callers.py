"""Demand and callers: patients falling ill, the calls they make, and how callers behave.

Arrivals follow the scenario's hour-of-day profile (a non-homogeneous Poisson process drawn by
thinning). Each patient's hidden truth is drawn from the call cards for a true category taken
from the scenario's mix, at a place drawn from the areas' demand weights. Callers answer triage
questions after a pause, hang up when they wait too long and ring again, and some incidents
bring several callers. A mass-casualty scene brings several patients: the first caller about
each says it is another casualty, and every caller says which person they are about. Advice
to a patient who needed a crew brings them back, worse; waiting past the harm threshold of
their true category is recorded as harm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ambsim_gui.scenario.model import CATEGORIES, Category
from ambsim_gui.sim import events as ev
from ambsim_gui.sim import rng as R
from ambsim_gui.sim.state import Call, Patient, Seat
from ambsim_gui.triage.cards import PatientTruth

if TYPE_CHECKING:
    from ambsim_gui.sim.kernel import Kernel
    from ambsim_gui.sim.room import RoomState

UPGRADE = {"C1": "C1", "C2": "C1", "C3": "C2", "C4": "C3"}
# patient id prefix and the block of random-stream indices of each source of patients
_SOURCES = {
    "arrival": ("P", 0),
    "recontact": ("R", 10_000_000),
    "scripted": ("S", 20_000_000),
    "inject": ("J", 30_000_000),
    "surge": ("U", 40_000_000),
}
MAX_REDIALS = 3
NEW_CASUALTY_OPENING = "There's more than one person hurt here; this is another one"
_ABOUT = "About "
_CASUALTY_WORDS = (
    "the driver",
    "a passenger at the front",
    "a passenger at the back",
    "someone thrown clear",
    "a man by the roadside",
    "a woman by the roadside",
)


def casualty_named(opening: str) -> str | None:
    """The casualty of a scene a caller's first words say they are about (as ``ring`` puts
    them), or None: what the desk can show of it without the hidden truth."""
    if opening.startswith(f"{NEW_CASUALTY_OPENING}, "):
        return opening[len(NEW_CASUALTY_OPENING) + 2 :].split(". ", 1)[0]
    if opening.startswith(_ABOUT) and ": " in opening:
        return opening[len(_ABOUT) :].split(": ", 1)[0]
    return None


def casualty_words(n: int) -> str:
    """How callers at a scene describe its ``n``-th casualty (0-based), distinct per casualty."""
    words = _CASUALTY_WORDS[n % len(_CASUALTY_WORDS)]
    return words if n < len(_CASUALTY_WORDS) else f"{words} ({n // len(_CASUALTY_WORDS) + 1})"


# How precisely a caller is placed: landlines to a few tens of metres, mobiles less well.
_UNCERTAINTY_M = (25.0, 60.0, 150.0, 400.0)
_UNCERTAINTY = R.WeightedChoice([0.35, 0.3, 0.25, 0.1])


class Callers:
    """The public's side of the phone line."""

    def __init__(self, kernel: Kernel, room: RoomState) -> None:
        self.k = kernel
        self.room = room
        self.patients: dict[str, Patient] = {}
        # Each source of patients numbers its own, so that what a trainee does (advice that
        # brings a re-contact) or an instructor injects never renumbers the random arrivals:
        # patient P00042 is the same person in the trainee's shift and the expert's.
        self._numbers: dict[str, int] = {}
        self._n_calls = 0
        sc = room.scenario
        mix = sc.demand.category_mix
        self._mix_cats: list[Category] = [c for c in CATEGORIES if mix.get(c, 0.0) > 0]
        weights = np.array([float(mix[c]) for c in self._mix_cats], dtype=float)
        self._mix_p = weights / weights.sum()
        self._mix_choice = R.WeightedChoice(self._mix_p)
        self._area_choice = R.WeightedChoice(room.world.area_weights)

    # --- arrivals ------------------------------------------------------------------------

    def start(self) -> None:
        self.k.env.process(self._arrivals())
        for i, sc in enumerate(self.room.scenario.scripted_calls):
            at = sc.at_min * 60.0 if sc.at_min is not None else self._clock_offset(sc.at or "")
            if 0 <= at < self.k.end_s:
                self.k.env.process(self._scripted(i, at))

    def _clock_offset(self, clock: str) -> float:
        from ambsim_gui.scenario.model import clock_to_minutes

        return ((clock_to_minutes(clock) - self.room.scenario.start_min) % 1440) * 60.0

    def arrival_times(
        self,
        rng: np.random.Generator | None = None,
        start: float = 0.0,
        end: float | None = None,
        factor: float = 1.0,
    ) -> list[float]:
        """Random incident times (thinning of the hourly, piecewise-constant rate x factor)."""
        sc = self.room.scenario
        end = self.k.end_s if end is None else min(end, self.k.end_s)
        profile = np.asarray(sc.demand.profile, dtype=float)
        profile = profile / profile.mean()
        base = sc.demand.incidents_per_hour * factor / 3600.0
        rate_max = base * profile.max()
        rng = self.k.streams.get(R.ARRIVALS) if rng is None else rng
        times: list[float] = []
        t = start
        start_min = sc.start_min
        while True:
            t += float(rng.exponential(1.0 / rate_max))
            if t >= end:
                return times
            hour = int(((start_min * 60.0 + t) // 3600.0) % 24)
            if float(rng.random()) * rate_max < base * profile[hour]:
                times.append(t)

    def _arrivals(self) -> Any:
        for t in self.arrival_times():
            yield self.k.env.timeout(t - self.k.now)
            patient = self.new_patient()
            self.first_calls(patient)

    def extra_arrivals(self, index: int, factor: float, duration_s: float, area: int | None) -> Any:
        """A surge: an extra Poisson stream of ``factor`` x normal demand for a while."""
        rng = self.k.streams.get(R.ARRIVALS, "surge", index)
        for t in self.arrival_times(rng, self.k.now, self.k.now + duration_s, factor):
            yield self.k.env.timeout(t - self.k.now)
            self.first_calls(self.new_patient(area=area, source="surge"))

    def _scripted(self, index: int, at: float) -> Any:
        yield self.k.env.timeout(at)
        sc = self.room.scenario.scripted_calls[index]
        rng = self.k.streams.get(R.SCRIPTED, index)
        truth = self.room.world.cards.draw_variant(rng, sc.card, sc.variant)
        node: int | None = None
        if sc.point is not None:
            p = self.room.world.network.point(sc.point)
            node = int(self.room.world.network.snap(p.x, p.y))
        elif sc.xy is not None:
            node = int(self.room.world.network.snap(sc.xy[0], sc.xy[1]))
        elif sc.area is not None:
            area = self.room.world.area_names.index(sc.area)
            node = int(self.room.world.network.random_node_in_area(area, rng))
        patient = self.new_patient(truth=truth, node=node, scripted=True, source="scripted")
        patient.hint = sc.hint
        patient.for_trainee = sc.for_trainee
        self.first_calls(patient, extra=sc.callers - 1)

    # --- patients ------------------------------------------------------------------------

    def new_patient(
        self,
        *,
        truth: PatientTruth | None = None,
        node: int | None = None,
        recontact_of: Patient | None = None,
        scripted: bool = False,
        area: int | None = None,
        source: str = "arrival",
    ) -> Patient:
        """A new patient: drawn from the scenario's mix and areas unless given.

        ``source`` (arrival | recontact | scripted | inject | surge) picks the numbering:
        ids P, R, S, J, U and random streams keyed apart, one block of indices per source.
        """
        k, room = self.k, self.room
        if recontact_of is not None:
            source = "recontact"
        number = self._numbers.get(source, 0) + 1
        self._numbers[source] = number
        prefix, block = _SOURCES[source]
        index = block + number
        rng = k.streams.get(R.PATIENT, index, R.PATIENT_TRUTH)
        if truth is None:
            category = str(self._mix_cats[self._mix_choice.draw(rng)])
            truth = self._draw(rng, category)
        if node is None:
            if area is None:
                area = self._area_choice.draw(rng)
            node = int(room.world.network.random_node_in_area(area, rng))
        x, y = (float(v) for v in room.world.network.xy[node])
        patient = Patient(
            id=f"{prefix}{number:05d}",
            index=index,
            truth=truth,
            x=x,
            y=y,
            node=node,
            area=room.world.area_name_at_node(node),
            t_first_call=k.now,
            recontact_of=recontact_of.id if recontact_of else None,
        )
        self.patients[patient.id] = patient
        k.emit(
            ev.PatientCreated(
                t=k.now,
                patient_id=patient.id,
                card=truth.card,
                variant=truth.variant,
                complaint=truth.complaint,
                true_category=truth.true_category,
                need=truth.need,
                ideal=truth.ideal,
                x=x,
                y=y,
                area=patient.area,
                recontact_of=patient.recontact_of,
                scripted=scripted,
            )
        )
        limit = room.scenario.harm.threshold_min[cast(Category, truth.true_category)] * 60.0
        k.after(limit, self._harm_check, patient, limit)
        return patient

    def _draw(
        self, rng: np.random.Generator, category: str, card: str | None = None
    ) -> PatientTruth:
        cards = self.room.world.cards
        weights = self.room.scenario.demand.cards
        if card is not None:
            weights = {card: 1.0}
        # An author's card selection may have no card of this category: widen step by step.
        attempts: list[tuple[str | None, dict[str, float] | None]] = [
            (category, weights),
            (category, None),
            (None, weights),
            (None, None),
        ]
        for cat, w in attempts:
            try:
                return cards.draw(rng, category=cat, card_weights=w)
            except ValueError:
                continue
        raise ValueError("the call-card library is empty")

    def first_calls(self, patient: Patient, extra: int | None = None) -> None:
        k, room = self.k, self.room
        self.ring(patient, "first")
        rng = k.streams.get(R.PATIENT, patient.index, R.PATIENT_CALLER)
        if extra is None:
            mean = patient.truth.extra_callers_mean * room.scenario.callers.duplicate_factor
            extra = int(rng.poisson(mean)) if mean > 0 else 0
        window = room.scenario.callers.duplicate_window_s
        for _ in range(extra):
            delay = float(rng.uniform(20.0, max(30.0, window)))
            k.after(delay, self._later_call, patient, "duplicate")

    def _later_call(self, patient: Patient, reason: str) -> None:
        if self.k.now < self.k.end_s:
            self.ring(patient, reason)

    # --- calls ---------------------------------------------------------------------------

    def ring(self, patient: Patient, reason: str) -> Call:
        k, room = self.k, self.room
        self._n_calls += 1
        patient.calls += 1
        rng = k.streams.get(R.PATIENT, patient.index, R.PATIENT_CALLER)
        # Mobile callers are placed less precisely than landlines; duplicate callers are
        # passers-by a little way off.
        uncertainty = _UNCERTAINTY_M[_UNCERTAINTY.draw(rng)]
        spread = uncertainty / 2 + (120.0 if reason == "duplicate" else 0.0)
        x = patient.x + float(rng.normal(0.0, spread))
        y = patient.y + float(rng.normal(0.0, spread))
        opening = patient.truth.opening
        if patient.calls > 1:
            opening = self._another_opening(patient, rng, reason)
        # At a scene with several casualties the first caller about each one says so: asked
        # whether this is the incident already open there, they answer that it is another person.
        new_casualty = patient.scene is not None and reason == "first"
        if new_casualty:
            opening = f"{NEW_CASUALTY_OPENING}, {patient.casualty}. {opening}"
        elif patient.casualty is not None:
            opening = f"{_ABOUT}{patient.casualty}: {opening}"
        call = Call(
            id=f"C{self._n_calls:05d}",
            truth_patient=patient,
            t_arrive=k.now,
            x=round(x, 1),
            y=round(y, 1),
            uncertainty_m=uncertainty,
            area=patient.area,
            opening=opening,
            new_casualty=new_casualty,
            casualty=patient.casualty,
        )
        room.calls[call.id] = call
        room.ringing.append(call.id)
        k.emit(
            ev.CallArrived(
                t=k.now,
                call_id=call.id,
                x=call.x,
                y=call.y,
                uncertainty_m=uncertainty,
                area=call.area,
                opening=opening,
            )
        )
        k.emit(ev.CallTruth(t=k.now, call_id=call.id, patient_id=patient.id, reason=reason))
        patience = max(10.0, float(rng.exponential(room.scenario.callers.patience_s)))
        k.after(patience, self._patience_ran_out, call)
        if room.distributor is not None:
            room.distributor.rang(call)
        return call

    def _another_opening(self, patient: Patient, rng: np.random.Generator, reason: str) -> str:
        truth = patient.truth
        openings = self.room.world.cards.openings(truth.card, truth.variant) or (truth.opening,)
        text = str(openings[int(rng.integers(len(openings)))])
        if reason == "still_waiting":
            return "I called before and nobody has come. " + text
        if reason == "redial":
            return "Sorry, I got cut off. " + text
        return text

    def _patience_ran_out(self, call: Call) -> None:
        if call.status != "ringing":  # answered meanwhile
            return
        k, room = self.k, self.room
        room.ringing.remove(call.id)
        call.status = "closed"
        call.disposition = "abandoned"
        k.emit(ev.CallAbandoned(t=k.now, call_id=call.id))
        k.emit(
            ev.CallClosed(
                t=k.now, call_id=call.id, disposition="abandoned", incident_id=None, seat=None
            )
        )
        if room.distributor is not None:
            room.distributor.left_queue(call)
        patient = call.truth_patient
        if patient.calls <= MAX_REDIALS + 1:
            rng = k.streams.get(R.PATIENT, patient.index, R.PATIENT_CALLER)
            delay = max(5.0, float(rng.exponential(room.scenario.callers.redial_s)))
            k.after(delay, self._later_call, patient, "redial")

    def answered(self, call: Call, seat: Seat) -> None:
        k, room = self.k, self.room
        room.ringing.remove(call.id)
        call.status = "answered"
        call.seat = seat.id
        call.t_answered = k.now
        seat.call_id = call.id
        k.emit(ev.CallAnswered(t=k.now, call_id=call.id, seat=seat.id))
        if room.distributor is not None:
            room.distributor.answered(call, seat)

    def ask(self, call: Call, question_id: str) -> None:
        k, room = self.k, self.room
        q = room.world.protocol.questions[question_id]
        call.pending_question = question_id
        call.asked.append(question_id)
        k.emit(
            ev.QuestionAsked(
                t=k.now, call_id=call.id, question_id=question_id, text=q.text, seat=call.seat or ""
            )
        )
        rng = k.streams.get(R.PATIENT, call.truth_patient.index, R.PATIENT_CALLER)
        lo, hi = q.answer_time_s
        delay = room.scenario.control_room.ask_s + float(rng.uniform(lo, hi))
        k.after(delay, self._answer, call, question_id)

    def _answer(self, call: Call, question_id: str) -> None:
        k, room = self.k, self.room
        if call.status != "answered" or call.pending_question != question_id:
            return
        answer = call.truth_patient.truth.answers[question_id]
        call.pending_question = None
        call.answers[question_id] = answer.value
        call.answer_texts[question_id] = answer.text
        k.emit(
            ev.QuestionAnswered(
                t=k.now,
                call_id=call.id,
                question_id=question_id,
                value=answer.value,
                text=answer.text,
            )
        )
        a = room.world.protocol.assess(call.answers)
        call.assessment = a
        k.emit(
            ev.TriageAssessed(
                t=k.now,
                call_id=call.id,
                category=a.category,
                code=a.code,
                label=a.label,
                validation=a.validation,
                advice=a.advice,
                complete=a.complete,
            )
        )

    def close(self, call: Call, disposition: str, incident_id: str | None) -> None:
        k, room = self.k, self.room
        call.status = "closed"
        call.disposition = disposition
        call.incident_id = incident_id
        call.pending_question = None
        k.emit(
            ev.CallClosed(
                t=k.now,
                call_id=call.id,
                disposition=disposition,
                incident_id=incident_id,
                seat=call.seat,
            )
        )
        seat = room.seats.get(call.seat or "")
        if seat is not None and seat.call_id == call.id:
            seat.call_id = None
            seat.wrapping_up = True
            k.after(room.scenario.control_room.wrap_up_s, self._wrapped_up, seat)

    def _wrapped_up(self, seat: Seat) -> None:
        k = self.k
        seat.wrapping_up = False
        k.emit(ev.SeatFree(t=k.now, seat=seat.id))
        distributor = self.room.distributor
        if distributor is not None:
            distributor.seat_free(seat)

    # --- consequences --------------------------------------------------------------------

    def schedule_recontact(self, patient: Patient) -> None:
        k, room = self.k, self.room
        rng = k.streams.get(R.PATIENT, patient.index, R.PATIENT_CALLER)
        lo, hi = room.scenario.recontact.delay_min
        delay = float(rng.uniform(min(lo, hi), max(lo, hi))) * 60.0
        k.after(delay, self._recontact, patient)

    def _recontact(self, patient: Patient) -> None:
        k, room = self.k, self.room
        if k.now >= k.end_s:
            return
        rng = k.streams.get(R.PATIENT, patient.index, R.PATIENT_TRUTH)
        category = patient.truth.true_category
        if room.scenario.recontact.upgrade:
            category = UPGRADE[category]
        truth = self._draw(rng, category, card=patient.truth.card)
        worse = self.new_patient(truth=truth, node=patient.node, recontact_of=patient)
        self.ring(worse, "recontact")

    def wrongly_linked(self, patient: Patient) -> None:
        """A call linked to someone else's incident: nobody is coming, so they ring again."""
        k, room = self.k, self.room
        if patient.responded or any(
            room.incidents[i].status == "open" for i in patient.incident_ids
        ):
            return
        rng = k.streams.get(R.PATIENT, patient.index, R.PATIENT_CALLER)
        k.after(float(rng.uniform(15.0, 40.0)) * 60.0, self._later_call, patient, "still_waiting")

    def _harm_check(self, patient: Patient, limit: float) -> None:
        k = self.k
        if not patient.responded:
            k.emit(
                ev.HarmOccurred(
                    t=k.now,
                    patient_id=patient.id,
                    true_category=patient.truth.true_category,
                    waited_s=limit,
                    reason="no appropriate response within the harm threshold",
                )
            )
