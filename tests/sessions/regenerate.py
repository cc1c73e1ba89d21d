"""Write the archived regression sessions in this folder (run from the project root:
``python tests/sessions/regenerate.py``).

Each file's name ends in the session-file schema it was written with (``.schema2``). The
current schema's files are recorded; each older schema's file is the same recording written
in that schema's layout (``as_schema1``: events one a row, hash-chained one by one, as ambsim
0.1 wrote them before event blocks), so that reading every schema the program has written
stays tested against the model as it is now.

Only regenerate on purpose: these files are the recordings old versions of ambsim made, and
``tests/test_record_archive.py`` checks that every one still opens and verifies identical with
the program as it is now (FueSim MANV keeps its exported exercises for the same reason). If a
change to the engine makes them diverge, either the change broke determinism, or it changed
the simulation on purpose: then say so, keep the old files failing in a branch until agreed,
and regenerate.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from ambsim_gui.headless import build_from  # noqa: E402
from ambsim_gui.paths import DEFAULT_SCENARIO  # noqa: E402
from ambsim_gui.record.player import ExternalPlayer, play, record_played_shift  # noqa: E402
from ambsim_gui.record.schema import SCHEMA_VERSION  # noqa: E402
from ambsim_gui.record.session import SessionRecorder  # noqa: E402
from ambsim_gui.scenario.loader import load_scenario  # noqa: E402
from ambsim_gui.sim import commands as cmd  # noqa: E402
from ambsim_gui.sim.engine import Engine  # noqa: E402


def compact(path: Path) -> None:
    """One self-contained file: no write-ahead log beside it."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
    conn = sqlite3.connect(path)
    conn.execute("VACUUM")
    conn.close()


def as_schema1(source: Path, target: Path) -> None:
    """``source`` (the current schema) rewritten as a schema-1 file: the events table one
    event a row, each chained to the one before, instead of hash-chained blocks."""
    from ambsim_gui.record import chain
    from ambsim_gui.record.codec import event_json
    from ambsim_gui.record.reader import SessionFile
    from ambsim_gui.record.schema import DDL_V1

    with SessionFile.open(source) as session:
        events = session.events()
        genesis = session.genesis()
    target.unlink(missing_ok=True)
    target.write_bytes(source.read_bytes())
    conn = sqlite3.connect(target)
    with conn:
        conn.execute("DROP TABLE event_blocks")
        events_ddl = DDL_V1[DDL_V1.index("CREATE TABLE events") :]
        conn.execute(events_ddl)
        prev = chain.start(genesis, "events")
        rows = []
        for seq, event in enumerate(events):
            body = event_json(event)
            digest = chain.event_hash(prev, seq, event.t, event.KIND, body)
            rows.append((seq, event.t, event.KIND, body, prev, digest))
            prev = digest
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows)
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', '1')")
    conn.execute("PRAGMA user_version=1")
    conn.close()
    compact(target)


def main() -> None:
    loaded = load_scenario(DEFAULT_SCENARIO)
    world = build_from(loaded)

    first = HERE / f"default_1h_both_expert_desk.schema{SCHEMA_VERSION}.ambsession"
    first.unlink(missing_ok=True)
    record_played_shift(first, loaded, world, player="expert", role="both", hours=1.0)

    second = HERE / f"default_1h_both_chaser_inject.schema{SCHEMA_VERSION}.ambsession"
    second.unlink(missing_ok=True)
    engine = Engine(world, policy="expert", trainee_policy=None, duration_s=3600.0, role="both")
    recorder = SessionRecorder.start(second, loaded, engine)
    player = ExternalPlayer(engine, "target_chaser")
    play(engine, player, until=1200.0)
    engine.submit(
        cmd.Inject(
            seat="instructor",
            spec={"type": "call_burst", "card": "rtc", "count": 3, "over_min": 3},
        )
    )
    play(engine, player)
    recorder.add_annotation(1500.0, "Two vehicles to one RTC: was the second needed?")
    recorder.close()

    third = HERE / f"default_45m_handler_closed_early.schema{SCHEMA_VERSION}.ambsession"
    third.unlink(missing_ok=True)
    record_played_shift(
        third, loaded, world, player="expert", role="call_handler", hours=1.0, stop_at_s=2700.0
    )
    for path in (first, second, third):
        compact(path)
        print(f"{path.name}: {path.stat().st_size // 1024} KiB")
        if SCHEMA_VERSION == 2:
            old = path.with_name(path.name.replace(".schema2.", ".schema1."))
            as_schema1(path, old)
            print(f"{old.name}: {old.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
