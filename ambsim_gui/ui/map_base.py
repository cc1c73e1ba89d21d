"""The static base map: area polygons and roads batched into one path item per road class.

`BaseMap` holds these items in a scene of their own that the map view paints as its cached
background (`QGraphicsView.CacheBackground`), so the 78k-edge metropolitan road net costs a
pixmap copy per frame, and is re-stroked only when the zoom changes or a pan uncovers new ground.
Each road class's path is also cut into square tiles (`RoadLayer`), so a pan that uncovers a
strip strokes only the tiles it touches, not the whole city. Minor roads are hidden or shown by
`set_scale` when the zoom crosses their threshold.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPainterPath, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsPolygonItem,
    QGraphicsScene,
    QStyleOptionGraphicsItem,
    QWidget,
)

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


#: Road tiles per side of the map: a pan strip or a zoomed-in view strokes only the tiles it
#: touches.
TILES_PER_SIDE = 12


def _tile_rect(path: QPainterPath) -> QRectF:
    """A tile's rectangle for the clip test: the path's bounds, widened by a metre each way.

    A tile whose roads all run exactly east-west (or north-south) has bounds of no height (or
    width), and `QRectF.intersects` never counts an empty rectangle as overlapping anything:
    such a tile would never be painted.
    """
    return path.boundingRect().adjusted(-1.0, -1.0, 1.0, 1.0)


class RoadLayer(QGraphicsPathItem):
    """All roads of one class: one item whose `path()` is the whole class, painted tile by
    tile so only the tiles in the painter's clip are stroked."""

    def __init__(self, segments: np.ndarray, extent: QRectF) -> None:
        super().__init__()
        seg = np.asarray(segments, dtype=np.float64).reshape(-1, 4)
        size = max(extent.width(), extent.height(), 1.0) / TILES_PER_SIDE
        mid_x = (seg[:, 0] + seg[:, 2]) / 2 - extent.left()
        mid_y = -(seg[:, 1] + seg[:, 3]) / 2 - extent.top()
        key = np.floor(mid_x / size).astype(np.int64) * 100_003 + np.floor(
            mid_y / size).astype(np.int64)
        order = np.argsort(key, kind="stable")
        keys = key[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        ends = np.r_[starts[1:], len(keys)]
        self.tiles: list[tuple[QRectF, QPainterPath]] = []
        whole = QPainterPath()
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            path = segments_path(seg[order[a:b]])
            self.tiles.append((_tile_rect(path), path))
            whole.addPath(path)
        self.setPath(whole)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        pen = self.pen()
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        clip = painter.clipBoundingRect() if painter.hasClipping() else QRectF()
        if clip.isEmpty():
            clip = option.exposedRect if not option.exposedRect.isEmpty() else self.boundingRect()
        scale = abs(painter.worldTransform().m11()) or 1.0
        margin = (pen.widthF() + 2.0) / scale  # cosmetic width, in scene units
        clip = clip.adjusted(-margin, -margin, margin, margin)
        for rect, path in self.tiles:
            if rect.intersects(clip):
                painter.drawPath(path)


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
        n_areas = len(network.areas)
        for i, area in enumerate(network.areas):
            poly = QPolygonF([QPointF(x, -y) for x, y in area.polygon.exterior.coords[:-1]])
            item = QGraphicsPolygonItem(poly)
            item.setBrush(QBrush(S.AREA_FILL.get(area.kind, S.AREA_FILL_OTHER)))
            item.setPen(border)
            item.setZValue(float(n_areas - i))  # earlier areas own any overlap: on top
            self.scene.addItem(item)
            self.area_items.append(item)

        x0, y0, x1, y1 = network.bounds
        extent = QRectF(x0, -y1, x1 - x0, y1 - y0)
        for cname, segments in network.segments_by_class().items():
            if len(segments) == 0:
                continue
            colour, width, z = S.ROAD_STYLE.get(cname, S.ROAD_DEFAULT)
            layer = RoadLayer(segments, extent)
            pen = S.cosmetic_pen(colour, width)
            if cname == "lane":
                pen.setStyle(Qt.PenStyle.DashLine)
                pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            layer.setPen(pen)
            layer.setBrush(Qt.BrushStyle.NoBrush)
            layer.setZValue(n_areas + 10.0 + z)
            layer.setToolTip(cname)
            self.scene.addItem(layer)
            self.road_items[cname] = layer

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
