"""Opening a damaged project in the window: say so and offer the newest good backup.

``open_or_recover(open_fn, folder, parent)`` calls ``open_fn()``; if the project
file is damaged it shows what is wrong and, when a good backup exists, offers to
restore it (``app.store.doctor.restore``: the damaged file is set aside, not
deleted) and opens the project again. Without a backup it names ``kestrel doctor``.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtWidgets import QMessageBox

from app.store import doctor
from app.store.project import ProjectDamaged

RESTORE = "Restore backup"


def open_or_recover(open_fn, parent=None):
    """``open_fn()``'s result, or None when the project is damaged and not restored."""
    try:
        return open_fn()
    except ProjectDamaged as exc:
        if offer_restore(exc, parent):
            return open_fn()
        return None


def offer_restore(error: ProjectDamaged, parent=None) -> bool:
    """The damage, and a restore offered; True when a backup was put in place."""
    good = doctor.examine(error.root).newest_good()
    text = f"The project file {error.root / 'kestrel.db'} is damaged:\n{error.reason}"
    box = QMessageBox(QMessageBox.Critical, "Kestrel — damaged project", text, parent=parent)
    box.setObjectName("damaged-project")
    if good is None:
        box.setInformativeText("There is no good backup of it. `kestrel doctor "
                               f"{error.root}` checks it in detail.")
        box.setStandardButtons(QMessageBox.Close)
        box.exec()
        return False
    when = datetime.fromtimestamp(good.path.stat().st_mtime).strftime("%Y-%m-%d %H:%M:%S")
    box.setInformativeText(f"Restore the newest good backup, taken {when} ({good.path.name})? "
                           "Edits made after it are not in it. The damaged file is kept in "
                           "kestrel-backups.")
    restore = box.addButton(RESTORE, QMessageBox.AcceptRole)
    box.addButton(QMessageBox.Cancel)
    box.setDefaultButton(restore)
    box.exec()
    if box.clickedButton() is not restore:
        return False
    try:
        doctor.restore(error.root, good.path)
    except doctor.RestoreError as exc:
        QMessageBox.warning(parent, "Kestrel — restore failed", str(exc))
        return False
    return True
