"""Debrief reports: self-contained HTML and a valid PDF carrying the session's own figures."""

from __future__ import annotations

import re
import zlib
from functools import lru_cache
from pathlib import Path

import pytest

from ambsim_gui.assess.metrics import ShiftMetrics
from ambsim_gui.assess.report_text import mmss
from ambsim_gui.headless import build_from
from ambsim_gui.paths import DEFAULT_SCENARIO
from ambsim_gui.record.player import record_played_shift
from ambsim_gui.record.reader import SessionFile
from ambsim_gui.report import ReportError, write_report
from ambsim_gui.report.layout import response_label
from ambsim_gui.report.pdf import text_width, wrap
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.session_commands import report
from ambsim_gui.sim.regimes import REGIMES


@lru_cache(maxsize=1)
def _default():  # type: ignore[no-untyped-def]
    loaded = load_scenario(DEFAULT_SCENARIO)
    return loaded, build_from(loaded)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    loaded, world = _default()
    path = tmp_path_factory.mktemp("report") / "shift.ambsession"
    _, recorder = record_played_shift(
        path, loaded, world, player="target_chaser", role="both", hours=1.5, close=False
    )
    recorder.add_annotation(1200.0, "Ask about the second RTC caller", "C00015")
    recorder.close()
    return path


def figures(path: Path) -> dict[str, str]:
    loaded, _ = _default()
    with SessionFile.open(path) as s:
        metrics = ShiftMetrics(REGIMES[s.info.regime], loaded.scenario.costs)
        metrics.feed_all(s.events())
    # Changed with the definition (docs/domain.md, At the end of the shift, and run-out): the
    # headline shows the figures at the end of the shift, whose responses include the
    # incidents still waiting (counted with their wait so far); the snapshot counts only the
    # responses that arrived
    m = metrics.end_of_shift()
    c1 = m.categories["C1"]
    c2 = m.categories["C2"]
    assert c1.count > 0 and m.calls > 0
    hat = m.outcomes.hear_and_treat
    return {
        "calls": f"{m.calls} (answered {m.calls_answered}, abandoned {m.calls_abandoned})",
        "c1": f"mean {mmss(c1.mean_response_s)}, 90th {mmss(c1.p90_response_s)}",
        "c2": f"mean {mmss(c2.mean_response_s)}, 90th {mmss(c2.p90_response_s)}",
        "c1_count": response_label("C1", c1.count, c1.waiting),
        "cost": f"GBP {m.cost_total:,.0f}",
        "hat": "-" if hat is None else f"{hat:.1%}",
        "open": "Incidents still open",
        "nao": f"{m.nao.dispatches_per_attended:.2f} ({m.nao.dispatches} dispatches",
    }


def test_the_html_report_is_self_contained_and_has_the_sessions_figures(
    session: Path, tmp_path: Path
) -> None:
    out = write_report(session, tmp_path / "debrief.html")
    html = out.read_text(encoding="utf-8")
    for name, text in figures(session).items():
        assert text in html, name
    assert html.count("<svg") == 3
    assert "Against the expert" in html and "Your decisions" in html
    assert "Ask about the second RTC caller" in html
    assert "<script" not in html.lower()
    assert not re.search(r"(src|href)\s*=", html), "nothing is fetched"
    assert re.sub(r'xmlns="http://www.w3.org/2000/svg"', "", html).count("http") == 0
    assert not list(tmp_path.glob("*.part"))


def pdf_text(data: bytes) -> str:
    """The text drawn by every page (Tj strings of the Flate-compressed content streams)."""
    out = []
    for match in re.finditer(rb"stream\n(.*?)\nendstream", data, re.S):
        content = zlib.decompress(match.group(1)).decode("latin-1")
        for s in re.findall(r"\(((?:\\.|[^\\)])*)\) Tj", content):
            out.append(re.sub(r"\\(.)", r"\1", s))
    return "\n".join(out)


def test_the_pdf_report_is_a_valid_pdf_with_the_same_figures(session: Path, tmp_path: Path) -> None:
    out = write_report(session, tmp_path / "debrief.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
    # the cross-reference table points at every object
    start = int(re.search(rb"startxref\n(\d+)", data).group(1))  # type: ignore[union-attr]
    assert data[start:].startswith(b"xref")
    offsets = [int(x) for x in re.findall(rb"(\d{10}) 00000 n ", data)]
    for number, offset in enumerate(offsets, start=1):
        assert data[offset:].startswith(f"{number} 0 obj".encode())
    pages = len(re.findall(rb"/Type /Page ", data))
    assert pages >= 3
    assert f"/Count {pages}".encode() in data
    text = pdf_text(data)
    for name, value in figures(session).items():
        assert value in text, name
    assert f"page {pages} of {pages}" in text
    assert "Ask about the second RTC caller" in text


def test_reports_refuse_bad_input_with_messages(
    session: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ReportError, match=r"\.html or \.pdf"):
        write_report(session, tmp_path / "debrief.docx")
    assert report(session, tmp_path / "debrief.docx") == 1
    assert ".html or .pdf" in capsys.readouterr().err
    assert report(tmp_path / "missing.ambsession", tmp_path / "x.html") == 1
    err = capsys.readouterr().err
    assert "no such file" in err and "Traceback" not in err
    assert report(session, tmp_path / "no" / "folder" / "x.html") == 1
    assert "cannot write" in capsys.readouterr().err  # and no expert run was wasted on it
    assert report(session, tmp_path / "fast.html", expert=False) == 0
    html = (tmp_path / "fast.html").read_text(encoding="utf-8")
    assert "Against the expert" not in html and figures(session)["c1"] in html


def test_text_is_wrapped_to_the_column() -> None:
    text = "Compare the trainee's hear-and-treat share with the trusts' range " * 4
    lines = wrap(text, 9.0, 200.0)
    assert len(lines) > 3
    assert all(text_width(line, 9.0) <= 200.0 for line in lines)
    assert " ".join(lines).split() == text.split()
    assert wrap("x" * 300, 9, 50)  # a word longer than a line is cut, not lost
