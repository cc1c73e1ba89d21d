"""What every panel of the desk shares: the read model, the ports, the trainee's role, the
current selection, and the one door the trainee's commands go through.

One job: ``DeskContext`` is the hub between panels. Panels never talk to each other directly:
they select an incident or a vehicle here, and submit commands here. What they read is
``room`` (the one read model, ``readmodel.RoomProjection``, folded from the events), ``live``
(the desk's wording of the same events: transcripts, response clocks) and ``setup`` (the
shift's static facts); what they ask of the simulation goes through ``ports`` (candidate ETAs,
vehicle positions, the clock). ``submit`` passes a command through the command door (applied at
the current simulation time) and, when it is refused, announces the reason through ``message``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from ambsim_gui.labels import command_words, reason_words
from ambsim_gui.readmodel.ports import DeskPorts, EnginePorts
from ambsim_gui.readmodel.room import RoomProjection
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.regimes import REGIMES, Regime
from ambsim_gui.ui.live import TRAINEE, DeskProjection, Rejection


class DeskContext(QObject):
    """Shared state of one desk window."""

    incident_selected = Signal(str)
    """The selected incident changed ("" for none)."""
    vehicle_selected = Signal(str)
    """The selected vehicle changed ("" for none)."""
    message = Signal(str, str)
    """A line for the status bar: (text, level) with level info | warning | error."""
    command_done = Signal()
    """A trainee command went through the door (accepted or not): panels may refresh now."""

    def __init__(
        self,
        source: Any,
        *,
        assessment: bool = False,
        autopilot: str | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.ports: DeskPorts = EnginePorts.of(source)
        self.setup = self.ports.setup()
        scenario = self.setup.scenario
        self.regime: Regime = REGIMES[scenario.regime]
        self.protocol = self.setup.protocol
        self.room = RoomProjection()
        self.live = DeskProjection(None, self.regime)
        self.live.on_rejection = self._on_rejection
        self.assessment = assessment or scenario.control_room.assessment_mode
        self.autopilot = autopilot
        seat = self.setup.seats[TRAINEE]
        self.handles_calls = seat.handler
        self.dispatches = seat.dispatcher
        self.selected_incident: str | None = None
        self.selected_vehicle: str | None = None
        self.commands_sent = 0
        self.commands_refused = 0

    @property
    def engine(self) -> Any:
        """The engine behind the ports, for whoever built the desk (tests, a branch from a
        replay); no panel reads it."""
        return getattr(self.ports, "engine", None)

    @property
    def role(self) -> str:
        return self.setup.role

    @property
    def now(self) -> float:
        """The simulation's clock now."""
        return self.ports.now

    def feed(self, event: ev.Event) -> None:
        """One event of the stream, into the read model and the desk's own projection."""
        self.room.apply(event)
        self.live.feed(event)

    @property
    def can_handle(self) -> bool:
        """The trainee may take calls now (their role, and no autopilot in the seat)."""
        return self.handles_calls and self.autopilot is None

    @property
    def can_dispatch(self) -> bool:
        return self.dispatches and self.autopilot is None

    # --- selection -----------------------------------------------------------------------

    def select_incident(self, incident_id: str | None) -> None:
        incident_id = incident_id or None
        if incident_id != self.selected_incident:
            self.selected_incident = incident_id
            self.incident_selected.emit(incident_id or "")

    def select_vehicle(self, vehicle_id: str | None) -> None:
        vehicle_id = vehicle_id or None
        if vehicle_id != self.selected_vehicle:
            self.selected_vehicle = vehicle_id
            self.vehicle_selected.emit(vehicle_id or "")

    # --- the command door ----------------------------------------------------------------

    def submit(self, command: cmd.Command) -> bool:
        """Send a trainee command to the engine now; False (and a status message) if refused."""
        if self.autopilot is not None:
            self.say(
                f"the autopilot ({self.autopilot}) has the seat: your commands are off", "warning"
            )
            return False
        self.commands_sent += 1
        accepted = self.ports.submit(command)
        if not accepted:
            self.commands_refused += 1
        self.command_done.emit()
        return accepted

    def say(self, text: str, level: str = "info") -> None:
        self.message.emit(text, level)

    def _on_rejection(self, rejection: Rejection) -> None:
        # the reason is stored as recorded (with ids); it is put in words only here, when shown
        words = command_words(rejection.command)
        reason = reason_words(rejection.reason)
        if self.autopilot is not None:
            self.message.emit(f"Autopilot refused ({words}): {reason}", "warning")
        else:
            self.message.emit(f"Refused ({words}): {reason}", "error")
