"""The instructor's replay window: a recorded shift played back, read-only, with the truth.

``open_replay(path)`` opens a session (writable when it can, for annotations) and returns a
``ReplayWindow``; ``run_replay(path)`` is the command-line entry (creates the QApplication,
shows the window, runs the event loop; ``screenshot=`` saves the window and exits).

Everything shown is driven by the recording: ``SnapshotIndex`` gives the room at any moment
(``replay_cursor.advance`` while playing, ``seek`` on a jump), ``build_markers`` the debrief
markers of the timeline, ``RouteCache`` the vehicles' positions. The truth overlay (key T)
adds what the room could not know: each call's and incident's true category, need and ideal
decision, the markers known only with the truth, and a red mark where the trainee's decision
differed from the ideal one.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, cast

from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer
from PySide6.QtGui import QBrush, QCloseEvent, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ambsim_gui.labels import done_words, ideal_words, outcome_words, vehicle_status_words, words
from ambsim_gui.record.debrief_markers import build_markers
from ambsim_gui.record.reader import SessionFile
from ambsim_gui.record.replay import rebuild
from ambsim_gui.record.replay_state import CATEGORY_RANK, TRAINEE
from ambsim_gui.record.schema import SessionError
from ambsim_gui.record.snapshots import SnapshotIndex
from ambsim_gui.record.vehicle_positions import RouteCache
from ambsim_gui.sim import events as ev
from ambsim_gui.ui import map_style as st
from ambsim_gui.ui.formatting import (
    CATEGORY_CSS,
    RAG_BACKGROUNDS,
    clock_rag,
    clock_text,
    mmss,
)
from ambsim_gui.ui.replay_map import ReplayMap
from ambsim_gui.ui.replay_timeline import TimelineWidget

SPEEDS = (1, 2, 4, 8, 16, 32, 64)
TICK_MS = 100
IDEAL_DISPOSITIONS = {
    "dispatch": {"dispatch"},
    "validate": {"hub"},
    "advise": {"advice", "referred"},
}
MISMATCH_BG = QColor("#f6b3b3")

INCIDENT_COLUMNS = (
    "Incident",
    "Seat",
    "Cat",
    "Truth",
    "Clock",
    "State",
    "Vehicles",
    "Complaint",
    "Area",
)
CALL_COLUMNS = ("Call", "Seat", "Rang", "Cat", "Truth", "Decision", "Status")


def seat_words(seat: str | None) -> str:
    """Who took a call or sent a vehicle: "you" for the trainee's seat, else the seat's id."""
    if not seat:
        return "-"
    return "you" if seat == TRAINEE else seat
VEHICLE_COLUMNS = ("Callsign", "Type", "Status", "Incident", "Since")


def _item(text: Any, *, fg: QColor | None = None, bg: QColor | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem("" if text is None else str(text))
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if fg is not None:
        item.setForeground(QBrush(fg))
    if bg is not None:
        item.setBackground(QBrush(bg))
    return item


def _table(columns: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.verticalHeader().setVisible(False)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


class ReplayWindow(QMainWindow):
    """A recorded shift played back (see the module docstring)."""

    def __init__(self, session: SessionFile, session_path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.session = session
        self.branches: list[Any] = []  # desk windows started from this replay
        self.session_path = Path(session_path)
        self.rebuilt = rebuild(session)
        self.events = session.events()
        self.index = SnapshotIndex.from_session(session, self.rebuilt)
        self.replay_cursor = self.index.cursor(0.0)
        self.regime = self.rebuilt.regime
        self.markers = build_markers(self.events, self.regime)
        # who sent each vehicle, in time order: an incident's seats at a moment are its call's
        # handler and the seats that dispatched to it so far
        self._dispatch_seats = [
            (e.t, e.incident_id, e.seat) for e in self.events if isinstance(e, ev.VehicleAssigned)
        ]
        self.trainee_only = False
        self.routes = RouteCache(self.rebuilt.world)
        self.end_t = max(self.index.end_t, 1.0)
        self.feedback: dict[str, dict[str, Any]] = {}
        try:
            for record in session.feedback():
                self.feedback[record["call_id"]] = record
        except Exception:  # noqa: BLE001 - the overlay does without the findings
            self.feedback = {}
        self.truth_on = False
        self.playing = False
        self.speed = 8
        self.selected_call: str | None = None
        self._last_tick = 0.0
        start = self.index.state_at(0.0).state.start_clock or self._first_start_clock()
        self.start_clock = start or "00:00"

        info = session.info
        self.setWindowTitle(
            f"ambsim replay - {info.scenario_name or info.scenario_stem} ({self.session_path.name})"
        )
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self.reload_annotations()
        self.seek(0.0)

    def _first_start_clock(self) -> str:
        for e in self.events[:5]:
            clock = getattr(e, "start_clock", None)
            if clock:
                return str(clock)
        return "00:00"

    # --- layout ------------------------------------------------------------------------------

    def _build(self) -> None:
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(4, 4, 4, 4)

        # the controls
        bar = QHBoxLayout()
        self.play_button = QPushButton("Play")
        self.play_button.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.play_button.clicked.connect(self.toggle_play)
        self.speed_box = QComboBox()
        for s in SPEEDS:
            self.speed_box.addItem(f"{s}x", s)
        self.speed_box.setCurrentIndex(SPEEDS.index(self.speed))
        self.speed_box.currentIndexChanged.connect(lambda i: self.set_speed(SPEEDS[i]))
        self.prev_button = QPushButton("< Previous decision")
        self.prev_button.clicked.connect(self.previous_decision)
        self.next_button = QPushButton("Next decision >")
        self.next_button.setShortcut(QKeySequence(Qt.Key.Key_N))
        self.next_button.clicked.connect(self.next_decision)
        self.clock_label = QLabel()
        font = self.clock_label.font()
        font.setPointSize(font.pointSize() + 4)
        font.setBold(True)
        self.clock_label.setFont(font)
        self.truth_box = QCheckBox("Truth overlay (T)")
        self.truth_box.toggled.connect(self.set_truth_overlay)
        self.trainee_box = QCheckBox("Trainee only")
        self.trainee_box.setToolTip(
            "Show only the calls the trainee took and the incidents they opened or sent to"
        )
        self.trainee_box.toggled.connect(self.set_trainee_only)
        self.export_button = QPushButton("Export debrief...")
        self.export_button.clicked.connect(self._export_dialog)
        self.branch_button = QPushButton("Branch from here")
        self.branch_button.setToolTip("Start a new desk session from this moment")
        self.branch_button.clicked.connect(lambda: self.branch_from_here())
        bar.addWidget(self.play_button)
        bar.addWidget(QLabel("Speed"))
        bar.addWidget(self.speed_box)
        bar.addWidget(self.prev_button)
        bar.addWidget(self.next_button)
        bar.addSpacing(16)
        bar.addWidget(self.clock_label)
        bar.addStretch(1)
        bar.addWidget(self.trainee_box)
        bar.addWidget(self.truth_box)
        bar.addWidget(self.branch_button)
        bar.addWidget(self.export_button)
        outer.addLayout(bar)

        # the map | the boards
        split = QSplitter(Qt.Orientation.Horizontal)
        self.map = ReplayMap(self.rebuilt.world, self.routes)
        split.addWidget(self.map)

        right = QSplitter(Qt.Orientation.Vertical)
        self.kpi_label = QLabel()
        self.kpi_label.setTextFormat(Qt.TextFormat.RichText)
        self.kpi_label.setWordWrap(True)
        self.kpi_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        kpi_box = QGroupBox("Shift figures")
        kl = QVBoxLayout(kpi_box)
        kl.setContentsMargins(6, 4, 6, 4)
        kl.addWidget(self.kpi_label)
        right.addWidget(kpi_box)

        self.tabs = QTabWidget()
        self.incident_table = _table(INCIDENT_COLUMNS)
        self.incident_table.itemSelectionChanged.connect(self._incident_selected)
        self.vehicle_table = _table(VEHICLE_COLUMNS)
        self.call_table = _table(CALL_COLUMNS)
        self.call_table.itemSelectionChanged.connect(self._call_selected)
        self.tabs.addTab(self.incident_table, "Open incidents")
        self.tabs.addTab(self.vehicle_table, "Vehicles")
        self.tabs.addTab(self.call_table, "Calls")
        right.addWidget(self.tabs)

        lower = QTabWidget()
        self.transcript = QPlainTextEdit()
        self.transcript.setReadOnly(True)
        lower.addTab(self.transcript, "Transcript")
        notes = QWidget()
        nl = QVBoxLayout(notes)
        nl.setContentsMargins(2, 2, 2, 2)
        self.annotation_list = QListWidget()
        self.annotation_list.itemActivated.connect(self._annotation_activated)
        self.annotation_list.itemDoubleClicked.connect(self._annotation_activated)
        row = QHBoxLayout()
        self.annotation_edit = QLineEdit()
        self.annotation_edit.setPlaceholderText("Comment on this moment (and the selected call)")
        self.annotation_edit.returnPressed.connect(self._pin_clicked)
        self.pin_button = QPushButton("Pin")
        self.pin_button.clicked.connect(self._pin_clicked)
        row.addWidget(self.annotation_edit, 1)
        row.addWidget(self.pin_button)
        nl.addWidget(self.annotation_list, 1)
        nl.addLayout(row)
        if not self.session.writable:
            self.annotation_edit.setEnabled(False)
            self.pin_button.setEnabled(False)
            self.annotation_edit.setPlaceholderText(
                "Opened read-only (write-protected, or an older schema: upgrade it first): "
                "annotations cannot be saved"
            )
        lower.addTab(notes, "Annotations")
        self.lower_tabs = lower
        right.addWidget(lower)
        right.setSizes([150, 330, 220])
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([620, 740])
        outer.addWidget(split, 1)

        self.timeline = TimelineWidget(self.markers, self.end_t, self.start_clock)
        self.timeline.seek_requested.connect(self.seek)
        outer.addWidget(self.timeline)
        self.setCentralWidget(central)

        self._truth_shortcut = QShortcut(QKeySequence(Qt.Key.Key_T), self)
        self._truth_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self._truth_shortcut.activated.connect(self.truth_box.toggle)
        self.resize(1360, 860)
        self._apply_truth_columns()

    # --- time ------------------------------------------------------------------------------------

    @property
    def t(self) -> float:
        return self.replay_cursor.t

    def seek(self, t: float) -> None:
        """Show the room at ``t`` (forward: apply the events; back: restore a snapshot)."""
        t = min(max(float(t), 0.0), self.end_t)
        if t >= self.replay_cursor.t:
            self.replay_cursor.advance(t)
        else:
            self.replay_cursor.seek(t)
        self.refresh()

    def set_speed(self, speed: int) -> None:
        self.speed = int(speed)
        if self.speed_box.currentData() != self.speed and self.speed in SPEEDS:
            self.speed_box.setCurrentIndex(SPEEDS.index(self.speed))

    def toggle_play(self) -> None:
        self.set_playing(not self.playing)

    def set_playing(self, on: bool) -> None:
        self.playing = on and self.t < self.end_t
        self.play_button.setText("Pause" if self.playing else "Play")
        if self.playing:
            self._last_tick = time.monotonic()
            self._timer.start()
        else:
            self._timer.stop()

    def _tick(self) -> None:
        now = time.monotonic()
        dt = min(now - self._last_tick, 1.0)
        self._last_tick = now
        self.seek(self.t + dt * self.speed)
        if self.t >= self.end_t:
            self.set_playing(False)

    def decision_times(self) -> list[float]:
        return [m.t for m in self.markers if m.kind == "decision"]

    def next_decision(self) -> float | None:
        """Jump to the next call decision after now; returns its time (None: there is none)."""
        for t in self.decision_times():
            if t > self.t + 1e-6:
                self.seek(t)
                return t
        return None

    def previous_decision(self) -> float | None:
        for t in reversed(self.decision_times()):
            if t < self.t - 1e-6:
                self.seek(t)
                return t
        return None

    # --- truth -----------------------------------------------------------------------------------

    def set_truth_overlay(self, on: bool) -> None:
        on = bool(on)
        if self.truth_box.isChecked() != on:
            self.truth_box.setChecked(on)  # re-enters through toggled
            return
        self.truth_on = on
        self.timeline.set_show_hidden(on)
        self._apply_truth_columns()
        self.refresh()

    def set_trainee_only(self, on: bool) -> None:
        """Show only the trainee's calls, and the incidents of their calls or dispatches."""
        self.trainee_only = on
        if self.trainee_box.isChecked() != on:
            self.trainee_box.setChecked(on)
        self.timeline.set_only_seat(TRAINEE if on else None)
        self.refresh()

    def incident_seats(self, inc: Any) -> list[str]:
        """The seats that worked an incident by now: its calls' handlers, then its dispatchers."""
        state = self.replay_cursor.state
        seats: list[str] = []
        for cid in inc.call_ids:
            call = state.calls.get(cid)
            if call is not None and call.seat and call.seat not in seats:
                seats.append(call.seat)
        t = self.t
        for when, incident_id, seat in self._dispatch_seats:
            if when > t:
                break
            if incident_id == inc.id and seat not in seats:
                seats.append(seat)
        return seats

    def _apply_truth_columns(self) -> None:
        self.incident_table.setColumnHidden(INCIDENT_COLUMNS.index("Truth"), not self.truth_on)
        self.call_table.setColumnHidden(CALL_COLUMNS.index("Truth"), not self.truth_on)

    def _patient_of_call(self, call_id: str) -> Any:
        truth = self.replay_cursor.state.truth
        pid = truth.call_patient.get(call_id)
        return truth.patients.get(pid) if pid is not None else None

    def _patient_of_incident(self, incident_id: str) -> Any:
        truth = self.replay_cursor.state.truth
        pid = truth.incident_patient.get(incident_id)
        return truth.patients.get(pid) if pid is not None else None

    @staticmethod
    def _truth_text(patient: Any) -> str:
        if patient is None:
            return "-"
        ideal = ideal_words(patient.ideal)
        need = outcome_words(str(patient.need))
        return f"true {patient.true_category}, {need}; ideal: {ideal}"

    def call_differs(self, call_id: str) -> bool:
        """Whether the decision on a closed call differed from the ideal one (truth overlay)."""
        state = self.replay_cursor.state
        call = state.calls.get(call_id)
        if call is None or call.status != "closed":
            return False
        record = self.feedback.get(call_id)
        if record is not None and record.get("closed_t", 0.0) <= self.t + 1e-6:
            return not record.get("good", True)
        patient = self._patient_of_call(call_id)
        if patient is None or call.disposition in (None, "linked", "abandoned"):
            return False
        return call.disposition not in IDEAL_DISPOSITIONS.get(patient.ideal, {patient.ideal})

    # --- views -----------------------------------------------------------------------------------

    def refresh(self) -> None:
        state = self.replay_cursor.state
        t = self.t
        self.clock_label.setText(
            f"{clock_text(self.start_clock, t)}   ({mmss(t)} / {mmss(self.end_t)})"
        )
        self.timeline.set_time(t)
        self.map.show_state(state, t)
        self._fill_incidents()
        self._fill_vehicles()
        self._fill_calls()
        self._fill_kpis()
        self._fill_transcript()

    def _fill_incidents(self) -> None:
        state = self.replay_cursor.state
        table = self.incident_table
        keep = self._selected_id(table)
        rows = sorted(state.open_incidents(), key=lambda i: (i.rank, i.t_open, i.id))
        seats_of = {inc.id: self.incident_seats(inc) for inc in rows}
        if self.trainee_only:
            rows = [inc for inc in rows if TRAINEE in seats_of[inc.id]]
        table.setUpdatesEnabled(False)
        table.setRowCount(len(rows))
        for r, inc in enumerate(rows):
            clock = state.response_clock(inc.id, self.regime)
            elapsed, stopped = clock if clock is not None else (0.0, False)
            rag = "none"
            if inc.category in CATEGORY_RANK:
                rag = clock_rag(elapsed, self.regime.standard_for(inc.category))
            vehicles = ", ".join(v.callsign for v in state.vehicles_on(inc.id)) or "-"
            if inc.hub:
                where = f"hub ({inc.hub})"
            elif inc.queued:
                where = "waiting for a vehicle"
            elif state.vehicles_on(inc.id):
                where = "responding"
            else:
                where = "open"
            patient = self._patient_of_incident(inc.id)
            differs = patient is not None and patient.true_category != inc.category
            cat_bg = MISMATCH_BG if (self.truth_on and differs) else None
            if self.truth_on and not differs:  # or the decision on its call was not the ideal
                differs = any(self.call_differs(cid) for cid in inc.call_ids)
            cells = [
                _item(inc.id),
                _item(", ".join(seat_words(x) for x in seats_of[inc.id]) or "-"),
                _item(
                    inc.category, fg=QColor(CATEGORY_CSS.get(inc.category, "#333333")), bg=cat_bg
                ),
                _item(
                    self._truth_text(patient) if self.truth_on else "",
                    bg=MISMATCH_BG if (self.truth_on and differs) else None,
                ),
                _item(
                    mmss(elapsed) + (" (stopped)" if stopped else ""), bg=RAG_BACKGROUNDS.get(rag)
                ),
                _item(where),
                _item(vehicles),
                _item(self.rebuilt.world.protocol.describe(inc.complaint, inc.code)),
                _item(inc.area),
            ]
            for c, cell in enumerate(cells):
                if c == 0:
                    cell.setData(Qt.ItemDataRole.UserRole, inc.id)
                table.setItem(r, c, cell)
        self._reselect(table, keep)
        table.setUpdatesEnabled(True)
        self.tabs.setTabText(0, f"Open incidents ({len(rows)})")

    def _fill_vehicles(self) -> None:
        state = self.replay_cursor.state
        table = self.vehicle_table
        order = list(st.STATUS_COLOUR)
        rows = sorted(
            state.vehicles.values(),
            key=lambda v: (order.index(v.status) if v.status in order else 99, v.callsign),
        )
        table.setUpdatesEnabled(False)
        table.setRowCount(len(rows))
        for r, v in enumerate(rows):
            colour = st.status_colour(v.status)
            light = QColor(colour)
            light.setAlpha(70)
            cells = [
                _item(v.callsign),
                _item(v.type),
                _item(vehicle_status_words(v.status), bg=light),
                _item(v.incident_id or "-"),
                _item(clock_text(self.start_clock, v.since)[:8]),
            ]
            for c, cell in enumerate(cells):
                table.setItem(r, c, cell)
        table.setUpdatesEnabled(True)
        counts = state.status_counts()
        free = counts.get("available", 0)
        self.tabs.setTabText(1, f"Vehicles ({free} available)")

    def _fill_calls(self) -> None:
        state = self.replay_cursor.state
        table = self.call_table
        rows = sorted(state.calls.values(), key=lambda c: (-c.t_arrive, c.id))
        if self.trainee_only:
            rows = [c for c in rows if c.seat == TRAINEE]
        table.blockSignals(True)
        table.setUpdatesEnabled(False)
        table.setRowCount(len(rows))
        for r, call in enumerate(rows):
            decision = (
                done_words(call.disposition)
                if call.disposition
                else ("on the line" if call.status == "answered" else words(call.status))
            )
            if call.incident_id:
                decision += f" -> {call.incident_id}"
            patient = self._patient_of_call(call.id)
            differs = self.truth_on and self.call_differs(call.id)
            truth = ""
            if self.truth_on:
                truth = self._truth_text(patient)
                if differs:
                    truth = "DIFFERS: " + truth
            cells = [
                _item(call.id),
                _item(seat_words(call.seat)),
                _item(clock_text(self.start_clock, call.t_arrive)[:8]),
                _item(
                    call.category or "-",
                    fg=QColor(CATEGORY_CSS.get(call.category or "", "#333333")),
                ),
                _item(truth, bg=MISMATCH_BG if differs else None),
                _item(decision, bg=MISMATCH_BG if differs else None),
                _item(call.status),
            ]
            cells[0].setData(Qt.ItemDataRole.UserRole, call.id)
            for c, cell in enumerate(cells):
                table.setItem(r, c, cell)
        self._reselect(table, self.selected_call)
        table.setUpdatesEnabled(True)
        table.blockSignals(False)
        self.tabs.setTabText(2, f"Calls ({len(rows)})")

    def _fill_kpis(self) -> None:
        report = self.replay_cursor.report()
        state = self.replay_cursor.state
        parts = [
            f"<b>Calls</b> {report.calls} (answered {report.calls_answered}, abandoned "
            f"{report.calls_abandoned}); answer mean {mmss(report.answer_time_mean_s)}",
            f"<b>Incidents</b> {report.room_incidents}, open {len(state.open_incidents())}, "
            f"waiting for a vehicle {len(state.dispatch_queue())}; <b>dispatches</b> "
            f"{report.dispatches}",
        ]
        cats = []
        for name, block in report.categories.items():
            colour = CATEGORY_CSS.get(name, "#333")
            cats.append(
                f"<span style='color:{colour}'><b>{name}</b></span> n={block.count} mean "
                f"{mmss(block.mean_response_s)} 90th {mmss(block.p90_response_s)}"
            )
        parts.append(" &nbsp; ".join(cats))
        fleet = report.utilisation.fleet
        util = "-" if fleet is None else f"{fleet:.0%}"
        parts.append(
            f"<b>Utilisation</b> {util}; <b>unnecessary dispatches</b> {self._unnecessary(report)}"
        )
        if self.truth_on:
            parts.append(
                f"<span style='color:#b01c1c'><b>Truth:</b> harm events {report.harm_events}, "
                f"unsafe advice {report.unsafe_advice}</span>"
            )
        self.kpi_label.setText("<br>".join(parts))

    @staticmethod
    def _unnecessary(report: Any) -> str:
        block = report.unnecessary_dispatches
        for name in ("total", "count"):
            value = getattr(block, name, None)
            if isinstance(value, int):
                return str(value)
        values = [v for v in vars(block).values() if isinstance(v, int)]
        return str(sum(values)) if values else "-"

    def _fill_transcript(self) -> None:
        call_id = self.selected_call
        if call_id is None:
            self.transcript.setPlainText(
                "Select a call (Calls tab) or an incident to read its transcript."
            )
            return
        lines = self.index.transcript(call_id, self.t)
        text = [f"Call {call_id}"]
        for line in lines:
            text.append(f"{clock_text(self.start_clock, line.t)[:8]}  {line.who:>8}: {line.text}")
        if self.truth_on:
            patient = self._patient_of_call(call_id)
            text.append("")
            text.append(f"TRUTH: {self._truth_text(patient)}")
            record = self.feedback.get(call_id)
            if record is not None and record.get("closed_t", 0.0) <= self.t + 1e-6:
                verdict = "; ".join(record.get("verdict") or ())
                mark = "matched the ideal" if record.get("good") else "DIFFERED from the ideal"
                text.append(f"Decision {mark}: {verdict}")
        self.transcript.setPlainText("\n".join(text))

    # --- selection -------------------------------------------------------------------------------

    @staticmethod
    def _selected_id(table: QTableWidget) -> str | None:
        rows = table.selectionModel().selectedRows()
        if not rows:
            return None
        item = table.item(rows[0].row(), 0)
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    @staticmethod
    def _reselect(table: QTableWidget, ident: str | None) -> None:
        if ident is None:
            return
        for r in range(table.rowCount()):
            item = table.item(r, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == ident:
                table.selectRow(r)
                return
        table.clearSelection()

    def _call_selected(self) -> None:
        ident = self._selected_id(self.call_table)
        if ident is not None:
            self.select_call(ident)

    def _incident_selected(self) -> None:
        ident = self._selected_id(self.incident_table)
        if ident is None:
            return
        inc = self.replay_cursor.state.incidents.get(ident)
        if inc is not None and inc.call_ids:
            self.select_call(inc.call_ids[0])

    def select_call(self, call_id: str | None) -> None:
        self.selected_call = call_id
        self._fill_transcript()

    # --- annotations -----------------------------------------------------------------------------

    def reload_annotations(self) -> None:
        self.annotation_list.clear()
        notes = self.session.annotations()
        for note in notes:
            where = f" [{note.call_id}]" if note.call_id else ""
            item = QListWidgetItem(
                f"{clock_text(self.start_clock, note.t)[:8]}{where} {note.author}: {note.text}"
            )
            item.setData(Qt.ItemDataRole.UserRole, note.t)
            item.setToolTip(note.text)
            self.annotation_list.addItem(item)
        self.timeline.set_annotation_times([n.t for n in notes])

    def add_annotation(self, text: str, call_id: str | None = ...) -> Any:  # type: ignore[assignment]
        """Pin ``text`` to the current moment (and to the selected call unless ``call_id`` is
        given); saved in the session file at once."""
        text = text.strip()
        if not text:
            return None
        if call_id is ...:
            call_id = self.selected_call
        note = self.session.add_annotation(self.t, text, call_id)
        self.reload_annotations()
        return note

    def _pin_clicked(self) -> None:
        try:
            if self.add_annotation(self.annotation_edit.text()) is not None:
                self.annotation_edit.clear()
        except SessionError as exc:
            QMessageBox.warning(self, "Annotation not saved", str(exc))

    def _annotation_activated(self, item: QListWidgetItem) -> None:
        t = item.data(Qt.ItemDataRole.UserRole)
        if t is not None:
            self.seek(float(t))

    # --- export ----------------------------------------------------------------------------------

    def export_report(self, path: str | os.PathLike[str], *, expert: bool = True) -> Path:
        """Write the debrief report (HTML or PDF by suffix) of this session to ``path``."""
        from ambsim_gui.report import write_report

        return write_report(self.session_path, path, expert=expert)

    def _export_dialog(self) -> None:
        default = str(self.session_path.with_suffix(".html"))
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the debrief", default, "HTML (*.html);;PDF (*.pdf)"
        )
        if not path:
            return
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            written = self.export_report(path)
        except Exception as exc:  # noqa: BLE001 - told to the instructor
            QApplication.restoreOverrideCursor()
            QMessageBox.warning(self, "Export failed", str(exc))
            return
        QApplication.restoreOverrideCursor()
        self.statusBar().showMessage(f"Debrief written to {written}", 8000)

    # --- branching ------------------------------------------------------------------------

    def branch_from_here(self, record: Path | None = None, *, show: bool = True) -> Any:
        """Start a new desk session from this moment: the same shift, re-simulated from the
        recording's commands up to now (so the state is exactly the recorded one), then the
        trainee's own decisions from here on.

        The branch is recorded to ``record`` (or beside the sessions folder) from its first
        event, prefix included, so it verifies like any session; when the scenario file on
        disk is no longer the one recorded, the branch still runs but is not recorded.
        """
        from ambsim_gui.paths import SESSIONS
        from ambsim_gui.record.replay import new_engine
        from ambsim_gui.record.session import SessionRecorder
        from ambsim_gui.scenario.loader import load_scenario
        from ambsim_gui.ui.desk import DeskWindow

        t = self.t
        info = self.session.info
        engine = new_engine(self.session, self.rebuilt, autopilot=None)
        recorder = None
        original = Path(info.scenario_path) if info.scenario_path else None
        if original is not None and original.is_file():
            loaded = load_scenario(original)
            if loaded.sha256 == info.scenario_sha256:
                if record is None:
                    stem = f"{original.stem}-branch-{int(t)}s-{time.strftime('%Y%m%d-%H%M%S')}"
                    record = SESSIONS / f"{stem}.ambsession"
                record.parent.mkdir(parents=True, exist_ok=True)
                recorder = SessionRecorder.start(record, loaded, engine)
        for timed in self.session.commands():
            if timed.t > t:
                break
            engine.run_until(timed.t)
            engine.submit(timed.command)
        engine.run_until(t)
        desk = DeskWindow(
            engine, title=f"{self.rebuilt.scenario.name} (branch at {t / 60:.0f} min)"
        )
        # only a branch desk carries its recorder (DeskWindow declares no such attribute)
        cast(Any, desk).branch_recorder = recorder
        if recorder is not None:
            desk.clock.ticked.connect(lambda _now: recorder.tick())
            desk.destroyed.connect(lambda *_: recorder.close())
        if show:
            desk.resize(1600, 1000)
            desk.show()
            desk.start()
        self.branches.append(desk)
        return desk

    # --- closing ---------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self._timer.stop()
        self.session.close()
        super().closeEvent(event)


class _CloseWatcher(QObject):
    """Calls ``action`` when ``window`` closes (ends a local event loop)."""

    def __init__(self, window: QWidget, action: Any) -> None:
        super().__init__(window)
        self._action = action
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Close:
            self._action()
        return False


def open_replay(session_path: str | os.PathLike[str]) -> ReplayWindow:
    """A replay window of a session file (opened writable for annotations when possible).

    A QApplication must exist. Raises ``SessionError`` for a file that is not a usable session.
    """
    path = Path(session_path)
    try:
        session = SessionFile.open(path, writable=os.access(path, os.W_OK))
    except SessionError:
        # an older schema (or a file that cannot be written): replay it read-only, without
        # annotations; a file that is no usable session raises again here
        session = SessionFile.open(path)
    try:
        return ReplayWindow(session, path)
    except BaseException:
        session.close()
        raise


def run_replay(
    session_path: str | os.PathLike[str],
    *,
    screenshot: str | os.PathLike[str] | None = None,
    quit_after_s: float | None = None,
    at_s: float | None = None,
    truth: bool = False,
) -> int:
    """Run the replay window (the CLI's entry). Returns the process exit code.

    ``screenshot``: save ``window.grab()`` to that PNG once shown, then exit 0 (works
    offscreen). ``quit_after_s``: close after that many wall-clock seconds. ``at_s``: start at
    that second of the shift; ``truth``: start with the truth overlay on.
    """
    own_app = QApplication.instance() is None
    app = QApplication.instance() or QApplication([])
    try:
        window = open_replay(session_path)
    except SessionError as exc:
        print(f"ambsim: {exc}")
        return 2
    if at_s is not None:
        window.seek(at_s)
    if truth:
        window.set_truth_overlay(True)
    window.show()
    timers: list[QTimer] = []

    def later(seconds: float, action: Any) -> None:
        timer = QTimer(window)
        timer.setSingleShot(True)
        timer.setInterval(int(seconds * 1000))
        timer.timeout.connect(action)
        timer.start()
        timers.append(timer)

    # a local loop, not app.exec(): run inside a program (or a test) that owns the
    # QApplication, quitting the application would disturb what runs after
    loop = QEventLoop()

    def stop() -> None:
        for timer in timers:
            timer.stop()
        window.close()
        loop.quit()

    if screenshot is not None:
        # no event loop here: a loop's exec() returns at once in a process whose application
        # was quit before (QCoreApplication::exit leaves quitNow set), so process events by hand
        deadline = time.monotonic() + 0.3
        while time.monotonic() < deadline:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.01)
        window.map.fit()
        app.processEvents()
        saved = window.grab().save(str(screenshot))
        window.close()
        window.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        return 0 if saved else 1
    if quit_after_s is not None:
        later(quit_after_s, stop)
    if quit_after_s is None and own_app:
        result = app.exec()
    else:
        _CloseWatcher(window, loop.quit)
        loop.exec()  # returns at once where the application was quit before: nothing to wait for
        result = 0
    for timer in timers:
        timer.stop()
    if window.isVisible():
        window.close()
    window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return int(result)
