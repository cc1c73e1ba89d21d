"""The replay window's map: roads (one path item per class), hospitals, vehicles, incidents.

One job: draw a ``record.replay_state.ReplayState`` over the recorded world, read-only. Vehicles
are placed with ``RouteCache.position`` and coloured by status; open incidents by category.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPainterPath, QPen, QResizeEvent
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QWidget,
)

from ambsim_gui.labels import vehicle_status_words
from ambsim_gui.record.replay_state import ReplayState
from ambsim_gui.record.vehicle_positions import RouteCache
from ambsim_gui.sim.world import World
from ambsim_gui.ui import map_style as st


def _marker(item: QGraphicsItem, z: float) -> QGraphicsItem:
    item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
    item.setZValue(z)
    return item


class ReplayMap(QGraphicsView):
    """A simple, read-only map of one moment of a recording."""

    def __init__(self, world: World, routes: RouteCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene_ = QGraphicsScene(self)
        self.setScene(self.scene_)
        self.world = world
        self.routes = routes
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setBackgroundBrush(st.BACKGROUND)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self._vehicles: dict[str, QGraphicsEllipseItem] = {}
        self._incidents: dict[str, QGraphicsRectItem] = {}
        self._incident_tags: dict[str, QGraphicsSimpleTextItem] = {}
        self._fitted = False
        self._draw_roads()
        self._draw_hospitals()

    # --- static layers -------------------------------------------------------------------------

    def _draw_roads(self) -> None:
        by_class = self.world.network.segments_by_class()
        for cname, segs in by_class.items():
            if len(segs) == 0:
                continue
            colour, width, z = st.ROAD_STYLE.get(cname, st.ROAD_DEFAULT)
            path = QPainterPath()
            for x1, y1, x2, y2 in segs.tolist():
                path.moveTo(x1, -y1)
                path.lineTo(x2, -y2)
            item = QGraphicsPathItem(path)
            item.setPen(st.cosmetic_pen(colour, max(1.0, width * 0.8)))
            item.setZValue(z * 0.1)
            self.scene_.addItem(item)
        xy = self.world.network.xy
        if len(xy):
            x0, y0 = xy.min(axis=0)
            x1, y1 = xy.max(axis=0)
            margin = 0.03 * max(x1 - x0, y1 - y0, 1.0)
            self._bounds = QRectF(
                x0 - margin, -y1 - margin, x1 - x0 + 2 * margin, y1 - y0 + 2 * margin
            )
        else:
            self._bounds = QRectF(-1000, -1000, 2000, 2000)
        self.scene_.setSceneRect(self._bounds)

    def _draw_hospitals(self) -> None:
        for site in self.world.hospitals.values():
            colour = st.UTC_COLOUR if site.kind == "utc" else st.HOSPITAL_COLOUR
            size = st.HOSPITAL_SIZE
            item = QGraphicsRectItem(-size / 2, -size / 2, size, size)
            item.setBrush(QBrush(colour))
            item.setPen(QPen(st.WHITE, 1.5))
            item.setPos(st.scene_point(site.x, site.y))
            item.setToolTip(site.name)
            self.scene_.addItem(_marker(item, st.Z_HOSPITAL))
            cross = QGraphicsSimpleTextItem("H", item)
            cross.setFont(st.font(12, bold=True))
            cross.setBrush(QBrush(st.WHITE))
            r = cross.boundingRect()
            cross.setPos(-r.width() / 2, -r.height() / 2)

    # --- the moment ----------------------------------------------------------------------------

    def show_state(self, state: ReplayState, t: float) -> None:
        seen: set[str] = set()
        for v in state.vehicles.values():
            if v.status == "off_duty":
                continue
            seen.add(v.id)
            item = self._vehicles.get(v.id)
            if item is None:
                size = st.VEHICLE_SIZE
                item = QGraphicsEllipseItem(-size / 2, -size / 2, size, size)
                item.setPen(QPen(st.OUTLINE, 1.0))
                self.scene_.addItem(_marker(item, st.Z_VEHICLE))
                self._vehicles[v.id] = item
            x, y = self.routes.position(v, t)
            item.setPos(st.scene_point(x, y))
            item.setBrush(QBrush(st.status_colour(v.status)))
            item.setToolTip(
                f"{v.callsign} ({v.type}): {vehicle_status_words(v.status)}"
                + (f" - {v.incident_id}" if v.incident_id else "")
            )
            item.setVisible(True)
        for vid, item in self._vehicles.items():
            if vid not in seen:
                item.setVisible(False)
        open_ids = set()
        for inc in state.incidents.values():
            if inc.status != "open":
                continue
            open_ids.add(inc.id)
            diamond = self._incidents.get(inc.id)
            if diamond is None:
                size = st.INCIDENT_SIZE
                diamond = QGraphicsRectItem(-size / 2, -size / 2, size, size)
                diamond.setRotation(45)
                diamond.setPen(QPen(st.OUTLINE, 1.0))
                diamond.setPos(st.scene_point(inc.x, inc.y))
                self.scene_.addItem(_marker(diamond, st.Z_INCIDENT))
                self._incidents[inc.id] = diamond
                tag = QGraphicsSimpleTextItem(inc.category)
                tag.setFont(st.font(11, bold=True))
                tag.setPos(st.scene_point(inc.x, inc.y))
                _marker(tag, st.Z_INCIDENT_TAG)
                self.scene_.addItem(tag)
                self._incident_tags[inc.id] = tag
            diamond.setBrush(QBrush(st.category_colour(inc.category)))
            what = self.world.protocol.describe(inc.complaint, inc.code)
            diamond.setToolTip(f"{inc.id} {inc.category}: {what} ({inc.area})")
            tag = self._incident_tags[inc.id]
            tag.setText(f"  {inc.category}")
            diamond.setVisible(True)
            tag.setVisible(inc.category in st.URGENT_CATEGORIES)  # labels only where it matters
        for iid, diamond in self._incidents.items():
            if iid not in open_ids:
                diamond.setVisible(False)
                self._incident_tags[iid].setVisible(False)

    def vehicle_items(self) -> dict[str, QGraphicsEllipseItem]:
        return self._vehicles

    def incident_items_visible(self) -> int:
        return sum(1 for item in self._incidents.values() if item.isVisible())

    # --- view ----------------------------------------------------------------------------------

    def fit(self) -> None:
        self.fitInView(self._bounds, Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.fit()

    def wheelEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt's name
        factor = 1.25 if event.angleDelta().y() > 0 else 0.8
        self.scale(factor, factor)
