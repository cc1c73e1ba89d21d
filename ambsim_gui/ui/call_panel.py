"""The call panel: the trainee's line, from answering a call to the decision that closes it.

One job: ``CallPanel`` shows the call on the trainee's seat and offers every step of handling it:
the transcript (the caller's opening words, each question asked and the caller's answer as it
arrives after its pause), the protocol's questions in order with the recommended next one
highlighted, the protocol's recommended category to accept or override, and the decisions:
send to dispatch, refer to the clinical hub, give advice or refer elsewhere (when the protocol
allows it), or link the call to an open incident nearby (a likely duplicate). The nearby list is
ranked by likely match (the same complaint first, then the nearest, then the most recent) and
shows the distance first; a link to an incident with another complaint, or beyond the room's link
radius, asks for L again (``shortcuts.SecondPress``).

Buttons are disabled when their command could not succeed; the keyboard shortcuts submit anyway
so that the engine's own reason for a refusal reaches the status bar.
"""

from __future__ import annotations

import html
import math

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ambsim_gui.readmodel.room import CallView, IncidentView
from ambsim_gui.sim import commands as cmd
from ambsim_gui.ui.context import DeskContext
from ambsim_gui.ui.formatting import CATEGORY_CSS, clock_text, distance_text, mmss
from ambsim_gui.ui.live import TRAINEE, TranscriptLine
from ambsim_gui.ui.shortcuts import SecondPress

LINK_RADIUS_M = 1000.0
"""Open incidents within this distance of the caller are offered for linking."""
ROOM_LINK_RADIUS_M = 400.0
"""The room's link radius: the virtual colleagues link a caller to an incident about the same
complaint within this distance, or twice the caller's location uncertainty if that is more
(``sim/policies.py``, ``LINK_RADIUS_M``; the desk may not import it). A link further off asks."""
SAME_PLACE_M = 50.0
"""Sending a call to dispatch with an open incident this close to the caller asks first."""
QUESTION_KEYS = "1234567890"

_WHO_STYLE = {
    "caller": ("Caller", "#0b3d91", ""),
    "you": ("You", "#111111", "font-weight:600;"),
    "protocol": ("Protocol", "#2f6b3a", "font-style:italic;"),
    "desk": ("Desk", "#6a6a6a", ""),
    "hint": ("Hint", "#7a4b00", "background:#fff3cd;"),
}


class WrapButton(QPushButton):
    """A push button whose text wraps onto several lines (long triage questions).

    Its height follows its width (``heightForWidth``), so a layout gives a two-line question
    two lines.
    """

    MARGIN_X = 10
    MARGIN_Y = 5

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._label = QLabel(text, self)
        self._label.setWordWrap(True)
        self._label.setTextFormat(Qt.TextFormat.PlainText)
        self._label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(self.MARGIN_X, self.MARGIN_Y, self.MARGIN_X, self.MARGIN_Y)
        layout.addWidget(self._label)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def label_text(self) -> str:
        return self._label.text()

    def set_label_text(self, text: str) -> None:
        self._label.setText(text)
        self.setToolTip(text)
        self.updateGeometry()

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt API
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt API
        inner = max(40, width - 2 * self.MARGIN_X)
        text_h = max(self._label.heightForWidth(inner), self.fontMetrics().height())
        return text_h + 2 * self.MARGIN_Y + 2

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        width = max(200, self.width())
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(120, self.fontMetrics().height() + 2 * self.MARGIN_Y + 2)


class CallPanel(QWidget):
    """The trainee's current call and everything that can be done with it."""

    show_on_map = Signal(float, float)
    """The trainee asked to see the caller's place on the map."""

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._shown_call: str | None = None
        self._shown_lines = 0
        self._question_ids: list[str | None] = []
        self._keys: dict[str, int] = {}  # question -> its key's index, for the call shown
        self._keys_call: str | None = None
        self._question_state: tuple[object, ...] = ()
        self._link_state: tuple[object, ...] = ()
        self.question_buttons: list[WrapButton] = []
        """The buttons of the questions listed now (in order; the rest of the pool is hidden)."""
        self._pool: list[WrapButton] = []

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(6)

        head = QHBoxLayout()
        self.header = QLabel("No call on your line")
        self.header.setObjectName("callHeader")
        self.header.setWordWrap(True)
        head.addWidget(self.header, 1)
        self.map_button = QPushButton("Show on map")
        self.map_button.setObjectName("showOnMap")
        self.map_button.clicked.connect(self._show_on_map)
        head.addWidget(self.map_button)
        outer.addLayout(head)

        self.transcript = QTextBrowser(self)
        self.transcript.setObjectName("transcript")
        self.transcript.setOpenLinks(False)
        self.transcript.setMinimumHeight(110)
        self._stick_to_end = True
        bar = self.transcript.verticalScrollBar()
        bar.rangeChanged.connect(self._keep_end)
        bar.valueChanged.connect(self._scrolled)
        outer.addWidget(self.transcript, 5)

        self.questions_label = QLabel("Triage questions")
        self.questions_label.setObjectName("sectionLabel")
        self.questions_label.setWordWrap(True)
        outer.addWidget(self.questions_label)
        self._questions_host = QWidget()
        self._questions_layout = QVBoxLayout(self._questions_host)
        self._questions_layout.setContentsMargins(0, 0, 4, 0)
        self._questions_layout.setSpacing(4)
        for i in range(len(QUESTION_KEYS)):
            b = WrapButton("", self._questions_host)
            b.setObjectName("question")
            b.clicked.connect(lambda _=False, i=i: self.ask_nth(i))
            b.hide()
            self._questions_layout.addWidget(b)
            self._pool.append(b)
        self._questions_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self._questions_host)
        scroll.setMinimumHeight(120)
        self.questions_scroll = scroll
        outer.addWidget(scroll, 4)

        self.recommendation = QLabel("Protocol: -")
        self.recommendation.setObjectName("recommendation")
        self.recommendation.setWordWrap(True)
        self.recommendation.setTextFormat(Qt.TextFormat.RichText)
        outer.addWidget(self.recommendation)

        cats = QHBoxLayout()
        cats.setSpacing(4)
        self.accept_button = QPushButton("Accept  [Enter]")
        self.accept_button.setObjectName("acceptCategory")
        self.accept_button.clicked.connect(self.accept_recommended)
        cats.addWidget(self.accept_button, 2)
        self.category_buttons: dict[str, QPushButton] = {}
        for i, c in enumerate(("C1", "C2", "C3", "C4"), start=1):
            category = QPushButton(c)
            category.setObjectName(f"category{c}")
            category.setToolTip(f"Set {c} [Ctrl+{i}]")
            category.setStyleSheet(f"QPushButton {{ color: {CATEGORY_CSS[c]}; font-weight: 600; }}")
            category.clicked.connect(lambda _=False, c=c: self.set_category(c))
            cats.addWidget(category, 1)
            self.category_buttons[c] = category
        outer.addLayout(cats)
        self.category_label = QLabel("Category: not set")
        self.category_label.setObjectName("categoryLabel")
        self.category_label.setWordWrap(True)
        outer.addWidget(self.category_label)

        decide = QGridLayout()
        decide.setSpacing(4)
        self.dispatch_button = QPushButton("Send to dispatch  [S]")
        self.dispatch_button.setObjectName("sendToDispatch")
        self.dispatch_button.clicked.connect(self.send_to_dispatch)
        self.hub_button = QPushButton("Clinical hub  [H]")
        self.hub_button.setObjectName("referHub")
        self.hub_button.clicked.connect(self.refer_hub)
        self.advice_button = QPushButton("Give advice  [V]")
        self.advice_button.setObjectName("giveAdvice")
        self.advice_button.clicked.connect(self.give_advice)
        self.refer_button = QPushButton("Refer elsewhere  [R]")
        self.refer_button.setObjectName("referElsewhere")
        self.refer_button.clicked.connect(self.refer_elsewhere)
        decide.addWidget(self.dispatch_button, 0, 0)
        decide.addWidget(self.hub_button, 0, 1)
        decide.addWidget(self.advice_button, 1, 0)
        decide.addWidget(self.refer_button, 1, 1)
        outer.addLayout(decide)

        link_head = QHBoxLayout()
        self.link_label = QLabel("Open incidents within 1 km of the caller")
        self.link_label.setObjectName("sectionLabel")
        self.link_label.setWordWrap(True)
        link_head.addWidget(self.link_label, 1)
        self.link_button = QPushButton("Link  [L]")
        self.link_button.setObjectName("linkCall")
        self.link_button.clicked.connect(self.link)
        link_head.addWidget(self.link_button)
        outer.addLayout(link_head)
        self.nearby = QListWidget(self)
        self.nearby.setObjectName("nearbyIncidents")
        self.nearby.setMinimumHeight(64)
        self.nearby.itemSelectionChanged.connect(self._nearby_picked)
        self.link_warning = QLabel("")
        self.link_warning.setObjectName("linkWarning")
        self.link_warning.setWordWrap(True)
        self.link_warning.setStyleSheet(
            "#linkWarning { background: #fff3cd; color: #5c4400; border: 1px solid #e0b252;"
            " border-radius: 4px; padding: 4px 6px; font-weight: 600; }"
        )
        self.link_warning.hide()
        outer.addWidget(self.link_warning)
        outer.addWidget(self.nearby, 1)
        self._picked_link: str | None = None
        # Nothing the panel shows may widen the desk's left column: every label wraps, and
        # the panel asks for no more width than its narrowest useful layout.
        for label in self.findChildren(QLabel):
            if label.parent() is not None and not isinstance(label.parent(), WrapButton):
                label.setMinimumWidth(0)
                _no_width_claim(label)
        self.guard = SecondPress(self, self._show_guard)
        ctx.command_done.connect(self.guard.clear)

        self.refresh()

    # --- reading the room ----------------------------------------------------------------

    def call(self) -> CallView | None:
        """The call on the trainee's line now, if any."""
        return self.ctx.room.call_on(TRAINEE)

    def question_ids(self) -> list[str | None]:
        """The questions that may be asked now, by their keys (the numbered buttons): the
        n-th is on key ``QUESTION_KEYS[n]``, None where that key's question has gone."""
        return list(self._question_ids)

    def question_key(self, question_id: str) -> str | None:
        """The key a listed question is asked with ("1" ... "0"), None when it has none."""
        index = self._keys.get(question_id)
        return None if index is None else QUESTION_KEYS[index]

    # --- actions (buttons and shortcuts) -------------------------------------------------

    def _need_call(self) -> CallView | None:
        if not self.ctx.handles_calls:
            self.ctx.say("You are the dispatcher: the call handlers take the calls", "warning")
            return None
        call = self.call()
        if call is None:
            self.ctx.say("No call on your line: answer one first (Space)", "warning")
        return call

    def ask(self, question_id: str) -> bool:
        call = self._need_call()
        if call is None:
            return False
        return self.ctx.submit(
            cmd.AskQuestion(seat=TRAINEE, call_id=call.id, question_id=question_id)
        )

    def ask_nth(self, n: int) -> bool:
        """Ask the n-th listed question (0-based), as the number keys do."""
        qid = self._question_ids[n] if n < len(self._question_ids) else None
        if qid is None:
            if self.call() is not None:
                self.ctx.say(f"There is no question {QUESTION_KEYS[n]} on the list", "warning")
            else:
                self._need_call()
            return False
        return self.ask(qid)

    def set_category(self, category: str) -> bool:
        call = self._need_call()
        if call is None:
            return False
        return self.ctx.submit(cmd.SetCategory(seat=TRAINEE, call_id=call.id, category=category))

    def accept_recommended(self) -> bool:
        call = self._need_call()
        if call is None:
            return False
        if call.recommended is None:
            self.ctx.say("The protocol has no recommendation yet: ask more questions", "warning")
            return False
        return self.set_category(call.recommended)

    def _decide(self, kind: type[cmd.Command]) -> bool:
        call = self._need_call()
        if call is None:
            return False
        return self.ctx.submit(kind(seat=TRAINEE, call_id=call.id))  # type: ignore[call-arg]

    def send_to_dispatch(self) -> bool:
        """Send the call to dispatch; with an open incident at the caller's place (the same
        patient?) the first press warns and the second opens the new incident."""
        call = self.call() if self.ctx.handles_calls else None
        if call is not None and call.category is not None:
            here = [(d, iid) for d, iid in self.nearby_incidents(call) if d <= SAME_PLACE_M]
            if here:
                d, iid = min(here)
                inc = self.ctx.room.incidents[iid]
                warning = (
                    f"{iid} ({inc.category} {self.incident_complaint(inc) or 'complaint not known'}"
                    f") is open {distance_text(d)} from this caller: the same patient? Press S "
                    "again to open a new incident, or L to link"
                )
                if not self.guard.confirm("send_to_dispatch", (call.id, iid), warning):
                    return False
        self.guard.clear()
        return self._decide(cmd.SendToDispatch)

    def refer_hub(self) -> bool:
        return self._decide(cmd.ReferToHub)

    def give_advice(self) -> bool:
        return self._decide(cmd.GiveAdvice)

    def refer_elsewhere(self) -> bool:
        return self._decide(cmd.ReferElsewhere)

    def link(self, incident_id: str | None = None) -> bool:
        """Link the call to ``incident_id``, or to the selected (else the best-matching) incident;
        a doubtful link (another complaint, or beyond the room's radius) needs a second press."""
        call = self._need_call()
        if call is None:
            self.guard.clear()
            return False
        if not isinstance(incident_id, str):  # a button's ``clicked(bool)``
            incident_id = None
        if incident_id is None:
            item: QListWidgetItem | None = self.nearby.currentItem()
            if item is None or not item.isSelected():
                item = self.nearby.item(0) if self.nearby.count() else None
            incident_id = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if not incident_id:
            self.ctx.say("No open incident near this caller to link to", "warning")
            return False
        warning = self.link_warning_for(call, incident_id)
        if warning and not self.guard.confirm("link", (call.id, incident_id), warning):
            return False
        self.guard.clear()
        return self.ctx.submit(cmd.LinkCall(seat=TRAINEE, call_id=call.id, incident_id=incident_id))

    def _show_on_map(self) -> None:
        call = self.call()
        if call is None and self._shown_call:
            call = self.ctx.room.calls.get(self._shown_call)
        if call is not None:
            self.show_on_map.emit(call.x, call.y)

    # --- drawing -------------------------------------------------------------------------

    def call_complaint(self, call: CallView) -> str:
        """What this caller reports, in the room's words ("" while not yet known)."""
        words = self.ctx.protocol.describe(call.answers.get("what_happened", ""), call.code)
        return "" if words == "not yet known" else words

    def incident_complaint(self, inc: IncidentView) -> str:
        words = self.ctx.protocol.describe(inc.complaint, inc.code)
        return "" if words == "not yet known" else words

    def same_complaint(self, call: CallView, inc: IncidentView) -> bool | None:
        """Whether the caller reports the incident's complaint (None while either is unknown)."""
        mine, theirs = self.call_complaint(call), self.incident_complaint(inc)
        if not mine or not theirs:
            return None
        return mine == theirs

    @staticmethod
    def link_radius(call: CallView) -> float:
        """The room's link radius for this caller (``ROOM_LINK_RADIUS_M``)."""
        return max(ROOM_LINK_RADIUS_M, 2 * call.uncertainty_m)

    def nearby_incidents(self, call: CallView) -> list[tuple[float, str]]:
        """(distance in metres, incident id) of open incidents within 1 km of the caller, by
        likely match: the incident of the person the caller names at a scene first, then the
        same complaint, then the nearest, then the most recent."""
        ranked = []
        for inc in self.ctx.room.open_incidents():
            d = math.hypot(inc.x - call.x, inc.y - call.y)
            if d <= LINK_RADIUS_M:
                person = call.casualty is not None and self.casualty_of(inc) == call.casualty
                same = self.same_complaint(call, inc)
                ranked.append((0 if person else 1, 0 if same else 1, d, -inc.t_open, inc.id))
        ranked.sort()
        return [(d, iid) for _, _, d, _, iid in ranked]

    def casualty_of(self, inc: IncidentView) -> str | None:
        """Whom an incident's callers said they were about, at a scene with several casualties."""
        calls = self.ctx.room.calls
        named = (calls[c].casualty for c in inc.call_ids if c in calls)
        return next((who for who in named if who is not None), None)

    def link_warning_for(self, call: CallView, incident_id: str) -> str:
        """Why linking ``call`` to ``incident_id`` needs a second press ("" when it does not)."""
        inc = self.ctx.room.incidents.get(incident_id)
        if inc is None:
            return ""
        reasons = []
        if self.same_complaint(call, inc) is False:
            reasons.append(
                f"{inc.id} is {_a(self.incident_complaint(inc).lower())} incident, this caller "
                f"reports {_a(self.call_complaint(call).lower())}"
            )
        d = math.hypot(inc.x - call.x, inc.y - call.y)
        radius = self.link_radius(call)
        if d > radius:
            reasons.append(
                f"{inc.id} is {distance_text(d)} from the caller, beyond the room's "
                f"{distance_text(radius)} link radius"
            )
        if not reasons:
            return ""
        return "; ".join(reasons) + ": press L again to link anyway"

    def _show_guard(self, text: str) -> None:
        self.link_warning.setText(text)
        self.link_warning.setVisible(bool(text))
        if text:
            self.ctx.say(text, "warning")

    def _nearby_picked(self) -> None:
        """The trainee picked another nearby incident: a pending link confirmation lapses."""
        item = self.nearby.currentItem()
        picked = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if item is not None and not item.isSelected():
            picked = None
        if picked != self._picked_link:
            self._picked_link = picked
            self.guard.clear()
        self._update_buttons()

    def refresh(self) -> None:
        """Redraw from the read model and the desk's projection (cheap when nothing changed)."""
        room = self.ctx.room
        live = self.ctx.live
        seat = room.seats.get(TRAINEE)
        call = self.call()
        now = self.ctx.now
        shown = call.id if call is not None else live.trainee_call
        if not self.ctx.handles_calls:
            self.header.setText("You are the dispatcher: your colleagues take the calls.")
        elif call is not None:
            answered = call.t_answered if call.t_answered is not None else call.t_arrive
            self.header.setText(
                f"<b>{call.id}</b> &nbsp; {html.escape(call.area)} &nbsp; on the line "
                f"{mmss(now - answered)} &nbsp; (located to &plusmn;{call.uncertainty_m:.0f} m)"
            )
        elif seat is not None and seat.wrapping_up:
            self.header.setText("Finishing the last call (wrap-up)...")
        elif self.ctx.autopilot is not None:
            self.header.setText(f"Autopilot ({self.ctx.autopilot}) is taking the calls.")
        else:
            waiting = len(room.ringing)
            self.header.setText(
                f"No call on your line. {waiting} waiting: press Space to answer."
                if waiting
                else "No call on your line. No calls waiting."
            )
        self._draw_transcript(shown)
        self._draw_questions(call)
        self._draw_recommendation(call)
        self._draw_links(call, now)
        pending = self.guard.pending
        if pending is not None and pending[1][0] != (call.id if call is not None else None):
            self.guard.clear()  # the call the warning was about has gone from the line
        self._update_buttons()

    def _scrolled(self, value: int) -> None:
        """The trainee scrolled: follow new lines only while the view is at the end."""
        self._stick_to_end = value >= self.transcript.verticalScrollBar().maximum() - 2

    def _keep_end(self, _low: int, high: int) -> None:
        """The text grew or the box shrank: stay on the last line if we were on it."""
        if self._stick_to_end:
            self.transcript.verticalScrollBar().setValue(high)

    def _draw_transcript(self, call_id: str | None) -> None:
        lines = self.ctx.live.transcripts.get(call_id or "", [])
        if call_id != self._shown_call:
            self._shown_call = call_id
            self._shown_lines = 0
            self.transcript.clear()
        if len(lines) == self._shown_lines:
            return
        start = self.ctx.setup.scenario.start
        for line in lines[self._shown_lines :]:
            self.transcript.append(self._line_html(line, start))
        self._shown_lines = len(lines)
        self._stick_to_end = True
        bar = self.transcript.verticalScrollBar()
        bar.setValue(bar.maximum())

    @staticmethod
    def _line_html(line: TranscriptLine, start: str) -> str:
        who, colour, style = _WHO_STYLE.get(line.who, (line.who, "#000000", ""))
        stamp = clock_text(start, line.t)
        text = html.escape(line.text)
        if line.who == "caller":
            text = f"&ldquo;{text}&rdquo;"
        return (
            f'<div style="margin-bottom:3px;"><span style="color:#777777;">{stamp}</span> '
            f'<span style="color:{colour};{style}"><b>{who}:</b> {text}</span></div>'
        )

    def _draw_questions(self, call: CallView | None) -> None:
        protocol = self.ctx.protocol
        if call is None:
            ids: list[str] = []
            recommended = None
            pending = None
        else:
            ids = [q for q in protocol.applicable(call.answers) if q not in call.answers]
            recommended = protocol.next_question(call.answers)
            pending = call.pending_question
        state = (call.id if call else None, tuple(ids), recommended, pending)
        if state == self._question_state:
            return
        self._question_state = state
        listed = [q for q in ids if q != pending]
        self._question_ids = self._stable_keys(call.id if call else None, listed)
        if call is None:
            self.questions_label.setText("Triage questions")
        elif pending is not None:
            self.questions_label.setText(
                f"Waiting for the caller to answer: {protocol.questions[pending].text}"
            )
        elif not listed:
            self.questions_label.setText("Triage questions: none left to ask")
        else:
            self.questions_label.setText("Triage questions (press the number; * = recommended)")
        self.question_buttons = []
        for i, b in enumerate(self._pool):
            qid = self._question_ids[i] if i < len(self._question_ids) else None
            if qid is None:
                b.hide()
                continue
            star = "  *" if qid == recommended else ""
            b.set_label_text(f"{QUESTION_KEYS[i]}   {protocol.questions[qid].text}{star}")
            name = "questionRecommended" if qid == recommended else "question"
            if b.objectName() != name:
                b.setObjectName(name)
                b.style().unpolish(b)
                b.style().polish(b)
            b.setProperty("question_id", qid)
            b.setEnabled(self.ctx.can_handle and pending is None)
            b.show()
            self.question_buttons.append(b)

    def _stable_keys(self, call_id: str | None, listed: list[str]) -> list[str | None]:
        """Each listed question on a key of its own that it keeps while it is listed: a
        question answered frees its key for the next new one, the others stay where they were
        (the trainee's fingers learn a call's numbers). At most ``len(QUESTION_KEYS)`` at once;
        more wait, in protocol order, for a key to free up."""
        if call_id != self._keys_call:
            self._keys_call = call_id
            self._keys = {}
        keys = {q: i for q, i in self._keys.items() if q in listed}
        used = set(keys.values())
        free = [i for i in range(len(QUESTION_KEYS)) if i not in used]
        for q in listed:
            if q not in keys and free:
                keys[q] = free.pop(0)
        self._keys = keys
        slots: list[str | None] = [None] * (max(keys.values(), default=-1) + 1)
        for q, i in keys.items():
            slots[i] = q
        return slots

    def _draw_recommendation(self, call: CallView | None) -> None:
        if call is None:
            self.recommendation.setText("Protocol: -")
            self.category_label.setText("Category: not set")
            return
        if call.recommended is None:
            self.recommendation.setText("Protocol: not enough information yet")
        else:
            colour = CATEGORY_CSS.get(call.recommended, "#000000")
            done = "complete" if call.complete else "provisional, keep asking"
            allowed = []
            if call.validation:
                allowed.append("clinical hub")
            if call.advice:
                allowed.append("advice/referral")
            extra = f"; may go to {' or '.join(allowed)}" if allowed else ""
            self.recommendation.setText(
                f'Protocol: <b style="color:{colour};">{call.recommended}</b> '
                f"{html.escape(call.code)} {html.escape(call.label)} ({done}{extra})"
            )
        chosen = self.ctx.live.category_set.get(call.id)
        if call.category is None:
            self.category_label.setText("Category: not set")
        elif chosen is not None and chosen.override:
            self.category_label.setText(
                f"Category: {call.category}  (OVERRIDE of the protocol's {chosen.recommended})"
            )
        else:
            self.category_label.setText(f"Category: {call.category}  (as the protocol advises)")

    def _draw_links(self, call: CallView | None, now: float) -> None:
        room = self.ctx.room
        nearby = self.nearby_incidents(call) if call is not None else []
        state = (call.id if call else None, tuple(i for _, i in nearby), int(now // 60))
        if state == self._link_state:
            return
        self._link_state = state
        selected = self.nearby.currentItem()
        keep = selected.data(Qt.ItemDataRole.UserRole) if selected is not None else None
        self.nearby.blockSignals(True)  # a redraw is not the trainee picking another row
        self.nearby.clear()
        protocol = self.ctx.protocol
        for d, iid in nearby:
            inc = room.incidents[iid]
            complaint = protocol.describe(inc.complaint, inc.code)
            age = mmss(now - inc.t_open)
            same = call is not None and self.same_complaint(call, inc)
            match = ", same complaint" if same else ""
            person = self.casualty_of(inc)
            if person is not None:
                match += f", about {person}"
                if call is not None and call.casualty == person:
                    match += " (the same person)"
            text = (
                f"{distance_text(d)}  -  {iid}  {inc.category}  {complaint}{match}, "
                f"opened {age} ago"
            )
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, iid)
            item.setToolTip(text)
            self.nearby.addItem(item)
            if iid == keep:
                self.nearby.setCurrentItem(item)
        self.nearby.blockSignals(False)
        n = len(nearby)
        if call is None:
            self.link_label.setText("Open incidents within 1 km of the caller")
        elif n:
            self.link_label.setText(
                f"{n} open incident{'s' if n != 1 else ''} within 1 km: a duplicate?"
            )
        else:
            self.link_label.setText("No open incident within 1 km of the caller")

    def _update_buttons(self) -> None:
        call = self.call()
        usable = self.ctx.can_handle and call is not None
        waiting = call is not None and call.pending_question is not None
        recommended = call.recommended if call is not None else None
        category = call.category if call is not None else None
        decided = usable and category is not None and not waiting
        self.accept_button.setEnabled(usable and recommended is not None)
        if recommended is not None:
            self.accept_button.setText(f"Accept {recommended}  [Enter]")
        else:
            self.accept_button.setText("Accept  [Enter]")
        for b in self.category_buttons.values():
            b.setEnabled(usable)
        self.dispatch_button.setEnabled(decided)
        hub_ok = self.ctx.setup.scenario.clinical_hub.clinicians > 0 and category != "C1"
        self.hub_button.setEnabled(decided and hub_ok)
        advice_ok = (
            decided and call is not None and call.advice and category not in ("C1", "C2")
        )
        self.advice_button.setEnabled(advice_ok)
        self.refer_button.setEnabled(advice_ok)
        self.link_button.setEnabled(usable and self.nearby.count() > 0)
        self.nearby.setEnabled(usable)
        self.map_button.setEnabled(call is not None or self._shown_call is not None)


def _no_width_claim(label: QLabel) -> None:
    """A label that wraps (or is cut) at whatever width its column has, never widening it."""
    policy = label.sizePolicy()
    policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
    label.setSizePolicy(policy)


def _a(words: str) -> str:
    """``words`` with its indefinite article ("a fall", "an allergic reaction")."""
    return f"{'an' if words[:1] in 'aeiou' else 'a'} {words}"
