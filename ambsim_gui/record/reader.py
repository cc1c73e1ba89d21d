"""Opening a session file: clear refusals, migration of old layouts, typed reading.

``SessionFile.open(path)`` says plainly what is wrong with a file that is not a usable session
(missing, empty, not SQLite, SQLite but not ambsim's, written by a newer ambsim) and raises a
``SessionError`` subclass with that message; nothing else escapes. Schemas 1 (an event per row)
and 2 (events in blocks) are read as they are; a file of an older schema is copied into memory
and migrated there (the file itself is never changed by reading it); ``upgrade_session``
rewrites it in place when that is wanted.

Opening a file left by a killed recorder runs SQLite's WAL recovery, which is what makes every
committed transaction readable.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ambsim_gui.record import blocks
from ambsim_gui.record.codec import CodecError, command_from_json, event_from_row
from ambsim_gui.record.schema import (
    APPLICATION_ID,
    BLOCKS_SINCE,
    FORMAT,
    NATIVE_SCHEMAS,
    SCHEMA_VERSION,
    SQLITE_MAGIC,
    NotASession,
    SchemaTooNew,
    SessionCorrupt,
    SessionError,
    configure,
    migrate,
    read_meta,
    tables,
    too_new_message,
)
from ambsim_gui.record.session import Annotation, StoredFile, _transaction, annotation_row
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev


@dataclass(frozen=True)
class SessionInfo:
    """A session's header: who recorded what, with which settings."""

    schema_version: int
    program_version: str
    created: str
    session_id: str
    scenario_path: str
    scenario_stem: str
    scenario_name: str
    scenario_sha256: str
    regime: str
    seed: int
    role: str | None
    policy: str | None
    autopilot: str | None
    duration_s: float | None
    closed: dict[str, Any] | None

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> SessionInfo:
        def text(key: str) -> str:
            value = meta.get(key)
            return "" if value is None else str(value)

        def optional(key: str) -> str | None:
            value = meta.get(key)
            return None if value in (None, "") else str(value)

        duration = meta.get("duration_s")
        closed = meta.get("closed")
        return cls(
            schema_version=int(meta.get("schema_version", SCHEMA_VERSION)),
            program_version=text("program_version"),
            created=text("created"),
            session_id=text("session_id"),
            scenario_path=text("scenario_path"),
            scenario_stem=text("scenario_stem"),
            scenario_name=text("scenario_name"),
            scenario_sha256=text("scenario_sha256"),
            regime=text("regime"),
            seed=int(meta.get("seed") or 0),
            role=optional("role"),
            policy=optional("policy"),
            autopilot=optional("autopilot"),
            duration_s=None if duration is None else float(duration),
            closed=closed if isinstance(closed, dict) else None,
        )


def _connect(path: Path, writable: bool) -> sqlite3.Connection:
    """A connection that can run WAL recovery; read-only when the file cannot be written."""
    can_write = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    if writable and not can_write:
        raise SessionError(f"{path}: the file or its folder is read-only")
    if can_write:
        conn = sqlite3.connect(path, isolation_level=None)
        if not writable:
            conn.execute("PRAGMA query_only=ON")
        return conn
    uri = f"{path.resolve().as_uri()}?mode=ro"
    return sqlite3.connect(uri, uri=True, isolation_level=None)


def _probe(path: Path) -> None:
    """Refuse files that are plainly not sessions, before SQLite sees them."""
    if not path.exists():
        raise NotASession(f"{path}: no such file")
    if path.is_dir():
        raise NotASession(f"{path}: is a folder, not a session file")
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise NotASession(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    if not head:
        raise NotASession(f"{path}: empty file: not a session (a recording that never started?)")
    if head != SQLITE_MAGIC:
        raise NotASession(f"{path}: not an ambsim session file (not an SQLite database)")


class SessionFile:
    """An open session: its header, files, commands, events, feedback and annotations."""

    def __init__(
        self,
        path: Path,
        conn: sqlite3.Connection,
        meta: dict[str, Any],
        *,
        writable: bool,
        migrated_from: int | None,
    ) -> None:
        """Use ``SessionFile.open``."""
        self.path = path
        self.conn = conn
        self.meta = meta
        self.info = SessionInfo.from_meta(meta)
        self.writable = writable
        self.migrated_from = migrated_from
        self.migrated_now = migrated_from is not None
        """True when this file was migrated in memory as it was opened."""
        if migrated_from is None and meta.get("migrated_from") is not None:
            self.migrated_from = int(meta["migrated_from"])
        self._events: list[ev.Event] | None = None
        self.blocks = self.info.schema_version >= BLOCKS_SINCE
        """Events stored in blocks (schema 2) rather than a row each (schema 1)."""

    # --- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, writable: bool = False) -> SessionFile:
        """Open a session; SessionError (NotASession, SchemaTooNew...) says what is wrong.

        ``writable`` is needed only to add annotations; an older schema is migrated in memory
        for reading, and must be upgraded (``upgrade_session``) before it can be written.
        """
        p = Path(path)
        _probe(p)
        try:
            conn = _connect(p, writable)
        except sqlite3.Error as exc:
            raise NotASession(f"{p}: cannot open it as a database: {exc}") from None
        try:
            return cls._from_connection(p, conn, writable)
        except BaseException:
            conn.close()
            raise

    @classmethod
    def _from_connection(cls, path: Path, conn: sqlite3.Connection, writable: bool) -> SessionFile:
        try:
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            names = tables(conn)
        except sqlite3.DatabaseError as exc:
            raise NotASession(f"{path}: not an ambsim session file ({exc})") from None
        if not names:
            raise NotASession(f"{path}: an empty database, not an ambsim session")
        if "meta" not in names:
            raise NotASession(
                f"{path}: an SQLite database, but not an ambsim session (it has no meta table)"
            )
        try:
            meta = read_meta(conn)
        except sqlite3.DatabaseError as exc:
            raise NotASession(f"{path}: its meta table cannot be read: {exc}") from None
        if meta.get("format") != FORMAT and app_id != APPLICATION_ID:
            raise NotASession(f"{path}: an SQLite database, but not an ambsim session")
        try:
            version = int(meta.get("schema_version", -1))
        except (TypeError, ValueError):
            raise SessionCorrupt(
                f"{path}: its schema version {meta.get('schema_version')!r} is not a number"
            ) from None
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(too_new_message(str(path), meta, version))
        if version < 0:
            raise SessionCorrupt(f"{path}: it does not say which schema it has")
        migrated_from: int | None = None
        if version not in NATIVE_SCHEMAS:
            if writable:
                raise SessionError(
                    f"{path}: schema {version} is older than this program's {SCHEMA_VERSION}: "
                    "upgrade it first (ambsim_gui.record.reader.upgrade_session)"
                )
            memory = sqlite3.connect(":memory:", isolation_level=None)
            try:
                conn.backup(memory)
                migrate(memory, version)
                meta = read_meta(memory)
            except SessionError:
                memory.close()
                raise
            except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
                memory.close()
                raise SessionCorrupt(
                    f"{path}: cannot migrate it from schema {version}: {exc}"
                ) from None
            conn.close()
            conn = memory
            migrated_from = version
        elif writable:
            configure(conn)
        return cls(path, conn, meta, writable=writable, migrated_from=migrated_from)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SessionFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reading -----------------------------------------------------------------------------

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, args)
        except sqlite3.DatabaseError as exc:
            raise SessionCorrupt(f"{self.path}: cannot read it: {exc}") from None

    def files(self) -> list[StoredFile]:
        """The scenario and the files its world was built from, decompressed."""
        out = []
        for kind, name, sha, shipped, compression, data in self._query(
            "SELECT kind, name, sha256, shipped, compression, data FROM scenario "
            "ORDER BY kind, name"
        ):
            raw: bytes | None = None
            if data is not None:
                try:
                    raw = zlib.decompress(data) if compression == "zlib" else bytes(data)
                except zlib.error as exc:
                    raise SessionCorrupt(f"{self.path}: stored {kind} {name}: {exc}") from None
            out.append(StoredFile(kind, name, sha, bool(shipped), raw))
        return out

    def scenario_text(self) -> str:
        for f in self.files():
            if f.kind == "scenario" and f.data is not None:
                return f.data.decode("utf-8")
        raise SessionCorrupt(f"{self.path}: the scenario's text is not stored")

    def command_count(self) -> int:
        return int(self._query("SELECT count(*) FROM commands").fetchone()[0])

    def event_count(self) -> int:
        if self.blocks:
            return int(self._query("SELECT coalesce(sum(n), 0) FROM event_blocks").fetchone()[0])
        return int(self._query("SELECT count(*) FROM events").fetchone()[0])

    def last_event_t(self) -> float | None:
        """The time of the last recorded event (None: no event)."""
        sql = "SELECT max(t_last) FROM event_blocks" if self.blocks else "SELECT max(t) FROM events"
        value = self._query(sql).fetchone()[0]
        return None if value is None else float(value)

    def command_rows(self) -> Iterator[tuple[int, float, float, str, bytes, bytes]]:
        yield from self._query(
            "SELECT seq, t, wall, json, prev_hash, hash FROM commands ORDER BY seq"
        )

    def event_rows(self) -> Iterator[tuple[int, float, str, str, bytes, bytes]]:
        """Schema 1's event rows as stored (schema 2 has none: see ``block_rows``)."""
        if self.blocks:
            return
        yield from self._query(
            "SELECT seq, t, kind, json, prev_hash, hash FROM events ORDER BY seq"
        )

    def block_rows(self) -> Iterator[tuple[int, int, float, float, str, bytes, bytes, bytes]]:
        """Schema 2's event blocks as stored (schema 1 has none: see ``event_rows``)."""
        if not self.blocks:
            return
        yield from self._query(
            "SELECT seq, n, t_first, t_last, compression, data, prev_hash, hash "
            "FROM event_blocks ORDER BY seq"
        )

    def commands(self) -> list[cmd.TimedCommand]:
        out = []
        for seq, t, _wall, text, _prev, _hash in self.command_rows():
            try:
                out.append(cmd.TimedCommand(float(t), command_from_json(text)))
            except CodecError as exc:
                raise SessionCorrupt(f"{self.path}: command {seq}: {exc}") from None
        return out

    def events(self) -> list[ev.Event]:
        """Every recorded event, in order (read once, then kept)."""
        if self._events is None:
            self._events = self._block_events() if self.blocks else self._row_events()
        return self._events

    def _row_events(self) -> list[ev.Event]:
        out = []
        for seq, t, kind, text in self._query("SELECT seq, t, kind, json FROM events ORDER BY seq"):
            try:
                out.append(event_from_row(kind, float(t), text))
            except CodecError as exc:
                raise SessionCorrupt(f"{self.path}: event {seq}: {exc}") from None
        return out

    def _block_events(self) -> list[ev.Event]:
        out: list[ev.Event] = []
        for seq, n, _t0, _t1, compression, data, _prev, _hash in self.block_rows():
            try:
                out += blocks.decode(blocks.inflate(compression, data), int(n))
            except CodecError as exc:
                raise SessionCorrupt(f"{self.path}: events {seq}-{seq + n - 1}: {exc}") from None
        return out

    def feedback(self, *, recompute: bool = False) -> list[dict[str, Any]]:
        """``CallFeedback`` records (as JSON dicts) in the order they completed: the stored
        ones, or recomputed from the events (``recompute``, or a session storing none)."""
        if recompute or self.meta.get("feedback") == "none":
            from ambsim_gui.assess.feedback import FeedbackProjection

            projection = FeedbackProjection()
            projection.feed_all(self.events())
            projection.flush()
            return [r.to_json_dict() for r in projection.records]
        return [
            json.loads(text) for (text,) in self._query("SELECT json FROM feedback ORDER BY seq")
        ]

    def annotation_rows(self) -> Iterator[tuple[Any, ...]]:
        yield from self._query(
            "SELECT id, t, call_id, author, text, created, supersedes, prev_hash, hash "
            "FROM annotations ORDER BY id"
        )

    def annotations(self, *, history: bool = False) -> list[Annotation]:
        """Annotations in time order; edits replace what they supersede, unless ``history``."""
        notes = [Annotation(*row[:7]) for row in self.annotation_rows()]
        if not history:
            replaced = {n.supersedes for n in notes if n.supersedes is not None}
            notes = [n for n in notes if n.id not in replaced and n.text != ""]
        return sorted(notes, key=lambda n: (n.t, n.id))

    # --- writing annotations -----------------------------------------------------------------

    def add_annotation(
        self,
        t: float,
        text: str,
        call_id: str | None = None,
        *,
        author: str = "instructor",
        supersedes: int | None = None,
    ) -> Annotation:
        """Pin a comment to the shift at ``t`` (needs ``open(..., writable=True)``).

        An edit of annotation N is a new annotation with ``supersedes=N``; empty text with
        ``supersedes`` deletes it. The hash chain only grows.
        """
        if not self.writable:
            raise SessionError(f"{self.path} was opened read-only: open it writable to annotate")
        from ambsim_gui.record import chain

        last = self._query("SELECT id, hash FROM annotations ORDER BY id DESC LIMIT 1").fetchone()
        if last is None:
            ident, prev = 1, chain.start(self.genesis(), "annotations")
        else:
            ident, prev = int(last[0]) + 1, bytes(last[1])
        note, row = annotation_row(prev, ident, t, text, call_id, author, supersedes)
        try:
            with _transaction(self.conn):
                self.conn.execute("INSERT INTO annotations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        except sqlite3.Error as exc:
            raise SessionError(f"cannot save the annotation in {self.path}: {exc}") from None
        return note

    def genesis(self) -> bytes:
        from ambsim_gui.record import chain

        files = [(f.kind, f.name, f.sha256) for f in self.files()]
        return chain.genesis(self.meta, files)


def upgrade_session(path: str | os.PathLike[str]) -> int:
    """Rewrite a session older than the schemas read as they are (schema 0) in the oldest of
    those, in place (atomically); the old file is kept beside it as ``<name>.schema<N>.bak``.
    Returns the schema it had. A schema-1 file is left as it is: rewriting its events in
    blocks would replace the hash chains it was recorded with."""
    p = Path(path)
    with SessionFile.open(p) as old:
        if not old.migrated_now or old.migrated_from is None:
            return old.info.schema_version
        version = old.migrated_from
        fresh = p.with_name(p.name + ".upgrade")
        fresh.unlink(missing_ok=True)
        target = sqlite3.connect(fresh)
        try:
            old.conn.backup(target)
        finally:
            target.close()
    backup = p.with_name(f"{p.name}.schema{version}.bak")
    os.replace(p, backup)
    os.replace(fresh, p)
    with contextlib.closing(sqlite3.connect(p)) as conn:
        configure(conn)
    return version
