"""The one desk at a seat of a room: a pytest-qt DeskWindow on ``RemotePorts`` (localhost)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ambsim_gui.headless import build_from
from ambsim_gui.room.client import RoomClient
from ambsim_gui.room.remote import RemotePorts
from ambsim_gui.room.server import RoomServer, RoomThread
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev

pytest.importorskip("pytestqt")

ROOT = Path(__file__).resolve().parent.parent
WAIT_S = 30.0  # calls ring for a few wall seconds at 5x: colleagues pick up after 5-15 s


def test_a_joined_desk_takes_a_call_at_its_seat_and_keeps_it_over_a_drop(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ambsim_gui.ui.desk import DeskWindow

    loaded = load_scenario(ROOT / "scenarios" / "default.yaml")
    world = build_from(loaded)
    server = RoomServer(
        loaded,
        world,
        speed=20,
        hours=2,
        record=tmp_path / "desk.ambsession",
        log=open("/dev/null", "w"),
    )
    thread = RoomThread(server)
    port = thread.start()
    try:
        client = RoomClient(f"127.0.0.1:{port}", server.code, seat="CH1", name="Ann", fold=False)
        client.join(WAIT_S)
        ports = RemotePorts(client, world)
        window = DeskWindow(ports, install_excepthook=False, show_debrief=False)
        qtbot.addWidget(window)
        window.clock.start()  # as run_desk does: each tick hands the desk what the room sent
        # the desk sits at a handler's seat: it takes calls and does not dispatch
        assert window.ctx.handles_calls and not window.ctx.dispatches
        call = None
        deadline = time.monotonic() + WAIT_S
        while call is None and time.monotonic() < deadline:
            window.clock.tick(0.05)
            ringing = list(window.ctx.room.ringing)
            if ringing and ports.submit(cmd.AnswerCall(call_id=ringing[0])):
                call = ringing[0]
            qtbot.wait(20)
        assert call is not None, [r.reason for r in window.ctx.live.rejections]
        window.clock.tick(0.05)
        # the desk calls its own seat "trainee"; the room has the call on CH1
        assert window.ctx.room.seats["trainee"].call_id == call
        assert window.ctx.live.trainee_call == call
        assert thread.call(lambda: server.engine.seats["CH1"].call_id) == call
        client.kill()
        assert client.wait_until(lambda: not client.connected, WAIT_S)
        window.clock.tick(0.05)
        assert window.ctx.room.seats["trainee"].call_id == call  # the last picture stays
        refused = ports.submit(cmd.SetCategory(call_id=call, category="C3"))
        assert not refused and "down" in window.ctx.live.rejections[-1].reason
        client.rejoin(WAIT_S)
        window.clock.tick(0.05)
        assert ports.submit(cmd.SetCategory(call_id=call, category="C3"))
        window.clock.tick(0.05)
        assert window.ctx.room.calls[call].category == "C3"
        got = [e for e in ports._delivered if isinstance(e, ev.CallAnswered) and e.call_id == call]
        assert len(got) == 1  # the rejoin brought the shift again, the desk saw each event once
        window.grab().save(str(tmp_path / "joined.png"))
        window.close()
    finally:
        thread.stop()
