"""Session files: recording, verified replay, tamper detection, versions, projections, expert."""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import shutil
import sqlite3
from functools import lru_cache
from pathlib import Path

import pytest

from ambsim_gui import __version__
from ambsim_gui.assess.feedback import FeedbackProjection
from ambsim_gui.assess.metrics import ShiftMetrics
from ambsim_gui.headless import build_from, run_scenario
from ambsim_gui.paths import DEFAULT_SCENARIO
from ambsim_gui.record import blocks, chain
from ambsim_gui.record.codec import (
    _ENCODE,
    CodecError,
    command_json,
    event_from_row,
    event_json,
    feedback_json,
)
from ambsim_gui.record.debrief_markers import build_markers
from ambsim_gui.record.expert import expert_shift
from ambsim_gui.record.player import ExternalPlayer, play, record_played_shift
from ambsim_gui.record.reader import SessionFile, upgrade_session
from ambsim_gui.record.replay_state import ReplayState
from ambsim_gui.record.schema import DDL_V1, SCHEMA_VERSION, NotASession, SchemaTooNew, SessionError
from ambsim_gui.record.session import SessionRecorder
from ambsim_gui.record.snapshots import SnapshotIndex
from ambsim_gui.record.vehicle_positions import RouteCache
from ambsim_gui.record.verify import verify
from ambsim_gui.scenario.loader import LoadedScenario, load_scenario
from ambsim_gui.session_commands import RecordError, annotate, replay_verify, run_recorded
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.regimes import REGIMES
from ambsim_gui.sim.world import World

ARP = REGIMES["arp2017"]


@lru_cache(maxsize=1)
def _default() -> tuple[LoadedScenario, World]:
    loaded = load_scenario(DEFAULT_SCENARIO)
    return loaded, build_from(loaded)


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Engine, ReplayState]:
    """90 minutes of the default shift, the trainee's seat played through ``submit`` by the
    target chaser (so it differs from the expert), an instructor's inject, one annotation.

    Every seat races for each call (``call_distribution="shared"``), as in the sessions of the
    program versions before the call distributor, which the older schemas' files stand for."""
    loaded, world = _default()
    path = tmp_path_factory.mktemp("played") / "played.ambsession"
    engine = Engine(
        world,
        policy="expert",
        trainee_policy=None,
        duration_s=90 * 60.0,
        call_distribution="shared",
    )
    live = ReplayState()
    engine.subscribe(live.apply)
    recorder = SessionRecorder.start(path, loaded, engine)
    player = ExternalPlayer(engine, "target_chaser")
    play(engine, player, until=1200)
    engine.submit(
        cmd.Inject(
            seat="instructor",
            spec={"type": "call_burst", "card": "rtc", "count": 3, "over_min": 3},
        )
    )
    play(engine, player)
    recorder.add_annotation(1800.0, "Why was C00012 sent to dispatch?", "C00012")
    recorder.close()
    return path, engine, live


def copy_of(path: Path, tmp_path: Path, name: str = "copy.ambsession") -> Path:
    target = tmp_path / name
    shutil.copyfile(path, target)
    return target


# --- recording and verified replay ------------------------------------------------------------


def test_a_headless_recording_replays_to_an_identical_stream(tmp_path: Path) -> None:
    path = tmp_path / "run.ambsession"
    result = run_recorded(DEFAULT_SCENARIO, path, hours=1.0)
    outcome = verify(path)
    assert outcome.ok, outcome.message
    assert outcome.complete
    assert outcome.message.startswith("identical")
    assert outcome.events == len(result.engine.events)
    with SessionFile.open(path) as session:
        assert ev.event_log_sha256(session.events()) == result.sha256
        assert session.info.autopilot == "expert" and session.info.policy == "expert"
        assert session.info.duration_s == 3600.0
        assert session.info.closed is not None and session.info.closed["shift_ended"]
    # the recorded run gives the figures an unrecorded run gives
    plain = run_scenario(DEFAULT_SCENARIO, hours=1.0, loaded=_default()[0], world=_default()[1])
    assert plain.sha256 == result.sha256


def test_the_session_holds_every_event_and_command_of_the_engine(played: tuple) -> None:
    path, engine, _ = played
    with SessionFile.open(path) as session:
        assert session.events() == engine.events
        assert session.commands() == engine.command_log
        assert len(engine.command_log) > 20
        assert any(isinstance(c.command, cmd.Inject) for c in session.commands())
    outcome = verify(path)
    assert outcome.ok, outcome.message
    assert outcome.commands == len(engine.command_log)
    assert outcome.annotations == 1
    out = io.StringIO()
    assert replay_verify(path, out=out) == 0
    assert (
        out.getvalue() == f"{path}: identical: {outcome.events} events, "
        f"{outcome.commands} commands, the whole shift\n"
    )


def test_the_codec_writes_what_the_json_module_writes_and_reads_it_back(played: tuple) -> None:
    _, engine, _ = played
    for event in engine.events:
        body = event_json(event)
        fields = {k: (list(v) if isinstance(v, tuple) else v) for k, v in event.__dict__.items()}
        del fields["t"]
        assert body == _ENCODE(fields)
        assert event_from_row(event.KIND, event.t, body) == event
    # the session codec keeps the event's kind in its own column
    advice = ev.AdviceGiven(t=1.0, incident_id="I00001", by="trainee", method="advice")
    assert event_from_row(advice.KIND, 1.0, event_json(advice)) == advice
    closure = ev.RoadClosed(t=2.0, closure_id="R1", edges=(4, 5), description="x")
    assert event_from_row(closure.KIND, 2.0, event_json(closure)) == closure
    inject = cmd.Inject(seat="instructor", spec={"type": "surge", "factor": 2})
    assert json.loads(command_json(inject))["spec"] == {"type": "surge", "factor": 2}
    # feedback is written as the general JSON conversion writes it
    projection = FeedbackProjection()
    projection.feed_all(engine.events)
    assert projection.records
    for record in projection.records:
        assert feedback_json(record) == _ENCODE(record.to_json_dict())


def test_blocks_give_back_exactly_the_events_they_were_made_of(played: tuple) -> None:
    _, engine, _ = played
    encoder = blocks.BlockEncoder()
    closure = ev.RoadClosed(t=2.0, closure_id="R1", edges=(4, 5), description="x")
    ended = ev.ShiftEnded(t=3.0)
    for batch in (engine.events[:1], engine.events[1:700], engine.events[700:], [closure, ended]):
        block = encoder.encode(batch)
        assert (block.n, block.t_first, block.t_last) == (len(batch), batch[0].t, batch[-1].t)
        back = blocks.decode(block.body, block.n)
        assert back == batch
        assert [event_json(e) for e in back] == [event_json(e) for e in batch]
    assert ev.ShiftEnded in block.classes
    # a number of numpy's is stored as the plain number; anything else cannot be stored
    numpy = pytest.importorskip("numpy")
    assigned = next(e for e in engine.events if isinstance(e, ev.VehicleAssigned))
    odd = ev.VehicleAssigned(**{**assigned.__dict__, "eta_s": numpy.float64(assigned.eta_s)})
    (back,) = blocks.decode(encoder.encode([odd]).body, 1)
    assert back == assigned and type(back.eta_s) is float
    with pytest.raises(TypeError, match="cannot store"):
        encoder.encode([ev.HospitalDiversion(t=1.0, hospital=object(), diverted=True)])  # type: ignore[arg-type]


def test_a_block_written_with_other_fields_or_a_hostile_pickle_is_handled(
    tmp_path: Path,
) -> None:
    arrived = ev.CallAnswered(t=5.0, call_id="C00001", seat="trainee")
    content = blocks.unpack(blocks.BlockEncoder().encode([arrived]).body, 1)
    # an event class that lost a field since: its stored values go through __init__
    content.table[0][1] = ["t", "call_id", "seat", "mood"]
    content.values[0] = (5.0, "C00001", "trainee", "calm")
    with pytest.raises(CodecError, match="mood"):
        blocks.decode(blocks.pack(content), 1)
    content.table[0][1] = ["seat", "t", "call_id"]  # the same fields, in another order
    content.values[0] = ("trainee", 5.0, "C00001")
    assert blocks.decode(blocks.pack(content), 1) == [arrived]
    content.values[0] = ("trainee", 5.0)
    with pytest.raises(CodecError, match="expected 3 values"):
        blocks.decode(blocks.pack(content), 1)
    # a pickle that would call a function is refused, and nothing runs
    marker = tmp_path / "ran"

    class Hostile:
        def __reduce__(self) -> tuple[object, ...]:
            return os.system, (f"touch {marker}",)

    hostile = pickle.dumps([content.table, [Hostile()]], 5)
    with pytest.raises(CodecError, match="may not refer"):
        blocks.decode(blocks.pack(content)[:2] + hostile, 1)
    assert not marker.exists()
    with pytest.raises(CodecError):
        blocks.decode(b"\x00" * 2 + b"not a pickle", 1)


def test_a_session_cut_short_verifies_up_to_its_last_command(tmp_path: Path) -> None:
    loaded, world = _default()
    path = tmp_path / "cut.ambsession"
    engine, recorder = record_played_shift(
        path, loaded, world, player="expert", hours=1.0, stop_at_s=1500.0, close=False
    )
    recorder.flush()
    # what a kill -9 leaves: the database file and its write-ahead log, never checkpointed
    crashed = tmp_path / "crashed.ambsession"
    for suffix in ("", "-wal"):
        shutil.copyfile(f"{path}{suffix}", f"{crashed}{suffix}")
    recorder.close()
    outcome = verify(crashed)
    assert outcome.ok, outcome.message
    assert not outcome.complete and not outcome.closed
    assert "up to the last command" in outcome.message and "cut short" in outcome.message
    assert outcome.commands == len(engine.command_log) > 0
    # the closed original is "closed early", and verifies the same way
    closed = verify(path)
    assert closed.ok and not closed.complete and closed.closed
    assert "closed early" in closed.message


# --- tampering ----------------------------------------------------------------------------------


def _execute(path: Path, sql: str, *args: object) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(sql, args)


def _block_with(conn: sqlite3.Connection, seq: int) -> tuple[int, blocks.Content]:
    """The block holding event ``seq``: its first event's seq and its content."""
    first, n, compression, data = conn.execute(
        "SELECT seq, n, compression, data FROM event_blocks WHERE seq <= ? "
        "ORDER BY seq DESC LIMIT 1",
        (seq,),
    ).fetchone()
    return first, blocks.unpack(blocks.inflate(compression, data), n)


def _store_block(conn: sqlite3.Connection, first: int, content: blocks.Content) -> None:
    """Write a block's content back in place, its hash left as it was."""
    conn.execute(
        "UPDATE event_blocks SET n = ?, compression = 'none', data = ? WHERE seq = ?",
        (content.n, blocks.pack(content), first),
    )


def _set_field(content: blocks.Content, i: int, name: str, value: object) -> None:
    names = content.table[content.kinds[i]][1]
    values = list(content.values[i])
    values[names.index(name)] = value
    content.values[i] = tuple(values)


def _seq_of(path: Path, kind: str, after: int = 0) -> int:
    with SessionFile.open(path) as session:
        return next(i for i, e in enumerate(session.events()) if e.KIND == kind and i > after)


def test_a_changed_event_is_reported_as_tampered(played: tuple, tmp_path: Path) -> None:
    path = copy_of(played[0], tmp_path)
    seq = _seq_of(path, "category_set", after=100)
    with sqlite3.connect(path) as conn:
        first, content = _block_with(conn, seq)
        event = played[1].events[seq]
        _set_field(content, seq - first, "category", "C1" if event.category != "C1" else "C4")
        _store_block(conn, first, content)
    outcome = verify(path)
    assert outcome.status == "tampered" and not outcome.ok
    assert outcome.tampered is not None
    span = f"{first}-{first + content.n - 1}"
    assert (outcome.tampered.table, outcome.tampered.unit, outcome.tampered.row) == (
        "events",
        "block",
        span,
    )
    assert outcome.message == (
        f"tampered: events block {span}: its content does not match its hash; "
        f"event {seq} is not what the re-simulation gives"
    )
    assert replay_verify(path) == 1


def test_a_changed_event_time_and_command_are_reported(played: tuple, tmp_path: Path) -> None:
    path = copy_of(played[0], tmp_path)
    with sqlite3.connect(path) as conn:
        first, content = _block_with(conn, 300)
        _set_field(content, 300 - first, "t", content.values[300 - first][0] + 1.0)
        _store_block(conn, first, content)
    outcome = verify(path)
    assert outcome.tampered is not None
    assert outcome.tampered.table == "events"
    assert outcome.message.endswith(
        "its content does not match its hash; event 300 is not what the re-simulation gives"
    )

    path = copy_of(played[0], tmp_path, "commands.ambsession")
    _execute(path, "UPDATE commands SET json = replace(json, 'trainee', 'D1') WHERE seq = 3")
    outcome = verify(path)
    assert outcome.tampered is not None
    assert (outcome.tampered.table, outcome.tampered.row) == ("commands", "3")


def test_a_deleted_event_or_block_and_a_changed_header_are_reported(
    played: tuple, tmp_path: Path
) -> None:
    path = copy_of(played[0], tmp_path)
    with sqlite3.connect(path) as conn:
        first, content = _block_with(conn, 50)
        i = 50 - first
        del content.kinds[i], content.values[i]
        _store_block(conn, first, content)
    outcome = verify(path)
    assert outcome.tampered is not None
    assert outcome.tampered.row == f"{first}-{first + content.n - 1}"
    assert outcome.tampered.reason.endswith("event 50 is not what the re-simulation gives")

    path = copy_of(played[0], tmp_path, "block.ambsession")
    with sqlite3.connect(path) as conn:
        second = conn.execute("SELECT seq FROM event_blocks ORDER BY seq LIMIT 1 OFFSET 1")
        (gone,) = second.fetchone()
        conn.execute("DELETE FROM event_blocks WHERE seq = ?", (gone,))
    outcome = verify(path)
    assert outcome.tampered is not None
    assert (outcome.tampered.table, outcome.tampered.row) == ("events", str(gone))
    assert "missing" in outcome.tampered.reason

    path = copy_of(played[0], tmp_path, "seed.ambsession")
    _execute(path, "UPDATE meta SET value = '7' WHERE key = 'seed'")
    outcome = verify(path)
    assert outcome.tampered is not None and outcome.tampered.table == "meta"

    path = copy_of(played[0], tmp_path, "tail.ambsession")
    _execute(path, "DELETE FROM event_blocks WHERE seq > 1000")
    outcome = verify(path)
    assert outcome.tampered is not None and "closed the file with" in outcome.tampered.reason


def _store_feedback_of_the_events(conn: sqlite3.Connection, events: list[ev.Event]) -> None:
    """What a careful forger does: the stored feedback would betray an edited event."""
    conn.execute("DELETE FROM feedback")
    records: list[tuple[str, int, str]] = []
    projection = FeedbackProjection(
        on_record=lambda r: records.append((r.call_id, len(records), _ENCODE(r.to_json_dict())))
    )
    projection.feed_all(events)
    conn.executemany("INSERT INTO feedback VALUES (?, ?, ?)", records)


def test_a_rehashed_forgery_is_caught_by_the_re_simulation(played: tuple, tmp_path: Path) -> None:
    """Someone who edits an event and re-computes every hash after it keeps the chains valid;
    replaying the shift still shows the event is not what the simulation gives."""
    path = copy_of(played[0], tmp_path)
    seq = _seq_of(path, "category_set")
    conn = sqlite3.connect(path)
    first, content = _block_with(conn, seq)
    _set_field(content, seq - first, "category", "X" + played[1].events[seq].category)
    _store_block(conn, first, content)
    (prev,) = conn.execute("SELECT prev_hash FROM event_blocks WHERE seq = ?", (first,)).fetchone()
    rows = conn.execute(
        "SELECT seq, n, t_first, t_last, compression, data FROM event_blocks WHERE seq >= ? "
        "ORDER BY seq",
        (first,),
    ).fetchall()
    events: list[ev.Event] = []
    for s, n, t0, t1, compression, data in rows:
        body = blocks.inflate(compression, data)
        digest = chain.block_hash(prev, s, n, t0, t1, body)
        conn.execute(
            "UPDATE event_blocks SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, s)
        )
        prev = digest
    for _s, n, compression, data in conn.execute(
        "SELECT seq, n, compression, data FROM event_blocks ORDER BY seq"
    ):
        events += blocks.decode(blocks.inflate(compression, data), n)
    _store_feedback_of_the_events(conn, events)
    conn.commit()
    conn.close()
    outcome = verify(path)
    assert outcome.status == "diverged", outcome.message
    assert outcome.divergence is not None and outcome.divergence.seq == seq
    assert outcome.message.startswith(f"diverged at event {seq}: expected category_set at t=")
    assert "fields differ" in outcome.message


# --- schema 1: an event per row -----------------------------------------------------------------


def _write_schema_1(source: Path, target: Path) -> None:
    """A schema-1 file (an event a row, each chained) with the content of a schema-2 session:
    the layout of the sessions recorded before event blocks."""
    shutil.copyfile(source, target)
    with SessionFile.open(source) as session:
        events = session.events()
        genesis = session.genesis()
    conn = sqlite3.connect(target)
    events_ddl = DDL_V1[DDL_V1.index("CREATE TABLE events") :]
    conn.executescript(f"DROP TABLE event_blocks; {events_ddl}")
    prev = chain.start(genesis, "events")
    rows = []
    for seq, event in enumerate(events):
        body = event_json(event)
        digest = chain.event_hash(prev, seq, event.t, event.KIND, body)
        rows.append((seq, event.t, event.KIND, body, prev, digest))
        prev = digest
    conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows)
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.execute("PRAGMA user_version=1")
    conn.commit()
    conn.close()


@pytest.fixture(scope="module")
def played_v1(played: tuple, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("v1") / "played-v1.ambsession"
    _write_schema_1(played[0], path)
    return path


def test_a_schema_1_session_is_read_and_verified_as_it_is(
    played: tuple, played_v1: Path, tmp_path: Path
) -> None:
    path = copy_of(played_v1, tmp_path)
    with SessionFile.open(path) as session:
        assert session.info.schema_version == 1 and not session.blocks
        assert session.migrated_from is None
        assert session.events() == played[1].events
        assert session.event_count() == len(played[1].events)
    outcome = verify(path)
    assert outcome.ok, outcome.message
    assert outcome.complete and outcome.events == len(played[1].events)
    with SessionFile.open(path, writable=True) as session:  # annotated without an upgrade
        session.add_annotation(60.0, "annotated in schema 1")
    assert verify(path).ok


def test_a_changed_schema_1_event_row_is_reported(played_v1: Path, tmp_path: Path) -> None:
    path = copy_of(played_v1, tmp_path)
    with sqlite3.connect(path) as conn:
        seq, body = conn.execute(
            "SELECT seq, json FROM events WHERE kind = 'category_set' AND seq > 100 LIMIT 1"
        ).fetchone()
        data = json.loads(body)
        data["category"] = "C1" if data["category"] != "C1" else "C4"
        conn.execute("UPDATE events SET json = ? WHERE seq = ?", (_ENCODE(data), seq))
    outcome = verify(path)
    assert outcome.status == "tampered" and outcome.tampered is not None
    assert (outcome.tampered.table, outcome.tampered.row) == ("events", str(seq))
    assert outcome.message == f"tampered: events row {seq}: its content does not match its hash"

    path = copy_of(played_v1, tmp_path, "time.ambsession")
    _execute(path, "UPDATE events SET t = t + 1 WHERE seq = 300")
    outcome = verify(path)
    assert outcome.message == "tampered: events row 300: its content does not match its hash"

    path = copy_of(played_v1, tmp_path, "deleted.ambsession")
    _execute(path, "DELETE FROM events WHERE seq = 50")
    outcome = verify(path)
    assert outcome.tampered is not None
    assert (outcome.tampered.table, outcome.tampered.row) == ("events", "50")

    path = copy_of(played_v1, tmp_path, "tail.ambsession")
    _execute(path, "DELETE FROM events WHERE seq > 1000")
    outcome = verify(path)
    assert outcome.tampered is not None and "closed the file with" in outcome.tampered.reason


def test_a_rehashed_schema_1_forgery_is_caught(played_v1: Path, tmp_path: Path) -> None:
    path = copy_of(played_v1, tmp_path)
    conn = sqlite3.connect(path)
    seq, body = conn.execute(
        "SELECT seq, json FROM events WHERE kind = 'category_set' LIMIT 1"
    ).fetchone()
    forged = body.replace('"category":"C', '"category":"X')
    prev = conn.execute("SELECT prev_hash FROM events WHERE seq = ?", (seq,)).fetchone()[0]
    rows = conn.execute(
        "SELECT seq, t, kind, json FROM events WHERE seq >= ? ORDER BY seq", (seq,)
    ).fetchall()
    for s, tt, k, b in rows:
        b = forged if s == seq else b
        digest = chain.event_hash(prev, s, tt, k, b)
        conn.execute(
            "UPDATE events SET json = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            (b, prev, digest, s),
        )
        prev = digest
    events = [
        event_from_row(k, tt, b)
        for tt, k, b in conn.execute("SELECT t, kind, json FROM events ORDER BY seq")
    ]
    _store_feedback_of_the_events(conn, events)
    conn.commit()
    conn.close()
    outcome = verify(path)
    assert outcome.status == "diverged", outcome.message
    assert outcome.divergence is not None and outcome.divergence.seq == seq
    assert "fields differ" in outcome.message


# --- annotations, versions, bad files ----------------------------------------------------------


def test_an_annotation_is_saved_edited_and_reloaded(played: tuple, tmp_path: Path) -> None:
    path = copy_of(played[0], tmp_path)
    with SessionFile.open(path, writable=True) as session:
        note = session.add_annotation(2400.0, "Good link of the duplicate caller", "C00020")
        edit = session.add_annotation(
            2400.0, "Good link of the repeat caller", "C00020", supersedes=note.id
        )
    assert annotate(path, 600.0, "Slow to answer", call_id="C00003") == 0
    with SessionFile.open(path) as session:
        texts = [(a.t, a.call_id, a.text) for a in session.annotations()]
        assert (2400.0, "C00020", "Good link of the repeat caller") in texts
        assert (600.0, "C00003", "Slow to answer") in texts
        assert (1800.0, "C00012", "Why was C00012 sent to dispatch?") in texts
        assert all(a.id != note.id for a in session.annotations())
        assert len(session.annotations(history=True)) == 4
        assert edit.supersedes == note.id
        with pytest.raises(SessionError, match="read-only"):
            session.add_annotation(1.0, "x")
    assert verify(path).ok
    _execute(path, "UPDATE annotations SET text = 'nothing to see' WHERE id = 2")
    outcome = verify(path)
    assert outcome.tampered is not None
    assert (outcome.tampered.table, outcome.tampered.row) == ("annotations", "2")


def test_a_newer_schema_is_refused_with_a_clear_message(played: tuple, tmp_path: Path) -> None:
    path = copy_of(played[0], tmp_path)
    _execute(path, "UPDATE meta SET value = '7' WHERE key = 'schema_version'")
    _execute(path, "UPDATE meta SET value = '\"9.2\"' WHERE key = 'program_version'")
    with pytest.raises(SchemaTooNew) as info:
        SessionFile.open(path)
    assert str(info.value) == (
        f"{path}: made by ambsim 9.2, schema 7; this program (ambsim {__version__}) reads up "
        f"to schema {SCHEMA_VERSION}. Update ambsim to open it."
    )


def test_files_that_are_not_sessions_get_clear_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.ambsession"
    empty = tmp_path / "empty.ambsession"
    empty.write_bytes(b"")
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    cases = {
        missing: "no such file",
        empty: "empty file",
        text: "not an SQLite database",
        other: "not an ambsim session (it has no meta table)",
        tmp_path: "is a folder",
    }
    for path, words in cases.items():
        with pytest.raises(NotASession, match=re.escape(words)):
            SessionFile.open(path)
        assert replay_verify(path) == 1
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err


def _write_v0(source: Path, target: Path) -> None:
    """A schema-0 file (the prototype layout) with the content of a schema-1 session."""
    with SessionFile.open(source) as session:
        info = session.info
        events = session.events()
        commands = session.commands()
        text = session.scenario_text()
    conn = sqlite3.connect(target)
    conn.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
        "CREATE TABLE commands (seq INTEGER PRIMARY KEY, t REAL, json TEXT);"
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, t REAL, kind TEXT, json TEXT);"
    )
    meta = {
        "format": "ambsim-session",
        "schema_version": "0",
        "program_version": "0.0.9",
        "created": "2026-01-01T00:00:00+00:00",
        "scenario_path": str(DEFAULT_SCENARIO),
        "scenario_name": info.scenario_name,
        "scenario_sha256": info.scenario_sha256,
        "scenario_text": text,
        "regime": info.regime,
        "seed": str(info.seed),
        "role": info.role or "",
        "policy": info.policy or "",
        "trainee_policy": info.autopilot or "",
        "duration_s": "" if info.duration_s is None else str(info.duration_s),
    }
    conn.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))
    conn.executemany(
        "INSERT INTO commands VALUES (?, ?, ?)",
        [(i, c.t, json.dumps(c.to_dict())) for i, c in enumerate(commands)],
    )
    conn.executemany(
        "INSERT INTO events VALUES (?, ?, ?, ?)",
        [(i, e.t, e.KIND, json.dumps(e.to_dict())) for i, e in enumerate(events)],
    )
    conn.commit()
    conn.close()


def test_a_schema_0_session_is_migrated_and_still_verifies(played: tuple, tmp_path: Path) -> None:
    path = tmp_path / "old.ambsession"
    _write_v0(played[0], path)
    before = path.read_bytes()
    with SessionFile.open(path) as session:
        assert session.migrated_from == 0 and session.migrated_now
        assert session.info.schema_version == 1
        assert session.events() == played[1].events  # AdviceGiven's kind survives too
        assert session.info.scenario_stem == "default"
    assert path.read_bytes() == before  # reading never changes the file
    outcome = verify(path)
    assert outcome.ok, outcome.message
    assert outcome.migrated_from == 0
    assert any("migrated from schema 0" in n for n in outcome.notes)
    assert any("not stored in this session" in n for n in outcome.notes)
    with pytest.raises(SessionError, match="upgrade it first"):
        SessionFile.open(path, writable=True)
    assert upgrade_session(path) == 0
    assert (tmp_path / "old.ambsession.schema0.bak").read_bytes() == before
    with SessionFile.open(path, writable=True) as session:
        assert not session.migrated_now and session.migrated_from == 0
        session.add_annotation(60.0, "annotated after the upgrade")
    assert verify(path).ok


def test_recording_refuses_a_taken_path_and_a_missing_folder(tmp_path: Path) -> None:
    loaded, _ = _default()
    taken = tmp_path / "taken.ambsession"
    taken.write_text("x")
    with pytest.raises(SessionError, match="already exists"):
        SessionRecorder.create(taken, loaded)
    with pytest.raises(SessionError, match="not found"):
        SessionRecorder.create(tmp_path / "no" / "such.ambsession", loaded)
    with pytest.raises(RecordError, match="already exists"):
        run_recorded(DEFAULT_SCENARIO, taken, hours=0.1)


def test_a_write_error_stops_the_recording_without_stopping_the_engine(tmp_path: Path) -> None:
    loaded, world = _default()
    engine = Engine(world, policy="expert", trainee_policy="expert", duration_s=1800.0)
    recorder = SessionRecorder.start(tmp_path / "x.ambsession", loaded, engine, flush_events=10)
    errors: list[BaseException] = []
    recorder.on_error = errors.append
    assert recorder._conn is not None
    recorder._conn.close()  # the disk went away
    engine.run()
    assert engine.finished and errors and recorder.error is errors[0]
    assert recorder.engine is None and recorder._on_event not in engine.listeners
    with pytest.raises(SessionError, match="stopped"):
        recorder.close()


# --- projections for the replay window ----------------------------------------------------------


def test_the_projection_rebuilt_from_the_recording_equals_the_live_one(played: tuple) -> None:
    path, engine, live = played
    with SessionFile.open(path) as session:
        rebuilt = ReplayState()
        rebuilt.apply_all(session.events())
        assert rebuilt == live
        index = SnapshotIndex.from_session(session, interval_s=900.0)
        assert [s.t for s in index.snapshots] == [0.0, 900.0, 1800.0, 2700.0, 3600.0, 4500.0]
    for t in (0.0, 901.5, 1800.0, 2222.2, 5399.0, 5400.0):
        fresh = ReplayState(keep_transcripts=False)
        fresh.apply_all(e for e in engine.events if e.t <= t)
        fresh.t = max(fresh.t, t)
        metrics = ShiftMetrics(ARP, _default()[0].scenario.costs)
        metrics.feed_all(e for e in engine.events if e.t <= t)
        frame = index.state_at(t)
        assert frame.state == fresh
        assert frame.metrics == metrics.snapshot(t)
    # transcripts come on demand, as the live state kept them
    for call_id in ("C00001", "C00012", "C00030"):
        lines = live.calls[call_id].transcript
        assert index.transcript(call_id) == lines
        assert index.transcript(call_id, 2000.0) == [x for x in lines if x.t <= 2000.0]
        assert lines[0].who == "caller" and any(x.who == "protocol" for x in lines)
    cursor = index.cursor(100.0)
    cursor.advance(3000.0)
    assert cursor.state == index.state_at(3000.0).state
    cursor.advance(1000.0)  # back: a seek
    assert cursor.state == index.state_at(1000.0).state


def test_the_projection_matches_the_engine_state_step_by_step() -> None:
    _, world = _default()
    engine = Engine(world, policy="expert", trainee_policy="target_chaser", duration_s=7200.0)
    state = ReplayState()
    engine.subscribe(state.apply)
    routes = RouteCache(world)
    for t in range(300, 7201, 300):
        engine.run_until(t)
        assert state.ringing == engine.ringing
        for call_id, call in engine.calls.items():
            view = state.calls[call_id]
            assert (view.status, view.seat, view.category, view.disposition, view.incident_id) == (
                call.status,
                call.seat,
                call.category,
                call.disposition,
                call.incident_id,
            )
        for inc_id, inc in engine.incidents.items():
            view_i = state.incidents[inc_id]
            assert (view_i.status, view_i.queued, view_i.category, view_i.outcome) == (
                inc.status,
                inc.queued,
                inc.category,
                inc.outcome,
            )
        assert [i.id for i in state.dispatch_queue()] == [i.id for i in engine.dispatch_queue()]
        assert sorted(state.hub_stack) == sorted(i.id for i in engine.hub.stack)
        for vid, vehicle in engine.vehicles.items():
            view_v = state.vehicles[vid]
            assert (view_v.status, view_v.incident_id) == (vehicle.status, vehicle.incident_id)
            x, y = routes.position(view_v, engine.now)
            ex, ey = engine.vehicle_position(vehicle)
            assert abs(x - ex) < 1.0 and abs(y - ey) < 1.0
        for name, hospital in engine.hospitals.items():
            seen = state.hospitals.get(name)
            assert (seen.crews_waiting if seen else 0) == hospital.waiting


def test_markers_classify_dispatches_and_responses_as_the_metrics_do(played: tuple) -> None:
    _, engine, live = played
    loaded, _ = _default()
    metrics = ShiftMetrics(ARP, loaded.scenario.costs)
    metrics.feed_all(engine.events)
    report = metrics.snapshot()
    markers = build_markers(engine.events, ARP)
    kinds = [m.kind for m in markers]
    u = report.unnecessary_dispatches
    assert kinds.count("duplicate_dispatch") == u.duplicate
    assert kinds.count("stood_down") == u.stood_down
    assert kinds.count("avoidable_dispatch") == u.avoidable
    assert kinds.count("unsafe_advice") == report.unsafe_advice
    assert kinds.count("harm") == report.harm_events
    assert kinds.count("call") == report.calls
    assert kinds.count("dispatch") == report.dispatches
    assert kinds.count("inject") == 1
    assert [m.t for m in markers] == sorted(m.t for m in markers)
    from ambsim_gui.record.response_standards import response_times

    responses = response_times(live.incidents.values(), ARP)
    for category, block in report.categories.items():
        values = [r[2] for r in responses if r[3] == category]
        assert len(values) == block.count
        if values:
            assert sum(values) / len(values) == pytest.approx(block.mean_response_s)


# --- the expert's shift -------------------------------------------------------------------------


def test_the_expert_shift_is_the_headless_expert_run_and_pairs_patients(tmp_path: Path) -> None:
    loaded, world = _default()
    path = tmp_path / "chaser.ambsession"
    engine, _ = record_played_shift(
        path, loaded, world, player="target_chaser", role="call_handler", hours=1.5
    )
    with SessionFile.open(path) as session:
        comparison = expert_shift(session)
    # a desk's session ends with its shift: the expert's is run the same way, without a run-out
    expert = run_scenario(DEFAULT_SCENARIO, hours=1.5, loaded=loaded, world=world, run_out=False)
    assert comparison.expert == expert.windows.end_of_shift
    assert comparison.expert_sha256 == expert.sha256
    mine = ShiftMetrics(ARP, loaded.scenario.costs)
    mine.feed_all(engine.events)
    # both shifts at their end, the incidents still waiting counted (docs/domain.md, Against
    # the expert): the figures the headline shows
    assert comparison.trainee == mine.end_of_shift()
    labels = [row.label for row in comparison.headline]
    assert "C1 mean response" in labels and "Unnecessary dispatches" in labels
    assert comparison.calls, "the trainee's seat handled patients"
    for c in comparison.calls:
        assert c.trainee.handled_by_trainee
        if c.expert is not None:
            assert c.expert.patient_id == c.patient_id
            assert (c.expert.card, c.expert.variant) == (c.trainee.card, c.trainee.variant)
    # the target chaser asks only the first questions and dispatches everything: the expert
    # decides differently for some of the same patients
    assert comparison.differing
    assert any(
        "decision" in d or "category" in d for c in comparison.differing for d in c.differences
    )


def test_feedback_is_stored_by_the_recorder_given_by_the_desk_or_left_to_readers(
    tmp_path: Path,
) -> None:
    loaded, world = _default()
    own = tmp_path / "own.ambsession"
    record_played_shift(own, loaded, world, hours=0.75)
    none = tmp_path / "none.ambsession"
    record_played_shift(none, loaded, world, hours=0.75, feedback="none")
    given = tmp_path / "given.ambsession"
    engine = Engine(world, policy="expert", trainee_policy=None, duration_s=2700.0)
    recorder = SessionRecorder.start(given, loaded, engine, feedback="given")
    desk = FeedbackProjection(
        on_record=lambda r: recorder.record_feedback(r) if r.seat == "trainee" else None
    )
    engine.subscribe(desk.feed)
    play(engine, ExternalPlayer(engine, "expert"))
    recorder.close()
    with SessionFile.open(own) as a, SessionFile.open(none) as b, SessionFile.open(given) as c:
        stored = a.feedback()
        assert stored and stored == a.feedback(recompute=True)
        assert b.feedback() == stored  # recomputed: the same records
        assert b.conn.execute("SELECT count(*) FROM feedback").fetchone()[0] == 0
        mine = c.feedback()
        assert mine and all(r["seat"] == "trainee" for r in mine)
        assert mine == [r for r in stored if r["seat"] == "trainee"]
    for path in (own, none, given):
        assert verify(path).ok
    _execute(given, "UPDATE feedback SET json = replace(json, 'good', 'bad')")
    outcome = verify(given)
    assert outcome.tampered is not None and outcome.tampered.table == "feedback"
    with pytest.raises(SessionError, match="feedback must be"):
        SessionRecorder.create(tmp_path / "x.ambsession", loaded, feedback="maybe")
