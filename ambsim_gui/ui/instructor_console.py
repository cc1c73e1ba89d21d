"""``instructor --join``: the instructor's console over a room run by ``serve``.

One job: one window that shows every seat of the room (its trainee's name, status, current
call and live figures, docs/domain.md "The classroom's seat figures"), the map of the shift
with, on demand, the truth the trainees cannot see (the true category and need of each call on
a line and each open incident), and the instructor's hand on the room: pause, resume and
speed for the whole room, how a dropped desk's seat is covered, live injects (the desk's
``InstructorPanel``, through the room) and a note pinned to the moment, which the room writes
into its recording as an annotation. It reads the room's events through
``room.remote.RemotePorts`` like a desk, and the seats' status from the room's ``RoomStatus``.
"""

from __future__ import annotations

import argparse
import ssl
import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ambsim_gui.headless import build_from
from ambsim_gui.labels import outcome_words
from ambsim_gui.paths import SCENARIOS
from ambsim_gui.record.replay_state import ReplayState
from ambsim_gui.record.vehicle_positions import RouteCache
from ambsim_gui.room.client import JoinError, RoomClient
from ambsim_gui.room.remote import RemotePorts
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.ui.app import application
from ambsim_gui.ui.context import DeskContext
from ambsim_gui.ui.formatting import clock_text
from ambsim_gui.ui.instructor_panel import InstructorPanel
from ambsim_gui.ui.replay_map import ReplayMap

REFRESH_MS = 250
SPEEDS = ("1", "2", "4", "8", "16", "32", "64")
SEAT_COLUMNS = (
    "Seat",
    "Does",
    "Trainee",
    "Status",
    "Call",
    "Answered",
    "Closed",
    "Dispatched",
    "Rejected",
)
TRUTH_COLUMNS = ("Call or incident", "Given", "True", "Need", "Area")
EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 64


class InstructorWindow(QMainWindow):
    """Every seat, the map and the truth, and the room's controls."""

    def __init__(self, ports: RemotePorts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ports = ports
        self.client = ports.client
        self.ctx = DeskContext(ports, parent=self)
        self.state = ReplayState()
        ports.subscribe(self.ctx.room.apply)
        ports.subscribe(self.state.apply)
        self.setWindowTitle(f"ambsim - instructor - {ports.world.scenario.name}")

        self.clock_label = QLabel("")
        self.clock_label.setStyleSheet("font-size: 20pt; font-weight: 700;")
        self.pause_button = QPushButton("Pause the room")
        self.speed = QComboBox()
        self.speed.addItems(list(SPEEDS))
        self.cover = QComboBox()
        self.cover.addItems(["hold", "colleague"])
        self.truth_box = QCheckBox("Show the truth")
        bar = QHBoxLayout()
        bar.addWidget(self.clock_label)
        bar.addStretch(1)
        bar.addWidget(self.pause_button)
        bar.addWidget(QLabel("Speed"))
        bar.addWidget(self.speed)
        bar.addWidget(QLabel("A dropped seat"))
        bar.addWidget(self.cover)
        bar.addWidget(self.truth_box)

        self.seats = QTableWidget(0, len(SEAT_COLUMNS))
        self.seats.setHorizontalHeaderLabels(list(SEAT_COLUMNS))
        self.seats.verticalHeader().setVisible(False)
        self.map = ReplayMap(ports.world, RouteCache(ports.world))
        self.truth = QTableWidget(0, len(TRUTH_COLUMNS))
        self.truth.setHorizontalHeaderLabels(list(TRUTH_COLUMNS))
        self.truth.verticalHeader().setVisible(False)
        self.truth.setVisible(False)
        self.injects = InstructorPanel(self.ctx)
        self.note = QLineEdit()
        self.note.setPlaceholderText("A note pinned to this moment (it lands in the recording)")
        self.note_button = QPushButton("Pin note")
        self.message = QLabel("")

        side = QVBoxLayout()
        side.addWidget(QLabel("Inject"))
        side.addWidget(self.injects)
        notes = QHBoxLayout()
        notes.addWidget(self.note)
        notes.addWidget(self.note_button)
        side.addLayout(notes)
        side.addWidget(self.truth)
        side_widget = QWidget()
        side_widget.setLayout(side)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.map)
        lower.addWidget(side_widget)
        lower.setSizes([900, 500])
        root = QVBoxLayout()
        root.addLayout(bar)
        root.addWidget(self.seats, 2)
        root.addWidget(lower, 5)
        root.addWidget(self.message)
        body = QWidget()
        body.setLayout(root)
        self.setCentralWidget(body)

        self.pause_button.clicked.connect(self.toggle_pause)
        self.speed.textActivated.connect(lambda text: self.control("speed", value=float(text)))
        self.cover.textActivated.connect(lambda how: self.control("cover", how=how))
        self.truth_box.toggled.connect(self.truth.setVisible)
        self.note_button.clicked.connect(self.pin_note)
        self.note.returnPressed.connect(self.pin_note)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(REFRESH_MS)
        self.refresh()

    # --- the room's controls ---------------------------------------------------------------

    def control(self, action: str, **fields: object) -> bool:
        reply = self.client.control(action, **fields)
        self.message.setText(
            f"{action}: done" if reply.accepted else f"{action} refused: {reply.reason}"
        )
        return reply.accepted

    def toggle_pause(self) -> None:
        clock = self.client.clock
        self.control("resume" if clock is not None and clock.paused else "pause")

    def pin_note(self) -> None:
        text = self.note.text().strip()
        if text and self.control("note", text=text):
            self.note.clear()

    # --- drawing ---------------------------------------------------------------------------

    def refresh(self) -> None:
        self.ports.run_until(0.0)  # take in what the room sent
        now = self.ports.now
        start = self.ports.world.scenario.start
        clock = self.client.clock
        paused = clock is not None and clock.paused
        over = " (the shift is over)" if self.ports.finished else ""
        down = "" if self.client.connected else " - the line to the room is down"
        self.clock_label.setText(f"{clock_text(start, now)}{' paused' if paused else ''}{over}")
        self.pause_button.setText("Resume the room" if paused else "Pause the room")
        if clock is not None and not self.speed.view().isVisible():
            self.speed.setCurrentText(f"{clock.speed:g}")
        if down:
            self.message.setText(down.strip(" -"))
        self._seats()
        self.map.show_state(self.state, now)
        if self.truth_box.isChecked():
            self._truth()

    def _seats(self) -> None:
        status = self.client.status
        if status is None:
            return
        if self.cover.currentText() != status.cover and not self.cover.view().isVisible():
            self.cover.setCurrentText(status.cover)
        self.seats.setRowCount(len(status.seats))
        for row, s in enumerate(status.seats):
            does = "+".join(w for w, on in (("calls", s.handler), ("dispatch", s.dispatcher)) if on)
            values = (
                s.seat,
                does,
                s.name or "-",
                s.status,
                s.call_id or "",
                s.answered,
                s.closed,
                s.dispatched,
                s.rejected,
            )
            for col, value in enumerate(values):
                item = QTableWidgetItem(str(value))
                self.seats.setItem(row, col, item)

    def _truth(self) -> None:
        truth = self.state.truth
        rows = []
        for call in self.state.calls.values():
            if call.status != "answered":
                continue
            patient = truth.patients.get(truth.call_patient.get(call.id, ""))
            if patient is not None:
                given = call.category or call.recommended or "-"
                rows.append(
                    (
                        f"{call.id} on {call.seat}",
                        given,
                        patient.true_category,
                        outcome_words(patient.need),
                        call.area,
                    )
                )
        for inc in self.state.incidents.values():
            if inc.status != "open":
                continue
            patient = truth.patients.get(truth.incident_patient.get(inc.id, ""))
            if patient is None:
                continue
            rows.append(
                (inc.id, inc.category, patient.true_category, outcome_words(patient.need), inc.area)
            )
        self.truth.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                self.truth.setItem(r, c, QTableWidgetItem(str(value)))


def instructor(args: argparse.Namespace) -> int:
    """Join the room as its instructor and open the console; the exit code."""
    tls = ssl.create_default_context(cafile=args.tls_ca) if args.tls_ca else None
    client = RoomClient(
        args.join, args.code, role="instructor", name=args.name, tls=tls, fold=False
    )
    try:
        welcome = client.join()
    except JoinError as exc:
        print(f"ambsim: the room refused the instructor: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    path = SCENARIOS / f"{welcome.scenario}.yaml"
    loaded = load_scenario(Path(path)) if path.is_file() else None
    if loaded is None or loaded.sha256 != welcome.scenario_sha256:
        client.close()
        print(f"ambsim: this console does not have the room's scenario {welcome.scenario!r}")
        return EXIT_REFUSED
    application()
    window = InstructorWindow(RemotePorts(client, build_from(loaded)))
    window.resize(1500, 950)
    window.show()
    loop = QEventLoop()
    if args.quit_after is not None:

        def done() -> None:
            if window.ports.now >= args.quit_after or window.ports.finished:
                window.refresh()
                if args.screenshot:
                    window.grab().save(args.screenshot)
                    print(f"screenshot saved to {args.screenshot}", file=sys.stderr)
                loop.quit()

        window.timer.timeout.connect(done)
    closer = QTimer()
    closer.timeout.connect(lambda: None if window.isVisible() else loop.quit())
    closer.start(200)
    try:
        loop.exec()
    finally:
        window.timer.stop()
        client.close()
    return EXIT_OK
