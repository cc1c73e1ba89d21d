"""The map's look in one place: colours, pens, fonts, symbol sizes and level-of-detail thresholds.

A light, paper-like base map with muted roads, so the things a dispatcher acts on (vehicles by
status, incidents by category, callers) carry the only strong colours. Scene coordinates are the
map's metres with y flipped (north up on screen): use `scene_point`. Zoom is measured as the
view's scale in screen pixels per metre.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QPen

# --- coordinates ------------------------------------------------------------------------------


def scene_point(x: float, y: float) -> QPointF:
    """The scene point of map coordinates in metres (y grows north; the screen's grows down)."""
    return QPointF(x, -y)


# --- base map ---------------------------------------------------------------------------------

BACKGROUND = QColor("#e6e9e1")
AREA_FILL = {"urban": QColor("#efe4d8"), "rural": QColor("#dde8d0")}
AREA_FILL_OTHER = QColor("#e4e4de")
AREA_BORDER = QColor("#a99f92")

#: Road class -> (colour, cosmetic width in pixels, z order). Unknown classes get ROAD_DEFAULT.
ROAD_STYLE: dict[str, tuple[str, float, float]] = {
    "motorway": ("#6f86a6", 3.6, 5.0),
    "a_road": ("#b08d57", 2.4, 4.0),
    "b_road": ("#b9ae9c", 1.5, 3.0),
    "street": ("#c9c2b6", 0.9, 2.0),
    "lane": ("#bfb7a1", 0.9, 1.0),
}
ROAD_DEFAULT: tuple[str, float, float] = ("#bdb6aa", 1.0, 1.5)
#: Classes drawn only when zoomed in (LOD_MINOR_ROADS).
MINOR_ROAD_CLASSES = frozenset({"street", "lane"})

# --- level of detail: minimum scale (screen px per metre) for a layer to show -----------------

LOD_MINOR_ROADS = 0.075  # 1 km = 75 px
LOD_VEHICLE_LABELS = 0.10
LOD_STATION_LABELS = 0.09
LOD_VILLAGE_LABELS = 0.045
LOD_TOWN_LABELS = 0.01  # towns and cities that are not areas of their own (imported maps)
LOD_INCIDENT_LABELS = 0.06  # C3/C4 ages; C1/C2 ages always show
LOD_CALL_LABELS = 0.06
#: Area names show from this fraction of the fit-all scale (zoomed out further, they hide).
LOD_AREA_LABELS_OF_FIT = 0.8
MAX_SCALE = 6.0  # 1 m = 6 px: closer is pointless on a road map
MIN_SCALE_OF_FIT = 0.5

# --- dynamic things ---------------------------------------------------------------------------

STATUS_COLOUR: dict[str, QColor] = {
    "available": QColor("#2f9e44"),
    "mobilising": QColor("#f2b01e"),
    "to_scene": QColor("#e8890c"),
    "on_scene": QColor("#d9262c"),
    "to_hospital": QColor("#8e44ad"),
    "at_hospital": QColor("#6c2e91"),
    "clearing": QColor("#3a7bd5"),
    "returning": QColor("#2563a8"),
    "rest": QColor("#7aa6a1"),
    "off_duty": QColor("#8d8d8d"),
}
STATUS_UNKNOWN = QColor("#555555")
#: Statuses in which a vehicle drives along its route (position interpolated each frame).
DRIVING_STATUSES = frozenset({"to_scene", "to_hospital", "returning"})
#: Statuses whose route is worth drawing for the selected vehicle.
ROUTE_STATUSES = frozenset({"mobilising", "to_scene", "to_hospital", "returning"})

CATEGORY_COLOUR: dict[str, QColor] = {
    "C1": QColor("#c8102e"),
    "C2": QColor("#f57c00"),
    "C3": QColor("#f6c90e"),
    "C4": QColor("#4caf50"),
}
CATEGORY_TEXT_COLOUR: dict[str, QColor] = {
    "C1": QColor("#ffffff"),
    "C2": QColor("#1a1a1a"),
    "C3": QColor("#1a1a1a"),
    "C4": QColor("#1a1a1a"),
}
CATEGORY_UNKNOWN = QColor("#777777")
URGENT_CATEGORIES = frozenset({"C1", "C2"})

CALL_COLOUR = QColor("#00838f")
CALL_AREA_FILL = QColor(0, 131, 143, 45)
HOSPITAL_COLOUR = QColor("#1d4ed8")
UTC_COLOUR = QColor("#0e7490")
DIVERTED_COLOUR = QColor("#9ca3af")
BADGE_COLOUR = QColor("#374151")
BADGE_ALERT_COLOUR = QColor("#dc2626")
BADGE_ALERT_AT = 3  # crews waiting at handover
STATION_COLOUR = QColor("#374151")
SELECTION_COLOUR = QColor("#1565c0")
ROUTE_COLOUR = QColor(21, 101, 192, 190)
DRAG_COLOUR = QColor("#111827")
OUTLINE = QColor("#1f2937")
WHITE = QColor("#ffffff")

LABEL_TEXT = QColor("#111827")
LABEL_BG = QColor(255, 255, 255, 215)
LABEL_BORDER = QColor("#9ca3af")
AREA_LABEL_TEXT = QColor("#5b4636")
AREA_LABEL_BG = QColor(255, 255, 255, 120)
VILLAGE_LABEL_TEXT = QColor("#4b5563")
TOWN_LABEL_TEXT = QColor("#3f3f46")
#: Place kinds whose map points are labelled, and the label layer each belongs to.
PLACE_LABEL_LAYER = {"city": "towns", "town": "towns", "village": "villages"}
#: A closed road: a wide translucent red under a dashed dark red, in screen pixels.
CLOSURE_COLOUR = QColor(220, 38, 38, 110)
CLOSURE_DASH_COLOUR = QColor("#991b1b")
CLOSURE_WIDTH = 7.0

# --- symbol sizes (pixels) --------------------------------------------------------------------

VEHICLE_SIZE = 10.0
STACK_STEP = 14.0  # vertical spacing of vehicles standing at the same place
STACK_X = 14.0  # stand-by column offset beside a station or hospital symbol
INCIDENT_SIZE = 13.0
CALL_SIZE = 10.0
HOSPITAL_SIZE = 17.0
STATION_SIZE = 9.0

# --- z order ----------------------------------------------------------------------------------

Z_AREA_LABEL = 1.0
Z_CLOSURE = 1.5
Z_CALL_AREA = 2.0
Z_VILLAGE = 2.5
Z_STATION = 3.0
Z_HOSPITAL = 4.0
Z_ROUTE = 5.0
Z_INCIDENT = 6.0
Z_CALL = 7.0
Z_VEHICLE = 8.0
Z_VEHICLE_SELECTED = 9.0
Z_INCIDENT_TAG = 9.5
Z_DRAG = 20.0


def font(pixel_size: int, *, bold: bool = False, italic: bool = False) -> QFont:
    """A label font of a fixed pixel size (labels do not scale with the zoom)."""
    f = QFont()
    f.setPixelSize(pixel_size)
    f.setBold(bold)
    f.setItalic(italic)
    f.setHintingPreference(QFont.HintingPreference.PreferFullHinting)
    return f


def cosmetic_pen(
    colour: QColor | str, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine
) -> QPen:
    """A pen whose width is in screen pixels whatever the zoom.

    Square caps and bevel joins: round ones make Qt's stroker some hundred times slower on a
    path of thousands of segments wider than one pixel (0.9 s against 8 ms for the B roads of
    the metropolitan map).
    """
    pen = QPen(QColor(colour), width, style, Qt.PenCapStyle.SquareCap, Qt.PenJoinStyle.BevelJoin)
    pen.setCosmetic(True)
    return pen


def status_colour(status: str) -> QColor:
    return STATUS_COLOUR.get(status, STATUS_UNKNOWN)


def category_colour(category: str | None) -> QColor:
    return CATEGORY_COLOUR.get(category or "", CATEGORY_UNKNOWN)
