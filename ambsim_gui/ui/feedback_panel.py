"""Feedback at the desk: live KPIs, a card for each of the trainee's closed calls, the debrief.

One job: turning the assessment projections into what a trainee reads during and after a shift.

- ``KpiPanel``: response times per category (mean and 90th centile against the regime's
  standard, red/amber/green), hear-and-treat beside the English trusts' range (9.3%-20.8%,
  docs/domain.md, Outcomes), unnecessary dispatches by kind, unsafe advice and cost per
  incident, from ``ShiftMetrics.snapshot``; the colours are defined in docs/domain.md,
  "The desk's colours".
- ``FeedbackList``: one card per call the trainee closed (``FeedbackProjection`` records for the
  seat "trainee": what was done, what the protocol and the truth said, the timings), newest first.
  Each finding says who decided it: the trainee's own, the protocol's result, a colleague's or
  the clinical hub's (``add_later`` appends the hub's and the dispatchers' later decisions to
  the card); the totals count the trainee's own decisions only (``assess.feedback.tally``).
- ``DebriefDialog``: the end-of-shift figures in full (``format_kpi_table``) and every card.

The truth appears only here, after the fact: in a card once its call has closed, and in totals.
In assessment mode (``withhold``) not even that until the shift ends: a card says only what the
trainee did (the call, the category set, the decision, the timings), in one neutral colour, and
the KPIs leave out what judges the calls by the truth (avoidable dispatches, unsafe advice,
re-contacts, harm); ``reveal`` at the end of the shift fills every card and figure in.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from ambsim_gui.assess.feedback import (
    PROBLEM,
    CallFeedback,
    FeedbackProjection,
    LaterFinding,
    standing,
    summary_text,
    tally,
)
from ambsim_gui.assess.metrics import CategoryBlock, MetricsReport, ShiftMetrics
from ambsim_gui.assess.report_text import OUTCOME_REFERENCE, format_kpi_table
from ambsim_gui.ui.context import DeskContext
from ambsim_gui.ui.formatting import RAG_BACKGROUNDS, mmss, range_rag, target_rag
from ambsim_gui.ui.live import TRAINEE
from ambsim_gui.ui.table_model import KeyedTable, Row, cell

HT_RANGE = next(spread for key, _, spread, _ in OUTCOME_REFERENCE if key == "hear_and_treat")
"""Hear-and-treat across the English trusts, March 2025: 9.3% to 20.8% (docs/domain.md,
Outcomes)."""
assert HT_RANGE is not None
# NAO 2011: GBP per call, North East to Great Western (docs/domain.md, Resources and costs)
COST_RANGE = (144.0, 216.0)

GOOD_CARD = QColor("#e3f4e3")
BAD_CARD = QColor("#fbe4e4")
# the trainee's own decisions were right (or followed the protocol), someone else's were not
NOT_YOURS_CARD = QColor("#fdf1d6")
# assessment mode, before the end of the shift: one colour for every card (no verdict)
WITHHELD_CARD = QColor("#eef1f5")
WITHHELD_WORDS = "The truth and the verdict are shown when the shift ends (assessment mode)."
WITHHELD_KPI = "shown when the shift ends"


def withheld_text(record: CallFeedback) -> str:
    """A card in assessment mode: only what was done (the call, the category set, the decision
    and the timings: the first line of ``summary_text``), never the protocol's or the truth's
    view, the verdict, the ideal decision or its reason."""
    return summary_text(record).splitlines()[0] + "\n" + WITHHELD_WORDS


def card_colour(record: CallFeedback, later: list[LaterFinding]) -> QColor:
    """Green when the trainee's decisions matched the ideal and nobody's went wrong; amber when
    the trainee's were right (or the protocol's) but the protocol, a colleague or the hub
    missed; red for a problem or a non-ideal decision of the trainee's own."""
    state = standing(record)
    if state in ("problem", "not_ideal") or any(
        f.by == TRAINEE and f.kind == PROBLEM for f in later
    ):
        return BAD_CARD
    others_missed = state == "protocol" or any(
        kind == PROBLEM for _, by, kind in record.findings() if by != TRAINEE
    )
    if others_missed or any(f.kind == PROBLEM for f in later):
        return NOT_YOURS_CARD
    return GOOD_CARD if record.good else BAD_CARD


def worst(*rags: str) -> str:
    order = ("red", "amber", "green", "none")
    present = [r for r in rags if r != "none"]
    return min(present, key=order.index) if present else "none"


def category_rag(block: CategoryBlock) -> str:
    """A category's response times against its standard (share within, or mean and 90th)."""
    if block.count == 0:
        return "none"
    if block.standard_within_s is not None and block.standard_share is not None:
        share = block.share_within
        if share is None:
            return "none"
        if share >= block.standard_share:
            return "green"
        return "amber" if share >= block.standard_share - 0.1 else "red"
    return worst(
        target_rag(block.mean_response_s, block.standard_mean_s),
        target_rag(block.p90_response_s, block.standard_p90_s),
    )


class KpiPanel(QWidget):
    """The shift's key figures so far, coloured against the standards and references."""

    HEADERS = ("Measure", "So far", "Standard / reference")

    def __init__(
        self,
        ctx: DeskContext,
        metrics: ShiftMetrics,
        parent: QWidget | None = None,
        *,
        withhold: bool = False,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.metrics = metrics
        self.withheld = withhold
        """Assessment mode before the end of the shift: no figure that judges the calls by the
        truth (the room's response times, hear-and-treat, cost and handover are public)."""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.summary = QLabel("")
        self.summary.setObjectName("kpiSummary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = KeyedTable(self.HEADERS, self, wrap=True)
        self.table.setObjectName("kpiTable")
        self.table.selectable = False
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.set_column_widths([118, 150])
        layout.addWidget(self.table, 1)
        self.report: MetricsReport | None = None
        self.refresh()

    def refresh(self) -> None:
        r = self.metrics.snapshot(self.ctx.now)
        self.report = r
        rows: list[Row] = []
        for c, block in r.categories.items():
            rag = category_rag(block)
            if block.standard_within_s is not None:
                share = "-" if block.share_within is None else f"{block.share_within:.0%} within"
                value = f"{share}, mean {mmss(block.mean_response_s)} (n={block.count})"
            else:
                value = (
                    f"mean {mmss(block.mean_response_s)}, 90th {mmss(block.p90_response_s)}"
                    f" (n={block.count})"
                )
            rows.append(
                Row(
                    c,
                    (
                        cell(f"{c} response", bold=True),
                        cell(value, background=RAG_BACKGROUNDS[rag]),
                        cell(block.standard or "-"),
                    ),
                )
            )
        o = r.outcomes
        low, high = HT_RANGE  # type: ignore[misc]
        # a share of the incidents with an outcome; the open ones are counted beside it
        ht = o.hear_and_treat
        rows.append(
            Row(
                "ht",
                (
                    cell("Hear and treat", bold=True),
                    cell(
                        ("-" if ht is None else f"{ht:.1%} of {o.closed} closed")
                        + f" (open: {o.open})",
                        background=RAG_BACKGROUNDS[
                            range_rag(ht, low, high) if ht is not None else "none"
                        ],
                    ),
                    cell(f"trusts {low:.1%} to {high:.1%}"),
                ),
            )
        )
        if self.withheld:
            self._withheld_rows(r, rows)
        else:
            self._judged_rows(r, rows)
        cost = r.cost_per_incident
        rows.append(
            Row(
                "cost",
                (
                    cell("Cost per incident", bold=True),
                    cell(
                        "-" if cost is None else f"GBP {cost:,.0f}",
                        background=RAG_BACKGROUNDS[target_rag(cost, COST_RANGE[1])],
                    ),
                    cell(f"NAO 2011: GBP {COST_RANGE[0]:.0f}-{COST_RANGE[1]:.0f} per call"),
                ),
            )
        )
        h = r.handover
        rows.append(
            Row(
                "handover",
                (
                    cell("Handover", bold=True),
                    cell(
                        "-"
                        if h.count == 0
                        else f"mean {mmss(h.mean_s)}, {h.over_30_min or 0:.0%} over 30 min",
                        background=RAG_BACKGROUNDS[target_rag(h.mean_s, 15 * 60.0, slack=2.0)],
                    ),
                    cell("within 15 min, none over 30"),
                ),
            )
        )
        self.table.set_rows(rows)
        answer = mmss(r.answer_time_mean_s)
        self.summary.setText(
            f"{r.calls} calls ({r.calls_abandoned} abandoned, answer mean {answer}); "
            f"{r.incidents} incidents, {r.dispatches} dispatches"
        )

    def reveal(self) -> None:
        """The shift has ended: every figure, coloured."""
        self.withheld = False
        self.refresh()

    def _withheld_rows(self, r: MetricsReport, rows: list[Row]) -> None:
        """Assessment mode: what the room can see of dispatching (duplicates, stand-downs), and
        the rest kept for the end of the shift, uncoloured."""
        u = r.unnecessary_dispatches
        rows.append(
            Row(
                "unnecessary",
                (
                    cell("Unnecessary dispatches", bold=True),
                    cell(f"avoidable: {WITHHELD_KPI} ({r.dispatches} dispatches)"),
                    cell(f"duplicate {u.duplicate}, stood down {u.stood_down}"),
                ),
            )
        )
        rows.append(
            Row(
                "unsafe",
                (
                    cell("Unsafe advice", bold=True),
                    cell(WITHHELD_KPI),
                    cell(f"re-contacts and harm events: {WITHHELD_KPI}"),
                ),
            )
        )

    def _judged_rows(self, r: MetricsReport, rows: list[Row]) -> None:
        """Unnecessary dispatches and unsafe advice, coloured against their limits."""
        u = r.unnecessary_dispatches
        share = "" if u.share_of_dispatches is None else f" ({u.share_of_dispatches:.0%})"
        u_rag = (
            "none"
            if not r.dispatches
            else (
                "green"
                if (u.share_of_dispatches or 0) <= 0.05
                else "amber"
                if (u.share_of_dispatches or 0) <= 0.15
                else "red"
            )
        )
        rows.append(
            Row(
                "unnecessary",
                (
                    cell("Unnecessary dispatches", bold=True),
                    cell(f"{u.total} of {r.dispatches}{share}", background=RAG_BACKGROUNDS[u_rag]),
                    cell(
                        f"duplicate {u.duplicate}, stood down {u.stood_down},"
                        f" avoidable {u.avoidable}"
                    ),
                ),
            )
        )
        rows.append(
            Row(
                "unsafe",
                (
                    cell("Unsafe advice", bold=True),
                    cell(
                        str(r.unsafe_advice),
                        background=RAG_BACKGROUNDS["green" if r.unsafe_advice == 0 else "red"],
                    ),
                    cell(f"re-contacts {r.recontacts}, harm events {r.harm_events}"),
                ),
            )
        )


class _CardDelegate(QStyledItemDelegate):
    """A feedback card's size: its wrapped text and one more line, so the last line (the
    verdict) is never cut off where Qt paints the text narrower than it measured it."""

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width(), size.height() + option.fontMetrics.lineSpacing())


class FeedbackList(QWidget):
    """A card per call the trainee closed, newest first; ``card`` fires for a toast."""

    card = Signal(str, bool)
    """(text, good) of each new card (``good`` means nothing while ``withheld``)."""

    def __init__(self, parent: QWidget | None = None, *, withhold: bool = False) -> None:
        super().__init__(parent)
        self.withheld = withhold
        """Assessment mode before the end of the shift: cards say only what was done."""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.summary = QLabel(
            "Your calls are listed here as they close; their feedback is shown when the shift"
            " ends (assessment mode)."
            if withhold
            else "Feedback on each of your calls appears here as it closes."
        )
        self.summary.setObjectName("feedbackSummary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.list = QListWidget(self)
        self.list.setObjectName("feedbackCards")
        self.list.setWordWrap(True)
        # a long card is wrapped, never cut short with an ellipsis (its last line is its verdict)
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        # and sized again whenever the width changes (a scroll bar appearing narrows it), with a
        # line to spare: Qt measures the wrapped text a few pixels wider than it paints it
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setItemDelegate(_CardDelegate(self.list))
        self.list.setSpacing(3)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(self.list, 1)
        self.records: list[CallFeedback] = []
        self.later: list[LaterFinding] = []  # on the trainee's calls, or decided by the trainee
        self._items: dict[str, QListWidgetItem] = {}
        self._later_by_call: dict[str, list[LaterFinding]] = {}
        self._others: dict[str, CallFeedback] = {}  # colleagues' calls, listed if the trainee
        #                                             acts on them later (sends a vehicle)

    def add(self, record: CallFeedback, *, toast: bool = True) -> None:
        """List ``record`` if it is one of the trainee's calls (and announce it for a toast)."""
        if record.seat != TRAINEE and TRAINEE not in record.verdict_by:
            self._others[record.call_id] = record
            return
        self._list(record)
        if toast:
            self.card.emit(self._items[record.call_id].text(), record.good)

    def _list(self, record: CallFeedback) -> None:
        self.records.append(record)
        item = QListWidgetItem()
        self._items[record.call_id] = item
        self._show(record)
        self.list.insertItem(0, item)
        self._update_summary()

    def add_later(self, finding: LaterFinding) -> None:
        """Add a decision taken after a call closed (the clinical hub's outcome, a vehicle sent)
        to the call's card: shown as the decider's, counted only if it is the trainee's."""
        later = self._later_by_call.setdefault(finding.call_id, [])
        later.append(finding)
        if finding.call_id in self._items:
            self.later.append(finding)
            self._show(next(r for r in self.records if r.call_id == finding.call_id))
            self.list.doItemsLayout()  # the card grew: size the cards again
        elif finding.by == TRAINEE:
            self.later.append(finding)
            other = self._others.pop(finding.call_id, None)
            if other is not None:
                self._list(other)  # a colleague's call the trainee sent a vehicle to
        self._update_summary()

    def _show(self, record: CallFeedback) -> None:
        later = self._later_by_call.get(record.call_id, [])
        item = self._items[record.call_id]
        if self.withheld:
            text = withheld_text(record)
            item.setBackground(WITHHELD_CARD)
        else:
            text = summary_text(record, later)
            item.setBackground(card_colour(record, later))
        item.setText(text)
        item.setToolTip(text)

    def reveal(self) -> None:
        """The shift has ended: every card filled in (the truth, the verdicts, the colours)."""
        if not self.withheld:
            return
        self.withheld = False
        for record in self.records:
            self._show(record)
        self.list.doItemsLayout()  # the cards grew: size them again
        self._update_summary()

    def _update_summary(self) -> None:
        if self.withheld:
            n = len(self.records)
            self.summary.setText(
                f"{n} call{'' if n == 1 else 's'} closed so far; the feedback on each is shown"
                " when the shift ends (assessment mode)."
            )
            return
        self.summary.setText(tally(self.records, self.later).sentence())


class DebriefDialog(QDialog):
    """The end-of-shift debrief: every figure, and every card, in a monospace box."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("debrief")
        layout = QVBoxLayout(self)
        heading = QLabel(f"<b>{title}</b>")
        heading.setObjectName("debriefHeading")
        layout.addWidget(heading)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(max(10, font.pointSize()))
        self.text.setFont(font)
        self.text.setPlainText(text)
        layout.addWidget(self.text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        copy = QPushButton("Copy")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.text.toPlainText()))
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        width = self.text.fontMetrics().horizontalAdvance("x" * 102)
        self.resize(width + 60, 760)


def debrief_text(report: MetricsReport, feedback: FeedbackProjection, title: str) -> str:
    """The debrief's text: the full KPI table, then a paragraph per call of the trainee's."""
    parts = [format_kpi_table(report, title=title), "", "Your calls", "=" * 10]
    mine = [
        r
        for r in feedback.records
        if r.seat == TRAINEE
        or TRAINEE in r.verdict_by
        or any(f.by == TRAINEE for f in feedback.later_for(r.call_id))
    ]
    if not mine:
        parts.append("You closed no calls on this shift.")
    else:
        parts.append(tally(feedback.records, feedback.later).sentence())
        parts.append(
            "Each finding says who decided it; only your own decisions count in your score."
        )
    for record in mine:
        parts += ["", summary_text(record, feedback.later_for(record.call_id))]
    return "\n".join(parts)
