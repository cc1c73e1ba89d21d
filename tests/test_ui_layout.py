"""The desk's layout holds still (pytest-qt, offscreen, the desk at 1600 x 1000).

A long question, header or category line wraps inside the left column instead of widening it
(which squeezed the map and hid board columns, then snapped back); a question keeps its number
key for as long as it is listed on a call; a dispatcher's desk has no call-handling column, its
width going to the map and the boards.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from test_ui_desk import (  # noqa: F401 - the fixtures
    TRAINEE,
    advance_until,
    answer_a_call,
    county,
    key,
    make_desk,
)

from ambsim_gui.ui.desk import DeskWindow

TOLERANCE_PX = 3


def widths(desk: DeskWindow) -> tuple[int, int, int]:
    """(left column, map, boards) in pixels, once the layouts have settled."""
    for _ in range(5):  # a new minimum size travels up the layouts over several passes
        QApplication.processEvents()
    left = desk.call_box.parentWidget()
    assert left is not None
    return left.width(), desk.map.width(), desk.boards.width()


def longest_question(desk: DeskWindow) -> str:
    questions = desk.ctx.protocol.questions
    return max((q.text for q in questions.values()), key=len)


def test_long_labels_wrap_and_the_left_column_keeps_its_width(qtbot, make_desk) -> None:  # noqa: F811
    desk = make_desk()
    answer_a_call(qtbot, desk)
    desk.refresh_all()
    before = widths(desk)
    panel = desk.call_panel
    text = longest_question(desk)
    assert len(text) > 100  # the protocol's longest: more than the column holds on one line
    long_lines = {
        panel.questions_label: f"Waiting for the caller to answer: {text}",
        panel.header: f"<b>C00001</b> {text}",
        panel.category_label: f"Category: C2  (OVERRIDE of the protocol's C3) {text}",
        panel.link_label: text,
        panel.recommendation: f"Protocol: C2 {text}",
    }
    for label, words in long_lines.items():
        label.setText(words)
    for button in panel.question_buttons:
        button.set_label_text(f"1   {text}  *")
    after = widths(desk)
    for name, was, now in zip(("left column", "map", "boards"), before, after, strict=True):
        assert abs(now - was) <= TOLERANCE_PX, f"the {name} went from {was} to {now} px"
    # the words are all there, wrapped onto more lines
    assert panel.questions_label.wordWrap() and panel.questions_label.height() > (
        2 * panel.questions_label.fontMetrics().height() - 2
    )
    desk.grab().save("/tmp/desk_long_labels.png")


def test_a_question_keeps_its_number_while_it_is_listed(qtbot, make_desk) -> None:  # noqa: F811
    desk = make_desk()
    e = desk.engine
    call_id = answer_a_call(qtbot, desk)
    call = e.calls[call_id]
    panel = desk.call_panel
    protocol = e.world.protocol
    for _ in range(4):
        desk.refresh_all()
        keys = {q: panel.question_key(q) for q in panel.question_ids() if q is not None}
        assert len(keys) >= 2, "fewer than two questions listed: nothing to keep in place"
        # ask one that is not on key 1, so that the ones before and after it must stay put
        asked = [q for q, k in keys.items() if k != "1"][0]
        key(qtbot, desk, getattr(Qt.Key, f"Key_{keys[asked]}"))
        assert call.pending_question == asked
        advance_until(desk, lambda: call.pending_question is None, 120, frame_s=0.5)
        desk.refresh_all()
        now = {q: panel.question_key(q) for q in panel.question_ids() if q is not None}
        for q, k in keys.items():
            if q != asked and q in now:
                assert now[q] == k, f"{q} moved from key {k} to {now[q]}"
        assert asked not in now
        # a question new to the list takes a free key: one no listed question holds
        taken = [k for k in now.values()]
        assert len(taken) == len(set(taken))
        if protocol.next_question(call.answers) is None:
            break


def test_a_dispatchers_desk_gives_the_call_column_to_the_boards(qtbot, make_desk) -> None:  # noqa: F811
    both = make_desk(role="both")
    _, map_both, boards_both = widths(both)
    dispatcher = make_desk(role="dispatcher")
    left = dispatcher.call_box.parentWidget()
    assert left is not None and not left.isVisible()
    _, map_d, boards_d = widths(dispatcher)
    # the call column's width (about 445 px of 1600) goes to the right-hand side
    assert boards_d >= boards_both + 200 and map_d >= map_both + 100
    dispatcher.grab().save("/tmp/desk_dispatcher.png")
