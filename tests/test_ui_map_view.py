"""The desk's live map (`MapView`) on the shipped scenarios, offscreen with pytest-qt.

Checks what a trainee relies on: the map builds with batched roads, vehicles sit where the
fleet says, incident and caller markers come and go with the engine, clicks and drag-to-dispatch
emit the right ids, zoom reveals and hides detail, and no hidden truth leaks into the map. Saves
``docs/screenshots/map_default.png``.
"""

from __future__ import annotations

import ast
import math
from functools import lru_cache
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QGraphicsPathItem
from pytestqt.qtbot import QtBot

from ambsim_gui.headless import build_from
from ambsim_gui.paths import PROJECT_ROOT, SCENARIOS
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.world import World
from ambsim_gui.ui import map_style as S
from ambsim_gui.ui.map_view import MOVE_EPSILON_PX, MapView

UI = PROJECT_ROOT / "ambsim_gui" / "ui"
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"


@lru_cache(maxsize=2)
def _world(name: str) -> World:
    return build_from(load_scenario(SCENARIOS / name))


def _engine(name: str = "default.yaml", until: float = 3600.0, trainee: str | None = "expert"
            ) -> Engine:
    engine = Engine(_world(name), policy="expert", trainee_policy=trainee)
    engine.run_until(until)
    return engine


def _view(qtbot: QtBot, engine: Engine, size: tuple[int, int] = (1200, 800)) -> MapView:
    view = MapView(engine)
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    view.refresh()
    return view


def _moving(engine: Engine) -> list[str]:
    return [v.id for v in engine.vehicles.values() if v.status in S.DRIVING_STATUSES]


# --- building -----------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["default.yaml", "metropolitan_24h.yaml"])
def test_view_builds_with_a_handful_of_road_paths(qtbot: QtBot, scenario: str) -> None:
    engine = _engine(scenario, until=1800.0)
    view = _view(qtbot, engine)
    paths = [it for it in view.all_scene_items() if isinstance(it, QGraphicsPathItem)]
    assert len(paths) <= 20
    classes = {c for c, seg in engine.world.network.segments_by_class().items() if len(seg)}
    assert set(view.base_map.road_items) == classes
    assert len(view.base_map.area_items) == len(engine.world.network.areas)
    shown = sum(1 for v in engine.vehicles.values() if v.status != "off_duty")
    assert sum(1 for v in engine.vehicles if view.vehicle_view_pos(v) is not None) == shown
    assert {h for h in engine.hospitals} == {h for h in engine.hospitals
                                             if view.hospital_glyph(h) is not None}


# --- the engine's state on the map --------------------------------------------------------------


def test_moving_vehicle_items_follow_the_fleet(qtbot: QtBot) -> None:
    engine = _engine()
    view = _view(qtbot, engine)
    while not _moving(engine):
        engine.run_until(engine.now + 30)
    view.refresh()
    for _ in range(3):
        engine.run_until(engine.now + 7.0)
        view.refresh()
        tolerance = MOVE_EPSILON_PX / view.zoom_scale + 1e-6
        for vid in _moving(engine):
            x, y = engine.fleet.position(engine.vehicles[vid], engine.now)
            glyph = view.vehicle_item(vid)
            assert glyph is not None
            pos = glyph.item.pos()
            assert abs(pos.x() - x) <= tolerance and abs(pos.y() + y) <= tolerance


def test_incident_markers_come_and_go_with_incidents(qtbot: QtBot) -> None:
    engine = _engine()
    view = _view(qtbot, engine)
    open_ids = {i.id for i in engine.open_incidents()}
    assert open_ids and all(view.incident_marker(i) is not None for i in open_ids)
    watched = sorted(open_ids)[0]
    marker = view.incident_marker(watched)
    assert marker is not None
    inc = engine.incidents[watched]
    age = int((engine.now - inc.t_open) // 60)
    assert marker.label.value == f"{inc.category} {age}m"
    seen_new = False
    while engine.incidents[watched].status == "open":
        engine.run_until(engine.now + 120)
        view.refresh()
        for i in engine.open_incidents():
            if i.id not in open_ids:
                assert view.incident_marker(i.id) is not None
                seen_new = True
    view.refresh()
    assert view.incident_marker(watched) is None
    assert seen_new
    # markers are reused, not piled up
    assert sum(1 for m in view.all_scene_items() if m in {
        mk.item for mk in view._incident_pool}) == len(view._incident_pool)
    assert len(view._incidents) == len(engine.open_incidents())


def test_callers_show_with_their_location_uncertainty(qtbot: QtBot) -> None:
    engine = _engine(trainee=None, until=600.0)
    view = _view(qtbot, engine)
    while not engine.ringing:
        engine.run_until(engine.now + 20)
    view.refresh()
    for call_id in engine.ringing:
        call = engine.calls[call_id]
        marker = view.call_marker(call_id)
        assert marker is not None
        assert marker.area.rect().width() == pytest.approx(2 * call.uncertainty_m)
        assert marker.area.rect().center().x() == pytest.approx(call.x)
        assert marker.area.rect().center().y() == pytest.approx(-call.y)
    call_id = engine.ringing[0]
    engine.submit(cmd.AnswerCall(seat="trainee", call_id=call_id))
    view.refresh()
    assert view.call_marker(call_id) is not None  # being triaged: still shown
    _zoom_on(view, engine.calls[call_id].x, engine.calls[call_id].y)
    pos = view.call_view_pos(call_id)
    assert pos is not None
    with qtbot.waitSignal(view.call_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [call_id]


def test_hospital_badge_and_diversion(qtbot: QtBot) -> None:
    engine = _engine(trainee=None)
    view = _view(qtbot, engine)
    name = next(h for h, s in engine.hospitals.items() if s.kind == "ed")
    glyph = view.hospital_glyph(name)
    assert glyph is not None
    glyph.set_state(2, False)
    assert glyph.badge.item.isVisible() and glyph.badge.value == "2"
    assert glyph.badge._bg == S.BADGE_COLOUR
    glyph.set_state(3, False)
    assert glyph.badge._bg == S.BADGE_ALERT_COLOUR
    glyph.set_state(0, False)
    assert not glyph.badge.item.isVisible()
    assert engine.submit(cmd.SetHospitalDiversion(seat="trainee", hospital=name, diverted=True))
    view.refresh()
    assert glyph.item.brush().color() == S.DIVERTED_COLOUR
    assert "(diverted)" in glyph.name_label.value


def test_selecting_a_vehicle_draws_its_route(qtbot: QtBot) -> None:
    engine = _engine()
    view = _view(qtbot, engine)
    while not _moving(engine):
        engine.run_until(engine.now + 30)
    view.refresh()
    vid = _moving(engine)[0]
    view.select_vehicle(vid)
    route = engine.vehicles[vid].route
    assert route is not None
    assert view.route_item.isVisible()
    path = view.route_item.path()
    end = path.elementAt(path.elementCount() - 1)
    assert (end.x, -end.y) == pytest.approx(tuple(route.xy[-1]))
    before = path.elementCount()
    assert 2 <= before <= len(route.xy)
    while engine.vehicles[vid].status in S.DRIVING_STATUSES and view.route_item.path(
    ).elementCount() == before:
        engine.run_until(engine.now + 5)
        view.refresh()
    # the route drawn shrinks as the vehicle drives on (or goes when it arrives)
    assert (view.route_item.path().elementCount() < before or not view.route_item.isVisible()
            or engine.vehicles[vid].route is not route)
    view.select_vehicle(None)
    assert not view.route_item.isVisible()


# --- the trainee's gestures ---------------------------------------------------------------------


def _zoom_on(view: MapView, x: float, y: float, scale: float = 0.3) -> None:
    view.zoom_by(scale / view.zoom_scale)
    view.center_on(x, y)
    view.refresh()


def test_clicking_a_vehicle_selects_it(qtbot: QtBot) -> None:
    engine = _engine()
    view = _view(qtbot, engine)
    vehicle = engine.free_vehicles()[0]
    x, y = engine.fleet.position(vehicle, engine.now)
    _zoom_on(view, x, y)
    pos = view.vehicle_view_pos(vehicle.id)
    assert pos is not None
    with qtbot.waitSignal(view.vehicle_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [vehicle.id]
    assert view.selected_vehicle == vehicle.id


def test_clicking_an_incident_selects_it(qtbot: QtBot) -> None:
    engine = _engine()
    view = _view(qtbot, engine)
    inc = engine.open_incidents()[0]
    _zoom_on(view, inc.x, inc.y)
    pos = view.incident_view_pos(inc.id)
    assert pos is not None
    with qtbot.waitSignal(view.incident_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [inc.id]
    assert view.selected_incident == inc.id


def test_dragging_a_free_vehicle_onto_an_incident_dispatches(qtbot: QtBot) -> None:
    engine = _engine(trainee=None)
    view = _view(qtbot, engine)
    vehicle = engine.free_vehicles()[0]
    vx, vy = engine.fleet.position(vehicle, engine.now)
    inc = min(engine.open_incidents(), key=lambda i: math.hypot(i.x - vx, i.y - vy))
    scale = 0.6 * min(view.viewport().width(), view.viewport().height()) / max(
        math.hypot(inc.x - vx, inc.y - vy), 1.0)
    _zoom_on(view, (vx + inc.x) / 2, (vy + inc.y) / 2, scale=min(scale, 0.5))
    start, end = view.vehicle_view_pos(vehicle.id), view.incident_view_pos(inc.id)
    assert start is not None and end is not None
    viewport = view.viewport()
    emitted: list[tuple[str, str]] = []
    clicked: list[str] = []
    view.dispatch_dropped.connect(lambda v, i: emitted.append((v, i)))
    view.vehicle_clicked.connect(clicked.append)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    middle = QPoint((start.x() + end.x()) // 2, (start.y() + end.y()) // 2)
    qtbot.mouseMove(viewport, pos=middle)
    qtbot.mouseMove(viewport, pos=end)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    assert emitted == [(vehicle.id, inc.id)]
    assert clicked == []  # a drag is not a click
    # dropping on empty ground does nothing
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, pos=start + QPoint(60, 60))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(60, 60))
    assert emitted == [(vehicle.id, inc.id)]


def test_zoom_reveals_detail_and_zooming_out_hides_it(qtbot: QtBot) -> None:
    engine = _engine()
    view = _view(qtbot, engine)
    view.fit_all()
    streets = view.base_map.road_items["street"]
    glyph = view.vehicle_item(engine.free_vehicles()[0].id)
    assert glyph is not None
    station_label = view._stations[0].label
    assert not streets.isVisible()
    assert not glyph.label.item.isVisible() and not station_label.item.isVisible()
    view.setFocus()
    for _ in range(12):
        qtbot.keyClick(view, Qt.Key.Key_Plus)
    assert view.zoom_scale > S.LOD_VEHICLE_LABELS
    assert streets.isVisible()
    assert glyph.label.item.isVisible() and station_label.item.isVisible()
    qtbot.keyClick(view, Qt.Key.Key_0)
    assert not streets.isVisible() and not glyph.label.item.isVisible()


def test_wheel_zooms_around_the_cursor_and_dragging_the_ground_pans(qtbot: QtBot) -> None:
    engine = _engine()
    view = _view(qtbot, engine)
    anchor = QPoint(300, 200)
    before, scale = view.mapToScene(anchor), view.zoom_scale
    for _ in range(3):
        wheel = QWheelEvent(QPointF(anchor), QPointF(view.viewport().mapToGlobal(anchor)),
                            QPoint(0, 0), QPoint(0, 120), Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom_scale == pytest.approx(scale * 1.2**3)
    after = view.mapToScene(anchor)
    assert abs(after.x() - before.x()) * view.zoom_scale < 2.0
    assert abs(after.y() - before.y()) * view.zoom_scale < 2.0
    view.zoom_by(1e-6)  # clamped, not flipped or collapsed
    assert view.zoom_scale > 0
    view.zoom_by(0.3 / view.zoom_scale)
    # find bare ground: a point with no symbol under it
    ground = next(QPoint(x, y) for x in range(40, 1100, 37) for y in range(40, 700, 31)
                  if view._hit(QPoint(x, y)) is None)
    centre = view.mapToScene(view.viewport().rect().center())
    emitted: list[object] = []
    view.vehicle_clicked.connect(emitted.append)
    view.dispatch_dropped.connect(lambda *a: emitted.append(a))
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=ground)
    qtbot.mouseMove(view.viewport(), pos=ground + QPoint(80, 50))
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=ground + QPoint(80, 50))
    moved = view.mapToScene(view.viewport().rect().center()) - centre
    assert abs(moved.x() * view.zoom_scale + 80) < 3 and abs(moved.y() * view.zoom_scale + 50) < 3
    assert emitted == []
    centre = view.mapToScene(view.viewport().rect().center())
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.mapToScene(view.viewport().rect().center()).x() > centre.x()


# --- no hidden truth ----------------------------------------------------------------------------


def test_map_code_never_reads_hidden_truth() -> None:
    for path in sorted(UI.glob("map_*.py")):
        tree = ast.parse(path.read_text(), str(path))
        names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert not [a for a in names if a.startswith("truth")], path.name


def test_tooltips_show_category_and_complaint_but_no_truth(qtbot: QtBot) -> None:
    engine = _engine()
    view = _view(qtbot, engine)
    protocol = engine.world.protocol
    checked = 0
    for inc in engine.open_incidents():
        marker = view.incident_marker(inc.id)
        assert marker is not None
        tip = marker.item.toolTip()
        assert inc.category in tip and protocol.describe(inc.complaint, inc.code) in tip
        assert "unknown" not in tip  # a C1 before what_happened is named by its rule
        truth = inc.truth_patient.truth
        hidden = {truth.need, truth.ideal, truth.variant, truth.description}
        if truth.true_category != inc.category:
            hidden.add(truth.true_category)
        assert not [h for h in hidden if h and h in tip], tip
        checked += 1
    assert checked
    assert not view.show_truth


# --- keeping up -----------------------------------------------------------------------------------


def test_a_new_shift_replaces_everything(qtbot: QtBot) -> None:
    engine = _engine()
    view = _view(qtbot, engine)
    fresh = _engine(until=600.0)
    view.set_engine(fresh)
    view.refresh()
    assert view.engine is fresh
    assert set(view._incidents) == {i.id for i in fresh.open_incidents()}
    # the map tracks the read model folded from the fresh shift's events, not the old one's
    assert list(view._tracked) == list(fresh.vehicles)
    for vid, tracked in view._tracked.items():
        assert tracked.vehicle is view.room.vehicles[vid]
        assert tracked.vehicle.status == fresh.vehicles[vid].status


def test_screenshot_of_the_default_shift(qtbot: QtBot) -> None:
    engine = _engine()
    view = _view(qtbot, engine, size=(1600, 1000))
    view.fit_all()
    view.refresh()
    image = view.grab().toImage()
    colours = {image.pixel(x, y) for x in range(0, 1600, 37) for y in range(0, 1000, 29)}
    assert len(colours) > 20  # a map, not a blank
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert view.grab().save(str(SCREENSHOTS / "map_default.png"))
    assert Path(SCREENSHOTS / "map_default.png").stat().st_size > 10_000


@pytest.mark.parametrize("size", [(1200, 800), (560, 460), (900, 300)])
def test_the_key_never_covers_the_fitted_map(qtbot: QtBot, size: tuple[int, int]) -> None:
    view = _view(qtbot, _engine(until=600.0), size)
    view.fit_all()
    rect = view._base.rect  # noqa: SLF001 - the map's extent in scene units
    on_screen = view.mapFromScene(rect).boundingRect()
    key = view._legend.geometry()  # noqa: SLF001
    assert view.viewport().rect().adjusted(-3, -3, 3, 3).contains(on_screen)
    assert not key.intersects(on_screen.adjusted(2, 2, -2, -2)), (key, on_screen)
    # Hiding the key (K at the desk) gives the map the whole view.
    shown_width = on_screen.width()
    view.toggle_legend()
    assert view._legend.isHidden()  # noqa: SLF001
    assert view.mapFromScene(rect).boundingRect().width() >= shown_width
    view.toggle_legend()
    assert not view._legend.isHidden()  # noqa: SLF001
