"""Every text a person reads uses human words, never internal ids: the labels module's words come
from the shipped files, and neither the debrief (HTML and PDF) nor the desk's widgets show a
snake_case id (``convey_ed``, ``chest_pain/musculoskeletal_young``, ``'what_happened'``)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from html import unescape
from pathlib import Path

import pytest
import yaml

from ambsim_gui import labels
from ambsim_gui.report import write_report
from ambsim_gui.triage.cards import DEFAULT_CARDS
from ambsim_gui.triage.protocol import DEFAULT_PROTOCOL

SESSIONS = Path(__file__).parent / "sessions"
ARCHIVED = SESSIONS / "default_1h_both_chaser_inject.schema2.ambsession"

# an id as the program writes it: lower-case words joined by underscores
SNAKE_ID = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def snake_ids(text: str) -> Counter[str]:
    return Counter(SNAKE_ID.findall(text))


# --- the module ---------------------------------------------------------------------------------


def test_card_and_variant_read_as_the_card_files_own_title_and_description() -> None:
    raw = yaml.safe_load((DEFAULT_CARDS / "chest_pain.yaml").read_text(encoding="utf-8"))
    variant = next(v for v in raw["variants"] if v["name"] == "musculoskeletal_young")
    expected = f"{raw['title']} \N{EN DASH} {variant['description']}"
    assert labels.card_words("chest_pain", "musculoskeletal_young") == expected
    assert labels.card_words("chest_pain/musculoskeletal_young") == expected
    assert labels.card_words("chest_pain") == raw["title"]
    # a card the shipped files do not have still reads as words
    assert (
        labels.card_words("no_such_card", "some_variant") == "No such card \N{EN DASH} some variant"
    )


def test_a_question_reads_as_the_protocol_asks_it() -> None:
    raw = yaml.safe_load(DEFAULT_PROTOCOL.read_text(encoding="utf-8"))
    texts = {q["id"]: q["text"] for q in raw["questions"]}
    assert labels.question_words("what_happened") == texts["what_happened"]
    assert all(labels.question_words(qid) == text for qid, text in texts.items())


def test_a_recorded_refusal_is_put_in_words_when_shown() -> None:
    raw = yaml.safe_load(DEFAULT_PROTOCOL.read_text(encoding="utf-8"))
    asked = next(q["text"] for q in raw["questions"] if q["id"] == "what_happened")
    shown = labels.reason_words("still waiting for the answer to 'what_happened'")
    assert shown == f"still waiting for the answer to \u201c{asked}\u201d"
    # vehicle and call ids are names people use on the radio: they stay as written
    assert labels.reason_words("no vehicle 'RRV_12'") == "no vehicle 'RRV_12'"
    assert labels.command_words("ask_question") == "ask a question"


def test_every_id_has_words_and_an_unknown_one_never_shows_its_underscores() -> None:
    # the outcome table's words (docs/domain.md, "Outcomes")
    assert labels.outcome_words("convey_ed") == "Conveyed to ED"
    assert labels.outcome_words("see_and_treat") == "See and treat"
    assert labels.answer_words("within_2h") == "within 2 hours"
    assert labels.role_words("call_handler") == "call handler"
    assert labels.vehicle_status_words("rest") == "rest break"
    assert labels.vehicle_type_words("RRV") == "rapid response car (RRV)"
    assert labels.done_words("hub") == "referred to the clinical hub"
    assert labels.incident_status_words("queued") == "waiting for a vehicle"
    for words in (labels.outcome_words, labels.done_words, labels.marker_kind_words):
        assert "_" not in words("some_new_id")
    from ambsim_gui.assess.report_text import OUTCOME_WORDS, outcome_words

    # the report's table keeps its one mapping: the labels module's
    assert OUTCOME_WORDS is labels.OUTCOME_WORDS and outcome_words is labels.outcome_words


# --- the debrief --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def debrief_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("debrief")
    session = folder / ARCHIVED.name
    shutil.copyfile(ARCHIVED, session)  # never touch the archive itself
    html = write_report(session, folder / "debrief.html", expert=True).read_text("utf-8")
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = unescape(re.sub(r"<[^>]+>", " ", html))
    pdf = write_report(session, folder / "debrief.pdf", expert=True)
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed")
    pdf_text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text, pdf_text


def test_the_debrief_html_shows_no_internal_id(debrief_files: tuple[str, str]) -> None:
    html, _ = debrief_files
    assert "Conveyed to ED" in html  # the scan reads the report's words
    assert snake_ids(html) == Counter()


def test_the_debrief_pdf_shows_no_internal_id(debrief_files: tuple[str, str]) -> None:
    _, pdf = debrief_files
    assert "Conveyed to ED" in pdf
    assert snake_ids(pdf) == Counter()
