"""Labels against predictions, numpy only (no Qt, no torch): tested on its own.

Matching follows COCO: per class, predictions in descending score order each take
the unmatched label of the same class with the highest IoU, if that IoU reaches the
threshold. A matched prediction is a true positive, an unmatched one a false
positive, an unmatched label a miss (false negative).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TP, FP, FN = "tp", "fp", "fn"


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every xyxy box in ``a`` (N, 4) with every box in ``b`` (M, 4) → (N, M)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


@dataclass
class Match:
    """Outcome for one image: per prediction TP/FP, per label matched or FN."""

    pred_status: list[str]           # TP or FP, in the order predictions were given
    label_status: list[str]          # TP (found) or FN, in the order labels were given
    pred_to_label: list[int | None]  # index of the matched label

    @property
    def tp(self) -> int:
        return self.pred_status.count(TP)

    @property
    def fp(self) -> int:
        return self.pred_status.count(FP)

    @property
    def fn(self) -> int:
        return self.label_status.count(FN)

    @property
    def mistakes(self) -> int:
        return self.fp + self.fn


def match(labels: np.ndarray, label_classes, preds: np.ndarray, pred_classes, scores,
          iou_threshold: float = 0.5) -> Match:
    """Greedy by score, per class (COCO's rule)."""
    labels = np.asarray(labels, dtype=np.float64).reshape(-1, 4)
    preds = np.asarray(preds, dtype=np.float64).reshape(-1, 4)
    lc, pc = np.asarray(label_classes).reshape(-1), np.asarray(pred_classes).reshape(-1)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    ious = iou_matrix(preds, labels)
    pred_status, pred_to = [FP] * len(preds), [None] * len(preds)
    taken = np.zeros(len(labels), dtype=bool)
    for p in np.argsort(-scores, kind="stable"):
        candidates = (lc == pc[p]) & ~taken
        if not candidates.any():
            continue
        row = np.where(candidates, ious[p], -1.0)
        best = int(np.argmax(row))
        if row[best] >= iou_threshold:
            taken[best] = True
            pred_status[p], pred_to[p] = TP, best
    return Match(pred_status, [TP if t else FN for t in taken], pred_to)


@dataclass
class ClassCurve:
    """Precision–recall of one class over many images."""

    precision: np.ndarray
    recall: np.ndarray
    ap: float | None                 # None: the class has no labels
    labels: int = 0


@dataclass
class Evaluation:
    class_ids: list[int]
    curves: dict[int, ClassCurve] = field(default_factory=dict)
    confusion: np.ndarray | None = None    # (C+1, C+1): rows label class, cols predicted; last = none

    @property
    def mean_ap(self) -> float | None:
        aps = [c.ap for c in self.curves.values() if c.ap is not None]
        return float(np.mean(aps)) if aps else None


def average_precision(recall: np.ndarray, precision: np.ndarray) -> float:
    """101-point interpolated AP, as COCO computes it."""
    if not len(recall):
        return 0.0
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    points = np.linspace(0, 1, 101)
    idx = np.searchsorted(recall, points, side="left")
    return float(np.mean([envelope[i] if i < len(envelope) else 0.0 for i in idx]))


def evaluate(images, class_ids: list[int], iou_threshold: float = 0.5,
             confusion_score: float = 0.5) -> Evaluation:
    """``images``: iterable of (labels xyxy, label classes, preds xyxy, pred classes, scores).

    PR curves use every prediction; the confusion matrix uses predictions scoring at
    least ``confusion_score`` and pairs boxes across classes (the best IoU ≥ threshold,
    greedy by score) so that a right box with the wrong class shows off the diagonal.
    """
    index = {c: i for i, c in enumerate(class_ids)}
    n = len(class_ids)
    confusion = np.zeros((n + 1, n + 1), dtype=np.int64)
    per_class: dict[int, list[tuple[float, bool]]] = {c: [] for c in class_ids}
    n_labels = dict.fromkeys(class_ids, 0)
    for labels, lc, preds, pc, scores in images:
        lc, pc, scores = np.asarray(lc).reshape(-1), np.asarray(pc).reshape(-1), np.asarray(scores)
        m = match(labels, lc, preds, pc, scores, iou_threshold)
        for c in lc:
            if c in n_labels:
                n_labels[c] += 1
        for p, status in enumerate(m.pred_status):
            if pc[p] in per_class:
                per_class[pc[p]].append((float(scores[p]), status == TP))
        keep = scores >= confusion_score
        _confuse(confusion, index, n, np.asarray(labels).reshape(-1, 4), lc,
                 np.asarray(preds).reshape(-1, 4)[keep], pc[keep], scores[keep], iou_threshold)
    ev = Evaluation(list(class_ids), confusion=confusion)
    for c in class_ids:
        hits = sorted(per_class[c], key=lambda t: -t[0])
        tp = np.cumsum([h[1] for h in hits]).astype(np.float64)
        fp = np.cumsum([not h[1] for h in hits]).astype(np.float64)
        total = n_labels[c]
        recall = tp / total if total else np.zeros_like(tp)
        precision = tp / np.maximum(tp + fp, 1e-12)
        ap = average_precision(recall, precision) if total else None
        ev.curves[c] = ClassCurve(precision, recall, ap, total)
    return ev


def _confuse(confusion, index, n, labels, lc, preds, pc, scores, iou_threshold) -> None:
    ious = iou_matrix(preds, labels)
    taken = np.zeros(len(labels), dtype=bool)
    for p in np.argsort(-scores, kind="stable"):
        row = np.where(taken, -1.0, ious[p]) if len(labels) else np.zeros(0)
        best = int(np.argmax(row)) if len(row) else -1
        col = index.get(pc[p], n)
        if best >= 0 and row[best] >= iou_threshold:
            taken[best] = True
            confusion[index.get(lc[best], n), col] += 1
        else:
            confusion[n, col] += 1            # a box where there is no object
    for i in np.flatnonzero(~taken):
        confusion[index.get(lc[i], n), n] += 1  # an object the model did not box
