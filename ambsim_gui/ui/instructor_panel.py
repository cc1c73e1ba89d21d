"""The instructor's panel at the desk: fire an inject live, as a scenario file would schedule it.

One job: turn a chosen inject type and its settings (written as a YAML mapping, the same keys as
a scenario's ``injects`` item) into an ``Inject`` command through the desk's command door. The
engine validates it with the scenario model and applies it now; a refusal shows the engine's reason.
Live injects are commands, so a recorded session keeps them and a replay repeats them.
"""

from __future__ import annotations

from typing import Any

import yaml
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ambsim_gui.labels import reason_words
from ambsim_gui.sim import commands as cmd
from ambsim_gui.ui.context import DeskContext

# a starting point for each inject type, filled with names from the running shift
EXAMPLES: dict[str, str] = {
    "call_burst": "{card: rtc, count: 3, over_min: 5, callers: 2, area: AREA}",
    "surge": "{factor: 2, duration_min: 30}",
    "hospital_diversion": "{hospital: HOSPITAL, diverted: true, duration_min: 60}",
    "road_closure": "{roads: [ROAD], duration_min: 60}",
    "vehicle_breakdown": "{vehicle: CALLSIGN, duration_min: 45}",
    "crews": "{station: STATION, vehicle_type: DCA, count: 2, on_duty: true}",
}


class InstructorPanel(QWidget):
    """Inject events into the running shift."""

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.kind = QComboBox()
        self.kind.addItems(list(EXAMPLES))
        self.settings = QLineEdit()
        self.apply_button = QPushButton("Inject now")
        self.result = QLabel("")
        self.result.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Inject", self.kind)
        form.addRow("Settings", self.settings)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.apply_button)
        layout.addWidget(self.result)
        hint = QLabel(
            "Settings are the keys of a scenario's injects item (see docs/authoring.md). "
            "The inject happens now and is recorded with the session."
        )
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addStretch(1)
        self.kind.currentTextChanged.connect(self._example)
        self.apply_button.clicked.connect(self.apply)
        self.settings.returnPressed.connect(self.apply)
        self._example(self.kind.currentText())

    def _example(self, kind: str) -> None:
        setup, room = self.ctx.setup, self.ctx.room
        text = EXAMPLES.get(kind, "{}")
        roads = [n for n in setup.network.edge_name if n]
        names = {
            "AREA": setup.area_names[0] if setup.area_names else "",
            "HOSPITAL": next(iter(setup.hospitals), ""),
            "ROAD": sorted(set(roads))[0] if roads else "",
            "CALLSIGN": next(iter(room.vehicles.values())).callsign if room.vehicles else "",
            "STATION": next(iter(setup.stations), ""),
        }
        for placeholder, name in names.items():
            text = text.replace(placeholder, f'"{name}"')
        self.settings.setText(text)

    def spec(self) -> dict[str, Any] | str:
        """The inject's mapping, or what is wrong with the settings text."""
        try:
            data = yaml.safe_load(self.settings.text() or "{}")
        except yaml.YAMLError as exc:
            return f"settings are not YAML: {str(exc).splitlines()[0]}"
        if data is None:
            data = {}
        if not isinstance(data, dict):
            return "settings must be a mapping, e.g. {factor: 2, duration_min: 30}"
        return {"type": self.kind.currentText(), **data}

    def apply(self) -> bool:
        spec = self.spec()
        if isinstance(spec, str):
            self.result.setText(f"Not injected: {spec}")
            return False
        room = self.ctx.room
        injects, rejections = len(room.injects), len(room.rejections)
        # the instructor's door: not the trainee's (which the autopilot may hold)
        accepted = self.ctx.ports.submit(cmd.Inject(seat="instructor", spec=spec))
        if accepted:
            done = [x.summary for x in room.injects[injects:]]
            self.result.setText("Injected: " + ("; ".join(done) or spec["type"]))
        else:
            reasons = [reason_words(x.reason) for x in room.rejections[rejections:]]
            self.result.setText("Refused: " + ("; ".join(reasons) or "unknown reason"))
        return accepted
