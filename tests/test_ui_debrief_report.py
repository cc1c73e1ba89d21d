"""The end-of-shift debrief at the desk is the debrief report itself, and it can be reopened
(offscreen, pytest-qt)."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QApplication

from ambsim_gui.headless import build_from
from ambsim_gui.paths import DEFAULT_SCENARIO
from ambsim_gui.record.reader import SessionFile
from ambsim_gui.record.session import SessionRecorder
from ambsim_gui.report.data import gather
from ambsim_gui.report.document import Chart, sections, walk
from ambsim_gui.report.layout import debrief_document
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.sim.engine import Engine
from ambsim_gui.ui.debrief_report import DebriefReportDialog
from ambsim_gui.ui.desk import DeskWindow

ARCHIVED = Path(__file__).parent / "sessions" / "default_1h_both_chaser_inject.schema2.ambsession"


def test_the_dialog_shows_the_reports_sections_figures_and_charts(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "s.ambsession"
    shutil.copyfile(ARCHIVED, path)
    dialog = DebriefReportDialog("Debrief", path)
    qtbot.addWidget(dialog)
    dialog.load()
    with SessionFile.open(path) as session:
        expected = debrief_document(gather(session))
    assert dialog.document == expected, "the same document as the HTML and the PDF"
    text = dialog.browser.toPlainText()
    for _, title in sections(expected):
        assert title in text
    headline = dialog.document.blocks  # a figure of the headline table, as printed
    assert any("Your dispatching" in t for _, t in sections(expected))
    charts = [b for b in walk(headline) if isinstance(b, Chart)]
    assert len(charts) == 3
    for i in range(len(charts)):
        image = dialog.browser.document().resource(
            QTextDocument.ResourceType.ImageResource, QUrl(f"chart{i}.png")
        )
        assert image is not None and not image.isNull()
    assert "<svg" not in dialog.browser.toHtml()
    assert dialog.save_button.isEnabled()
    out = dialog.save(tmp_path / "saved.html")
    assert out.read_text(encoding="utf-8").count("<svg") == 3


def test_the_desk_opens_the_report_at_the_shifts_end_and_reopens_it(
    qtbot, tmp_path: Path  # noqa: ANN001
) -> None:
    loaded = load_scenario(DEFAULT_SCENARIO)
    engine = Engine(build_from(loaded), duration_s=900.0, role="dispatcher")
    path = tmp_path / "desk.ambsession"
    recorder = SessionRecorder.start(path, loaded, engine)
    desk = DeskWindow(engine, speed=64)
    qtbot.addWidget(desk)
    desk.session_path = path
    desk.clock.finished.connect(recorder.close)  # as run_desk does: the recording closes
    desk.show()
    assert not desk.debrief_button.isVisible()
    while not engine.finished:
        desk.clock.advance_to(engine.now + 60.0)
    QApplication.processEvents()
    dialog = desk.debrief
    assert isinstance(dialog, DebriefReportDialog) and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.document is not None, timeout=60_000)
    assert "Your dispatching" in dialog.browser.toPlainText()
    assert "Your objectives as dispatcher" in dialog.browser.toPlainText()
    dialog.close()
    assert desk.debrief_button.isVisible()
    desk.debrief_button.click()
    assert desk.debrief is dialog and dialog.isVisible(), "reopened, not made again"
    dialog.close()
    desk.shutdown()
