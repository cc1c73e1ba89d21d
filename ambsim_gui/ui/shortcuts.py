"""The desk's keyboard: every shortcut in one table, and the help overlay that lists them.

One job: ``SHORTCUTS`` is the single list of keys and what they do; ``install_shortcuts``
binds it to the desk's actions with window-wide ``QShortcut``s, and ``HelpOverlay`` (F1 or ?)
shows the same list, so the help can never disagree with the keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
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
    Shortcut(("S",), "send_to_dispatch", "Send the call to dispatch (opens an incident)", "Calls"),
    Shortcut(("H",), "refer_hub", "Refer the call to the clinical hub", "Calls"),
    Shortcut(("V",), "give_advice", "Give self-care advice (when the protocol allows)", "Calls"),
    Shortcut(
        ("R",), "refer_elsewhere", "Refer elsewhere: GP, 111, pharmacy (when allowed)", "Calls"
    ),
    Shortcut(("L",), "link", "Link the call to the selected (or nearest) open incident", "Calls"),
    Shortcut(("M",), "show_on_map", "Show the caller on the map", "Calls"),
    Shortcut(("N",), "next_incident", "Select the next most urgent incident waiting", "Dispatch"),
    Shortcut(
        ("D",), "dispatch", "Dispatch the selected (else the top suggested) vehicle", "Dispatch"
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


def install_shortcuts(
    window: QWidget, actions: Mapping[str, Callable[[], object]]
) -> list[QShortcut]:
    """Bind every shortcut whose action is in ``actions`` to ``window`` (window-wide)."""
    made: list[QShortcut] = []
    for s in SHORTCUTS:
        action = actions.get(s.action)
        if action is None:
            continue
        for key in s.keys:
            sc = QShortcut(QKeySequence(key), window)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.setAutoRepeat(False)
            sc.activated.connect(action)
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
