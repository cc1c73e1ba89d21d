"""The desk over a whole session: a monkey at the keyboard and mouse for an hour of simulated
time, no widget left behind after closing, the autopilot path with a screenshot, and the
``desk`` command line."""

from __future__ import annotations

import gc
import random
import weakref
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QPushButton, QTabWidget
from test_ui_desk import county, small_room  # noqa: F401 - the session fixture

from ambsim_gui import cli
from ambsim_gui.paths import DEFAULT_SCENARIO
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.world import World
from ambsim_gui.ui.desk import DeskWindow
from ambsim_gui.ui.table_model import KeyedTable

MONKEY_KEYS = [
    *(getattr(Qt.Key, f"Key_{c}") for c in "0123456789ASHVRLMNDFPX"),
    Qt.Key.Key_Space,
    Qt.Key.Key_Return,
    Qt.Key.Key_Escape,
    Qt.Key.Key_F1,
    Qt.Key.Key_Plus,
    Qt.Key.Key_Minus,
    Qt.Key.Key_BracketLeft,
    Qt.Key.Key_BracketRight,
    Qt.Key.Key_Up,
    Qt.Key.Key_Down,
]


def monkey_step(qtbot, desk: DeskWindow, rng: random.Random) -> None:
    """One random action: a key, a button, a table row, a tab, or a click on the map."""
    roll = rng.random()
    if roll < 0.35:
        modifier = (
            Qt.KeyboardModifier.ControlModifier
            if rng.random() < 0.1
            else (Qt.KeyboardModifier.NoModifier)
        )
        target = rng.choice([desk.call_panel.transcript, desk.call_queue.table, desk.map, desk])
        qtbot.keyClick(target, rng.choice(MONKEY_KEYS), modifier)
    elif roll < 0.65:
        buttons = [b for b in desk.findChildren(QPushButton) if b.isVisible() and b.isEnabled()]
        if buttons:
            qtbot.mouseClick(rng.choice(buttons), Qt.MouseButton.LeftButton)
    elif roll < 0.85:
        tables = [t for t in desk.findChildren(KeyedTable) if t.isVisible() and t.rows_model.rows]
        if tables:
            table = rng.choice(tables)
            index = table.rows_model.index(rng.randrange(len(table.rows_model.rows)), 0)
            table.scrollTo(index)
            pos = table.visualRect(index).center()
            if rng.random() < 0.3:
                qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)
                qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)
            else:
                qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    elif roll < 0.93:
        tabs = rng.choice([w for w in desk.findChildren(QTabWidget) if w.isVisible()])
        bar = tabs.tabBar()
        qtbot.mouseClick(
            bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(rng.randrange(bar.count())).center()
        )
    else:
        view = desk.map.viewport() if hasattr(desk.map, "viewport") else desk.map
        size = view.size()
        pos = QPoint(rng.randrange(max(1, size.width())), rng.randrange(max(1, size.height())))
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=pos)


@pytest.mark.parametrize(
    ("role", "seconds"), [("both", 3600.0), ("call_handler", 1200.0), ("dispatcher", 1200.0)]
)
def test_monkey_random_clicks_and_keys(qtbot, county: World, role: str, seconds: float) -> None:  # noqa: F811
    """An hour of simulated time (20 minutes for the single roles) of random input."""
    rng = random.Random(f"monkey-{role}")
    engine = Engine(small_room(county), role=role)
    desk = DeskWindow(engine, speed=64)
    qtbot.addWidget(desk)
    with qtbot.waitActive(desk):
        desk.show()
    while engine.now < seconds:
        for _ in range(3):
            monkey_step(qtbot, desk, rng)
        desk.clock.advance_to(engine.now + 10.0, frame_s=5.0)
        QApplication.processEvents()
    assert desk.errors == []
    assert engine.now >= seconds
    # the monkey did reach the engine's door (a dispatch to a covered incident, a stand-down and
    # a doubtful link stop at their warning until pressed again: issue 12, fewer get through)
    assert desk.ctx.commands_sent >= 8


def test_closing_the_desk_leaves_no_widget_behind(qtbot, county: World) -> None:  # noqa: F811
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()
    before = list(QApplication.topLevelWidgets())
    engine = Engine(small_room(county))
    desk = DeskWindow(engine, speed=8)
    with qtbot.waitActive(desk):
        desk.show()
    desk.clock.advance_to(600, frame_s=10.0)
    desk.open_debrief()
    desk.show_toast("a card", good=True)
    desk.toggle_help()
    desk.start()
    qtbot.wait(50)
    assert len(QApplication.topLevelWidgets()) > len(before)
    ref = weakref.ref(desk)
    desk.close()
    desk.deleteLater()
    del desk
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()
    gc.collect()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert ref() is None, "the desk window was not collected"
    after = QApplication.topLevelWidgets()
    assert len(after) == len(before), [type(w).__name__ for w in after]
    assert engine.listeners == []  # the desk's projections left the engine


def test_autopilot_runs_in_process_and_saves_a_screenshot(qapp, tmp_path: Path) -> None:
    shot = tmp_path / "desk.png"
    session = tmp_path / "desk.ambsession"
    code = cli.main(
        [
            "desk",
            "--record",
            str(session),
            "--autopilot",
            "expert",
            "--speed",
            "64",
            "--quit-after",
            "180",
            "--screenshot",
            str(shot),
        ]
    )
    assert code == 0
    # every desk session is recorded, and the recording verifies
    from ambsim_gui.record.verify import verify

    assert session.is_file()
    assert verify(session).ok
    image = QImage(str(shot))
    assert not image.isNull()
    assert (image.width(), image.height()) == (1600, 1000)
    assert not [
        w for w in QApplication.topLevelWidgets() if isinstance(w, DeskWindow) and w.isVisible()
    ]


def test_desk_with_a_bad_scenario_prints_where_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "schema_version: 1\nname: Bad\nduration_h: -4\nmap: county\nstations: []\n",
        encoding="utf-8",
    )
    assert cli.main(["desk", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:3:" in err and "Traceback" not in err


def test_no_subcommand_opens_the_desk_on_the_default_scenario(monkeypatch) -> None:
    from ambsim_gui.ui import app

    seen = {}

    def fake_run_desk(world, options, *, title=None, loaded=None):  # type: ignore[no-untyped-def]
        seen["world"], seen["options"], seen["title"] = world, options, title
        return 0

    monkeypatch.setattr(app, "run_desk", fake_run_desk)
    assert cli.main([]) == 0
    assert seen["world"].scenario.name == seen["title"]
    assert seen["options"].speed == 1 and seen["options"].autopilot is None
    args = cli._parser().parse_args(["desk"])
    assert Path(args.scenario) == DEFAULT_SCENARIO
    opts = cli._parser().parse_args(
        ["desk", "x.yaml", "--role", "dispatcher", "--speed", "16", "--seed", "4", "--assessment"]
    )
    assert (opts.role, opts.speed, opts.seed, opts.assessment) == ("dispatcher", 16, 4, True)


def test_instructor_injects_live_from_the_desk(qapp, qtbot) -> None:  # noqa: ANN001
    from ambsim_gui.headless import build_from
    from ambsim_gui.paths import DEFAULT_SCENARIO
    from ambsim_gui.scenario.loader import load_scenario
    from ambsim_gui.sim import events as ev
    from ambsim_gui.sim.engine import Engine
    from ambsim_gui.ui.desk import DeskWindow

    engine = Engine(build_from(load_scenario(DEFAULT_SCENARIO)), policy="expert")
    # the Instructor tab is on the desk only when asked for (issue 12: never on a trainee's desk)
    window = DeskWindow(engine, show_debrief=False, instructor=True)
    qtbot.addWidget(window)
    panel = window.instructor
    assert panel is not None
    panel.kind.setCurrentText("hospital_diversion")
    panel.settings.setText('{hospital: "Anglebury Hospital", duration_min: 30}')
    assert panel.apply()
    assert engine.hospitals["Anglebury Hospital"].diverted
    assert "Injected" in panel.result.text()
    # the live inject is a command: a recording keeps it, a replay repeats it
    assert engine.command_log[-1].command.seat == "instructor"
    panel.kind.setCurrentText("road_closure")
    panel.settings.setText("{roads: [No Such Road]}")
    assert not panel.apply()
    assert "No Such Road" in panel.result.text()
    panel.settings.setText("{roads: [unclosed")
    assert not panel.apply() and "not YAML" in panel.result.text()
    assert any(isinstance(x, ev.InjectApplied) and x.live for x in engine.events)
    window.shutdown()
