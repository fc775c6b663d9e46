"""A job on a daemon thread whose signals arrive on the GUI thread.

The job object is a QObject living on the GUI thread; its thread emits the job's
signals, which Qt queues to their receivers there. Being a daemon, a job the window
has given up on (``detach``: it is told to stop and reports nothing more) never
holds up the application's exit, and nothing ever waits for it.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject


class ThreadJob(QObject):
    def __init__(self, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self.detached = False
        self._thread = threading.Thread(target=self.run, name=name, daemon=True)

    def run(self) -> None:          # the work, on the thread
        raise NotImplementedError

    def start(self) -> None:
        self._thread.start()

    def isRunning(self) -> bool:
        return self._thread.is_alive()

    def detach(self) -> None:
        """Report nothing more; subclasses also tell the work to stop."""
        self.detached = True

    def emit(self, signal, *args) -> None:
        """Emit unless detached; a receiver already gone detaches the job."""
        if not self.detached:
            try:
                signal.emit(*args)
            except RuntimeError:
                self.detached = True
