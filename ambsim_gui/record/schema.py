"""The session file's layout, its version, the errors of opening one, and its migrations.

A session is one SQLite file in WAL mode. ``PRAGMA application_id`` marks it as ambsim's and
``meta.schema_version`` (mirrored in ``PRAGMA user_version``) says which layout it has. Schema 2:

``meta(key, value)``
    One JSON value per key: ``format``, ``schema_version``, ``program_version``, ``created``,
    ``session_id``, ``scenario_path``, ``scenario_stem``, ``scenario_name``, ``scenario_sha256``,
    ``regime``, ``seed``, ``role``, ``policy``, ``autopilot``, ``duration_s``, ``feedback``
    (who fills the feedback table: own | given | none); ``closed`` once the recorder closed it
    (with its counts of events and commands).
``scenario(kind, name, sha256, shipped, compression, data)``
    The scenario's exact text (``kind='scenario'``) and every file the world was built from
    (``map``, ``protocol``, ``cards``), so a session replays even after shipped files change.
``commands(seq, t, wall, json, prev_hash, hash)``
    Every external command (trainee, instructor) at its simulation time, with the wall clock.
``event_blocks(seq, n, t_first, t_last, compression, data, prev_hash, hash)``
    Every event, in blocks: events ``seq`` to ``seq + n - 1``, their times from ``t_first`` to
    ``t_last``; ``data`` is the block's body (``blocks``), stored as ``compression`` says
    (``none``: as it is), chained block by block over the body.
``feedback(call_id, seq, json)``
    ``CallFeedback`` records as they completed: derived data, checked by recomputation.
``annotations(id, t, call_id, author, text, created, supersedes, prev_hash, hash)``
    Instructor comments pinned to a moment (and a call); append-only, an edit supersedes.

Schema 1 is the same but for the events, one row each: ``events(seq, t, kind, json,
prev_hash, hash)`` with ``json`` the event's fields except ``t``, each row chained. It cost
several times more to write; schema-1 files are read and verified as they are (their own
chains), never rewritten. Schema 0 was the prototype layout (no hash chains, no stored
resources, the event's ``to_dict`` as JSON); ``MIGRATIONS`` turns it into schema 1, in memory.
A file of a newer schema than ``SCHEMA_VERSION`` is refused with a message naming the program
that wrote it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import PureWindowsPath
from typing import Any

from ambsim_gui import __version__

SCHEMA_VERSION = 2
"""The layout this program writes, and the newest it reads."""
NATIVE_SCHEMAS = frozenset({1, 2})
"""Layouts read as they are; older ones are migrated (in memory) to the oldest of these."""
BLOCKS_SINCE = 2
"""The first schema that stores events in blocks (``event_blocks``) rather than rows."""
FORMAT = "ambsim-session"
APPLICATION_ID = 0x414D4253  # "AMBS"
SQLITE_MAGIC = b"SQLite format 3\x00"

SYNCHRONOUS = "NORMAL"
"""With WAL, NORMAL syncs only at checkpoints: a committed transaction survives the process
being killed (kill -9, a crash) because it is in the WAL file the OS already holds; only a power
cut or an OS crash can lose the last transactions, and even then the file stays consistent.
FULL would add an fsync to every commit (one per command) for a risk out of our scope."""

MUTABLE_META = frozenset({"schema_version", "closed", "migrated_from", "migrated"})
"""Meta keys that may change after creation: not part of the hash chains' genesis."""

_DDL_COMMON = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE scenario (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    shipped INTEGER NOT NULL,
    compression TEXT NOT NULL,
    data BLOB,
    PRIMARY KEY (kind, name)
);
CREATE TABLE commands (
    seq INTEGER PRIMARY KEY,
    t REAL NOT NULL,
    wall REAL NOT NULL,
    json TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL
);
CREATE TABLE feedback (call_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, json TEXT NOT NULL);
CREATE TABLE annotations (
    id INTEGER PRIMARY KEY,
    t REAL NOT NULL,
    call_id TEXT,
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    created REAL NOT NULL,
    supersedes INTEGER,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL
);
"""
DDL_V1 = (
    _DDL_COMMON
    + """
CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    t REAL NOT NULL,
    kind TEXT NOT NULL,
    json TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL
);
"""
)
DDL_V2 = (
    _DDL_COMMON
    + """
CREATE TABLE event_blocks (
    seq INTEGER PRIMARY KEY,
    n INTEGER NOT NULL,
    t_first REAL NOT NULL,
    t_last REAL NOT NULL,
    compression TEXT NOT NULL,
    data BLOB NOT NULL,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL
);
"""
)


class SessionError(Exception):
    """A session file cannot be used; the message says why, for people."""


class NotASession(SessionError):
    """The file is missing, empty, not SQLite, or SQLite but not an ambsim session."""


class SchemaTooNew(SessionError):
    """Written by a newer ambsim whose layout this program does not know."""


class SessionCorrupt(SessionError):
    """An ambsim session whose content cannot be read (a row that does not parse...)."""


class SessionDamaged(SessionCorrupt):
    """An ambsim session file that SQLite cannot read to the end: truncated (cut at some byte),
    or a page overwritten; the message says what is still intact (``reader.scan_intact``)."""


class SessionIncomplete(SessionError):
    """An ambsim session that opens but cannot be verified or reported as it is: it holds no
    events, or it was never closed and its log (the ``-wal`` file) was not copied with it."""


def configure(conn: sqlite3.Connection) -> None:
    """WAL journal and the chosen sync level, on every connection that writes."""
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={SYNCHRONOUS}")


def meta_value(text: str) -> Any:
    """A meta value as stored (JSON); a plain string when it is not JSON (schema 0)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def read_meta(conn: sqlite3.Connection) -> dict[str, Any]:
    return {k: meta_value(v) for k, v in conn.execute("SELECT key, value FROM meta")}


def tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def too_new_message(path: str, meta: dict[str, Any], version: int) -> str:
    made_by = meta.get("program_version", "unknown")
    return (
        f"{path}: made by ambsim {made_by}, schema {version}; this program "
        f"(ambsim {__version__}) reads up to schema {SCHEMA_VERSION}. Update ambsim to open it."
    )


# --- migrations --------------------------------------------------------------------------------

Migrator = Callable[[sqlite3.Connection], None]


def _v0_to_v1(conn: sqlite3.Connection) -> None:
    """The prototype layout to schema 1: typed meta, event fields apart from their kind, the
    scenario text in its table, hash chains computed now (they prove nothing before today)."""
    from ambsim_gui.record import chain
    from ambsim_gui.record.codec import command_json, event_json
    from ambsim_gui.sim import commands as cmd
    from ambsim_gui.sim import events as ev

    old = {k: v for k, v in conn.execute("SELECT key, value FROM meta")}
    for name in ("meta", "commands", "events"):
        conn.execute(f"ALTER TABLE {name} RENAME TO old_{name}")
    conn.executescript(DDL_V1)

    def number(key: str) -> float | None:
        value = old.get(key)
        return None if value in (None, "", "None") else float(value)

    seed = number("seed")
    meta: dict[str, Any] = {
        "format": FORMAT,
        "program_version": old.get("program_version", "0.0"),
        "created": old.get("created", ""),
        "session_id": old.get("session_id", ""),
        "scenario_path": old.get("scenario_path", ""),
        "scenario_stem": old.get("scenario_stem")
        or PureWindowsPath(old.get("scenario_path") or "scenario").stem,
        "scenario_name": old.get("scenario_name", ""),
        "scenario_sha256": old.get("scenario_sha256", ""),
        "regime": old.get("regime", ""),
        "seed": None if seed is None else int(seed),
        "role": old.get("role") or None,
        "policy": old.get("policy") or None,
        "autopilot": old.get("trainee_policy") or None,
        "duration_s": number("duration_s"),
    }
    text = old.get("scenario_text", "")
    resources = [("scenario", "scenario.yaml", chain.sha256_hex(text.encode()), 0, "none")]
    conn.execute("INSERT INTO scenario VALUES (?, ?, ?, ?, ?, ?)", (*resources[0], text.encode()))
    meta_rows = dict(meta)
    meta_rows["schema_version"] = 1
    meta_rows["migrated_from"] = 0
    conn.executemany(
        "INSERT INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in meta_rows.items()]
    )
    genesis = chain.genesis(meta_rows, [(k, n, s) for k, n, s, _, _ in resources])

    prev = chain.start(genesis, "commands")
    rows = []
    for seq, (t, text_) in enumerate(conn.execute("SELECT t, json FROM old_commands ORDER BY seq")):
        data = json.loads(text_)
        command = cmd.command_from_dict(data["command"] if "command" in data else data)
        body = command_json(command)
        h = chain.command_hash(prev, seq, float(t), 0.0, body)
        rows.append((seq, float(t), 0.0, body, prev, h))
        prev = h
    conn.executemany("INSERT INTO commands VALUES (?, ?, ?, ?, ?, ?)", rows)

    prev = chain.start(genesis, "events")
    rows = []
    cursor = conn.execute("SELECT t, kind, json FROM old_events ORDER BY seq")
    for seq, (_t, kind, text_) in enumerate(cursor):
        data = json.loads(text_)
        cls = ev.EVENT_TYPES[kind]
        if "kind" not in {f for f in cls.__dataclass_fields__}:
            data.pop("kind", None)
        for key, value in list(data.items()):
            if isinstance(value, list):
                data[key] = tuple(value)
        event = cls(**data)
        body = event_json(event)
        h = chain.event_hash(prev, seq, event.t, kind, body)
        rows.append((seq, event.t, kind, body, prev, h))
        prev = h
    conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows)
    for name in ("meta", "commands", "events"):
        conn.execute(f"DROP TABLE old_{name}")


MIGRATIONS: dict[int, Migrator] = {0: _v0_to_v1}
"""schema N -> the function that turns a schema-N file into schema N+1 (in place)."""


def migrate(conn: sqlite3.Connection, version: int) -> int:
    """Bring ``conn`` from ``version`` up to the oldest native schema, one step at a time;
    returns the schema it now has."""
    while version < min(NATIVE_SCHEMAS):
        step = MIGRATIONS.get(version)
        if step is None:
            raise SessionError(
                f"schema {version} is too old: no migration to schema {version + 1} is known"
            )
        with conn:
            step(conn)
            version += 1
            conn.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (json.dumps(version),)
            )
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version={version}")
    return version
