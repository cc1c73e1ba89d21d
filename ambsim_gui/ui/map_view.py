"""The live map of the trainee desk (`MapView`): roads, areas, stations, hospitals, moving
vehicles, open incidents and callers, redrawn every frame from the read model
(``readmodel.RoomProjection``) and the ``Tracker`` port (where a vehicle is along its route),
with click to select and drag-a-vehicle-onto-an-incident to dispatch.

How it stays cheap at 60 Hz on a 78k-edge city with 350 vehicles:

* The base map (areas and roads, one path item per road class, `map_base.BaseMap`) lives in a
  scene of its own painted as the view's cached background: a frame copies a pixmap; roads
  are re-stroked (tile by tile) only when the zoom changes or a pan uncovers new ground.
* Every symbol is a stock Qt item that Qt keeps as a cached pixmap, and every label one
  pre-rendered pixmap (`map_items`): a frame is blits, with no Python paint code. Vehicle
  items are made once per vehicle; incident and caller markers come from pools.
* `refresh` reads only the events that arrived since the last frame to learn which
  vehicles, incidents, calls and hospitals changed, then moves the vehicles that are driving
  (positions interpolated along their routes, asked of the `Tracker` port) and re-labels the
  incidents whose age has just ticked over a minute. A full resynchronisation runs every
  `FULL_SYNC_FRAMES` as a safety net.
* Level of detail (minor roads, call signs, station, town and village names, C3/C4 tags) is
  switched when the zoom crosses a threshold, never per paint; incident tags are placed
  around their dots so they do not overlap (most urgent first) when incidents come and go or
  the zoom changes.

Roads closed by an inject are drawn in red while they are closed (the read model's closures).

The read model holds no hidden truth, so the map cannot draw it. ``show_truth`` is kept for the
replay window, which will draw it later.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QResizeEvent,
    QShowEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGraphicsLineItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsView,
    QWidget,
)
from shapely.ops import polylabel, unary_union

from ambsim_gui.labels import vehicle_status_words, vehicle_type_words
from ambsim_gui.readmodel.ports import DeskPorts, DeskSetup, EnginePorts
from ambsim_gui.readmodel.room import (
    CATEGORY_RANK,
    HospitalView,
    IncidentView,
    RoomProjection,
    VehicleView,
)
from ambsim_gui.sim import events as ev
from ambsim_gui.ui import map_style as S
from ambsim_gui.ui.map_base import BaseMap
from ambsim_gui.ui.map_items import (
    CallMarker,
    HospitalGlyph,
    IncidentMarker,
    Label,
    MapLegend,
    StationGlyph,
    VehicleGlyph,
    tag_of,
)

#: Resynchronise everything from the engine's state this often, whatever the events said.
FULL_SYNC_FRAMES = 300
#: A driving vehicle's item moves only when it has moved this many pixels on screen.
MOVE_EPSILON_PX = 0.2
#: Pixels around the cursor searched for a symbol on click or drop.
HIT_RADIUS_PX = 4
#: Re-place incident tags at most this often (frames) when incidents come and go.
DECLUTTER_FRAMES = 6
WHEEL_STEP = 1.2  # zoom factor per wheel notch (120 eighths of a degree)
KEY_STEP = 1.25
TOWN_LABEL_ROOM_PX = 30.0
#: An imported map splits a place into several areas ("Eschen", "Eschen (2)", "Eschen rural"):
#: the map names one place once, on its largest built-up part.
_AREA_PART = re.compile(r"(?: rural)?(?: \(\d+\))?$")
PAN_FRACTION = 0.125


@dataclass
class _StaticLabel:
    """An area or village name; a town's goes inside its top edge when the town is tall
    enough on screen, else just above it."""

    label: Label
    layer: str  # areas | towns | villages
    top_edge_height_m: float = 0.0  # > 0: a town's name on its top edge
    rank: tuple[int, float] = (0, 0.0)  # lower first: who keeps the place where names collide

    def fit(self, scale: float) -> None:
        if self.top_edge_height_m > 0:
            if self.top_edge_height_m * scale > 4 * TOWN_LABEL_ROOM_PX:
                self.label.place(0.0, 4.0, "center", "top")
            else:
                self.label.place(0.0, -2.0, "center", "bottom")


@dataclass
class _Tracked:
    """A vehicle's glyph and what the view last drew of it."""

    vehicle: VehicleView
    glyph: VehicleGlyph
    x: float = float("nan")
    y: float = float("nan")
    status: str = ""
    incident_id: str | None = None


class MapView(QGraphicsView):
    """The desk's map. Call `refresh` every frame; listen to the signals for the trainee's
    clicks and drag-to-dispatch gestures."""

    vehicle_clicked = Signal(str)
    incident_clicked = Signal(str)
    call_clicked = Signal(str)
    hospital_clicked = Signal(str)
    dispatch_dropped = Signal(str, str)  # (vehicle id, incident id)

    def __init__(
        self, source: Any, parent: QWidget | None = None, room: RoomProjection | None = None
    ) -> None:
        """``source``: the desk's ports (or an engine, wrapped in ``EnginePorts``); ``room``:
        the read model the desk feeds (None: the view folds one of its own)."""
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        # Symbols move every frame: a BSP index would be rebuilt all the time for a few
        # hundred items that a linear scan handles easily.
        self._scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.setScene(self._scene)
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing
        )
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        # Stock items set their own pen, brush and font: saving the painter around each one
        # doubles the cost of a frame.
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)

        self._base: BaseMap | None = None
        self._static_labels: list[_StaticLabel] = []
        self._stations: list[StationGlyph] = []
        self._hospitals: dict[str, HospitalGlyph] = {}
        self._tracked: dict[str, _Tracked] = {}
        self._moving: dict[str, _Tracked] = {}
        self._side_nodes: dict[int, str] = {}  # node -> "station" | "hospital"
        self._incidents: dict[str, IncidentMarker] = {}
        self._incident_pool: list[IncidentMarker] = []
        self._calls: dict[str, CallMarker] = {}
        self._call_pool: list[CallMarker] = []
        self._selected_vehicle: str | None = None
        self._selected_incident: str | None = None
        self._route_item = QGraphicsPathItem()
        self._route_item.setPen(S.cosmetic_pen(S.ROUTE_COLOUR, 4.0))
        self._route_item.setZValue(S.Z_ROUTE)
        self._route_item.setVisible(False)
        self._scene.addItem(self._route_item)
        self._route_shown: object | None = None
        self._closure_item = QGraphicsPathItem()
        self._closure_item.setPen(S.cosmetic_pen(S.CLOSURE_COLOUR, S.CLOSURE_WIDTH))
        self._closure_item.setZValue(S.Z_CLOSURE)
        self._closure_item.setVisible(False)
        self._scene.addItem(self._closure_item)
        self._closure_dash = QGraphicsPathItem(self._closure_item)
        self._closure_dash.setPen(S.cosmetic_pen(S.CLOSURE_DASH_COLOUR, 2.0,
                                                 Qt.PenStyle.DashLine))
        self._closures_shown: tuple[int, ...] = ()
        self._drag_line = QGraphicsLineItem()
        self._drag_line.setPen(S.cosmetic_pen(S.DRAG_COLOUR, 2.0, Qt.PenStyle.DashLine))
        self._drag_line.setZValue(S.Z_DRAG)
        self._drag_line.setVisible(False)
        self._scene.addItem(self._drag_line)

        self._seen_events = 0
        self._frames = 0
        self._last_full = 0
        self._last_t = 0.0
        self._age_heap: list[tuple[float, str]] = []  # (next minute tick, incident id)
        self._age_next: dict[str, float] = {}
        self._stack_of: dict[str, int | None] = {}  # vehicle id -> node it stands at
        self._stacks: dict[int, set[str]] = {}  # node -> vehicles standing there
        self._dirty_stacks: set[int] = set()
        self._obstacles: tuple[float, list[tuple[float, float, float, float]]] | None = None
        self._last_declutter = 0
        self._lod_scale = -1.0
        self._lod: dict[str, bool] = {}
        self._declutter_due = False
        self._auto_fit = True
        self._show_truth = False
        self._press: tuple[str, str, QPoint] | None = None
        self._dragging = False

        self._legend = MapLegend(self)
        self._pending: list[ev.Event] = []
        self._listening: tuple[DeskPorts, list[Callable[[ev.Event], None]]] | None = None
        self.set_source(source, room)

    # --- public API ---------------------------------------------------------------------------

    @property
    def room(self) -> RoomProjection:
        return self._room

    @property
    def engine(self) -> Any:
        """The engine behind the ports, for whoever built the view; the view never reads it."""
        return getattr(self._ports, "engine", None)

    @property
    def show_truth(self) -> bool:
        """Whether hidden truth may be drawn (replay mode). Off on the live desk; the live map
        draws no truth either way for now."""
        return self._show_truth

    @show_truth.setter
    def show_truth(self, value: bool) -> None:
        self._show_truth = bool(value)

    @property
    def zoom_scale(self) -> float:
        """The current zoom in screen pixels per metre."""
        return float(self.transform().m11())

    @property
    def minor_roads_visible(self) -> bool:
        return self._base is not None and self._base.minor_roads_visible

    @property
    def base_map(self) -> BaseMap:
        assert self._base is not None
        return self._base

    def set_engine(self, engine: Any) -> None:
        """Show another shift's engine (``set_source`` with a read model of its own)."""
        self.set_source(engine)

    def set_source(self, source: Any, room: RoomProjection | None = None) -> None:
        """Show another shift (the same map is kept if the network is the same)."""
        self.detach()
        ports = EnginePorts.of(source)
        self._ports: DeskPorts = ports
        self._setup: DeskSetup = ports.setup()
        listeners: list[Callable[[ev.Event], None]] = []
        if room is None:
            room = RoomProjection()
            ports.subscribe(room.apply)  # the shift so far, then every event
            listeners.append(room.apply)
        self._room = room
        self._pending = []
        ports.subscribe(self._pending.append, replay=False)
        listeners.append(self._pending.append)
        self._listening = (ports, listeners)
        network = self._setup.network
        if self._base is None or self._base.network is not network:
            if self._base is not None:
                self._base.deleteLater()
            self._base = BaseMap(network, self)
            self._scene.setSceneRect(self._base.scene.sceneRect())
            self._build_static_labels()
            self._auto_fit = True
        self._clear_dynamic()
        self._build_sites()
        for vehicle in self._room.vehicles.values():
            glyph = VehicleGlyph(self._scene, vehicle.id, vehicle.callsign, vehicle.type)
            self._tracked[vehicle.id] = _Tracked(vehicle, glyph)
        self._lod_scale = -1.0
        self._lod.clear()
        if self._auto_fit:
            self.fit_all()
        self._apply_lod()
        self._full_sync(ports.now)
        self._declutter_incident_labels()
        self.resetCachedContent()
        self.viewport().update()

    def detach(self) -> None:
        """Stop listening to the shift's events (the desk closes, or another shift is shown)."""
        if self._listening is not None:
            ports, listeners = self._listening
            for listener in listeners:
                ports.unsubscribe(listener)
            self._listening = None

    def refresh(self, now: float | None = None) -> None:
        """Bring the map up to the read model at ``now`` (default: the shift's clock).

        Called every frame: reads only the new events, moves driving vehicles, and updates
        incident ages when a minute ticks over.
        """
        t = self._ports.now if now is None else float(now)
        self._frames += 1
        news, self._pending[:] = list(self._pending), []
        if t < self._last_t or self._frames - self._last_full >= FULL_SYNC_FRAMES:
            self._full_sync(t)
        elif news:
            self._apply_events(news, t)
        self._seen_events += len(news)
        self._last_t = t
        self._move_vehicles(t)
        if self._selected_vehicle in self._moving:
            self._update_route()
        if self._age_heap and self._age_heap[0][0] <= t:
            self._update_ages(t)
        if self.transform().m11() != self._lod_scale:
            self._apply_lod()
        if self._declutter_due and self._frames - self._last_declutter >= DECLUTTER_FRAMES:
            self._declutter_incident_labels()

    def select_vehicle(self, vehicle_id: str | None) -> None:
        """Highlight a vehicle and draw its current route (None: clear)."""
        old = self._tracked.get(self._selected_vehicle or "")
        if old is not None:
            old.glyph.set_selected(False)
        self._selected_vehicle = vehicle_id if vehicle_id in self._tracked else None
        new = self._tracked.get(self._selected_vehicle or "")
        if new is not None:
            new.glyph.set_selected(True)
        self._update_route()

    def select_incident(self, incident_id: str | None) -> None:
        """Highlight an open incident's marker (None: clear)."""
        old = self._incidents.get(self._selected_incident or "")
        if old is not None:
            old.set_selected(False)
        self._selected_incident = incident_id
        new = self._incidents.get(incident_id or "")
        if new is not None:
            new.set_selected(True)

    @property
    def selected_vehicle(self) -> str | None:
        return self._selected_vehicle

    @property
    def selected_incident(self) -> str | None:
        return self._selected_incident

    def center_on(self, x: float, y: float) -> None:
        """Centre the view on map coordinates (metres), keeping the zoom."""
        self._auto_fit = False
        self.centerOn(S.scene_point(x, y))

    def fit_all(self) -> None:
        """Zoom and pan so the whole map shows."""
        if self._base is None:
            return
        self._auto_fit = True
        rect = self._base.rect
        vw, vh = max(1, self.viewport().width()), max(1, self.viewport().height())
        free = self._room_beside_legend(rect, vw, vh)
        scale = min(free.width() / max(rect.width(), 1.0), free.height() / max(rect.height(), 1.0))
        # The viewport's whole extent in scene units, placed so the map's centre lands in the
        # middle of the room the key leaves free; the scene must reach that far to scroll to it.
        view = QRectF(
            rect.center().x() - free.center().x() / scale,
            rect.center().y() - free.center().y() / scale,
            vw / scale,
            vh / scale,
        )
        self._scene.setSceneRect(self._base.scene.sceneRect().united(view))
        self.fitInView(view, Qt.AspectRatioMode.KeepAspectRatio)
        self._apply_lod()

    def _room_beside_legend(self, rect: QRectF, vw: int, vh: int) -> QRectF:
        """Where the whole map fits without the key covering any of it: right of the key or
        above it, whichever shows the map larger (the whole viewport if the key is hidden)."""
        if self._legend.isHidden():
            return QRectF(0, 0, vw, vh)
        self._legend.adjustSize()
        gap = 8 + 8
        lw, lh = self._legend.width() + gap, self._legend.height() + gap
        rw, rh = max(rect.width(), 1.0), max(rect.height(), 1.0)
        right = QRectF(lw, 0, max(1, vw - lw), vh)
        above = QRectF(0, 0, vw, max(1, vh - lh))
        fit_right = min(right.width() / rw, right.height() / rh)
        fit_above = min(above.width() / rw, above.height() / rh)
        return right if fit_right >= fit_above else above

    def zoom_by(self, factor: float, anchor: QPoint | None = None) -> None:
        """Zoom by ``factor`` keeping the scene point under ``anchor`` (viewport pixels; default
        the centre) where it is."""
        scale = self.zoom_scale
        target = min(max(scale * factor, self._min_scale()), S.MAX_SCALE)
        if scale <= 0 or abs(target - scale) < 1e-12:
            return
        self._auto_fit = False
        centre = QPointF(self.viewport().width() / 2.0, self.viewport().height() / 2.0)
        at = QPointF(anchor) if anchor is not None else centre
        scene_at = self.mapToScene(at.toPoint())
        self.scale(target / scale, target / scale)
        self.centerOn(scene_at + (centre - at) / target)
        self._apply_lod()

    def zoom_in(self) -> None:
        self.zoom_by(KEY_STEP)

    def zoom_out(self) -> None:
        self.zoom_by(1.0 / KEY_STEP)

    def set_legend_visible(self, visible: bool) -> None:
        self._legend.setVisible(visible)
        if self._auto_fit:
            self.fit_all()  # the map may take the room the key leaves, or give it back

    def toggle_legend(self) -> None:
        self.set_legend_visible(self._legend.isHidden())

    def vehicle_view_pos(self, vehicle_id: str) -> QPoint | None:
        """Where a vehicle's symbol is drawn, in viewport pixels (None if hidden or unknown)."""
        tracked = self._tracked.get(vehicle_id)
        if tracked is None or not tracked.glyph.item.isVisible():
            return None
        origin = self.mapFromScene(tracked.glyph.item.scenePos()).toPointF()
        return (origin + tracked.glyph.view_offset()).toPoint()

    def incident_view_pos(self, incident_id: str) -> QPoint | None:
        """Where an open incident's marker is drawn, in viewport pixels."""
        marker = self._incidents.get(incident_id)
        if marker is None:
            return None
        return self.mapFromScene(marker.item.scenePos())

    def call_view_pos(self, call_id: str) -> QPoint | None:
        marker = self._calls.get(call_id)
        if marker is None:
            return None
        return self.mapFromScene(marker.item.scenePos())

    def vehicle_item(self, vehicle_id: str) -> VehicleGlyph | None:
        tracked = self._tracked.get(vehicle_id)
        return tracked.glyph if tracked is not None else None

    def incident_marker(self, incident_id: str) -> IncidentMarker | None:
        return self._incidents.get(incident_id)

    def call_marker(self, call_id: str) -> CallMarker | None:
        return self._calls.get(call_id)

    def hospital_glyph(self, name: str) -> HospitalGlyph | None:
        return self._hospitals.get(name)

    def all_scene_items(self) -> list[object]:
        """Every item drawn: the symbols' scene and the base map's (for tests and counts)."""
        return [*self._scene.items(), *self.base_map.scene.items()]

    # --- building -----------------------------------------------------------------------------

    def _build_static_labels(self) -> None:
        for static in self._static_labels:
            self._scene.removeItem(static.label.item)
        self._static_labels.clear()
        assert self._base is not None
        network = self._base.network
        taken = None
        parts: dict[str, tuple[tuple[int, float], Any, Any]] = {}
        for area in network.areas:
            own = area.polygon if taken is None else area.polygon.difference(taken)
            taken = area.polygon if taken is None else unary_union([taken, area.polygon])
            if own.is_empty:
                continue
            if own.geom_type != "Polygon":
                own = max(shapely.get_parts(own), key=lambda g: g.area)
            place = _AREA_PART.sub("", area.name) or area.name
            rank = (0 if area.kind == "urban" else 2, -float(own.area))
            if place not in parts or rank < parts[place][0]:
                parts[place] = (rank, area, own)
        for place, (rank, area, own) in parts.items():
            label = Label(None, S.font(13, bold=True), S.AREA_LABEL_TEXT, S.AREA_LABEL_BG,
                          pad=(4.0, 1.0))
            label.set_text(place)
            if area.kind == "urban":
                spot = _top_edge_spot(own)
                height = own.bounds[3] - own.bounds[1]
            else:
                spot = polylabel(own, tolerance=max(1.0, own.length / 500))
                height = 0.0
                label.place(0.0, 0.0, "center", "center")
            label.item.setPos(S.scene_point(spot.x, spot.y))
            label.item.setZValue(S.Z_AREA_LABEL)
            self._scene.addItem(label.item)
            self._static_labels.append(_StaticLabel(label, "areas", height, rank))
        area_names = {a.name for a in network.areas} | set(parts)
        for point in network.points:
            layer = S.PLACE_LABEL_LAYER.get(point.kind)
            if layer is None or point.name in area_names:
                continue
            if layer == "towns":
                label = Label(None, S.font(12, bold=True), S.TOWN_LABEL_TEXT, S.AREA_LABEL_BG,
                              pad=(3.0, 0.0))
            else:
                label = Label(None, S.font(11, italic=True), S.VILLAGE_LABEL_TEXT,
                              S.AREA_LABEL_BG, pad=(2.0, 0.0))
            label.set_text(point.name)
            label.place(0.0, 0.0, "center", "center")
            label.item.setPos(S.scene_point(point.x, point.y))
            label.item.setZValue(S.Z_VILLAGE)
            self._scene.addItem(label.item)
            self._static_labels.append(_StaticLabel(label, layer, 0.0,
                                                    (-1 if layer == "towns" else 1, 0.0)))
        self._static_labels.sort(key=lambda static: static.rank)

    def _build_sites(self) -> None:
        setup = self._setup
        self._side_nodes = {}
        for site in setup.stations.values():
            self._stations.append(StationGlyph(self._scene, site.name, site.x, site.y))
            self._side_nodes[site.node] = "station"
        for name, site in setup.hospitals.items():
            glyph = HospitalGlyph(self._scene, name, site.kind, site.x, site.y)
            self._hospitals[name] = glyph
            self._side_nodes[site.node] = "hospital"

    def _clear_dynamic(self) -> None:
        for tracked in self._tracked.values():
            self._scene.removeItem(tracked.glyph.item)
        self._tracked.clear()
        self._moving.clear()
        for station in self._stations:
            self._scene.removeItem(station.item)
        self._stations.clear()
        for hospital in self._hospitals.values():
            self._scene.removeItem(hospital.item)
        self._hospitals.clear()
        for marker in self._incidents.values():
            marker.release()
            self._incident_pool.append(marker)
        self._incidents.clear()
        for call in self._calls.values():
            call.release()
            self._call_pool.append(call)
        self._calls.clear()
        self._selected_vehicle = None
        self._selected_incident = None
        self._route_item.setVisible(False)
        self._route_shown = None
        self._closures_shown = ()
        self._closure_item.setVisible(False)
        self._seen_events = 0
        self._last_t = 0.0
        self._age_heap.clear()
        self._age_next.clear()
        self._stack_of.clear()
        self._stacks.clear()
        self._dirty_stacks.clear()
        self._obstacles = None

    # --- keeping up with the shift --------------------------------------------------------------

    def _full_sync(self, t: float) -> None:
        self._last_full = self._frames
        self._pending.clear()
        self._age_heap.clear()
        self._age_next.clear()
        for vehicle_id in self._tracked:
            self._sync_vehicle(vehicle_id, t)
        self._restack()
        open_ids = [inc.id for inc in self._room.open_incidents()]
        open_set = set(open_ids)
        for incident_id in [i for i in self._incidents if i not in open_set]:
            self._sync_incident(incident_id, t)
        for incident_id in open_ids:
            self._sync_incident(incident_id, t)
        active = self._active_call_ids()
        for call_id in [c for c in self._calls if c not in active]:
            self._sync_call(call_id)
        for call_id in active:
            self._sync_call(call_id)
        for name in self._hospitals:
            self._sync_hospital(name)
        self._update_route()
        self._update_closures()

    def _active_call_ids(self) -> list[str]:
        room = self._room
        ids = list(room.ringing)
        for seat_id in self._setup.seats:
            seat = room.seats.get(seat_id)
            if seat is not None and seat.call_id is not None:
                ids.append(seat.call_id)
        return ids

    def _apply_events(self, news: list[ev.Event], t: float) -> None:
        vehicles: set[str] = set()
        incidents: set[str] = set()
        calls: set[str] = set()
        hospitals: set[str] = set()
        closures = False
        for event in news:
            if isinstance(event, (ev.RoadClosed, ev.RoadReopened)):
                closures = True
            vehicle_id = getattr(event, "vehicle_id", None)
            if vehicle_id is not None:
                vehicles.add(vehicle_id)
            incident_id = getattr(event, "incident_id", None)
            if incident_id is not None:
                incidents.add(incident_id)
            call_id = getattr(event, "call_id", None)
            if call_id is not None:
                calls.add(call_id)
            hospital = getattr(event, "hospital", None)
            if hospital is not None:
                hospitals.add(hospital)
        for vehicle_id in vehicles:
            if vehicle_id in self._tracked:
                self._sync_vehicle(vehicle_id, t)
        if self._dirty_stacks:
            self._restack()
        for incident_id in incidents:
            self._sync_incident(incident_id, t)
        for call_id in calls:
            self._sync_call(call_id)
        for name in hospitals:
            if name in self._hospitals:
                self._sync_hospital(name)
        if self._selected_vehicle in vehicles:
            self._update_route()
        if closures:
            self._update_closures()

    def _sync_vehicle(self, vehicle_id: str, t: float) -> None:
        tracked = self._tracked[vehicle_id]
        vehicle, glyph = tracked.vehicle, tracked.glyph
        status = vehicle.status
        visible = status != "off_duty"
        glyph.set_status(status)
        if glyph.item.isVisible() != visible:
            glyph.item.setVisible(visible)
        driving = visible and status in S.DRIVING_STATUSES
        if driving:
            self._moving[vehicle_id] = tracked
        else:
            self._moving.pop(vehicle_id, None)
        stand = self._ports.stand_node(vehicle_id) if visible and not driving else None
        old = self._stack_of.get(vehicle_id)
        if stand != old or vehicle_id not in self._stack_of:
            self._stack_of[vehicle_id] = stand
            if old is not None:
                self._stacks[old].discard(vehicle_id)
                self._dirty_stacks.add(old)
            if stand is not None:
                self._stacks.setdefault(stand, set()).add(vehicle_id)
                self._dirty_stacks.add(stand)
            else:
                glyph.set_offset(0.0, 0.0)
        self._place_vehicle(tracked, t, force=True)
        if status != tracked.status or vehicle.incident_id != tracked.incident_id:
            tracked.status = status
            tracked.incident_id = vehicle.incident_id
            kind = vehicle_type_words(vehicle.type)
            tip = f"{vehicle.callsign}: {kind}\n{vehicle_status_words(status)}"
            if vehicle.incident_id:
                tip += f", incident {vehicle.incident_id}"
            tip += f"\nstation: {vehicle.station}"
            glyph.item.setToolTip(tip)

    def _place_vehicle(self, tracked: _Tracked, t: float, force: bool = False) -> None:
        x, y = self._ports.position(tracked.vehicle.id, t)
        if not force:
            eps = MOVE_EPSILON_PX / max(self._lod_scale, 1e-9)
            if abs(x - tracked.x) < eps and abs(y - tracked.y) < eps:
                return
        if x != tracked.x or y != tracked.y:
            tracked.x, tracked.y = x, y
            tracked.glyph.item.setPos(x, -y)

    def _move_vehicles(self, t: float) -> None:
        for tracked in self._moving.values():
            self._place_vehicle(tracked, t)

    def _restack(self) -> None:
        """Spread vehicles standing at the same place into a column of symbols (only the
        places whose crowd changed)."""
        for node in self._dirty_stacks:
            members = sorted(
                (self._tracked[v] for v in self._stacks.get(node, ())),
                key=lambda m: m.vehicle.callsign,
            )
            side = self._side_nodes.get(node)
            n = len(members)
            for k, tracked in enumerate(members):
                if side == "hospital":
                    tracked.glyph.set_offset(S.STACK_X + 3.0, k * S.STACK_STEP)
                elif side == "station":
                    tracked.glyph.set_offset(S.STACK_X, (k - (n - 1) / 2) * S.STACK_STEP)
                else:  # on scene: below the spot, call signs on the left, clear of the
                    # incident's tag on the right
                    tracked.glyph.set_offset(0.0, (k + 1) * S.STACK_STEP, label_left=True)
        self._dirty_stacks.clear()
        self._declutter_due = True  # incident tags keep clear of standing vehicles

    def _sync_incident(self, incident_id: str, t: float) -> None:
        incident = self._room.incidents.get(incident_id)
        marker = self._incidents.get(incident_id)
        if incident is None or incident.status != "open":
            if marker is not None:
                marker.release()
                self._incident_pool.append(self._incidents.pop(incident_id))
                self._age_next.pop(incident_id, None)
                self._declutter_due = True
            return
        if marker is None:
            marker = self._incident_pool.pop() if self._incident_pool else IncidentMarker(
                self._scene
            )
            marker.bind(incident_id, incident.x, incident.y)
            marker.set_selected(incident_id == self._selected_incident)
            self._incidents[incident_id] = marker
        if marker.set_category(incident.category):
            self._declutter_due = True
        self._set_incident_age(marker, incident, t)
        tip = self._incident_tooltip(incident)
        marker.item.setToolTip(tip)
        marker.label.item.setToolTip(tip)

    def _incident_tooltip(self, incident: IncidentView) -> str:
        """What the room knows: id, category, complaint, area and who is assigned."""
        complaint = self._setup.protocol.describe(incident.complaint, incident.code)
        lines = [f"{incident.id}: {incident.category} \u2014 {complaint}", incident.area]
        if incident.vehicles:
            signs = [
                self._tracked[v].vehicle.callsign if v in self._tracked else v
                for v in incident.vehicles
            ]
            lines.append("assigned: " + ", ".join(signs))
        elif incident.on_hub:
            lines.append("with the clinical hub")
        elif incident.queued:
            lines.append("awaiting a vehicle")
        return "\n".join(lines)

    def _set_incident_age(self, marker: IncidentMarker, incident: IncidentView, t: float) -> None:
        minutes = max(0, int((t - incident.t_open) // 60.0))
        if len(str(minutes)) != len(str(max(marker.age_min, 0))):
            self._declutter_due = True  # the tag grows a digit
        marker.set_age(minutes)
        next_t = incident.t_open + (minutes + 1) * 60.0
        if self._age_next.get(incident.id) != next_t:
            self._age_next[incident.id] = next_t
            heapq.heappush(self._age_heap, (next_t, incident.id))

    def _update_ages(self, t: float) -> None:
        """Re-label the incidents whose age in minutes has ticked over (a heap of due times,
        so a frame touches only those)."""
        heap, incidents = self._age_heap, self._room.incidents
        while heap and heap[0][0] <= t:
            due, incident_id = heapq.heappop(heap)
            if self._age_next.get(incident_id) != due:
                continue  # superseded or closed
            marker = self._incidents.get(incident_id)
            if marker is None:
                del self._age_next[incident_id]
                continue
            self._set_incident_age(marker, incidents[incident_id], t)

    def _sync_call(self, call_id: str) -> None:
        call = self._room.calls.get(call_id)
        marker = self._calls.get(call_id)
        if call is None or call.status not in ("ringing", "answered"):
            if marker is not None:
                marker.release()
                self._call_pool.append(self._calls.pop(call_id))
            return
        if marker is None:
            marker = self._call_pool.pop() if self._call_pool else CallMarker(self._scene)
            marker.bind(call_id)
            marker.label.set_visible(self._lod.get("calls", True))
            self._calls[call_id] = marker
        marker.update(call.x, call.y, call.uncertainty_m, call.status)

    def _sync_hospital(self, name: str) -> None:
        state = self._room.hospitals.get(name) or HospitalView(name)
        glyph = self._hospitals[name]
        if glyph.state is not None and glyph.state[1] != state.diverted:
            self._obstacles = None  # the name (and its box) changes
            self._declutter_due = True
        glyph.set_state(state.crews_waiting, state.diverted)

    def _update_route(self) -> None:
        """Draw the selected vehicle's route from the junction it last passed to its end."""
        tracked = self._tracked.get(self._selected_vehicle or "")
        drive = None
        if tracked is not None and tracked.vehicle.status in S.ROUTE_STATUSES:
            drive = self._ports.route(tracked.vehicle.id)
        if drive is None or tracked is None:
            self._route_item.setVisible(False)
            self._route_shown = None
            return
        route, depart_t = drive
        elapsed = self._last_t - depart_t
        passed = int(np.searchsorted(route.cum_time_s, elapsed, side="right")) - 1
        passed = min(max(passed, 0), len(route.xy) - 1)
        if (route, passed) != self._route_shown:
            xy = route.xy[passed:]
            path = QPainterPath()
            path.moveTo(float(xy[0, 0]), -float(xy[0, 1]))
            for x, y in xy[1:].tolist():
                path.lineTo(x, -y)
            self._route_item.setPath(path)
            self._route_shown = (route, passed)
        self._route_item.setVisible(True)

    def _update_closures(self) -> None:
        """Draw the roads closed now (every closure in the read model), or nothing."""
        edges = tuple(sorted({e for closed in self._room.closures.values() for e in closed}))
        if edges == self._closures_shown:
            return
        self._closures_shown = edges
        path = QPainterPath()
        names: list[str] = []
        if edges:
            assert self._base is not None
            network = self._base.network
            idx = np.asarray(edges, dtype=np.int64)
            u, v = network.edge_u[idx], network.edge_v[idx]
            pairs = np.unique(np.column_stack([np.minimum(u, v), np.maximum(u, v)]), axis=0)
            for a, b in pairs.tolist():
                (x1, y1), (x2, y2) = network.xy[a].tolist(), network.xy[b].tolist()
                path.moveTo(x1, -y1)
                path.lineTo(x2, -y2)
            names = sorted({str(n) for n in network.edge_name[idx] if n})
        self._closure_item.setPath(path)
        self._closure_dash.setPath(path)
        what = ", ".join(names) if names else "unnamed roads"
        self._closure_item.setToolTip(f"Road closed: {what}")
        self._closure_item.setVisible(bool(edges))

    @property
    def closure_item(self) -> QGraphicsPathItem:
        """The roads closed now (hidden when none is)."""
        return self._closure_item

    @property
    def route_item(self) -> QGraphicsPathItem:
        """The selected vehicle's route (hidden when there is none)."""
        return self._route_item

    # --- level of detail ----------------------------------------------------------------------

    def _fit_scale(self) -> float:
        if self._base is None:
            return 1.0
        rect = self._base.rect
        vw, vh = max(1, self.viewport().width()), max(1, self.viewport().height())
        return min(vw / max(rect.width(), 1.0), vh / max(rect.height(), 1.0))

    def _min_scale(self) -> float:
        return self._fit_scale() * S.MIN_SCALE_OF_FIT

    def _apply_lod(self) -> None:
        scale = self.zoom_scale
        if scale == self._lod_scale:
            return
        self._lod_scale = scale
        assert self._base is not None
        self._base.set_scale(scale)
        wanted = {
            "vehicles": scale >= S.LOD_VEHICLE_LABELS,
            "stations": scale >= S.LOD_STATION_LABELS,
            "towns": scale >= S.LOD_TOWN_LABELS,
            "villages": scale >= S.LOD_VILLAGE_LABELS,
            "incidents": scale >= S.LOD_INCIDENT_LABELS,
            "calls": scale >= S.LOD_CALL_LABELS,
            "areas": scale >= self._fit_scale() * S.LOD_AREA_LABELS_OF_FIT,
        }
        changed = {k for k, v in wanted.items() if self._lod.get(k) != v}
        self._lod.update(wanted)
        if "vehicles" in changed:
            for tracked in self._tracked.values():
                tracked.glyph.label.set_visible(wanted["vehicles"])
        if "stations" in changed:
            for station in self._stations:
                station.label.set_visible(wanted["stations"])
        if "calls" in changed:
            for call in self._calls.values():
                call.label.set_visible(wanted["calls"])
        self._place_static_labels(scale, wanted)
        self._declutter_incident_labels()
        # The cached background was drawn at the old scale.
        self.resetCachedContent()

    def _place_static_labels(self, scale: float, wanted: dict[str, bool]) -> None:
        """Show the place names of the layers in view, except where a hospital's symbol or
        name would cover them (the hospital matters more) or a name of higher rank is already
        there (towns, then built-up areas by size, villages, open country)."""
        h = S.HOSPITAL_SIZE / 2
        taken: list[tuple[float, float, float, float]] = []
        for hospital in self._hospitals.values():
            pos = hospital.item.pos()
            px, py = pos.x() * scale, pos.y() * scale
            x0, y0, x1, y1 = hospital.name_label.bounds()
            taken.append((px - h, py - h, px + h, py + h))
            taken.append((px + x0, py + y0, px + x1, py + y1))
        for static in self._static_labels:
            static.fit(scale)
            show = wanted[static.layer]
            if show:
                pos = static.label.item.pos()
                px, py = pos.x() * scale, pos.y() * scale
                x0, y0, x1, y1 = static.label.bounds()
                x0, y0, x1, y1 = px + x0, py + y0, px + x1, py + y1
                show = not any(a < x1 and x0 < c and b < y1 and y0 < d
                               for a, b, c, d in taken)
                if show:
                    taken.append((x0, y0, x1, y1))
            static.label.set_visible(show)

    def _static_obstacles(self, scale: float) -> list[tuple[float, float, float, float]]:
        """Pixel boxes (at this scale, origin at scene 0,0) of the hospitals, their names and
        the place names on show: incident tags keep clear of them."""
        if self._obstacles is not None and self._obstacles[0] == scale:
            return self._obstacles[1]
        boxes: list[tuple[float, float, float, float]] = []
        h = S.HOSPITAL_SIZE / 2
        for hospital in self._hospitals.values():
            pos = hospital.item.pos()
            px, py = pos.x() * scale, pos.y() * scale
            boxes.append((px - h, py - h, px + h, py + h))
            x0, y0, x1, y1 = hospital.name_label.bounds()
            boxes.append((px + x0, py + y0, px + x1, py + y1))
        for static in self._static_labels:
            if static.label.item.isVisible():
                pos = static.label.item.pos()
                px, py = pos.x() * scale, pos.y() * scale
                x0, y0, x1, y1 = static.label.bounds()
                boxes.append((px + x0, py + y0, px + x1, py + y1))
        self._obstacles = (scale, boxes)
        return boxes

    def _declutter_incident_labels(self) -> None:
        """Show incident tags most urgent (then oldest) first, each on the first side of its
        dot where it overlaps no tag already shown, incident dot, standing vehicle, hospital or
        place name (a C1 tag, failing that, only no other tag or dot), and
        hidden where there is no such side; C3/C4 tags only when zoomed in. Runs when
        incidents come and go (at most every `DECLUTTER_FRAMES` frames) or the zoom changes,
        not every frame."""
        self._declutter_due = False
        self._last_declutter = self._frames
        scale = max(self._lod_scale, 1e-9)
        show_low = self._lod.get("incidents", True)
        incidents = self._room.incidents
        cell = 128.0
        Grid = dict[tuple[int, int], list[tuple[float, float, float, float]]]
        soft: Grid = {}  # everything to keep clear of
        hard: Grid = {}  # incident dots and tags only: a C1 tag may cover anything else

        def add(x0: float, y0: float, x1: float, y1: float, grids: tuple[Grid, ...] = (soft,)
                ) -> None:
            box = (x0, y0, x1, y1)
            for i in range(int(x0 // cell), int(x1 // cell) + 1):
                for j in range(int(y0 // cell), int(y1 // cell) + 1):
                    for grid in grids:
                        grid.setdefault((i, j), []).append(box)

        def clear(x0: float, y0: float, x1: float, y1: float, grid: Grid) -> bool:
            for i in range(int(x0 // cell), int(x1 // cell) + 1):
                for j in range(int(y0 // cell), int(y1 // cell) + 1):
                    for a, b, c, d in grid.get((i, j), ()):
                        if a < x1 and x0 < c and b < y1 and y0 < d:
                            return False
            return True

        for box in self._static_obstacles(scale):
            add(*box)
        # Vehicles standing still (on scene, at hospital, at station) and their call signs.
        v = S.VEHICLE_SIZE / 2 + 1.5
        call_signs = self._lod.get("vehicles", False)
        for vehicle_id, node in self._stack_of.items():
            if node is None:
                continue
            tracked = self._tracked[vehicle_id]
            dx, dy = tracked.glyph.offset
            px, py = tracked.x * scale + dx, -tracked.y * scale + dy
            add(px - v, py - v, px + v, py + v)
            if call_signs:
                x0, y0, x1, y1 = tracked.glyph.label.bounds()
                add(px - dx + x0, py - dy + y0, px - dx + x1, py - dy + y1)
        r = S.INCIDENT_SIZE / 2
        order = []
        for incident_id, marker in self._incidents.items():
            incident = incidents[incident_id]
            px, py = incident.x * scale, -incident.y * scale
            add(px - r, py - r, px + r, py + r, (soft, hard))
            rank = CATEGORY_RANK.get(marker.category or "", 9)
            order.append((rank, incident.t_open, incident_id, px, py))
        order.sort()
        for rank, _, incident_id, px, py in order:
            label = self._incidents[incident_id].label
            if rank > 2 and not show_low:
                label.set_visible(False)
                continue
            grids = (soft, hard) if rank == 1 else (soft,)
            placed = False
            for grid in grids:
                for placement in IncidentMarker.PLACEMENTS:
                    x0, y0, x1, y1 = label.bounds_at(*placement)
                    box = (px + x0, py + y0, px + x1, py + y1)
                    if clear(*box, grid):
                        label.place(*placement)
                        add(*box, (soft, hard))
                        placed = True
                        break
                if placed:
                    break
            label.set_visible(placed)

    def lod_state(self) -> dict[str, bool]:
        """Which label layers show at the current zoom (and "minor_roads")."""
        return {**self._lod, "minor_roads": self.minor_roads_visible}

    # --- painting -----------------------------------------------------------------------------

    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:  # noqa: N802 (Qt)
        """Paint the base map (cached by the view; called when zoom or pan exposes ground)."""
        if self._base is None:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self._base.scene.render(painter, rect, rect, Qt.AspectRatioMode.IgnoreAspectRatio)

    # --- events -------------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(event)
        if self._auto_fit:
            self.fit_all()
        self._place_legend()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt)
        super().showEvent(event)
        if self._auto_fit:
            self.fit_all()
        self._place_legend()

    def _place_legend(self) -> None:
        self._legend.adjustSize()
        geo = self.viewport().geometry()
        self._legend.move(geo.left() + 8, geo.bottom() - self._legend.height() - 8)
        self._legend.raise_()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt)
        delta = event.angleDelta().y()
        if delta == 0:
            delta = event.pixelDelta().y()
        if delta:
            self.zoom_by(WHEEL_STEP ** (delta / 120.0), event.position().toPoint())
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt)
        key = event.key()
        k = Qt.Key
        if key in (k.Key_Plus, k.Key_Equal):
            self.zoom_in()
        elif key in (k.Key_Minus, k.Key_Underscore):
            self.zoom_out()
        elif key == k.Key_0:
            self.fit_all()
        elif key in (k.Key_Left, k.Key_Right, k.Key_Up, k.Key_Down):
            self._auto_fit = False
            horizontal = key in (k.Key_Left, k.Key_Right)
            bar = self.horizontalScrollBar() if horizontal else self.verticalScrollBar()
            size = self.viewport().width() if horizontal else self.viewport().height()
            step = int(size * PAN_FRACTION) * (-1 if key in (k.Key_Left, k.Key_Up) else 1)
            bar.setValue(bar.value() + step)
        elif key == k.Key_Escape and self._press is not None:
            self._end_drag()
            self._press = None
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def _hit(self, pos: QPoint, kinds: tuple[str, ...] | None = None) -> tuple[str, str] | None:
        """The symbol under ``pos``: the topmost one drawn right there, else the nearest
        within `HIT_RADIUS_PX` (forgiving small symbols without stealing a neighbour's
        click)."""
        for item in self.items(pos):
            found = tag_of(item)
            if found is not None and (kinds is None or found[0] in kinds):
                return found
        r = HIT_RADIUS_PX
        best: tuple[float, tuple[str, str]] | None = None
        for item in self.items(QRect(pos.x() - r, pos.y() - r, 2 * r + 1, 2 * r + 1)):
            found = tag_of(item)
            if found is None or (kinds is not None and found[0] not in kinds):
                continue
            centre = self._symbol_view_pos(*found)
            if centre is None:
                continue
            d = math.hypot(centre.x() - pos.x(), centre.y() - pos.y())
            if best is None or d < best[0]:
                best = (d, found)
        return best[1] if best is not None else None

    def _symbol_view_pos(self, kind: str, item_id: str) -> QPoint | None:
        if kind == "vehicle":
            return self.vehicle_view_pos(item_id)
        if kind == "incident":
            return self.incident_view_pos(item_id)
        if kind == "call":
            return self.call_view_pos(item_id)
        glyph = self._hospitals.get(item_id)
        return self.mapFromScene(glyph.item.scenePos()) if glyph is not None else None

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt)
        if event.button() == Qt.MouseButton.LeftButton:
            pos = event.position().toPoint()
            hit = self._hit(pos)
            if hit is not None:
                self._press = (hit[0], hit[1], pos)
                self._dragging = False
                event.accept()
                return
            self._auto_fit = False  # the trainee pans: a resize must not undo it
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt)
        if self._press is not None:
            kind, item_id, start = self._press
            pos = event.position().toPoint()
            if kind == "vehicle":
                if (
                    not self._dragging
                    and (pos - start).manhattanLength() >= QApplication.startDragDistance()
                ):
                    self._dragging = True
                    self._auto_fit = False
                    self.viewport().setCursor(Qt.CursorShape.DragLinkCursor)
                if self._dragging:
                    self._draw_drag(item_id, pos)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt)
        if self._press is not None and event.button() == Qt.MouseButton.LeftButton:
            kind, item_id, _ = self._press
            self._press = None
            pos = event.position().toPoint()
            if self._dragging:
                self._end_drag()
                target = self._hit(pos, ("incident",))
                if target is not None:
                    self.dispatch_dropped.emit(item_id, target[1])
            else:
                self._clicked(kind, item_id)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def _draw_drag(self, vehicle_id: str, pos: QPoint) -> None:
        start = self.vehicle_view_pos(vehicle_id)
        if start is None:
            return
        a, b = self.mapToScene(start), self.mapToScene(pos)
        self._drag_line.setLine(a.x(), a.y(), b.x(), b.y())
        over = self._hit(pos, ("incident",)) is not None
        pen = self._drag_line.pen()
        pen.setColor(S.SELECTION_COLOUR if over else S.DRAG_COLOUR)
        pen.setWidthF(3.0 if over else 2.0)
        self._drag_line.setPen(pen)
        self._drag_line.setVisible(True)

    def _end_drag(self) -> None:
        self._dragging = False
        self._drag_line.setVisible(False)
        self.viewport().unsetCursor()
        self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)

    def _clicked(self, kind: str, item_id: str) -> None:
        if kind == "vehicle":
            self.select_vehicle(item_id)
            self.vehicle_clicked.emit(item_id)
        elif kind == "incident":
            self.select_incident(item_id)
            self.incident_clicked.emit(item_id)
        elif kind == "call":
            self.call_clicked.emit(item_id)
        elif kind == "hospital":
            self.hospital_clicked.emit(item_id)


def _top_edge_spot(polygon: shapely.Geometry) -> shapely.Point:
    """Where a town's name goes: on its top edge, straight above its pole of inaccessibility,
    clear of the stations and hospitals usually found in a town's centre."""
    pole = polylabel(polygon, tolerance=max(1.0, polygon.length / 500))
    _, y0, _, y1 = polygon.bounds
    chord = polygon.intersection(shapely.LineString([(pole.x, y0 - 1.0), (pole.x, y1 + 1.0)]))
    if chord.is_empty:
        return pole
    for part in sorted(shapely.get_parts(chord), key=lambda g: -g.bounds[3]):
        if part.bounds[1] <= pole.y <= part.bounds[3]:
            return shapely.Point(pole.x, part.bounds[3])
    return pole
