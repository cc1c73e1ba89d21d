"""Recording a shift into a session file as it is played.

``SessionRecorder`` listens to an engine: every event is queued and written in blocks (one row
of ``event_blocks``, one hash, one transaction, every ``flush_events`` events or
``flush_interval_s`` of wall time, whichever comes first; the desk's timer calls ``tick``),
every external command is written *at once* through the engine's ``on_command`` hook, together
with the events before it, in one committed transaction. After a ``kill -9`` the file
therefore holds every command given and every event up to the last command (SQLite's WAL
recovery runs when the file is next opened), and replays up to there; the events after the
last command are what a re-simulation gives again, so nothing a trainee did is lost.

Queueing an event costs a list append; a block is encoded in a few C calls (``blocks``). The
recorder's own ``FeedbackProjection`` (``feedback="own"``) is the largest cost left.

The file is first built complete (tables, header, the scenario and the files its world was
built from) under a temporary name and renamed into place, so a file at the session's path is
always a session, never a half-made one.

The recorder never raises into the engine: a write error stops the recording, is kept in
``error`` and reported by ``close`` (and to ``on_error`` at once, for the desk).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import sys
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ambsim_gui import __version__
from ambsim_gui import paths as project_paths
from ambsim_gui.assess.feedback import FEEDBACK_FORMAT, CallFeedback, FeedbackProjection
from ambsim_gui.record import blocks, chain
from ambsim_gui.record.codec import command_json, feedback_json
from ambsim_gui.record.schema import (
    APPLICATION_ID,
    DDL_V2,
    FORMAT,
    SCHEMA_VERSION,
    SessionError,
    configure,
)
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev

if TYPE_CHECKING:
    from ambsim_gui.scenario.loader import LoadedScenario
    from ambsim_gui.sim.engine import Engine

FEEDBACK_MODES = ("own", "given", "none")
DEFAULT_FLUSH_EVENTS = 4096
DEFAULT_FLUSH_INTERVAL_S = 0.2
ZLIB_LEVEL = 6


@dataclass(frozen=True)
class StoredFile:
    """One file a session keeps: the scenario, or a file its world was built from."""

    kind: str  # scenario | map | protocol | cards
    name: str  # for a shipped file, its path under resources/<kind folder>; else its name
    sha256: str  # of the file's bytes
    shipped: bool  # it lies under the project's resources/ or scenarios/ folder
    data: bytes | None  # the bytes (None: not stored, as in files migrated from schema 0)


@dataclass(frozen=True)
class Annotation:
    """An instructor's comment pinned to a moment of the shift, and maybe to a call."""

    id: int
    t: float
    call_id: str | None
    author: str
    text: str
    created: float  # wall clock, seconds since the epoch
    supersedes: int | None = None  # the annotation this one edits (empty text: deletes)


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _shipped_name(path: Path, roots: list[Path]) -> tuple[str, bool]:
    resolved = path.resolve()
    for root in roots:
        with contextlib.suppress(ValueError):
            return resolved.relative_to(root.resolve()).as_posix(), True
    return path.name, False


def scenario_files(loaded: LoadedScenario) -> list[StoredFile]:
    """The scenario's text and every file ``build_from(loaded)`` reads, with their bytes."""
    from ambsim_gui.triage.cards import DEFAULT_CARDS
    from ambsim_gui.triage.protocol import DEFAULT_PROTOCOL

    out: list[StoredFile] = []

    def add(kind: str, path: Path, roots: list[Path]) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SessionError(f"cannot read {path} to store it: {exc.strerror or exc}") from None
        name, shipped = _shipped_name(path, roots)
        out.append(StoredFile(kind, name, chain.sha256_hex(data), shipped, data))

    res = project_paths.RESOURCES
    scenario_bytes = loaded.text.encode("utf-8")
    name, shipped = _shipped_name(loaded.path, [project_paths.SCENARIOS])
    out.append(
        StoredFile("scenario", name, chain.sha256_hex(scenario_bytes), shipped, scenario_bytes)
    )
    add("map", loaded.map_path, [res / "maps"])
    add("protocol", loaded.protocol_path or DEFAULT_PROTOCOL, [res / "triage"])
    cards = loaded.cards_path or DEFAULT_CARDS
    if cards.is_dir():
        for file in sorted(cards.glob("*.yaml")):
            add("cards", file, [cards])
    else:
        add("cards", cards, [res / "cards"])
    return out


class SessionRecorder:
    """Writes one shift into a session file; see the module docstring."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path,
        meta: dict[str, Any],
        genesis: bytes,
        *,
        flush_events: int = DEFAULT_FLUSH_EVENTS,
        flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S,
    ) -> None:
        """Use ``create`` (or ``start``); this takes an open, prepared connection."""
        mode = str(meta.get("feedback", "own"))
        self.path = path
        self.meta = meta
        self.flush_events = max(1, int(flush_events))
        self.flush_interval_s = float(flush_interval_s)
        self.error: BaseException | None = None
        self.on_error: Callable[[BaseException], None] | None = None
        self.engine: Engine | None = None
        self.events_written = 0
        self.commands_written = 0
        self.shift_ended = False
        self._conn: sqlite3.Connection | None = conn
        self._genesis = genesis
        self._event_prev = chain.start(genesis, "event_blocks")
        self._encoder = blocks.BlockEncoder()
        self._command_prev = chain.start(genesis, "commands")
        self._annotation_prev = chain.start(genesis, "annotations")
        self._annotation_id = 0
        self._pending: list[ev.Event] = []
        self._last_flush = time.perf_counter()
        self._feedback_rows: list[tuple[str, int, str]] = []
        self._feedback_seq = 0
        self._feedback = (
            FeedbackProjection(on_record=self.record_feedback) if mode == "own" else None
        )

    # --- making the file ---------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        loaded: LoadedScenario,
        *,
        seed: int | None = None,
        role: str | None = None,
        policy: str | None = "expert",
        autopilot: str | None = None,
        duration_s: float | None = None,
        run_out_s: float | None = None,
        call_distribution: str | None = None,
        overwrite: bool = False,
        feedback: str = "own",
        flush_events: int = DEFAULT_FLUSH_EVENTS,
        flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S,
    ) -> SessionRecorder:
        """A new session file for a shift of ``loaded`` played with these engine settings.

        ``policy`` plays the virtual colleagues, ``autopilot`` the trainee's seat (None: the
        trainee plays), as ``Engine(policy=..., trainee_policy=...)``. ``seed`` None means the
        scenario's seed, ``role`` None the scenario's trainee role, ``duration_s`` None the
        whole scenario, ``call_distribution`` None the scenario's. ``feedback`` says who
        fills the feedback table: ``"own"`` (the
        recorder runs a ``FeedbackProjection``; half of its cost), ``"given"`` (the
        desk passes its own projection's records to ``record_feedback``) or ``"none"``
        (readers recompute it from the events; for batch runs). Raises SessionError for a
        path that cannot be written or a bad ``feedback``.
        """
        if feedback not in FEEDBACK_MODES:
            raise SessionError(f"feedback must be one of {', '.join(FEEDBACK_MODES)}")
        target = Path(path)
        if target.exists() and not overwrite:
            raise SessionError(f"{target} already exists; choose another name or delete it")
        if target.is_dir():
            raise SessionError(f"{target} is a folder")
        if not target.parent.is_dir():
            raise SessionError(f"cannot record to {target}: folder {target.parent} not found")
        scenario = loaded.scenario
        meta: dict[str, Any] = {
            "format": FORMAT,
            "schema_version": SCHEMA_VERSION,
            "program_version": __version__,
            "python": sys.version.split()[0],
            "created": _now_iso(),
            "session_id": uuid.uuid4().hex,
            "scenario_path": str(loaded.path),
            "scenario_stem": loaded.path.stem,
            "scenario_name": scenario.name,
            "scenario_sha256": loaded.sha256,
            "regime": scenario.regime,
            "seed": int(scenario.seed if seed is None else seed),
            "role": role or scenario.control_room.trainee_role,
            "policy": policy,
            "autopilot": autopilot,
            "duration_s": None if duration_s is None else float(duration_s),
            "feedback": feedback,
            "feedback_format": FEEDBACK_FORMAT,
            "call_distribution": call_distribution or scenario.control_room.call_distribution,
        }
        if run_out_s is not None:  # only then: older readers see a session like any other
            meta["run_out_s"] = float(run_out_s)
        files = scenario_files(loaded)
        genesis = chain.genesis(meta, [(f.kind, f.name, f.sha256) for f in files])
        part = target.with_name(target.name + ".part")
        try:
            for stale in (part, Path(f"{part}-wal"), Path(f"{part}-shm")):
                stale.unlink(missing_ok=True)
            conn = sqlite3.connect(part)
            try:
                conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                configure(conn)
                conn.executescript(DDL_V2)
                with conn:
                    conn.executemany(
                        "INSERT INTO meta VALUES (?, ?)",
                        [(k, json.dumps(v)) for k, v in meta.items()],
                    )
                    conn.executemany(
                        "INSERT INTO scenario VALUES (?, ?, ?, ?, ?, ?)",
                        [
                            (
                                f.kind,
                                f.name,
                                f.sha256,
                                int(f.shipped),
                                "none" if f.kind == "scenario" else "zlib",
                                f.data
                                if f.kind == "scenario" or f.data is None
                                else zlib.compress(f.data, ZLIB_LEVEL),
                            )
                            for f in files
                        ],
                    )
            finally:
                conn.close()
            # a log left beside an overwritten session belongs to that session: never let
            # SQLite apply it to this one
            for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
                stale.unlink(missing_ok=True)
            os.replace(part, target)
            conn = sqlite3.connect(target, isolation_level=None)
            configure(conn)
        except (sqlite3.Error, OSError) as exc:
            raise SessionError(f"cannot create the session file {target}: {exc}") from None
        return cls(
            conn,
            target,
            meta,
            genesis,
            flush_events=flush_events,
            flush_interval_s=flush_interval_s,
        )

    @classmethod
    def start(
        cls,
        path: str | os.PathLike[str],
        loaded: LoadedScenario,
        engine: Engine,
        *,
        overwrite: bool = False,
        feedback: str = "own",
        flush_events: int = DEFAULT_FLUSH_EVENTS,
        flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S,
    ) -> SessionRecorder:
        """Create a session for ``engine`` (its settings read from it) and attach to it."""
        policy, autopilot = engine_policies(engine)
        recorder = cls.create(
            path,
            loaded,
            seed=engine.seed,
            role=engine.role,
            policy=policy,
            autopilot=autopilot,
            duration_s=engine.end_s if engine.end_s < loaded.scenario.duration_s else None,
            run_out_s=engine.run_out_s,
            call_distribution=engine.distributor.mode,
            overwrite=overwrite,
            feedback=feedback,
            flush_events=flush_events,
            flush_interval_s=flush_interval_s,
        )
        recorder.attach(engine)
        return recorder

    # --- listening ---------------------------------------------------------------------------

    def attach(self, engine: Engine) -> None:
        """Record ``engine``: its events (those already emitted first) and its commands."""
        if self.engine is not None:
            raise SessionError("this recorder is already attached to an engine")
        problems = [
            f"{key} is {have!r} in the engine but {want!r} in the session"
            for key, have, want in (
                ("seed", engine.seed, self.meta["seed"]),
                ("role", engine.role, self.meta["role"]),
                (
                    "policies",
                    engine_policies(engine),
                    (self.meta["policy"], self.meta["autopilot"]),
                ),
                ("end", engine.end_s, self.meta["duration_s"] or engine.scenario.duration_s),
                ("run-out", engine.run_out_s, self.meta.get("run_out_s")),
                (
                    "call distribution",
                    engine.distributor.mode,
                    self.meta.get("call_distribution", "shared"),
                ),
            )
            if have != want
        ]
        if engine.command_log:
            problems.append("the engine has taken commands already: attach before the first")
        if problems:
            raise SessionError("cannot record this engine: " + "; ".join(problems))
        self.engine = engine
        engine.subscribe(self._on_event, replay=True)
        engine.on_command.append(self.record_command)

    def detach(self) -> None:
        engine, self.engine = self.engine, None
        if engine is None:
            return
        with contextlib.suppress(ValueError):
            engine.listeners.remove(self._on_event)
        with contextlib.suppress(ValueError):
            engine.on_command.remove(self.record_command)

    def _on_event(self, event: ev.Event) -> None:
        pending = self._pending
        pending.append(event)
        n = len(pending)
        # the clock is read every 64 events only: it cost as much as the rest of this method
        if n >= self.flush_events or (
            n % 64 == 0 and time.perf_counter() - self._last_flush >= self.flush_interval_s
        ):
            self.flush()

    def record_feedback(self, record: CallFeedback) -> None:
        """Store one call's feedback with the next write (the recorder's own projection calls
        this; with ``feedback="given"`` the desk passes its projection's records here)."""
        self._feedback_rows.append((record.call_id, self._feedback_seq, feedback_json(record)))
        self._feedback_seq += 1

    # --- writing -----------------------------------------------------------------------------

    def record_command(self, timed: cmd.TimedCommand, wall_time: float | None = None) -> None:
        """Write a command now, after the events before it, and commit (the engine's hook)."""
        wall = time.time() if wall_time is None else float(wall_time)
        try:
            body = command_json(timed.command)
        except (TypeError, ValueError) as exc:  # e.g. an inject holding a non-JSON value
            self._fail(exc)
            return
        self._write(command=(float(timed.t), wall, body))

    def flush(self) -> None:
        """Write and commit the events queued so far (the desk may call this on pause)."""
        if self._pending or self._feedback_rows:
            self._write()

    def tick(self) -> None:
        """Flush when the last flush is older than ``flush_interval_s`` (from a desk timer)."""
        if self._pending and time.perf_counter() - self._last_flush >= self.flush_interval_s:
            self._write()

    def _write(self, command: tuple[float, float, str] | None = None) -> None:
        conn = self._conn
        if conn is None or self.error is not None:
            self._pending.clear()
            return
        if not self._pending and not self._feedback_rows and command is None:
            return
        pending, self._pending = self._pending, []
        block_row = None
        prev = self._event_prev
        ended = self.shift_ended
        if pending:
            try:
                block = self._encoder.encode(pending)
            except (TypeError, ValueError) as exc:  # a value a session cannot store: stop
                self._fail(exc)
                return
            seq = self.events_written
            digest = chain.block_hash(prev, seq, block.n, block.t_first, block.t_last, block.body)
            compression, data = blocks.compress(block.body)
            block_row = (seq, block.n, block.t_first, block.t_last, compression, data, prev, digest)
            prev = digest
            ended = ended or ev.ShiftEnded in block.classes
        if self._feedback is not None:
            feed = self._feedback.feed
            for event in pending:
                feed(event)
        feedback, self._feedback_rows = self._feedback_rows, []
        command_row = None
        if command is not None:
            t, wall, body = command
            n = self.commands_written
            digest = chain.command_hash(self._command_prev, n, t, wall, body)
            command_row = (n, t, wall, body, self._command_prev, digest)
        try:
            conn.execute("BEGIN")
            if block_row is not None:
                conn.execute("INSERT INTO event_blocks VALUES (?, ?, ?, ?, ?, ?, ?, ?)", block_row)
            if feedback:
                conn.executemany("INSERT OR REPLACE INTO feedback VALUES (?, ?, ?)", feedback)
            if command_row is not None:
                conn.execute("INSERT INTO commands VALUES (?, ?, ?, ?, ?, ?)", command_row)
            conn.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            self._fail(exc)
            return
        self._event_prev = prev
        self.events_written += len(pending)
        self.shift_ended = ended
        if command_row is not None:
            self._command_prev = command_row[-1]
            self.commands_written += 1
        self._last_flush = time.perf_counter()

    def _fail(self, exc: BaseException) -> None:
        self.error = exc
        self.detach()
        if self.on_error is not None:
            self.on_error(exc)

    # --- annotations -------------------------------------------------------------------------

    def add_annotation(
        self,
        t: float,
        text: str,
        call_id: str | None = None,
        *,
        author: str = "instructor",
        supersedes: int | None = None,
    ) -> Annotation:
        """Pin a comment to simulation time ``t`` (and a call); written and committed now."""
        conn = self._require_open()
        self.flush()
        self._annotation_id += 1
        note, row = annotation_row(
            self._annotation_prev, self._annotation_id, t, text, call_id, author, supersedes
        )
        try:
            with _transaction(conn):
                conn.execute("INSERT INTO annotations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        except sqlite3.Error as exc:
            self._annotation_id -= 1
            raise SessionError(f"cannot save the annotation: {exc}") from None
        self._annotation_prev = row[-1]
        return note

    # --- the end -----------------------------------------------------------------------------

    def _require_open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise SessionError(f"the recording {self.path} is closed")
        if self.error is not None:
            raise SessionError(f"the recording {self.path} stopped: {self.error}")
        return self._conn

    def close(self) -> None:
        """Write what is queued, mark the session closed, checkpoint, detach from the engine.

        Raises SessionError when the recording had stopped on a write error.
        """
        conn, error = self._conn, self.error
        if conn is None:
            return
        try:
            if error is None:
                self.flush()
                error = self.error
            if error is None:
                closed = {
                    "wall": _now_iso(),
                    "events": self.events_written,
                    "commands": self.commands_written,
                    "shift_ended": self.shift_ended,
                }
                with _transaction(conn):
                    conn.execute(
                        "INSERT OR REPLACE INTO meta VALUES ('closed', ?)", (json.dumps(closed),)
                    )
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            error = exc
        finally:
            self.detach()
            self._conn = None
            conn.close()
        if error is not None:
            raise SessionError(
                f"the recording {self.path} stopped after {self.events_written} events: {error}"
            )

    def __enter__(self) -> SessionRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Any:
    conn.execute("BEGIN")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def annotation_row(
    prev: bytes,
    ident: int,
    t: float,
    text: str,
    call_id: str | None,
    author: str,
    supersedes: int | None,
) -> tuple[Annotation, tuple[Any, ...]]:
    """An annotation and its table row, chained onto ``prev``."""
    note = Annotation(
        id=ident,
        t=float(t),
        call_id=call_id,
        author=str(author),
        text=str(text),
        created=time.time(),
        supersedes=supersedes,
    )
    digest = chain.annotation_hash(
        prev, note.id, note.t, note.call_id, note.author, note.text, note.created, supersedes
    )
    row = (
        note.id,
        note.t,
        note.call_id,
        note.author,
        note.text,
        note.created,
        note.supersedes,
        prev,
        digest,
    )
    return note, row


def engine_policies(engine: Engine) -> tuple[str | None, str | None]:
    """(policy of the colleagues, policy of the trainee's seat) as the engine was built."""
    policy: str | None = None
    autopilot: str | None = None
    for p in engine.policies:
        if "trainee" in p.seats:
            autopilot = p.name
        if any(seat != "trainee" for seat in p.seats):
            policy = p.name
    if policy is None and autopilot is not None and len(engine.seats) == 1:
        policy = autopilot
    return policy, autopilot
