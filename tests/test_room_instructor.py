"""The instructor's console over a room on localhost (pytest-qt): seats, truth, the room's
clock, injects and notes."""

from __future__ import annotations

import time
from pathlib import Path

from ambsim_gui.headless import build_from
from ambsim_gui.record.reader import SessionFile
from ambsim_gui.record.verify import verify
from ambsim_gui.room.client import RoomClient
from ambsim_gui.room.remote import RemotePorts
from ambsim_gui.room.server import RoomServer, RoomThread
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev

ROOT = Path(__file__).resolve().parent.parent
WAIT_S = 20.0


def _spin(qtbot, window, ok, timeout: float = WAIT_S) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        window.refresh()
        if ok():
            return True
        qtbot.wait(30)
    return False


def test_the_instructor_sees_every_seat_and_the_truth_and_runs_the_room(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ambsim_gui.ui.instructor_console import InstructorWindow

    loaded = load_scenario(ROOT / "scenarios" / "default.yaml")
    world = build_from(loaded)
    record = tmp_path / "class.ambsession"
    server = RoomServer(loaded, world, speed=20, hours=2, record=record, log=open("/dev/null", "w"))
    thread = RoomThread(server)
    port = thread.start()
    address = f"127.0.0.1:{port}"
    try:
        ann = RoomClient(address, server.code, seat="CH1", name="Ann")
        ann.join(WAIT_S)
        # a desk may not run the room
        assert "only the instructor" in ann.control("pause").reason
        teacher = RoomClient(address, server.code, role="instructor", name="Ms Ward", fold=False)
        teacher.join(WAIT_S)
        window = InstructorWindow(RemotePorts(teacher, world))
        qtbot.addWidget(window)
        rang = ann.wait_for(lambda e: isinstance(e, ev.CallArrived), WAIT_S)
        assert rang is not None
        call = rang.call_id  # type: ignore[attr-defined]
        assert ann.send(cmd.AnswerCall(call_id=call)).accepted

        def ann_row() -> list[str]:
            return [window.seats.item(1, c).text() for c in range(window.seats.columnCount())]

        assert _spin(qtbot, window, lambda: window.seats.rowCount() == 5 and ann_row()[4] == call)
        assert ann_row()[:4] == ["CH1", "calls", "Ann", "present"]
        assert ann_row()[5] == "1"  # answered: one call
        # the truth on demand: the call's true category, which Ann's desk never receives
        window.truth_box.setChecked(True)
        true = thread.call(lambda: server.engine.calls[call].truth_patient.truth.true_category)
        assert _spin(qtbot, window, lambda: window.truth.rowCount() > 0)
        rows = {
            window.truth.item(r, 0).text(): window.truth.item(r, 2).text()
            for r in range(window.truth.rowCount())
        }
        assert rows[f"{call} on CH1"] == true
        assert not any(e.HIDDEN for e in ann.events)
        # pause: the room's clock stops, for every desk
        assert window.control("pause")
        time.sleep(0.1)  # the engine catches up with the moment the clock stopped at
        held = thread.call(lambda: server.engine.now)
        time.sleep(0.3)
        assert thread.call(lambda: server.engine.now) == held
        assert ann.wait_until(lambda: ann.clock is not None and ann.clock.paused, WAIT_S)
        assert window.control("resume") and window.control("speed", value=4.0)
        assert thread.call(lambda: server.clock.speed) == 4.0
        assert not window.control("speed", value=500.0)
        # a live inject through the room, and a note pinned to now
        window.injects.kind.setCurrentText("surge")
        window.injects.settings.setText("{factor: 2, duration_min: 30}")
        assert window.injects.apply()
        window.note.setText("Ann asked the breathing question first")
        window.pin_note()
        assert window.note.text() == ""
        window.grab().save(str(tmp_path / "instructor.png"))
        window.close()
        ann.close()
        teacher.close()
    finally:
        thread.stop()
    assert verify(record).status == "identical"
    with SessionFile.open(record) as session:
        notes = session.annotations()
        injects = [t.command for t in session.commands() if isinstance(t.command, cmd.Inject)]
    assert [(n.author, n.text) for n in notes] == [
        ("Ms Ward", "Ann asked the breathing question first")
    ]
    assert injects and injects[0].seat == "instructor" and injects[0].spec["type"] == "surge"
