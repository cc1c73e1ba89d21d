"""Guarded actions at the desk, driven as a trainee (pytest-qt, offscreen).

A dispatch to an incident that already has a vehicle, a stand-down, and a link to an incident
with another complaint (or beyond the room's link radius) first show a warning; the same key
again sends. Anything else the trainee does clears the warning. The nearby-incident list is ranked
by likely match (the same complaint first, then the nearest) with the distance first.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from test_ui_desk import (  # noqa: F401 - the fixtures
    TRAINEE,
    advance,
    advance_until,
    answer_a_call,
    click,
    click_row,
    county,
    key,
    make_desk,
    small_room,
    triage_by_keys,
)

from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.ui.desk import DeskWindow


def open_incident(qtbot, desk: DeskWindow, category: str = "C2") -> str:
    """Answer the next call and send it to dispatch at once: the new incident's id."""
    e = desk.engine
    call_id = answer_a_call(qtbot, desk)
    assert e.submit(cmd.SetCategory(seat=TRAINEE, call_id=call_id, category=category))
    assert e.submit(cmd.SendToDispatch(seat=TRAINEE, call_id=call_id))
    desk.refresh_all()
    return e.calls[call_id].incident_id


def sent(desk: DeskWindow, kind: type[ev.Event]) -> list[ev.Event]:
    return [x for x in desk.engine.events if isinstance(x, kind)]


def test_a_first_dispatch_goes_at_once_and_a_second_needs_d_twice(qtbot, make_desk) -> None:  # noqa: F811
    desk = make_desk()
    panel = desk.dispatch_panel
    incident = open_incident(qtbot, desk)
    desk.ctx.select_incident(incident)
    desk.refresh_all()

    first = panel.selected_candidate()
    assert first is not None
    key(qtbot, desk, Qt.Key.Key_D)  # uncovered: no question asked
    assert desk.engine.incidents[incident].vehicles == [first]
    assert not panel.guard_label.isVisible()

    desk.refresh_all()
    second = panel.selected_candidate()
    assert second is not None and second != first
    before = desk.ctx.commands_sent
    key(qtbot, desk, Qt.Key.Key_D)  # covered: a warning, and no command
    assert desk.ctx.commands_sent == before
    assert desk.engine.incidents[incident].vehicles == [first]
    warning = panel.guard_label.text()
    assert panel.guard_label.isVisible()
    first_sign = desk.ctx.room.vehicles[first].callsign
    second_sign = desk.ctx.room.vehicles[second].callsign
    assert warning == (
        f"{incident} already has {first_sign} on its way. "
        f"Press D again to send {second_sign} as well."
    )
    desk.grab().save("/tmp/guard.png")
    panel.grab().save("/tmp/guard_panel.png")

    key(qtbot, desk, Qt.Key.Key_F)  # any other action clears the warning ...
    assert not panel.guard_label.isVisible() and panel.guard.pending is None
    key(qtbot, desk, Qt.Key.Key_D)  # ... so D asks again
    assert desk.ctx.commands_sent == before and panel.guard_label.isVisible()
    key(qtbot, desk, Qt.Key.Key_D)  # the second press sends
    assert desk.ctx.commands_sent == before + 1
    assert desk.engine.incidents[incident].vehicles == [first, second]
    assert not panel.guard_label.isVisible()


def test_a_change_of_selection_clears_a_pending_dispatch(qtbot, make_desk) -> None:  # noqa: F811
    desk = make_desk()
    panel = desk.dispatch_panel
    incident = open_incident(qtbot, desk)
    desk.ctx.select_incident(incident)
    desk.refresh_all()
    key(qtbot, desk, Qt.Key.Key_D)
    desk.refresh_all()
    click(qtbot, panel.dispatch_button)  # the button is guarded as the key is
    assert panel.guard.pending is not None and len(desk.engine.incidents[incident].vehicles) == 1
    pending = panel.selected_candidate()
    other = next(
        r.key
        for r in panel.candidates.rows_model.rows
        if r.key != pending and r.cells[2].text == "available"
    )
    click_row(qtbot, panel.candidates, other)  # another vehicle picked: the warning lapses
    assert panel.guard.pending is None and not panel.guard_label.isVisible()
    click(qtbot, panel.dispatch_button)
    assert len(desk.engine.incidents[incident].vehicles) == 1  # asks again, for this one
    click(qtbot, panel.dispatch_button)
    assert desk.engine.incidents[incident].vehicles[-1] == other


def test_stand_down_asks_for_a_second_press(qtbot, make_desk) -> None:  # noqa: F811
    desk = make_desk()
    panel = desk.dispatch_panel
    incident = open_incident(qtbot, desk)
    desk.ctx.select_incident(incident)
    desk.refresh_all()
    key(qtbot, desk, Qt.Key.Key_D)
    vid = desk.engine.incidents[incident].vehicles[0]
    desk.refresh_all()
    click_row(qtbot, panel.assigned, vid)
    click(qtbot, panel.stand_down_button)
    assert vid in desk.engine.incidents[incident].vehicles
    assert "Press Stand down again" in panel.guard_label.text()
    click(qtbot, panel.stand_down_button)
    assert vid not in desk.engine.incidents[incident].vehicles
    assert any(x.vehicle_id == vid for x in sent(desk, ev.VehicleStoodDown))


def a_caller_with_another_complaint(qtbot, desk: DeskWindow) -> tuple[str, str]:
    """An open incident whose complaint is known, and a caller on the line (triaged) who
    reports another one: (incident id, call id)."""
    e = desk.engine
    incident = None
    for _ in range(30):
        call_id = answer_a_call(qtbot, desk)
        triage_by_keys(qtbot, desk, call_id)
        said = e.calls[call_id].answers.get("what_happened")
        if incident is not None and said and said != e.incidents[incident].complaint:
            return incident, call_id
        assert e.submit(cmd.SetCategory(seat=TRAINEE, call_id=call_id, category="C3"))
        assert e.submit(cmd.SendToDispatch(seat=TRAINEE, call_id=call_id))
        if incident is None and said:
            incident = e.calls[call_id].incident_id
    raise AssertionError("no caller reported another complaint")


def test_link_list_ranks_the_same_complaint_first_and_a_doubtful_link_needs_l_twice(
    qtbot,
    make_desk,  # noqa: F811
) -> None:
    desk = make_desk()
    e = desk.engine
    cp = desk.call_panel
    incident, call_id = a_caller_with_another_complaint(qtbot, desk)
    call = desk.ctx.room.calls[call_id]
    room = desk.ctx.room
    # Place, in the desk's read model only, the real incident 150 m from the caller and a second
    # incident about the caller's own complaint 350 m away (callers rarely ring that close).
    other = room.incidents[incident]
    other.x, other.y = call.x + 150.0, call.y
    same = dataclasses.replace(
        other, id="I99999", complaint=call.answers["what_happened"], code="", y=call.y + 350.0
    )
    same.x = call.x
    room.incidents[same.id] = same
    cp.refresh()

    ranked = [iid for _, iid in cp.nearby_incidents(call)]
    assert ranked.index("I99999") < ranked.index(incident)  # the same complaint, though further
    rows = [cp.nearby.item(i).text() for i in range(cp.nearby.count())]
    assert rows[ranked.index("I99999")].startswith("350 m  -  I99999")
    assert "same complaint" in rows[ranked.index("I99999")]
    assert rows[ranked.index(incident)].startswith(f"150 m  -  {incident}")

    del room.incidents[same.id]  # the engine knows no I99999: only the real one is linked
    cp.refresh()
    row = next(i for i in range(cp.nearby.count()) if incident in cp.nearby.item(i).text())
    cp.nearby.setCurrentRow(row)
    before = desk.ctx.commands_sent
    key(qtbot, desk, Qt.Key.Key_L)
    assert desk.ctx.commands_sent == before and e.calls[call_id].status != "closed"
    text = cp.link_warning.text()
    theirs = cp.incident_complaint(other).lower()
    mine = cp.call_complaint(call).lower()  # "a fall", "an allergic reaction"
    assert cp.link_warning.isVisible()
    assert text.startswith(f"{incident} is ") and f"{theirs} incident" in text
    assert f"this caller reports a{'n' if mine[0] in 'aeiou' else ''} {mine}: press L again" in text
    assert text.endswith("press L again to link anyway")
    cp.grab().save("/tmp/guard_link.png")

    advance(desk, 1.0)  # the clock runs on: the warning stays for the same call and incident
    assert cp.guard.pending is not None
    key(qtbot, desk, Qt.Key.Key_L)
    QApplication.processEvents()
    linked = sent(desk, ev.CallLinked)
    assert linked and linked[-1].call_id == call_id and linked[-1].incident_id == incident
    assert not cp.link_warning.isVisible()


def test_a_send_with_an_open_incident_at_the_callers_place_needs_s_twice(
    qtbot,
    make_desk,  # noqa: F811
) -> None:
    desk = make_desk()
    e = desk.engine
    cp = desk.call_panel
    incident = open_incident(qtbot, desk, "C3")
    call_id = answer_a_call(qtbot, desk)
    assert e.submit(cmd.SetCategory(seat=TRAINEE, call_id=call_id, category="C2"))
    call = desk.ctx.room.calls[call_id]
    # in the desk's read model only: the open incident at the caller's own place
    view = desk.ctx.room.incidents[incident]
    view.x, view.y = call.x, call.y
    cp.refresh()
    before = desk.ctx.commands_sent
    key(qtbot, desk, Qt.Key.Key_S)
    assert desk.ctx.commands_sent == before and e.calls[call_id].status != "closed"
    assert cp.link_warning.text().startswith(f"{incident} (C3 ")
    assert "is open 0 m from this caller: the same patient? Press S again" in cp.link_warning.text()
    key(qtbot, desk, Qt.Key.Key_S)
    assert e.calls[call_id].disposition == "dispatch"
    assert not cp.link_warning.isVisible()


def test_a_drop_on_an_incident_with_a_crew_on_scene_needs_a_second_drop(
    qtbot,
    make_desk,  # noqa: F811
) -> None:
    desk = make_desk()
    e = desk.engine
    panel = desk.dispatch_panel
    incident = open_incident(qtbot, desk, "C2")
    desk.ctx.select_incident(incident)
    desk.refresh_all()
    dca = next(r.key for r in panel.candidates.rows_model.rows if r.cells[1].text == "DCA")
    desk.map.dispatch_dropped.emit(dca, incident)  # uncovered: goes at once
    assert e.incidents[incident].vehicles == [dca]
    advance_until(desk, lambda: e.vehicles[dca].status == "on_scene", 3600, frame_s=5.0)
    desk.refresh_all()
    other = next(
        r.key
        for r in panel.candidates.rows_model.rows
        if r.cells[2].text == "available" and r.key != dca
    )
    desk.map.dispatch_dropped.emit(other, incident)
    assert e.incidents[incident].vehicles == [dca]
    callsign = desk.ctx.room.vehicles[dca].callsign
    assert panel.guard_label.text().startswith(f"{incident} already has {callsign} on scene.")
    assert "Drop it again to send" in panel.guard_label.text()
    panel.grab().save("/tmp/guard_on_scene.png")
    desk.map.dispatch_dropped.emit(other, incident)
    assert e.incidents[incident].vehicles == [dca, other]
