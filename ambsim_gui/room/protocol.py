"""The classroom's messages: one typed, versioned vocabulary between the room and its desks.

One job: every message a desk, an instructor or the room server sends is one of the pydantic
models below, a JSON object with a ``type`` and the protocol's ``version`` in the first
message of each side (``Hello``, ``Welcome``). ``parse_client`` and ``parse_server`` turn a
text frame into a model or raise ``ProtocolError`` with what is wrong (never a traceback into
the room); ``encode`` is the one way out. Commands and events travel as the engine's own
``to_dict`` mappings, rebuilt on the far side by ``commands.command_from_dict`` (total: it
checks every field) and ``events.event_from_dict``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

PROTOCOL_VERSION = 1
"""Raised when a message changes shape; a desk of another version is refused at ``Hello``."""

MAX_MESSAGE_BYTES = 64 * 1024
"""The largest frame the room reads from a desk: a command is a few hundred bytes, an inject's
spec at most ``commands.MAX_SPEC_VALUES`` small values; anything bigger is refused."""

MAX_NAME = 60
"""The longest trainee's name the room keeps."""

COVERS = ("hold", "colleague")
"""How the room covers a seat whose desk has dropped: ``hold`` (the seat waits, its call on
the line) or ``colleague`` (a virtual colleague plays it until the trainee is back)."""

ROLES = ("desk", "instructor")


class ProtocolError(ValueError):
    """A frame that is not one of the protocol's messages (the reason says why)."""


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- desk or instructor -> room -----------------------------------------------------------


class Hello(_Message):
    """The first message of every connection: who joins, with the room's code."""

    type: Literal["hello"] = "hello"
    version: int
    code: str = Field(max_length=100)
    role: Literal["desk", "instructor"] = "desk"
    seat: str | None = Field(default=None, max_length=40)
    name: str = Field(default="", max_length=MAX_NAME)


class SendCommand(_Message):
    """A command for the engine; the room stamps it with the sender's seat and the time.

    ``ref`` is the sender's own number for it, echoed in the ``Reply``."""

    type: Literal["command"] = "command"
    ref: int
    command: dict[str, Any]


class AskEtas(_Message):
    """Candidate ETAs for a dispatch (asked as an onlooker: the run never changes)."""

    type: Literal["etas"] = "etas"
    ref: int
    incident_id: str = Field(max_length=200)
    vehicle_ids: list[str] = Field(max_length=500)


class Control(_Message):
    """The instructor's hand on the room: ``pause``, ``resume``, ``speed`` (``value``),
    ``cover`` (``how`` a dropped seat is covered), ``note`` (``text`` pinned to now)."""

    type: Literal["control"] = "control"
    ref: int
    action: Literal["pause", "resume", "speed", "cover", "note"]
    value: float | None = None
    how: Literal["hold", "colleague"] | None = None
    text: str = Field(default="", max_length=2000)
    call_id: str | None = Field(default=None, max_length=200)


ClientMessage = Annotated[Hello | SendCommand | AskEtas | Control, Field(discriminator="type")]


# --- room -> desk or instructor -----------------------------------------------------------


class SeatStatus(BaseModel):
    """One seat as the instructor sees it."""

    model_config = ConfigDict(extra="forbid")

    seat: str
    handler: bool
    dispatcher: bool
    name: str = ""  # the trainee's, empty for a virtual colleague
    status: str = "colleague"  # colleague | present | away (dropped, held) | covered (dropped)
    call_id: str | None = None
    answered: int = 0
    closed: int = 0
    dispatched: int = 0
    rejected: int = 0


class Welcome(_Message):
    """The room's answer to a good ``Hello``: the seat, the shift's facts and every event so
    far (a desk's read model is their fold; a reconnecting desk gets its state back so)."""

    type: Literal["welcome"] = "welcome"
    version: int = PROTOCOL_VERSION
    seat: str | None
    name: str
    scenario: str  # the scenario file's stem
    scenario_sha256: str
    seed: int
    role: str
    now: float
    speed: float
    paused: bool
    end_s: float
    seats: list[SeatStatus]
    events: list[dict[str, Any]]


class Events(_Message):
    """Events since the last batch, and the simulation time they bring the desk to."""

    type: Literal["events"] = "events"
    now: float
    events: list[dict[str, Any]]


class Clock(_Message):
    """The room's clock: where it is, how fast it runs, whether it is paused or over."""

    type: Literal["clock"] = "clock"
    now: float
    speed: float
    paused: bool
    finished: bool = False


class Reply(_Message):
    """The room's answer to a ``SendCommand`` or ``Control``: accepted, or why not."""

    type: Literal["reply"] = "reply"
    ref: int
    accepted: bool
    reason: str = ""
    t: float | None = None


class EtasReply(_Message):
    type: Literal["etas_reply"] = "etas_reply"
    ref: int
    etas: list[float | None]  # None: no route (inf does not travel in JSON)


class Refused(_Message):
    """A message the room would not take (a connection refused at ``Hello`` is then closed)."""

    type: Literal["refused"] = "refused"
    reason: str


class RoomStatus(_Message):
    """Every seat, for the instructor (sent whenever it changes, at most a few times a
    second)."""

    type: Literal["room_status"] = "room_status"
    now: float
    speed: float
    paused: bool
    cover: str
    seats: list[SeatStatus]


ServerMessage = Annotated[
    Welcome | Events | Clock | Reply | EtasReply | Refused | RoomStatus,
    Field(discriminator="type"),
]

_CLIENT: TypeAdapter[Any] = TypeAdapter(ClientMessage)
_SERVER: TypeAdapter[Any] = TypeAdapter(ServerMessage)


def _parse(adapter: TypeAdapter[Any], frame: str | bytes) -> Any:
    if isinstance(frame, bytes):
        try:
            frame = frame.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("a message is UTF-8 JSON text") from None
    try:
        data = json.loads(frame)
    except (json.JSONDecodeError, RecursionError):
        raise ProtocolError("a message is a JSON object; this is not JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError("a message is a JSON object with a 'type'")
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "message"
        raise ProtocolError(f"{where}: {first['msg']}") from None


def parse_client(frame: str | bytes) -> Hello | SendCommand | AskEtas | Control:
    """A desk's or instructor's frame as its message; ProtocolError says what is wrong."""
    message: Hello | SendCommand | AskEtas | Control = _parse(_CLIENT, frame)
    return message


def parse_server(frame: str | bytes) -> Any:
    """A frame from the room as its message (``ServerMessage``)."""
    return _parse(_SERVER, frame)


def encode(message: BaseModel) -> str:
    """The one way a message goes on the wire: compact JSON, the ``type`` included."""
    return message.model_dump_json()
