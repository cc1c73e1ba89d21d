"""Damaged, truncated and incomplete session files: the command line names what is wrong, says
what is still intact, never shows a traceback, and ``replay --salvage`` saves what is intact
into a new session that verifies as far as it goes."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from functools import lru_cache
from pathlib import Path

import pytest

from ambsim_gui.cli import main
from ambsim_gui.headless import build_from
from ambsim_gui.paths import DEFAULT_SCENARIO
from ambsim_gui.record.player import record_played_shift
from ambsim_gui.record.reader import SessionFile, scan_intact
from ambsim_gui.record.schema import NotASession, SessionDamaged, SessionError, SessionIncomplete
from ambsim_gui.record.session import SessionRecorder
from ambsim_gui.record.verify import verify
from ambsim_gui.scenario.loader import LoadedScenario, load_scenario
from ambsim_gui.session_commands import annotate
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.world import World

ROOT = Path(__file__).resolve().parent.parent
ARCHIVE = ROOT / "tests" / "sessions"
DAMAGED = "damaged or truncated session file"
NOT_OURS = "not an ambsim session"


@lru_cache(maxsize=1)
def _default() -> tuple[LoadedScenario, World]:
    loaded = load_scenario(DEFAULT_SCENARIO)
    return loaded, build_from(loaded)


class Recorded:
    """A closed hour of the default shift, played through ``submit``, events in small blocks
    (so that a cut falls between many of them), with two annotations."""

    def __init__(self, path: Path) -> None:
        loaded, world = _default()
        engine, recorder = record_played_shift(
            path, loaded, world, player="expert", hours=1.0, flush_events=40, close=False
        )
        recorder.add_annotation(600.0, "First call: good questions")
        recorder.add_annotation(1800.0, "Why this vehicle?")
        recorder.close()
        self.path = path
        self.commands: list[cmd.TimedCommand] = list(engine.command_log)
        self.events: list[ev.Event] = list(engine.events)
        self.size = path.stat().st_size


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    return Recorded(tmp_path_factory.mktemp("damaged") / "shift.ambsession")


def cut(source: Path, target: Path, size: int) -> Path:
    target.write_bytes(source.read_bytes()[:size])
    return target


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, captured.out, captured.err


# --- a recorder killed, and its file copied without its log --------------------------------------

CHILD = """
import sys, time
from ambsim_gui.headless import build_from
from ambsim_gui.paths import DEFAULT_SCENARIO
from ambsim_gui.record.player import ExternalPlayer, play
from ambsim_gui.record.session import SessionRecorder
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.sim.engine import Engine

loaded = load_scenario(DEFAULT_SCENARIO)
engine = Engine(build_from(loaded), policy="expert", trainee_policy=None, duration_s=3600.0)
recorder = SessionRecorder.start(sys.argv[1], loaded, engine, flush_interval_s=0.05)
# a long desk session checkpoints its log into the file now and then: do it soon here
recorder._conn.execute(f"PRAGMA wal_autocheckpoint={int(sys.argv[2])}")
player = ExternalPlayer(engine, "expert")
play(engine, player, pace_s=0.001, on_command=lambda n: print(f"cmd {n}", flush=True))
recorder.flush()
print("finished", flush=True)
time.sleep(600)  # the desk left open: killed below, never closed
"""


def kill_a_recorder(path: Path, *, autocheckpoint: int, after_commands: int) -> int:
    """Record in a child process and SIGKILL it once it has given ``after_commands``
    commands; returns how many it had given."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(autocheckpoint)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    given = [0]
    enough = threading.Event()

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("cmd "):
                given[0] = int(line.split()[1])
                if given[0] >= after_commands:
                    enough.set()
            elif line.startswith("finished"):
                enough.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert enough.wait(180), child.stderr.read() if child.stderr else "no output"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    reader.join(10)
    return given[0]


@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A desk session killed while recording: the file and its -wal log beside it."""
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("needs SIGKILL")
    path = tmp_path_factory.mktemp("killed") / "desk.ambsession"
    assert kill_a_recorder(path, autocheckpoint=1000, after_commands=40) >= 40
    assert Path(f"{path}-wal").stat().st_size > path.stat().st_size  # still all in the log
    return path


@pytest.fixture(scope="module")
def killed_checkpointed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same, after SQLite had checkpointed part of the log into the file."""
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("needs SIGKILL")
    path = tmp_path_factory.mktemp("killed") / "desk.ambsession"
    assert kill_a_recorder(path, autocheckpoint=16, after_commands=60) >= 60
    return path


def test_a_killed_session_with_its_log_verifies_and_says_it_was_not_closed(
    killed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "copy.ambsession"
    for suffix in ("", "-wal"):
        shutil.copyfile(f"{killed}{suffix}", f"{copy}{suffix}")
    for _ in range(2):  # reading leaves the log where it is: it verifies again
        code, out, err = run_cli(capsys, "replay", copy, "--verify")
        assert code == 0, err
        assert "identical" in out and "not closed properly" in out and "crash recovered" in out
        assert Path(f"{copy}-wal").stat().st_size > 0
    with SessionFile.open(copy) as session:
        assert session.wal_present and not session.closed and not session.log_missing
        commands = session.command_count()
    assert commands >= 40
    code, out, err = run_cli(capsys, "report", copy, "-o", tmp_path / "d.html", "--no-expert")
    assert code == 0, err
    assert "not closed properly" in out and (tmp_path / "d.html").exists()
    # it cannot be annotated (a desk may still be writing it), the message says what to do
    assert annotate(copy, 60.0, "note") == 1
    assert "not closed" in capsys.readouterr().err


def test_a_killed_session_copied_without_its_log_is_refused(
    killed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    alone = tmp_path / "alone.ambsession"
    shutil.copyfile(killed, alone)  # what an instructor copying only the .ambsession gets
    for argv in (
        ("replay", alone, "--verify"),
        ("report", alone, "-o", tmp_path / "d.html"),
        ("replay", alone),  # the window would show an empty shift as if it were the whole one
    ):
        code, out, err = run_cli(capsys, *argv)
        assert code == 1, out
        assert "never closed" in err and "alone.ambsession-wal" in err
        assert "must be copied with it" in err
        assert "0 commands, 0 events" in err  # all it held was still in the log
        assert "identical" not in out + err
    assert not (tmp_path / "d.html").exists()
    with pytest.raises(SessionIncomplete, match="never closed"):
        verify(alone)
    # nothing to salvage from a file holding only the header
    code, _, err = run_cli(capsys, "replay", alone, "--salvage", tmp_path / "s.ambsession")
    assert code == 1 and "nothing to salvage" in err
    assert not (tmp_path / "s.ambsession").exists()
    assert not Path(f"{alone}-wal").exists() and not Path(f"{alone}-shm").exists()


def test_a_checkpointed_session_without_its_log_is_refused_then_salvaged(
    killed_checkpointed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    alone = tmp_path / "alone.ambsession"
    shutil.copyfile(killed_checkpointed, alone)
    with SessionFile.open(alone) as session:
        assert session.log_missing
        commands, events = session.command_count(), session.event_count()
    assert commands > 0 and events > 0  # what had been checkpointed into the file
    code, out, err = run_cli(capsys, "replay", alone, "--verify")
    assert code == 1 and "never closed" in err
    assert f"{commands} commands and {events:,} events, up to " in err
    assert "--salvage" in err
    code, out, err = run_cli(capsys, "report", alone, "-o", tmp_path / "d.html")
    assert code == 1 and "never closed" in err

    saved = tmp_path / "saved.ambsession"
    code, out, err = run_cli(capsys, "replay", alone, "--salvage", saved, "--verify")
    assert code == 0, err
    assert "salvaged from" in out and "identical as far as the salvaged recording goes" in out
    with SessionFile.open(saved) as session:
        assert session.command_count() == commands and session.event_count() == events
        salvaged = session.info.closed["salvaged"]  # type: ignore[index]
        assert salvaged["from"] == str(alone) and "log" in salvaged["problem"]
        assert salvaged["commands"] == commands
    code, out, err = run_cli(capsys, "report", saved, "-o", tmp_path / "d.html", "--no-expert")
    assert code == 0, err
    assert (tmp_path / "d.html").stat().st_size > 0


def test_a_session_without_events_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "empty.ambsession"
    SessionRecorder.create(path, _default()[0]).close()
    for argv in (
        ("replay", path, "--verify"),
        ("report", path, "-o", tmp_path / "d.html"),
        ("replay", path),
    ):
        code, out, err = run_cli(capsys, *argv)
        assert code == 1
        assert "holds no events" in err and "identical" not in out + err
    assert not (tmp_path / "d.html").exists()


# --- truncated and damaged files ----------------------------------------------------------------


@pytest.mark.parametrize("where", ["header", "after the header", "one page", "half", "90%", "-1"])
def test_a_truncated_session_is_named_damaged_with_what_is_intact(
    where: str, recorded: Recorded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    size = {
        "header": 50,
        "after the header": 100,
        "one page": 4096 + 100,
        "half": recorded.size // 2,
        "90%": recorded.size * 9 // 10,
        "-1": recorded.size - 1,
    }[where]
    path = cut(recorded.path, tmp_path / "cut.ambsession", size)
    for argv in (("replay", path, "--verify"), ("report", path, "-o", tmp_path / "d.html")):
        code, out, err = run_cli(capsys, *argv)
        assert code == 1, out
        assert DAMAGED in err and NOT_OURS not in err, err
    assert not (tmp_path / "d.html").exists()
    with pytest.raises(SessionDamaged):
        SessionFile.open(path)
    if size < 4096:
        assert "shorter than" in err and "nothing of it can be read" in err
    else:
        assert "truncated" in err
    if size >= recorded.size // 2:
        intact = scan_intact(path)
        assert intact.commands and intact.events
        n, total = len(intact.commands), len(recorded.commands)
        shown = f"all {n} commands" if n == total else f"{n} of {total} commands"
        assert f"still intact: {shown} (up to " in err
        assert f"{intact.event_count:,} of {len(recorded.events):,} events (up to " in err
        assert "--salvage" in err


def test_a_page_overwritten_with_garbage_is_damaged_and_salvaged(
    recorded: Recorded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(7)
    data = bytearray(recorded.path.read_bytes())
    pages = len(data) // 4096
    for page in (1, pages * 2 // 3):  # the first page (header, table list), one in the events
        damaged = bytearray(data)
        damaged[(page - 1) * 4096 : page * 4096] = rng.randbytes(4096)
        path = tmp_path / f"garbage{page}.ambsession"
        path.write_bytes(bytes(damaged))
        code, _, err = run_cli(capsys, "replay", path, "--verify")
        assert code == 1 and DAMAGED in err and NOT_OURS not in err, err
        saved = tmp_path / f"saved{page}.ambsession"
        code, out, err = run_cli(capsys, "replay", path, "--salvage", saved, "--verify")
        assert code == 0, err
        assert "identical as far as the salvaged recording goes" in out
        with SessionFile.open(saved) as session:
            assert session.commands() == recorded.commands[: session.command_count()]
            assert session.events() == recorded.events[: session.event_count()]
            assert session.command_count() > 0 and session.event_count() > 0
            if page == 1:  # its first page rebuilt: everything else was there
                assert session.event_count() == len(recorded.events)


@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_salvage_of_a_truncated_session_keeps_the_intact_rows_and_verifies(
    fraction: float, recorded: Recorded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cut(recorded.path, tmp_path / "cut.ambsession", int(recorded.size * fraction))
    saved = tmp_path / "saved.ambsession"
    code, out, err = run_cli(capsys, "replay", path, "--salvage", saved)
    assert code == 0, err
    assert out.startswith(f"{saved}: salvaged from {path}: ")
    assert "truncated" in out and f"replay {saved} --verify" in out
    intact = scan_intact(path)
    with SessionFile.open(saved) as session:
        commands, events = session.commands(), session.events()
        assert session.info.closed is not None
        salvaged = session.info.closed["salvaged"]
        assert session.info.closed["commands"] == len(commands) == salvaged["commands"]
        assert salvaged["from"] == str(path) and "truncated" in salvaged["problem"]
        notes = session.annotations()
        feedback = session.feedback()
    # every intact command, the intact events up to the last intact command, in order
    assert commands == recorded.commands[: len(intact.commands)] and commands
    assert events == recorded.events[: len(events)] and events
    if len(commands) < len(recorded.commands):
        assert events[-1].t < commands[-1].t
    assert [n.text for n in notes] == ["First call: good questions", "Why this vehicle?"][
        : len(notes)
    ]
    assert feedback  # recomputed from the kept events, as the recorder would have stored it
    outcome = verify(saved)
    assert outcome.ok, outcome.message
    assert not outcome.complete and outcome.events == len(events)
    assert outcome.message.startswith("identical as far as the salvaged recording goes")
    code, out, err = run_cli(capsys, "replay", saved, "--verify")
    assert code == 0 and "salvaged from" in out and "truncated" in out
    # a salvage never overwrites a file
    code, _, err = run_cli(capsys, "replay", path, "--salvage", saved)
    assert code == 1 and "already exists" in err


def test_salvage_of_a_closed_intact_session_keeps_everything(
    recorded: Recorded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "saved.ambsession"
    code, out, err = run_cli(capsys, "replay", recorded.path, "--salvage", saved)
    assert code == 0, err
    with SessionFile.open(saved) as session:
        assert session.commands() == recorded.commands
        assert session.events() == recorded.events
        assert len(session.annotations()) == 2
        assert session.info.closed is not None and session.info.closed["shift_ended"]
    outcome = verify(saved)
    assert outcome.ok and outcome.complete, outcome.message


def test_salvage_of_a_truncated_schema_1_session(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = ARCHIVE / "default_45m_handler_closed_early.schema1.ambsession"
    path = cut(source, tmp_path / "cut.ambsession", int(source.stat().st_size * 0.7))
    code, _, err = run_cli(capsys, "replay", path, "--verify")
    assert code == 1 and DAMAGED in err and "still intact: " in err
    saved = tmp_path / "saved.ambsession"
    code, out, err = run_cli(capsys, "replay", path, "--salvage", saved, "--verify")
    assert code == 0, err
    with SessionFile.open(source) as whole, SessionFile.open(saved) as part:
        assert part.info.schema_version == 1
        assert 0 < part.event_count() < whole.event_count()
        assert part.events() == whole.events()[: part.event_count()]


def test_files_that_are_not_sessions_are_still_not_ambsim_sessions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    garbage = tmp_path / "garbage.ambsession"
    garbage.write_bytes(random.Random(3).randbytes(50_000))
    other = tmp_path / "other.ambsession"
    with sqlite3.connect(other) as conn:
        conn.execute("PRAGMA application_id=1234")
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    for path in (garbage, other):
        with pytest.raises(NotASession):
            SessionFile.open(path)
        code, _, err = run_cli(capsys, "replay", path, "--verify")
        assert code == 1 and NOT_OURS in err and DAMAGED not in err, err
        code, _, err = run_cli(capsys, "replay", path, "--salvage", tmp_path / "s.ambsession")
        assert code == 1 and NOT_OURS in err, err
        code, _, err = run_cli(capsys, "report", path, "-o", tmp_path / "d.html")
        assert code == 1 and NOT_OURS in err, err


def test_reading_a_closed_session_leaves_no_files_beside_it(recorded: Recorded) -> None:
    folder = recorded.path.parent
    before = sorted(p.name for p in folder.iterdir())
    with SessionFile.open(recorded.path) as session:
        assert session.closed and not session.log_missing and not session.wal_present
        session.events()
    assert sorted(p.name for p in folder.iterdir()) == before


def test_the_command_line_in_a_process_refuses_and_salvages(
    recorded: Recorded, tmp_path: Path
) -> None:
    path = cut(recorded.path, tmp_path / "cut.ambsession", recorded.size * 6 // 10)
    env = dict(os.environ, PYTHONPATH=str(ROOT))

    def run(*argv: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "main.py"), *map(str, argv)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    for argv in (("replay", path, "--verify"), ("report", path, "-o", tmp_path / "d.html")):
        done = run(*argv)
        assert done.returncode == 1, done.stdout + done.stderr
        assert DAMAGED in done.stderr and "still intact" in done.stderr
        assert "Traceback" not in done.stderr
    saved = tmp_path / "saved.ambsession"
    done = run("replay", path, "--salvage", saved, "--verify")
    assert done.returncode == 0, done.stderr
    assert "identical as far as the salvaged recording goes" in done.stdout
    assert "Traceback" not in done.stderr


def test_damage_found_while_reading_is_a_session_error(recorded: Recorded, tmp_path: Path) -> None:
    # a page of events overwritten: the file opens, its events do not read
    data = bytearray(recorded.path.read_bytes())
    pages = len(data) // 4096
    page = pages - 2
    data[(page - 1) * 4096 : page * 4096] = b"\xa5" * 4096
    path = tmp_path / "late.ambsession"
    path.write_bytes(bytes(data))
    try:
        session = SessionFile.open(path)
    except SessionDamaged:
        return  # the page is one SQLite reads on opening
    with session, pytest.raises(SessionError, match=DAMAGED):
        session.events()
