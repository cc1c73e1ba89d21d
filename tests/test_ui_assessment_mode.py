"""Assessment mode and the instructor's controls at the desk, driven as a trainee (pytest-qt).

In assessment mode the trainee sees no truth, verdict or suggestion until the shift ends: the
feedback cards and their toasts say only what was done, the live KPIs leave out the figures that
judge the calls by the truth, and the end of the shift fills everything in. The same call on the
same seed in normal mode shows the truth and the verdict at once (the comparison). The Instructor
tab (live injects) is on the desk only when asked for (``desk --instructor``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from test_ui_desk import (  # noqa: F401 - the fixtures
    advance_until,
    answer_a_call,
    county,
    key,
    make_desk,
    small_room,
    triage_by_keys,
)

from ambsim_gui import cli
from ambsim_gui.assess.feedback import CallFeedback, summary_text
from ambsim_gui.labels import ideal_words, outcome_words
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.world import World
from ambsim_gui.ui.desk import DeskWindow
from ambsim_gui.ui.feedback_panel import (
    WITHHELD_CARD,
    WITHHELD_KPI,
    WITHHELD_WORDS,
)

SHOTS = Path("/tmp")


def one_closed_call(qtbot, make_desk, county: World, *, assessment: bool) -> DeskWindow:  # noqa: ANN001, F811
    """A 30-minute shift on the default seed: the trainee answers the first call, triages it by
    the protocol, accepts its category and sends it to dispatch; the desk shows its card."""
    engine = Engine(small_room(county), duration_s=1800)
    desk = make_desk(engine, assessment=assessment)
    call_id = answer_a_call(qtbot, desk)
    triage_by_keys(qtbot, desk, call_id)
    key(qtbot, desk, Qt.Key.Key_Return)
    key(qtbot, desk, Qt.Key.Key_S)
    advance_until(desk, lambda: bool(desk.feedback_list.records), 600)
    return desk


def truth_words(record: CallFeedback) -> list[str]:
    """What a normal-mode card tells of the truth and the judgement, never the trainee's own."""
    words = ["Truth:", "Verdict:", "Protocol:", f"needed {outcome_words(record.need)}"]
    if record.ideal is not None:
        words.append(f"ideal: {ideal_words(record.ideal)}")
    if record.ideal_reason:
        words.append(record.ideal_reason)
    return words


def kpi_cells(desk: DeskWindow, key_: str) -> list[str]:
    rows = {r.key: r for r in desk.kpis.table.rows_model.rows}
    return [c.text for c in rows[key_].cells]


def test_assessment_mode_withholds_the_truth_until_the_shift_ends(
    qtbot,  # noqa: ANN001
    make_desk,  # noqa: ANN001, F811
    county: World,  # noqa: F811
) -> None:
    normal = one_closed_call(qtbot, make_desk, county, assessment=False)
    assessed = one_closed_call(qtbot, make_desk, county, assessment=True)
    shown, hidden = normal.feedback_list.records[0], assessed.feedback_list.records[0]
    # the same seed, the same keys: the same call, the same patient
    assert (shown.call_id, shown.true_category, shown.need, shown.ideal) == (
        hidden.call_id,
        hidden.true_category,
        hidden.need,
        hidden.ideal,
    )
    assert shown.patient_id is not None and shown.true_category is not None
    words = truth_words(shown)
    normal_card = normal.feedback_list.list.item(0).text()
    assert all(w in normal_card for w in words), (words, normal_card)

    card = assessed.feedback_list.list.item(0)
    text = card.text()
    # only what the trainee did: the call, the decision, the category set
    # named as everywhere else: the call, and the incident number it opened
    assert text.startswith(
        f"{hidden.call_id} (your call, incident {hidden.incident_id}): sent for a vehicle"
    )
    assert hidden.category_set is not None and f"as {hidden.category_set}" in text
    assert WITHHELD_WORDS in text
    for w in words:
        assert w not in text, (w, text)
        assert w not in card.toolTip()
        assert w not in assessed.feedback_list.summary.text()
    assert card.background().color() == WITHHELD_CARD  # no verdict colour
    # the toast says no more than the card, in the neutral colour
    assert assessed.toast.isVisible() and assessed.toast.text() == text
    assert assessed.toast.property("good") == "neutral"
    assert normal.toast.property("good") in ("true", "false")
    SHOTS.mkdir(exist_ok=True)
    assessed.feedback_tabs.setCurrentWidget(assessed.feedback_list)
    assert assessed.grab().save(str(SHOTS / "assess_cards.png"))
    # the KPIs: the room's response times are public; the judged figures wait
    assessed.feedback_tabs.setCurrentWidget(assessed.kpis)
    assessed.kpis.refresh()
    assert kpi_cells(assessed, "unsafe")[1] == WITHHELD_KPI
    assert "avoidable" not in kpi_cells(assessed, "unnecessary")[2]
    assert "harm events" in kpi_cells(normal, "unsafe")[2]
    assert "harm events 0" not in " ".join(kpi_cells(assessed, "unsafe"))
    for key_ in ("unsafe", "unnecessary"):
        row = next(r for r in assessed.kpis.table.rows_model.rows if r.key == key_)
        assert all(c.background is None for c in row.cells), key_
    assert any(r.key == "C1" for r in assessed.kpis.table.rows_model.rows)
    assert assessed.grab().save(str(SHOTS / "assess.png"))
    assert normal.grab().save(str(SHOTS / "assess_normal.png"))

    # the end of the shift reveals everything: the card fills in, the figures come back
    advance_until(assessed, lambda: assessed.engine.finished, 3600, frame_s=30.0)
    assert not assessed.feedback_list.withheld and not assessed.kpis.withheld
    assert not assessed.toast.isVisible()  # the withheld toast is gone with the withholding
    item = next(
        assessed.feedback_list.list.item(i)
        for i in range(assessed.feedback_list.list.count())
        if assessed.feedback_list.list.item(i).text().startswith(hidden.call_id)
    )
    revealed = item.text()
    assert all(w in revealed for w in words), (words, revealed)
    assert revealed.startswith(summary_text(hidden).splitlines()[0])
    assert WITHHELD_WORDS not in revealed
    assert item.background().color() != WITHHELD_CARD
    assert "assessment mode" not in assessed.feedback_list.summary.text()
    assert "harm events" in kpi_cells(assessed, "unsafe")[2]
    assert kpi_cells(assessed, "unsafe")[1] != WITHHELD_KPI
    assert assessed.debrief is not None and "Truth:" in assessed.debrief.text.toPlainText()
    assessed.feedback_tabs.setCurrentWidget(assessed.feedback_list)
    assert assessed.grab().save(str(SHOTS / "assess_revealed.png"))


def test_no_instructor_tab_on_a_trainees_desk(qtbot, make_desk) -> None:  # noqa: ANN001, F811
    trainee = make_desk()
    tabs = [trainee.feedback_tabs.tabText(i) for i in range(trainee.feedback_tabs.count())]
    assert tabs == ["Live KPIs", "Your calls"]
    assert trainee.instructor is None
    assert "instructor" not in trainee.role_label.text()

    instructor = make_desk(instructor=True)
    tabs = [instructor.feedback_tabs.tabText(i) for i in range(instructor.feedback_tabs.count())]
    assert tabs == ["Live KPIs", "Your calls", "Instructor"]
    assert instructor.instructor is not None
    assert "instructor controls" in instructor.role_label.text()
    instructor.feedback_tabs.setCurrentWidget(instructor.instructor)
    assert instructor.grab().save(str(SHOTS / "instructor.png"))


def test_the_instructor_flag_reaches_the_desk(monkeypatch) -> None:  # noqa: ANN001
    from ambsim_gui.ui import app

    seen = []

    def fake_run_desk(world, options, *, title=None, loaded=None):  # type: ignore[no-untyped-def]
        seen.append(options)
        return 0

    monkeypatch.setattr(app, "run_desk", fake_run_desk)
    assert cli.main(["desk", "--no-record"]) == 0
    assert cli.main(["desk", "--no-record", "--instructor", "--assessment"]) == 0
    assert [(o.instructor, o.assessment) for o in seen] == [(False, False), (True, True)]
    assert app.DeskOptions().instructor is False
