"""The call distributor at the desk, driven as a trainee (pytest-qt, offscreen).

A free trainee seat is offered the next call first (``control_room.call_distribution:
trainee_first``, the default): the virtual colleagues leave it ringing for ``offer_s`` seconds
(20), then it is anyone's. ``shared`` lets every seat race, as before. A scripted teaching call
(``for_trainee``) is never taken by a colleague, and its hint comes with it to the trainee's
line. A headless run plays the trainee's seat itself: nothing is offered.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt
from test_ui_desk import (  # noqa: F401 - the fixtures
    TRAINEE,
    advance,
    advance_until,
    county,
    key,
    make_desk,
    small_room,
)

from ambsim_gui.scenario.model import Demand, ScriptedCall
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.world import World
from ambsim_gui.ui.desk import DeskWindow


def with_room(world: World, **changes: object) -> World:
    room = world.scenario.control_room.model_copy(update=changes)
    return dataclasses.replace(
        world, scenario=world.scenario.model_copy(update={"control_room": room})
    )


def events(desk: DeskWindow, kind: type[ev.Event]) -> list[ev.Event]:
    return [x for x in desk.engine.events if isinstance(x, kind)]


def first_ring(desk: DeskWindow) -> str:
    e = desk.engine
    advance_until(desk, lambda: bool(e.ringing), 3600, frame_s=0.5)
    desk.refresh_all()
    return e.ringing[0]


def test_a_free_trainee_is_offered_the_next_call_and_space_takes_it(
    qtbot, make_desk, county: World  # noqa: F811
) -> None:
    desk = make_desk(Engine(small_room(county, handlers=2), role="both"))
    e = desk.engine
    call_id = first_ring(desk)
    offers = events(desk, ev.CallOffered)
    assert [(o.call_id, o.seat) for o in offers] == [(call_id, TRAINEE)]
    # offered for the scenario's offer_s (default 20 s) from the moment it rang
    assert offers[0].until_t == e.calls[call_id].t_arrive + 20.0
    row = desk.call_queue.table.rows_model.row_of(call_id)
    line = desk.call_queue.table.rows_model.item(row, 3).text()
    assert line.startswith("FOR YOU")

    # the colleague (free, and quicker: 3-10 s to pick up) leaves it ringing for the trainee
    advance(desk, 15.0, frame_s=0.5)
    assert e.calls[call_id].status == "ringing"
    assert e.seats["CH1"].free
    key(qtbot, desk, Qt.Key.Key_Space)
    assert e.seats[TRAINEE].call_id == call_id
    desk.refresh_all()
    assert call_id in desk.call_panel.header.text()


def test_an_offer_not_taken_goes_to_a_colleague_after_offer_s(
    qtbot, make_desk, county: World  # noqa: F811
) -> None:
    world = with_room(small_room(county, handlers=2), offer_s=12.0)
    desk = make_desk(Engine(world, role="both"))
    e = desk.engine
    call_id = first_ring(desk)
    rang = e.calls[call_id].t_arrive
    advance_until(desk, lambda: e.calls[call_id].status != "ringing", 120, frame_s=0.5)
    lapsed = [x for x in events(desk, ev.CallOfferLapsed) if x.call_id == call_id]
    assert len(lapsed) == 1 and lapsed[0].t == rang + 12.0
    answered = [x for x in events(desk, ev.CallAnswered) if x.call_id == call_id]
    assert answered[0].seat == "CH1"
    # the colleague reached for it when the offer lapsed: within pickup_s (3-10 s) of it
    lo, hi = world.scenario.control_room.pickup_s
    assert rang + 12.0 + lo <= answered[0].t <= rang + 12.0 + hi


def test_a_shared_queue_lets_the_colleague_take_it_at_once(
    qtbot, make_desk, county: World  # noqa: F811
) -> None:
    world = with_room(small_room(county, handlers=2), call_distribution="shared")
    desk = make_desk(Engine(world, role="both"))
    e = desk.engine
    call_id = first_ring(desk)
    rang = e.calls[call_id].t_arrive
    advance_until(desk, lambda: e.calls[call_id].status != "ringing", 120, frame_s=0.5)
    assert not events(desk, ev.CallOffered)
    answered = [x for x in events(desk, ev.CallAnswered) if x.call_id == call_id]
    lo, hi = world.scenario.control_room.pickup_s
    assert answered[0].seat == "CH1" and rang + lo <= answered[0].t <= rang + hi


def test_a_teaching_call_rings_for_the_trainee_and_brings_its_hint(
    qtbot, make_desk, county: World  # noqa: F811
) -> None:
    hint = "A fall, not hurt: refer her to the clinical hub"
    teaching = ScriptedCall(
        at_min=1.0, card="fall", variant="uninjured_mobile", hint=hint, for_trainee=True
    )
    world = with_room(small_room(county, handlers=2), call_distribution="shared")
    world = dataclasses.replace(
        world,
        scenario=world.scenario.model_copy(
            update={"scripted_calls": [teaching], "demand": quiet(world)}
        ),
    )
    desk = make_desk(Engine(world, role="both"))
    e = desk.engine
    advance_until(desk, lambda: bool(e.ringing), 120, frame_s=0.5)
    call_id = e.ringing[0]
    held = events(desk, ev.CallOffered)
    assert [(o.call_id, o.until_t) for o in held] == [(call_id, None)]
    advance(desk, 90.0, frame_s=1.0)  # far past offer_s and the colleague's pick-up
    assert e.calls[call_id].status == "ringing"
    assert e.seats["CH1"].call_id is None  # free, and leaving it alone
    desk.refresh_all()
    row = desk.call_queue.table.rows_model.row_of(call_id)
    assert desk.call_queue.table.rows_model.item(row, 3).text() == "FOR YOU"
    key(qtbot, desk, Qt.Key.Key_Space)
    assert e.seats[TRAINEE].call_id == call_id
    desk.refresh_all()
    assert f"Hint: {hint}" in desk.call_panel.transcript.toPlainText()


def test_a_headless_run_offers_nothing(county: World) -> None:  # noqa: F811
    engine = Engine(county, policy="expert", trainee_policy="expert", duration_s=1800.0)
    engine.run_until(1800.0)
    kinds = {type(x) for x in engine.events}
    assert ev.CallAnswered in kinds
    assert not kinds & {ev.CallOffered, ev.CallOfferLapsed, ev.CallHint}


# --- helpers ---------------------------------------------------------------------------------

def quiet(world: World) -> Demand:
    """The scenario's demand with next to no random calls (the scripted call alone rings)."""
    return world.scenario.demand.model_copy(update={"incidents_per_hour": 0.01})


def test_a_session_records_its_call_distribution_and_verifies(county: World, tmp_path) -> None:  # noqa: F811
    from ambsim_gui.paths import DEFAULT_SCENARIO
    from ambsim_gui.record.player import record_played_shift
    from ambsim_gui.record.reader import SessionFile
    from ambsim_gui.record.verify import verify
    from ambsim_gui.scenario.loader import load_scenario

    path = tmp_path / "offered.ambsession"
    engine, _ = record_played_shift(
        path, load_scenario(DEFAULT_SCENARIO), county, player="expert", role="both", hours=0.5
    )
    assert any(isinstance(x, ev.CallOffered) for x in engine.events)
    with SessionFile.open(path) as session:
        assert session.info.call_distribution == "trainee_first"
    result = verify(path)
    assert result.ok, result.message
