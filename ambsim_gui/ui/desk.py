"""The trainee desk: the main window that puts the panels, the map and the clock together.

One job: ``DeskWindow`` builds the desk for one shift and wires it. Left, the call queue over
the call panel; right, the map beside the dispatch panel, over the status boards beside the live
KPIs and the feedback cards. A top bar shows the shift's clock time, the speed and the
pause state; the status bar shows the trainee's role, seat and the engine's reason for any
refused command. Two refresh rates: the map repaints every tick of the ``SimClock``, the text
panels about four times a second (the KPIs once a second).

The desk installs a ``sys.excepthook`` while it is open: an unexpected exception in a slot shows
a dialog and the session carries on. When the shift ends the debrief dialog opens.

In assessment mode the trainee sees no truth, verdict or suggestion until the shift ends: the
feedback cards and their toasts say only what was done, the KPIs leave out the judged figures,
and the end of the shift reveals them all. The Instructor tab (live injects) is on the desk only
when asked for (``instructor=True``, ``desk --instructor``): never on a trainee's desk by default.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtCore import QElapsedTimer, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStatusBar,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ambsim_gui.assess.feedback import CallFeedback, FeedbackProjection
from ambsim_gui.assess.metrics import ShiftMetrics
from ambsim_gui.labels import role_words
from ambsim_gui.ui.boards import BoardsWidget
from ambsim_gui.ui.call_panel import CallPanel
from ambsim_gui.ui.call_queue import CallQueuePanel
from ambsim_gui.ui.clock import SimClock
from ambsim_gui.ui.context import DeskContext
from ambsim_gui.ui.debrief_report import DebriefReportDialog
from ambsim_gui.ui.dispatch_panel import DispatchPanel
from ambsim_gui.ui.feedback_panel import (
    DebriefDialog,
    FeedbackList,
    KpiPanel,
    debrief_text,
)
from ambsim_gui.ui.formatting import clock_text
from ambsim_gui.ui.instructor_panel import InstructorPanel
from ambsim_gui.ui.live import TRAINEE
from ambsim_gui.ui.map_view import MapView
from ambsim_gui.ui.shortcuts import HelpOverlay, install_shortcuts

BASE_POINT_SIZE = 10.5
KPI_REFRESH_MS = 1000
TOAST_MS = 7000
MESSAGE_MS = 10000

_STYLE = """
QLabel#sectionLabel { font-weight: 600; color: #233; }
QLabel#clockLabel { color: #102a43; }
QLabel#pausedLabel { color: #b01c1c; }
QLabel#callHeader { font-size: 11.5pt; }
QLabel#recommendation { background: #f3f7f3; border: 1px solid #cfdccf; padding: 4px; }
QLabel#categoryLabel { font-weight: 600; }
QLabel#modeLabel { color: #4a4a4a; font-style: italic; }
QLabel#toast { background: #fffbe6; border: 2px solid #c9a227; border-radius: 6px; padding: 8px;
               color: #111; }
QLabel#toast[good="true"] { background: #eef9ee; border-color: #3f8f4f; }
QLabel#toast[good="neutral"] { background: #eef1f5; border-color: #6b7c93; }
QGroupBox { font-weight: 600; margin-top: 14px; }
QGroupBox::title { subcontrol-origin: margin; left: 6px; padding: 0 3px; }
QPushButton { padding: 4px 8px; }
QPushButton#questionRecommended { background: #fff1c1; border: 2px solid #d4a017;
                                  border-radius: 4px; font-weight: 600; }
QPushButton#question { text-align: left; }
QTextBrowser#transcript { background: #fcfcfa; }
QStatusBar QLabel { padding: 0 6px; }
"""


class DeskWindow(QMainWindow):
    """The trainee desk for one shift: it reads the read model (``ctx.room``, fed from the
    shift's events) and talks to the shift only through ``ctx.ports``."""

    closed = Signal()

    def __init__(
        self,
        engine: Any,
        *,
        title: str | None = None,
        speed: int = 1,
        assessment: bool = False,
        autopilot: str | None = None,
        instructor: bool = False,
        install_excepthook: bool = True,
        show_debrief: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        """What the desk was built on (an engine, or ports): for its builder and tests only."""
        self.ctx = DeskContext(engine, assessment=assessment, autopilot=autopilot, parent=self)
        self.ports = self.ctx.ports
        self._instructor = instructor
        scenario = self.ctx.setup.scenario
        self.setObjectName("deskWindow")
        name = title or scenario.name
        self.setWindowTitle(f"ambsim - trainee desk - {name}")
        font = QFont(self.font())
        font.setPointSizeF(BASE_POINT_SIZE)
        self.setFont(font)
        self.setStyleSheet(_STYLE)
        self.errors: list[BaseException] = []
        self.show_debrief = show_debrief
        self.debrief: DebriefDialog | DebriefReportDialog | None = None
        self.session_path: Path | None = None
        """The session file being recorded (set by ``run_desk``): the end-of-shift debrief is
        then its debrief report, the one ``ambsim report`` writes."""
        self._error_box: QMessageBox | None = None
        self._old_hook = None
        self._closed = False
        self.confirm_quit = False
        """Ask before closing while the shift runs: ``run_desk`` turns it on for a trainee;
        off, a desk embedded in a test or a tool closes when told."""
        self._quit_confirmed = False
        self._quit_box: QMessageBox | None = None

        self.metrics = ShiftMetrics(self.ctx.regime, scenario.costs)
        self.feedback = FeedbackProjection(on_record=self._on_feedback)
        self.clock = SimClock(self.ports, self, speed=speed)
        # The read model first, before any panel is built: panels read it from their first draw
        # (the shift so far is folded in here, for a desk opened on a shift under way).
        self.ports.subscribe(self.ctx.room.apply)

        self._build(name)
        self._wire()
        # Subscribe once the panels exist: an engine already under way replays its past events
        # (the cards of calls closed before the desk opened are listed, without a toast each).
        self._listeners = [self.ctx.live.feed, self.metrics.feed, self.feedback.feed]
        self._replaying = True
        for listener in self._listeners:
            self.ports.subscribe(listener)
        self._listeners.insert(0, self.ctx.room.apply)
        self._replaying = False
        if self.ports.finished:  # a desk opened on a shift already over: nothing to withhold
            self.reveal()
        self.shortcuts = install_shortcuts(self, self.actions_by_name())
        if install_excepthook:
            self._old_hook = sys.excepthook
            sys.excepthook = self._excepthook
        self.resize(1600, 1000)
        self._since_kpi = QElapsedTimer()
        self._since_kpi.start()
        self.refresh_all()

    # --- building ------------------------------------------------------------------------

    def _build(self, name: str) -> None:
        ctx = self.ctx
        central = QWidget(self)
        root = QVBoxLayout(central)
        root.setContentsMargins(6, 4, 6, 2)
        root.setSpacing(4)

        bar = QHBoxLayout()
        self.clock_label = QLabel("00:00:00")
        self.clock_label.setObjectName("clockLabel")
        bar.addWidget(self.clock_label)
        self.paused_label = QLabel("PAUSED")
        self.paused_label.setObjectName("pausedLabel")
        bar.addWidget(self.paused_label)
        # Fonts set here, not in the style sheet, so that the fixed widths below are measured
        # in them: a ticking clock must not re-lay out (and repaint) the whole bar.
        for label, points, widest in (
            (self.clock_label, 22, "00:00:00 +0d"),
            (self.paused_label, 12, "SHIFT ENDED"),
        ):
            big = QFont(self.font())
            big.setPointSize(points)
            big.setBold(True)
            label.setFont(big)
            label.setFixedWidth(QFontMetrics(big).horizontalAdvance(widest) + 12)
        self.slower_button = QPushButton("Slower  [-]")
        self.slower_button.setObjectName("slower")
        self.slower_button.clicked.connect(self.clock.slower)
        self.pause_button = QPushButton("Pause  [P]")
        self.pause_button.setObjectName("pause")
        self.pause_button.clicked.connect(self.clock.toggle_pause)
        self.faster_button = QPushButton("Faster  [+]")
        self.faster_button.setObjectName("faster")
        self.faster_button.clicked.connect(self.clock.faster)
        self.speed_label = QLabel("1x")
        self.speed_label.setObjectName("speedLabel")
        speed_font = QFont(self.font())
        speed_font.setPointSize(13)
        speed_font.setBold(True)
        self.speed_label.setFont(speed_font)
        self.speed_label.setFixedWidth(QFontMetrics(speed_font).horizontalAdvance("64x") + 12)
        for w in (self.slower_button, self.pause_button, self.faster_button, self.speed_label):
            bar.addWidget(w)
        bar.addSpacing(16)
        scenario = self.ctx.setup.scenario
        self.shift_label = QLabel(
            f"<b>{name}</b> &nbsp; {self.ctx.regime.label} &nbsp; "
            f"starts {scenario.start}, {self.ports.end_s / 3600:g} h"
        )
        self.shift_label.setObjectName("shiftLabel")
        bar.addWidget(self.shift_label, 1)
        self.help_button = QPushButton("Keys  [F1]")
        self.help_button.setObjectName("helpButton")
        self.help_button.clicked.connect(self.toggle_help)
        bar.addWidget(self.help_button)
        self.debrief_button = QPushButton("Debrief")  # shown when the shift has ended
        self.debrief_button.setObjectName("debriefButton")
        self.debrief_button.clicked.connect(self.open_debrief)
        self.debrief_button.hide()
        bar.addWidget(self.debrief_button)
        root.addLayout(bar)

        self.call_queue = CallQueuePanel(ctx)
        self.call_panel = CallPanel(ctx)
        self.map = MapView(self.ports, self, room=ctx.room)
        self.map.setObjectName("mapView")
        self.boards = BoardsWidget(ctx)
        self.dispatch_panel = DispatchPanel(ctx)
        # assessment mode: the truth and the verdicts wait for the end of the shift
        self.kpis = KpiPanel(ctx, self.metrics, withhold=ctx.assessment)
        self.feedback_list = FeedbackList(withhold=ctx.assessment)

        queue_box = _box("Call queue", self.call_queue)
        call_box = _box("Your line", self.call_panel)
        self.call_box = call_box
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(queue_box)
        left.addWidget(call_box)
        left.setStretchFactor(0, 1)
        left.setStretchFactor(1, 4)
        left.setSizes([200, 740])
        left.setChildrenCollapsible(False)

        dispatch_box = _box("Dispatch", self.dispatch_panel)
        self.dispatch_box = dispatch_box
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.map)
        top.addWidget(dispatch_box)
        top.setStretchFactor(0, 1)
        top.setStretchFactor(1, 0)
        top.setSizes([640, 470])
        top.setChildrenCollapsible(False)

        self.feedback_tabs = QTabWidget()
        self.feedback_tabs.setObjectName("feedbackTabs")
        self.feedback_tabs.addTab(self.kpis, "Live KPIs")
        self.feedback_tabs.addTab(self.feedback_list, "Your calls")
        # the instructor's live injects: not on a trainee's desk unless asked for
        self.instructor: InstructorPanel | None = None
        if self._instructor:
            self.instructor = InstructorPanel(self.ctx)
            self.feedback_tabs.addTab(self.instructor, "Instructor")
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.boards)
        bottom.addWidget(self.feedback_tabs)
        bottom.setStretchFactor(0, 1)
        bottom.setStretchFactor(1, 0)
        bottom.setSizes([700, 410])
        bottom.setChildrenCollapsible(False)

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(top)
        right.addWidget(bottom)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        right.setSizes([560, 380])
        right.setChildrenCollapsible(False)

        columns = QSplitter(Qt.Orientation.Horizontal)
        columns.addWidget(left)
        columns.addWidget(right)
        columns.setStretchFactor(0, 0)
        columns.setStretchFactor(1, 1)
        columns.setSizes([445, 1145])
        columns.setChildrenCollapsible(False)
        self.columns = columns
        if not ctx.handles_calls:
            # a dispatcher takes no calls: the call-handling column's width goes to the map
            # and the boards
            left.hide()
        root.addWidget(columns, 1)
        self.setCentralWidget(central)

        status = QStatusBar(self)
        self.message_label = QLabel("")
        self.message_label.setObjectName("messageLabel")
        self.seat_label = QLabel("")
        self.seat_label.setObjectName("seatLabel")
        self.role_label = QLabel("")
        self.role_label.setObjectName("roleLabel")
        status.addWidget(self.message_label, 1)
        status.addPermanentWidget(self.seat_label)
        status.addPermanentWidget(self.role_label)
        self.setStatusBar(status)
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.timeout.connect(lambda: self.message_label.setText(""))

        self.toast = QLabel(central)
        self.toast.setObjectName("toast")
        self.toast.setWordWrap(True)
        self.toast.hide()
        self._toast_timer = QTimer(self)
        self._toast_timer.setSingleShot(True)
        self._toast_timer.timeout.connect(self.toast.hide)

        self.help = HelpOverlay(central)

        role = role_words(self.ctx.role)
        extra = []
        if self.ctx.autopilot:
            extra.append(f"autopilot {self.ctx.autopilot}")
        if self.ctx.assessment:
            extra.append("assessment mode")
        if self.instructor is not None:
            extra.append("instructor controls")
        self.role_label.setText(
            f"Role: <b>{role}</b>" + (f" ({', '.join(extra)})" if extra else "")
        )
        self.call_panel.setEnabled(self.ctx.handles_calls)
        self.call_queue.setEnabled(True)

    def _wire(self) -> None:
        ctx = self.ctx
        self.clock.ticked.connect(self._on_tick)
        self.clock.slow_tick.connect(self._on_slow_tick)
        self.clock.finished.connect(self._on_finished)
        self.clock.speed_changed.connect(self._update_clock_bar)
        self.clock.paused_changed.connect(self._update_clock_bar)
        ctx.command_done.connect(self._after_command)
        ctx.message.connect(self.show_message)
        ctx.incident_selected.connect(lambda iid: self.map.select_incident(iid or None))
        ctx.vehicle_selected.connect(lambda vid: self.map.select_vehicle(vid or None))
        self.map.vehicle_clicked.connect(ctx.select_vehicle)
        self.map.incident_clicked.connect(ctx.select_incident)
        self.map.call_clicked.connect(self._call_clicked)
        self.map.dispatch_dropped.connect(self.dispatch_panel.dispatch)
        hospital_clicked = getattr(self.map, "hospital_clicked", None)
        if hospital_clicked is not None:  # the map's extra signal: show the hospitals board
            hospital_clicked.connect(self._hospital_clicked)
        self.call_panel.show_on_map.connect(self.map.center_on)
        self.feedback_list.card.connect(self._card_toast)
        # the hub's and the dispatchers' later decisions join the call's card as they come
        self.feedback.on_later = self.feedback_list.add_later
        self.feedback_tabs.currentChanged.connect(self._feedback_tab_changed)

    def actions_by_name(self) -> dict[str, Callable[[], object]]:
        """The desk's keyboard actions by name (see ``shortcuts.SHORTCUTS``)."""
        cp = self.call_panel
        actions: dict[str, Callable[[], object]] = {
            "answer": lambda: self.call_queue.answer(None),
            "accept": cp.accept_recommended,
            "send_to_dispatch": cp.send_to_dispatch,
            "refer_hub": cp.refer_hub,
            "give_advice": cp.give_advice,
            "refer_elsewhere": cp.refer_elsewhere,
            "link": lambda: cp.link(None),
            "show_on_map": cp._show_on_map,
            "next_incident": self.dispatch_panel.select_next_queued,
            "dispatch": self.dispatch_panel.dispatch_selected,
            "divert": self.dispatch_panel.divert_selected,
            "stand_down": self.dispatch_panel.stand_down_selected,
            "fit_map": self.map.fit_all,
            "map_key": self.map.toggle_legend,
            "pause": self.clock.toggle_pause,
            "faster": self.clock.faster,
            "slower": self.clock.slower,
            "help": self.toggle_help,
            "quit": self.request_quit,
            "close_help": lambda: self.help.set_shown(False),
        }
        for i in range(10):
            actions[f"ask_{i}"] = partial(cp.ask_nth, i)
        for i in range(1, 5):
            actions[f"category_C{i}"] = partial(cp.set_category, f"C{i}")
        return actions

    # --- running -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the shift's clock (at the speed given)."""
        self.clock.start()
        self._update_clock_bar()

    def _on_tick(self, now: float) -> None:
        self.map.refresh(now)
        self.clock_label.setText(clock_text(self.ctx.setup.scenario.start, now))
        if "call" in self.ctx.live.dirty:
            self.ctx.live.dirty.discard("call")
            self.call_panel.refresh()

    def _on_slow_tick(self, now: float) -> None:
        if self.ctx.autopilot is not None:
            self._follow_autopilot()
        self.refresh_all(kpis=self._since_kpi.elapsed() >= KPI_REFRESH_MS)

    def _follow_autopilot(self) -> None:
        """Watching the autopilot: keep the newest open incident selected, so the dispatch
        panel shows what the policy is working on."""
        room = self.ctx.room
        selected = room.incidents.get(self.ctx.selected_incident or "")
        if selected is not None and selected.status == "open":
            return
        open_now = room.open_incidents()
        if open_now:
            self.ctx.select_incident(open_now[-1].id)

    def refresh_all(self, kpis: bool = True) -> None:
        """The slow refresh: queue, call panel, dispatch panel, boards (and KPIs)."""
        dirty = self.ctx.live.take_dirty()
        self.boards.mark_dirty(dirty)
        self.call_queue.refresh()
        self.call_panel.refresh()
        self.dispatch_panel.refresh()
        self.boards.refresh()
        if kpis and self.feedback_tabs.currentWidget() is self.kpis:
            self._since_kpi.restart()
            self.kpis.refresh()
        self._update_clock_bar()
        self._update_seat()

    def _feedback_tab_changed(self, _index: int) -> None:
        if self.feedback_tabs.currentWidget() is self.kpis:
            self.kpis.refresh()

    def _after_command(self) -> None:
        self.call_queue.refresh()
        self.call_panel.refresh()
        self.dispatch_panel.refresh()
        self._update_seat()

    def _update_clock_bar(self, *_: object) -> None:
        now = self.ports.now
        self.clock_label.setText(clock_text(self.ctx.setup.scenario.start, now))
        self.speed_label.setText(f"{self.clock.speed}x")
        paused = self.clock.paused or not self.clock.running
        if self.ports.finished:
            self.paused_label.setText("SHIFT ENDED")
        else:
            self.paused_label.setText("PAUSED" if paused else "")
        self.pause_button.setText("Resume  [P]" if paused else "Pause  [P]")

    def _update_seat(self) -> None:
        seat = self.ctx.room.seats.get(TRAINEE)
        if not self.ctx.handles_calls:
            text = "Your seat: dispatch"
        elif seat is not None and seat.call_id:
            text = f"Your seat: on call {seat.call_id}"
        elif seat is not None and seat.wrapping_up:
            text = "Your seat: wrapping up"
        else:
            text = "Your seat: free"
        self.seat_label.setText(text)

    def _call_clicked(self, call_id: str) -> None:
        self.call_queue.table.select_key(call_id)

    def _hospital_clicked(self, name: str) -> None:
        self.boards.setCurrentWidget(self.boards.hospitals)
        self.boards.hospitals.table.select_key(name)

    def _on_feedback(self, record: CallFeedback) -> None:
        self.feedback_list.add(record, toast=not self._replaying)

    def _card_toast(self, text: str, good: bool) -> None:
        """A new card's toast; in one neutral colour while the verdicts are withheld."""
        self.show_toast(text, None if self.feedback_list.withheld else good)

    def reveal(self) -> None:
        """The end of the shift: every card and figure the assessment mode withheld, shown."""
        withheld = self.feedback_list.withheld
        self.feedback_list.reveal()
        self.kpis.reveal()
        if withheld:
            self.toast.hide()  # a toast of a withheld card says less than the card now does

    def _on_finished(self) -> None:
        self.reveal()
        self.refresh_all()
        self.show_message("The shift has ended: the debrief is open.", "info")
        if self.show_debrief:
            self.open_debrief()

    def open_debrief(self) -> DebriefDialog | DebriefReportDialog:
        """Open (or reopen) the end-of-shift debrief, non-modal: the session's debrief report
        when it is recorded, else the figures and cards as text."""
        report = self.metrics.snapshot(self.ports.now)
        setup = self.ctx.setup
        title = f"Debrief: {setup.scenario.name}, seed {setup.seed}"
        self.debrief_button.show()
        if self.session_path is not None:
            if not isinstance(self.debrief, DebriefReportDialog):
                self.debrief = DebriefReportDialog(title, self.session_path, self)
                self.debrief.load_soon()
            self.debrief.show()
            self.debrief.raise_()
            return self.debrief
        text = debrief_text(report, self.feedback, title)
        if not isinstance(self.debrief, DebriefDialog):
            self.debrief = DebriefDialog(title, text, self)
        else:
            self.debrief.text.setPlainText(text)
        self.debrief.show()
        self.debrief.raise_()
        return self.debrief

    # --- messages ------------------------------------------------------------------------

    def show_message(self, text: str, level: str = "info") -> None:
        colour = {"error": "#b01c1c", "warning": "#8a5a00"}.get(level, "#1d3b5a")
        self.message_label.setStyleSheet(f"color: {colour}; font-weight: 600;")
        self.message_label.setText(text)
        self.message_label.setToolTip(text)
        self._message_timer.start(MESSAGE_MS)

    def show_toast(self, text: str, good: bool | None = True) -> None:
        """A toast over the map: green when ``good``, amber when not, grey when ``None`` (no
        verdict: assessment mode)."""
        self.toast.setProperty("good", "neutral" if good is None else "true" if good else "false")
        self.toast.style().unpolish(self.toast)
        self.toast.style().polish(self.toast)
        self.toast.setText(text)
        self._place_toast()
        self.toast.show()
        self.toast.raise_()
        self._toast_timer.start(TOAST_MS)

    def _place_toast(self) -> None:
        geo = self.map.geometry()
        top_left = self.map.mapTo(self.centralWidget() or self, QPoint(0, 0))
        width = max(320, min(560, geo.width() - 24))
        self.toast.setFixedWidth(width)
        self.toast.adjustSize()
        self.toast.move(top_left.x() + 12, top_left.y() + 12)

    def toggle_help(self) -> None:
        self.help.toggle()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        if self.toast.isVisible():
            self._place_toast()

    # --- errors and closing --------------------------------------------------------------

    def _excepthook(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        """An unexpected exception in a slot: record it, show it, carry on."""
        self.errors.append(exc)
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        print(text, file=sys.stderr)
        try:
            if self._error_box is None:
                box = QMessageBox(self)
                box.setIcon(QMessageBox.Icon.Warning)
                box.setWindowTitle("Unexpected error")
                box.setStandardButtons(QMessageBox.StandardButton.Ok)
                box.setWindowModality(Qt.WindowModality.NonModal)
                self._error_box = box
            self._error_box.setText(
                f"Something went wrong in the desk ({type(exc).__name__}: {exc}).\n"
                "The shift carries on; please report this with the details."
            )
            self._error_box.setDetailedText(text)
            self._error_box.show()
            self.show_message(f"Unexpected error: {type(exc).__name__}: {exc}", "error")
        except Exception:  # noqa: BLE001 - the hook itself must never raise
            pass

    def shutdown(self) -> None:
        """Stop the clock, leave the shift's event stream, give back the excepthook."""
        if self._closed:
            return
        self._closed = True
        self.clock.stop()
        for listener in self._listeners:
            self.ports.unsubscribe(listener)
        self._listeners = []
        self.map.detach()
        self.ctx.live.on_rejection = None
        self.feedback.on_record = None
        if self._old_hook is not None and sys.excepthook == self._excepthook:
            sys.excepthook = self._old_hook
        self._old_hook = None
        if self.debrief is not None:
            self.debrief.close()
        if self._error_box is not None:
            self._error_box.close()

    def shift_running(self) -> bool:
        """The shift has started and not yet ended: closing now ends it early."""
        return not self.ports.finished and not self._closed

    def request_quit(self) -> bool:
        """Ctrl+Q: close the desk, after a confirmation while the shift runs; True if closed."""
        if not self._confirm_quit():
            return False
        self._quit_confirmed = True
        return bool(self.close())

    def quit_now(self) -> None:
        """Close without asking (a signal from the terminal, the end of ``--quit-after``)."""
        self._quit_confirmed = True
        box = self._quit_box
        if box is not None:  # a "Quit the desk?" still open: answered now
            box.done(0)
        self.close()

    def ask_quit(self) -> bool:
        """Ask whether to end the running shift now; True for yes (a modal box; a signal from
        the terminal answers it, see ``quit_now``)."""
        yes, no = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Quit the desk?",
            "The shift is still running. Quit now and end this session?\n"
            "Everything done so far is saved in the session file.",
            yes | no,
            self,
        )
        box.setDefaultButton(no)
        self._quit_box = box
        try:
            box.exec()
        finally:
            self._quit_box = None
        clicked = box.clickedButton()
        box.deleteLater()
        return clicked is not None and box.standardButton(clicked) == yes

    def _confirm_quit(self) -> bool:
        if self._quit_confirmed or not self.confirm_quit or not self.shift_running():
            return True
        paused = self.clock.paused
        self.clock.set_paused(True)  # the shift must not run on while the trainee decides
        answer = self.ask_quit()
        if self._quit_confirmed:  # a signal from the terminal answered the box: quit now
            return True  # (Qt ignores the signal's own close() while this one is under way)
        if not answer:
            self.clock.set_paused(paused)
            return False
        return True

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        if not self._confirm_quit():
            event.ignore()
            return
        self._quit_confirmed = True
        self.shutdown()
        super().closeEvent(event)
        self.closed.emit()


def _box(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(6, 6, 6, 6)
    layout.addWidget(widget)
    return box
