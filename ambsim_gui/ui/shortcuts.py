"""The desk's keyboard: every shortcut in one table, and the help overlay that lists them.

One job: ``SHORTCUTS`` is the single list of keys and what they do; ``install_shortcuts``
binds it to the desk's actions with window-wide ``QShortcut``s, and ``HelpOverlay`` (F1 or ?)
shows the same list, so the help can never disagree with the keys. ``SecondPress`` is the guard
of an action that needs a confirmation: the first press warns, the same key again sends, and any
other key of the desk clears the warning.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeySequence, QMouseEvent, QShortcut
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget


@dataclass(frozen=True)
class Shortcut:
    """Keys (as ``QKeySequence`` strings), the action they trigger, and the help line."""

    keys: tuple[str, ...]
    action: str
    help: str
    group: str
    label: str = ""  # how the help writes the keys (default: the keys joined)

    def shown(self) -> str:
        return self.label or " / ".join(self.keys)


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut(("Space", "A"), "answer", "Answer the oldest ringing call", "Calls"),
    *(Shortcut((k,), f"ask_{i}", "", "Calls") for i, k in enumerate("1234567890")),
    Shortcut(("Return", "Enter"), "accept", "Accept the protocol's category", "Calls", "Enter"),
    *(Shortcut((f"Ctrl+{i}",), f"category_C{i}", "", "Calls") for i in range(1, 5)),
    Shortcut(
        ("S",),
        "send_to_dispatch",
        "Send the call to dispatch (opens an incident; S again if one is open at the caller's)",
        "Calls",
    ),
    Shortcut(("H",), "refer_hub", "Refer the call to the clinical hub", "Calls"),
    Shortcut(("V",), "give_advice", "Give self-care advice (when the protocol allows)", "Calls"),
    Shortcut(
        ("R",), "refer_elsewhere", "Refer elsewhere: GP, 111, pharmacy (when allowed)", "Calls"
    ),
    Shortcut(
        ("L",),
        "link",
        "Link the call to the selected (else the best-matching) open incident; a doubtful link "
        "asks for L again",
        "Calls",
    ),
    Shortcut(("M",), "show_on_map", "Show the caller on the map", "Calls"),
    Shortcut(("N",), "next_incident", "Select the next most urgent incident waiting", "Dispatch"),
    Shortcut(
        ("D",),
        "dispatch",
        "Dispatch the selected (else the top suggested) vehicle; to a covered incident, D again",
        "Dispatch",
    ),
    Shortcut(
        ("G",), "divert", "Divert the selected vehicle (on its way elsewhere) here", "Dispatch"
    ),
    Shortcut(
        ("X",), "stand_down", "Stand the selected vehicle down (asks for X again)", "Dispatch"
    ),
    Shortcut(("F",), "fit_map", "Fit the whole map in view", "Dispatch"),
    Shortcut(("K",), "map_key", "Show or hide the map's key", "Dispatch"),
    Shortcut(("P",), "pause", "Pause or resume the shift", "Time"),
    Shortcut(("+", "=", "]"), "faster", "Faster (1x to 64x)", "Time", "+ / ]"),
    Shortcut(("-", "["), "slower", "Slower", "Time", "- / ["),
    Shortcut(("Ctrl+Q",), "quit", "Quit the desk (asks while the shift runs)", "Time"),
    Shortcut(("F1", "?"), "help", "Show or hide this help", "Help"),
    Shortcut(("Escape",), "close_help", "Close this help", "Help", "Esc"),
)
"""Every key of the desk. The number keys and Ctrl+1..4 are folded into one help line each."""

_FOLDED_HELP = (
    ("Calls", "1 ... 9, 0", "Ask the numbered triage question (in protocol order)"),
    ("Calls", "Ctrl+1 ... Ctrl+4", "Set (override) category C1 ... C4"),
)


def help_rows() -> list[tuple[str, str, str]]:
    """(group, keys, what) for the help overlay, in table order, folded rows once."""
    rows: list[tuple[str, str, str]] = []
    folded_done: set[str] = set()
    for s in SHORTCUTS:
        if not s.help:
            prefix = "ask" if s.action.startswith("ask_") else "category"
            if prefix not in folded_done:
                folded_done.add(prefix)
                rows.append(_FOLDED_HELP[0] if prefix == "ask" else _FOLDED_HELP[1])
            continue
        rows.append((s.group, s.shown(), s.help))
    return rows


CONFIRM_WINDOW_S = 5.0
"""A guarded action's second press confirms it within this many seconds of wall time."""

_GUARDS: weakref.WeakSet[SecondPress] = weakref.WeakSet()


class SecondPress:
    """The pending confirmation of a guarded action (a duplicate dispatch, a doubtful link).

    ``confirm(action, target, warning)`` is True when this press repeats the pending one (the same
    action on the same target within ``window_s``); otherwise it arms the confirmation, shows the
    warning and is False. Any other shortcut of the owner's window (``install_shortcuts``), a
    command going through the door or a change of selection (the owner's to connect) clears it.
    """

    def __init__(
        self,
        owner: QWidget,
        show: Callable[[str], None],
        window_s: float = CONFIRM_WINDOW_S,
    ) -> None:
        self.owner = owner
        self._show = show
        self.window_s = window_s
        self.pending: tuple[str, tuple[object, ...]] | None = None
        self._armed_at = 0.0
        self._timer = QTimer(owner)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear)
        _GUARDS.add(self)

    def confirm(self, action: str, target: tuple[object, ...], warning: str) -> bool:
        now = time.monotonic()
        if self.pending == (action, target) and now - self._armed_at <= self.window_s:
            self.clear()
            return True
        self.pending = (action, target)
        self._armed_at = now
        self._show(warning)
        self._timer.start(int(self.window_s * 1000))
        return False

    def clear(self, *_: object) -> None:
        if self.pending is None:
            return
        self.pending = None
        self._timer.stop()
        self._show("")

    def other_action(self, action: str) -> None:
        """Some action of the desk was taken: anything but the pending one clears it."""
        if self.pending is not None and self.pending[0] != action:
            self.clear()


def _tell_guards(window: QWidget, action: str) -> None:
    for guard in list(_GUARDS):
        try:
            mine = guard.owner.window() is window
        except RuntimeError:  # the owner's widget is gone
            continue
        if mine:
            guard.other_action(action)


def _guarded(window: QWidget, name: str, action: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        _tell_guards(window, name)
        action()

    return run


def install_shortcuts(
    window: QWidget, actions: Mapping[str, Callable[[], object]]
) -> list[QShortcut]:
    """Bind every shortcut whose action is in ``actions`` to ``window`` (window-wide); each key
    first clears any other action's pending confirmation (``SecondPress``)."""
    made: list[QShortcut] = []
    for s in SHORTCUTS:
        action = actions.get(s.action)
        if action is None:
            continue
        for key in s.keys:
            sc = QShortcut(QKeySequence(key), window)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.setAutoRepeat(False)
            sc.activated.connect(_guarded(window, s.action, action))
            made.append(sc)
    return made


class HelpOverlay(QFrame):
    """A dimmed layer over the whole window listing every shortcut; click or Esc to close."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("helpOverlay")
        self.setStyleSheet(
            "#helpOverlay { background-color: rgba(20, 28, 40, 170); }"
            "#helpCard { background: #ffffff; border-radius: 8px; }"
            "#helpCard QLabel { color: #111111; }"
        )
        outer = QVBoxLayout(self)
        outer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        card = QFrame(self)
        card.setObjectName("helpCard")
        grid = QGridLayout(card)
        grid.setContentsMargins(24, 18, 24, 18)
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(5)
        title = QLabel("<b>Keyboard shortcuts</b> &nbsp; (F1 or ? to close)")
        title.setObjectName("helpTitle")
        grid.addWidget(title, 0, 0, 1, 3)
        row = 1
        group = ""
        for g, keys, what in help_rows():
            if g != group:
                group = g
                heading = QLabel(f"<b>{g}</b>")
                grid.addWidget(heading, row, 0)
            key_label = QLabel(f"<code><b>{keys}</b></code>")
            grid.addWidget(key_label, row, 1)
            grid.addWidget(QLabel(what), row, 2)
            row += 1
        outer.addWidget(card)
        self.hide()
        parent.installEventFilter(self)

    def toggle(self) -> None:
        self.set_shown(not self.isVisible())

    def _cover(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())

    def set_shown(self, shown: bool) -> None:
        if shown:
            self._cover()
            self.raise_()
            self.show()
        else:
            self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self._cover()
        return False

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        self.hide()
