"""An exception hook that shows the error and keeps the window alive.

Qt calls slots from its event loop; an exception escaping a slot would otherwise
only be printed (or abort the process). The hook prints the traceback and shows it
in a non-modal error dialog (one dialog collects a burst of errors); the app goes on.
"""

from __future__ import annotations

import sys
import traceback

from PySide6.QtWidgets import QApplication, QWidget


class ErrorReporter:
    def __init__(self, parent: QWidget | None = None, show_dialog: bool = True):
        self.parent = parent
        self.show_dialog = show_dialog
        self.last: tuple[str, str] | None = None   # (message, traceback) of the latest error
        self._previous = None

    def install(self) -> "ErrorReporter":
        self._previous = sys.excepthook
        sys.excepthook = self.handle
        return self

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook = self._previous
            self._previous = None

    def handle(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        print(text, file=sys.stderr)
        self.last = (f"{exc_type.__name__}: {exc}" if str(exc) else exc_type.__name__, text)
        if self.show_dialog and QApplication.instance() is not None:
            from widgets.error_dialog import ErrorDialog

            ErrorDialog.report(exc_type, exc, tb, self.parent)
