"""An exception hook that shows the error and keeps the window alive.

Qt calls slots from its event loop; an exception escaping a slot would otherwise
be printed and, in PySide6, may abort the process. The hook logs the traceback
and shows it in a non-modal dialog; the app goes on.
"""

from __future__ import annotations

import sys
import traceback

from PySide6.QtWidgets import QApplication, QWidget


class ErrorReporter:
    def __init__(self, parent: QWidget | None = None, show_dialog: bool = True):
        self.parent = parent
        self.show_dialog = show_dialog
        self.last: tuple[str, str] | None = None
        self._dialogs = []
        self._previous = None

    def install(self) -> "ErrorReporter":
        self._previous = sys.excepthook
        sys.excepthook = self.handle
        return self

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook = self._previous

    def handle(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        print(text, file=sys.stderr)
        message = f"{exc_type.__name__}: {exc}" if str(exc) else exc_type.__name__
        self.last = (message, text)
        if self.show_dialog and QApplication.instance() is not None:
            self.show(message, text)

    def show(self, message: str, details: str = "") -> None:
        from widgets.error_dialog import ErrorDialog

        dialog = ErrorDialog(message, details, self.parent)
        self._dialogs = [d for d in self._dialogs if d.isVisible()] + [dialog]
        dialog.show()
