"""Which media a run validated on, and the review numbers over them (Qt-free, torch-free).

The trainer splits the run's exported COCO file with ``training.split.dataset_split``
(the dataset's own split when it has one, else a seeded shuffle from the ``val_fraction``
and ``seed`` hyperparameters); that module is
torch-free, so the same function recomputes the split here. COCO images map back to media by export name: images by
their name, video frames as ``<video stem>/frame_NNNNNN.jpg``. A run without a
dataset (an imported checkpoint) has no split: review then uses every labelled image.

Only labelled pictures are judged (``project.status``): on a picture not labelled yet
a prediction is a proposal, neither right nor wrong, and counts nowhere.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from app.review import metrics as rm
from app.runs.records import DATASET_DIR
from app.store.exporter import COCO_FILE
from training.split import dataset_split

_FRAME = re.compile(r"^(.*)/frame_(\d+)\.jpg$")


def _hparam(run, name: str, default):
    from training import hparams  # torch-free

    value = run.hyperparameters.get(name)
    if value is None:
        value = getattr(hparams.DetectorHParams(), name, default)
    return type(default)(value)


def val_items(project, run) -> list[tuple[int, int]] | None:
    """(media id, frame) of the run's validation images, or None when unknown."""
    if not run.run_dir:
        return None
    coco = project.resolve(run.run_dir) / DATASET_DIR / COCO_FILE
    if not coco.is_file():
        return None
    images = json.loads(coco.read_text(encoding="utf-8"))["images"]
    _train, val = dataset_split(images, _hparam(run, "val_fraction", 0.2), _hparam(run, "seed", 0))
    by_name = {m.name: m for m in project.media.list()}
    by_stem = {Path(m.name).with_suffix("").as_posix(): m for m in by_name.values() if m.is_video}
    out = []
    for i in val:
        name = images[i]["file_name"]
        hit = _FRAME.match(name)
        if hit and hit.group(1) in by_stem:
            out.append((by_stem[hit.group(1)].id, int(hit.group(2))))
        elif name in by_name:
            out.append((by_name[name].id, 0))
    return out


def labelled_items(project) -> list[tuple[int, int]]:
    """(media id, frame) of every labelled picture (boxes, or no objects), sorted."""
    return sorted(project.status.labelled_pictures())


def frame_arrays(project, run_id: int, media_id: int, frame: int, min_score: float = 0.0):
    """(labels xyxy, label classes, preds xyxy, pred classes, scores) of one frame."""
    labels = project.boxes.labels(media_id, frame)
    preds = [p for p in project.predictions.boxes(run_id, media_id, frame) if (p.score or 0) >= min_score]
    return (np.array([b.rect for b in labels]).reshape(-1, 4), [b.class_id for b in labels],
            np.array([b.rect for b in preds]).reshape(-1, 4), [b.class_id for b in preds],
            np.array([p.score or 0.0 for p in preds]))


def frame_match(project, run_id: int, media_id: int, frame: int, min_score: float,
                iou: float = 0.5) -> rm.Match:
    return rm.match(*frame_arrays(project, run_id, media_id, frame, min_score), iou)


def media_counts(project, run_id: int, min_score: float, iou: float = 0.5,
                 media_ids=None) -> dict[int, tuple]:
    """media id → (TP, FP, FN) summed over its predicted labelled frames (of
    ``media_ids``: all)."""
    out: dict[int, list[int]] = {}
    frames = (project.predictions.frames(run_id) if media_ids is None else
              [mf for m in media_ids for mf in project.predictions.frames(run_id, m)])
    labelled = project.status.labelled_pictures()
    for media_id, frame in frames:
        if (media_id, frame) not in labelled:
            continue
        m = frame_match(project, run_id, media_id, frame, min_score, iou)
        c = out.setdefault(media_id, [0, 0, 0])
        c[0] += m.tp
        c[1] += m.fp
        c[2] += m.fn
    return {k: tuple(v) for k, v in out.items()}


def coverage(project, run_id: int) -> tuple[int, int]:
    """(labelled pictures the run has predicted, labelled pictures)."""
    labelled = project.status.labelled_pictures()
    return len(labelled & set(project.predictions.frames(run_id))), len(labelled)


def evaluate_run(project, run, iou: float = 0.5, confusion_score: float = 0.5):
    """PR curves and confusion matrix on the run's validation split (or, without one,
    every labelled frame); only frames the run has predicted count. Returns
    (Evaluation, description of the frames used, how many)."""
    split = val_items(project, run)
    scope = "the validation split" if split is not None else "all labelled frames"
    items = split if split is not None else labelled_items(project)
    seen = set(project.predictions.frames(run.id)) & project.status.labelled_pictures()
    items = [i for i in items if i in seen]
    ev = rm.evaluate((frame_arrays(project, run.id, m, f) for m, f in items),
                     [c.id for c in project.classes.all()], iou, confusion_score)
    return ev, scope, len(items)
