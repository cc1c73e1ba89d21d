"""The instructor's replay window over archived sessions, offscreen (pytest-qt).

Each test opens a copy of an archived session (the window opens it writable, for annotations).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from ambsim_gui.record.debrief_markers import MARKER_KINDS
from ambsim_gui.record.reader import SessionFile
from ambsim_gui.sim import events as ev
from ambsim_gui.ui.replay_timeline import LANES
from ambsim_gui.ui.replay_window import (
    CALL_COLUMNS,
    INCIDENT_COLUMNS,
    ReplayWindow,
    open_replay,
    run_replay,
)

SESSIONS = Path(__file__).parent / "sessions"
EXPERT = "default_1h_both_expert_desk.schema2.ambsession"
CHASER = "default_1h_both_chaser_inject.schema2.ambsession"


def copy_session(tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    shutil.copyfile(SESSIONS / name, out)
    return out


@pytest.fixture
def open_window(qtbot, tmp_path: Path) -> Iterator:  # noqa: ANN001 - pytest-qt fixture
    windows: list[ReplayWindow] = []

    def make(name: str = EXPERT) -> ReplayWindow:
        window = open_replay(copy_session(tmp_path, name))
        qtbot.addWidget(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()


def table_texts(table, column: int) -> list[str]:  # noqa: ANN001
    return [table.item(r, column).text() for r in range(table.rowCount())]


def test_seek_shows_the_state_at_that_time(open_window) -> None:  # noqa: ANN001
    window = open_window()
    for t in (1500.0, 2400.0, 900.0, 3000.0):  # forward, forward, back, forward
        window.seek(t)
        frame = window.index.state_at(t)
        open_ids = {i.id for i in frame.state.open_incidents()}
        assert window.incident_table.rowCount() == len(open_ids)
        assert set(table_texts(window.incident_table, 0)) == open_ids
        assert window.call_table.rowCount() == len(frame.state.calls)
        assert window.vehicle_table.rowCount() == len(frame.state.vehicles)
        assert f"Calls</b> {frame.metrics.calls} " in window.kpi_label.text()
        assert window.map.incident_items_visible() == len(open_ids)
        assert window.timeline.t == pytest.approx(t)
    assert any(len(window.index.state_at(t).state.open_incidents()) for t in (1500, 2400, 3000))


def test_markers_and_next_decision(open_window) -> None:  # noqa: ANN001
    window = open_window()
    kinds = window.timeline.kinds_shown()
    assert {"call", "decision", "dispatch", "breach", "duplicate_dispatch"} <= kinds
    assert kinds == {m.kind for m in window.markers if not m.hidden}
    laned = {kind for _, lane_kinds in LANES for kind in lane_kinds}
    assert laned == set(MARKER_KINDS)  # every kind has a lane
    first = window.next_decision()
    assert first == min(m.t for m in window.markers if m.kind == "decision")
    second = window.next_decision()
    assert second is not None and second > first
    assert window.previous_decision() == first
    # a click on the timeline seeks
    timeline = window.timeline
    timeline.resize(1000, timeline.minimumHeight())
    from PySide6.QtCore import QPoint
    from pytestqt.qtbot import QtBot

    QtBot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=QPoint(timeline.width() - 10, 40))
    assert window.t == pytest.approx(window.end_t, rel=0.01)


def test_play_advances_time(open_window) -> None:  # noqa: ANN001
    # the timer's tick is driven by hand: an earlier test may have quit the shared
    # QApplication's loop (run_desk calls app.quit()), which stops timers in later waits
    window = open_window()
    window.set_speed(64)
    assert window.speed_box.currentText() == "64x"
    window.toggle_play()
    assert window.playing and window._timer.isActive()
    assert window.play_button.text() == "Pause"
    window._last_tick -= 0.5  # half a second of wall time at 64x
    window._tick()
    assert window.t == pytest.approx(32.0, abs=2.0)
    window.toggle_play()
    assert not window.playing and not window._timer.isActive()
    window.seek(window.end_t - 1.0)
    window.toggle_play()
    window._last_tick -= 1.0
    window._tick()  # runs off the end: stops there
    assert window.t == pytest.approx(window.end_t) and not window.playing


def test_truth_overlay(open_window) -> None:  # noqa: ANN001
    window = open_window(CHASER)
    hidden_kinds = {m.kind for m in window.markers if m.hidden}
    assert hidden_kinds, "this session has markers known only with the truth"
    assert not (hidden_kinds & window.timeline.kinds_shown())
    window.seek(window.end_t)
    window.tabs.setCurrentIndex(2)
    truth_col = CALL_COLUMNS.index("Truth")
    assert window.call_table.isColumnHidden(truth_col)
    assert all(text == "" for text in table_texts(window.call_table, truth_col))
    assert "TRUTH" not in window.kpi_label.text() and "Truth:" not in window.kpi_label.text()

    # key T: the window-wide shortcut (activated by hand: focus offscreen is unreliable
    # once an earlier test has quit the shared QApplication's loop)
    assert window._truth_shortcut.key() == QKeySequence(Qt.Key.Key_T)
    window._truth_shortcut.activated.emit()
    assert window.truth_on and window.truth_box.isChecked()
    assert hidden_kinds <= window.timeline.kinds_shown()
    assert not window.call_table.isColumnHidden(truth_col)
    assert not window.incident_table.isColumnHidden(INCIDENT_COLUMNS.index("Truth"))
    texts = table_texts(window.call_table, truth_col)
    assert any("true C" in text for text in texts)
    differing = [text for text in texts if text.startswith("DIFFERS")]
    assert differing, "this trainee sent vehicles to patients who needed advice"
    red = window.call_table.item(texts.index(differing[0]), truth_col).background().color()
    assert red.name() == "#f6b3b3"
    window.select_call(window.call_table.item(0, 0).text())
    assert "TRUTH: true C" in window.transcript.toPlainText()

    window.set_truth_overlay(False)
    assert not window.truth_box.isChecked()
    assert all("true C" not in text for text in table_texts(window.call_table, truth_col))
    assert "TRUTH" not in window.transcript.toPlainText()


def test_transcript_of_the_selected_call(open_window) -> None:  # noqa: ANN001
    window = open_window()
    window.seek(window.end_t)
    call_id = window.call_table.item(0, 0).text()
    window.call_table.selectRow(0)
    assert window.selected_call == call_id
    text = window.transcript.toPlainText()
    opening = window.replay_cursor.state.calls[call_id].opening
    assert opening in text


def test_annotation_saved_and_reloaded(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    path = copy_session(tmp_path, EXPERT)
    window = open_replay(path)
    qtbot.addWidget(window)
    window.seek(1234.0)
    window.select_call(None)
    window.annotation_edit.setText("Slow to send a DCA here")
    window.pin_button.click()
    assert window.annotation_edit.text() == ""
    assert window.annotation_list.count() == 1
    window.seek(2000.0)
    window.select_call(next(iter(window.replay_cursor.state.calls)))
    call_id = window.selected_call
    window.add_annotation("Good questioning")
    window.close()

    with SessionFile.open(path) as session:
        notes = session.annotations()
    assert [(n.t, n.text, n.call_id) for n in notes] == [
        (1234.0, "Slow to send a DCA here", None),
        (2000.0, "Good questioning", call_id),
    ]
    again = open_replay(path)
    qtbot.addWidget(again)
    assert again.annotation_list.count() == 2
    assert "Good questioning" in again.annotation_list.item(1).text()
    again.annotation_list.itemActivated.emit(again.annotation_list.item(0))
    assert again.t == pytest.approx(1234.0)
    again.close()


def test_export_report(open_window, tmp_path: Path) -> None:  # noqa: ANN001
    window = open_window()
    calls = sum(isinstance(e, ev.CallArrived) for e in window.events)
    out = window.export_report(tmp_path / "debrief.html", expert=False)
    html = out.read_text(encoding="utf-8")
    assert f"<td>{calls} (answered" in html


def test_run_replay_screenshot(tmp_path: Path, qapp) -> None:  # noqa: ANN001
    path = copy_session(tmp_path, EXPERT)
    png = tmp_path / "x.png"
    assert run_replay(path, screenshot=png) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_replay_quits_after(tmp_path: Path, qapp) -> None:  # noqa: ANN001
    path = copy_session(tmp_path, EXPERT)
    assert run_replay(path, quit_after_s=0.2, at_s=600.0, truth=True) == 0


def test_run_replay_refuses_a_non_session(tmp_path: Path, qapp) -> None:  # noqa: ANN001
    bad = tmp_path / "bad.ambsession"
    bad.write_text("not a session")
    assert run_replay(bad) == 2


def test_branch_from_a_moment_continues_the_same_shift(qapp, qtbot, tmp_path) -> None:  # noqa: ANN001
    from ambsim_gui.headless import build_from
    from ambsim_gui.paths import DEFAULT_SCENARIO
    from ambsim_gui.record.player import record_played_shift
    from ambsim_gui.record.verify import verify
    from ambsim_gui.scenario.loader import load_scenario
    from ambsim_gui.sim import events as ev
    from ambsim_gui.ui.replay_window import open_replay

    loaded = load_scenario(DEFAULT_SCENARIO)
    source = tmp_path / "shift.ambsession"
    live, _ = record_played_shift(source, loaded, build_from(loaded), player="expert", hours=1.0)
    window = open_replay(source)
    qtbot.addWidget(window)
    window.seek(1800.0)
    branch_file = tmp_path / "branch.ambsession"
    desk = window.branch_from_here(branch_file, show=False)
    engine = desk.ctx.engine
    assert engine.now == 1800.0
    # the same state: the branch's stream up to the moment is the recorded one
    prefix = [e for e in live.events if e.t < 1800.0]
    assert [ev.canonical_json(e) for e in engine.events[: len(prefix)]] == [
        ev.canonical_json(e) for e in prefix
    ]
    # new decisions from here; the branch is its own recorded session that verifies
    engine.run_until(2400.0)
    desk.branch_recorder.close()
    assert verify(branch_file).ok
    desk.shutdown()


def test_the_seat_column_and_the_trainee_only_filter(open_window) -> None:  # noqa: ANN001
    window = open_window(CHASER)
    with SessionFile.open(SESSIONS / CHASER) as session:
        events = session.events()
    answered = {e.call_id: e.seat for e in events if isinstance(e, ev.CallAnswered)}
    arrived = {e.call_id: e.t for e in events if isinstance(e, ev.CallArrived)}
    end = events[-1].t
    window.seek(end)
    seat_col = CALL_COLUMNS.index("Seat")
    calls = table_texts(window.call_table, 0)
    seats = table_texts(window.call_table, seat_col)
    # every call that rang is listed with the seat that answered it: "you" for the trainee
    assert set(calls) == {c for c, t in arrived.items() if t <= end}
    expected = {
        c: ("you" if answered[c] == "trainee" else answered[c]) if c in answered else "-"
        for c in calls
    }
    assert dict(zip(calls, seats, strict=True)) == expected
    assert "you" in seats and any(s not in ("you", "-") for s in seats), "both kinds of seat"
    # trainee only: exactly the trainee's calls, and only incidents the trainee worked
    window.trainee_box.setChecked(True)
    assert window.trainee_only
    mine = sorted(c for c, seat in answered.items() if seat == "trainee" and arrived[c] <= end)
    assert sorted(table_texts(window.call_table, 0)) == mine
    assert set(table_texts(window.call_table, seat_col)) == {"you"}
    inc_seats = table_texts(window.incident_table, INCIDENT_COLUMNS.index("Seat"))
    assert all("you" in s.split(", ") for s in inc_seats)
    # the timeline keeps the trainee's markers and those of no seat (breaches, harm)
    shown = window.timeline.visible_markers()
    assert shown and all(m.seat in (None, "trainee") for m in shown)
    assert any(m.seat not in (None, "trainee") for m in window.markers)
    window.trainee_box.setChecked(False)
    assert sorted(table_texts(window.call_table, 0)) == sorted(calls)
