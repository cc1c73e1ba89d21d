"""The dispatch panel: incidents waiting for a vehicle, and the vehicles that could go.

One job: ``DispatchPanel`` lists the dispatch queue (most urgent first), shows the selected
incident with the vehicles already assigned to it, and offers the candidates: every free vehicle
and every vehicle on its way to a less urgent job (which may be diverted), sorted by their exact
ETA (the ``Dispatcher`` port, asked as an onlooker; mobilisation included), shown in minutes
before anything is committed. Dispatch, Divert and Stand down go through the desk's command door.
Guarded: a dispatch (D, the button, a drop on the map) to an incident that already has a vehicle
assigned or on scene, and a stand-down, first show a warning in the panel; the same key or button
again sends (``shortcuts.SecondPress``).

In assessment mode the desk gives no suggestions: the candidates are listed by call sign and
their ETAs are hidden. With the call-handler role (or the autopilot in the seat) the panel is
read-only: virtual dispatchers allocate.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ambsim_gui.labels import incident_status_words, outcome_words, vehicle_status_words
from ambsim_gui.readmodel.room import (
    CATEGORY_RANK,
    EN_ROUTE_STATUSES,
    IncidentView,
    VehicleView,
)
from ambsim_gui.sim import commands as cmd
from ambsim_gui.ui.boards import incident_status
from ambsim_gui.ui.context import DeskContext
from ambsim_gui.ui.formatting import (
    CATEGORY_CSS,
    RAG_BACKGROUNDS,
    clock_rag,
    minutes_text,
    mmss,
)
from ambsim_gui.ui.live import TRAINEE
from ambsim_gui.ui.shortcuts import SecondPress
from ambsim_gui.ui.table_model import KeyedTable, Row, cell

MAX_CANDIDATES = 40
"""The nearest this many candidates are listed (all of them in assessment mode)."""


class DispatchPanel(QWidget):
    """Queue, selected incident, assigned vehicles and candidates, with the dispatch buttons."""

    QUEUE_HEADERS = ("Incident", "Cat", "Complaint", "Clock", "Needs")
    CANDIDATE_HEADERS = ("Vehicle", "Type", "Status", "ETA", "Note")
    ASSIGNED_HEADERS = ("Assigned", "Type", "Status", "ETA")

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._candidate_ids: list[str] = []
        self._etas: dict[str, float] = {}
        self._user_picked: str | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.mode_label = QLabel("")
        self.mode_label.setObjectName("modeLabel")
        self.mode_label.setWordWrap(True)
        layout.addWidget(self.mode_label)

        queue_head = QHBoxLayout()
        self.queue_label = QLabel("Waiting for a vehicle")
        self.queue_label.setObjectName("sectionLabel")
        queue_head.addWidget(self.queue_label, 1)
        self.next_button = QPushButton("Next urgent  [N]")
        self.next_button.setObjectName("nextIncident")
        self.next_button.clicked.connect(self.select_next_queued)
        queue_head.addWidget(self.next_button)
        layout.addLayout(queue_head)
        self.queue = KeyedTable(self.QUEUE_HEADERS, self)
        self.queue.setObjectName("dispatchQueue")
        self.queue.set_column_widths([80, 44, 160, 64, 56], stretch=2)
        self.queue.key_selected.connect(ctx.select_incident)
        layout.addWidget(self.queue, 3)

        self.incident_label = QLabel("No incident selected")
        self.incident_label.setObjectName("incidentLabel")
        self.incident_label.setWordWrap(True)
        layout.addWidget(self.incident_label)

        self.assigned = KeyedTable(self.ASSIGNED_HEADERS, self)
        self.assigned.setObjectName("assignedVehicles")
        self.assigned.set_column_widths([110, 50, 110])
        self.assigned.key_selected.connect(ctx.select_vehicle)
        layout.addWidget(self.assigned, 1)

        self.candidates_label = QLabel("Candidates")
        self.candidates_label.setObjectName("sectionLabel")
        layout.addWidget(self.candidates_label)
        self.candidates = KeyedTable(self.CANDIDATE_HEADERS, self)
        self.candidates.setObjectName("candidates")
        self.candidates.set_column_widths([110, 50, 100, 66])
        self.candidates.key_selected.connect(self._candidate_picked)
        self.candidates.key_activated.connect(self._candidate_activated)
        layout.addWidget(self.candidates, 4)

        buttons = QHBoxLayout()
        self.dispatch_button = QPushButton("Dispatch  [D]")
        self.dispatch_button.setObjectName("dispatchVehicle")
        self.dispatch_button.clicked.connect(self.dispatch_selected)
        self.divert_button = QPushButton("Divert")
        self.divert_button.setObjectName("divertVehicle")
        self.divert_button.clicked.connect(self.divert_selected)
        self.stand_down_button = QPushButton("Stand down")
        self.stand_down_button.setObjectName("standDown")
        self.stand_down_button.clicked.connect(self.stand_down_selected)
        for b in (self.dispatch_button, self.divert_button, self.stand_down_button):
            buttons.addWidget(b)
        self.guard_label = QLabel("")
        self.guard_label.setObjectName("guardWarning")
        self.guard_label.setWordWrap(True)
        self.guard_label.setStyleSheet(
            "#guardWarning { background: #fff3cd; color: #5c4400; border: 1px solid #e0b252;"
            " border-radius: 4px; padding: 4px 6px; font-weight: 600; }"
        )
        self.guard_label.hide()
        layout.addWidget(self.guard_label)
        layout.addLayout(buttons)
        self.guard = SecondPress(self, self._show_guard)

        ctx.incident_selected.connect(self._incident_changed)
        ctx.vehicle_selected.connect(self._vehicle_changed)
        ctx.incident_selected.connect(self.guard.clear)
        ctx.vehicle_selected.connect(self.guard.clear)
        ctx.command_done.connect(self.guard.clear)
        self.assigned.key_selected.connect(self.guard.clear)
        self.refresh()

    # --- selection -----------------------------------------------------------------------

    def incident(self) -> IncidentView | None:
        iid = self.ctx.selected_incident
        return self.ctx.room.incidents.get(iid) if iid else None

    def _incident_changed(self, incident_id: str) -> None:
        self.queue.select_key(incident_id or None)
        self._user_picked = None
        self.refresh()

    def _vehicle_changed(self, vehicle_id: str) -> None:
        if vehicle_id in self._candidate_ids:
            self._user_picked = vehicle_id
            self.candidates.select_key(vehicle_id)
        self.assigned.select_key(vehicle_id or None)
        self._update_buttons()

    def _candidate_picked(self, vehicle_id: str) -> None:
        self._user_picked = vehicle_id
        self.ctx.select_vehicle(vehicle_id)
        self._update_buttons()

    def _candidate_activated(self, vehicle_id: str) -> None:
        self._user_picked = vehicle_id
        self.dispatch_selected()

    # --- guards --------------------------------------------------------------------------

    def _show_guard(self, text: str) -> None:
        self.guard_label.setText(text)
        self.guard_label.setVisible(bool(text))
        if text:
            self.ctx.say(text, "warning")

    def _vehicle_words(self, vehicle_id: str) -> str:
        v = self.ctx.room.vehicles.get(vehicle_id)
        if v is None:
            return vehicle_id
        if v.status in EN_ROUTE_STATUSES:
            where = "on its way"
        elif v.status == "on_scene":
            where = "on scene"
        else:
            where = vehicle_status_words(v.status)
        return f"{v.callsign} {where}"

    def duplicate_warning(
        self, inc: IncidentView, vehicle_id: str, again: str = "Press D again"
    ) -> str:
        """Why sending ``vehicle_id`` to ``inc`` needs a second press ("" when it does not): the
        incident already has a vehicle assigned or on scene, and is not back on the queue asking
        for one (an RRV on scene that needs a DCA to convey)."""
        others = [x for x in inc.vehicles if x != vehicle_id]
        if not others:
            return ""
        v = self.ctx.room.vehicles.get(vehicle_id)
        if inc.queued and (inc.needs != "DCA" or (v is not None and v.type == "DCA")):
            return ""
        had = " and ".join(self._vehicle_words(x) for x in others)
        return f"{inc.id} already has {had}. {again} to send {self._callsign(vehicle_id)} as well."

    def _confirmed(self, inc: IncidentView, vehicle_id: str, again: str = "Press D again") -> bool:
        warning = self.duplicate_warning(inc, vehicle_id, again)
        if not warning:
            self.guard.clear()
            return True
        return self.guard.confirm("dispatch", (inc.id, vehicle_id), warning)

    def select_next_queued(self) -> None:
        """Select the most urgent incident waiting for a vehicle (after the current one)."""
        self.guard.clear()
        queue = [i.id for i in self.ctx.room.dispatch_queue()]
        if not queue:
            self.ctx.say("No incident is waiting for a vehicle", "info")
            return
        current = self.ctx.selected_incident
        nxt = queue[0]
        if current in queue:
            nxt = queue[(queue.index(current) + 1) % len(queue)]
        self.ctx.select_incident(nxt)

    def selected_candidate(self) -> str | None:
        """The vehicle the Dispatch/Divert buttons act on: the trainee's pick, or the top
        suggestion (none in assessment mode)."""
        if self._user_picked in self._candidate_ids:
            return self._user_picked
        if self.ctx.assessment or not self._candidate_ids:
            return None
        return self._candidate_ids[0]

    # --- actions -------------------------------------------------------------------------

    def _can_act(self) -> bool:
        if not self.ctx.dispatches:
            self.ctx.say(
                "You are a call handler: the virtual dispatchers allocate vehicles", "warning"
            )
            return False
        return True

    def dispatch(self, vehicle_id: str, incident_id: str) -> bool:
        """Send ``vehicle_id`` to ``incident_id``: a dispatch, or a diversion if it is en route."""
        if not self._can_act():
            return False
        inc = self.ctx.room.incidents.get(incident_id)
        if inc is not None and not self._confirmed(inc, vehicle_id, "Drop it again"):
            return False
        v = self.ctx.room.vehicles.get(vehicle_id)
        if v is not None and v.status in EN_ROUTE_STATUSES and v.incident_id != incident_id:
            command: cmd.Command = cmd.DivertVehicle(
                seat=TRAINEE, vehicle_id=vehicle_id, incident_id=incident_id
            )
        else:
            command = cmd.DispatchVehicle(
                seat=TRAINEE, vehicle_id=vehicle_id, incident_id=incident_id
            )
        ok = self.ctx.submit(command)
        if ok:
            self._user_picked = None
            self.ctx.say(f"{self._callsign(vehicle_id)} sent to {incident_id}", "info")
            self.refresh()
        return ok

    def dispatch_selected(self) -> bool:
        if not self._can_act():
            return False
        inc = self.incident()
        if inc is None:
            self.ctx.say("Select an incident first (N: the most urgent waiting)", "warning")
            return False
        vid = self.selected_candidate()
        if vid is None:
            self.ctx.say("Select a vehicle in the candidates list first", "warning")
            return False
        if not self._confirmed(inc, vid):
            return False
        ok = self.ctx.submit(cmd.DispatchVehicle(seat=TRAINEE, vehicle_id=vid, incident_id=inc.id))
        if ok:
            self._user_picked = None
            self.ctx.say(f"{self._callsign(vid)} dispatched to {inc.id}", "info")
            self.refresh()
        return ok

    def divert_selected(self) -> bool:
        self.guard.clear()
        if not self._can_act():
            return False
        inc = self.incident()
        vid = self.selected_candidate()
        if inc is None or vid is None:
            self.ctx.say("Select an incident and a vehicle on its way to another job", "warning")
            return False
        ok = self.ctx.submit(cmd.DivertVehicle(seat=TRAINEE, vehicle_id=vid, incident_id=inc.id))
        if ok:
            self._user_picked = None
            self.ctx.say(f"{self._callsign(vid)} diverted to {inc.id}", "info")
            self.refresh()
        return ok

    def stand_down_selected(self) -> bool:
        if not self._can_act():
            return False
        vid = self.assigned.selected_key or self.ctx.selected_vehicle
        if vid is None:
            inc = self.incident()
            en_route = [
                v
                for v in (inc.vehicles if inc else [])
                if self.ctx.room.vehicles[v].status in EN_ROUTE_STATUSES
            ]
            vid = en_route[0] if len(en_route) == 1 else None
        if vid is None:
            self.ctx.say("Select the vehicle to stand down (in the Assigned list)", "warning")
            return False
        v = self.ctx.room.vehicles.get(vid)
        job = f" from {v.incident_id}" if v is not None and v.incident_id else ""
        warning = f"Stand {self._callsign(vid)} down{job}? Press Stand down again to confirm."
        if not self.guard.confirm("stand_down", (vid,), warning):
            return False
        ok = self.ctx.submit(cmd.StandDown(seat=TRAINEE, vehicle_id=vid))
        if ok:
            self.ctx.say(f"{self._callsign(vid)} stood down", "info")
            self.refresh()
        return ok

    def _callsign(self, vehicle_id: str) -> str:
        v = self.ctx.room.vehicles.get(vehicle_id)
        return v.callsign if v is not None else vehicle_id

    # --- drawing -------------------------------------------------------------------------

    def candidates_for(self, inc: IncidentView) -> list[tuple[VehicleView, float]]:
        """Free vehicles and those divertable to ``inc``, with their ETAs in seconds."""
        room = self.ctx.room
        now = self.ctx.now
        pool = [v for v in room.free_vehicles(now) if v.id not in inc.vehicles]
        rank = CATEGORY_RANK[inc.category]
        for v in room.vehicles.values():
            on_duty = v.shift_start_s <= now < v.shift_end_s
            if on_duty and v.status in EN_ROUTE_STATUSES and v.incident_id not in (None, inc.id):
                other = room.incidents.get(v.incident_id or "")
                if other is not None and CATEGORY_RANK[other.category] > rank:
                    pool.append(v)
        if not pool:
            return []
        # the Dispatcher port asks as an onlooker: never changes the shift's routing
        etas = self.ctx.ports.etas(inc.id, [v.id for v in pool])
        return [(v, float(t)) for v, t in zip(pool, etas, strict=True)]

    def refresh(self) -> None:
        """Redraw the queue, the selected incident and its candidates (the slow refresh)."""
        room = self.ctx.room
        live = self.ctx.live
        now = self.ctx.now
        if self.ctx.autopilot is not None:
            self.mode_label.setText(f"Autopilot ({self.ctx.autopilot}) is dispatching: read-only.")
        elif not self.ctx.dispatches:
            self.mode_label.setText("Read-only: virtual dispatchers allocate the vehicles.")
        elif self.ctx.assessment:
            self.mode_label.setText("Assessment mode: no suggestions, ETAs hidden.")
        else:
            self.mode_label.setText("Candidates sorted by ETA (mobilisation included).")
        self.mode_label.setVisible(bool(self.mode_label.text()))

        rows = []
        queue = room.dispatch_queue()
        for waiting in queue:
            clock, _ = live.response_clock(waiting.id, waiting.category, now)
            rag = clock_rag(clock, self.ctx.regime.standard_for(waiting.category))
            complaint = self.ctx.protocol.describe(waiting.complaint, waiting.code)
            rows.append(
                Row(
                    waiting.id,
                    (
                        cell(waiting.id, bold=True),
                        cell(waiting.category, bold=True),
                        cell(complaint),
                        cell(mmss(clock), background=RAG_BACKGROUNDS[rag], align_right=True),
                        cell(waiting.needs if waiting.needs != "any" else "any"),
                    ),
                )
            )
        self.queue.set_rows(rows)
        self.queue_label.setText(
            f"Waiting for a vehicle: {len(queue)}" if queue else "Waiting for a vehicle: none"
        )

        inc: IncidentView | None = self.incident()
        if inc is not None and inc.status != "open":
            self.incident_label.setText(
                f"{inc.id} is closed ({outcome_words(inc.outcome or 'done')})."
            )
            self.assigned.set_rows([])
            self._set_candidates([])
        elif inc is None:
            self.incident_label.setText(
                "No incident selected: pick one from the queue, a board or the map (N: next)."
            )
            self.assigned.set_rows([])
            self._set_candidates([])
        else:
            self._draw_incident(inc, now)
        self._update_buttons()

    def _draw_incident(self, inc: IncidentView, now: float) -> None:
        room = self.ctx.room
        live = self.ctx.live
        clock, stopped = live.response_clock(inc.id, inc.category, now)
        standard = self.ctx.regime.standard_for(inc.category)
        complaint = self.ctx.protocol.describe(inc.complaint, inc.code)
        colour = CATEGORY_CSS.get(inc.category, "#000000")
        state = incident_status_words(incident_status(self.ctx, inc))
        self.incident_label.setText(
            f'<b>{inc.id}</b> <b style="color:{colour};">{inc.category}</b> '
            f"{html.escape(complaint)} ({html.escape(inc.code)}), {html.escape(inc.area)}<br>"
            f"Clock {mmss(clock)}{' (stopped)' if stopped else ''} against "
            f"{standard.describe()}; {state}"
        )
        rows = []
        for vid in inc.vehicles:
            v = room.vehicles[vid]
            eta = live.eta_s(vid, v.status, now)
            rows.append(
                Row(
                    vid,
                    (
                        cell(v.callsign, bold=True),
                        cell(v.type),
                        cell(vehicle_status_words(v.status)),
                        cell(minutes_text(eta) if eta is not None else "-", align_right=True),
                    ),
                )
            )
        self.assigned.set_rows(rows)
        self._set_candidates(self.candidates_for(inc), inc)

    def _set_candidates(
        self, found: list[tuple[VehicleView, float]], inc: IncidentView | None = None
    ) -> None:
        room = self.ctx.room
        hide = self.ctx.assessment
        if hide:
            found.sort(key=lambda p: p[0].callsign)
        else:
            found.sort(key=lambda p: (p[1] if np.isfinite(p[1]) else np.inf, p[0].callsign))
            found = found[:MAX_CANDIDATES]
        rows = []
        self._etas = {v.id: t for v, t in found}
        for v, t in found:
            note = ""
            if v.status in EN_ROUTE_STATUSES:
                other = room.incidents.get(v.incident_id or "")
                note = f"divert from {other.category} {other.id}" if other else "divert"
            elif inc is not None and inc.needs == "DCA" and v.type != "DCA":
                note = "cannot convey"
            elif v.status == "returning":
                note = "returning, no mobilisation"
            rows.append(
                Row(
                    v.id,
                    (
                        cell(v.callsign, bold=True),
                        cell(v.type),
                        cell(vehicle_status_words(v.status)),
                        cell("hidden" if hide else minutes_text(t), align_right=True),
                        cell(note),
                    ),
                )
            )
        self._candidate_ids = [v.id for v, _ in found]
        self.candidates.set_rows(rows)
        pick = self.selected_candidate()
        if pick != self.candidates.selected_key:
            self.candidates.select_key(pick, scroll=False)
        if inc is None:
            self.candidates_label.setText("Candidates")
        elif not found:
            self.candidates_label.setText("Candidates: no vehicle free or divertable")
        elif hide:
            self.candidates_label.setText(f"Candidates ({len(found)}), by call sign")
        else:
            self.candidates_label.setText(f"Candidates: the {len(found)} nearest by ETA")

    def _update_buttons(self) -> None:
        room = self.ctx.room
        can = self.ctx.can_dispatch
        inc = self.incident()
        vid = self.selected_candidate()
        v = room.vehicles.get(vid) if vid else None
        free = v is not None and room.is_free(v, self.ctx.now)
        self.dispatch_button.setEnabled(can and inc is not None and free)
        self.divert_button.setEnabled(
            can and inc is not None and v is not None and v.status in EN_ROUTE_STATUSES
        )
        down = self.assigned.selected_key
        down_v = room.vehicles.get(down) if down else None
        en_route = inc is not None and any(
            room.vehicles[x].status in EN_ROUTE_STATUSES for x in inc.vehicles
        )
        self.stand_down_button.setEnabled(
            can
            and (
                (down_v is not None and down_v.status in EN_ROUTE_STATUSES)
                or (down_v is None and en_route)
            )
        )
        self.next_button.setEnabled(bool(room.dispatch_queue()))
        if v is not None and not self.ctx.assessment:
            t = self._etas.get(v.id)
            self.dispatch_button.setText(f"Dispatch {v.callsign} ({minutes_text(t)})  [D]")
        elif v is not None:
            self.dispatch_button.setText(f"Dispatch {v.callsign}  [D]")
        else:
            self.dispatch_button.setText("Dispatch  [D]")
