"""The call queue: 999 calls ringing, and the calls on the room's lines, with their waits.

One job: ``CallQueuePanel`` lists ringing calls oldest first, their wait coloured as it grows
(amber after 10 s, red after 30 s), then the calls already answered on some seat. A call the
call distributor offers to the trainee says so ("FOR YOU", with the seconds left before the
colleagues may take it; a teaching call stays for the trainee). A double-click or the Answer
button answers the chosen call; "Answer next" (Space) takes the call offered to the trainee,
else the oldest.
"""

from __future__ import annotations

import math

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ambsim_gui.sim import commands as cmd
from ambsim_gui.ui.context import DeskContext
from ambsim_gui.ui.formatting import RAG_BACKGROUNDS, mmss, wait_rag
from ambsim_gui.ui.live import TRAINEE
from ambsim_gui.ui.table_model import Cell, KeyedTable, Row, cell

OFFER_BACKGROUND = QColor("#cfe3ff")
"""A call offered to the trainee: the distributor's blue, apart from the waits' colours."""


class CallQueuePanel(QWidget):
    """Ringing and answered calls; answering goes through ``DeskContext.submit``."""

    HEADERS = ("Call", "Wait", "Area", "Line")

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel("No calls waiting")
        self.summary.setObjectName("queueSummary")
        layout.addWidget(self.summary)
        self.table = KeyedTable(self.HEADERS, self)
        self.table.setObjectName("callQueue")
        self.table.set_column_widths([78, 64, 150])
        self.table.key_activated.connect(self.answer)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.answer_next = QPushButton("Answer next  [Space]")
        self.answer_next.setObjectName("answerNext")
        self.answer_next.clicked.connect(lambda: self.answer(None))
        self.answer_selected = QPushButton("Answer selected")
        self.answer_selected.setObjectName("answerSelected")
        self.answer_selected.clicked.connect(self._answer_selected)
        for b in (self.answer_next, self.answer_selected):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.refresh()

    def _answer_selected(self) -> None:
        key = self.table.selected_key
        if key is None:
            self.ctx.say("Select a ringing call first (or press Space for the oldest)", "warning")
            return
        self.answer(key)

    def answer(self, call_id: str | None) -> bool:
        """Answer ``call_id`` (None: the oldest ringing call) on the trainee's line."""
        if not self.ctx.handles_calls:
            self.ctx.say("You are the dispatcher: your colleagues take the calls", "warning")
            return False
        if call_id is None:
            call_id = self.next_call()
        return self.ctx.submit(cmd.AnswerCall(seat=TRAINEE, call_id=call_id))

    def next_call(self) -> str | None:
        """The call Space answers: the oldest offered to the trainee, else the oldest ringing
        (None: the engine's oldest, and its reason if there is none)."""
        room = self.ctx.room
        for call_id in room.ringing:
            offer = room.offers.get(call_id)
            if offer is not None and offer[0] == TRAINEE:
                return call_id
        return room.ringing[0] if room.ringing else None

    def offer_text(self, call_id: str) -> str:
        """How the Line column shows a call kept for the trainee ("" when it is not)."""
        offer = self.ctx.room.offers.get(call_id)
        if offer is None or offer[0] != TRAINEE:
            return ""
        until = offer[1]
        if until is None:
            return "FOR YOU"
        return f"FOR YOU {max(0, math.ceil(until - self.ctx.now))} s"

    def _line_cell(self, call_id: str, opening: str) -> Cell:
        offered = self.offer_text(call_id)
        if offered:
            return cell(offered, bold=True, background=OFFER_BACKGROUND, tooltip=opening)
        return cell("ringing", tooltip=opening)

    def refresh(self) -> None:
        """Redraw from the read model (the slow refresh)."""
        room = self.ctx.room
        now = self.ctx.now
        rows: list[Row] = []
        for call_id in room.ringing:
            call = room.calls[call_id]
            waited = now - call.t_arrive
            rag = wait_rag(waited)
            rows.append(
                Row(
                    call_id,
                    (
                        cell(call_id, bold=True),
                        cell(mmss(waited), background=RAG_BACKGROUNDS[rag], align_right=True),
                        cell(call.area),
                        self._line_cell(call_id, call.opening),
                    ),
                )
            )
        n_ringing = len(rows)
        for seat_id in self.ctx.setup.seats:
            seat = room.seats.get(seat_id)
            if seat is None or seat.call_id is None:
                continue
            call = room.calls[seat.call_id]
            on_call = now - (call.t_answered if call.t_answered is not None else call.t_arrive)
            mine = seat.id == TRAINEE
            rows.append(
                Row(
                    call.id,
                    (
                        cell(call.id, bold=mine),
                        cell(mmss(on_call), align_right=True),
                        cell(call.area),
                        cell("YOU" if mine else seat.id, bold=mine),
                    ),
                )
            )
        self.table.set_rows(rows)
        oldest = max((now - room.calls[c].t_arrive for c in room.ringing), default=0.0)
        if n_ringing:
            self.summary.setText(f"{n_ringing} ringing, oldest waiting {mmss(oldest)}")
        else:
            self.summary.setText("No calls waiting")
        own = room.seats.get(TRAINEE)
        seat_free = own is None or (own.call_id is None and not own.wrapping_up)
        free = self.ctx.can_handle and seat_free and n_ringing > 0
        self.answer_next.setEnabled(free)
        self.answer_selected.setEnabled(free and self.table.selected_key in room.ringing)
