"""The human words for every id a person reads: one place, used by the desk, the replay, the
debrief and the feedback.

One job: map an internal id (an outcome, a disposition, a call card or variant, a protocol
question or answer, a vehicle type or status, a category, a role, a command, a finding's kind)
to the words a trainer or trainee reads. Card titles and question texts come from the shipped
files in ``resources/`` (read once, when first asked), so a new card needs no entry here. An id
this module does not know reads with its underscores as spaces, never as the raw id.

It sits above ``triage`` (it reads the cards and the protocol) and below everything that shows
text, so the assessment, the session tools, the report and the desk all say the same words.
Stored texts (refusal reasons in recorded events) are translated when shown: ``reason_words``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ambsim_gui.datafile import DataFileError
from ambsim_gui.triage.cards import CardLibrary
from ambsim_gui.triage.protocol import Protocol

__all__ = [
    "OUTCOME_WORDS",
    "action_words",
    "answer_words",
    "card_words",
    "category_words",
    "command_words",
    "disposition_words",
    "done_words",
    "finding_kind_words",
    "ideal_words",
    "incident_status_words",
    "marker_kind_words",
    "outcome_words",
    "question_words",
    "reason_words",
    "role_words",
    "vehicle_status_words",
    "vehicle_type_words",
    "words",
]


def words(key: str) -> str:
    """An id nobody gave words to, readable: ``"to_scene"`` -> ``"to scene"``."""
    return key.replace("_", " ")


def _lookup(table: dict[str, str], key: str | None, none: str = "-") -> str:
    if key is None or key == "":
        return none
    return table.get(key, words(key))


# the outcome table's words (docs/domain.md, "Outcomes"): a patient's need, an incident's close
OUTCOME_WORDS: dict[str, str] = {
    "hear_and_treat": "Hear and treat",
    "see_and_treat": "See and treat",
    "convey_ed": "Conveyed to ED",
    "convey_elsewhere": "Conveyed elsewhere",
    "referred": "Referred by phone",
}


def outcome_words(key: str | None) -> str:
    """An outcome or need id in the outcome table's words ("Conveyed to ED")."""
    return _lookup(OUTCOME_WORDS, key)


# CallClosed.disposition (sim/events.py) as the decision, for a table's cell
_DISPOSITION_WORDS = {
    "dispatch": "sent to dispatch",
    "hub": "to the clinical hub",
    "advice": "advice by phone",
    "referred": "referred by phone",
    "linked": "linked to an open incident",
    "abandoned": "caller hung up",
}


def disposition_words(key: str | None) -> str:
    """A call's decision, for a table's cell: ``"hub"`` -> "to the clinical hub"; '-' for none."""
    return _lookup(_DISPOSITION_WORDS, key)


# the same dispositions as what was done, for a sentence ("CA12: sent for a vehicle")
_DONE_WORDS = {
    "dispatch": "sent for a vehicle",
    "hub": "referred to the clinical hub",
    "advice": "closed with advice",
    "referred": "referred to another service",
    "linked": "linked to an open incident",
    "abandoned": "the caller hung up",
}


def done_words(key: str | None) -> str:
    """A disposition as what was done: ``"advice"`` -> "closed with advice"."""
    return _lookup(_DONE_WORDS, key)


# PatientCreated.ideal (triage/cards.py) and the protocol's action (CallFeedback.protocol_action)
_IDEAL_WORDS = {
    "dispatch": "send a vehicle",
    "validate": "a clinician call-back (clinical hub)",
    "advise": "advice or referral by phone",
}


def ideal_words(key: str | None) -> str:
    """The ideal decision (or the protocol's action) in words."""
    return _lookup(_IDEAL_WORDS, key)


# the protocol's action (CallFeedback.protocol_action), for "the protocol's action was ..."
_ACTION_WORDS = {
    "dispatch": "to send a vehicle",
    "validate": "a clinician call-back",
    "advice": "advice or referral by phone",
}


def action_words(key: str | None) -> str:
    """The protocol's action: ``"dispatch"`` -> "to send a vehicle"."""
    return _lookup(_ACTION_WORDS, key, "the handler's choice")


_ANSWER_WORDS = {
    "within_1h": "within 1 hour",
    "within_2h": "within 2 hours",
    "within_4h": "within 4 hours",
    "young_adult": "young adult",
    "unsure": "not sure",
}


def answer_words(value: str | None) -> str:
    """A caller's answer value in words: ``"within_2h"`` -> "within 2 hours"."""
    return _lookup(_ANSWER_WORDS, value)


_VEHICLE_TYPE_WORDS = {
    "DCA": "ambulance (DCA)",
    "RRV": "rapid response car (RRV)",
}


def vehicle_type_words(key: str) -> str:
    """A vehicle type in full: ``"RRV"`` -> "rapid response car (RRV)"."""
    return _VEHICLE_TYPE_WORDS.get(key, key)


_VEHICLE_STATUS_WORDS = {
    "available": "available",
    "mobilising": "mobilising",
    "to_scene": "to scene",
    "on_scene": "on scene",
    "to_hospital": "to hospital",
    "at_hospital": "at hospital",
    "clearing": "clearing",
    "returning": "returning",
    "rest": "rest break",
    "off_duty": "off duty",
}


def vehicle_status_words(key: str) -> str:
    """A vehicle's status (sim/fleet.py) in words: ``"rest"`` -> "rest break"."""
    return _lookup(_VEHICLE_STATUS_WORDS, key)


# the desk's incident states (ui/boards.incident_status)
_INCIDENT_STATUS_WORDS = {
    "queued": "waiting for a vehicle",
    "needs DCA": "needs a DCA to convey",
    "hub": "on the clinical hub's stack",
    "call-back": "a clinician is calling back",
    "assigned": "vehicle on its way",
    "on scene": "on scene",
    "open": "open",
    "closed": "closed",
}


def incident_status_words(key: str) -> str:
    """An incident's state on the desk in words: ``"queued"`` -> "waiting for a vehicle"."""
    return _lookup(_INCIDENT_STATUS_WORDS, key)


_CATEGORY_WORDS = {
    "C1": "Category 1 (life-threatening)",
    "C2": "Category 2 (emergency)",
    "C3": "Category 3 (urgent)",
    "C4": "Category 4 (less urgent)",
}


def category_words(key: str | None) -> str:
    """A category in full: ``"C2"`` -> "Category 2 (emergency)"; its short form is its id."""
    return _lookup(_CATEGORY_WORDS, key)


_ROLE_WORDS = {
    "call_handler": "call handler",
    "dispatcher": "dispatcher",
    "both": "call handler and dispatcher",
}


def role_words(key: str | None) -> str:
    """A trainee's role: ``"call_handler"`` -> "call handler"."""
    return _lookup(_ROLE_WORDS, key)


# Command.KIND (sim/commands.py): what the trainee tried, for a refusal
_COMMAND_WORDS = {
    "answer_call": "answer a call",
    "ask_question": "ask a question",
    "set_category": "set the category",
    "send_to_dispatch": "send to dispatch",
    "refer_to_hub": "refer to the clinical hub",
    "give_advice": "give advice",
    "refer_elsewhere": "refer to another service",
    "link_call": "link the call",
    "dispatch_vehicle": "dispatch a vehicle",
    "divert_vehicle": "divert a vehicle",
    "stand_down": "stand a vehicle down",
    "set_hospital_diversion": "divert a hospital",
    "inject": "an instructor's inject",
    "malformed": "a malformed command",
}


def command_words(key: str) -> str:
    """A command's kind as the action: ``"ask_question"`` -> "ask a question"."""
    return _lookup(_COMMAND_WORDS, key)


# CallFeedback.verdict_kind / LaterFinding.kind (assess/feedback.py)
_FINDING_KIND_WORDS = {"problem": "problem", "note": "note", "good": "good"}


def finding_kind_words(key: str) -> str:
    return _lookup(_FINDING_KIND_WORDS, key)


# debrief markers (record/debrief_markers.MARKER_KINDS)
_MARKER_KIND_WORDS = {
    "call": "call",
    "decision": "decision",
    "dispatch": "dispatch",
    "breach": "standard breached",
    "unsafe_advice": "unsafe advice",
    "duplicate_dispatch": "duplicate dispatch",
    "stood_down": "stood down",
    "avoidable_dispatch": "avoidable dispatch",
    "harm": "harm",
    "inject": "instructor's inject",
    "rejected": "command refused",
}


def marker_kind_words(key: str) -> str:
    """A debrief marker's kind: ``"unsafe_advice"`` -> "unsafe advice"."""
    return _lookup(_MARKER_KIND_WORDS, key)


# --- from the shipped files -------------------------------------------------------------------


@lru_cache(maxsize=1)
def _card_titles() -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """(card name -> title, (card, variant) -> the variant's description), from resources/."""
    try:
        library = CardLibrary.load()
    except DataFileError:
        return {}, {}  # a broken card file is reported where it is loaded; here, words only
    titles = {name: card.title for name, card in library.cards.items()}
    variants = {
        (name, v.name): v.description for name, card in library.cards.items() for v in card.variants
    }
    return titles, variants


def card_words(card: str, variant: str | None = None, cards: CardLibrary | None = None) -> str:
    """A call card (and variant) by its own title and description: ``("chest_pain", "acs")`` ->
    "Chest pain – Acute coronary syndrome (heart attack)"; ``"chest_pain/acs"`` reads
    the same. ``cards``: the library the run used (a scenario's own cards), else the shipped."""
    if variant is None and "/" in card:
        card, variant = card.split("/", 1)
    found = cards.cards.get(card) if cards is not None else None
    if found is not None:
        title = found.title
        described = next((v.description for v in found.variants if v.name == variant), "")
    else:
        titles, variants = _card_titles()
        title = titles.get(card, words(card).capitalize())
        described = variants.get((card, variant or ""), "")
    if not variant:
        return title
    return f"{title} – {described or words(variant)}"


@lru_cache(maxsize=1)
def _question_texts() -> dict[str, str]:
    try:
        protocol = Protocol.load()
    except DataFileError:
        return {}
    return {qid: q.text for qid, q in protocol.questions.items()}


def question_words(question_id: str) -> str:
    """A protocol question as it is asked: ``"what_happened"`` -> "Okay, tell me exactly what
    happened." (the protocol file's text)."""
    return _question_texts().get(question_id, words(question_id))


# --- stored texts -----------------------------------------------------------------------------

_QUOTED_ID = re.compile(r"'([a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z]+)'")


def reason_words(reason: str) -> str:
    """A refusal's reason as recorded (``"still waiting for the answer to 'what_happened'"``)
    with each quoted id in words: a question as its text, any other id with spaces."""
    questions = _question_texts()

    def spell(m: re.Match[str]) -> str:
        key = m.group(1)
        if key in questions:
            return f"\N{LEFT DOUBLE QUOTATION MARK}{questions[key]}\N{RIGHT DOUBLE QUOTATION MARK}"
        return f"'{words(key)}'"

    return _QUOTED_ID.sub(spell, reason)
