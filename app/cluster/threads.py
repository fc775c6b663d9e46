""""Predict all" on the Ray cluster chosen in the Training tab: the same thread, signals
and Cancel as the local PredictAll (app/predictions/batch.py), the work done by Ray Data
on the cluster (app.cluster.batch) and stored as it arrives."""

from __future__ import annotations

from app.predictions.batch import PredictAll
from app.store.project import Project


class ClusterPredictAll(PredictAll):
    def __init__(self, root, run_id: int, target: dict, items=None, parent=None,
                 batch_size: int = 4):
        super().__init__(root, run_id, lambda: None, items, parent, batch_size)
        self.target = target

    def run(self) -> None:
        from app.cluster.batch import predict_on_cluster
        from app.predictions.core import all_items

        try:
            with Project.open(self.root) as project:
                items = self.items if self.items is not None else all_items(project)
                todo = [i for i in items if not project.predictions.has(self.run_id, *i)]
                self.progress.emit(0, len(todo))
                done = 0
                if todo and not self._cancel:
                    done = predict_on_cluster(
                        project, self.run_id, todo, self.target["address"],
                        workers=self.target["workers"], batch_size=self.batch_size,
                        progress=self.progress.emit, cancelled=lambda: self._cancel)
            self.finished_ok.emit(done, self._cancel)
        except Exception as exc:  # reported in the window, never a crash
            self.failed.emit(f"{type(exc).__name__}: {exc}")
