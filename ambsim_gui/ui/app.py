"""Opening the desk from the command line: the Qt application, the engine and the window.

One job: ``run_desk`` turns the ``desk`` subcommand's options into a running desk: it builds
the engine for the trainee's role (or with a built-in policy on autopilot in the trainee's seat),
opens the window at 1600x1000, starts the clock, and, with ``quit_after``, stops once that many
simulated seconds have passed, saves a screenshot of the whole window if asked, and exits 0.
The scenario is loaded by the caller (``cli.py``), so a bad file never reaches Qt.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from ambsim_gui.record.session import SessionRecorder
from ambsim_gui.scenario.loader import LoadedScenario
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.world import World
from ambsim_gui.ui.desk import DeskWindow


@dataclass(frozen=True)
class DeskOptions:
    role: str | None = None  # call_handler | dispatcher | both; None: the scenario's
    speed: int = 1
    seed: int | None = None
    assessment: bool = False
    autopilot: str | None = None  # expert | target_chaser
    quit_after: float | None = None  # simulated seconds
    screenshot: Path | None = None
    record: Path | None = None  # the session file every desk session writes


def make_engine(world: World, options: DeskOptions) -> Engine:
    """The engine for a desk: colleagues played by ``expert``; the trainee's seat left to the
    user, or to the autopilot's policy."""
    return Engine(
        world,
        seed=options.seed,
        policy="expert",
        trainee_policy=options.autopilot,
        role=options.role,
    )


def application() -> QApplication:
    """The running ``QApplication`` (created on first use)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("ambsim")
    assert isinstance(app, QApplication)
    return app


def save_screenshot(window: DeskWindow, path: Path) -> bool:
    """Save ``window.grab()`` of the whole window as an image (format from the suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    QApplication.processEvents()
    return bool(window.grab().save(str(path)))


def run_desk(
    world: World,
    options: DeskOptions,
    *,
    title: str | None = None,
    loaded: LoadedScenario | None = None,
) -> int:
    """Open the desk and run the Qt event loop; the exit code.

    With ``options.record`` (and the ``loaded`` scenario) the session is recorded from its
    first event: each trainee command is committed the moment it is given, so a crash loses
    nothing that was done.
    """
    app = application()
    engine = make_engine(world, options)
    recorder: SessionRecorder | None = None
    if options.record is not None and loaded is not None:
        options.record.parent.mkdir(parents=True, exist_ok=True)
        recorder = SessionRecorder.start(options.record, loaded, engine, feedback="own")
        print(f"recording the session to {options.record}", file=sys.stderr)
    window = DeskWindow(
        engine,
        title=title,
        speed=options.speed,
        assessment=options.assessment,
        autopilot=options.autopilot,
        show_debrief=options.quit_after is None,
    )
    window.resize(1600, 1000)
    window.show()
    outcome = {"code": 0}

    # A local event loop, not app.exec()/app.quit(): quitting the application object would
    # leave it unable to run event loops again in the same process (tests, a later replay).
    loop = QEventLoop()
    app.lastWindowClosed.connect(loop.quit)

    def finish() -> None:
        window.close()
        loop.quit()

    def shoot() -> None:
        """The screenshot, taken while the clock still runs (the desk as the trainee sees it)."""
        if options.screenshot is None:
            return
        window.refresh_all()
        if not save_screenshot(window, options.screenshot):
            print(f"ambsim: cannot write the screenshot {options.screenshot}", file=sys.stderr)
            outcome["code"] = 1
        else:
            print(f"screenshot saved to {options.screenshot}", file=sys.stderr)

    if options.quit_after is not None:
        limit = float(options.quit_after)
        done = {"yes": False}

        def check(now: float) -> None:
            if (now >= limit or engine.finished) and not done["yes"]:
                done["yes"] = True
                shoot()
                window.clock.stop()
                QTimer.singleShot(0, finish)

        window.clock.ticked.connect(check)
    if recorder is not None:
        rec = recorder
        window.clock.ticked.connect(lambda _now: rec.tick())
    window.start()
    try:
        loop.exec()
    finally:
        if recorder is not None:
            recorder.close()
    return outcome["code"]
