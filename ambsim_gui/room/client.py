"""A desk's end of the line to a room: join, send commands, hear the events.

One job: ``RoomClient`` connects to a room server (``websockets``' threaded client), says
hello with the room's code, seat and name, and then keeps a reader thread that takes in the
room's messages: events (kept in order, and folded into ``room``, the same
``readmodel.RoomProjection`` every view reads, unless the owner folds them itself), the
clock, replies to its commands, and the seats' status for an instructor. ``send`` waits for
the room's answer. A dropped line is noticed at once (``connected`` goes False, ``on_drop``
is called); ``rejoin`` connects again and gets the seat back with the room's current state.
No Qt: the Qt desk wraps it in ``ui.remote``.
"""

from __future__ import annotations

import itertools
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

from ambsim_gui.readmodel.room import RoomProjection
from ambsim_gui.room import protocol as P
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev

REPLY_TIMEOUT_S = 10.0
"""How long ``send`` waits for the room's answer before it says the line is down."""
MAX_WELCOME_BYTES = 512 * 1024 * 1024
"""The largest message a desk reads: the welcome carries the shift so far (a London day's
visible events are 24 MB of JSON, docs/PERFORMANCE.md)."""


class JoinError(Exception):
    """The room refused the desk (the reason is the room's), or could not be reached."""


def address_url(address: str, *, tls: bool = False) -> str:
    """``HOST:PORT`` (or a ``ws://``/``wss://`` URL) as the URL to connect to."""
    if "://" in address:
        return address
    return f"{'wss' if tls else 'ws'}://{address}"


class RoomClient:
    """One connection to a room, as a desk at ``seat`` or as the instructor."""

    def __init__(
        self,
        address: str,
        code: str,
        *,
        role: str = "desk",
        seat: str | None = None,
        name: str = "",
        tls: ssl.SSLContext | None = None,
        fold: bool = True,
    ) -> None:
        self.url = address_url(address, tls=tls is not None)
        self.code = code
        self.role = role
        self.seat = seat
        self.name = name
        self.tls = tls
        self.fold = fold
        self.welcome: P.Welcome | None = None
        self.room = RoomProjection()
        self.events: list[ev.Event] = []
        self.arrived: list[float] = []  # perf_counter() when each event came in
        self.clock: P.Clock | None = None
        self.status: P.RoomStatus | None = None
        self.refusals: list[str] = []
        self.bytes_in = 0  # the room's frames after the welcome, in bytes
        self.connected = False
        self.on_drop: Callable[[], None] | None = None
        self.on_message: Callable[[Any], None] | None = None
        self._ws: ClientConnection | None = None
        self._reader: threading.Thread | None = None
        self._refs = itertools.count(1)
        self._replies: dict[int, Any] = {}
        self._cond = threading.Condition()
        self._clock_at = time.monotonic()

    # --- joining -------------------------------------------------------------------------------

    def join(self, timeout: float = 30.0) -> P.Welcome:
        """Connect and take the seat; JoinError with the room's reason when refused."""
        try:
            ws = connect(
                self.url,
                ssl=self.tls,
                open_timeout=timeout,
                max_size=MAX_WELCOME_BYTES,
                close_timeout=2,
            )
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            raise JoinError(f"cannot reach the room at {self.url}: {exc}") from None
        ws.__enter__()  # what ``with connect(...)`` does: this connection outlives a block
        hello = P.Hello.model_validate(
            {
                "version": P.PROTOCOL_VERSION,
                "code": self.code,
                "role": self.role,
                "seat": self.seat,
                "name": self.name,
            }
        )
        try:
            ws.send(P.encode(hello))
            first = P.parse_server(ws.recv(timeout))
        except (ConnectionClosed, TimeoutError, P.ProtocolError) as exc:
            ws.close()
            raise JoinError(f"the room did not answer the hello: {exc}") from None
        if isinstance(first, P.Refused):
            ws.close()
            raise JoinError(first.reason)
        if not isinstance(first, P.Welcome):
            ws.close()
            raise JoinError(f"the room answered the hello with {first.type}")
        events = [ev.event_from_dict(d) for d in first.events]
        with self._cond:
            self._ws = ws
            self.welcome = first
            self.events = events
            now = time.perf_counter()
            self.arrived = [now] * len(events)
            if self.fold:
                self.room = RoomProjection()
                self.room.apply_all(events)
            self.clock = P.Clock(now=first.now, speed=first.speed, paused=first.paused)
            self._clock_at = time.monotonic()
            self.connected = True
        self._reader = threading.Thread(
            target=self._read, args=(ws,), name="ambsim-room-client", daemon=True
        )
        self._reader.start()
        return first

    def rejoin(self, timeout: float = 30.0) -> P.Welcome:
        """Join again after a drop: the same seat, name and code; the state as it is now."""
        self.close()
        return self.join(timeout)

    def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.close()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(5)
        self.connected = False

    def kill(self) -> None:
        """Drop the line as a crash would: no goodbye, the socket just goes (tests)."""
        ws = self._ws
        if ws is not None:
            ws.socket.shutdown(socket.SHUT_RDWR)
            ws.socket.close()

    # --- reading -------------------------------------------------------------------------------

    def _read(self, ws: ClientConnection) -> None:
        try:
            for frame in ws:
                self.bytes_in += len(frame)
                self._take(P.parse_server(frame))
        except (ConnectionClosed, OSError, P.ProtocolError):
            pass
        finally:
            with self._cond:
                if self._ws is ws or self._ws is None:
                    self.connected = False
                self._cond.notify_all()
            if self.on_drop is not None and not self.connected:
                self.on_drop()

    def _take(self, message: Any) -> None:
        with self._cond:
            if isinstance(message, P.Events):
                now = time.perf_counter()
                for d in message.events:
                    event = ev.event_from_dict(d)
                    self.events.append(event)
                    self.arrived.append(now)
                    if self.fold:
                        self.room.apply(event)
                self.clock = P.Clock(
                    now=message.now,
                    speed=self.clock.speed if self.clock else 1.0,
                    paused=self.clock.paused if self.clock else False,
                )
                self._clock_at = time.monotonic()
            elif isinstance(message, P.Clock):
                self.clock = message
                self._clock_at = time.monotonic()
            elif isinstance(message, (P.Reply, P.EtasReply)):
                self._replies[message.ref] = message
            elif isinstance(message, P.RoomStatus):
                self.status = message
            elif isinstance(message, P.Refused):
                self.refusals.append(message.reason)
            self._cond.notify_all()
        if self.on_message is not None:
            self.on_message(message)

    # --- asking --------------------------------------------------------------------------------

    def _ask(self, make: Callable[[int], P.BaseModel], timeout: float) -> Any:
        ref = next(self._refs)
        ws = self._ws
        if ws is None or not self.connected:
            return P.Reply(ref=ref, accepted=False, reason="the line to the room is down")
        try:
            ws.send(P.encode(make(ref)))
        except (ConnectionClosed, OSError):
            return P.Reply(ref=ref, accepted=False, reason="the line to the room is down")
        with self._cond:
            self._cond.wait_for(lambda: ref in self._replies or not self.connected, timeout)
            reply = self._replies.pop(ref, None)
        if reply is None:
            return P.Reply(ref=ref, accepted=False, reason="the room did not answer")
        return reply

    def send(self, command: cmd.Command, timeout: float = REPLY_TIMEOUT_S) -> P.Reply:
        """Give ``command`` (its seat is the room's to stamp); the room's answer."""
        data = command.to_dict()
        if data.get("seat") == "trainee" and self.seat is not None:
            data["seat"] = self.seat  # the command's default seat: this desk's
        reply: P.Reply = self._ask(lambda ref: P.SendCommand(ref=ref, command=data), timeout)
        return reply

    def send_raw(self, frame: str | bytes) -> None:
        """Put ``frame`` on the line as it is (tests of what the room refuses)."""
        assert self._ws is not None
        self._ws.send(frame)

    def etas(self, incident_id: str, vehicle_ids: list[str]) -> list[float]:
        reply = self._ask(
            lambda ref: P.AskEtas(ref=ref, incident_id=incident_id, vehicle_ids=vehicle_ids),
            REPLY_TIMEOUT_S,
        )
        if not isinstance(reply, P.EtasReply):
            return [float("inf")] * len(vehicle_ids)
        return [float("inf") if t is None else float(t) for t in reply.etas]

    def control(self, action: str, **fields: Any) -> P.Reply:
        reply: P.Reply = self._ask(
            lambda ref: P.Control(ref=ref, action=action, **fields),  # type: ignore[arg-type]
            REPLY_TIMEOUT_S,
        )
        return reply

    # --- waiting -------------------------------------------------------------------------------

    def now(self) -> float:
        """The room's simulation time, run on from its last word at its speed."""
        clock = self.clock
        if clock is None:
            return 0.0
        if clock.paused or clock.finished or not self.connected:
            return clock.now
        return clock.now + (time.monotonic() - self._clock_at) * clock.speed

    def wait_for(
        self, found: Callable[[ev.Event], bool], timeout: float, start: int = 0
    ) -> ev.Event | None:
        """The first event from index ``start`` on for which ``found`` is true (waiting)."""
        deadline = time.monotonic() + timeout
        i = start
        with self._cond:
            while True:
                while i < len(self.events):
                    if found(self.events[i]):
                        return self.events[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or not self.connected:
                    return None
                self._cond.wait(left)

    def wait_until(self, ok: Callable[[], bool], timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(ok, timeout)
