"""Status-bar progress for a background job: a label, a bar and a Cancel button.

Hidden while idle, so the status bar only shows it while something runs; a job that
ends with something to say (why it stopped) leaves that text in place, with a button
to dismiss it, until it is dismissed or the next job starts.
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
        self._slot = None
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        for w in (self.label, self.bar, self.cancel):
            lay.addWidget(w)
        self._set_button("Cancel", self.cancel_requested.emit)
        self.hide()

    def start(self, text: str, total: int) -> None:
        self.label.setText(text)
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(0)
        self.bar.show()
        self._set_button("Cancel", self.cancel_requested.emit)
        self.show()

    def set_progress(self, done: int, text: str | None = None) -> None:
        self.bar.setValue(done)
        if text is not None:
            self.label.setText(text)

    def finish(self, text: str | None = None) -> None:
        """Done: hide, or keep ``text`` (how it ended) on show until dismissed."""
        if not text:
            self.hide()
            return
        self.label.setText(text)
        self.bar.hide()
        self._set_button("OK", self.hide)
        self.show()

    def _set_button(self, text: str, slot) -> None:
        """The one button: Cancel while the job runs, OK to dismiss what it said."""
        self.cancel.setText(text)
        self.cancel.setEnabled(True)
        if self._slot is not None:
            self.cancel.clicked.disconnect(self._slot)
        self._slot = slot
        self.cancel.clicked.connect(slot)
