"""Opening the desk from the command line: the Qt application, the engine and the window.

One job: ``run_desk`` turns the ``desk`` subcommand's options into a running desk: it builds
the engine for the trainee's role (or with a built-in policy on autopilot in the trainee's seat),
opens the window at 1600x1000, starts the clock, and, with ``quit_after``, stops once that many
simulated seconds have passed, saves a screenshot of the whole window if asked, and exits 0.
The scenario is loaded by the caller (``cli.py``), so a bad file never reaches Qt.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from ambsim_gui.record.schema import SessionError
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
    instructor: bool = False  # the Instructor tab (live injects); never on a trainee's desk
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
    ports: Any = None,
    on_window: Callable[[DeskWindow], None] | None = None,
) -> int:
    """Open the desk and run the Qt event loop; the exit code.

    With ``options.record`` (and the ``loaded`` scenario) the session is recorded from its
    first event: each trainee command is committed the moment it is given, so a crash loses
    nothing that was done. Every way out closes the recording, which folds its write-ahead
    log into the one session file: the window's close button or Ctrl+Q (both ask while the
    shift runs), the end of the shift, SIGINT (Ctrl+C in the terminal) and SIGTERM, and an
    exception escaping the event loop.

    ``ports``: a desk's ports over a shift run elsewhere (a seat of a room, ``ui.join``) in
    place of an engine of its own; the room records it. ``on_window`` is given the window.
    """
    application()  # the QApplication exists before the first widget
    engine = make_engine(world, options) if ports is None else ports
    recording = Recording(None)
    if options.record is not None and loaded is not None and ports is None:
        options.record.parent.mkdir(parents=True, exist_ok=True)
        recording = Recording(SessionRecorder.start(options.record, loaded, engine, feedback="own"))
        print(f"recording the session to {options.record}", file=sys.stderr)
    window = DeskWindow(
        engine,
        title=title,
        speed=options.speed,
        assessment=options.assessment,
        autopilot=options.autopilot,
        instructor=options.instructor,
        show_debrief=options.quit_after is None,
    )
    window.confirm_quit = options.quit_after is None
    if recording.recorder is not None:
        window.session_path = options.record  # the debrief at the shift's end is its report
    if on_window is not None:
        on_window(window)
    window.resize(1600, 1000)
    window.show()
    outcome = {"code": 0}

    # A local event loop, not app.exec()/app.quit(): quitting the application object would
    # leave it unable to run event loops again in the same process (tests, a later replay).
    # It ends on the window's own ``closed`` signal: QGuiApplication emits lastWindowClosed
    # only from inside app.exec(), never from a local loop.
    loop = QEventLoop()
    window.closed.connect(loop.quit)

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
                QTimer.singleShot(0, window.quit_now)

        window.clock.ticked.connect(check)
    if recording.recorder is not None:
        rec = recording.recorder
        window.clock.ticked.connect(lambda _now: rec.tick())
        # the shift is over: the session is complete, so make it one file at once
        window.clock.finished.connect(lambda: recording.close(window))
    window.start()
    try:
        with terminal_signals(window.quit_now) as received:
            loop.exec()
    finally:
        if not window.isHidden():
            window.quit_now()
        if not recording.close(window):
            outcome["code"] = outcome["code"] or 1
    if received:
        print(f"ambsim: stopped by {signal.Signals(received[0]).name}", file=sys.stderr)
        return 128 + received[0]
    return outcome["code"]


class Recording:
    """The desk's session recorder, closed exactly once, whichever way the desk ends."""

    def __init__(self, recorder: SessionRecorder | None) -> None:
        self.recorder = recorder
        self._closed = recorder is None
        self.ok = True

    def close(self, window: DeskWindow | None = None) -> bool:
        """Close the recording (idempotent); False when it had stopped on an error."""
        if self._closed or self.recorder is None:
            return self.ok
        self._closed = True
        rec = self.recorder
        try:
            rec.close()
        except SessionError as exc:
            self.ok = False
            print(f"ambsim: {exc}", file=sys.stderr)
            if window is not None and not window.isHidden():
                window.show_message(f"The recording stopped: {exc}", "error")
            return False
        print(
            f"session saved to {rec.path} ({rec.events_written} events, "
            f"{rec.commands_written} commands)",
            file=sys.stderr,
        )
        return True


@contextlib.contextmanager
def terminal_signals(on_signal: Callable[[], None]) -> Iterator[list[int]]:
    """While inside, SIGINT (Ctrl+C) and SIGTERM call ``on_signal`` from the Qt loop.

    Yields the list of signals received. Python runs signal handlers only between bytecodes,
    and Qt waits for events inside C++: a timer hands control back to Python every 200 ms so
    that the handler runs while the desk is idle (paused, or a dialog open).
    """
    received: list[int] = []

    def handler(signum: int, _frame: object) -> None:
        received.append(signum)
        QTimer.singleShot(0, on_signal)

    previous: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[sig] = signal.signal(sig, handler)
        except ValueError:  # not the main thread: leave the signals alone
            pass
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(200)
    try:
        yield received
    finally:
        wake.stop()
        for sig, old in previous.items():
            signal.signal(sig, old)
