"""The receiving hospitals: their state, and putting one on diversion or taking it off.

``Hospitals`` builds the room's ``hospitals`` from the scenario, says at the start of the shift
which are on diversion, and owns the ``SetHospitalDiversion`` command and the diversions of
injects. Handover queues and the choice of a hospital for a patient are the crews' business
(``Fleet``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.state import HospitalState

if TYPE_CHECKING:
    from ambsim_gui.sim.kernel import Kernel
    from ambsim_gui.sim.room import RoomState


class Hospitals:
    """The room's hospitals and their diversion status."""

    def __init__(self, kernel: Kernel, room: RoomState) -> None:
        self.k = kernel
        self.room = room
        world = room.world
        for h in room.scenario.hospitals:
            site = world.hospitals[h.name]
            room.hospitals[h.name] = HospitalState(
                h.name, h.kind, site.node, site.x, site.y, h.handover, diverted=h.diverted
            )

    def handlers(self) -> dict[type[cmd.Command], Callable[[Any], str | None]]:
        return {cmd.SetHospitalDiversion: self.cmd_diversion}

    def start(self) -> None:
        for name, hosp in self.room.hospitals.items():
            if hosp.diverted:
                self.k.emit(ev.HospitalDiversion(t=0.0, hospital=name, diverted=True))

    def cmd_diversion(self, c: cmd.SetHospitalDiversion) -> str | None:
        hospitals = self.room.hospitals
        hosp = hospitals.get(c.hospital)
        if hosp is None:
            return f"no hospital {c.hospital!r}"
        if hosp.diverted == c.diverted:
            return f"{c.hospital} is already {'on' if c.diverted else 'off'} diversion"
        if (
            c.diverted
            and not any(
                h.kind == "ed" and not h.diverted and h is not hosp for h in hospitals.values()
            )
            and hosp.kind == "ed"
        ):
            return "at least one emergency department must stay open"
        self.set_diverted(hosp, c.diverted)
        return None

    def set_diverted(self, hosp: HospitalState, diverted: bool) -> None:
        """Put ``hosp`` on diversion (or take it off) now, if it is not already."""
        if hosp.diverted != diverted:
            hosp.diverted = diverted
            self.k.emit(ev.HospitalDiversion(t=self.k.now, hospital=hosp.name, diverted=diverted))
