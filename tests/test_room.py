"""The classroom on localhost: a room server and headless desks in one shift.

Every network test binds 127.0.0.1 with a port the OS chooses, and every wait is bounded: a
broken room fails a test in seconds, it never hangs the suite.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ambsim_gui.headless import build_from
from ambsim_gui.record.reader import SessionFile
from ambsim_gui.record.verify import verify
from ambsim_gui.room import protocol as P
from ambsim_gui.room.client import JoinError, RoomClient
from ambsim_gui.room.server import RoomServer, RoomThread
from ambsim_gui.scenario.loader import LoadedScenario, load_scenario
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.world import World

ROOT = Path(__file__).resolve().parent.parent
WAIT_S = 20.0
SPEED = 20.0  # a call arrives every minute or so in default.yaml: one every few seconds here


@pytest.fixture(scope="module")
def shift() -> tuple[LoadedScenario, World]:
    loaded = load_scenario(ROOT / "scenarios" / "default.yaml")
    return loaded, build_from(loaded)


@contextlib.contextmanager
def served(
    shift: tuple[LoadedScenario, World], record: Path | None = None, **options: object
) -> Iterator[tuple[RoomServer, RoomThread, str]]:
    loaded, world = shift
    server = RoomServer(
        loaded, world, speed=SPEED, hours=2, record=record, log=open("/dev/null", "w"), **options
    )  # type: ignore[arg-type]
    thread = RoomThread(server)
    port = thread.start()
    try:
        yield server, thread, f"127.0.0.1:{port}"
    finally:
        thread.stop()
        assert server.recorder is None  # every way out closes the recording


def desk(address: str, code: str, seat: str, name: str) -> RoomClient:
    client = RoomClient(address, code, seat=seat, name=name)
    client.join(WAIT_S)
    return client


def take_a_call(client: RoomClient) -> str:
    """Answer the next call that rings (colleagues may pick up first: try the next one)."""
    start = 0
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        arrived = client.wait_for(lambda e: isinstance(e, ev.CallArrived), WAIT_S, start)
        assert arrived is not None, "no call rang"
        start = client.events.index(arrived) + 1
        reply = client.send(cmd.AnswerCall(call_id=arrived.call_id))  # type: ignore[attr-defined]
        if reply.accepted:
            return str(arrived.call_id)  # type: ignore[attr-defined]
        assert "not ringing" in reply.reason or "already" in reply.reason, reply.reason
    raise AssertionError("no call could be taken")


def dispatch_nearest(client: RoomClient, incident_id: str) -> P.Reply:
    queued = client.wait_for(
        lambda e: isinstance(e, ev.IncidentQueued) and e.incident_id == incident_id, WAIT_S
    )
    assert queued is not None
    with client._cond:
        free = [v.id for v in client.room.vehicles.values() if v.status == "available"]
    etas = client.etas(incident_id, free)
    best = min(zip(etas, free, strict=True))[1]
    return client.send(cmd.DispatchVehicle(vehicle_id=best, incident_id=incident_id))


def test_three_desks_take_calls_and_dispatch_and_the_recording_verifies(
    shift: tuple[LoadedScenario, World], tmp_path: Path
) -> None:
    record = tmp_path / "room.ambsession"
    with served(shift, record) as (server, _thread, address):
        ann = desk(address, server.code, "CH1", "Ann")
        tia = desk(address, server.code, "trainee", "Tia")
        dan = desk(address, server.code, "D1", "Dan")
        call = take_a_call(ann)
        # the room stamps the seat: Ann's command says nothing of it and lands on CH1
        assert ann.room.seats["CH1"].call_id == call
        assert ann.send(cmd.SetCategory(call_id=call, category="C2")).accepted
        assert ann.send(cmd.SendToDispatch(call_id=call)).accepted
        opened = ann.wait_for(lambda e: isinstance(e, ev.IncidentOpened), WAIT_S)
        assert opened is not None and opened.call_id == call  # type: ignore[attr-defined]
        incident = str(opened.incident_id)  # type: ignore[attr-defined]
        reply = dispatch_nearest(dan, incident)
        assert reply.accepted, reply.reason
        assigned = tia.wait_for(
            lambda e: isinstance(e, ev.VehicleAssigned) and e.incident_id == incident, WAIT_S
        )
        assert assigned is not None and assigned.seat == "D1"  # type: ignore[attr-defined]
        tia_call = take_a_call(tia)
        assert tia.room.seats["trainee"].call_id == tia_call
        # an illegal action is refused with the engine's reason, and the desk hears it
        refused = ann.send(cmd.GiveAdvice(call_id=tia_call))
        assert not refused.accepted and "is on seat trainee, not CH1" in refused.reason
        # the desks see no truth; all three saw the same stream of what a room can know
        assert not any(e.HIDDEN for e in ann.events)
        for client in (ann, tia, dan):
            client.close()
    result = verify(record)
    assert result.status == "identical", result.message
    with SessionFile.open(record) as session:
        commands = [timed.command for timed in session.commands()]
    # each seat's trainee is in the recording: the room's CoverSeat names who sits where
    covers = {(c.covered, c.trainee) for c in commands if isinstance(c, cmd.CoverSeat)}
    assert covers == {("CH1", "Ann"), ("trainee", "Tia"), ("D1", "Dan")}
    seats = {c.seat for c in commands if not isinstance(c, cmd.CoverSeat)}
    assert seats == {"CH1", "trainee", "D1"}


def test_a_wrong_or_missing_code_is_refused_and_logged(
    shift: tuple[LoadedScenario, World],
) -> None:
    with served(shift) as (server, _thread, address):
        ann = desk(address, server.code, "CH1", "Ann")
        for code in ("WRONGCODE1", ""):
            with pytest.raises(JoinError, match="wrong or missing join code"):
                desk(address, code, "CH2", "Eve")
        assert sum("wrong or missing join code" in line for line in server.log_lines) == 2
        # the room is undisturbed: Ann is at her seat and the shift goes on
        seen = len(ann.events)
        assert ann.wait_for(lambda e: True, WAIT_S, seen) is not None
        assert ann.connected
        assert server.book.seats["CH2"].status == "colleague"
        ann.close()


def test_malformed_oversized_and_other_seat_messages_are_refused_without_harm(
    shift: tuple[LoadedScenario, World],
) -> None:
    with served(shift) as (server, thread, address):
        ann = desk(address, server.code, "CH1", "Ann")
        dan = desk(address, server.code, "D1", "Dan")
        before = thread.call(lambda: len(server.engine.command_log))
        # not JSON, not a message, a command of no known kind: refused, the line stays up
        for frame in ("{not json", json.dumps({"type": "launch"}), "[1, 2]"):
            ann.send_raw(frame)
        assert ann.wait_until(lambda: len(ann.refusals) == 3, WAIT_S), ann.refusals
        bad = ann._ask(
            lambda ref: P.SendCommand(ref=ref, command={"kind": "self_destruct"}), WAIT_S
        )
        assert not bad.accepted and "unknown command kind" in bad.reason
        # a command for another seat never reaches the engine
        other = ann.send(cmd.DispatchVehicle(seat="D1", vehicle_id="x", incident_id="y"))
        assert not other.accepted and other.reason.startswith("seat 'D1' is not yours")
        assert thread.call(lambda: len(server.engine.command_log)) == before
        assert ann.connected
        # a message over the limit closes that line only
        dan.send_raw("x" * (P.MAX_MESSAGE_BYTES + 1))
        assert dan.wait_until(lambda: not dan.connected, WAIT_S)
        assert _until(lambda: any("over the size limit" in line for line in server.log_lines))
        assert ann.connected
        call = take_a_call(ann)
        assert ann.room.seats["CH1"].call_id == call
        ann.close()


def test_a_killed_desk_rejoins_with_its_seat_and_its_call(
    shift: tuple[LoadedScenario, World], tmp_path: Path
) -> None:
    record = tmp_path / "rejoin.ambsession"
    with served(shift, record) as (server, _thread, address):
        ann = desk(address, server.code, "CH1", "Ann")
        call = take_a_call(ann)
        ann.kill()
        assert ann.wait_until(lambda: not ann.connected, WAIT_S)  # the desk knows at once
        assert _until(lambda: server.book.seats["CH1"].status == "away")
        # the seat is kept for Ann: nobody else takes it meanwhile, and no colleague plays it
        with pytest.raises(JoinError, match="kept for Ann"):
            desk(address, server.code, "CH1", "Eve")
        welcome = ann.rejoin(WAIT_S)
        assert welcome.seat == "CH1"
        assert ann.room.seats["CH1"].call_id == call  # the call is still on her line
        assert ann.room.calls[call].status == "answered"
        assert ann.send(cmd.SetCategory(call_id=call, category="C3")).accepted
        ann.close()
    assert verify(record).status == "identical"


def test_a_dropped_seat_can_be_covered_by_a_colleague(
    shift: tuple[LoadedScenario, World],
) -> None:
    with served(shift, cover="colleague") as (server, thread, address):
        ann = desk(address, server.code, "CH1", "Ann")
        assert thread.call(lambda: "CH1" not in server.engine.virtual_seats)
        ann.kill()
        assert _until(lambda: server.book.seats["CH1"].status == "covered")
        assert thread.call(lambda: "CH1" in server.engine.virtual_seats)
        ann.rejoin(WAIT_S)
        assert thread.call(lambda: "CH1" not in server.engine.virtual_seats)
        ann.close()


def _until(ok: object, timeout: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ok():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False
