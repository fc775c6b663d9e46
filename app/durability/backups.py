"""Rolling backups while the window is open (``app.store.backup`` does the copying).

A backup is taken off the GUI thread, with its own connection: one soon after the
project opens when the newest backup is older than ``interval``, then every
``interval`` while edits happen (``mark_dirty``), and one when the window closes
(that thread is not a daemon, so the process finishes it after the window is
gone). A failure (disk full, read-only folder) is reported once through
``failed`` and tried again at the next interval; the project file is never touched.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from app.store.backup import KEEP, BackupError, list_backups, make_backup

INTERVAL_S = 5 * 60


class BackupScheduler(QObject):
    done = Signal(str)       # path of the new backup
    failed = Signal(str)     # why it could not be written

    def __init__(self, root: Path, interval_s: float = INTERVAL_S, keep: int = KEEP,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.root = Path(root)
        self.interval_s = interval_s
        self.keep = keep
        self.dirty = False
        self.last_error: str | None = None
        self._thread: threading.Thread | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(int(interval_s * 1000))
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        newest = list_backups(self.root)[:1]
        if not newest or time.time() - newest[0].stat().st_mtime > interval_s:
            self._first = QTimer(self)          # owned: never fires after the window went
            self._first.setSingleShot(True)
            self._first.timeout.connect(lambda: self.start(force=True))
            self._first.start(2000)

    def mark_dirty(self, *_args) -> None:
        """Something was written: the next interval takes a backup."""
        self.dirty = True

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _tick(self) -> None:
        if self.dirty:
            self.start()

    def start(self, force: bool = False, daemon: bool = True) -> bool:
        """Take a backup in a thread unless one is running; False when none started."""
        if self.running() or not (self.dirty or force):
            return False
        self.dirty = False
        self._thread = threading.Thread(target=self._run, name="kestrel-backup", daemon=daemon)
        self._thread.start()
        return True

    def _run(self, after: threading.Thread | None = None) -> None:
        if after is not None:
            after.join()
        try:
            path = make_backup(self.root, self.keep)
        except BackupError as exc:
            self.dirty = True                  # try again at the next interval
            if str(exc) != self.last_error:
                self.last_error = str(exc)
                self._emit(self.failed, str(exc))
            return
        self.last_error = None
        self._emit(self.done, str(path))

    @staticmethod
    def _emit(signal, text: str) -> None:
        try:
            signal.emit(text)
        except RuntimeError:       # the window (and this object) is gone: the file is what counts
            pass

    def close(self) -> None:
        """The window closes: a last backup if anything changed since the previous one,
        after the one running (if any); the process finishes it, the GUI does not wait."""
        self._timer.stop()
        if not self.dirty:
            return
        self.dirty = False
        self._thread = threading.Thread(target=self._run, args=(self._thread,),
                                        name="kestrel-backup-on-close", daemon=False)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
