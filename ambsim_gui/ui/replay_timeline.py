"""The replay window's timeline: the shift's span, its debrief markers in lanes, the time cursor.

One job: paint ``record.debrief_markers.Marker``s by kind over the recording's span and turn a click
into a seek (``seek_requested(t)``). Hidden markers (known only with the truth) show only when
``set_show_hidden(True)`` (the truth overlay).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from ambsim_gui.record.debrief_markers import Marker
from ambsim_gui.ui.formatting import clock_text

#: (lane title, marker kinds drawn in it)
LANES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Calls", ("call",)),
    ("Decisions", ("decision",)),
    ("Dispatches", ("dispatch",)),
    ("Breaches", ("breach",)),
    ("Dup./avoidable", ("duplicate_dispatch", "stood_down", "avoidable_dispatch")),
    ("Unsafe / harm", ("unsafe_advice", "harm")),
    ("Injects / refused", ("inject", "rejected")),
)
KIND_COLOUR: dict[str, QColor] = {
    "call": QColor("#00838f"),
    "decision": QColor("#1565c0"),
    "dispatch": QColor("#2f9e44"),
    "breach": QColor("#d9262c"),
    "duplicate_dispatch": QColor("#e8890c"),
    "stood_down": QColor("#b08d57"),
    "avoidable_dispatch": QColor("#8e44ad"),
    "unsafe_advice": QColor("#c2185b"),
    "harm": QColor("#7f0000"),
    "inject": QColor("#374151"),
    "rejected": QColor("#6b7280"),
}
LABEL_W = 118
LANE_H = 15
AXIS_H = 18
PAD_R = 10


class TimelineWidget(QWidget):
    """Markers in lanes over [0, end_t]; click or drag to seek."""

    seek_requested = Signal(float)

    def __init__(
        self,
        markers: Sequence[Marker],
        end_t: float,
        start_clock: str = "00:00",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.markers = list(markers)
        self.end_t = max(1.0, float(end_t))
        self.start_clock = start_clock or "00:00"
        self.t = 0.0
        self.show_hidden = False
        # a seat's markers only (the replay's "Trainee only"): markers of other seats hidden;
        # those of no seat (breaches, harm, injects) stay
        self.only_seat: str | None = None
        self.annotation_times: list[float] = []
        self._lane_of = {kind: i for i, (_, kinds) in enumerate(LANES) for kind in kinds}
        self.setMinimumHeight(AXIS_H + LANE_H * len(LANES) + 6)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self.setToolTip("")

    # --- state ---------------------------------------------------------------------------------

    def visible_markers(self) -> list[Marker]:
        seat = self.only_seat
        return [
            m
            for m in self.markers
            if (self.show_hidden or not m.hidden) and (seat is None or m.seat in (None, seat))
        ]

    def set_only_seat(self, seat: str | None) -> None:
        self.only_seat = seat
        self.update()

    def kinds_shown(self) -> set[str]:
        return {m.kind for m in self.visible_markers()}

    def set_time(self, t: float) -> None:
        self.t = t
        self.update()

    def set_show_hidden(self, on: bool) -> None:
        self.show_hidden = on
        self.update()

    def set_annotation_times(self, times: Sequence[float]) -> None:
        self.annotation_times = list(times)
        self.update()

    # --- geometry --------------------------------------------------------------------------------

    def _x_of(self, t: float) -> float:
        width = max(1.0, self.width() - LABEL_W - PAD_R)
        return LABEL_W + width * min(max(t, 0.0), self.end_t) / self.end_t

    def _t_of(self, x: float) -> float:
        width = max(1.0, self.width() - LABEL_W - PAD_R)
        return min(max((x - LABEL_W) / width, 0.0), 1.0) * self.end_t

    def _lane_y(self, lane: int) -> float:
        return AXIS_H + lane * LANE_H

    # --- painting ----------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.fillRect(self.rect(), QColor("#f7f7f4"))
        font = QFont(self.font())
        font.setPixelSize(11)
        p.setFont(font)
        right = self.width() - PAD_R
        # lanes
        for i, (title, _) in enumerate(LANES):
            y = self._lane_y(i)
            if i % 2:
                p.fillRect(QRectF(LABEL_W, y, right - LABEL_W, LANE_H), QColor("#ecece6"))
            p.setPen(QColor("#374151"))
            p.drawText(
                QRectF(4, y, LABEL_W - 8, LANE_H),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                title,
            )
        # time axis: a tick every 15 minutes, labelled hourly (or every 15 min on short shifts)
        step = 900.0
        label_every = 1 if self.end_t <= 2 * 3600 else 4
        p.setPen(QColor("#6b7280"))
        k = 0
        t = 0.0
        while t <= self.end_t + 1e-6:
            x = self._x_of(t)
            p.drawLine(QPointF(x, AXIS_H - 4), QPointF(x, self.height()))
            if k % label_every == 0:
                text = clock_text(self.start_clock, t)[:5]
                left = min(x - 30, self.width() - 62)
                p.drawText(QRectF(left, 0, 60, AXIS_H - 4), Qt.AlignmentFlag.AlignCenter, text)
            k += 1
            t += step
        # markers
        for m in self.visible_markers():
            lane = self._lane_of.get(m.kind)
            if lane is None:
                continue
            x = self._x_of(m.t)
            y = self._lane_y(lane)
            colour = KIND_COLOUR.get(m.kind, QColor("#555555"))
            pen = QPen(colour, 3.0 if m.severity >= 2 else 2.0)
            if m.hidden:
                pen.setStyle(Qt.PenStyle.SolidLine)
            p.setPen(pen)
            p.drawLine(QPointF(x, y + 2), QPointF(x, y + LANE_H - 2))
        # annotations: small blue triangles on the axis
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#1565c0"))
        for ta in self.annotation_times:
            x = self._x_of(ta)
            p.drawPolygon(
                [QPointF(x - 4, AXIS_H - 8), QPointF(x + 4, AXIS_H - 8), QPointF(x, AXIS_H - 2)]
            )
        # the cursor
        x = self._x_of(self.t)
        p.setPen(QPen(QColor("#d00000"), 2.0))
        p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        p.end()

    # --- mouse ---------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if event.button() == Qt.MouseButton.LeftButton:
            self.seek_requested.emit(self._t_of(event.position().x()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        pos = event.position()
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.seek_requested.emit(self._t_of(pos.x()))
            return
        lane = int((pos.y() - AXIS_H) // LANE_H)
        if not 0 <= lane < len(LANES) or pos.x() < LABEL_W:
            QToolTip.hideText()
            return
        kinds = LANES[lane][1]
        best: Marker | None = None
        best_d = 5.0
        for m in self.visible_markers():
            if m.kind in kinds:
                d = abs(self._x_of(m.t) - pos.x())
                if d <= best_d:
                    best, best_d = m, d
        if best is None:
            QToolTip.hideText()
        else:
            text = f"{clock_text(self.start_clock, best.t)}  {best.label}"
            QToolTip.showText(event.globalPosition().toPoint(), text, self)
