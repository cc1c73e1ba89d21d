"""The debrief is laid out once: the HTML and the PDF render the same document, section by
section; the PDF shows the Windows-1252 characters as written and every other one visibly,
never as '?'."""

from __future__ import annotations

import logging
import re
import shutil
import zlib
from html import unescape
from pathlib import Path

import pytest

from ambsim_gui.record.reader import SessionFile
from ambsim_gui.report import write_report
from ambsim_gui.report.charts import Drawing, Text
from ambsim_gui.report.data import Debrief, gather
from ambsim_gui.report.document import (
    Cell,
    Chart,
    Column,
    Document,
    Fold,
    Heading,
    Paragraph,
    Table,
    sections,
    walk,
)
from ambsim_gui.report.html import render_html
from ambsim_gui.report.key_moments import rank_key_moments
from ambsim_gui.report.layout import debrief_document
from ambsim_gui.report.pdf import text_width
from ambsim_gui.report.pdf_report import UNSHOWN_TITLE, render_pdf
from ambsim_gui.report.winansi import WinAnsi
from ambsim_gui.sim import events as ev

SESSIONS = Path(__file__).parent / "sessions"
ARCHIVED = SESSIONS / "default_1h_both_chaser_inject.schema2.ambsession"
SAMPLE = "–—“”•€≥→ 😀 Łódź"


@pytest.fixture(scope="module")
def debrief() -> Debrief:
    with SessionFile.open(ARCHIVED) as session:
        return gather(session, expert=True)


def pdf_runs(data: bytes) -> list[tuple[str, float, str]]:
    """(font, size, text) of every string drawn, page after page, decoded from WinAnsi."""
    runs = []
    for match in re.finditer(rb"stream\n(.*?)\nendstream", data, re.S):
        content = zlib.decompress(match.group(1)).decode("latin-1")
        pattern = r"/(F\d) ([\d.]+) Tf [^(]*?\(((?:\\.|[^\\)])*)\) Tj"
        for font, size, raw in re.findall(pattern, content):
            text = re.sub(r"\\(.)", r"\1", raw).encode("latin-1").decode("cp1252")
            runs.append((font, float(size), text))
    return runs


def pdf_outline(data: bytes) -> list[tuple[int, str]]:
    """The section (12.5 pt bold) and sub-section (10.5 pt bold) headings of a PDF, in order."""
    levels = {12.5: 2, 10.5: 3}
    runs = pdf_runs(data)
    return [(levels[size], text) for font, size, text in runs if font == "F2" and size in levels]


def html_outline(html: str) -> list[tuple[int, str]]:
    """h2 and h3 headings, and the summaries of folds, in order (a summary as level 0)."""
    found = re.findall(r"<(h2|h3|summary)>(.*?)</\1>", html)
    return [({"h2": 2, "h3": 3, "summary": 0}[tag], unescape(text)) for tag, text in found]


def test_the_html_and_the_pdf_have_the_layouts_sections_in_its_order(debrief: Debrief) -> None:
    doc = debrief_document(debrief)
    expected = sections(doc)
    titles = [title for _, title in expected]
    comparison = debrief.comparison
    assert comparison is not None and comparison.differing
    assert titles == [
        "Learning objectives",
        "Your objectives as call handler and dispatcher",
        f"Headline figures ({debrief.metrics.regime_label})",
        "Against the expert",
        "The shift in charts",
        f"Key moments ({rank_key_moments(debrief.markers).total})",
        f"Your decisions ({debrief.trainee_calls} calls)",
        f"Patients the expert handled differently ({len(comparison.differing)})",
        f"Your dispatching ({len(debrief.dispatching.lines)} vehicles sent)",
        f"Instructor's notes ({len(debrief.annotations)})",
        "Debrief hint",
    ]
    assert pdf_outline(render_pdf(doc)) == expected
    # the HTML: the same, with the folds' summaries in their places (a sub-section that
    # folds is titled by its summary)
    html = html_outline(render_html(doc))
    folds = {b.summary: b for b in walk(doc.blocks) if isinstance(b, Fold)}
    assert [s for level, s in html if level == 0] == list(folds)
    assert [
        (3, s) if level == 0 else (level, s) for level, s in html if level or folds[s].heading
    ] == expected


def test_every_table_and_chart_of_the_layout_is_in_both(debrief: Debrief) -> None:
    doc = debrief_document(debrief)
    html = render_html(doc)
    pdf_text = " ".join(text for _, _, text in pdf_runs(render_pdf(doc)))
    tables = [b for b in walk(doc.blocks) if isinstance(b, Table)]
    # objectives, headline, expert, key moments (the chaser's duplicate dispatches),
    # decisions, the expert's other handling, dispatches, the instructor's notes
    assert html.count("<table>") == len(tables) == 8
    for table in tables:
        for column in table.columns:
            assert f"<th>{column.title}</th>" in html and column.title in pdf_text
    charts = [b for b in walk(doc.blocks) if isinstance(b, Chart)]
    assert html.count("<svg") == len(charts) == 3
    for chart in charts:
        assert chart.drawing.title in pdf_text


def test_tones_and_alignment_render_in_both() -> None:
    table = Table(
        (Column("Figure", 2), Column("Value", 1, "right"), Column("Result", 1)),
        (("C1", "7:02", Cell("MISSED", "bad")), ("C2", "18:00", Cell("met", "good"))),
        tones=("bad", None),
    )
    doc = Document("t", "f", (Heading("t", 1), table))
    html = render_html(doc)
    assert '<tr class="bad"><td>C1</td><td class="num">7:02</td>' in html
    assert '<span class="missed">MISSED</span>' in html and '<span class="met">met</span>' in html
    assert "<tr><td>C2</td>" in html
    data = render_pdf(doc)
    stream = re.search(rb"stream\n(.*?)\nendstream", data, re.S)
    assert stream is not None
    content = zlib.decompress(stream[1]).decode("latin-1")
    assert "0.988 0.925 0.925 rg" in content  # the bad row's shade
    # the right-aligned column ends its text at the column's right edge, less the padding
    x = float(re.search(r"([\d.]+) [\d.]+ Td \(18:00\)", content)[1])  # type: ignore[index]
    right_edge = 48 + (2 + 1) / 4 * (595.28 - 96) - 2.5
    assert x + text_width("18:00", 8.0) == pytest.approx(right_edge, abs=0.02)
    with pytest.raises(ValueError, match="a row of 2 cells"):
        Table((Column("a"),), (("x", "y"),))


def test_the_pdf_keeps_windows_1252_and_shows_the_rest_visibly() -> None:
    title = f"Debrief: {SAMPLE}"
    drawing = Drawing(200, 40, f"Chart {SAMPLE}")
    drawing.add(Text(10, 20, f"label {SAMPLE}"))
    doc = Document(
        title,
        f"footer {SAMPLE}",
        (
            Heading(title, 1),
            Paragraph(f"para {SAMPLE}"),
            Table((Column("Note"), Column("x")), ((f"cell {SAMPLE}", "soft\u00adhy\u200bphen"),)),
            Chart(drawing),
        ),
    )
    charset = WinAnsi()
    data = render_pdf(doc, charset)
    drawn = [text for _, _, text in pdf_runs(data)]
    shown = "–—“”•€>=-> [U+1F600] Lódz"
    for where in ("para", "cell", "label", "Chart", "footer"):
        assert any(f"{where} {shown}" in t for t in drawn), where
    assert "Debrief: " + shown in drawn
    assert "softhyphen" in drawn  # invisible characters are left out
    assert not any("?" in t for t in drawn)
    # the cp1252 characters are drawn as their own WinAnsi codes
    streams = b"".join(
        zlib.decompress(m[1]) for m in re.finditer(rb"stream\n(.*?)\nendstream", data, re.S)
    )
    assert "–—“”•€".encode("cp1252") in streams
    # what was not shown as written is recorded, and listed at the end of the PDF
    assert charset.approximated == {"≥": ">=", "→": "->", "Ł": "L", "ź": "z"}
    assert charset.unshown == {"😀": "[U+1F600]"}
    assert (2, UNSHOWN_TITLE) not in pdf_outline(data) and (3, UNSHOWN_TITLE) in pdf_outline(data)
    note = " ".join(drawn[drawn.index(UNSHOWN_TITLE) + 1 :])
    for line in charset.details():
        assert line.split(" as ")[0] in note
    assert 'U+2265 GREATER-THAN OR EQUAL TO as ">="' in note
    assert "U+1F600 GRINNING FACE as [U+1F600]" in note
    # the metadata keeps the title whole, in UTF-16
    hexa = re.search(rb"/Title <FEFF([0-9A-F]+)>", data)[1]  # type: ignore[index]
    assert bytes.fromhex(hexa.decode()).decode("utf-16-be") == title


def test_an_ascii_report_has_no_note(debrief: Debrief) -> None:
    charset = WinAnsi()
    data = render_pdf(debrief_document(debrief), charset)
    assert not charset.changed
    assert UNSHOWN_TITLE.encode() not in zlib.decompress(
        re.findall(rb"stream\n(.*?)\nendstream", data, re.S)[-1]
    )


@pytest.mark.parametrize(
    ("text", "shown", "recorded"),
    [
        ("plain ASCII (a, b) \\ 100%", "plain ASCII (a, b) \\ 100%", False),
        ("café × 2 ½ £5 °C ‰ ™ Œuvre Šk", "café × 2 ½ £5 °C ‰ ™ Œuvre Šk", False),  # cp1252
        ("e\u0301", "é", False),  # composed first
        ("a ≤ b ≠ c ≈ d ⇒ e − f", "a <= b != c ~ d => e - f", True),
        ("ﬁve ⅓ Ａ", "five 1/3 A", True),  # compatibility forms
        ("Łódź Gdańsk Đakovo ı Ő", "Lódz Gdansk Dakovo i O", True),  # letters, no accents
        ("10\u202fmin", "10\u00a0min", True),  # a narrow no-break space stays unbreakable
        ("a\tb", "a b", True),
        ("x\u200dy\ufe0f\u00ad", "xy", False),  # invisible: left out
        ("Ж ❤ \U000f0000", "[U+0416] [U+2764] [U+F0000]", True),  # nothing close: code point
        ("two\nlines", "two\nlines", False),
    ],
)
def test_each_class_of_character(text: str, shown: str, recorded: bool) -> None:
    charset = WinAnsi()
    assert charset.shown(text) == shown
    assert charset.encode(text) == shown.encode("cp1252")
    assert charset.changed == recorded


def test_the_report_warns_of_what_the_pdf_does_not_show(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "session.ambsession"
    shutil.copy(SESSIONS / "default_1h_both_expert_desk.schema2.ambsession", path)
    with SessionFile.open(path, writable=True) as session:
        session.add_annotation(600.0, f"Caller said {SAMPLE}")
    told: list[str] = []
    out = write_report(path, tmp_path / "debrief.pdf", expert=False, warn=told.append)
    assert len(told) == 1 and "U+1F600" in told[0] and "debrief.pdf" in told[0]
    drawn = " ".join(text for _, _, text in pdf_runs(out.read_bytes()))
    assert "Caller said –—“”•€>=-> [U+1F600] Lódz" in drawn
    html = write_report(path, tmp_path / "debrief.html", expert=False, warn=told.append)
    assert f"Caller said {SAMPLE}" in html.read_text(encoding="utf-8") and len(told) == 1
    with caplog.at_level(logging.WARNING, logger="ambsim_gui.report"):
        write_report(path, tmp_path / "again.pdf", expert=False)
    assert any("U+1F600" in r.getMessage() for r in caplog.records)


def test_a_patients_true_need_reads_in_the_outcome_tables_words(debrief: Debrief) -> None:
    # the handout is for people: "Conveyed to ED" as the outcome table says it, not "convey ed"
    html = unescape(render_html(debrief_document(debrief)))
    assert "needed Conveyed to ED" in html
    assert "convey ed" not in html and "convey_ed" not in html


def test_the_handout_names_patients_by_incident_and_shows_no_internal_ids(
    debrief: Debrief,
) -> None:
    """One patient reference (the incident number the trainee saw) and human words: no card or
    variant id, no outcome, decision or role id, in the handout."""
    doc = debrief_document(debrief)
    html = unescape(render_html(doc))
    with SessionFile.open(ARCHIVED) as session:
        events = session.events()
    incidents = {e.incident_id for e in events if isinstance(e, ev.IncidentOpened)}
    calls = {e.call_id for e in events if isinstance(e, ev.CallArrived)}
    variants = {(e.card, e.variant) for e in events if isinstance(e, ev.PatientCreated)}
    for card, variant in variants:
        assert f"{card}/{variant}" not in html
    for raw in ("see_and_treat", "hear_and_treat", "convey_ed", "call_handler", "; hub;"):
        assert raw not in html, raw
    differing = next(
        b for b in walk(doc.blocks) if isinstance(b, Table) and b.columns[1].title == "Patient"
    )
    # the patient is the incident the room opened for them (or the call, before one opened)
    assert all(row[1] in incidents | calls for row in differing.rows)
    assert not any(str(row[1]).startswith("P") for row in differing.rows)
    decisions = next(
        b
        for b in walk(doc.blocks)
        if isinstance(b, Table) and b.columns[1].title == "Incident (call)"
    )
    for row in decisions.rows:
        ref = str(row[1])
        assert ref in calls or (ref.split(" ")[0] in incidents and "(call C" in ref)
