""""Predict all": the project's images and dataset video frames, in the background.

A daemon thread (app.tasks.thread) with its own ``Project`` connection (SQLite
connections stay in their thread) and its own model; cancel is checked between batches.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Signal

from app.predictions.core import all_items, predict_items
from app.store.project import Project
from app.tasks.thread import ThreadJob


class PredictAll(ThreadJob):
    progress = Signal(int, int)      # done, total
    finished_ok = Signal(int, bool)  # how many frames ran, cancelled
    failed = Signal(str)

    def __init__(self, root, run_id: int, factory: Callable[[], Any], items=None, parent=None,
                 batch_size: int = 4):
        super().__init__("kestrel-predict-all", parent)
        self.batch_size = batch_size
        self.root, self.run_id, self.factory, self.items = root, run_id, factory, items
        self._cancel = False

    def cancel(self) -> None:
        self._cancel = True

    def detach(self) -> None:
        """Window closing: the thread ends on its own between batches."""
        self._cancel = True
        super().detach()

    def run(self) -> None:
        try:
            with Project.open(self.root) as project:
                items = self.items if self.items is not None else all_items(project)
                todo = [i for i in items if not project.predictions.has(self.run_id, *i)]
                self.emit(self.progress, 0, len(todo))
                done = 0
                if todo and not self._cancel:
                    done = self._predict(project, todo)
            self.emit(self.finished_ok, done, self._cancel)
        except Exception as exc:  # reported in the window, never a crash
            self.emit(self.failed, f"{type(exc).__name__}: {exc}")

    def _predict(self, project, todo) -> int:
        """Predict and store ``todo``; returns how many ran (the cluster job overrides)."""
        return predict_items(project, self.run_id, self.factory(), todo,
                             progress=lambda d, t: self.emit(self.progress, d, t),
                             cancelled=lambda: self._cancel, batch_size=self.batch_size)
