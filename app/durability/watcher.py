"""Noticing writes by other programs: ``kestrel import``, ``predict``, ``train`` or
a worker thread with its own connection, while the window is open.

SQLite's ``PRAGMA data_version`` changes on a connection whenever another
connection commits to the file; reading it costs microseconds and takes no lock.
A timer polls it on the window's connection and emits ``changed`` once per
interval in which something else wrote. The window refreshes its views on it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

INTERVAL_MS = 1000


class ExternalChanges(QObject):
    changed = Signal()

    def __init__(self, project, interval_ms: int = INTERVAL_MS, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project
        self._version = self._read()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.poll)
        self._timer.start(interval_ms)

    def _read(self) -> int | None:
        try:
            return self.project.db.data_version()
        except Exception:         # a closed project: nothing to watch
            return None

    def poll(self) -> bool:
        """Check now; True (and ``changed`` emitted) when another connection wrote."""
        version = self._read()
        if version is None or version == self._version:
            return False
        self._version = version
        self.changed.emit()
        return True

    def stop(self) -> None:
        self._timer.stop()
