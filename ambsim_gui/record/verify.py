"""Verifying a session: its hash chains are intact and its events are what a replay gives.

``verify(path)`` first walks every hash chain (commands, events, annotations) from the
session's genesis and checks the stored files against their SHA-256, reporting the first row
whose content does not match its hash (``Tampered``). Schema 2 chains events by block: a
changed event is found in its block, and the re-simulation then names the event itself. It
then re-simulates the shift from the stored scenario, seed and settings, applying the recorded
commands with ``Engine.replay``, and compares every event the engine emits with the recorded
one, as canonical JSON: the first mismatch is a ``Divergence``. Stored feedback is checked
against feedback recomputed from the recorded events.

A recording that did not reach the end of the shift (the desk was closed early, or the process
was killed) is verified as far as it goes: the re-simulation stops once every recorded event
has been matched, which is at least "up to the last command". So is a salvaged session
(``reader.salvage_session``), whose events may end before its last command. A session never
closed whose log (``-wal``) was not copied with it is refused (``SessionIncomplete``): what it
holds is only what had been checkpointed into the file, and would verify "identical" while
missing the rest.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ambsim_gui.assess.feedback import FEEDBACK_FORMAT, FeedbackProjection
from ambsim_gui.record import blocks, chain
from ambsim_gui.record.codec import (
    CodecError,
    canonical,
    command_from_json,
    event_json,
)
from ambsim_gui.record.reader import SessionFile, clock
from ambsim_gui.record.replay import Rebuilt, new_engine, rebuild
from ambsim_gui.record.schema import SessionError, SessionIncomplete
from ambsim_gui.sim import events as ev

Status = Literal["identical", "diverged", "tampered"]


@dataclass(frozen=True)
class Tampered:
    """The first row whose stored content does not match its hash (or its neighbours)."""

    table: str  # meta | scenario | commands | events | annotations | feedback
    row: str  # the row's seq / id / name; for a block of events "first-last"
    reason: str
    unit: str = "row"  # or "block" (schema 2's events)

    def describe(self) -> str:
        return f"tampered: {self.table} {self.unit} {self.row}: {self.reason}"


@dataclass(frozen=True)
class Divergence:
    """The first event where the re-simulation and the recording differ."""

    seq: int
    expected: str | None  # what the re-simulation emitted ("kind at t"), None: nothing more
    recorded: str | None  # what the session holds there, None: the recording ended
    detail: str = ""

    def describe(self) -> str:
        expected = self.expected or "nothing (the re-simulation ended)"
        recorded = self.recorded or "nothing (the recording ended)"
        text = f"diverged at event {self.seq}: expected {expected}, recorded {recorded}"
        return f"{text}; {self.detail}" if self.detail else text


@dataclass
class VerifyResult:
    """What ``verify`` found; ``message`` is the line the command line prints."""

    path: str
    status: Status
    events: int
    commands: int
    annotations: int
    complete: bool  # the recording reaches the end of the shift
    closed: bool  # the recorder closed the file (False: it was killed, or still running)
    last_t: float  # time of the last recorded event or command
    tampered: Tampered | None = None
    divergence: Divergence | None = None
    notes: list[str] = field(default_factory=list)
    migrated_from: int | None = None
    last_event_t: float | None = None  # time of the last recorded event
    recovered: bool = False  # not closed, and read with the log (-wal) a killed recorder left
    salvaged: dict[str, Any] | None = None  # a salvaged session: from what, how much was kept

    @property
    def ok(self) -> bool:
        return self.status == "identical"

    @property
    def message(self) -> str:
        if self.tampered is not None:
            return self.tampered.describe()
        if self.divergence is not None:
            return self.divergence.describe()
        counts = f"{self.events} events, {self.commands} commands"
        if self.salvaged is not None:
            source = self.salvaged.get("from") or "another file"
            whole = ", the whole shift" if self.complete else ""
            upto = "" if self.last_event_t is None else f" up to {_clock(self.last_event_t)}"
            return (
                f"identical as far as the salvaged recording goes: {self.events} events{upto}, "
                f"{self.commands} commands{whole}, salvaged from {source}"
            )
        crash = " (not closed properly: crash recovered from its -wal log)"
        if self.complete:
            return f"identical: {counts}, the whole shift" + (crash if self.recovered else "")
        if self.closed:
            why = "closed early"
        elif self.recovered:
            why = "cut short" + crash
        else:
            why = "cut short (the recorder did not close it)"
        return (
            f"identical up to the last command: {counts}, recording {why} "
            f"at {_clock(self.last_t)} into the shift"
        )


_clock = clock


def _describe(kind: str, t: float) -> str:
    return f"{kind} at t={t:.3f} ({_clock(t)})"


# --- the chains ----------------------------------------------------------------------------------


def check_chains(session: SessionFile) -> Tampered | None:
    """The first tampered row of any table, or None when every chain holds."""
    files = session.files()
    for f in files:
        if f.data is not None and chain.sha256_hex(f.data) != f.sha256:
            return Tampered("scenario", f"{f.kind}/{f.name}", "its bytes do not match its SHA-256")
    genesis = session.genesis()

    prev = chain.start(genesis, "commands")
    expected_seq = 0
    for seq, t, wall, body, row_prev, row_hash in session.command_rows():
        row_prev, row_hash = bytes(row_prev), bytes(row_hash)
        if seq != expected_seq:
            return Tampered("commands", str(expected_seq), "missing (the sequence skips it)")
        own = chain.command_hash(row_prev, seq, float(t), float(wall), body) == row_hash
        if row_prev != prev:
            if seq == 0:
                return _first_link("commands", own, str(seq))
            return Tampered("commands", str(seq), "it does not follow the row before it")
        if not own:
            return Tampered("commands", str(seq), "its content does not match its hash")
        try:
            command_from_json(body)
        except CodecError as exc:
            return Tampered("commands", str(seq), f"it does not parse: {exc}")
        prev = row_hash
        expected_seq += 1

    found = (check_event_blocks if session.blocks else check_event_rows)(session, genesis)
    if found is not None:
        return found

    prev = chain.start(genesis, "annotations")
    expected_id = 1
    for (
        ident,
        t,
        call_id,
        author,
        text,
        created,
        supersedes,
        row_prev,
        row_hash,
    ) in session.annotation_rows():
        row_prev, row_hash = bytes(row_prev), bytes(row_hash)
        if ident != expected_id:
            return Tampered("annotations", str(expected_id), "missing (the ids skip it)")
        own = (
            chain.annotation_hash(
                row_prev, ident, float(t), call_id, author, text, float(created), supersedes
            )
            == row_hash
        )
        if row_prev != prev:
            if ident == 1:
                return _first_link("annotations", own, str(ident))
            return Tampered("annotations", str(ident), "it does not follow the row before it")
        if not own:
            return Tampered("annotations", str(ident), "its content does not match its hash")
        prev = row_hash
        expected_id += 1
    return None


def _first_link(table: str, own_ok: bool, row: str, unit: str = "row") -> Tampered:
    """What a first row that does not follow its chain's start means."""
    if own_ok:
        return Tampered(
            "meta",
            "header",
            f"the header (meta or the stored scenario) is not the one the {table} chain "
            "starts from",
        )
    return Tampered(table, row, "its content does not match its hash", unit)


def check_event_rows(session: SessionFile, genesis: bytes) -> Tampered | None:
    """Schema 1: every event row chained onto the one before it."""
    prev = chain.start(genesis, "events")
    expected_seq = 0
    for seq, t, kind, body, row_prev, row_hash in session.event_rows():
        row_prev, row_hash = bytes(row_prev), bytes(row_hash)
        if seq != expected_seq:
            return Tampered("events", str(expected_seq), "missing (the sequence skips it)")
        own = chain.event_hash(row_prev, seq, float(t), kind, body) == row_hash
        if row_prev != prev:
            if seq == 0:
                return _first_link("events", own, str(seq))
            return Tampered("events", str(seq), "it does not follow the row before it")
        if not own:
            return Tampered("events", str(seq), "its content does not match its hash")
        prev = row_hash
        expected_seq += 1
    return None


def check_event_blocks(session: SessionFile, genesis: bytes) -> Tampered | None:
    """Schema 2: every block of events chained onto the one before it, over its body."""
    prev = chain.start(genesis, "event_blocks")
    expected_seq = 0
    for seq, n, t_first, t_last, compression, data, row_prev, row_hash in session.block_rows():
        row_prev, row_hash = bytes(row_prev), bytes(row_hash)
        span = f"{seq}-{seq + n - 1}"
        if seq != expected_seq:
            return Tampered("events", str(expected_seq), "missing (the sequence skips it)")
        if n < 1:
            return Tampered("events", span, f"a block of {n} events", "block")
        try:
            body = blocks.inflate(compression, data)
        except CodecError as exc:
            return Tampered("events", span, str(exc), "block")
        own = chain.block_hash(row_prev, seq, n, float(t_first), float(t_last), body) == row_hash
        if row_prev != prev:
            if seq == 0:
                return _first_link("events", own, span, "block")
            return Tampered("events", span, "it does not follow the block before it", "block")
        if not own:
            return Tampered("events", span, "its content does not match its hash", "block")
        prev = row_hash
        expected_seq += n
    return None


def check_closed(session: SessionFile, events: int, commands: int) -> Tampered | None:
    """A closed session has the rows its recorder counted when it closed it (rows cut off the
    end of a chain leave a valid chain behind: only this count can tell)."""
    closed = session.info.closed
    if not closed:
        return None
    for table, have in (("events", events), ("commands", commands)):
        want = closed.get(table)
        if isinstance(want, int) and want != have:
            return Tampered(
                table,
                str(min(want, have)),
                f"the recorder closed the file with {want} {table} rows; it has {have}",
            )
    return None


def check_feedback(session: SessionFile) -> Tampered | None:
    """Stored feedback equals feedback recomputed from the recorded events."""
    stored = {}
    for call_id, text in session.feedback_rows():
        stored[call_id] = text
    mode = session.meta.get("feedback", "own")
    if not stored and (session.migrated_from == 0 or mode != "own"):
        return None  # schema 0 kept no feedback; "none" keeps none; "given" may give none
    if mode == "none":
        return Tampered("feedback", sorted(stored)[0], "this session records no feedback")
    if int(session.meta.get("feedback_format", 1)) != FEEDBACK_FORMAT:
        # derived data written in an older (or newer) form: this program cannot say what that
        # form would have said, so the events, which every view recomputes, are the record
        return None
    recomputed: dict[str, str] = {}
    projection = FeedbackProjection(
        on_record=lambda r: recomputed.__setitem__(r.call_id, canonical(r.to_json_dict()))
    )
    projection.feed_all(session.events())
    for call_id in sorted(set(stored) | set(recomputed)):
        if call_id not in recomputed:
            return Tampered("feedback", call_id, "no such call closed in the recorded events")
        if call_id not in stored:
            if mode == "given":
                continue  # the desk gives the records it chooses (the trainee's, say)
            return Tampered("feedback", call_id, "missing (the recorded events produce it)")
        if stored[call_id] != recomputed[call_id]:
            return Tampered("feedback", call_id, "it differs from the recorded events' feedback")
    return None


# --- the re-simulation ---------------------------------------------------------------------------


class _Stop(BaseException):
    """Ends the re-simulation from inside a listener (a BaseException: the engine catches
    Exception from command handlers, and must not swallow this)."""


def recorded_rows(session: SessionFile) -> list[tuple[str, float, str | ev.Event]]:
    """(kind, t, fields) of every recorded event: the fields as schema 1 stored them
    (canonical JSON), or the event itself (schema 2)."""
    if session.blocks:
        return [(e.KIND, e.t, e) for e in session.events()]
    return [(kind, float(t), body) for _seq, t, kind, body, _p, _h in session.event_rows()]


def _fields_differ(event: ev.Event, recorded: str | ev.Event) -> tuple[str, str] | None:
    """(expected, recorded) canonical JSON when the fields differ, else None."""
    if not isinstance(recorded, str):
        if event == recorded:
            return None
        recorded = event_json(recorded)  # equal text despite ==: a NaN, say
    mine = event_json(event)
    return None if mine == recorded else (mine, recorded)


def resimulate(
    session: SessionFile,
    rebuilt: Rebuilt | None = None,
    *,
    progress: Callable[[float], None] | None = None,
) -> tuple[Divergence | None, bool]:
    """Replay the session and compare event by event: (first divergence, complete)."""
    rows = recorded_rows(session)
    n = len(rows)
    # the shift's end is recorded (commands given after it are rejected, and recorded too)
    complete = any(row[0] == ev.ShiftEnded.KIND for row in reversed(rows))
    if n == 0:
        return None, False
    rebuilt = rebuild(session) if rebuilt is None else rebuilt
    engine = new_engine(session, rebuilt)
    state = {"i": 0}
    found: list[Divergence] = []
    end_s = max(engine.end_s, 1.0)

    def listen(event: ev.Event) -> None:
        i = state["i"]
        state["i"] = i + 1
        if i >= n:
            found.append(
                Divergence(i, _describe(event.KIND, event.t), None, "the re-simulation goes on")
            )
            raise _Stop
        kind, t, fields = rows[i]
        if event.KIND != kind or event.t != t:
            found.append(Divergence(i, _describe(event.KIND, event.t), _describe(kind, t)))
            raise _Stop
        differ = _fields_differ(event, fields)
        if differ is not None:
            found.append(
                Divergence(
                    i,
                    _describe(event.KIND, event.t),
                    _describe(kind, t),
                    f"fields differ: expected {differ[0]}, recorded {differ[1]}",
                )
            )
            raise _Stop
        if i + 1 == n and not complete:
            raise _Stop  # every recorded event matched: the recording ends here
        if progress is not None and i % 2000 == 0:
            progress(min(1.0, event.t / end_s))

    try:
        engine.subscribe(listen, replay=True)
        engine.replay(session.commands())
    except _Stop:
        pass
    if found:
        return found[0], complete
    if state["i"] < n:
        kind, t, _ = rows[state["i"]]
        return Divergence(state["i"], None, _describe(kind, t)), complete
    return None, complete


def pinpoint(session: SessionFile, tampered: Tampered) -> Tampered:
    """A tampered block of events, with the first event in it that the re-simulation does not
    give (a block has one hash: only the re-simulation can tell which of its events changed)."""
    first, _, last = tampered.row.partition("-")
    try:
        divergence, _ = resimulate(session)
    except (SessionError, CodecError):
        return tampered
    if divergence is None or not int(first) <= divergence.seq <= int(last or first):
        return tampered
    reason = f"{tampered.reason}; event {divergence.seq} is not what the re-simulation gives"
    return Tampered(tampered.table, tampered.row, reason, tampered.unit)


def verify(
    source: str | os.PathLike[str] | SessionFile,
    *,
    progress: Callable[[float], None] | None = None,
) -> VerifyResult:
    """Check a session's chains, then replay it; SessionError if it cannot be opened/built."""
    if isinstance(source, SessionFile):
        return _verify(source, progress)
    with SessionFile.open(source) as session:
        return _verify(session, progress)


def _verify(session: SessionFile, progress: Callable[[float], None] | None) -> VerifyResult:
    if session.log_missing:
        raise SessionIncomplete(session.incomplete("verify") or f"{session.path}: not closed")
    events = session.event_count()
    commands = session.command_count()
    annotations = sum(1 for _ in session.annotation_rows())
    last_command = session.last_command_t()
    last = max((x for x in (session.last_event_t(), last_command) if x is not None), default=0.0)
    closed = session.info.closed
    salvaged = closed.get("salvaged") if closed is not None else None
    result = VerifyResult(
        path=str(session.path),
        status="identical",
        events=events,
        commands=commands,
        annotations=annotations,
        complete=False,
        closed=session.info.closed is not None,
        last_t=float(last or 0.0),
        last_event_t=session.last_event_t(),
        migrated_from=session.migrated_from,
        recovered=not session.closed and session.wal_present,
        salvaged=salvaged if isinstance(salvaged, dict) else None,
    )
    if result.recovered:
        result.notes.append(
            "its recorder did not close it (it was killed, or a desk is still recording it): "
            "SQLite read what it had written from the log beside it; keep the -wal file with it"
        )
    if result.salvaged is not None:
        kept = result.salvaged
        if kept.get("problem"):
            result.notes.append(f"the file it was salvaged from: {kept['problem']}")
    if session.migrated_from is not None:
        result.notes.append(
            f"migrated from schema {session.migrated_from}: its hash chains were made by the "
            "migration and prove nothing about changes before it"
        )
    tampered = check_chains(session) or check_closed(session, events, commands)
    if tampered is None:
        try:
            tampered = check_feedback(session)
        except CodecError as exc:
            tampered = Tampered("events", "?", f"an event does not parse: {exc}")
    if tampered is not None:
        result.status = "tampered"
        result.tampered = pinpoint(session, tampered) if tampered.unit == "block" else tampered
        return result
    rebuilt = rebuild(session)
    result.notes += rebuilt.notes
    divergence, complete = resimulate(session, rebuilt, progress=progress)
    result.complete = complete
    if divergence is not None:
        result.status = "diverged"
        result.divergence = divergence
    return result
