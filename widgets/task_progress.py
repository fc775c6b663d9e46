"""Status-bar progress for a background job: a label, a bar and a Cancel button.

Hidden while idle, so the status bar only shows it while something runs.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget


class TaskProgress(QWidget):
    cancel_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.label = QLabel(self)
        self.bar = QProgressBar(self)
        self.bar.setMaximumWidth(160)
        self.cancel = QPushButton("Cancel", self)
        self.cancel.clicked.connect(self.cancel_requested)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        for w in (self.label, self.bar, self.cancel):
            lay.addWidget(w)
        self.hide()

    def start(self, text: str, total: int) -> None:
        self.label.setText(text)
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(0)
        self.cancel.setEnabled(True)
        self.show()

    def set_progress(self, done: int, text: str | None = None) -> None:
        self.bar.setValue(done)
        if text is not None:
            self.label.setText(text)

    def finish(self) -> None:
        self.hide()
