"""F1 sheet: a searchable table of the shortcuts the app passes in as (keys, action) pairs."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHeaderView, QLineEdit, QTableWidget,
                               QTableWidgetItem, QVBoxLayout)


class ShortcutSheet(QDialog):
    def __init__(self, shortcuts: list[tuple[str, str]] = (), parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(640, 640)
        self.search = QLineEdit(self, placeholderText="Filter…", clearButtonEnabled=True)
        self.search.textChanged.connect(self._filter)
        self.table = QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels(["Keys", "Action"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.NoSelection)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        h = self.table.horizontalHeader()
        h.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        h.setStretchLastSection(True)
        self.table.setWordWrap(True)         # long actions wrap: nothing is cut off
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        close = QDialogButtonBox(QDialogButtonBox.Close, self)
        close.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.search)
        lay.addWidget(self.table, 1)
        lay.addWidget(close)
        self.set_shortcuts(list(shortcuts))

    def set_shortcuts(self, shortcuts: list[tuple[str, str]]) -> None:
        self.table.setRowCount(len(shortcuts))
        for i, (keys, action) in enumerate(shortcuts):
            k = QTableWidgetItem(keys)
            f = k.font()
            f.setBold(True)
            k.setFont(f)
            self.table.setItem(i, 0, k)
            self.table.setItem(i, 1, QTableWidgetItem(action))
        self._filter(self.search.text())

    def shortcuts(self) -> list[tuple[str, str]]:
        return [(self.table.item(i, 0).text(), self.table.item(i, 1).text())
                for i in range(self.table.rowCount())]

    def visible_rows(self) -> list[int]:
        return [i for i in range(self.table.rowCount()) if not self.table.isRowHidden(i)]

    def _filter(self, text: str) -> None:
        text = text.strip().lower()
        for i in range(self.table.rowCount()):
            row = (self.table.item(i, 0).text() + " " + self.table.item(i, 1).text()).lower()
            self.table.setRowHidden(i, bool(text) and text not in row)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key_F1:
            self.reject()
            return
        super().keyPressEvent(event)
