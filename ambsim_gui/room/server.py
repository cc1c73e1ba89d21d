"""The room server: one shift's engine and clock, shared by the desks and the instructor.

One job: ``RoomServer`` owns the ``Engine`` (built as a headless room: virtual colleagues in
every seat) and its ``RoomClock``, and is the only authority over them. A desk's command is
stamped with the desk's seat and applied at the time the clock has reached, through the
engine's one command door; the desk gets the events it caused and a ``Reply`` (accepted, or
the engine's reason). A seat nobody has taken is played by virtual colleagues; taking it,
dropping out and coming back are ``CoverSeat`` commands, so the recording says who gave each
seat's commands and a re-simulation gives the same stream.

Everything that touches the engine runs on the server's one asyncio loop (the engine is not
thread-safe and needs no lock so); each connection has an outbox that a writer task drains, so
the order of what a desk receives is the order the room decided it. The transport is
``websockets`` (see pyproject.toml); nothing here is seen by the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import math
import secrets
import ssl
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from ambsim_gui.readmodel.ports import EnginePorts
from ambsim_gui.record.session import SessionRecorder
from ambsim_gui.room import protocol as P
from ambsim_gui.room.clock import RoomClock
from ambsim_gui.room.seats import SeatBook
from ambsim_gui.scenario.loader import LoadedScenario
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.world import World

TICK_S = 0.02
"""How often the room advances its engine and sends what happened: a command's events go out
at once, the colleagues' and the callers' within this (a fiftieth of a second)."""
STATUS_S = 0.25
"""The most often the instructor gets the seats' status (their figures change every event)."""
CLOCK_S = 1.0
"""How often every desk hears the room's clock (its own clock runs on between)."""
HELLO_TIMEOUT_S = 10.0
"""A connection that has not said who it is within this is closed."""
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""A join code is read aloud and typed: no 0/O, 1/I."""
CODE_LENGTH = 10
"""Ten of 32 letters: 50 bits, drawn per room by ``secrets``."""
INSTRUCTOR = "instructor"
"""The seat an instructor's injects are stamped with."""
ROOM = "room"
"""The seat the room's own ``CoverSeat`` commands are stamped with."""


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def tls_context(cert: str | Path, key: str | Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    return context


@dataclass(eq=False)
class Member:
    """One connection: a trainee's desk at ``seat``, or the instructor."""

    ws: ServerConnection
    role: str
    name: str
    seat: str | None
    outbox: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)

    def put(self, message: P.BaseModel | str) -> None:
        self.outbox.put_nowait(message if isinstance(message, str) else P.encode(message))


class RoomServer:
    """A shift served to a classroom; ``run`` it on an asyncio loop (or ``RoomThread``)."""

    def __init__(
        self,
        loaded: LoadedScenario,
        world: World,
        *,
        seed: int | None = None,
        speed: float = 1.0,
        hours: float | None = None,
        record: Path | None = None,
        overwrite: bool = False,
        code: str | None = None,
        cover: str = "hold",
        resume: Iterable[cmd.TimedCommand] = (),
        log: TextIO | None = None,
        stop_when_over: bool = True,
    ) -> None:
        """``resume``: the commands of an earlier room, re-applied at their times before the
        room opens (``serve --resume``), so it goes on from its last command bit for bit."""
        self.loaded = loaded
        self.log_stream = log if log is not None else sys.stderr
        self.log_lines: list[str] = []
        self.code = code or new_code()
        self.cover = cover
        self.stop_when_over = stop_when_over
        self.engine: Engine
        self.ports: EnginePorts
        self.recorder: SessionRecorder | None = None
        self.book: SeatBook
        self.clock: RoomClock
        self._history: list[tuple[bool, dict[str, Any]]] = []
        self._flushed = 0
        self._settings = (world, seed, speed, hours, record, overwrite, list(resume))
        self.members: list[Member] = []
        self.port: int | None = None
        self.ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._over_sent = False

    def open(self) -> None:
        """Build the engine and its recording (and re-apply ``resume``), on the thread that
        will run the room: SQLite connections stay on the thread that made them."""
        world, seed, speed, hours, record, overwrite, resume = self._settings
        self.engine = engine = Engine(
            world,
            seed=seed,
            policy="expert",
            trainee_policy="expert",
            duration_s=None if hours is None else hours * 3600.0,
        )
        self.ports = EnginePorts(engine)
        self.recorder = None
        if record is not None:
            self.recorder = SessionRecorder.start(
                record, self.loaded, engine, overwrite=overwrite, feedback="none"
            )
        self.book = SeatBook({s.id: (s.handler, s.dispatcher) for s in engine.seats.values()})
        self._history = []
        self._flushed = 0
        engine.subscribe(self._on_event, replay=True)
        for timed in resume:
            engine.run_until(timed.t)
            engine.submit(timed.command)
        self.clock = RoomClock(engine.now, speed)
        if resume:
            self.log(f"resumed after {len(resume)} commands; the desks may rejoin their seats")

    # --- the log -------------------------------------------------------------------------------

    def log(self, text: str) -> None:
        line = f"[{self._clock_text()}] {text}"
        self.log_lines.append(line)
        print(f"room: {line}", file=self.log_stream, flush=True)

    def _clock_text(self) -> str:
        t = int(self.engine.now)
        return f"{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}"

    # --- the events ----------------------------------------------------------------------------

    def _on_event(self, event: ev.Event) -> None:
        self._history.append((event.HIDDEN, event.to_dict()))
        self.book.feed(event)

    def _flush(self) -> None:
        """Send every event not yet sent: desks the ones a control room can know, the
        instructor all of them (the truth is theirs to show on demand)."""
        n = len(self._history)
        if n == self._flushed:
            return
        batch = self._history[self._flushed : n]
        self._flushed = n
        now = self.engine.now
        desks = [m for m in self.members if m.role == "desk"]
        if desks:
            seen = [d for hidden, d in batch if not hidden]
            if seen:
                payload = P.encode(P.Events.model_construct(now=now, events=seen))
                for m in desks:
                    m.put(payload)
        instructors = [m for m in self.members if m.role == "instructor"]
        if instructors:
            payload = P.encode(P.Events.model_construct(now=now, events=[d for _, d in batch]))
            for m in instructors:
                m.put(payload)

    def history(self, role: str) -> list[dict[str, Any]]:
        upto = self._history[: self._flushed]
        if role == "instructor":
            return [d for _, d in upto]
        return [d for hidden, d in upto if not hidden]

    # --- time ----------------------------------------------------------------------------------

    def advance(self) -> None:
        """Run the engine to where the clock is (the engine cannot pass the shift's end)."""
        engine = self.engine
        if not engine.finished:
            t = self.clock.now()
            if t > engine.now:
                engine.run_until(t)
        if engine.finished:
            self.clock.hold_at(engine.now)

    def _clock_message(self) -> P.Clock:
        return P.Clock(
            now=self.engine.now,
            speed=self.clock.speed,
            paused=self.clock.paused,
            finished=self.engine.finished,
        )

    def _status(self) -> P.RoomStatus:
        for state in self.book.seats.values():
            seat = self.engine.seats[state.seat]
            state.call_id = seat.call_id
        return P.RoomStatus(
            now=self.engine.now,
            speed=self.clock.speed,
            paused=self.clock.paused,
            cover=self.cover,
            seats=self.book.rows(),
        )

    def _broadcast(self, message: P.BaseModel, role: str | None = None) -> None:
        payload = P.encode(message)
        for m in self.members:
            if role is None or m.role == role:
                m.put(payload)

    async def _ticker(self) -> None:
        loop = asyncio.get_running_loop()
        next_status = next_clock = loop.time()
        while True:
            self.advance()
            self._flush()
            if self.recorder is not None:
                self.recorder.tick()
            now = loop.time()
            if now >= next_clock:
                next_clock = now + CLOCK_S
                self._broadcast(self._clock_message())
            if self.book.changed and now >= next_status:
                next_status = now + STATUS_S
                self.book.changed = False
                self._broadcast(self._status(), "instructor")
            if self.engine.finished and not self._over_sent:
                self._over_sent = True
                self._broadcast(self._clock_message())
                self._broadcast(self._status(), "instructor")
                self.log("the shift is over")
                self.close_recording()
                if self.stop_when_over:
                    self.stop()
            await asyncio.sleep(TICK_S)

    # --- seats ---------------------------------------------------------------------------------

    def _cover(self, seat: str, by: str, name: str) -> None:
        self.advance()
        self.engine.submit(cmd.CoverSeat(seat=ROOM, covered=seat, by=by, trainee=name))

    def _take(self, seat: str, name: str) -> None:
        if seat in self.engine.virtual_seats:
            self._cover(seat, "person", name)
        self.book.take(seat, name)

    def _left(self, member: Member) -> None:
        seat = member.seat
        if seat is None or self.book.seats[seat].status != "present":
            return
        if self.cover == "colleague" and not self.engine.finished:
            self._cover(seat, "colleague", member.name)
        self.book.drop(seat, self.cover)
        how = "waits for them" if self.cover == "hold" else "is covered by a colleague"
        self.log(f"{member.name} left seat {seat}; the seat {how}")

    # --- connections ---------------------------------------------------------------------------

    async def _refuse(self, ws: ServerConnection, reason: str, peer: str) -> None:
        self.log(f"refused {peer}: {reason}")
        with contextlib.suppress(ConnectionClosed):
            await ws.send(P.encode(P.Refused(reason=reason)))
            await ws.close(1008, reason[:120])

    async def _connection(self, ws: ServerConnection) -> None:
        peer = "{}:{}".format(*ws.remote_address[:2]) if ws.remote_address else "?"
        try:
            frame = await asyncio.wait_for(ws.recv(), HELLO_TIMEOUT_S)
        except (TimeoutError, ConnectionClosed):
            self.log(f"refused {peer}: no hello within {HELLO_TIMEOUT_S:g} s")
            return
        try:
            hello = P.parse_client(frame)
        except P.ProtocolError as exc:
            await self._refuse(ws, f"not a hello: {exc}", peer)
            return
        if not isinstance(hello, P.Hello):
            await self._refuse(ws, "the first message says hello", peer)
            return
        if hello.version != P.PROTOCOL_VERSION:
            why = f"protocol version {hello.version}; this room speaks {P.PROTOCOL_VERSION}"
            await self._refuse(ws, why, peer)
            return
        if not hmac.compare_digest(hello.code.encode(), self.code.encode()):
            await self._refuse(ws, "wrong or missing join code", peer)
            return
        name = hello.name.strip()
        seat = hello.seat if hello.role == "desk" else None
        if hello.role == "desk":
            refusal = self.book.may_take(hello.seat or "", name)
            if refusal is not None:
                await self._refuse(ws, refusal, peer)
                return
            assert seat is not None
            self._take(seat, name)
        member = Member(ws, hello.role, name or INSTRUCTOR, seat)
        self._flush()  # everyone else first: the welcome carries all that was sent so far
        member.put(self._welcome(member))
        if member.role == "instructor":
            member.put(self._status())
        self.members.append(member)
        self.log(
            f"{member.name} joined at seat {seat} from {peer}"
            if seat
            else f"{member.name} joined as the instructor from {peer}"
        )
        writer = asyncio.create_task(self._writer(member))
        try:
            async for frame in ws:
                self._handle(member, frame)
        except ConnectionClosed:
            pass
        finally:
            self.members.remove(member)
            member.outbox.put_nowait(None)
            writer.cancel()
            sent = ws.protocol.close_sent
            if sent is not None and sent.code == 1009:
                self.log(f"closed {member.name}'s line: a message over the size limit")
            self._left(member)

    async def _writer(self, member: Member) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                payload = await member.outbox.get()
                if payload is None:
                    return
                await member.ws.send(payload)

    def _welcome(self, member: Member) -> P.Welcome:
        engine = self.engine
        meta_sha = self.loaded.sha256
        return P.Welcome.model_construct(
            type="welcome",
            version=P.PROTOCOL_VERSION,
            seat=member.seat,
            name=member.name,
            scenario=self.loaded.path.stem,
            scenario_sha256=meta_sha,
            seed=engine.seed,
            role=engine.role,
            now=engine.now,
            speed=self.clock.speed,
            paused=self.clock.paused,
            end_s=engine.end_s,
            seats=self.book.rows(),
            events=self.history(member.role),
        )

    # --- messages ------------------------------------------------------------------------------

    def _handle(self, member: Member, frame: str | bytes) -> None:
        try:
            message = P.parse_client(frame)
        except P.ProtocolError as exc:
            self.log(f"refused a message from {member.name}: {exc}")
            member.put(P.Refused(reason=str(exc)))
            return
        if isinstance(message, P.SendCommand):
            member.put(self._command(member, message))
        elif isinstance(message, P.AskEtas):
            member.put(self._etas(message))
        elif isinstance(message, P.Control):
            member.put(self._control(member, message))
        else:
            member.put(P.Refused(reason="already joined: a hello comes once"))

    def _command(self, member: Member, message: P.SendCommand) -> P.Reply:
        data = dict(message.command)
        own = member.seat if member.role == "desk" else INSTRUCTOR
        given = data.get("seat")
        if member.role == "instructor" and data.get("kind") != cmd.Inject.KIND:
            return P.Reply(ref=message.ref, accepted=False, reason="an instructor gives injects")
        if given is not None and given != own:
            reason = f"seat {str(given)[:40]!r} is not yours: you sit at {own}"
            self.log(f"refused a command from {member.name}: {reason}")
            return P.Reply(ref=message.ref, accepted=False, reason=reason)
        if data.get("kind") == cmd.CoverSeat.KIND:
            return P.Reply(ref=message.ref, accepted=False, reason="the room covers the seats")
        data["seat"] = own
        try:
            command = cmd.command_from_dict(data)
        except ValueError as exc:
            self.log(f"refused a command from {member.name}: {exc}")
            return P.Reply(ref=message.ref, accepted=False, reason=str(exc))
        accepted, reason = self.submit(command)
        self._flush()  # the events before the reply: the desk's model has them when it hears
        return P.Reply(ref=message.ref, accepted=accepted, reason=reason, t=self.engine.now)

    def submit(self, command: cmd.Command) -> tuple[bool, str]:
        """Apply a stamped command now; (accepted, the engine's reason when not)."""
        self.advance()
        engine = self.engine
        n = len(engine.events)
        if engine.submit(command):
            return True, ""
        for event in reversed(engine.events[n:]):
            if isinstance(event, ev.CommandRejected):
                return False, event.reason
        return False, "rejected"

    def _etas(self, message: P.AskEtas) -> P.Reply | P.EtasReply:
        try:
            etas = self.ports.etas(message.incident_id, message.vehicle_ids)
        except KeyError as exc:
            return P.Reply(ref=message.ref, accepted=False, reason=f"no such id: {exc}")
        return P.EtasReply(ref=message.ref, etas=[t if math.isfinite(t) else None for t in etas])

    def _control(self, member: Member, message: P.Control) -> P.Reply:
        ref = message.ref
        if member.role != "instructor":
            return P.Reply(ref=ref, accepted=False, reason="only the instructor runs the room")
        action = message.action
        why: str | None = None
        if action == "pause":
            self.advance()
            self.clock.pause()
        elif action == "resume":
            self.clock.resume()
        elif action == "speed":
            self.advance()
            why = self.clock.set_speed(float(message.value or 0.0))
        elif action == "cover":
            if message.how is None:
                why = "cover says how: hold or colleague"
            else:
                self.cover = message.how
        elif action == "note":
            why = self._note(member, message)
        if why is not None:
            return P.Reply(ref=ref, accepted=False, reason=why)
        self.log(f"the instructor: {action} {message.value or message.how or message.text}")
        self.book.changed = True
        self._broadcast(self._clock_message())
        return P.Reply(ref=ref, accepted=True, t=self.engine.now)

    def _note(self, member: Member, message: P.Control) -> str | None:
        if not message.text.strip():
            return "a note has text"
        if self.recorder is None:
            return "this room is not recorded (serve --record): a note needs a recording"
        self.advance()
        try:
            self.recorder.add_annotation(
                self.engine.now, message.text, message.call_id, author=member.name
            )
        except Exception as exc:  # noqa: BLE001 - a failed note must not stop the room
            return f"the note was not saved: {exc}"
        return None

    # --- running -------------------------------------------------------------------------------

    async def run(
        self, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
    ) -> None:
        """Serve until ``stop`` (or the shift's end with ``stop_when_over``)."""
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.open()
        async with serve(
            self._connection, host, port, max_size=P.MAX_MESSAGE_BYTES, ssl=tls
        ) as server:
            self.port = int(next(iter(server.sockets)).getsockname()[1])
            self.ready.set()
            ticker = asyncio.create_task(self._ticker())
            try:
                await self._stop.wait()
                await asyncio.sleep(0.2)  # the last messages out
            finally:
                ticker.cancel()
                server.close()
        self.close_recording()

    def stop(self) -> None:
        """Stop serving (safe from any thread)."""
        loop, stop = self._loop, self._stop
        if loop is None or stop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            stop.set()
        else:
            loop.call_soon_threadsafe(stop.set)

    def close_recording(self) -> None:
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            recorder.close()
            self.log(
                f"session saved to {recorder.path} ({recorder.events_written} events, "
                f"{recorder.commands_written} commands)"
            )


class RoomThread:
    """A room served from a thread of its own (tests, the benchmark, a solo room)."""

    def __init__(self, server: RoomServer, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = server
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._main, args=(host, port), name="ambsim-room", daemon=True
        )

    def _main(self, host: str, port: int) -> None:
        try:
            asyncio.run(self.server.run(host, port))
        except BaseException as exc:  # noqa: BLE001 - kept for the one who started it
            self.error = exc
            self.server.ready.set()

    def start(self, timeout: float = 10.0) -> int:
        self._thread.start()
        if not self.server.ready.wait(timeout) or self.server.port is None:
            raise RuntimeError(f"the room did not start: {self.error}")
        return self.server.port

    def call(self, fn: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Run ``fn`` on the room's loop (the engine's thread) and return what it gives."""
        loop = self.server._loop
        assert loop is not None

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), loop).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        self.server.stop()
        self._thread.join(timeout)
