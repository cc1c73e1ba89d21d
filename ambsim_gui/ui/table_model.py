"""A read-only table model fed whole rows at a time, cheap to refresh four times a second.

One job: ``RowsModel`` holds rows of display text with an optional background and tooltip per
cell, and a key per row. ``set_rows`` writes only the cells that changed and inserts or removes
only the rows whose keys came or went, so the view keeps its scroll position and current row,
and ``KeyedTable`` keeps its selection on the same key.

The selected row is the model's business, not the view's: it is drawn with a light background
on the cells that have none of their own, so a selected row keeps its red/amber/green cells
(Qt's own selection would paint over them), and painting stays in C++.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

SELECTED = QColor("#cfe3f7")
"""The background of a selected row's plain cells."""

_BACKGROUND = Qt.ItemDataRole.BackgroundRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class Cell(NamedTuple):
    """One cell: its text, and optionally a background, a text colour, bold and a tooltip."""

    text: str
    background: QColor | None = None
    foreground: QColor | None = None
    bold: bool = False
    tooltip: str | None = None
    align_right: bool = False


class Row(NamedTuple):
    key: str
    cells: tuple[Cell, ...]


def cell(text: object, **kwargs: Any) -> Cell:
    return Cell(text if type(text) is str else str(text), **kwargs)


class RowsModel(QStandardItemModel):
    """Rows of ``Cell``; replace them with ``set_rows``; one row may be ``selected``.

    The cells live in Qt's own item model, so painting a table never calls back into Python;
    ``set_rows`` writes only the cells that changed, and inserts or removes only the rows whose
    keys came or went (a row whose place in the order changed is moved).
    """

    def __init__(self, headers: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(0, len(headers), parent)
        self.headers = list(headers)
        self.setHorizontalHeaderLabels(self.headers)
        self.rows: list[Row] = []
        self.selected: str | None = None
        self._bold = QFont()
        self._bold.setBold(True)
        self._plain = QFont()

    # --- reading ---------------------------------------------------------------------------

    def key_at(self, row: int) -> str | None:
        return self.rows[row].key if 0 <= row < len(self.rows) else None

    def row_of(self, key: str | None) -> int:
        if key is None:
            return -1
        for i, r in enumerate(self.rows):
            if r.key == key:
                return i
        return -1

    # --- writing ---------------------------------------------------------------------------

    def _item(self, c: Cell, selected: bool) -> QStandardItem:
        item = QStandardItem(c.text)
        item.setEditable(False)
        self._style(item, None, c, selected)
        return item

    def _style(self, item: QStandardItem, old: Cell | None, c: Cell, selected: bool) -> None:
        """Write the roles of ``c`` that differ from ``old`` (all of them when None)."""
        if old is not None and old.text != c.text:
            item.setText(c.text)
        if old is None or old.background != c.background:
            background = (
                c.background if c.background is not None else (SELECTED if selected else None)
            )
            item.setData(background, _BACKGROUND)
        if old is None or old.foreground != c.foreground:
            item.setData(c.foreground, _FOREGROUND)
        if old is None or old.bold != c.bold:
            item.setFont(self._bold if c.bold else self._plain)
        if old is None or old.align_right != c.align_right:
            item.setData(_RIGHT if c.align_right else None, _ALIGN)
        if old is None or old.tooltip != c.tooltip or old.text != c.text:
            item.setToolTip(c.tooltip or (c.text if len(c.text) > 24 else ""))

    def _write_row(self, i: int, old: Row, new: Row) -> None:
        selected = new.key == self.selected
        for col, (a, b) in enumerate(zip(old.cells, new.cells, strict=False)):
            if a != b:
                item = self.item(i, col)
                if item is not None:
                    self._style(item, a, b, selected)

    def _insert_row(self, i: int, row: Row) -> None:
        selected = row.key == self.selected
        self.insertRow(i, [self._item(c, selected) for c in row.cells])
        self.rows.insert(i, row)

    def set_rows(self, rows: list[Row]) -> bool:
        """Make the table show ``rows``; True when rows came, went or moved."""
        wanted = {r.key for r in rows}
        self.rows = current = list(self.rows)  # a snapshot handed out earlier stays as it was
        structural = False
        i = 0
        for row in rows:
            while i < len(current) and current[i].key not in wanted:
                self.removeRow(i)
                del current[i]
                structural = True
            if i < len(current) and current[i].key == row.key:
                if current[i] != row:
                    self._write_row(i, current[i], row)
                    current[i] = row
            else:
                j = next((k for k in range(i + 1, len(current)) if current[k].key == row.key), -1)
                if j >= 0:  # it moved up: take it out of its old place
                    self.removeRow(j)
                    del current[j]
                self._insert_row(i, row)
                structural = True
            i += 1
        if len(current) > i:
            self.removeRows(i, len(current) - i)
            del current[i:]
            structural = True
        return structural

    def set_selected(self, key: str | None) -> None:
        """Draw the row with ``key`` as selected (and the previous one as not)."""
        if key == self.selected:
            return
        old = self.row_of(self.selected)
        self.selected = key
        for r in (old, self.row_of(key)):
            if r < 0:
                continue
            selected = self.rows[r].key == key
            for col, c in enumerate(self.rows[r].cells):
                if c.background is None:
                    item = self.item(r, col)
                    if item is not None:
                        item.setData(SELECTED if selected else None, _BACKGROUND)


class KeyedTable(QTableView):
    """A read-only table over a ``RowsModel`` whose selected row is chosen by key.

    ``key_selected`` fires when the user picks a row (a click, or the arrow keys moving the
    current row), not when the program selects one; ``key_activated`` on a double-click. With
    ``wrap``, long cells wrap and rows grow to fit.
    """

    key_selected = Signal(str)
    key_activated = Signal(str)

    def __init__(
        self, headers: Sequence[str], parent: QWidget | None = None, *, wrap: bool = False
    ) -> None:
        super().__init__(parent)
        self.wrap = wrap
        self.rows_model = RowsModel(headers, self)
        self.setModel(self.rows_model)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(wrap)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self._programmatic = False
        self.selectable = True
        """False: clicks do not select rows (a table that is only read)."""
        self.selectionModel().currentRowChanged.connect(self._on_current)
        self.doubleClicked.connect(self._on_double)

    def set_column_widths(self, widths: Sequence[int], stretch: int | None = None) -> None:
        """Fixed widths for the first columns; ``stretch`` (default: the last) takes the rest."""
        for i, w in enumerate(widths):
            self.setColumnWidth(i, w)
        if stretch is not None:
            header = self.horizontalHeader()
            header.setStretchLastSection(False)
            header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)

    @property
    def selected_key(self) -> str | None:
        return self.rows_model.selected

    def set_rows(self, rows: list[Row]) -> None:
        changed = rows != self.rows_model.rows
        self._programmatic = True  # rows going away move Qt's current row: not a user's pick
        try:
            moved = self.rows_model.set_rows(rows)
        finally:
            self._programmatic = False
        if moved:
            self._place_current(self.rows_model.selected, scroll=False)
        if self.wrap and changed:
            self.resizeRowsToContents()

    def select_key(self, key: str | None, *, scroll: bool = True) -> None:
        """Select the row with ``key`` (or none) without firing ``key_selected``."""
        self.rows_model.set_selected(key)
        self._place_current(key, scroll=scroll)

    def _place_current(self, key: str | None, *, scroll: bool) -> None:
        row = self.rows_model.row_of(key)
        self._programmatic = True
        try:
            sel = self.selectionModel()
            if row < 0:
                sel.setCurrentIndex(QModelIndex(), QItemSelectionModel.SelectionFlag.NoUpdate)
            else:
                index = self.rows_model.index(row, 0)
                sel.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
                if scroll:
                    self.scrollTo(index)
        finally:
            self._programmatic = False

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._programmatic or not self.selectable or not current.isValid():
            return
        key = self.rows_model.key_at(current.row())
        if key is not None and key != self.rows_model.selected:
            self.rows_model.set_selected(key)
            self.key_selected.emit(key)

    def _on_double(self, index: QModelIndex) -> None:
        key = self.rows_model.key_at(index.row())
        if key is not None:
            self.key_activated.emit(key)
