"""Opening a session file: clear refusals, migration of old layouts, typed reading, salvage.

``SessionFile.open(path)`` says plainly what is wrong with a file that is not a usable session
(missing, empty, not SQLite, SQLite but not ambsim's, written by a newer ambsim, damaged or
truncated) and raises a ``SessionError`` subclass with that message; nothing else escapes, not
even while rows are read later. Schemas 1 (an event per row) and 2 (events in blocks) are read
as they are; a file of an older schema is copied into memory and migrated there (the file
itself is never changed by reading it); ``upgrade_session`` rewrites it in place when that is
wanted.

Reading never changes the file: it is opened read-only, and without a write-ahead log beside it
as ``immutable`` (SQLite then makes no ``-wal``/``-shm`` files either). A session left by a
killed recorder has its log (``<name>-wal``) beside it: SQLite's WAL recovery reads every
committed transaction from it, and the log stays where it is. A session that was never closed
and has no log beside it lost the transactions the log held (a copy of the main file only):
``SessionFile.incomplete`` says so, and the command line refuses to verify or report it.

A file SQLite cannot read to the end (truncated at some byte, a page overwritten) is a
``SessionDamaged``: ``scan_intact`` reads it as far as SQLite and the hash chains allow, leniently
(``writable_schema``, which lets SQLite read a file shorter than its header says; a first page
that is no longer SQLite's is rebuilt from the session layout), and ``salvage_session`` writes
what is intact into a new session file, closed and marked as salvaged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import struct
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ambsim_gui import paths as project_paths
from ambsim_gui.record import blocks, chain
from ambsim_gui.record.codec import CodecError, canonical, command_from_json, event_from_row
from ambsim_gui.record.schema import (
    APPLICATION_ID,
    BLOCKS_SINCE,
    DDL_V1,
    DDL_V2,
    FORMAT,
    NATIVE_SCHEMAS,
    SCHEMA_VERSION,
    SQLITE_MAGIC,
    NotASession,
    SchemaTooNew,
    SessionCorrupt,
    SessionDamaged,
    SessionError,
    SessionIncomplete,
    configure,
    meta_value,
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
    run_out_s: float | None = None
    """The run-out after the shift's end (``Engine(run_out_s=...)``); None: the run ended with
    the shift, as every desk session and every session recorded before run-outs existed."""
    call_distribution: str = "shared"
    """How calls were offered to the seats (``Engine(call_distribution=...)``); a session
    recorded before the call distributor existed had every seat race for every call."""

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
            run_out_s=None if meta.get("run_out_s") is None else float(meta["run_out_s"]),
            call_distribution=text("call_distribution") or "shared",
        )


HEADER_BYTES = 100
"""SQLite's file header: the start of the first page."""
DEFAULT_PAGE_SIZE = 4096
"""The page size SQLite gives a new file, and so every session file the recorder makes."""
_MARKER = FORMAT.encode()
_MARKER_SCAN = 1 << 20
_DAMAGE_CODES = frozenset({11, 26})  # SQLITE_CORRUPT, SQLITE_NOTADB (by their primary code)


def clock(seconds: float) -> str:
    """Simulated seconds as h:mm:ss into the shift."""
    whole = max(0, round(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _wal_of(path: Path) -> Path:
    return Path(f"{path}-wal")


@dataclass(frozen=True)
class FileHeader:
    """What the first bytes of a file say, read before SQLite sees it."""

    size: int  # bytes in the file
    head: bytes  # its first HEADER_BYTES bytes (fewer in a shorter file)
    wal: bool  # a non-empty write-ahead log (``<name>-wal``) lies beside it
    journal: bool  # a rollback journal (``<name>-journal``) lies beside it
    marker: bool  # ambsim's format name is in its first pages (a session, if damaged)

    @property
    def sqlite(self) -> bool:
        return self.head[: len(SQLITE_MAGIC)] == SQLITE_MAGIC

    @property
    def complete(self) -> bool:
        """The whole 100-byte header is there."""
        return len(self.head) >= HEADER_BYTES

    @property
    def page_size(self) -> int:
        if not (self.sqlite and self.complete):
            return DEFAULT_PAGE_SIZE
        value = struct.unpack(">H", self.head[16:18])[0]
        return 65536 if value == 1 else value or DEFAULT_PAGE_SIZE

    @property
    def application_id(self) -> int | None:
        if not self.sqlite or len(self.head) < 72:
            return None
        return int(struct.unpack(">I", self.head[68:72])[0])

    @property
    def wal_mode(self) -> bool:
        """The file is in WAL mode (as every session the recorder writes)."""
        return self.complete and self.head[18] == 2 and self.head[19] == 2

    @property
    def expected_size(self) -> int | None:
        """The size the header says the file has, when SQLite keeps that figure valid."""
        if not (self.sqlite and self.complete) or self.head[24:28] != self.head[92:96]:
            return None
        pages = int(struct.unpack(">I", self.head[28:32])[0])
        return pages * self.page_size if pages else None

    @property
    def ambsim(self) -> bool:
        """It says it is an ambsim session (its application_id, or its format in meta)."""
        return self.application_id == APPLICATION_ID or self.marker


def _read_header(path: Path) -> FileHeader:
    """The header of an existing file; NotASession for one that is missing or unreadable."""
    if not path.exists():
        raise NotASession(f"{path}: no such file")
    if path.is_dir():
        raise NotASession(f"{path}: is a folder, not a session file")
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(HEADER_BYTES)
            marker = False
            app_id = head[68:72] if head[:16] == SQLITE_MAGIC else b""
            if app_id != APPLICATION_ID.to_bytes(4, "big"):
                # no ambsim application_id (schema 0 had none; a damaged first page...):
                # look for the meta table's format in the first pages
                marker = _MARKER in head + handle.read(_MARKER_SCAN)
    except OSError as exc:
        raise NotASession(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    wal = _wal_of(path)
    journal = Path(f"{path}-journal")
    return FileHeader(
        size=size,
        head=head,
        wal=wal.is_file() and wal.stat().st_size > 0,
        journal=journal.is_file() and journal.stat().st_size > 0,
        marker=marker,
    )


def _probe(path: Path) -> FileHeader:
    """Refuse files that are plainly not sessions, before SQLite sees them."""
    header = _read_header(path)
    if not header.size:
        raise NotASession(f"{path}: empty file: not a session (a recording that never started?)")
    if not header.sqlite:
        if header.marker:
            return header  # a session whose first page is gone: damaged, not foreign
        if _cut_magic(header.head):
            return header  # the start of an SQLite header, cut short
        raise NotASession(f"{path}: not an ambsim session file (not an SQLite database)")
    app_id = header.application_id
    if app_id is not None and app_id != APPLICATION_ID and not header.marker:
        if _header_problem(header) is not None:
            raise NotASession(
                f"{path}: an SQLite database, but not an ambsim session (and damaged or "
                "truncated too)"
            )
    return header


def _cut_magic(head: bytes) -> bool:
    """The first bytes of SQLite's header, and nothing after them (a file cut very short)."""
    return 6 <= len(head) < len(SQLITE_MAGIC) and SQLITE_MAGIC.startswith(head)


def _header_problem(header: FileHeader) -> str | None:
    """What the header alone shows to be wrong with the file (None: nothing)."""
    size = header.size
    if not header.sqlite:
        if _cut_magic(header.head):
            return f"only {_plural(size, 'byte')}, shorter than the SQLite header (100 bytes)"
        return "its first page is no longer an SQLite header (overwritten?)"
    if not header.complete:
        return f"only {_plural(size, 'byte')}, shorter than the SQLite header (100 bytes)"
    page = header.page_size
    if size < page:
        return f"only {_plural(size, 'byte')}, shorter than its first page ({page:,} bytes)"
    if header.wal or header.journal:
        return None  # the log holds pages the file does not have yet
    expected = header.expected_size
    if expected is not None and size < expected:
        return f"truncated: {size:,} bytes where its header says {expected:,}"
    if size % page:
        return f"truncated: it ends {size % page:,} bytes into a page of {page:,}"
    return None


def _uri(path: Path, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{path.resolve().as_uri()}?{query}"


def _connect(path: Path, writable: bool, header: FileHeader) -> sqlite3.Connection:
    """A connection to read (read-only: with the log beside it, SQLite recovers what it
    holds; without one, immutable, so no side files are made), or to write annotations."""
    if writable:
        if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
            raise SessionError(f"{path}: the file or its folder is read-only")
        return sqlite3.connect(path, isolation_level=None)
    if header.wal or header.journal:
        return sqlite3.connect(_uri(path, mode="ro"), uri=True, isolation_level=None)
    return sqlite3.connect(_uri(path, immutable="1"), uri=True, isolation_level=None)


def is_damage(exc: sqlite3.Error) -> bool:
    """SQLite found the file damaged (a malformed page, a page that is not a database's)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _DAMAGE_CODES
    text = str(exc)
    return "malformed" in text or "not a database" in text


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
        header: FileHeader | None = None,
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
        self.header = header
        self.wal_present = header is not None and header.wal
        """Its write-ahead log lay beside it when it was opened (what a killed recorder, or one
        still running, leaves: SQLite recovered the transactions it holds)."""
        self._events: list[ev.Event] | None = None
        self.blocks = self.info.schema_version >= BLOCKS_SINCE
        """Events stored in blocks (schema 2) rather than a row each (schema 1)."""

    # --- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, writable: bool = False) -> SessionFile:
        """Open a session; SessionError (NotASession, SchemaTooNew, SessionDamaged...) says
        what is wrong.

        ``writable`` is needed only to add annotations (to a closed session); an older schema
        is migrated in memory for reading, and must be upgraded (``upgrade_session``) before
        it can be written.
        """
        p = Path(path)
        header = _probe(p)
        problem = _header_problem(header)
        if problem is not None:
            raise SessionDamaged(damage_message(p, problem))
        try:
            conn = _connect(p, writable, header)
        except sqlite3.Error as exc:
            if header.ambsim and is_damage(exc):
                raise SessionDamaged(damage_message(p, f"SQLite cannot read it: {exc}")) from None
            raise NotASession(f"{p}: cannot open it as a database: {exc}") from None
        try:
            return cls._from_connection(p, conn, writable, header)
        except sqlite3.DatabaseError as exc:
            conn.close()
            if header.ambsim and is_damage(exc):
                raise SessionDamaged(damage_message(p, f"SQLite cannot read it: {exc}")) from None
            raise NotASession(f"{p}: not an ambsim session file ({exc})") from None
        except BaseException:
            conn.close()
            raise

    @classmethod
    def _from_connection(
        cls, path: Path, conn: sqlite3.Connection, writable: bool, header: FileHeader
    ) -> SessionFile:
        # sqlite3.DatabaseError escapes to ``open``: damaged, or not a database
        app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        names = tables(conn)
        if not names:
            raise NotASession(f"{path}: an empty database, not an ambsim session")
        if "meta" not in names:
            raise NotASession(
                f"{path}: an SQLite database, but not an ambsim session (it has no meta table)"
            )
        meta = read_meta(conn)
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
            if meta.get("closed") is None and meta.get("migrated_from") is None:
                # a recorder may still be writing it; and closing this connection would fold
                # the log into the file, which then no longer shows that it was never closed
                raise SessionError(
                    f"{path}: this session was not closed by its recorder (a desk still "
                    "recording it, or one that was killed): it can be replayed and verified "
                    "but not annotated; annotate a closed copy "
                    f"(ambsim replay {path} --salvage COPY.ambsession)"
                )
            configure(conn)
        return cls(path, conn, meta, writable=writable, migrated_from=migrated_from, header=header)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SessionFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what it holds -----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Its recorder closed it (a schema-0 file, which never said so, counts as closed)."""
        return self.info.closed is not None or self.migrated_from is not None

    @property
    def log_missing(self) -> bool:
        """Never closed, and no write-ahead log beside it: what its recorder wrote since the
        last checkpoint was in that log, and is not in this file (a copy of the file alone)."""
        header = self.header
        return (
            not self.closed
            and header is not None
            and header.wal_mode
            and not header.wal
            and not header.journal
        )

    def incomplete(self, doing: str = "verify") -> str | None:
        """Why this session cannot be verified or reported as it is (None: it can): it was
        never closed and its log is missing, or it holds no events. ``doing`` names the
        refused action for the message ("verify", "report")."""
        if self.log_missing:
            return log_missing_message(self)
        if self.event_count() == 0:
            return (
                f"{self.path}: this session holds no events: nothing was recorded (the "
                f"recording stopped before the shift began?), so there is nothing to {doing}"
            )
        return None

    # --- reading -----------------------------------------------------------------------------

    def _failed(self, exc: sqlite3.DatabaseError) -> SessionError:
        if is_damage(exc) and not self.migrated_now:
            return SessionDamaged(damage_message(self.path, f"SQLite cannot read it: {exc}"))
        return SessionCorrupt(f"{self.path}: cannot read it: {exc}")

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, args)
        except sqlite3.DatabaseError as exc:
            raise self._failed(exc) from None

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> Iterator[Any]:
        """The rows of a query; a page SQLite cannot read on the way is a SessionDamaged."""
        cursor = self._query(sql, args)
        while True:
            try:
                row = cursor.fetchone()
            except sqlite3.DatabaseError as exc:
                raise self._failed(exc) from None
            if row is None:
                return
            yield row

    def _value(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        try:
            row = self._query(sql, args).fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._failed(exc) from None
        return None if row is None else row[0]

    def files(self) -> list[StoredFile]:
        """The scenario and the files its world was built from, decompressed."""
        out = []
        for kind, name, sha, shipped, compression, data in self._rows(
            "SELECT kind, name, sha256, shipped, compression, data FROM scenario "
            "ORDER BY kind, name"
        ):
            raw: bytes | None = None
            if data is not None:
                try:
                    raw = zlib.decompress(data) if compression == "zlib" else bytes(data)
                except zlib.error as exc:
                    if self.migrated_now:
                        raise SessionCorrupt(f"{self.path}: stored {kind} {name}: {exc}") from None
                    problem = f"the stored {kind} {name} does not decompress ({exc})"
                    raise SessionDamaged(damage_message(self.path, problem)) from None
            out.append(StoredFile(kind, name, sha, bool(shipped), raw))
        return out

    def scenario_text(self) -> str:
        for f in self.files():
            if f.kind == "scenario" and f.data is not None:
                return f.data.decode("utf-8")
        raise SessionCorrupt(f"{self.path}: the scenario's text is not stored")

    def command_count(self) -> int:
        return int(self._value("SELECT count(*) FROM commands"))

    def event_count(self) -> int:
        if self.blocks:
            return int(self._value("SELECT coalesce(sum(n), 0) FROM event_blocks"))
        return int(self._value("SELECT count(*) FROM events"))

    def last_event_t(self) -> float | None:
        """The time of the last recorded event (None: no event)."""
        sql = "SELECT max(t_last) FROM event_blocks" if self.blocks else "SELECT max(t) FROM events"
        value = self._value(sql)
        return None if value is None else float(value)

    def last_command_t(self) -> float | None:
        """The time of the last recorded command (None: no command)."""
        value = self._value("SELECT max(t) FROM commands")
        return None if value is None else float(value)

    def command_rows(self) -> Iterator[tuple[int, float, float, str, bytes, bytes]]:
        yield from self._rows(
            "SELECT seq, t, wall, json, prev_hash, hash FROM commands ORDER BY seq"
        )

    def event_rows(self) -> Iterator[tuple[int, float, str, str, bytes, bytes]]:
        """Schema 1's event rows as stored (schema 2 has none: see ``block_rows``)."""
        if self.blocks:
            return
        yield from self._rows("SELECT seq, t, kind, json, prev_hash, hash FROM events ORDER BY seq")

    def block_rows(self) -> Iterator[tuple[int, int, float, float, str, bytes, bytes, bytes]]:
        """Schema 2's event blocks as stored (schema 1 has none: see ``event_rows``)."""
        if not self.blocks:
            return
        yield from self._rows(
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
        for seq, t, kind, text in self._rows("SELECT seq, t, kind, json FROM events ORDER BY seq"):
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
            json.loads(text) for (text,) in self._rows("SELECT json FROM feedback ORDER BY seq")
        ]

    def feedback_rows(self) -> Iterator[tuple[str, str]]:
        """(call_id, JSON text) of every stored feedback record, as stored."""
        yield from self._rows("SELECT call_id, json FROM feedback")

    def annotation_rows(self) -> Iterator[tuple[Any, ...]]:
        yield from self._rows(
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

        try:
            last = self._query(
                "SELECT id, hash FROM annotations ORDER BY id DESC LIMIT 1"
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._failed(exc) from None
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


# --- what a session that cannot be used as it is still holds -----------------------------------


def log_missing_message(session: SessionFile) -> str:
    """For people: a session never closed, copied without its write-ahead log."""
    commands = session.command_count()
    events = session.event_count()
    wal = _wal_of(session.path).name
    if not commands and not events:
        holds = "only the session's header: 0 commands, 0 events"
    else:
        last = max(
            (t for t in (session.last_event_t(), session.last_command_t()) if t is not None),
            default=0.0,
        )
        holds = (
            f"{_plural(commands, 'command')} and {_plural(events, 'event')}, "
            f"up to {clock(last)} into the shift"
        )
    lines = [
        f"{session.path}: this session was never closed, and its log ({wal}) is not beside "
        "it: its recorder keeps what it wrote last in that -wal file until it closes the "
        "session, so the -wal file must be copied with it.",
        f"  This file alone holds {holds}.",
        f"  Copy its -wal file (from the folder it was recorded in) beside it as {wal} and "
        "try again",
    ]
    if commands or events:
        lines[-1] += f", or keep what this file holds: ambsim replay {session.path} --salvage "
        lines[-1] += "NEW.ambsession"
    return "\n".join(lines)


_SCHEMA_DDL = {1: DDL_V1, 2: DDL_V2}
_SHIPPED_ROOTS = {
    "scenario": (project_paths.SCENARIOS,),
    "map": (project_paths.RESOURCES / "maps",),
    "protocol": (project_paths.RESOURCES / "triage",),
    "cards": (project_paths.RESOURCES / "cards",),
}


class _Rows:
    """A query's rows one at a time, stopping at the first that SQLite cannot read (``error``
    then says why): how a damaged file is read as far as it goes."""

    def __init__(self, conn: sqlite3.Connection, sql: str, args: tuple[Any, ...] = ()) -> None:
        self.conn = conn
        self.sql = sql
        self.args = args
        self.error: str | None = None

    def __iter__(self) -> Iterator[Any]:
        try:
            cursor = self.conn.execute(self.sql, self.args)
            while True:
                row = cursor.fetchone()
                if row is None:
                    return
                yield row
        except sqlite3.Error as exc:
            self.error = str(exc)


@dataclass
class Intact:
    """What ``scan_intact`` could read of a session file: every row up to where SQLite, or the
    row's hash chain, stops, table by table."""

    path: Path
    problem: str | None = None  # what is wrong with the file as a whole (None: nothing seen)
    unreadable: str | None = None  # why nothing of it can be checked (None: something can)
    schema: int | None = None
    meta_rows: list[tuple[str, str]] = field(default_factory=list)  # as stored
    meta: dict[str, Any] = field(default_factory=dict)
    files: list[tuple[str, str, str, int, str, bytes | None]] = field(default_factory=list)
    commands: list[tuple[Any, ...]] = field(default_factory=list)  # rows, chain checked
    events: list[tuple[Any, ...]] = field(default_factory=list)  # blocks (2) or rows (1)
    annotations: list[tuple[Any, ...]] = field(default_factory=list)
    feedback: list[tuple[str, int, str]] = field(default_factory=list)  # as stored
    stops: dict[str, str] = field(default_factory=dict)
    """table -> why what is kept of it ends there (absent: the table was read to its end)"""
    notes: list[str] = field(default_factory=list)
    wal_missing: bool = False  # never closed, and no log beside it

    @property
    def closed(self) -> dict[str, Any] | None:
        closed = self.meta.get("closed")
        return closed if isinstance(closed, dict) else None

    @property
    def event_count(self) -> int:
        if self.schema == 1:
            return len(self.events)
        return sum(int(row[1]) for row in self.events)

    @property
    def last_event_t(self) -> float | None:
        if not self.events:
            return None
        return float(self.events[-1][1] if self.schema == 1 else self.events[-1][3])

    @property
    def last_command_t(self) -> float | None:
        return float(self.commands[-1][1]) if self.commands else None

    def _total(self, table: str) -> int | None:
        closed = self.closed
        value = None if closed is None else closed.get(table)
        return value if isinstance(value, int) else None

    def counts(self) -> str:
        """'47 of 140 commands (up to 0:41:10 into the shift), 430 events (...)'."""

        def part(n: int, total: int | None, word: str, last: float | None) -> str:
            if total is None:
                text = _plural(n, word)
            else:
                text = f"all {n:,} {word}s" if total == n else f"{n:,} of {total:,} {word}s"
            return text if last is None else f"{text} (up to {clock(last)} into the shift)"

        parts = [
            part(len(self.commands), self._total("commands"), "command", self.last_command_t),
            part(self.event_count, self._total("events"), "event", self.last_event_t),
        ]
        if self.annotations:
            parts.append(_plural(len(self.annotations), "annotation"))
        return ", ".join(parts)

    def summary(self) -> str:
        if self.unreadable is not None:
            return f"nothing of it can be read: {self.unreadable}"
        text = f"still intact: {self.counts()}"
        stops = [f"{table}: {why}" for table, why in self.stops.items() if table in _STOPS_SHOWN]
        if stops:
            text += "\n  where it stops: " + "; ".join(stops)
        return text

    @property
    def salvageable(self) -> bool:
        return self.unreadable is None and bool(self.commands or self.events)


_STOPS_SHOWN = ("meta", "scenario", "commands", "events", "annotations")


def damage_message(path: str | os.PathLike[str], problem: str) -> str:
    """For people: a damaged or truncated session file, and what of it is still intact."""
    p = Path(path)
    head = f"{p}: damaged or truncated session file: {problem}"
    try:
        intact = scan_intact(p)
    except SessionError as exc:
        return f"{head}\n  nothing of it can be read: {exc}"
    lines = [head, f"  {intact.summary()}"]
    if intact.salvageable:
        lines.append(f"  to keep what is intact: ambsim replay {p} --salvage NEW.ambsession")
    return "\n".join(lines)


def _lenient(uri: str) -> sqlite3.Connection | None:
    """A read-only connection that reads as much of a damaged file as SQLite can
    (``writable_schema`` lets it read a file shorter than its header says); None when even
    its table list cannot be read."""
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        conn.execute("PRAGMA writable_schema=ON")
        if "meta" in tables(conn):
            return conn
    except sqlite3.Error:
        pass
    if conn is not None:
        conn.close()
    return None


def _rebuilt_first_page(source: Path, target: Path, page_size: int, schema: int) -> None:
    """``source`` with its first page (SQLite's header and table list) replaced by the one
    the recorder makes for a new session of ``schema``: the tables' root pages are the same in
    every session file, so the rest of the file can be read again."""
    template = target.with_name(target.name + ".template")
    conn = sqlite3.connect(template)
    try:
        conn.execute(f"PRAGMA page_size={page_size}")
        conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version={schema}")
        configure(conn)
        conn.executescript(_SCHEMA_DDL[schema])
    finally:
        conn.close()
    first = bytearray(template.read_bytes()[:page_size])
    size = source.stat().st_size
    pages = -(-size // page_size)
    first[28:32] = pages.to_bytes(4, "big")
    first[92:96] = first[24:28]
    with source.open("rb") as src, target.open("wb") as out:
        out.write(first)
        src.seek(page_size)
        while chunk := src.read(1 << 20):
            out.write(chunk)
        out.write(b"\x00" * (pages * page_size - size))


def _scan_connection(
    path: Path, header: FileHeader, folder: Path, intact: Intact
) -> sqlite3.Connection | None:
    if header.sqlite:
        mode = {"mode": "ro"} if header.wal or header.journal else {"immutable": "1"}
        conn = _lenient(_uri(path, **mode))
        if conn is not None:
            return conn
    page = header.page_size
    if header.size <= page:
        return None
    for schema in (2, 1):
        copy = folder / f"rebuilt-schema{schema}.ambsession"
        try:
            _rebuilt_first_page(path, copy, page, schema)
        except (OSError, sqlite3.Error):
            return None
        conn = _lenient(_uri(copy, immutable="1"))
        if conn is None:
            continue
        meta = {str(k): meta_value(str(v)) for k, v in _Rows(conn, "SELECT key, value FROM meta")}
        if meta.get("schema_version") == schema and meta.get("format") == FORMAT:
            intact.notes.append(
                "its first page (SQLite's header and table list) is unreadable: it was "
                "rebuilt from the session layout to read the rest"
            )
            return conn
        conn.close()
    return None


def scan_intact(path: str | os.PathLike[str]) -> Intact:
    """Read a session file as far as SQLite and its hash chains allow, table by table; never
    raises for damage (``Intact.unreadable`` says when nothing can be read). NotASession or
    SchemaTooNew when it is plainly not a session this program reads."""
    p = Path(path)
    header = _probe(p)
    if header.sqlite and header.application_id is not None and not header.ambsim:
        raise NotASession(f"{p}: an SQLite database, but not an ambsim session")
    intact = Intact(p, problem=_header_problem(header))
    if header.sqlite and (not header.complete or header.size < header.page_size):
        intact.unreadable = "its first page is incomplete"
        return intact
    if not header.sqlite and not header.marker:
        intact.unreadable = "there is not even an SQLite header"
        return intact
    with tempfile.TemporaryDirectory(prefix="ambsim-scan-") as tmp:
        conn = _scan_connection(p, header, Path(tmp), intact)
        if conn is None:
            intact.unreadable = "SQLite cannot read its table list"
            return intact
        try:
            _scan(conn, header, intact)
        finally:
            conn.close()
    return intact


def _scan(conn: sqlite3.Connection, header: FileHeader, intact: Intact) -> None:
    rows = _Rows(conn, "SELECT key, value FROM meta NOT INDEXED")
    for key, value in rows:
        if isinstance(key, str) and isinstance(value, str):
            intact.meta_rows.append((key, value))
            intact.meta[key] = meta_value(value)
    if rows.error is not None:
        intact.stops["meta"] = f"unreadable: {rows.error}"
    meta = intact.meta
    if not meta:
        intact.unreadable = "its header (the meta table) cannot be read"
        return
    if meta.get("format") != FORMAT and header.application_id != APPLICATION_ID:
        raise NotASession(f"{intact.path}: an SQLite database, but not an ambsim session")
    try:
        version = int(meta.get("schema_version", -1))
    except (TypeError, ValueError):
        version = -1
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(too_new_message(str(intact.path), meta, version))
    if version not in _SCHEMA_DDL:
        intact.unreadable = (
            f"its header says schema {version}: only schemas 1 and 2 have hash chains to tell "
            "intact rows by"
        )
        return
    intact.schema = version
    intact.wal_missing = (
        intact.closed is None
        and meta.get("migrated_from") is None
        and header.wal_mode
        and not header.wal
    )
    _scan_files(conn, intact)
    genesis = chain.genesis(meta, [(kind, name, sha) for kind, name, sha, *_ in intact.files])
    _scan_commands(conn, genesis, intact)
    if version >= BLOCKS_SINCE:
        _scan_blocks(conn, genesis, intact)
    else:
        _scan_event_rows(conn, genesis, intact)
    _scan_annotations(conn, genesis, intact)
    rows = _Rows(conn, "SELECT call_id, seq, json FROM feedback NOT INDEXED")
    intact.feedback = [
        (c, int(s), j) for c, s, j in rows if isinstance(c, str) and isinstance(j, str)
    ]
    if rows.error is not None:
        intact.stops["feedback"] = f"unreadable: {rows.error}"


def _shipped_copy(kind: str, name: str, sha: str) -> bytes | None:
    """The shipped file a session stored, when it is still there unchanged."""
    for root in _SHIPPED_ROOTS.get(kind, ()):
        candidate = (root / name).resolve()
        try:
            candidate.relative_to(root.resolve())
            data = candidate.read_bytes()
        except (ValueError, OSError):
            continue
        if chain.sha256_hex(data) == sha:
            return data
    return None


def _scan_files(conn: sqlite3.Connection, intact: Intact) -> None:
    rows = _Rows(
        conn, "SELECT rowid, kind, name, sha256, shipped, compression FROM scenario NOT INDEXED"
    )
    listed = list(rows)
    if rows.error is not None:
        intact.stops["scenario"] = f"its list of stored files is unreadable: {rows.error}"
    for rowid, kind, name, sha, shipped, compression in listed:
        data: bytes | None = None
        with contextlib.suppress(sqlite3.Error, TypeError):
            row = conn.execute("SELECT data FROM scenario WHERE rowid = ?", (rowid,)).fetchone()
            data = None if row is None or row[0] is None else bytes(row[0])
        if data is not None:
            try:
                raw = zlib.decompress(data) if compression == "zlib" else data
            except zlib.error:
                raw = None
            if raw is not None and chain.sha256_hex(raw) == sha:
                intact.files.append((kind, name, sha, shipped, compression, data))
                continue
        copy = _shipped_copy(str(kind), str(name), str(sha))
        if copy is not None:
            intact.notes.append(
                f"the stored {kind} {name} is damaged: the shipped file, unchanged since, "
                "is stored instead"
            )
            if kind == "scenario":
                intact.files.append((kind, name, sha, shipped, "none", copy))
            else:
                intact.files.append((kind, name, sha, shipped, "zlib", zlib.compress(copy, 6)))
            continue
        intact.notes.append(f"the stored {kind} {name} is damaged and cannot be read")
        intact.files.append((kind, name, sha, shipped, "none", None))


_ROW_ERRORS = (TypeError, ValueError, AttributeError, struct.error, CodecError, zlib.error)


def _chain_stop(label: str, first: bool, own: bool) -> str:
    """Why a chain stops at row ``label`` ("command 5", "events 100-149")."""
    many = label.startswith("events ")
    if first and own:
        return (
            f"{label} {'do' if many else 'does'} not follow from the session's header (the meta "
            "table or the list of stored files is damaged)"
        )
    return f"{label} {'do not match their' if many else 'does not match its'} hash"


def _scan_commands(conn: sqlite3.Connection, genesis: bytes, intact: Intact) -> None:
    prev = chain.start(genesis, "commands")
    rows = _Rows(conn, "SELECT seq, t, wall, json, prev_hash, hash FROM commands ORDER BY seq")
    kept = intact.commands
    for row in rows:
        seq, t, wall, body, row_prev, row_hash = row
        if seq != len(kept):
            intact.stops["commands"] = f"command {len(kept)} is missing"
            break
        try:
            row_prev, row_hash = bytes(row_prev), bytes(row_hash)
            own = chain.command_hash(row_prev, seq, float(t), float(wall), body) == row_hash
            command_from_json(body)
        except _ROW_ERRORS:
            intact.stops["commands"] = f"command {seq} cannot be read"
            break
        if row_prev != prev or not own:
            intact.stops["commands"] = _chain_stop(f"command {seq}", seq == 0, own)
            break
        kept.append((seq, float(t), float(wall), body, row_prev, row_hash))
        prev = row_hash
    if rows.error is not None and "commands" not in intact.stops:
        intact.stops["commands"] = _unreadable_after("command", len(kept), rows.error)


def _unreadable_after(unit: str, kept: int, error: str) -> str:
    if not kept:
        return f"unreadable from the first {unit}: {error}"
    return f"unreadable after {unit} {kept - 1}: {error}"


def _scan_blocks(conn: sqlite3.Connection, genesis: bytes, intact: Intact) -> None:
    prev = chain.start(genesis, "event_blocks")
    rows = _Rows(
        conn,
        "SELECT seq, n, t_first, t_last, compression, data, prev_hash, hash "
        "FROM event_blocks ORDER BY seq",
    )
    kept = intact.events
    seq_next = 0
    for row in rows:
        seq, n, t_first, t_last, compression, data, row_prev, row_hash = row
        if seq != seq_next:
            intact.stops["events"] = f"event {seq_next} is missing"
            break
        try:
            row_prev, row_hash = bytes(row_prev), bytes(row_hash)
            body = blocks.inflate(compression, bytes(data))
            own = (
                int(n) >= 1
                and chain.block_hash(row_prev, seq, n, float(t_first), float(t_last), body)
                == row_hash
            )
        except _ROW_ERRORS:
            intact.stops["events"] = f"events {seq}-{seq + max(int(n), 1) - 1} cannot be read"
            break
        if row_prev != prev or not own:
            label = f"events {seq}-{seq + max(int(n), 1) - 1}"
            intact.stops["events"] = _chain_stop(label, seq == 0, own)
            break
        kept.append(
            (
                seq,
                int(n),
                float(t_first),
                float(t_last),
                compression,
                bytes(data),
                row_prev,
                row_hash,
            )
        )
        prev = row_hash
        seq_next += int(n)
    if rows.error is not None and "events" not in intact.stops:
        intact.stops["events"] = _unreadable_after("event", seq_next, rows.error)


def _scan_event_rows(conn: sqlite3.Connection, genesis: bytes, intact: Intact) -> None:
    prev = chain.start(genesis, "events")
    rows = _Rows(conn, "SELECT seq, t, kind, json, prev_hash, hash FROM events ORDER BY seq")
    kept = intact.events
    for row in rows:
        seq, t, kind, body, row_prev, row_hash = row
        if seq != len(kept):
            intact.stops["events"] = f"event {len(kept)} is missing"
            break
        try:
            row_prev, row_hash = bytes(row_prev), bytes(row_hash)
            own = chain.event_hash(row_prev, seq, float(t), kind, body) == row_hash
        except _ROW_ERRORS:
            intact.stops["events"] = f"event {seq} cannot be read"
            break
        if row_prev != prev or not own:
            intact.stops["events"] = _chain_stop(f"event {seq}", seq == 0, own)
            break
        kept.append((seq, float(t), kind, body, row_prev, row_hash))
        prev = row_hash
    if rows.error is not None and "events" not in intact.stops:
        intact.stops["events"] = _unreadable_after("event", len(kept), rows.error)


def _scan_annotations(conn: sqlite3.Connection, genesis: bytes, intact: Intact) -> None:
    prev = chain.start(genesis, "annotations")
    rows = _Rows(
        conn,
        "SELECT id, t, call_id, author, text, created, supersedes, prev_hash, hash "
        "FROM annotations ORDER BY id",
    )
    kept = intact.annotations
    for row in rows:
        ident, t, call_id, author, text, created, supersedes, row_prev, row_hash = row
        if ident != len(kept) + 1:
            intact.stops["annotations"] = f"annotation {len(kept) + 1} is missing"
            break
        try:
            row_prev, row_hash = bytes(row_prev), bytes(row_hash)
            own = (
                chain.annotation_hash(
                    row_prev, ident, float(t), call_id, author, text, float(created), supersedes
                )
                == row_hash
            )
        except _ROW_ERRORS:
            intact.stops["annotations"] = f"annotation {ident} cannot be read"
            break
        if row_prev != prev or not own:
            intact.stops["annotations"] = _chain_stop(f"annotation {ident}", ident == 1, own)
            break
        kept.append(
            (ident, float(t), call_id, author, text, float(created), supersedes, row_prev, row_hash)
        )
        prev = row_hash
    if rows.error is not None and "annotations" not in intact.stops:
        intact.stops["annotations"] = _unreadable_after("annotation", len(kept), rows.error)


# --- salvage ------------------------------------------------------------------------------------


@dataclass
class Salvaged:
    """What ``salvage_session`` wrote."""

    source: Path
    target: Path
    problem: str | None  # what was wrong with the source (None: it was intact)
    commands: int
    events: int
    annotations: int
    feedback: int
    last_command_t: float | None
    last_event_t: float | None
    shift_ended: bool
    source_counts: str  # what the source still held intact, for people
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        def upto(t: float | None) -> str:
            return "" if t is None else f" (up to {clock(t)} into the shift)"

        kept = [
            _plural(self.commands, "command") + upto(self.last_command_t),
            _plural(self.events, "event") + upto(self.last_event_t),
        ]
        if self.annotations:
            kept.append(_plural(self.annotations, "annotation"))
        if self.feedback:
            kept.append(_plural(self.feedback, "feedback record"))
        out = [f"{self.target}: salvaged from {self.source}: {', '.join(kept)}"]
        if self.problem:
            out.append(f"  the source: {self.problem}; intact in it: {self.source_counts}")
        out += [f"  note: {note}" for note in self.notes]
        return out


def _decode_kept(intact: Intact, kept: list[tuple[Any, ...]]) -> tuple[int, list[ev.Event]]:
    """How many of the kept event rows decode, and their events."""
    events: list[ev.Event] = []
    for i, row in enumerate(kept):
        try:
            if intact.schema == 1:
                events.append(event_from_row(row[2], float(row[1]), row[3]))
            else:
                events += blocks.decode(blocks.inflate(row[4], row[5]), int(row[1]))
        except CodecError:
            return i, events
    return len(kept), events


def salvage_session(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> Salvaged:
    """Write what is intact in ``source`` (see ``scan_intact``) into a new session file.

    Kept: the header and the stored files, every command whose hash chain holds, the events
    whose chain holds (only those before the last kept command's time when commands after it
    are lost: later events may follow from them), annotations whose chain holds, and the
    feedback the kept events give. The rows keep their hashes, so the new file verifies against
    its own genesis; it is closed with a ``closed`` meta saying it was salvaged, from what, and
    how much. Raises SessionError when the target is taken or nothing can be salvaged.
    """
    from ambsim_gui.assess.feedback import CallFeedback, FeedbackProjection

    src, out = Path(source), Path(target)
    if out.exists():
        raise SessionError(f"{out} already exists; choose another name or delete it")
    if not out.parent.is_dir():
        raise SessionError(f"cannot write {out}: folder {out.parent} not found")
    intact = scan_intact(src)
    if intact.unreadable is not None or intact.schema is None:
        raise SessionDamaged(f"{src}: nothing can be salvaged: {intact.unreadable}")
    if not intact.commands and not intact.events:
        why = " (and its log, the -wal file, is missing)" if intact.wal_missing else ""
        raise SessionIncomplete(
            f"{src}: nothing to salvage: it holds no intact command and no intact event{why}"
        )
    notes = list(intact.notes)
    commands = intact.commands
    kept = intact.events
    total = intact._total("commands")
    if "commands" in intact.stops or (total is not None and total > len(commands)):
        # later commands are lost: only events before the last kept command cannot follow
        # from them
        if commands:
            bound = float(commands[-1][1])
            cut = 0
            while cut < len(kept) and _row_end(intact, kept[cut]) < bound:
                cut += 1
        else:
            bound, cut = 0.0, 0
        if cut < len(kept):
            dropped = kept[cut:]
            n = len(dropped) if intact.schema == 1 else sum(int(r[1]) for r in dropped)
            notes.append(
                f"{_plural(n, 'intact event')} from {clock(bound)} on left out: the commands "
                "after the last intact one are lost, and those events may follow from them"
            )
            kept = kept[:cut]
    decoded_rows, events = _decode_kept(intact, kept)
    if decoded_rows < len(kept):
        notes.append("events that this program cannot decode are left out")
        kept = kept[:decoded_rows]
    if not commands and not events:
        raise SessionIncomplete(
            f"{src}: nothing to salvage: no command is intact, and the intact events cannot be "
            "told apart from what the lost commands did"
        )
    if not events:
        notes.append(
            "no event is intact: the salvaged file keeps the commands, but holds nothing to "
            "verify or report"
        )
    records: list[CallFeedback] = []
    FeedbackProjection(on_record=records.append).feed_all(events)
    mode = intact.meta.get("feedback", "own")
    if mode == "own":
        feedback = [(r.call_id, i, canonical(r.to_json_dict())) for i, r in enumerate(records)]
    elif mode == "given":
        want = {r.call_id: canonical(r.to_json_dict()) for r in records}
        feedback = [(c, s, j) for c, s, j in intact.feedback if want.get(c) == j]
    else:
        feedback = []
    n_events = len(events)
    shift_ended = any(isinstance(e, ev.ShiftEnded) for e in reversed(events))
    problem = intact.problem
    if problem is None and intact.wal_missing:
        problem = "never closed, and its log (-wal) is missing"
    if problem is None and (intact.stops or intact.notes):
        problem = "; ".join([f"{k}: {v}" for k, v in intact.stops.items()] + intact.notes)
    closed = {
        "wall": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "events": n_events,
        "commands": len(commands),
        "shift_ended": shift_ended,
        "salvaged": {
            "from": str(src),
            "problem": problem,
            "commands": len(commands),
            "events": n_events,
            "annotations": len(intact.annotations),
            "source_closed": intact.closed,
        },
    }
    _write_salvage(out, intact, commands, kept, feedback, closed)
    return Salvaged(
        source=src,
        target=out,
        problem=problem,
        commands=len(commands),
        events=n_events,
        annotations=len(intact.annotations),
        feedback=len(feedback),
        last_command_t=float(commands[-1][1]) if commands else None,
        last_event_t=events[-1].t if events else None,
        shift_ended=shift_ended,
        source_counts=intact.counts(),
        notes=notes,
    )


def _row_end(intact: Intact, row: tuple[Any, ...]) -> float:
    """The time of the last event in an event row (schema 1) or block (schema 2)."""
    return float(row[1] if intact.schema == 1 else row[3])


def _write_salvage(
    out: Path,
    intact: Intact,
    commands: list[tuple[Any, ...]],
    events: list[tuple[Any, ...]],
    feedback: list[tuple[str, int, str]],
    closed: dict[str, Any],
) -> None:
    schema = intact.schema
    assert schema is not None
    part = out.with_name(out.name + ".part")
    stale = (part, Path(f"{part}-wal"), Path(f"{part}-shm"))
    try:
        for path in stale:
            path.unlink(missing_ok=True)
        conn = sqlite3.connect(part, isolation_level=None)
        try:
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version={schema}")
            configure(conn)
            conn.executescript(_SCHEMA_DDL[schema])
            meta = [(k, v) for k, v in intact.meta_rows if k != "closed"]
            meta.append(("closed", json.dumps(closed)))
            events_sql = (
                "INSERT INTO event_blocks VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                if schema >= BLOCKS_SINCE
                else "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)"
            )
            with _transaction(conn):
                conn.executemany("INSERT INTO meta VALUES (?, ?)", meta)
                conn.executemany("INSERT INTO scenario VALUES (?, ?, ?, ?, ?, ?)", intact.files)
                conn.executemany("INSERT INTO commands VALUES (?, ?, ?, ?, ?, ?)", commands)
                conn.executemany(events_sql, events)
                conn.executemany("INSERT INTO feedback VALUES (?, ?, ?)", feedback)
                conn.executemany(
                    "INSERT INTO annotations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    intact.annotations,
                )
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        for path in (Path(f"{out}-wal"), Path(f"{out}-shm")):
            path.unlink(missing_ok=True)
        os.replace(part, out)
    except (sqlite3.Error, OSError) as exc:
        for path in stale:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        raise SessionError(f"cannot write the salvaged session {out}: {exc}") from None
