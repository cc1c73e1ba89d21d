"""A mass-casualty scene at the desk, as a trainee sees it (pytest-qt, offscreen).

On the Wessex Way pile-up (``scenarios/motorway_pileup.yaml``) every caller says which person
they are about. The read model keeps those words with the call (and nothing of the hidden
truth), and the list of nearby incidents names whom each one's callers are about, marking the
incident of the person this caller describes: that is the incident to link them to.
"""

from __future__ import annotations

from functools import cache

from test_ui_desk import (  # noqa: F401 - the fixtures
    TRAINEE,
    advance,
    advance_until,
    county,
    make_desk,
)

from ambsim_gui.headless import build_from
from ambsim_gui.paths import SCENARIOS
from ambsim_gui.readmodel.room import RoomProjection
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim.callers import NEW_CASUALTY_OPENING, casualty_named
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.world import World

PILEUP_AT_S = 20 * 60.0  # 15:20, twenty minutes into the shift


@cache
def pileup() -> World:
    return build_from(load_scenario(SCENARIOS / "motorway_pileup.yaml"))


def test_the_read_model_keeps_whom_each_caller_is_about() -> None:
    e = Engine(pileup(), policy="expert")
    room = RoomProjection()
    e.subscribe(room.apply)
    e.run_until(PILEUP_AT_S + 20 * 60)
    for call_id, call in e.calls.items():
        assert room.calls[call_id].casualty == call.casualty, call_id
    named = {c.casualty for c in room.calls.values() if c.casualty is not None}
    assert len(named) == 6  # the six people hurt in the pile-up, each in their own words
    # the words are what the caller said, not a leak of the truth: an ordinary opening names
    # nobody, and one that starts like a casualty's names the person in it
    assert casualty_named("A car's gone into the back of me at the lights.") is None
    assert casualty_named(f"{NEW_CASUALTY_OPENING}, the driver. Help!") == "the driver"
    assert casualty_named("About a passenger at the back: she's bleeding.") == (
        "a passenger at the back"
    )


def test_the_link_list_names_whom_each_incident_is_about(qtbot, make_desk) -> None:  # noqa: F811
    e = Engine(pileup(), role="both")
    desk = make_desk(e)
    advance(desk, PILEUP_AT_S, frame_s=10.0)

    def repeat_ringing() -> bool:
        # a caller about someone whose incident is already open
        opened = {e.calls[c].casualty for i in e.incidents.values() for c in i.call_ids} - {None}
        return e.seats[TRAINEE].free and any(
            e.calls[c].casualty in opened and not e.calls[c].new_casualty for c in e.ringing
        )

    advance_until(desk, repeat_ringing, 30 * 60)
    opened = {e.calls[c].casualty for i in e.incidents.values() for c in i.call_ids} - {None}
    call_id = next(
        c for c in e.ringing if e.calls[c].casualty in opened and not e.calls[c].new_casualty
    )
    assert e.submit(cmd.AnswerCall(seat=TRAINEE, call_id=call_id))
    advance(desk, 1.0)
    desk.refresh_all()
    person = e.calls[call_id].casualty
    rows = [desk.call_panel.nearby.item(i).text() for i in range(desk.call_panel.nearby.count())]
    mine = [r for r in rows if f"about {person} (the same person)" in r]
    assert len(mine) == 1, rows  # exactly one incident is this person's...
    assert rows[0] == mine[0]  # ...and it heads the list, whatever is nearer
    others = [r for r in rows if r not in mine]
    assert others and all("(the same person)" not in r and ", about " in r for r in others), rows
    desk.grab().save("/tmp/ambsim_mass_casualty_desk.png")
