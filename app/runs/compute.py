"""The Training tab's *Compute* choice: this machine or a Ray cluster. Checks a
cluster off the GUI thread and shows its resources before a run; keeps the choice in
the project (app.cluster.settings) for Predict all and the Search tab; explains how
to install Ray where it is missing. Ray itself is imported only by a check or a run."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from app.cluster.connect import INSTALL_HINT, ClusterError, describe, ray_installed
from app.cluster.settings import compute_target, set_compute_target


class ComputeChoice(QObject):
    checked = Signal(str, object)     # address, ClusterInfo or the error's text (queued)

    def __init__(self, box, project, parent=None):
        super().__init__(parent)
        self.box, self.project = box, project
        self.info = None              # the last ClusterInfo checked
        box.set_available(ray_installed(), INSTALL_HINT)
        box.set_target(compute_target(project))
        box.changed.connect(self._save)
        box.check_requested.connect(self.check)
        self.checked.connect(self._show)

    def _save(self) -> None:
        target = self.box.target()
        if target != compute_target(self.project):
            set_compute_target(self.project, target)

    def check(self, address: str) -> threading.Thread:
        """Ask the cluster what it has, on a daemon thread (never waited for)."""
        self.box.set_checking(address)

        def ask() -> None:
            try:
                self.checked.emit(address, describe(address))
            except ClusterError as exc:
                self.checked.emit(address, str(exc))
            except Exception as exc:   # anything else is shown, never raised into Qt
                self.checked.emit(address, f"{type(exc).__name__}: {exc}")
        thread = threading.Thread(target=ask, name="kestrel-ray-check", daemon=True)
        thread.start()
        return thread

    def _show(self, address: str, result) -> None:
        if isinstance(result, str):
            self.info = None
            self.box.set_info(result, ok=False)
        else:
            self.info = result
            self.box.set_info(result.text())

    def target(self):
        """The chosen ClusterTarget, or None for this machine; ClusterError when the
        choice cannot be used (no Ray, no address)."""
        chosen = self.box.target()
        if chosen is None:
            return None
        if not ray_installed():
            raise ClusterError(INSTALL_HINT)
        from app.runs.cluster import ClusterTarget

        return ClusterTarget(chosen["address"], workers=chosen["workers"],
                             storage=chosen["storage"])
