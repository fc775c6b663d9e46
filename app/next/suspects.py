"""Probable label errors: where labels and a model that never saw them disagree
(Qt-free, torch-free; predictions come from the store).

The model is the run's, on its own validation split (pictures it did not train on),
or, when the run was cross-checked (``app.next.folds``: k runs, each holding one
fold out), each fold's model on its fold: then every labelled picture is covered.
On each such picture, per label and prediction:

* *missed object*: a confident prediction with no label near it (weight: its score);
* *no prediction near this box*: a label the model finds nothing like, neither its
  class nor another (weight: 1 - the best score of any prediction over it);
* *other class*: the label's best match is a confident prediction of another class
  (weight: that score minus the best score of its own class there);
* *box off*: its best same-class match overlaps it only a little (weight: that
  prediction's score x (1 - IoU)).

A prediction that is some label's best same-class match is that label's business
(a shifted box is one suspect, not two). The list is ranked by weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.review.metrics import iou_matrix

CONFIDENT = 0.5       # a prediction this sure, with no label, is a missed object
NEAR = 0.1            # IoU below this: not about the same object
MATCH = 0.5           # IoU at which a prediction confirms a label's box
KINDS = ("missed", "spurious", "class", "box")
TEXT = {"missed": "missed object? the model sees {pred} {score:.2f} here with no label",
        "spurious": "no prediction near this {label} box (nothing there, or a wrong box?)",
        "class": "other class? labelled {label}, the model says {pred} {score:.2f}",
        "box": "box off? the model's {label} box overlaps it only {iou:.0%}"}


@dataclass(frozen=True)
class Suspect:
    media_id: int
    frame: int
    kind: str                                   # one of KINDS
    rect: tuple[float, float, float, float]     # the region to look at (xyxy)
    weight: float                               # how likely an error, 0..1
    text: str
    box_id: int | None = None                   # the label concerned
    prediction_id: int | None = None            # the prediction concerned
    run_id: int | None = None

    def to_json(self, name: str = "") -> dict:
        return {"media_id": self.media_id, "frame": self.frame, "name": name, "kind": self.kind,
                "rect": [round(v, 1) for v in self.rect], "weight": round(self.weight, 4),
                "text": self.text, "box_id": self.box_id, "prediction_id": self.prediction_id,
                "run_id": self.run_id}


def picture_suspects(labels, predictions, names: dict[int, str], media_id: int = 0,
                     frame: int = 0, run_id: int | None = None) -> list[Suspect]:
    """Suspects on one picture. ``labels`` and ``predictions``: store Box rows."""
    lb = np.array([b.rect for b in labels], np.float64).reshape(-1, 4)
    pb = np.array([p.rect for p in predictions], np.float64).reshape(-1, 4)
    lc = np.array([b.class_id for b in labels], np.int64)
    pc = np.array([p.class_id for p in predictions], np.int64)
    ps = np.array([p.score or 0.0 for p in predictions], np.float64)
    ious = iou_matrix(lb, pb)
    out: list[Suspect] = []
    claimed: set[int] = set()

    def add(kind, rect, weight, box_id=None, pred_id=None, **fmt):
        out.append(Suspect(media_id, frame, kind, tuple(float(v) for v in rect), float(weight),
                           TEXT[kind].format(**fmt), box_id, pred_id, run_id))

    for i, label in enumerate(labels):
        row = ious[i] if len(pb) else np.zeros(0)
        same = (pc == lc[i]) & (row >= NEAR)
        other = (pc != lc[i]) & (row >= MATCH)
        best_same = int(np.argmax(np.where(same, ps * row, -1))) if same.any() else None
        if best_same is not None:
            claimed.add(best_same)
        own = float(ps[best_same]) if best_same is not None and row[best_same] >= MATCH else 0.0
        name = names.get(label.class_id, "?")
        if other.any():
            j = int(np.argmax(np.where(other, ps, -1)))
            if ps[j] - own > 0.2:
                claimed.add(j)
                add("class", label.rect, ps[j] - own, label.id, predictions[j].id, label=name,
                    pred=names.get(int(pc[j]), "?"), score=ps[j])
                continue
        if best_same is not None and row[best_same] < MATCH and ps[best_same] >= 0.3:
            add("box", label.rect, ps[best_same] * (1 - row[best_same]), label.id,
                predictions[best_same].id, label=name, iou=row[best_same])
            continue
        if own == 0.0:
            near = row >= NEAR
            best_any = float(ps[near].max()) if near.any() else 0.0
            if best_any < 0.3:
                add("spurious", label.rect, 1.0 - best_any, label.id, label=name)
    for j, pred in enumerate(predictions):
        if j in claimed or ps[j] < CONFIDENT:
            continue
        if len(lb) and ious[:, j].max() >= NEAR:
            continue
        add("missed", pred.rect, ps[j], None, pred.id, pred=names.get(pred.class_id, "?"),
            score=ps[j])
    return out


def held_out(project, run_id: int) -> dict[tuple[int, int], int]:
    """(media id, frame) → the run whose model did not train on it: each fold of a
    cross-check of ``run_id`` (when it has folds), else ``run_id``'s validation split."""
    from app.review.evaluation import val_items

    folds = [r for r in project.runs.all() if (r.dataset or {}).get("fold_of") == run_id
             and r.status == "finished"]
    runs = folds or [project.runs.get(run_id)]
    out: dict[tuple[int, int], int] = {}
    for run in runs:
        for item in val_items(project, run) or []:
            out.setdefault(item, run.id)
    labelled = project.status.labelled_pictures()
    return {k: v for k, v in out.items() if k in labelled}


def find_suspects(project, run_id: int, items: dict[tuple[int, int], int] | None = None
                  ) -> tuple[list[Suspect], int, int]:
    """Ranked suspects on the held-out labelled pictures that have predictions;
    returns (suspects, pictures checked, held-out pictures not predicted yet)."""
    items = held_out(project, run_id) if items is None else items
    names = {c.id: c.name for c in project.classes.all()}
    out: list[Suspect] = []
    checked = missing = 0
    for (media_id, frame), model in sorted(items.items()):
        if not project.predictions.has(model, media_id, frame):
            missing += 1
            continue
        checked += 1
        out += picture_suspects(project.boxes.labels(media_id, frame),
                                project.predictions.boxes(model, media_id, frame), names,
                                media_id, frame, model)
    out.sort(key=lambda s: -s.weight)
    return out, checked, missing


def predict_held_out(project, run_id: int, *, device: str = "auto", progress=None,
                     cancelled=lambda: False) -> int:
    """Predict the held-out pictures that have no predictions yet (torch loads here);
    returns how many were predicted."""
    from app.predictions.core import load_model, predict_items

    by_run: dict[int, list[tuple[int, int]]] = {}
    for item, model in held_out(project, run_id).items():
        if not project.predictions.has(model, *item):
            by_run.setdefault(model, []).append(item)
    total, done = sum(len(v) for v in by_run.values()), 0
    for model_run, todo in sorted(by_run.items()):
        if cancelled():
            break
        model = load_model(project, model_run, device)
        done += predict_items(project, model_run, model, sorted(todo), cancelled=cancelled,
                              progress=(lambda d, t, base=done: progress(base + d, total))
                              if progress else None)
    return done
