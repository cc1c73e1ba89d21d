"""The map's symbols, built from stock Qt items so Qt paints them without calling into Python.

Each class wraps a few `QGraphicsItem`s (a glyph that keeps its pixel size whatever the zoom,
cached by Qt as a pixmap, plus a text label on a box rendered once into a shared pixmap) and
offers the handful of setters the map view calls when the
engine's state changes: a vehicle's status or stand-by offset, an incident's category and age,
a caller's place and uncertainty, a hospital's handover queue. Items carry a (kind, id) tag
(`TAG_KIND`, `TAG_ID`) that the view uses to tell what was clicked or dropped on. The legend
overlay lives here too.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QPainter,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsPixmapItem,
    QGraphicsPolygonItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QLabel,
    QWidget,
)

from ambsim_gui.ui import map_style as S

TAG_KIND = 0
TAG_ID = 1
IGNORES_TRANSFORMS = QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations
NO_PEN = QPen(Qt.PenStyle.NoPen)
#: Symbols are small and mostly only move: Qt keeps each one as a pixmap and blits it, which
#: makes a frame of the metropolitan map about three times cheaper than stroking every symbol.
CACHED = QGraphicsItem.CacheMode.DeviceCoordinateCache


def tag(item: QGraphicsItem, kind: str | None, item_id: str | None) -> None:
    """Mark an item and all its children as showing (kind, id) for hit tests."""
    item.setData(TAG_KIND, kind)
    item.setData(TAG_ID, item_id)
    for child in item.childItems():
        tag(child, kind, item_id)


def tag_of(item: QGraphicsItem) -> tuple[str, str] | None:
    kind, item_id = item.data(TAG_KIND), item.data(TAG_ID)
    if kind and item_id:
        return str(kind), str(item_id)
    return None


def _pen(colour: QColor, width: float) -> QPen:
    pen = QPen(colour, width)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


_PIXMAPS: dict[tuple[object, ...], QPixmap] = {}
_PIXMAP_CACHE_MAX = 4000


def label_pixmap(
    text: str, font: QFont, fg: QColor, bg: QColor, border: QColor | None,
    pad: tuple[float, float],
) -> QPixmap:
    """A text on a box, rendered once and shared by every label showing the same thing."""
    key = (text, font.key(), fg.rgba(), bg.rgba(), border.rgba() if border else None, pad)
    pixmap = _PIXMAPS.get(key)
    if pixmap is not None:
        return pixmap
    metrics = QFontMetricsF(font)
    px, py = pad
    w = math.ceil(metrics.horizontalAdvance(text) + 2 * px)
    h = math.ceil(metrics.height() + 2 * py)
    app = QGuiApplication.instance()
    dpr = app.devicePixelRatio() if isinstance(app, QGuiApplication) else 1.0
    pixmap = QPixmap(max(1, round(w * dpr)), max(1, round(h * dpr)))
    pixmap.setDevicePixelRatio(dpr)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    if border is not None:
        painter.setPen(_pen(border, 1.0))
        painter.setBrush(QBrush(bg))
        painter.drawRect(QRectF(0.5, 0.5, w - 1.0, h - 1.0))
    else:
        painter.fillRect(QRectF(0, 0, w, h), bg)
    painter.setFont(font)
    painter.setPen(fg)
    painter.drawText(QPointF(px, py + metrics.ascent()), text)
    painter.end()
    if len(_PIXMAPS) >= _PIXMAP_CACHE_MAX:
        _PIXMAPS.clear()
    _PIXMAPS[key] = pixmap
    return pixmap


class Label:
    """A short text on a box: one pixmap item (Qt blits it; drawing text item by item every
    frame costs several times more), placed in pixels relative to its parent item, or,
    top-level, at a scene point at a fixed pixel size."""

    def __init__(
        self,
        parent: QGraphicsItem | None,
        font: QFont,
        fg: QColor,
        bg: QColor,
        border: QColor | None = None,
        pad: tuple[float, float] = (3.0, 1.0),
    ) -> None:
        self.item = QGraphicsPixmapItem(parent)
        self.item.setShapeMode(QGraphicsPixmapItem.ShapeMode.BoundingRectShape)
        if parent is None:
            self.item.setFlag(IGNORES_TRANSFORMS)
        self._font = font
        self._fg, self._bg, self._border = fg, bg, border
        self._pad = pad
        self._value: str | None = None
        self._size = (0.0, 0.0)
        self._bounds = (0.0, 0.0, 0.0, 0.0)
        self._place: tuple[float, float, str, str] = (0.0, 0.0, "left", "center")

    def set_text(self, value: str) -> None:
        if value != self._value:
            self._value = value
            self._render()

    @property
    def value(self) -> str:
        return self._value or ""

    def place(self, dx: float, dy: float, h_align: str = "left", v_align: str = "center") -> None:
        """Anchor the box at (dx, dy) pixels: its left/center/right and top/center/bottom."""
        place = (dx, dy, h_align, v_align)
        if place != self._place:
            self._place = place
            self._layout()

    def set_colours(self, fg: QColor, bg: QColor, border: QColor | None = None) -> None:
        if (fg, bg, border) != (self._fg, self._bg, self._border):
            self._fg, self._bg, self._border = fg, bg, border
            if self._value is not None:
                self._render()

    def _render(self) -> None:
        pixmap = label_pixmap(self.value, self._font, self._fg, self._bg, self._border, self._pad)
        self.item.setPixmap(pixmap)
        size = pixmap.deviceIndependentSize()
        self._size = (size.width(), size.height())
        self._layout()

    def _layout(self) -> None:
        self._bounds = self.bounds_at(*self._place)
        self.item.setOffset(self._bounds[0], self._bounds[1])

    @property
    def size(self) -> tuple[float, float]:
        """Width and height of the box in pixels."""
        return self._size

    def bounds_at(self, dx: float, dy: float, h_align: str, v_align: str
                  ) -> tuple[float, float, float, float]:
        """Where the box would be if placed so (see `place`), as left, top, right, bottom."""
        w, h = self._size
        ox = dx if h_align == "left" else dx - w / 2 if h_align == "center" else dx - w
        oy = dy if v_align == "top" else dy - h / 2 if v_align == "center" else dy - h
        return (ox, oy, ox + w, oy + h)

    def rect(self) -> QRectF:
        """The box in its item's coordinates (pixels from the anchor)."""
        x0, y0, x1, y1 = self._bounds
        return QRectF(x0, y0, x1 - x0, y1 - y0)

    def bounds(self) -> tuple[float, float, float, float]:
        """The box as (left, top, right, bottom) pixels from the anchor."""
        return self._bounds

    def set_visible(self, visible: bool) -> None:
        if self.item.isVisible() != visible:
            self.item.setVisible(visible)


class VehicleGlyph:
    """A vehicle: a square (DCA) or diamond (RRV) coloured by status, with its call sign.

    The item sits at the vehicle's map position; `set_offset` shifts the symbol a few pixels
    so vehicles standing at the same place show side by side.
    """

    def __init__(self, scene: QGraphicsScene, vehicle_id: str, callsign: str, vtype: str
                 ) -> None:
        self.vehicle_id = vehicle_id
        self.vtype = vtype
        self.item: QGraphicsRectItem | QGraphicsPolygonItem
        if vtype == "RRV":
            self.item = QGraphicsPolygonItem()
        else:
            self.item = QGraphicsRectItem()
        self.item.setFlag(IGNORES_TRANSFORMS)
        self.item.setCacheMode(CACHED)
        self.item.setZValue(S.Z_VEHICLE)
        self.item.setPen(_pen(S.OUTLINE, 1.2))
        self.item.setCursor(Qt.CursorShape.PointingHandCursor)
        self.label = Label(self.item, S.font(11), S.LABEL_TEXT, S.LABEL_BG, S.LABEL_BORDER)
        self.label.set_text(callsign)
        self.halo: QGraphicsEllipseItem | None = None
        self.status = ""
        self.offset = (float("nan"), 0.0)
        self.label_left = False
        self.set_offset(0.0, 0.0)
        scene.addItem(self.item)
        tag(self.item, "vehicle", vehicle_id)

    def set_status(self, status: str) -> None:
        if status != self.status:
            self.status = status
            self.item.setBrush(QBrush(S.status_colour(status)))

    def set_offset(self, dx: float, dy: float, label_left: bool = False) -> None:
        """Shift the symbol (dx, dy) pixels; the call sign goes on its right, or its left."""
        if (dx, dy, label_left) == self.offset + (self.label_left,):
            return
        self.offset = (dx, dy)
        self.label_left = label_left
        r = S.VEHICLE_SIZE / 2
        if isinstance(self.item, QGraphicsPolygonItem):
            r += 1.5
            self.item.setPolygon(
                QPolygonF([QPointF(dx, dy - r), QPointF(dx + r, dy), QPointF(dx, dy + r),
                           QPointF(dx - r, dy)])
            )
        else:
            self.item.setRect(QRectF(dx - r, dy - r, 2 * r, 2 * r))
        if label_left:
            self.label.place(dx - r - 3.0, dy, "right", "center")
        else:
            self.label.place(dx + r + 3.0, dy, "left", "center")
        if self.halo is not None:
            self._place_halo()

    def set_selected(self, selected: bool) -> None:
        if selected and self.halo is None:
            self.halo = QGraphicsEllipseItem(self.item)
            self.halo.setPen(_pen(S.SELECTION_COLOUR, 3.0))
            self.halo.setBrush(Qt.BrushStyle.NoBrush)
            self.halo.setFlag(QGraphicsItem.GraphicsItemFlag.ItemStacksBehindParent)
            self.halo.setCacheMode(CACHED)
            tag(self.halo, "vehicle", self.vehicle_id)
            self._place_halo()
        if self.halo is not None:
            self.halo.setVisible(selected)
        self.item.setZValue(S.Z_VEHICLE_SELECTED if selected else S.Z_VEHICLE)

    def _place_halo(self) -> None:
        assert self.halo is not None
        dx, dy = self.offset
        r = S.VEHICLE_SIZE / 2 + 5.0
        self.halo.setRect(QRectF(dx - r, dy - r, 2 * r, 2 * r))

    def view_offset(self) -> QPointF:
        """Where the symbol's centre is, in pixels from the vehicle's map position."""
        return QPointF(*self.offset)


class IncidentMarker:
    """An open incident: a dot coloured by category with a "C2 14m" tag. Pooled: `bind`
    points a marker at another incident instead of creating a new one. The tag goes on the
    right of the dot, or, when that spot is taken, on its left, above, below or at a corner
    (`PLACEMENTS`, chosen by the map view). The tag is an item of its own, stacked above the
    vehicles so a passing ambulance never hides an incident's category and age; it stays
    hidden until the view places it."""

    PLACEMENTS: tuple[tuple[float, float, str, str], ...] = (
        (S.INCIDENT_SIZE / 2 + 3.0, 0.0, "left", "center"),
        (-S.INCIDENT_SIZE / 2 - 3.0, 0.0, "right", "center"),
        (0.0, -S.INCIDENT_SIZE / 2 - 2.0, "center", "bottom"),
        (0.0, S.INCIDENT_SIZE / 2 + 2.0, "center", "top"),
        (S.INCIDENT_SIZE / 2, -S.INCIDENT_SIZE / 2, "left", "bottom"),
        (-S.INCIDENT_SIZE / 2, -S.INCIDENT_SIZE / 2, "right", "bottom"),
        (S.INCIDENT_SIZE / 2, S.INCIDENT_SIZE / 2, "left", "top"),
        (-S.INCIDENT_SIZE / 2, S.INCIDENT_SIZE / 2, "right", "top"),
    )

    def __init__(self, scene: QGraphicsScene) -> None:
        r = S.INCIDENT_SIZE / 2
        self.item = QGraphicsEllipseItem(-r, -r, 2 * r, 2 * r)
        self.item.setFlag(IGNORES_TRANSFORMS)
        self.item.setCacheMode(CACHED)
        self.item.setZValue(S.Z_INCIDENT)
        self.item.setPen(_pen(S.OUTLINE, 1.6))
        self.item.setCursor(Qt.CursorShape.PointingHandCursor)
        self.label = Label(None, S.font(11, bold=True), S.LABEL_TEXT, S.LABEL_BG, S.OUTLINE)
        self.label.place(*self.PLACEMENTS[0])
        self.label.item.setZValue(S.Z_INCIDENT_TAG)
        self.label.item.setCursor(Qt.CursorShape.PointingHandCursor)
        self.label.set_visible(False)
        self.ring = QGraphicsEllipseItem(-r - 5, -r - 5, 2 * r + 10, 2 * r + 10, self.item)
        self.ring.setPen(_pen(S.SELECTION_COLOUR, 3.0))
        self.ring.setBrush(Qt.BrushStyle.NoBrush)
        self.ring.setVisible(False)
        self.ring.setCacheMode(CACHED)
        self.incident_id: str | None = None
        self.category: str | None = None
        self.age_min = -1
        scene.addItem(self.item)
        scene.addItem(self.label.item)

    def bind(self, incident_id: str, x: float, y: float) -> None:
        self.incident_id = incident_id
        self.category = None
        self.age_min = -1
        point = S.scene_point(x, y)
        self.item.setPos(point)
        self.label.item.setPos(point)
        tag(self.item, "incident", incident_id)
        tag(self.label.item, "incident", incident_id)
        self.item.setVisible(True)

    def release(self) -> None:
        self.incident_id = None
        self.item.setVisible(False)
        self.label.set_visible(False)
        self.ring.setVisible(False)
        tag(self.item, None, None)
        tag(self.label.item, None, None)

    def set_category(self, category: str) -> bool:
        if category == self.category:
            return False
        self.category = category
        colour = S.category_colour(category)
        self.item.setBrush(QBrush(colour))
        self.label.set_colours(S.CATEGORY_TEXT_COLOUR.get(category, S.WHITE), colour, S.OUTLINE)
        self.age_min = -1
        return True

    def set_age(self, minutes: int) -> None:
        if minutes != self.age_min:
            self.age_min = minutes
            self.label.set_text(f"{self.category} {minutes}m")

    def set_selected(self, selected: bool) -> None:
        self.ring.setVisible(selected)


class CallMarker:
    """A caller being answered or triaged: a ring at the reported place and a translucent
    circle of the location's uncertainty (in metres, so it scales with the zoom). Pooled."""

    def __init__(self, scene: QGraphicsScene) -> None:
        self.area = QGraphicsEllipseItem()
        self.area.setPen(S.cosmetic_pen(S.CALL_COLOUR, 1.0, Qt.PenStyle.DashLine))
        self.area.setBrush(QBrush(S.CALL_AREA_FILL))
        self.area.setZValue(S.Z_CALL_AREA)
        r = S.CALL_SIZE / 2
        self.item = QGraphicsEllipseItem(-r, -r, 2 * r, 2 * r)
        self.item.setFlag(IGNORES_TRANSFORMS)
        self.item.setCacheMode(CACHED)
        self.item.setZValue(S.Z_CALL)
        self.item.setPen(_pen(S.CALL_COLOUR, 3.0))
        self.item.setBrush(QBrush(S.WHITE))
        self.item.setCursor(Qt.CursorShape.PointingHandCursor)
        self.label = Label(self.item, S.font(11, bold=True), S.WHITE, S.CALL_COLOUR)
        self.label.place(r + 3.0, 0.0, "left", "center")
        self.call_id: str | None = None
        self.state: tuple[float, float, float, str] | None = None
        scene.addItem(self.area)
        scene.addItem(self.item)

    def bind(self, call_id: str) -> None:
        self.call_id = call_id
        self.state = None
        tag(self.item, "call", call_id)  # not the area: a click there pans the map
        self.item.setVisible(True)
        self.area.setVisible(True)

    def update(self, x: float, y: float, radius: float, status: str) -> None:
        state = (x, y, radius, status)
        if state == self.state:
            return
        self.state = state
        self.item.setPos(S.scene_point(x, y))
        self.area.setRect(QRectF(x - radius, -y - radius, 2 * radius, 2 * radius))
        word = "ringing" if status == "ringing" else "on call"
        self.label.set_text(f"\u260e {self.call_id} {word}")
        tip = f"Call {self.call_id} ({word})\nlocation within about {radius:.0f} m"
        self.item.setToolTip(tip)
        self.area.setToolTip(tip)

    def release(self) -> None:
        self.call_id = None
        self.item.setVisible(False)
        self.area.setVisible(False)
        tag(self.item, None, None)


class HospitalGlyph:
    """A hospital: an "H" (or "U" for an urgent treatment centre) with its name and a badge
    counting crews waiting at handover (red from `BADGE_ALERT_AT`); grey when diverted."""

    def __init__(self, scene: QGraphicsScene, name: str, kind: str, x: float, y: float) -> None:
        self.name = name
        self.kind = kind
        r = S.HOSPITAL_SIZE / 2
        self.item = QGraphicsRectItem(-r, -r, 2 * r, 2 * r)
        self.item.setFlag(IGNORES_TRANSFORMS)
        self.item.setCacheMode(CACHED)
        self.item.setZValue(S.Z_HOSPITAL)
        self.item.setPen(_pen(S.WHITE, 1.5))
        self.item.setPos(S.scene_point(x, y))
        self.item.setCursor(Qt.CursorShape.PointingHandCursor)
        self.letter = Label(self.item, S.font(13, bold=True), S.WHITE, QColor(0, 0, 0, 0),
                            pad=(0.0, 0.0))
        self.letter.set_text("H" if kind == "ed" else "U")
        self.letter.place(0.0, 0.0, "center", "center")
        self.name_label = Label(self.item, S.font(11, bold=True), S.HOSPITAL_COLOUR, S.LABEL_BG)
        self.name_label.place(-r - 3.0, 0.0, "right", "center")
        self.badge = Label(self.item, S.font(11, bold=True), S.WHITE, S.BADGE_COLOUR, S.WHITE)
        self.badge.place(r - 3.0, -r + 3.0, "left", "bottom")
        self.state: tuple[int, bool] | None = None
        scene.addItem(self.item)
        self.set_state(0, False)
        tag(self.item, "hospital", name)

    def set_state(self, waiting: int, diverted: bool) -> None:
        state = (waiting, diverted)
        if state == self.state:
            return
        self.state = state
        base = S.HOSPITAL_COLOUR if self.kind == "ed" else S.UTC_COLOUR
        self.item.setBrush(QBrush(S.DIVERTED_COLOUR if diverted else base))
        self.name_label.set_text(f"{self.name} (diverted)" if diverted else self.name)
        self.name_label.set_colours(S.DIVERTED_COLOUR.darker(160) if diverted else base,
                                    S.LABEL_BG)
        self.badge.set_visible(waiting > 0)
        self.badge.set_text(str(waiting))
        alert = waiting >= S.BADGE_ALERT_AT
        self.badge.set_colours(S.WHITE, S.BADGE_ALERT_COLOUR if alert else S.BADGE_COLOUR,
                               S.WHITE)
        kind = "emergency department" if self.kind == "ed" else "urgent treatment centre"
        tip = f"{self.name} ({kind})\ncrews waiting at handover: {waiting}"
        if diverted:
            tip += "\nON DIVERSION"
        self.item.setToolTip(tip)


class StationGlyph:
    """An ambulance station: a small dark square with its name (shown when zoomed in)."""

    def __init__(self, scene: QGraphicsScene, name: str, x: float, y: float) -> None:
        r = S.STATION_SIZE / 2
        self.item = QGraphicsRectItem(-r, -r, 2 * r, 2 * r)
        self.item.setFlag(IGNORES_TRANSFORMS)
        self.item.setCacheMode(CACHED)
        self.item.setZValue(S.Z_STATION)
        self.item.setPen(_pen(S.WHITE, 1.2))
        self.item.setBrush(QBrush(S.STATION_COLOUR))
        self.item.setPos(S.scene_point(x, y))
        self.item.setToolTip(f"{name} ambulance station")
        self.label = Label(self.item, S.font(11), S.STATION_COLOUR, S.LABEL_BG)
        self.label.set_text(name)
        self.label.place(-r - 3.0, 0.0, "right", "center")
        scene.addItem(self.item)


def _swatch(colour: QColor, glyph: str = "\u25a0") -> str:
    return f'<span style="color:{colour.name()}; font-size:15px">{glyph}</span>'


def legend_html() -> str:
    """The legend's text: vehicle statuses beside incident categories and the other symbols,
    in two columns, so the key takes little height from the map."""
    rows = [
        ("available", [S.STATUS_COLOUR["available"]]),
        ("mobilising / to scene", [S.STATUS_COLOUR["mobilising"], S.STATUS_COLOUR["to_scene"]]),
        ("on scene", [S.STATUS_COLOUR["on_scene"]]),
        ("to / at hospital", [S.STATUS_COLOUR["to_hospital"], S.STATUS_COLOUR["at_hospital"]]),
        ("clearing / returning", [S.STATUS_COLOUR["clearing"], S.STATUS_COLOUR["returning"]]),
        ("rest break", [S.STATUS_COLOUR["rest"]]),
    ]
    vehicles = ["<b>Vehicles</b> &nbsp;\u25a0 DCA &nbsp;\u25c6 RRV"]
    for text, colours in rows:
        vehicles.append("".join(_swatch(c) for c in colours) + f" {text}")
    cats = " ".join(f"{_swatch(S.CATEGORY_COLOUR[c], chr(0x25CF))} {c}" for c in S.CATEGORY_COLOUR)
    others = [
        "<b>Incidents</b>",
        cats,
        f"{_swatch(S.CALL_COLOUR, chr(0x25CE))} caller, location uncertainty",
        f"{_swatch(S.HOSPITAL_COLOUR)} hospital (badge: crews at handover)",
        f"{_swatch(S.STATION_COLOUR)} station &nbsp; {_swatch(S.CLOSURE_DASH_COLOUR, chr(0x2501))}"
        " road closed",
        "<i>K hides this key</i>",
    ]
    cell = '<td style="padding-right:10px; vertical-align:top">{}</td>'
    return (
        "<table cellspacing=0 cellpadding=0><tr>"
        + cell.format("<br>".join(vehicles))
        + cell.format("<br>".join(others))
        + "</tr></table>"
    )


class MapLegend(QLabel):
    """A small opaque key in a corner of the map (an overlay widget, painted only when it
    changes, never per frame)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setText(legend_html())
        self.setStyleSheet(
            "QLabel { background: #fbfbf8; color: #111827; border: 1px solid #9ca3af;"
            " border-radius: 3px; padding: 4px 6px; font-size: 11px; }"
        )
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.adjustSize()
