""""Predict all": the project's images and dataset video frames, in the background.

A QThread with its own ``Project`` connection (SQLite connections stay in their
thread) and its own model; cancel is checked between batches.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QThread, Signal

from app.predictions.core import all_items, predict_items
from app.store.project import Project


_STOPPING: set = set()


class PredictAll(QThread):
    progress = Signal(int, int)      # done, total
    finished_ok = Signal(int, bool)  # how many frames ran, cancelled
    failed = Signal(str)

    def __init__(self, root, run_id: int, factory: Callable[[], Any], items=None, parent=None,
                 batch_size: int = 4):
        super().__init__(parent)
        self.batch_size = batch_size
        self.root, self.run_id, self.factory, self.items = root, run_id, factory, items
        self._cancel = False

    def cancel(self) -> None:
        self._cancel = True

    def detach(self) -> None:
        """Window closing: cancel, forget the listeners and let the thread end on its
        own (it stops between batches); kept referenced until it has finished."""
        self.cancel()
        for signal in (self.progress, self.finished_ok, self.failed):
            try:
                signal.disconnect()
            except RuntimeError:
                pass
        self.setParent(None)
        _STOPPING.add(self)
        self.finished.connect(lambda: _STOPPING.discard(self))

    def run(self) -> None:
        try:
            with Project.open(self.root) as project:
                items = self.items if self.items is not None else all_items(project)
                todo = [i for i in items if not project.predictions.has(self.run_id, *i)]
                self.progress.emit(0, len(todo))
                done = 0
                if todo and not self._cancel:
                    model = self.factory()
                    done = predict_items(project, self.run_id, model, todo,
                                         progress=self.progress.emit,
                                         cancelled=lambda: self._cancel,
                                         batch_size=self.batch_size)
            self.finished_ok.emit(done, self._cancel)
        except Exception as exc:  # reported in the window, never a crash
            self.failed.emit(f"{type(exc).__name__}: {exc}")
