""""Predict all": the project's images and dataset video frames, in the background.

A daemon thread with its own ``Project`` connection (SQLite connections stay in their
thread) and its own model; cancel is checked between batches. Its signals live on a
QObject of the GUI thread, so they arrive there queued. Being a daemon, a run the
window has given up on (``detach``) never holds up the application's exit.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from app.predictions.core import all_items, predict_items
from app.store.project import Project


class PredictAll(QObject):
    progress = Signal(int, int)      # done, total
    finished_ok = Signal(int, bool)  # how many frames ran, cancelled
    failed = Signal(str)

    def __init__(self, root, run_id: int, factory: Callable[[], Any], items=None, parent=None,
                 batch_size: int = 4):
        super().__init__(parent)
        self.batch_size = batch_size
        self.root, self.run_id, self.factory, self.items = root, run_id, factory, items
        self._cancel = False
        self._detached = False
        self._thread = threading.Thread(target=self.run, name="kestrel-predict-all", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def isRunning(self) -> bool:
        return self._thread.is_alive()

    def cancel(self) -> None:
        self._cancel = True

    def detach(self) -> None:
        """Window closing: cancel and report nothing more; the thread ends on its own
        between batches."""
        self._cancel = self._detached = True

    def _emit(self, signal, *args) -> None:
        if not self._detached:
            try:
                signal.emit(*args)
            except RuntimeError:     # the receiver is gone
                self._detached = True

    def run(self) -> None:
        try:
            with Project.open(self.root) as project:
                items = self.items if self.items is not None else all_items(project)
                todo = [i for i in items if not project.predictions.has(self.run_id, *i)]
                self._emit(self.progress, 0, len(todo))
                done = 0
                if todo and not self._cancel:
                    model = self.factory()
                    done = predict_items(project, self.run_id, model, todo,
                                         progress=lambda d, t: self._emit(self.progress, d, t),
                                         cancelled=lambda: self._cancel,
                                         batch_size=self.batch_size)
            self._emit(self.finished_ok, done, self._cancel)
        except Exception as exc:  # reported in the window, never a crash
            self._emit(self.failed, f"{type(exc).__name__}: {exc}")
