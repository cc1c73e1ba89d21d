"""The desk shows human words: no widget, table cell, tooltip or map label reads as an internal
snake_case id, and a refusal names a question by its text (pytest-qt, offscreen)."""

from __future__ import annotations

import re
from collections import Counter

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QGraphicsSimpleTextItem,
    QGraphicsTextItem,
    QGraphicsView,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)
from test_ui_desk import (  # noqa: F401 - the desk's own helpers and fixtures
    TRAINEE,
    advance,
    advance_until,
    answer_a_call,
    county,
    key,
    make_desk,
    small_room,
    triage_by_keys,
)

from ambsim_gui.labels import question_words
from ambsim_gui.sim import commands as cmd
from ambsim_gui.sim import events as ev
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.world import World

SNAKE_ID = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def _model_texts(model: QAbstractItemModel) -> list[str]:
    out = []
    for row in range(model.rowCount()):
        for col in range(model.columnCount()):
            index = model.index(row, col)
            for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                value = model.data(index, role)
                if isinstance(value, str):
                    out.append(value)
    for col in range(model.columnCount()):
        value = model.headerData(col, Qt.Orientation.Horizontal)
        if isinstance(value, str):
            out.append(value)
    return out


def visible_texts(root: QWidget) -> list[str]:
    """Every text the window can show: labels, buttons, lists, tables, text boxes, tooltips and
    the map's labels."""
    out: list[str] = []
    for w in [root, *root.findChildren(QWidget)]:
        out.append(w.toolTip())
        if isinstance(w, QLabel | QAbstractButton):
            out.append(w.text())
        if isinstance(w, QTextEdit | QPlainTextEdit):
            out.append(w.toPlainText())
        if isinstance(w, QListWidget):
            out += [w.item(i).text() for i in range(w.count())]
            out += [w.item(i).toolTip() for i in range(w.count())]
        elif isinstance(w, QAbstractItemView) and w.model() is not None:
            out += _model_texts(w.model())
        if isinstance(w, QGraphicsView) and w.scene() is not None:
            for item in w.scene().items():
                out.append(item.toolTip())
                if isinstance(item, QGraphicsSimpleTextItem):
                    out.append(item.text())
                elif isinstance(item, QGraphicsTextItem):
                    out.append(item.toPlainText())
    return out


def test_the_desk_shows_no_internal_id_and_refusals_name_the_question(
    qtbot,
    make_desk,  # noqa: F811 - the fixture
    county: World,  # noqa: F811 - the fixture
) -> None:
    engine = Engine(small_room(county), role="call_handler", duration_s=3600)
    desk = make_desk(engine)
    call_id = answer_a_call(qtbot, desk)
    call = engine.calls[call_id]
    desk.ctx.submit(cmd.AskQuestion(seat=TRAINEE, call_id=call_id, question_id="what_happened"))
    assert call.pending_question == "what_happened"
    # asking again before the caller has answered: refused, the question named by its words
    desk.ctx.submit(cmd.AskQuestion(seat=TRAINEE, call_id=call_id, question_id="age"))
    refused = [x for x in engine.events if isinstance(x, ev.CommandRejected)]
    assert refused and "'what_happened'" in refused[-1].reason  # the record keeps the id
    shown = desk.message_label.text()
    assert question_words("what_happened") in shown and "what_happened" not in shown

    triage_by_keys(qtbot, desk, call_id)
    key(qtbot, desk, Qt.Key.Key_Return)
    key(qtbot, desk, Qt.Key.Key_S)
    advance_until(desk, lambda: bool(desk.feedback_list.records), 600)
    advance(desk, 900, frame_s=30.0)  # vehicles out on jobs, more calls, other seats' work
    desk.refresh_all()
    QApplication.processEvents()

    texts = visible_texts(desk)
    assert any(call_id in t and "Truth:" in t for t in texts)  # the scan reads the feedback
    assert any("Okay, tell me exactly" in t for t in texts)  # and the refusal's message
    found = Counter(i for text in texts for i in SNAKE_ID.findall(text))
    assert found == Counter()
