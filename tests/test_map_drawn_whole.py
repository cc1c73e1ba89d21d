"""Every road of a map is drawn, whatever its direction; place names and road closures show.

A grid of streets that run exactly east-west and north-south is built in code: every road tile
of such a map holds segments along one axis only, whose bounding rectangle has no area, and the
base map once skipped them all. The layer is rendered into an image and the middle of every
street is checked for ink. Saves ``/tmp/map.png`` (the grid as the desk's view shows it).
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QGraphicsView
from pytestqt.qtbot import QtBot

from ambsim_gui.geo.mapfile import DEFAULT_ROAD_CLASSES, AreaSpec, MapData, MapPoint
from ambsim_gui.geo.network import RoadNetwork
from ambsim_gui.geo.osm_import import convert
from ambsim_gui.headless import build_from
from ambsim_gui.paths import DEFAULT_SCENARIO, PROJECT_ROOT
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.world import World
from ambsim_gui.ui import map_style as S
from ambsim_gui.ui.map_base import BaseMap, RoadLayer
from ambsim_gui.ui.map_view import MapView

OSM_LIECHTENSTEIN = PROJECT_ROOT / "tests" / "data" / "osm" / "liechtenstein-2013-08-03.osm.bz2"
SIDE = 7  # nodes per side
STEP = 100.0  # metres between junctions
MARGIN = 50.0  # metres of ground around the grid in the image


def grid_map() -> MapData:
    """A 7 x 7 grid of junctions 100 m apart: two-way streets east-west and north-south, the
    middle row and column an A road, and a town and a village to label."""
    xs, ys = np.meshgrid(np.arange(SIDE) * STEP, np.arange(SIDE) * STEP)
    node_x, node_y = xs.ravel(), ys.ravel()

    def node(i: int, j: int) -> int:
        return j * SIDE + i

    u: list[int] = []
    v: list[int] = []
    cls: list[str] = []
    names: list[str] = []
    for j in range(SIDE):
        for i in range(SIDE - 1):
            for a, b in ((node(i, j), node(i + 1, j)), (node(i + 1, j), node(i, j))):
                u.append(a)
                v.append(b)
                cls.append("a_road" if j == SIDE // 2 else "street")
                names.append(f"Row {j}")
    for i in range(SIDE):
        for j in range(SIDE - 1):
            for a, b in ((node(i, j), node(i, j + 1)), (node(i, j + 1), node(i, j))):
                u.append(a)
                v.append(b)
                cls.append("a_road" if i == SIDE // 2 else "street")
                names.append(f"Column {i}")
    n = len(u)
    edge = (SIDE - 1) * STEP
    return MapData(
        name="Grid",
        road_classes=dict(DEFAULT_ROAD_CLASSES),
        node_x=node_x.astype(np.float64),
        node_y=node_y.astype(np.float64),
        edge_u=np.array(u),
        edge_v=np.array(v),
        edge_class=cls,
        edge_length_m=np.full(n, STEP),
        edge_speed_kph=np.array([DEFAULT_ROAD_CLASSES[c].speed_kph for c in cls]),
        edge_name=names,
        areas=[AreaSpec("Gridtown", "urban", 1.0,
                        ((-20.0, -20.0), (edge + 20, -20.0), (edge + 20, edge + 20),
                         (-20.0, edge + 20)))],
        points=[MapPoint("town", "Squareton", 300.0, 300.0),
                MapPoint("village", "Little Grid", 100.0, 500.0)],
    )


@lru_cache(maxsize=1)
def grid_network() -> RoadNetwork:
    return RoadNetwork.from_mapdata(grid_map())


def render(base: BaseMap, px_per_m: float = 1.0) -> QImage:
    """The base map (every road class shown) as the desk's background paints it, with the
    grid's south-west corner MARGIN metres in from the image's bottom-left corner."""
    base.set_scale(10.0)  # minor roads on
    edge = (SIDE - 1) * STEP + 2 * MARGIN
    size = math.ceil(edge * px_per_m)
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(QColor("#ff00ff"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    source = QRectF(-MARGIN, -(SIDE - 1) * STEP - MARGIN, edge, edge)
    base.scene.render(painter, QRectF(0, 0, size, size), source,
                      Qt.AspectRatioMode.IgnoreAspectRatio)
    painter.end()
    return image


def inked(image: QImage, x: float, y: float, px_per_m: float = 1.0) -> bool:
    """Whether anything but the town's fill shows within a pixel of map point (x, y)."""
    cx = round((x + MARGIN) * px_per_m)
    cy = round(((SIDE - 1) * STEP + MARGIN - y) * px_per_m)
    ground = S.AREA_FILL["urban"]
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            c = image.pixelColor(cx + dx, cy + dy)
            diff = max(abs(c.red() - ground.red()), abs(c.green() - ground.green()),
                       abs(c.blue() - ground.blue()))
            if diff > 8:
                return True
    return False


def drawn_roads(image: QImage, network: RoadNetwork, px_per_m: float = 1.0
                ) -> tuple[int, int]:
    """(segments with ink at their middle, segments) over every road class."""
    drawn = total = 0
    for segments in network.segments_by_class().values():
        for x1, y1, x2, y2 in segments.tolist():
            total += 1
            drawn += inked(image, (x1 + x2) / 2, (y1 + y2) / 2, px_per_m)
    return drawn, total


@pytest.mark.parametrize("px_per_m", [1.0, 0.5])
def test_every_axis_aligned_road_is_drawn(qtbot: QtBot, px_per_m: float) -> None:
    network = grid_network()
    base = BaseMap(network)
    image = render(base, px_per_m)
    drawn, total = drawn_roads(image, network, px_per_m)
    assert total == 2 * SIDE * (SIDE - 1)
    assert drawn == total, f"only {drawn} of {total} road links drawn"
    # ... and not the blocks between them.
    assert not any(inked(image, (i + 0.5) * STEP, (j + 0.5) * STEP, px_per_m)
                   for i in range(SIDE - 1) for j in range(SIDE - 1))


def test_a_tile_of_one_straight_road_is_painted_when_exposed(qtbot: QtBot) -> None:
    """A view that exposes only a strip of the map (a pan) still strokes the tiles inside it."""
    network = grid_network()
    base = BaseMap(network)
    base.set_scale(10.0)
    layer = base.road_items["street"]
    assert isinstance(layer, RoadLayer)
    flat = [path.boundingRect() for _, path in layer.tiles]
    assert all(r.height() == 0 or r.width() == 0 for r in flat)  # one-axis strips, every one
    assert all(not rect.isEmpty() for rect, _ in layer.tiles)
    # Exposing one block row's strip (as a pan does) paints the street inside it.
    image = QImage(100, 20, QImage.Format.Format_ARGB32)
    image.fill(QColor("#ff00ff"))
    painter = QPainter(image)
    base.scene.render(painter, QRectF(0, 0, 100, 20), QRectF(0, -110, 100, 20),
                      Qt.AspectRatioMode.IgnoreAspectRatio)
    painter.end()
    column = {image.pixelColor(50, y).name() for y in range(20)}
    assert column - {S.AREA_FILL["urban"].name()}


def test_grid_in_a_view_screenshot(qtbot: QtBot) -> None:
    network = grid_network()
    base = BaseMap(network)
    base.set_scale(10.0)
    view = QGraphicsView(base.scene)
    view.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    view.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
    qtbot.addWidget(view)
    view.resize(500, 500)
    view.show()
    qtbot.waitExposed(view)
    view.fitInView(base.rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN),
                   Qt.AspectRatioMode.KeepAspectRatio)
    image = view.grab().toImage()
    view.grab().save("/tmp/map.png")
    # Every junction-to-junction middle on screen has ink.
    transform = view.viewportTransform()
    missing = []
    for segments in network.segments_by_class().values():
        for x1, y1, x2, y2 in segments.tolist():
            p = transform.map(S.scene_point((x1 + x2) / 2, (y1 + y2) / 2))
            colours = {image.pixelColor(round(p.x()) + dx, round(p.y()) + dy).name()
                       for dx in (-1, 0, 1) for dy in (-1, 0, 1)}
            if colours <= {S.AREA_FILL["urban"].name(), S.BACKGROUND.name()}:
                missing.append((x1, y1, x2, y2))
    assert not missing


# --- place names and road closures on the desk's map ------------------------------------------


@lru_cache(maxsize=1)
def _world() -> World:
    return build_from(load_scenario(DEFAULT_SCENARIO))


def _view(qtbot: QtBot, engine: Engine) -> MapView:
    view = MapView(engine)
    qtbot.addWidget(view)
    view.resize(1200, 800)
    view.show()
    qtbot.waitExposed(view)
    view.refresh()
    return view


def test_place_names_are_labelled(qtbot: QtBot) -> None:
    engine = Engine(_world(), policy="expert", trainee_policy="expert")
    view = _view(qtbot, engine)
    network = engine.world.network
    area_names = {a.name for a in network.areas}
    places = {p.name for p in network.points if p.kind in ("town", "village", "city")}
    labels = {s.label.value for s in view._static_labels}
    assert places - area_names
    assert places - area_names <= labels
    assert area_names <= labels


def test_road_closure_is_drawn_and_cleared(qtbot: QtBot) -> None:
    engine = Engine(_world(), policy="expert", trainee_policy="expert")
    engine.run_until(600)
    view = _view(qtbot, engine)
    assert not view.closure_item.isVisible()
    spec = {"type": "road_closure", "roads": ["Wessex Way"], "duration_min": 30}
    assert engine.submit(cmd.Inject(seat="instructor", spec=spec))
    view.refresh()
    item = view.closure_item
    assert item.isVisible()
    network = engine.world.network
    edges = network.edges_named("Wessex Way")
    ends = network.xy[np.concatenate([network.edge_u[edges], network.edge_v[edges]])]
    xs, ys = ends[:, 0], ends[:, 1]
    rect = item.path().boundingRect()
    assert rect.left() == pytest.approx(xs.min()) and rect.right() == pytest.approx(xs.max())
    assert rect.top() == pytest.approx(-ys.max()) and rect.bottom() == pytest.approx(-ys.min())
    assert "Wessex Way" in item.toolTip()
    view.fit_all()
    view.refresh()
    view.grab().save("/tmp/map_closure.png")
    engine.run_until(600 + 31 * 60)
    view.refresh()
    assert not view.closure_item.isVisible()


def test_an_imported_real_place_shows_its_towns_and_villages(qtbot: QtBot, tmp_path: Path
                                                             ) -> None:
    """Liechtenstein from OpenStreetMap at the desk: every road drawn, the town's name at
    fit-all, the villages' when zoomed in."""
    maps = tmp_path / "maps"
    convert(OSM_LIECHTENSTEIN, maps / "liechtenstein.json", engine="builtin")
    scenario = maps / "liechtenstein.yaml"
    scenario.write_text(
        "schema_version: 1\nname: Liechtenstein\nduration_h: 1\nmap: liechtenstein.json\n"
        "stations:\n  - name: Vaduz\n    point: Freiwillige Feuerwehr Triesen\n"
        "    vehicles: [{type: DCA, count: 2}]\n"
        "  - name: Eschen\n    point: Feuerwache Eschen\n    vehicles: [{type: DCA, count: 1}]\n"
        "hospitals:\n  - name: Landesspital\n    point: Liechtensteinisches Landesspital\n"
        "demand:\n  incidents_per_hour: 4\n",
        encoding="utf-8",
    )
    engine = Engine(build_from(load_scenario(scenario)), policy="expert", trainee_policy="expert")
    engine.run_until(1200)
    view = _view(qtbot, engine)
    view.fit_all()
    view.refresh()
    network = engine.world.network
    shown = {s.label.value: s.label.item.isVisible() for s in view._static_labels}
    assert shown["Vaduz"]  # the town at fit-all
    # A place the import split into parts ("Eschen", "Eschen (2)", "Eschen rural") is named once.
    assert len(shown) == len(view._static_labels)
    assert not [name for name in shown if name.endswith((" rural", ")"))]
    assert {"Eschen", "Schaan", "Balzers", "Schellenberg"} <= {n for n, v in shown.items() if v}
    villages = [p.name for p in network.points_of_kind("village")]
    assert len(villages) == 13
    lone = [v for v in villages if v not in {a.name for a in network.areas}]
    assert lone and not any(shown[v] for v in lone)  # villages without an area wait for zoom
    assert not _overlapping_names(view)
    view.grab().save("/tmp/map_liechtenstein.png")
    for cname, segments in network.segments_by_class().items():
        if len(segments):
            drawn, total = drawn_segments(render_base(view.base_map, network, cname), segments,
                                          network)
            assert drawn == total, f"{cname}: {drawn} of {total} road links drawn"
    view.zoom_by(3.0)
    view.refresh()
    shown = {s.label.value: s.label.item.isVisible() for s in view._static_labels}
    assert any(shown[v] for v in lone)
    assert not _overlapping_names(view)
    view.grab().save("/tmp/map_liechtenstein_zoomed.png")


def _overlapping_names(view: MapView) -> list[tuple[str, str]]:
    """Pairs of place names on show whose boxes overlap on screen."""
    boxes = []
    for static in view._static_labels:
        if static.label.item.isVisible():  # drawn at a fixed pixel size about its anchor
            at = view.mapFromScene(static.label.item.pos())
            x0, y0, x1, y1 = static.label.bounds()
            boxes.append((static.label.value, QRectF(at.x() + x0, at.y() + y0, x1 - x0, y1 - y0)))
    return [(a, b) for i, (a, ra) in enumerate(boxes) for b, rb in boxes[i + 1:]
            if ra.intersects(rb)]


def render_base(base: BaseMap, network: RoadNetwork, only: str, px_per_m: float = 0.05
                ) -> QImage:
    """The whole base map with one road class alone on show, at ``px_per_m``, as the desk's
    background paints it (antialiased)."""
    base.set_scale(10.0)
    for cname, layer in base.road_items.items():
        layer.setVisible(cname == only)
    x0, y0, x1, y1 = network.bounds
    image = QImage(math.ceil((x1 - x0) * px_per_m) + 20, math.ceil((y1 - y0) * px_per_m) + 20,
                   QImage.Format.Format_ARGB32)
    image.fill(QColor("#ff00ff"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    source = QRectF(x0 - 10 / px_per_m, -y1 - 10 / px_per_m, image.width() / px_per_m,
                    image.height() / px_per_m)
    base.scene.render(painter, QRectF(0, 0, image.width(), image.height()), source,
                      Qt.AspectRatioMode.IgnoreAspectRatio)
    painter.end()
    for layer in base.road_items.values():
        layer.setVisible(True)
    base._minor_visible = None  # let the view set the level of detail again
    return image


def drawn_segments(image: QImage, segments: np.ndarray, network: RoadNetwork,
                   px_per_m: float = 0.05) -> tuple[int, int]:
    """(segments with ink within two pixels of their middle, segments)."""
    x0, _, _, y1 = network.bounds
    ground = {S.AREA_FILL["urban"].rgb(), S.BACKGROUND.rgb(), QColor("#ff00ff").rgb()}
    drawn = 0
    for sx1, sy1, sx2, sy2 in segments.tolist():
        cx = round(((sx1 + sx2) / 2 - x0) * px_per_m + 10)
        cy = round((y1 - (sy1 + sy2) / 2) * px_per_m + 10)
        near = range(-2, 3)  # a lane's dashes leave gaps of two pixels
        drawn += any(image.pixel(cx + dx, cy + dy) not in ground for dx in near for dy in near)
    return drawn, len(segments)
