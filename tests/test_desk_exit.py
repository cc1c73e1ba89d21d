"""Every way out of the desk closes its recording into one self-contained session file.

The close button and Ctrl+Q (both ask while the shift runs), the end of the shift, SIGINT and
SIGTERM from the terminal: each leaves a ``.ambsession`` with no ``-wal`` beside it, marked
closed, that verifies when copied alone to another folder. And without a display the desk
says what to do instead of letting Qt abort.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from ambsim_gui import cli
from ambsim_gui.display import display_problem
from ambsim_gui.headless import build_from
from ambsim_gui.paths import DEFAULT_SCENARIO, PROJECT_ROOT
from ambsim_gui.record.verify import verify
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.ui import app as desk_app
from ambsim_gui.ui.desk import DeskWindow


def _desk_window() -> DeskWindow:
    desks = [w for w in QApplication.topLevelWidgets() if isinstance(w, DeskWindow)]
    visible = [w for w in desks if w.isVisible()]
    assert visible, "no desk window open"
    return visible[-1]


def _self_contained(session: Path, tmp_path: Path) -> None:
    """No side files; the file alone, copied elsewhere, is a closed session that verifies."""
    assert session.is_file()
    assert not Path(f"{session}-wal").exists()
    assert not Path(f"{session}-shm").exists()
    alone = tmp_path / "copied" / session.name
    alone.parent.mkdir()
    shutil.copyfile(session, alone)
    result = verify(alone)
    assert result.ok, result
    assert result.closed
    assert result.events > 0


def _run_desk_then(tmp_path: Path, action, *, quit_after: float | None = None) -> int:  # noqa: ANN001
    loaded = load_scenario(DEFAULT_SCENARIO)
    options = desk_app.DeskOptions(
        speed=64, record=tmp_path / "desk.ambsession", quit_after=quit_after
    )
    QTimer.singleShot(1500, action)
    return desk_app.run_desk(build_from(loaded), options, title="exit test", loaded=loaded)


def test_the_close_button_asks_then_closes_the_recording(qapp, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    asked: list[str] = []

    def answer(desk: DeskWindow) -> bool:
        asked.append("Quit the desk?")
        # the shift must not run on while the trainee decides
        assert desk.clock.paused
        return len(asked) > 1  # "No" first, then "Yes"

    monkeypatch.setattr(DeskWindow, "ask_quit", answer)

    def close_twice() -> None:
        desk = _desk_window()
        assert desk.close() is False  # "No": the desk stays, the clock runs again
        assert desk.isVisible() and not desk.clock.paused
        assert desk.close() is True

    code = _run_desk_then(tmp_path, close_twice)
    assert code == 0
    assert asked == ["Quit the desk?", "Quit the desk?"]
    _self_contained(tmp_path / "desk.ambsession", tmp_path)


def test_ctrl_q_quits_after_a_confirmation(qapp, qtbot, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(DeskWindow, "ask_quit", lambda desk: True)

    def press() -> None:
        desk = _desk_window()
        qtbot.keyClick(desk, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)

    assert _run_desk_then(tmp_path, press) == 0
    _self_contained(tmp_path / "desk.ambsession", tmp_path)


def test_the_end_of_the_shift_closes_the_recording_at_once(qapp, tmp_path: Path) -> None:  # noqa: ANN001
    """A short shift run to its end: the file is closed while the desk is still open."""
    seen: dict[str, bool] = {}
    session = tmp_path / "desk.ambsession"
    loaded = load_scenario(DEFAULT_SCENARIO)
    world = build_from(loaded)
    options = desk_app.DeskOptions(speed=64, record=session)

    def watch() -> None:
        desk = _desk_window()
        if not desk.engine.finished:
            desk.clock.advance_to(desk.engine.end_s, frame_s=3600.0)
        seen["finished"] = desk.engine.finished
        seen["closed_while_open"] = desk.isVisible() and not Path(f"{session}-wal").exists()
        desk.quit_now()

    QTimer.singleShot(500, watch)
    assert desk_app.run_desk(world, options, title="end", loaded=loaded) == 0
    assert seen == {"finished": True, "closed_while_open": True}
    _self_contained(session, tmp_path)
    assert verify(session).complete


def test_a_signal_while_the_quit_question_is_open_still_closes(qapp, tmp_path: Path) -> None:  # noqa: ANN001
    """The real "Quit the desk?" box is open (its own event loop) when SIGTERM arrives."""
    seen: dict[str, object] = {}

    def ask() -> None:
        desk = _desk_window()
        QTimer.singleShot(300, lambda: os.kill(os.getpid(), signal.SIGTERM))

        def look() -> None:
            box = QApplication.activeModalWidget()
            seen["box"] = box.windowTitle() if box is not None else None

        QTimer.singleShot(100, look)
        seen["closed"] = desk.close()  # blocks in the box until the signal answers it

    code = _run_desk_then(tmp_path, ask)
    assert code == 128 + signal.SIGTERM
    assert seen["box"] == "Quit the desk?"
    _self_contained(tmp_path / "desk.ambsession", tmp_path)
    # the clock was not restarted by the answered box: no desk is left running
    desks = [w for w in QApplication.topLevelWidgets() if isinstance(w, DeskWindow)]
    assert not [w for w in desks if w.isVisible()]


def test_an_exception_out_of_the_event_loop_still_closes_the_recording(
    qapp, tmp_path: Path, monkeypatch  # noqa: ANN001
) -> None:
    from PySide6.QtCore import QEventLoop

    def broken_exec(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        raise RuntimeError("the GUI failed")

    monkeypatch.setattr(QEventLoop, "exec", broken_exec)
    with pytest.raises(RuntimeError, match="the GUI failed"):
        _run_desk_then(tmp_path, lambda: None)
    session = tmp_path / "desk.ambsession"
    assert not Path(f"{session}-wal").exists()
    assert verify(session).closed


def _desk_subprocess(tmp_path: Path, session: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [
            sys.executable,
            str(PROJECT_ROOT / "main.py"),
            "desk",
            "--autopilot",
            "expert",
            "--speed",
            "64",
            "--record",
            str(session),
        ],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_closes_the_recording(tmp_path: Path, sig: int, code: int) -> None:
    session = tmp_path / "desk.ambsession"
    proc = _desk_subprocess(tmp_path, session)
    try:
        deadline = time.monotonic() + 60
        while not session.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert session.exists(), proc.stderr.read() if proc.poll() is not None else "no file"
        time.sleep(4)  # the shift runs at 64x: several simulated minutes of work
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert "session saved to" in err and "Traceback" not in err
    _self_contained(session, tmp_path)


def test_no_display_is_said_before_qt_starts(monkeypatch, capsys) -> None:  # noqa: ANN001
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert cli.main(["desk", "--no-record"]) == cli.EXIT_NO_DISPLAY
    err = capsys.readouterr().err
    assert "no display" in err and "QT_QPA_PLATFORM=offscreen" in err and "DISPLAY" in err


def test_display_problem_names_each_cause() -> None:
    assert display_problem(environ={"QT_QPA_PLATFORM": "offscreen"}, platform="linux") is None
    assert display_problem(environ={}, platform="win32") is None
    assert "DISPLAY is not set" in (display_problem(environ={}, platform="linux") or "")
    # display 987 has no server on any test machine
    gone = display_problem(environ={"DISPLAY": ":987"}, platform="linux") or ""
    assert "no X server answers on DISPLAY=:987" in gone
    wayland = display_problem(environ={"QT_QPA_PLATFORM": "wayland"}, platform="linux") or ""
    assert "WAYLAND_DISPLAY" in wayland
