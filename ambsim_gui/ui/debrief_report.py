"""The end-of-shift debrief at the desk: the debrief report itself, shown in a window.

One job: ``DebriefReportDialog`` shows the same document as ``ambsim report`` writes to HTML
and PDF (``report.layout.debrief_document`` over the recorded session), rendered in a
``QTextBrowser``: the HTML of ``report.html`` with each chart's SVG drawn to an image (a text
browser draws no inline SVG). It is non-modal and kept by the desk, so it can be reopened; it
can save the report as HTML or PDF. The report is made once the recording has closed (the shift
over), a moment after the dialog opens.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt, QTimer, QUrl
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QTextDocument
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ambsim_gui.record.reader import SessionFile
from ambsim_gui.record.schema import SessionError
from ambsim_gui.report.document import Chart, Document, walk
from ambsim_gui.report.html import render_html
from ambsim_gui.report.svg import to_svg

CHART_WIDTH_PX = 900


def document_of(session_path: Path, *, expert: bool = True) -> Document:
    """The debrief document of a recorded session (what ``ambsim report`` renders)."""
    from ambsim_gui.report.data import gather
    from ambsim_gui.report.layout import debrief_document

    with SessionFile.open(session_path) as session:
        return debrief_document(gather(session, expert=expert))


def _chart_image(svg: str) -> QImage:
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    size = renderer.defaultSize()
    width = CHART_WIDTH_PX
    height = max(1, round(width * size.height() / max(1, size.width())))
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    renderer.render(painter, QRectF(0, 0, width, height))
    painter.end()
    return image


class DebriefReportDialog(QDialog):
    """The debrief report of the desk's session (see the module docstring)."""

    def __init__(self, title: str, session_path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("debriefReport")
        self.session_path = Path(session_path)
        self.document: Document | None = None
        layout = QVBoxLayout(self)
        self.status = QLabel("Making the debrief (the expert plays the same shift)...")
        layout.addWidget(self.status)
        self.browser = QTextBrowser(self)
        self.browser.setOpenLinks(False)
        layout.addWidget(self.browser, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.save_button = QPushButton("Save as HTML or PDF...")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self._save_dialog)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.resize(1000, 860)

    def load_soon(self) -> None:
        """Make the report once the events of this moment have been handled (the recording
        closes on the same end-of-shift signal that opens this dialog)."""
        QTimer.singleShot(0, self.load)

    def load(self) -> None:
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self.show_document(document_of(self.session_path))
        except (SessionError, OSError) as exc:
            self.status.setText(f"The debrief cannot be made from {self.session_path}: {exc}")
        finally:
            QGuiApplication.restoreOverrideCursor()

    def show_document(self, document: Document) -> None:
        self.document = document
        html = render_html(document)
        text = self.browser.document()
        charts = [b for b in walk(document.blocks) if isinstance(b, Chart)]
        for i, chart in enumerate(charts):
            svg = to_svg(chart.drawing)
            name = f"chart{i}.png"
            text.addResource(
                QTextDocument.ResourceType.ImageResource, QUrl(name), _chart_image(svg)
            )
            html = html.replace(svg, f'<img src="{name}" width="{CHART_WIDTH_PX}">', 1)
        self.browser.setHtml(html)
        self.status.setText(f"The debrief of {self.session_path.name}, as the report prints it.")
        self.save_button.setEnabled(True)

    def save(self, out: Path) -> Path:
        from ambsim_gui.report import write_report

        return write_report(self.session_path, out)

    def _save_dialog(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self,
            "Save the debrief",
            str(self.session_path.with_suffix(".html")),
            "Debrief (*.html *.pdf)",
        )
        if name:
            try:
                self.save(Path(name))
            except (SessionError, OSError, ValueError) as exc:
                self.status.setText(f"Not saved: {exc}")
            else:
                self.status.setText(f"Saved to {name}")
