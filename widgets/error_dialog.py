"""Shows an exception with its traceback folded away. Non-modal: the app keeps working.

``ErrorDialog.report(exc_type, exc, tb, parent)`` is what an exception hook calls. While one
dialog is open further errors are added to it (a counter and the latest traceback) instead
of stacking up dialogs — an error in a paint event must not bury the window.
"""
from __future__ import annotations

import traceback

from PySide6.QtCore import QCoreApplication, Qt, QThread, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QDialog, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton,
                               QVBoxLayout)


class ErrorDialog(QDialog):
    _open: "ErrorDialog | None" = None

    def __init__(self, title: str, message: str, details: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Kestrel — error")
        self.setModal(False)
        self.setAttribute(Qt.WA_DeleteOnClose, True)
        self.count = 1
        self.title = QLabel(f"<b>{_escape(title)}</b>", self)
        self.message = QLabel(self, wordWrap=True,
                              textInteractionFlags=Qt.TextSelectableByMouse)
        self.message.setText(message)
        self.more = QLabel(self)
        self.more.hide()
        self.details = QPlainTextEdit(self, readOnly=True)
        self.details.setPlainText(details)
        self.details.setLineWrapMode(QPlainTextEdit.NoWrap)
        self.details.setMinimumHeight(180)
        self.details.hide()
        self.toggle_button = QPushButton("Show details", self, checkable=True)
        self.toggle_button.toggled.connect(self.show_details)
        self.toggle_button.setEnabled(bool(details))
        self.copy_button = QPushButton("Copy", self, toolTip="Copy the message and traceback")
        self.copy_button.clicked.connect(self.copy)
        close = QPushButton("Close", self, default=True)
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.toggle_button)
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.message)
        lay.addWidget(self.more)
        lay.addWidget(self.details, 1)
        lay.addLayout(buttons)
        self.setMinimumWidth(520)
        self.resize(520, 160)

    @classmethod
    def from_exception(cls, exc_type, exc, tb, parent=None) -> "ErrorDialog":
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        return cls(exc_type.__name__, str(exc) or exc_type.__name__, details, parent)

    @classmethod
    def report(cls, exc_type, exc, tb, parent=None) -> "ErrorDialog | None":
        """Show (non-blocking) or add to the open error dialog; returns it.

        Safe to call from any thread: off the GUI thread the dialog is queued to the GUI
        thread and None is returned.
        """
        app = QCoreApplication.instance()
        if app is not None and QThread.currentThread() is not app.thread():
            QTimer.singleShot(0, app, lambda: cls.report(exc_type, exc, tb, parent))
            return None
        dlg = cls._open
        if dlg is not None and dlg.isVisible():
            dlg.add_error(exc_type, exc, tb)
        else:
            dlg = cls.from_exception(exc_type, exc, tb, parent)
            cls._open = dlg
            dlg.destroyed.connect(lambda *_: setattr(cls, "_open", None))
            dlg.show()
        dlg.raise_()
        return dlg

    def add_error(self, exc_type, exc, tb) -> None:
        self.count += 1
        self.more.setText(f"{self.count - 1} more error(s) since; the latest is shown below.")
        self.more.show()
        self.details.setPlainText("".join(traceback.format_exception(exc_type, exc, tb)))
        self.toggle_button.setEnabled(True)

    def show_details(self, on: bool) -> None:
        self.details.setVisible(on)
        self.toggle_button.setText("Hide details" if on else "Show details")
        self.toggle_button.setChecked(on)
        self.adjustSize()

    def text(self) -> str:
        return f"{self.message.text()}\n\n{self.details.toPlainText()}".strip()

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
