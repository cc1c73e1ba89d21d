"""The status boards: open incidents, vehicles, the clinical hub's stack and the hospitals.

One job: ``BoardsWidget`` is a tab widget of four tables that show the room's state as a
control-room wall board would, each row a key the trainee can select (selecting an incident or
a vehicle selects it on the map and in the dispatch panel):

- incidents: category, complaint, the response clock (mm:ss) against the regime's standard in
  red/amber/green, vehicles assigned, status (queued, hub, assigned, on scene, conveying);
- vehicles: a count per status and a list with call sign, type, status, job and ETA;
- clinical hub: the pending stack in the order clinicians take it, with breach times;
- hospitals: crews waiting in handover, diversion, handovers done and their mean wait.

Only the visible tab is redrawn, and only when its data changed or its clocks moved on.
"""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from ambsim_gui.labels import vehicle_status_words
from ambsim_gui.readmodel.room import EN_ROUTE_STATUSES, HospitalView, IncidentView
from ambsim_gui.sim.regimes import Standard
from ambsim_gui.ui.context import DeskContext
from ambsim_gui.ui.formatting import (
    CATEGORY_CSS,
    RAG_BACKGROUNDS,
    clock_rag,
    clock_text,
    minutes_text,
    mmss,
    short_standard,
)
from ambsim_gui.ui.table_model import Cell, KeyedTable, Row, cell

_CATEGORY_COLOURS = {c: QColor(css) for c, css in CATEGORY_CSS.items()}


def _cat_colour(category: str) -> QColor | None:
    return _CATEGORY_COLOURS.get(category)


VEHICLE_STATUS_ORDER = (
    "available",
    "mobilising",
    "to_scene",
    "on_scene",
    "to_hospital",
    "at_hospital",
    "clearing",
    "returning",
    "rest",
    "off_duty",
)


def incident_status(ctx: DeskContext, inc: IncidentView, stacked: set[str] | None = None) -> str:
    """What the board says an open incident is waiting for or has: on scene, conveying,
    queued, needs DCA (an RRV's crew asked for an ambulance), assigned (on the way), hub (on the
    clinical hub's stack), call-back (a clinician is on the phone), with crew, or open.
    ``stacked``: the ids on the hub's stack, when the caller has them at hand."""
    statuses = [ctx.room.vehicles[v].status for v in inc.vehicles]
    if "on_scene" in statuses:
        return "on scene" if not (inc.queued and inc.needs == "DCA") else "needs DCA"
    if any(s in ("to_hospital", "at_hospital") for s in statuses):
        return "conveying"
    if inc.queued:
        return "needs DCA" if inc.needs == "DCA" else "queued"
    if any(s in EN_ROUTE_STATUSES for s in statuses):
        return "assigned"
    if inc.on_hub:
        if stacked is None:
            stacked = set(ctx.room.hub_stack)
        return "hub" if inc.id in stacked else "call-back"
    return "with crew" if statuses else "open"


class _Board(QWidget):
    """A label over a keyed table."""

    def __init__(
        self,
        headers: tuple[str, ...],
        widths: list[int],
        parent: QWidget | None,
        stretch: int | None = None,
    ) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        self.summary = QLabel("")
        self.summary.setObjectName("boardSummary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = KeyedTable(headers, self)
        self.table.set_column_widths(widths, stretch)
        layout.addWidget(self.table, 1)
        self.stamp: object = None


class BoardsWidget(QTabWidget):
    """Incidents, vehicles, clinical hub and hospitals boards, as tabs."""

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("boards")
        self.incidents = _Board(
            ("Incident", "Cat", "Complaint", "Area", "Clock", "Std (min)", "Vehicles", "Status"),
            [68, 36, 150, 104, 76, 70, 84, 86],
            self,
            stretch=2,
        )
        self.incidents.table.setObjectName("incidentsBoard")
        self.vehicles = _Board(
            ("Call sign", "Type", "Station", "Status", "Job", "ETA"),
            [110, 50, 170, 110, 150],
            self,
        )
        self.vehicles.table.setObjectName("vehiclesBoard")
        self.hub = _Board(
            ("Incident", "Cat", "Complaint", "Waiting", "Breach at", "Breach in"),
            [84, 44, 200, 80, 90],
            self,
        )
        self.hub.table.setObjectName("hubBoard")
        self.hospitals = _Board(
            ("Hospital", "Kind", "Crews in handover", "Diversion", "Handovers", "Mean wait"),
            [250, 50, 140, 110, 90, 90],
            self,
            stretch=0,
        )
        self.hospitals.table.setObjectName("hospitalsBoard")
        self.addTab(self.incidents, "Incidents")
        self.addTab(self.vehicles, "Vehicles")
        self.addTab(self.hub, "Clinical hub")
        self.addTab(self.hospitals, "Hospitals")
        self.incidents.table.key_selected.connect(ctx.select_incident)
        self.hub.table.key_selected.connect(ctx.select_incident)
        self.vehicles.table.key_selected.connect(ctx.select_vehicle)
        ctx.incident_selected.connect(self._incident_selected)
        ctx.vehicle_selected.connect(self._vehicle_selected)
        self.currentChanged.connect(lambda _i: self.refresh(force=True))
        self._dirty: set[str] = set()
        self._standards: dict[str, tuple[Cell, Cell, Standard]] = {}
        self._incident_rows: dict[str, tuple[tuple[str, ...], Row]] = {}
        self.refresh(force=True)

    def _incident_selected(self, incident_id: str) -> None:
        self.incidents.table.select_key(incident_id or None)
        self.hub.table.select_key(incident_id or None)

    def _vehicle_selected(self, vehicle_id: str) -> None:
        self.vehicles.table.select_key(vehicle_id or None)

    def mark_dirty(self, kinds: set[str]) -> None:
        self._dirty |= kinds

    def refresh(self, force: bool = False) -> None:
        """Redraw the visible board if its data changed or its clocks moved (slow refresh);
        the tab titles (with counts) always."""
        room = self.ctx.room
        now = self.ctx.now
        open_now = room.open_incidents()
        free_n = len(room.free_vehicles(now))
        self._tab_text(0, f"Incidents ({len(open_now)})")
        self._tab_text(1, f"Vehicles ({free_n} free)")
        on_hub = sum(1 for i in open_now if i.on_hub)
        self._tab_text(2, f"Clinical hub ({on_hub})")
        diverted = sum(1 for h in room.hospitals.values() if h.diverted)
        self._tab_text(3, f"Hospitals ({diverted} diverted)" if diverted else "Hospitals")
        current = self.currentWidget()
        if not isinstance(current, _Board):
            return
        drawers = {
            self.incidents: ("incidents", self._draw_incidents, 1.0),
            self.vehicles: ("vehicles", self._draw_vehicles, 15.0),
            self.hub: ("hub", self._draw_hub, 1.0),
            self.hospitals: ("hospitals", self._draw_hospitals, 60.0),
        }
        kind, draw, every_s = drawers[current]
        stamp = int(now // every_s)
        if force or kind in self._dirty or stamp != current.stamp:
            self._dirty.discard(kind)
            current.stamp = stamp
            draw(now)

    def _standard_cells(self) -> dict[str, tuple[Cell, Cell, Standard]]:
        """Per category: its badge cell, its standard's cell, and the standard (cached)."""
        if not self._standards:
            for c in ("C1", "C2", "C3", "C4"):
                standard = self.ctx.regime.standard_for(c)
                self._standards[c] = (
                    Cell(c, foreground=_cat_colour(c), bold=True),
                    Cell(short_standard(standard), tooltip=standard.describe()),
                    standard,
                )
        return self._standards

    def _tab_text(self, index: int, text: str) -> None:
        if self.tabText(index) != text:  # QTabBar re-lays itself out on every setTabText
            self.setTabText(index, text)

    def _draw_incidents(self, now: float) -> None:
        ctx = self.ctx
        room = ctx.room
        incidents = sorted(room.open_incidents(), key=lambda i: (i.rank, i.t_open, i.id))
        protocol = ctx.protocol
        stacked = set(room.hub_stack)
        standards = self._standard_cells()
        memo = self._incident_rows
        rows = []
        for inc in incidents:
            clock, stopped = ctx.live.response_clock(inc.id, inc.category, now)
            clock_text_ = mmss(clock) + (" stop" if stopped else "")
            callsigns = ", ".join(room.vehicles[v].callsign for v in inc.vehicles) or "-"
            status = incident_status(ctx, inc, stacked)
            signature = (inc.category, clock_text_, callsigns, status)
            known = memo.get(inc.id)
            if known is not None and known[0] == signature:
                rows.append(known[1])  # nothing changed: no new cells
                continue
            category_cell, standard_cell, standard = standards[inc.category]
            rag = clock_rag(clock, standard)
            row = Row(
                inc.id,
                (
                    Cell(inc.id, bold=True),
                    category_cell,
                    Cell(protocol.describe(inc.complaint, inc.code)),
                    Cell(inc.area),
                    Cell(clock_text_, RAG_BACKGROUNDS[rag], align_right=True),
                    standard_cell,
                    Cell(callsigns),
                    Cell(status),
                ),
            )
            memo[inc.id] = (signature, row)
            rows.append(row)
        if len(memo) > 2 * len(incidents) + 100:  # forget closed incidents now and then
            keep = {inc.id for inc in incidents}
            self._incident_rows = {k: v for k, v in memo.items() if k in keep}
        self.incidents.table.set_rows(rows)
        by_cat = {c: 0 for c in ("C1", "C2", "C3", "C4")}
        for inc in incidents:
            by_cat[inc.category] += 1
        queued = sum(1 for i in incidents if i.queued)
        on_hub = sum(1 for i in incidents if i.on_hub)
        self.incidents.summary.setText(
            f"{len(incidents)} open: "
            + ", ".join(f"{c} {n}" for c, n in by_cat.items())
            + f"; {queued} waiting for a vehicle, {on_hub} on the hub"
        )

    def _draw_vehicles(self, now: float) -> None:
        ctx = self.ctx
        room = ctx.room
        counts = {s: 0 for s in VEHICLE_STATUS_ORDER}
        rows = []
        for v in room.vehicles.values():
            counts[v.status] = counts.get(v.status, 0) + 1
            job = ""
            if v.incident_id:
                inc = room.incidents.get(v.incident_id)
                job = f"{inc.category} {inc.id}" if inc is not None else v.incident_id
            eta = ctx.live.eta_s(v.id, v.status, now)
            rows.append(
                Row(
                    v.id,
                    (
                        cell(v.callsign, bold=True),
                        cell(v.type),
                        cell(v.station),
                        cell(vehicle_status_words(v.status)),
                        cell(job),
                        cell(minutes_text(eta) if eta is not None else "", align_right=True),
                    ),
                )
            )
        self.vehicles.table.set_rows(rows)
        self.vehicles.summary.setText(
            "  ".join(
                f"{vehicle_status_words(s)} {n}" for s, n in counts.items() if n or s == "available"
            )
        )

    def _draw_hub(self, now: float) -> None:
        ctx = self.ctx
        room = ctx.room
        start = ctx.setup.scenario.start
        rows = []
        protocol = ctx.protocol
        waiting = room.hub_waiting()
        for inc, breach_at in waiting:
            left = breach_at - now
            rag = "red" if left < 5 * 60 else "amber" if left < 15 * 60 else "green"
            rows.append(
                Row(
                    inc.id,
                    (
                        cell(inc.id, bold=True),
                        cell(inc.category, bold=True, foreground=_cat_colour(inc.category)),
                        cell(protocol.describe(inc.complaint, inc.code)),
                        cell(mmss(now - inc.t_open), align_right=True),
                        cell(clock_text(start, breach_at)[:5]),
                        cell(
                            mmss(max(0.0, left)), background=RAG_BACKGROUNDS[rag], align_right=True
                        ),
                    ),
                )
            )
        stacked = {inc.id for inc, _ in waiting}
        calling = [i for i in room.open_incidents() if i.on_hub and i.id not in stacked]
        for inc in calling:
            rows.append(
                Row(
                    inc.id,
                    (
                        cell(inc.id, bold=True),
                        cell(inc.category, bold=True, foreground=_cat_colour(inc.category)),
                        cell(protocol.describe(inc.complaint, inc.code)),
                        cell(mmss(now - inc.t_open), align_right=True),
                        cell("-"),
                        cell("call-back", bold=True),
                    ),
                )
            )
        self.hub.table.set_rows(rows)
        clinicians = ctx.setup.scenario.clinical_hub.clinicians
        if clinicians == 0:
            self.hub.summary.setText("No clinical hub on this shift.")
        else:
            self.hub.summary.setText(
                f"{len(waiting)} waiting for a call-back, {len(calling)} being called back"
                f" ({clinicians} clinicians); a vehicle is sent once the breach time passes"
            )

    def _draw_hospitals(self, now: float) -> None:
        ctx = self.ctx
        rows = []
        total_waiting = 0
        for name, site in ctx.setup.hospitals.items():
            h = ctx.room.hospitals.get(name) or HospitalView(name)
            waiting, diverted = h.crews_waiting, h.diverted
            count, total = ctx.live.handovers.get(name, (0, 0.0))
            total_waiting += waiting
            rag = "red" if waiting >= 4 else "amber" if waiting >= 2 else "green"
            rows.append(
                Row(
                    name,
                    (
                        cell(name, bold=True),
                        cell(site.kind.upper()),
                        cell(str(waiting), background=RAG_BACKGROUNDS[rag], align_right=True),
                        cell("ON DIVERSION" if diverted else "open", bold=diverted),
                        cell(str(count), align_right=True),
                        cell(mmss(total / count) if count else "-", align_right=True),
                    ),
                )
            )
        self.hospitals.table.set_rows(rows)
        self.hospitals.summary.setText(
            f"{total_waiting} crews waiting to hand over; the standard is handover within 15 min"
        )
