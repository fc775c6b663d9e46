"""Model → Weights…: the pretrained files each template starts from, whether they are
on this machine, and the download setting. Plain rows in, intents out; it fetches
nothing itself."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QDialog, QFormLayout, QHBoxLayout,
                               QHeaderView, QLabel, QLineEdit, QProgressBar, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout)

COLUMNS = ("Template", "Start", "State", "MB", "Cached at")
STATE_COLOURS = {"present": "#59a14f", "downloadable": "#4e9ad6", "missing": "#e8a33d"}


class WeightsDialog(QDialog):
    download_requested = Signal(list)     # weights refs ("Enum.MEMBER")
    import_requested = Signal()           # the controller asks for the file
    cancel_requested = Signal()
    allow_changed = Signal(bool)
    mirror_changed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Pretrained weights")
        self.resize(900, 480)
        self.rows: list[dict] = []
        self.busy = False
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.allow = QCheckBox("Download missing weights when a run needs them "
                               "(hash-checked, into the torch hub cache)")
        self.allow.toggled.connect(self.allow_changed)
        self.allow.toggled.connect(lambda _on: self._update_buttons())
        self.mirror = QLineEdit()
        self.mirror.setPlaceholderText("https://download.pytorch.org/models/ (torchvision's own)")
        self.mirror.editingFinished.connect(lambda: self.mirror_changed.emit(self.mirror.text().strip()))
        settings = QFormLayout()
        settings.addRow(self.allow)
        settings.addRow("Mirror URL", self.mirror)

        self.download_button = QPushButton("Download selected")
        self.download_button.clicked.connect(self._download)
        self.import_button = QPushButton("Import file…")
        self.import_button.clicked.connect(self.import_requested)
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        for b in (self.download_button, self.import_button, self.cancel_button):
            buttons.addWidget(b)
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(settings)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self._update_buttons()

    # -- plain data in ------------------------------------------------------------------
    def set_rows(self, rows: list[dict]) -> None:
        """``weights_rows()``: template, start, weights, file, state, size_mb, path."""
        self.rows = list(rows)
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            cells = (r["template"], r["start"], r["state"], f"{r['size_mb']:.1f}", r["path"])
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{r['weights']}\n{r['file']}\nfrom {r['url']}")
                if j == 2:
                    item.setForeground(Qt.GlobalColor.white)
                    item.setBackground(_colour(r["state"]))
                if j == 3:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        self._update_buttons()

    def set_policy(self, allow: bool, mirror: str) -> None:
        for w, set_ in ((self.allow, lambda: self.allow.setChecked(allow)),
                        (self.mirror, lambda: self.mirror.setText(mirror or ""))):
            w.blockSignals(True)
            set_()
            w.blockSignals(False)
        self._update_buttons()

    def set_busy(self, busy: bool, text: str = "") -> None:
        self.busy = busy
        self.progress.setVisible(busy)
        self.progress.setValue(0)
        if text:
            self.status.setText(text)
        self._update_buttons()

    def set_progress(self, text: str, fraction: float | None) -> None:
        self.status.setText(text)
        if fraction is None:
            self.progress.setRange(0, 0)     # unknown length: a busy bar
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(fraction * 1000))

    # -- intents ------------------------------------------------------------------------
    def selected_refs(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return list(dict.fromkeys(self.rows[r]["weights"] for r in rows
                                  if self.rows[r]["state"] != "present"))

    def _download(self) -> None:
        refs = self.selected_refs()
        if refs and not self.busy:
            self.download_requested.emit(refs)

    def _update_buttons(self) -> None:
        self.download_button.setEnabled(not self.busy and bool(self.selected_refs()))
        self.import_button.setEnabled(not self.busy)
        self.cancel_button.setEnabled(self.busy)


def _colour(state: str):
    from PySide6.QtGui import QColor

    return QColor(STATE_COLOURS.get(state, "#888888"))
