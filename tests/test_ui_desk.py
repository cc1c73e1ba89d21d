"""The trainee desk, driven as a trainee drives it: clicks and keys, offscreen (pytest-qt).

The shift runs on the default scenario, in a small room where the trainee is the only call
handler and the only dispatcher (so no virtual colleague takes the call or the dispatch first).
Time is advanced with ``SimClock.advance_to``, which refreshes the desk as the timer would.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QPushButton

from ambsim_gui.headless import build_from
from ambsim_gui.paths import DEFAULT_SCENARIO
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.world import World
from ambsim_gui.ui.desk import DeskWindow
from ambsim_gui.ui.shortcuts import SHORTCUTS, help_rows
from ambsim_gui.ui.table_model import KeyedTable

TRAINEE = "trainee"


@pytest.fixture(scope="session")
def county() -> World:
    return build_from(load_scenario(DEFAULT_SCENARIO))


def small_room(world: World, *, handlers: int = 1, dispatchers: int = 1) -> World:
    """The same world with a control room of ``handlers`` call handlers and ``dispatchers``."""
    room = world.scenario.control_room.model_copy(
        update={"call_handlers": handlers, "dispatchers": dispatchers}
    )
    return dataclasses.replace(
        world, scenario=world.scenario.model_copy(update={"control_room": room})
    )


@pytest.fixture
def make_desk(qtbot, county: World) -> Iterator[Callable[..., DeskWindow]]:
    made: list[DeskWindow] = []

    def make(engine: Engine | None = None, *, role: str = "both", **kwargs: object) -> DeskWindow:
        if engine is None:
            engine = Engine(small_room(county), role=role)
        desk = DeskWindow(engine, **kwargs)  # type: ignore[arg-type]
        qtbot.addWidget(desk)
        with qtbot.waitActive(desk):
            desk.show()
        made.append(desk)
        return desk

    yield make
    for desk in made:
        assert desk.errors == [], desk.errors


def advance(desk: DeskWindow, seconds: float, frame_s: float = 1.0) -> None:
    desk.clock.advance_to(desk.engine.now + seconds, frame_s=frame_s)
    QApplication.processEvents()


def advance_until(
    desk: DeskWindow, done: Callable[[], bool], limit_s: float, frame_s: float = 1.0
) -> None:
    end = desk.engine.now + limit_s
    while not done():
        assert desk.engine.now < end, f"not done after {limit_s} s of simulated time"
        advance(desk, frame_s, frame_s)


def key(qtbot, desk: DeskWindow, k: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(desk.call_panel.transcript, k, modifier)


def click(qtbot, button: QPushButton) -> None:
    assert button.isEnabled(), f"{button.objectName()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def click_row(qtbot, table: KeyedTable, key_: str, double: bool = False) -> None:
    row = table.rows_model.row_of(key_)
    assert row >= 0, f"{key_} not in {table.objectName()}"
    table.scrollTo(table.rows_model.index(row, 0))
    rect = table.visualRect(table.rows_model.index(row, 0))
    pos = QPoint(rect.center())
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    if double:  # a real double-click: press and release, then the double-click
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def answer_a_call(qtbot, desk: DeskWindow, *, by_key: bool = True) -> str:
    """Wait for a call to ring and answer it (Space, or a double-click in the queue)."""
    e = desk.engine
    advance_until(desk, lambda: bool(e.ringing) and e.seats[TRAINEE].free, 3600)
    desk.refresh_all()
    if by_key:
        key(qtbot, desk, Qt.Key.Key_Space)
    else:
        click_row(qtbot, desk.call_queue.table, e.ringing[0], double=True)
    call_id = e.seats[TRAINEE].call_id
    assert call_id is not None
    return call_id


def triage_by_clicks(qtbot, desk: DeskWindow, call_id: str) -> None:
    """Click the highlighted (recommended) question until the protocol is complete."""
    e = desk.engine
    call = e.calls[call_id]
    for _ in range(20):
        if e.world.protocol.next_question(call.answers) is None:
            return
        recommended = [
            b for b in desk.call_panel.question_buttons if b.objectName() == "questionRecommended"
        ]
        assert len(recommended) == 1
        click(qtbot, recommended[0])
        assert call.pending_question is not None
        advance_until(desk, lambda: call.pending_question is None, 120, frame_s=0.5)
    raise AssertionError("the protocol never completed")


def triage_by_keys(qtbot, desk: DeskWindow, call_id: str) -> None:
    """Press the recommended question's number until the protocol completes (a question keeps
    its number while it is listed, so the recommended one is not always 1)."""
    e = desk.engine
    call = e.calls[call_id]
    for _ in range(20):
        recommended = e.world.protocol.next_question(call.answers)
        if recommended is None:
            return
        desk.call_panel.refresh()
        number = desk.call_panel.question_key(recommended)
        assert number is not None, f"{recommended} has no key"
        key(qtbot, desk, getattr(Qt.Key, f"Key_{number}"))
        assert call.pending_question is not None
        advance_until(desk, lambda: call.pending_question is None, 120, frame_s=0.5)
    raise AssertionError("the protocol never completed")


def trainee_events(desk: DeskWindow, kind: type[ev.Event]) -> list[ev.Event]:
    return [x for x in desk.engine.events if isinstance(x, kind)]


# --- a whole call, from ringing to a vehicle on scene -----------------------------------------


def test_trainee_answers_triages_dispatches_and_sees_the_kpi_change(qtbot, make_desk) -> None:
    desk = make_desk()
    e = desk.engine
    call_id = answer_a_call(qtbot, desk)
    call = e.calls[call_id]
    assert call.opening in desk.call_panel.transcript.toPlainText()
    assert call_id in desk.call_panel.header.text()

    triage_by_clicks(qtbot, desk, call_id)
    transcript = desk.call_panel.transcript.toPlainText()
    for text in call.answer_texts.values():
        assert text in transcript  # the caller's words, as they arrived
    assessment = call.assessment
    assert assessment is not None and assessment.category is not None
    assert assessment.category in desk.call_panel.recommendation.text()

    click(qtbot, desk.call_panel.accept_button)
    assert call.category == assessment.category
    assert "as the protocol advises" in desk.call_panel.category_label.text()

    click(qtbot, desk.call_panel.dispatch_button)
    assert call.status == "closed" and call.disposition == "dispatch"
    incident = e.incidents[call.incident_id]
    assert incident.queued
    desk.refresh_all()

    click_row(qtbot, desk.dispatch_panel.queue, incident.id)
    assert desk.ctx.selected_incident == incident.id
    assert incident.id in desk.dispatch_panel.incident_label.text()
    candidates = desk.dispatch_panel.candidates
    assert candidates.rows_model.rows, "no candidate vehicles"
    etas = [r.cells[3].text for r in candidates.rows_model.rows]
    assert all(t.endswith("min") for t in etas)  # ETAs shown before committing
    dca = next(r.key for r in candidates.rows_model.rows if r.cells[1].text == "DCA")
    click_row(qtbot, candidates, dca)
    assert desk.dispatch_panel.selected_candidate() == dca

    before = desk.metrics.snapshot(e.now).categories[incident.category].count
    kpi_before = desk.kpis.table.rows_model.rows[int(incident.category[1]) - 1].cells[1].text
    click(qtbot, desk.dispatch_panel.dispatch_button)
    assert dca in incident.vehicles
    assert e.vehicles[dca].status == "mobilising"

    advance_until(desk, lambda: e.vehicles[dca].status == "on_scene", 3600, frame_s=5.0)
    desk.refresh_all(kpis=True)
    after = desk.metrics.snapshot(e.now).categories[incident.category].count
    kpi_after = desk.kpis.table.rows_model.rows[int(incident.category[1]) - 1].cells[1].text
    assert after == before + 1
    assert kpi_after != kpi_before and f"n={after}" in kpi_after
    board = desk.boards.incidents.table.rows_model
    row = board.rows[board.row_of(incident.id)] if board.row_of(incident.id) >= 0 else None
    if row is not None:  # still open: the board says so
        assert row.cells[7].text == "on scene"


def test_link_a_duplicate_caller(qtbot, make_desk) -> None:
    desk = make_desk()
    e = desk.engine
    for _ in range(60):
        call_id = answer_a_call(qtbot, desk)
        desk.call_panel.refresh()
        nearby = desk.call_panel.nearby
        if nearby.count():
            break
        # no incident near this caller: open one quickly and take the next call
        assert e.submit(cmd.SetCategory(seat=TRAINEE, call_id=call_id, category="C3"))
        assert e.submit(cmd.SendToDispatch(seat=TRAINEE, call_id=call_id))
    else:
        pytest.fail("no caller ever rang near an open incident")
    first = nearby.item(0).data(Qt.ItemDataRole.UserRole)
    text = nearby.item(0).text()
    assert first in text and ", opened " in text and e.incidents[first].category in text
    # the list is ranked by likely match (same complaint first), not by distance alone; every
    # row is within 1 km and starts with its distance
    nearest = desk.call_panel.nearby_incidents(desk.ctx.room.calls[call_id])
    assert all(d <= 1000.0 for d, _ in nearest) and text.startswith(f"{nearest[0][0]:.0f} m")
    assert desk.call_panel.link_button.isEnabled()
    key(qtbot, desk, Qt.Key.Key_L)
    if desk.call_panel.guard.pending is not None:  # another complaint or far: L again links
        assert not trainee_events(desk, ev.CallLinked)
        key(qtbot, desk, Qt.Key.Key_L)
    linked = trainee_events(desk, ev.CallLinked)
    assert linked and linked[-1].call_id == call_id and linked[-1].incident_id == first
    assert e.calls[call_id].disposition == "linked"
    assert call_id in e.incidents[first].call_ids


def test_refer_to_the_clinical_hub_by_keyboard(qtbot, make_desk) -> None:
    desk = make_desk()
    e = desk.engine
    for _ in range(40):
        call_id = answer_a_call(qtbot, desk, by_key=False)
        triage_by_keys(qtbot, desk, call_id)
        call = e.calls[call_id]
        a = call.assessment
        key(qtbot, desk, Qt.Key.Key_Return)  # accept the protocol's category
        assert a is not None and call.category == a.category
        if a.validation and a.category != "C1":
            break
        key(qtbot, desk, Qt.Key.Key_S)  # not for the hub: send it to dispatch
        assert call.disposition == "dispatch"
    else:
        pytest.fail("no call was eligible for the clinical hub")
    assert desk.call_panel.hub_button.isEnabled()
    key(qtbot, desk, Qt.Key.Key_H)
    assert call.disposition == "hub"
    queued = [x for x in trainee_events(desk, ev.HubQueued) if x.incident_id == call.incident_id]
    assert queued and queued[0].reason == "referral"
    desk.boards.setCurrentWidget(desk.boards.hub)
    desk.refresh_all()
    hub_rows = desk.boards.hub.table.rows_model
    in_callback = call.incident_id not in [i.id for i in e.hub.stack]
    assert hub_rows.row_of(call.incident_id) >= 0 or in_callback


def test_category_override_shows_as_an_override(qtbot, make_desk) -> None:
    desk = make_desk()
    e = desk.engine
    call_id = answer_a_call(qtbot, desk)
    triage_by_keys(qtbot, desk, call_id)
    call = e.calls[call_id]
    assert call.assessment is not None and call.assessment.category is not None
    other = "C1" if call.assessment.category != "C1" else "C2"
    key(qtbot, desk, getattr(Qt.Key, f"Key_{other[1]}"), Qt.KeyboardModifier.ControlModifier)
    assert call.category == other
    assert "OVERRIDE" in desk.call_panel.category_label.text()
    assert "OVERRIDE" in desk.call_panel.transcript.toPlainText()


# --- refusals, roles, modes --------------------------------------------------------------------


def test_illegal_actions_are_refused_with_the_engines_reason(qtbot, make_desk) -> None:
    desk = make_desk()
    answer_a_call(qtbot, desk)
    assert not desk.call_panel.dispatch_button.isEnabled()  # disabled where possible ...
    key(qtbot, desk, Qt.Key.Key_S)  # ... and refused with the reason otherwise
    refused = [x for x in trainee_events(desk, ev.CommandRejected) if x.seat == TRAINEE]
    assert refused and refused[-1].reason == "set a category first"
    assert "set a category first" in desk.message_label.text()

    key(qtbot, desk, Qt.Key.Key_A)  # answer again while on a call
    refused = [x for x in trainee_events(desk, ev.CommandRejected) if x.seat == TRAINEE]
    assert "already on call" in refused[-1].reason
    assert refused[-1].reason in desk.message_label.text()


def test_dispatcher_role_disables_the_call_panel(qtbot, make_desk, county: World) -> None:
    desk = make_desk(Engine(county, role="dispatcher"))
    assert not desk.call_panel.isEnabled()
    assert "dispatcher" in desk.role_label.text()
    advance_until(desk, lambda: bool(desk.engine.ringing), 1800)
    key(qtbot, desk, Qt.Key.Key_Space)
    assert desk.engine.seats[TRAINEE].call_id is None
    assert "dispatcher" in desk.message_label.text()


def test_call_handler_role_makes_dispatch_read_only(qtbot, make_desk, county: World) -> None:
    desk = make_desk(Engine(county, role="call_handler"))
    assert "call handler" in desk.role_label.text()
    advance_until(desk, lambda: bool(desk.engine.open_incidents()), 3600, frame_s=5.0)
    inc = desk.engine.open_incidents()[0]
    desk.ctx.select_incident(inc.id)
    desk.refresh_all()
    assert "Read-only" in desk.dispatch_panel.mode_label.text()
    panel = desk.dispatch_panel
    for b in (panel.dispatch_button, panel.divert_button, panel.stand_down_button):
        assert not b.isEnabled()
    key(qtbot, desk, Qt.Key.Key_D)
    assert "call handler" in desk.message_label.text()


def test_assessment_mode_hides_suggestions(qtbot, make_desk, county: World) -> None:
    engine = Engine(small_room(county))
    desk = make_desk(engine, assessment=True)
    call_id = answer_a_call(qtbot, desk)
    engine.submit(cmd.SetCategory(seat=TRAINEE, call_id=call_id, category="C2"))
    engine.submit(cmd.SendToDispatch(seat=TRAINEE, call_id=call_id))
    inc_id = engine.calls[call_id].incident_id
    desk.ctx.select_incident(inc_id)
    desk.refresh_all()
    rows = desk.dispatch_panel.candidates.rows_model.rows
    assert rows and all(r.cells[3].text == "hidden" for r in rows)
    callsigns = [r.cells[0].text for r in rows]
    assert callsigns == sorted(callsigns)
    assert desk.dispatch_panel.selected_candidate() is None  # no top suggestion
    assert not desk.dispatch_panel.dispatch_button.isEnabled()
    click_row(qtbot, desk.dispatch_panel.candidates, rows[0].key)
    click(qtbot, desk.dispatch_panel.dispatch_button)
    assert rows[0].key in engine.incidents[inc_id].vehicles


def test_dispatch_top_suggestion_divert_and_stand_down(qtbot, make_desk) -> None:
    desk = make_desk()
    e = desk.engine
    incidents = []
    for category in ("C3", "C1"):
        call_id = answer_a_call(qtbot, desk)
        e.submit(cmd.SetCategory(seat=TRAINEE, call_id=call_id, category=category))
        e.submit(cmd.SendToDispatch(seat=TRAINEE, call_id=call_id))
        incidents.append(e.calls[call_id].incident_id)
    low, high = incidents
    desk.ctx.select_incident(low)
    desk.refresh_all()
    top = desk.dispatch_panel.selected_candidate()
    assert top == desk.dispatch_panel.candidates.rows_model.rows[0].key  # nearest first
    key(qtbot, desk, Qt.Key.Key_D)
    assert top in e.incidents[low].vehicles

    desk.ctx.select_incident(high)
    desk.refresh_all()
    rows = desk.dispatch_panel.candidates.rows_model.rows
    divertable = next(r for r in rows if r.key == top)
    assert divertable.cells[4].text.startswith("divert from C3")
    click_row(qtbot, desk.dispatch_panel.candidates, top)
    assert desk.dispatch_panel.divert_button.isEnabled()
    click(qtbot, desk.dispatch_panel.divert_button)
    assert top in e.incidents[high].vehicles and e.incidents[low].queued

    desk.refresh_all()
    click_row(qtbot, desk.dispatch_panel.assigned, top)
    click(qtbot, desk.dispatch_panel.stand_down_button)
    assert top in e.incidents[high].vehicles  # a stand-down is guarded: the second press goes
    click(qtbot, desk.dispatch_panel.stand_down_button)
    assert top not in e.incidents[high].vehicles
    assert any(isinstance(x, ev.VehicleStoodDown) and x.reason == "stand_down" for x in e.events)


# --- keyboard, clock, help, feedback, errors ---------------------------------------------------


def test_keys_pause_and_change_speed_and_help_lists_every_shortcut(qtbot, make_desk) -> None:
    desk = make_desk()
    desk.start()
    assert not desk.clock.paused and desk.clock.speed == 1
    key(qtbot, desk, Qt.Key.Key_P)
    assert desk.clock.paused and "PAUSED" in desk.paused_label.text()
    key(qtbot, desk, Qt.Key.Key_P)
    assert not desk.clock.paused
    key(qtbot, desk, Qt.Key.Key_Plus)
    key(qtbot, desk, Qt.Key.Key_BracketRight)
    assert desk.clock.speed == 4 and desk.speed_label.text() == "4x"
    key(qtbot, desk, Qt.Key.Key_Minus)
    key(qtbot, desk, Qt.Key.Key_BracketLeft)
    key(qtbot, desk, Qt.Key.Key_BracketLeft)
    assert desk.clock.speed == 1
    for _ in range(10):
        desk.clock.faster()
    assert desk.clock.speed == 64

    key(qtbot, desk, Qt.Key.Key_F1)
    assert desk.help.isVisible()
    from PySide6.QtWidgets import QLabel

    shown = " ".join(label.text() for label in desk.help.findChildren(QLabel))
    for _group, keys, what in help_rows():
        assert what in shown and keys in shown
    actions = desk.actions_by_name()
    assert {s.action for s in SHORTCUTS} <= set(actions)
    key(qtbot, desk, Qt.Key.Key_Escape)
    assert not desk.help.isVisible()


def test_clock_steps_with_wall_time_times_speed(qtbot, make_desk) -> None:
    desk = make_desk()
    clock = desk.clock
    clock.start()
    clock.set_speed(8)
    t0 = desk.engine.now
    clock.tick(0.016)
    assert desk.engine.now == pytest.approx(t0 + 0.016 * 8)
    clock.set_paused(True)
    clock.tick(0.5)
    assert desk.engine.now == pytest.approx(t0 + 0.016 * 8)  # pause = not stepping
    clock.set_paused(False)
    start = desk.engine.scenario.start
    qtbot.waitUntil(lambda: desk.engine.now > t0 + 0.2, timeout=3000)  # the real timer
    assert desk.clock_label.text().startswith(start[:2])


def test_feedback_card_for_each_closed_call_and_a_debrief_at_the_end(
    qtbot, make_desk, county: World
) -> None:
    engine = Engine(small_room(county), duration_s=1800)
    desk = make_desk(engine)
    call_id = answer_a_call(qtbot, desk)
    triage_by_keys(qtbot, desk, call_id)
    key(qtbot, desk, Qt.Key.Key_Return)
    key(qtbot, desk, Qt.Key.Key_S)
    advance_until(desk, lambda: bool(desk.feedback_list.records), 600)
    record = desk.feedback_list.records[0]
    assert record.call_id == call_id and record.seat == TRAINEE
    card = desk.feedback_list.list.item(0).text()
    assert call_id in card and "Protocol:" in card and "Truth:" in card and "Verdict:" in card
    assert desk.toast.isVisible() and call_id in desk.toast.text()

    advance_until(desk, lambda: engine.finished, 3600, frame_s=30.0)
    assert desk.debrief is not None and desk.debrief.isVisible()
    text = desk.debrief.text.toPlainText()
    assert "Response times" in text and "Your calls" in text and call_id in text
    assert "SHIFT ENDED" in desk.paused_label.text()


def test_an_exception_in_a_slot_shows_a_dialog_and_the_shift_carries_on(qtbot, make_desk) -> None:
    before = sys.excepthook
    desk = make_desk()
    assert sys.excepthook == desk._excepthook

    def broken() -> None:
        raise RuntimeError("boom in a slot")

    QTimer.singleShot(0, broken)
    qtbot.waitUntil(lambda: bool(desk.errors), timeout=3000)
    assert isinstance(desk.errors[0], RuntimeError)
    assert desk._error_box is not None and desk._error_box.isVisible()
    assert "boom in a slot" in desk._error_box.text()
    assert "boom in a slot" in desk.message_label.text()
    t = desk.engine.now
    advance(desk, 30)
    assert desk.engine.now == pytest.approx(t + 30)
    desk.errors.clear()
    desk.close()
    assert sys.excepthook is before  # handed back on close
