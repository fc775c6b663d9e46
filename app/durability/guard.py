"""What keeps a project safe while a window shows it.

- One window writes: the window holds ``kestrel.window.lock``. A second window on
  the same project (in this process or another) finds it taken and opens
  read-only: its document refuses edits (its undo history would interleave with
  the first window's) and it says so; it still follows the first window's edits
  through ``external_change``.
- Rolling backups (``BackupScheduler``) while edits happen and on close.
- ``external_change``: another program (``kestrel import``/``predict``/``train``, a
  worker thread) committed to the project; the window refreshes its views.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.durability.backups import BackupScheduler
from app.durability.watcher import ExternalChanges
from app.store.lockfile import WINDOW_LOCK, FileLock

READ_ONLY = ("This project is open in another Kestrel window, so this one is read-only: "
             "label there, or close it and reopen the project here.")


class ProjectGuard(QObject):
    external_change = Signal()
    backup_failed = Signal(str)

    def __init__(self, project, doc, parent: QObject | None = None, backups: bool = True):
        super().__init__(parent)
        self.lock = FileLock(project.root / WINDOW_LOCK)
        self.read_only = READ_ONLY if self.lock.busy else None
        if self.read_only:
            doc.set_read_only(self.read_only)
        self.backups = None
        if backups and not self.read_only:
            self.backups = BackupScheduler(project.root, parent=self)
            self.backups.failed.connect(self.backup_failed)
            doc.edited.connect(self.backups.mark_dirty)
        self.watcher = ExternalChanges(project, parent=self)
        self.watcher.changed.connect(self.external_change)
        if self.backups is not None:
            self.watcher.changed.connect(self.backups.mark_dirty)

    def close(self) -> None:
        """The window closes: last backup (off this thread), stop watching, let go."""
        self.watcher.stop()
        if self.backups is not None:
            self.backups.close()
        self.lock.release()
