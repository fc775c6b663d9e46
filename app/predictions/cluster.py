"""*Predict all* on a Ray cluster: the same plan, progress and Cancel as the local path
(app/predictions/batch.py, app/predictions/core.py), the model mapped over the
pictures by Ray Data on the cluster (app.cluster.batch), answers stored as they arrive.
"""

from __future__ import annotations

from typing import Callable

from app.cluster.batch import Progress, Staging, has_gpu, run_job
from app.predictions.batch import PredictAll
from app.predictions.core import PredictError, class_ids_for
from app.runs.records import model_path


def predict_on_cluster(project, run_id: int, items, address: str, *, workers: int = 2,
                       score: float = 0.05, batch_size: int = 4,
                       progress: Progress | None = None,
                       cancelled: Callable[[], bool] | None = None) -> int:
    """Predict and store ``items`` ((media, frame) pairs) not cached yet; how many were."""
    todo = [i for i in items if not project.predictions.has(run_id, *i)]
    if not todo:
        return 0
    model = model_path(project, run_id)
    if model is None:
        raise PredictError(f"run #{run_id} has no checkpoint (best.pt or last.pt) yet")
    staging = Staging(project, model)
    try:
        for media_id, frame in todo:
            staging.add(media_id, frame)
        spec = staging.spec("predict", workers, has_gpu(address), batch_size, ["--score", f"{score:g}"])
        done = [0]
        by_name: dict[str, int | None] = {}   # model class -> project class (None: left out)

        def result(obj: dict) -> None:
            media_id, frame = todo[obj["i"]]
            names = list(obj["names"])
            new = sorted(set(names) - set(by_name))
            by_name.update(zip(new, class_ids_for(project, new)))
            rows = [(by_name[n], *map(float, b), float(s))
                    for b, n, s in zip(obj["boxes"], names, obj["scores"]) if by_name[n] is not None]
            project.predictions.store(run_id, media_id, frame, rows)
            done[0] += 1
        run_job(address, spec, result, progress, cancelled)
        return done[0]
    finally:
        staging.close()


class ClusterPredictAll(PredictAll):
    def __init__(self, root, run_id: int, target: dict, items=None, parent=None,
                 batch_size: int = 4):
        super().__init__(root, run_id, lambda: None, items, parent, batch_size)
        self.target = target

    def _predict(self, project, todo) -> int:
        return predict_on_cluster(
            project, self.run_id, todo, self.target["address"], workers=self.target["workers"],
            batch_size=self.batch_size, progress=lambda d, t: self.emit(self.progress, d, t),
            cancelled=lambda: self._cancel)
