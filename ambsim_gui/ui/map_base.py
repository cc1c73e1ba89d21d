"""The static base map: area polygons and roads batched into one path item per road class.

`BaseMap` holds these items in a scene of their own that the map view paints as its cached
background (`QGraphicsView.CacheBackground`), so the 78k-edge metropolitan road net costs a
pixmap copy per frame, and is re-stroked only when the zoom changes or a pan uncovers new ground.
Minor roads are hidden or shown by `set_scale` when the zoom crosses their threshold.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainterPath, QPolygonF
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsPolygonItem, QGraphicsScene

from ambsim_gui.geo.network import RoadNetwork
from ambsim_gui.ui import map_style as S


def segments_path(segments: np.ndarray) -> QPainterPath:
    """One painter path of many (x1, y1, x2, y2) segments in map metres (y flipped).

    Segments that continue where the previous one ended are joined into one polyline, which
    roughly halves the path's elements on a generated grid.
    """
    path = QPainterPath()
    if len(segments) == 0:
        return path
    coords = np.asarray(segments, dtype=np.float64).copy()
    coords[:, 1] *= -1.0
    coords[:, 3] *= -1.0
    move_to, line_to = path.moveTo, path.lineTo
    last_x = last_y = float("nan")
    for x1, y1, x2, y2 in coords.tolist():
        if x1 != last_x or y1 != last_y:
            move_to(x1, y1)
        line_to(x2, y2)
        last_x, last_y = x2, y2
    return path


class BaseMap(QObject):
    """The areas and roads of one road network, in their own `QGraphicsScene`."""

    def __init__(self, network: RoadNetwork, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.network = network
        self.scene = QGraphicsScene(self)
        self.scene.setBackgroundBrush(QBrush(S.BACKGROUND))
        self.area_items: list[QGraphicsPolygonItem] = []
        self.road_items: dict[str, QGraphicsPathItem] = {}
        self._minor_visible: bool | None = None

        border = S.cosmetic_pen(S.AREA_BORDER, 1.0, Qt.PenStyle.DashLine)
        for area in network.areas:
            poly = QPolygonF([QPointF(x, -y) for x, y in area.polygon.exterior.coords[:-1]])
            item = QGraphicsPolygonItem(poly)
            item.setBrush(QBrush(S.AREA_FILL.get(area.kind, S.AREA_FILL_OTHER)))
            item.setPen(border)
            item.setZValue(0.0)
            self.scene.addItem(item)
            self.area_items.append(item)

        for cname, segments in network.segments_by_class().items():
            if len(segments) == 0:
                continue
            colour, width, z = S.ROAD_STYLE.get(cname, S.ROAD_DEFAULT)
            item = QGraphicsPathItem(segments_path(segments))
            pen = S.cosmetic_pen(colour, width)
            if cname == "lane":
                pen.setStyle(Qt.PenStyle.DashLine)
                pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            item.setPen(pen)
            item.setBrush(Qt.BrushStyle.NoBrush)
            item.setZValue(10.0 + z)
            item.setToolTip(cname)
            self.scene.addItem(item)
            self.road_items[cname] = item

        x0, y0, x1, y1 = network.bounds
        for area in network.areas:
            ax0, ay0, ax1, ay1 = area.polygon.bounds
            x0, y0, x1, y1 = min(x0, ax0), min(y0, ay0), max(x1, ax1), max(y1, ay1)
        #: The map's extent in scene coordinates (what "fit all" shows).
        self.rect = QRectF(x0, -y1, x1 - x0, y1 - y0)
        margin = max(self.rect.width(), self.rect.height()) * 0.5
        self.scene.setSceneRect(self.rect.adjusted(-margin, -margin, margin, margin))

    def set_scale(self, scale: float) -> bool:
        """Show or hide minor roads for a view scale (px per metre); True if anything changed."""
        minor = scale >= S.LOD_MINOR_ROADS
        if minor == self._minor_visible:
            return False
        self._minor_visible = minor
        for cname, item in self.road_items.items():
            if cname in S.MINOR_ROAD_CLASSES:
                item.setVisible(minor)
        return True

    @property
    def minor_roads_visible(self) -> bool:
        return bool(self._minor_visible)
