"""Probable label errors: where labels and a model that never saw them disagree
(Qt-free, torch-free; predictions come from the store).

The model is the run's, on its own validation split (pictures it did not train on),
or, when the run was cross-checked (``app.next.folds``: k runs, each holding one
fold out), each fold's model on its fold: then every labelled picture is covered.
On each such picture, per label and prediction:

* *missed object*: a confident prediction with no label near it (weight: its score,
  times how often the model's predictions of about that score match a label on
  these pictures: a weak model is as sure of a horse as of a kangaroo);
* *no prediction near this box*: a label the model finds nothing like, neither its
  class nor another (weight: 1 - the best score of any prediction over it, times how
  often the model finds labels of that size on these pictures: a weak model misses
  small objects everywhere, and its missing one there says little);
* *other class*: the label's best match is a confident prediction of another class
  (weight: that score minus the best score of its own class there);
* *box off*: its best same-class match overlaps it only a little (weight: that
  prediction's score x (1 - IoU)).

A prediction that is some label's best same-class match is that label's business
(a shifted box is one suspect, not two), and a prediction that confirms another label
(IoU >= MATCH, and more than with this one) says nothing about this label: a
neighbour's box does not make a label look off. The list is ranked by weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from app.review.metrics import iou_matrix

CONFIDENT = 0.5       # a prediction this sure, with no label, is a missed object
NEAR = 0.1            # IoU below this: not about the same object
MATCH = 0.5           # IoU at which a prediction confirms a label's box
SEEN = 0.3            # a prediction this sure, over a label, is the model seeing something
NEIGHBOURS = 40       # labels (predictions) of the nearest sizes (scores) a rate is taken over
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
                     frame: int = 0, run_id: int | None = None,
                     found_rate: Callable[[float], float] | None = None,
                     precision: Callable[[float], float] | None = None,
                     size: tuple[int, int] | None = None) -> list[Suspect]:
    """Suspects on one picture. ``labels`` and ``predictions``: store Box rows;
    ``found_rate(log side)``: how often the model sees a label of that size
    (``relative_side`` on a picture of ``size``); ``precision(score)``: how often its
    predictions of that score match a label; both 1 when not given."""
    lc, pc, ps, ious, mine = _arrays(labels, predictions)
    out: list[Suspect] = []
    claimed: set[int] = set()

    def add(kind, rect, weight, box_id=None, pred_id=None, **fmt):
        out.append(Suspect(media_id, frame, kind, tuple(float(v) for v in rect), float(weight),
                           TEXT[kind].format(**fmt), box_id, pred_id, run_id))

    for i, label in enumerate(labels):
        row = ious[i]
        same = (pc == lc[i]) & (row >= NEAR) & mine[i]
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
        if best_same is not None and row[best_same] < MATCH and ps[best_same] >= SEEN:
            add("box", label.rect, ps[best_same] * (1 - row[best_same]), label.id,
                predictions[best_same].id, label=name, iou=row[best_same])
            continue
        if own == 0.0:
            near = (row >= NEAR) & mine[i]
            best_any = float(ps[near].max()) if near.any() else 0.0
            if best_any < SEEN:
                rate = found_rate(np.log(relative_side(label.rect, size))) if found_rate else 1.0
                add("spurious", label.rect, (1.0 - best_any) * rate, label.id, label=name)
    for j, pred in enumerate(predictions):
        if j in claimed or ps[j] < CONFIDENT:
            continue
        if len(labels) and ious[:, j].max() >= NEAR:
            continue
        weight = ps[j] * (precision(ps[j]) if precision else 1.0)
        add("missed", pred.rect, weight, None, pred.id, pred=names.get(pred.class_id, "?"),
            score=ps[j])
    return out


def relative_side(rect, size: tuple[int, int] | None) -> float:
    """sqrt(box area / picture area): how big the object is to the model, which sees
    every picture at one input size (the box's own side when the size is unknown)."""
    x1, y1, x2, y2 = rect
    area = max(x2 - x1, 1e-6) * max(y2 - y1, 1e-6)
    return float(np.sqrt(area / max(size[0] * size[1], 1))) if size else float(np.sqrt(area))


def _confirms_another(ious: np.ndarray, lc: np.ndarray, pc: np.ndarray) -> np.ndarray:
    """[label i, prediction j]: j confirms another label of its class (IoU >= MATCH)
    better than it overlaps i."""
    out = np.zeros(ious.shape, bool)
    if ious.shape[0] < 2 or ious.shape[1] == 0:
        return out
    confirm = np.where((lc[:, None] == pc[None, :]) & (ious >= MATCH), ious, -1.0)
    for i in range(ious.shape[0]):
        out[i] = np.delete(confirm, i, axis=0).max(axis=0) > ious[i]
    return out


def _arrays(labels, predictions):
    """A picture's label classes, prediction classes and scores, the IoU of every
    label with every prediction, and [label i, prediction j]: j is not another
    label's (it does not confirm another label better than it overlaps i)."""
    lb = np.array([b.rect for b in labels], np.float64).reshape(-1, 4)
    pb = np.array([p.rect for p in predictions], np.float64).reshape(-1, 4)
    lc = np.array([b.class_id for b in labels], np.int64)
    pc = np.array([p.class_id for p in predictions], np.int64)
    ps = np.array([p.score or 0.0 for p in predictions], np.float64)
    ious = iou_matrix(lb, pb)
    return lc, pc, ps, ious, ~_confirms_another(ious, lc, pc)


def labels_seen(labels, predictions) -> list[bool]:
    """Per label: the model sees something there (a prediction >= SEEN over it that
    is not another label's)."""
    _lc, _pc, ps, ious, mine = _arrays(labels, predictions)
    return ((ious >= NEAR) & mine & (ps >= SEEN)[None, :]).any(axis=1).tolist()


def predictions_confirmed(labels, predictions) -> list[tuple[float, bool]]:
    """(score, matches a label of its class at IoU >= MATCH) per prediction >= SEEN."""
    lc, pc, ps, ious, _mine = _arrays(labels, predictions)
    match = ((ious >= MATCH) & (lc[:, None] == pc[None, :])).any(axis=0)
    return [(float(s), bool(m)) for s, m in zip(ps, match) if s >= SEEN]


def nearest_rate(values, outcomes, k: int = NEIGHBOURS) -> Callable[[float], float] | None:
    """The share of true ``outcomes`` among the ``k`` entries whose ``values`` are
    nearest a given value; None with fewer than ``k`` entries (too few to say)."""
    if len(values) < k:
        return None
    vals = np.asarray(values, np.float64)
    hit = np.asarray(outcomes, np.float64)

    def rate(value: float) -> float:
        return float(hit[np.argsort(np.abs(vals - value))[:k]].mean())
    return rate


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
    sizes = {m.id: (m.width, m.height) for m in project.media.list() if m.width and m.height}
    pictures = []
    missing = 0
    for (media_id, frame), model in sorted(items.items()):
        if not project.predictions.has(model, media_id, frame):
            missing += 1
            continue
        pictures.append((media_id, frame, model, project.boxes.labels(media_id, frame),
                         project.predictions.boxes(model, media_id, frame)))
    # How reliable the model is here, from the pictures themselves: which sizes of
    # label it sees, and how often a prediction of a given score is a labelled object.
    sides, seen, confirmed = [], [], []
    for media_id, _frame, _model, labels, predictions in pictures:
        sides += [np.log(relative_side(b.rect, sizes.get(media_id))) for b in labels]
        seen += labels_seen(labels, predictions)
        confirmed += predictions_confirmed(labels, predictions)
    found_rate = nearest_rate(sides, seen)
    precision = nearest_rate([c[0] for c in confirmed], [c[1] for c in confirmed])
    out: list[Suspect] = []
    for media_id, frame, model, labels, predictions in pictures:
        out += picture_suspects(labels, predictions, names, media_id, frame, model,
                                found_rate=found_rate, precision=precision,
                                size=sizes.get(media_id))
    out.sort(key=lambda s: -s.weight)
    return out, len(pictures), missing


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
