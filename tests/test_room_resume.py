"""``serve --resume``: a room re-simulated to its last recorded command gives the original
stream bit for bit, and its desks rejoin their seats (localhost, bounded waits)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ambsim_gui.headless import build_from
from ambsim_gui.record.reader import SessionFile
from ambsim_gui.record.verify import verify
from ambsim_gui.room.client import JoinError, RoomClient
from ambsim_gui.room.serve_command import read_resume
from ambsim_gui.room.server import RoomServer, RoomThread
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev

ROOT = Path(__file__).resolve().parent.parent
WAIT_S = 20.0


def test_a_resumed_room_gives_the_same_stream_and_its_desks_rejoin(tmp_path: Path) -> None:
    loaded = load_scenario(ROOT / "scenarios" / "default.yaml")
    world = build_from(loaded)
    first = tmp_path / "first.ambsession"
    quiet = open("/dev/null", "w")  # noqa: SIM115 - the rooms' log, closed with the test
    server = RoomServer(loaded, world, speed=20, hours=2, record=first, log=quiet)
    thread = RoomThread(server)
    port = thread.start()
    try:
        ann = RoomClient(f"127.0.0.1:{port}", server.code, seat="CH1", name="Ann")
        ann.join(WAIT_S)
        rang = ann.wait_for(lambda e: isinstance(e, ev.CallArrived), WAIT_S)
        assert rang is not None
        call = rang.call_id  # type: ignore[attr-defined]
        assert ann.send(cmd.AnswerCall(call_id=call)).accepted
        assert ann.send(cmd.SetCategory(call_id=call, category="C2")).accepted
        ann.close()
    finally:
        thread.stop()  # the server goes down with Ann's call on her line

    resumed = read_resume(str(first))
    assert resumed.scenario == loaded.path and resumed.seed == loaded.scenario.seed
    with SessionFile.open(first) as session:
        original = session.events()
        last_t = session.last_command_t()
    second = tmp_path / "second.ambsession"
    again = RoomServer(
        loaded,
        world,
        seed=resumed.seed,
        speed=20,
        hours=resumed.hours,
        record=second,
        resume=resumed.commands,
        log=quiet,
    )
    thread = RoomThread(again)
    port = thread.start()
    try:
        thread.call(again.clock.pause)  # hold the room where it resumed, to compare
        replayed = thread.call(lambda: list(again.engine.events))
        assert last_t is not None and replayed[-1].t <= last_t + 1e-9
        # bit for bit: the resumed stream is the original's, event for event, to here
        assert [e.to_dict() for e in replayed] == [e.to_dict() for e in original[: len(replayed)]]
        # the seat is kept for its trainee, who gets it back with the call on the line
        with pytest.raises(JoinError, match="kept for Ann"):
            RoomClient(f"127.0.0.1:{port}", again.code, seat="CH1", name="Eve").join(WAIT_S)
        ann = RoomClient(f"127.0.0.1:{port}", again.code, seat="CH1", name="Ann")
        ann.join(WAIT_S)
        assert ann.room.seats["CH1"].call_id == call
        assert ann.room.calls[call].category == "C2"
        thread.call(again.clock.resume)
        assert ann.send(cmd.SendToDispatch(call_id=call)).accepted
        ann.close()
    finally:
        thread.stop()
        quiet.close()
    assert verify(second).status == "identical"
