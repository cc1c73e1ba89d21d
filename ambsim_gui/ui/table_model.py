"""A read-only table model fed whole rows at a time, cheap to refresh four times a second.

One job: ``RowsModel`` holds rows of display text with an optional background and tooltip per
cell, and a key per row. ``set_rows`` with the same keys in the same order only signals the
cells that changed (no reset, so the view keeps its scroll position, selection and current
row); a different set of rows resets the model, and ``KeyedTable`` puts the selection back on
the same key afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Cell:
    """One cell: its text, and optionally a background, a text colour, bold and a tooltip."""

    text: str
    background: QColor | None = None
    foreground: QColor | None = None
    bold: bool = False
    tooltip: str | None = None
    align_right: bool = False


@dataclass(frozen=True)
class Row:
    key: str
    cells: tuple[Cell, ...]


def cell(text: object, **kwargs: Any) -> Cell:
    return Cell(str(text), **kwargs)


class RowsModel(QAbstractTableModel):
    """Rows of ``Cell``; replace them with ``set_rows``."""

    def __init__(self, headers: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.headers = list(headers)
        self.rows: list[Row] = []
        self._bold = QFont()
        self._bold.setBold(True)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self.headers)

    def headerData(  # noqa: N802 - Qt API
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            if 0 <= section < len(self.headers):
                return self.headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        cells = self.rows[index.row()].cells
        if index.column() >= len(cells):
            return None
        c = cells[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return c.text
        if role == Qt.ItemDataRole.BackgroundRole:
            return c.background
        if role == Qt.ItemDataRole.ForegroundRole:
            return c.foreground
        if role == Qt.ItemDataRole.FontRole:
            return self._bold if c.bold else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return c.tooltip or (c.text if len(c.text) > 24 else None)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if c.align_right:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        return None

    def key_at(self, row: int) -> str | None:
        return self.rows[row].key if 0 <= row < len(self.rows) else None

    def row_of(self, key: str | None) -> int:
        for i, r in enumerate(self.rows):
            if r.key == key:
                return i
        return -1

    def set_rows(self, rows: list[Row]) -> bool:
        """Replace the rows; True when the model was reset (the set of keys changed)."""
        if [r.key for r in rows] == [r.key for r in self.rows]:
            changed = [i for i, (a, b) in enumerate(zip(self.rows, rows, strict=True)) if a != b]
            self.rows = rows
            if changed:
                last = self.columnCount() - 1
                self.dataChanged.emit(self.index(min(changed), 0), self.index(max(changed), last))
            return False
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()
        return True


class KeyedTable(QTableView):
    """A read-only, single-row-select table over a ``RowsModel``, selecting rows by key.

    ``key_selected`` fires when the user picks a row (not when the program does), and
    ``key_activated`` on a double-click.
    """

    key_selected = Signal(str)
    key_activated = Signal(str)

    def __init__(self, headers: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows_model = RowsModel(headers, self)
        self.setModel(self.rows_model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self._selected: str | None = None
        self._programmatic = False
        self.selectionModel().selectionChanged.connect(self._on_selection)
        self.doubleClicked.connect(self._on_double)

    def set_column_widths(self, widths: Sequence[int]) -> None:
        for i, w in enumerate(widths):
            self.setColumnWidth(i, w)

    @property
    def selected_key(self) -> str | None:
        return self._selected

    def set_rows(self, rows: list[Row]) -> None:
        reset = self.rows_model.set_rows(rows)
        if reset:
            self.select_key(self._selected, scroll=False)

    def select_key(self, key: str | None, *, scroll: bool = True) -> None:
        """Select the row with ``key`` (or clear the selection) without firing ``key_selected``."""
        self._selected = key
        row = self.rows_model.row_of(key)
        self._programmatic = True
        try:
            sel = self.selectionModel()
            if row < 0:
                sel.clearSelection()
            else:
                index = self.rows_model.index(row, 0)
                sel.setCurrentIndex(
                    index,
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
                if scroll:
                    self.scrollTo(index)
        finally:
            self._programmatic = False

    def _on_selection(self, *_: Any) -> None:
        if self._programmatic:
            return
        rows = self.selectionModel().selectedRows()
        key = self.rows_model.key_at(rows[0].row()) if rows else None
        if key is not None and key != self._selected:
            self._selected = key
            self.key_selected.emit(key)

    def _on_double(self, index: QModelIndex) -> None:
        key = self.rows_model.key_at(index.row())
        if key is not None:
            self.key_activated.emit(key)
