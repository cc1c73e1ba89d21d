"""The engine's input: one typed vocabulary for everything a control room can do.

The trainee desk, the built-in policies, an instructor's injects and a replayed recording all
send these same commands through ``Engine.submit``. Each carries the seat that gave it; the
engine applies it at the current simulation time and answers an illegal one with a
``CommandRejected`` event that says why.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

COMMAND_TYPES: dict[str, type[Command]] = {}


@dataclass(frozen=True, kw_only=True)
class Command:
    """Base of all commands: who gives it."""

    KIND: ClassVar[str] = "command"
    seat: str = "trainee"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("KIND")
        if kind:
            COMMAND_TYPES[kind] = cls

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.KIND}
        for f in fields(self):
            out[f.name] = getattr(self, f.name)
        return out


def command_from_dict(data: dict[str, Any]) -> Command:
    """Rebuild a command from ``Command.to_dict`` output; ValueError for an unknown kind."""
    data = dict(data)
    kind = data.pop("kind", None)
    cls = COMMAND_TYPES.get(str(kind))
    if cls is None:
        raise ValueError(f"unknown command kind {kind!r}")
    return cls(**data)


@dataclass(frozen=True, kw_only=True)
class AnswerCall(Command):
    """Answer a ringing call; the oldest ringing call when ``call_id`` is None."""

    KIND: ClassVar[str] = "answer_call"
    call_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class AskQuestion(Command):
    KIND: ClassVar[str] = "ask_question"
    call_id: str
    question_id: str


@dataclass(frozen=True, kw_only=True)
class SetCategory(Command):
    """Accept the protocol's category or override it."""

    KIND: ClassVar[str] = "set_category"
    call_id: str
    category: str


@dataclass(frozen=True, kw_only=True)
class SendToDispatch(Command):
    """Open an incident for the call and put it on the dispatch queue."""

    KIND: ClassVar[str] = "send_to_dispatch"
    call_id: str


@dataclass(frozen=True, kw_only=True)
class ReferToHub(Command):
    """Open an incident and put it on the clinical hub's stack for a call-back."""

    KIND: ClassVar[str] = "refer_to_hub"
    call_id: str


@dataclass(frozen=True, kw_only=True)
class GiveAdvice(Command):
    """Close the call with self-care advice (hear-and-treat by the handler)."""

    KIND: ClassVar[str] = "give_advice"
    call_id: str


@dataclass(frozen=True, kw_only=True)
class ReferElsewhere(Command):
    """Close the call by referring the patient to another service (GP, 111, pharmacy...)."""

    KIND: ClassVar[str] = "refer_elsewhere"
    call_id: str


@dataclass(frozen=True, kw_only=True)
class LinkCall(Command):
    """The call is about an incident already open: link it, open nothing new."""

    KIND: ClassVar[str] = "link_call"
    call_id: str
    incident_id: str


@dataclass(frozen=True, kw_only=True)
class DispatchVehicle(Command):
    """Send a free vehicle (available, or returning from a job) to an incident."""

    KIND: ClassVar[str] = "dispatch_vehicle"
    vehicle_id: str
    incident_id: str


@dataclass(frozen=True, kw_only=True)
class DivertVehicle(Command):
    """Take a vehicle off its way to a less urgent job and send it to this one."""

    KIND: ClassVar[str] = "divert_vehicle"
    vehicle_id: str
    incident_id: str


@dataclass(frozen=True, kw_only=True)
class StandDown(Command):
    """Release a vehicle on its way to a job; the incident goes back on the queue if it must."""

    KIND: ClassVar[str] = "stand_down"
    vehicle_id: str


@dataclass(frozen=True, kw_only=True)
class SetHospitalDiversion(Command):
    """Put a hospital on diversion (crews go elsewhere) or take it off."""

    KIND: ClassVar[str] = "set_hospital_diversion"
    hospital: str
    diverted: bool


@dataclass(frozen=True, kw_only=True)
class Inject(Command):
    """An instructor's live inject: the same mapping as a scenario file's ``injects`` item
    (its ``at``/``at_min`` are ignored: it happens now)."""

    KIND: ClassVar[str] = "inject"
    spec: dict[str, Any]


@dataclass(frozen=True)
class TimedCommand:
    """A command with the simulation time it was applied at: one line of a session's log."""

    t: float
    command: Command

    def to_dict(self) -> dict[str, Any]:
        return {"t": self.t, "command": self.command.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TimedCommand:
        return cls(float(data["t"]), command_from_dict(data["command"]))
