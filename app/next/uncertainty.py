"""How unsure a detector is about a picture (numpy only; the model ran elsewhere).

Every detection of the picture, matched with its counterpart on the horizontally
flipped picture (same class, best IoU), gets an uncertainty in [0, 1]:

* class-score entropy: the class distribution of the region (the best score of each
  class among detections overlapping it, the rest background), averaged over the two
  views, its entropy normalised by log(classes + 1). A box at 0.5 is unsure whether it
  is an object; two classes at 0.45 / 0.4 are unsure which.
* localisation instability: 1 - IoU with its flipped counterpart (1 when it vanishes).

A box's uncertainty is the mean of the two, weighted by how much of a box it is
(its best score of the two views over ``BOX_SCORE``, capped at 1): faint noise at
0.05 that flickers between views says little. The picture's score is the mean of its
top-k box uncertainties, not a sum (a sum favours crowds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.review.metrics import iou_matrix

TOP_K = 3
BOX_SCORE = 0.3      # a detection this confident counts fully
SAME_REGION = 0.7    # IoU at which two detections describe the same region


@dataclass(frozen=True)
class PictureUncertainty:
    score: float          # mean of the top-k box uncertainties
    entropy: float        # mean entropy of those boxes
    instability: float    # mean instability of those boxes
    boxes: int            # how many boxes were considered


def class_distributions(boxes, labels, scores, n_classes: int, at: np.ndarray) -> np.ndarray:
    """(len(at), n_classes + 1) class distribution of the regions ``at``: per class the
    best score of a detection covering the region (IoU >= SAME_REGION), background the
    rest (scores are renormalised when they add up to more than 1)."""
    dist = np.zeros((len(at), n_classes + 1))
    if len(boxes) and len(at):
        overlap = iou_matrix(at, boxes) >= SAME_REGION
        for c in range(n_classes):
            mine = labels == c
            if mine.any():
                dist[:, c] = np.max(np.where(overlap[:, mine], scores[mine][None, :], 0.0), axis=1)
    total = dist[:, :n_classes].sum(axis=1)
    over = total > 1.0
    dist[over, :n_classes] /= total[over, None]
    dist[:, n_classes] = np.clip(1.0 - dist[:, :n_classes].sum(axis=1), 0.0, 1.0)
    return dist


def entropy(dist: np.ndarray) -> np.ndarray:
    """Row-wise entropy normalised to [0, 1] by the number of outcomes."""
    p = np.clip(dist, 1e-12, 1.0)
    h = -(dist * np.log(p)).sum(axis=1)
    return h / np.log(max(dist.shape[1], 2))


def box_uncertainties(boxes, labels, scores, flip_boxes, flip_labels, flip_scores,
                      n_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per detection (original view): (uncertainty, entropy, instability)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    labels = np.asarray(labels, np.int64).reshape(-1)
    scores = np.asarray(scores, np.float64).reshape(-1)
    fb = np.asarray(flip_boxes, np.float64).reshape(-1, 4)
    fl = np.asarray(flip_labels, np.int64).reshape(-1)
    fs = np.asarray(flip_scores, np.float64).reshape(-1)
    n = len(boxes)
    if not n:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    ious = iou_matrix(boxes, fb)
    same = labels[:, None] == fl[None, :] if len(fb) else np.zeros((n, 0), bool)
    ious = np.where(same, ious, 0.0)
    best = ious.argmax(axis=1) if len(fb) else np.zeros(n, np.int64)
    best_iou = ious[np.arange(n), best] if len(fb) else np.zeros(n)
    partner = np.where(best_iou > 0, fs[best] if len(fb) else 0.0, 0.0)
    instability = 1.0 - best_iou
    dist = (class_distributions(boxes, labels, scores, n_classes, boxes)
            + class_distributions(fb, fl, fs, n_classes, boxes)) / 2
    ent = entropy(dist)
    weight = np.minimum(1.0, np.maximum(scores, partner) / BOX_SCORE)
    return weight * (ent + instability) / 2, ent, instability


def picture_uncertainty(boxes, labels, scores, flip_boxes, flip_labels, flip_scores,
                        n_classes: int, k: int = TOP_K) -> PictureUncertainty:
    u, ent, inst = box_uncertainties(boxes, labels, scores, flip_boxes, flip_labels,
                                     flip_scores, n_classes)
    # Boxes only the flipped view found count too: a box that appears is as unstable
    # as one that vanishes (seen from the other side).
    u2, ent2, inst2 = box_uncertainties(flip_boxes, flip_labels, flip_scores, boxes, labels,
                                        scores, n_classes)
    fb = np.asarray(flip_boxes, np.float64).reshape(-1, 4)
    if len(fb):
        seen = iou_matrix(fb, boxes).max(axis=1) if len(u) else np.zeros(len(fb))
        only = seen < 0.3
        u = np.concatenate([u, u2[only]])
        ent = np.concatenate([ent, ent2[only]])
        inst = np.concatenate([inst, inst2[only]])
    if not len(u):
        return PictureUncertainty(0.0, 0.0, 0.0, 0)
    top = np.argsort(-u, kind="stable")[:k]
    return PictureUncertainty(float(u[top].mean()), float(ent[top].mean()),
                              float(inst[top].mean()), int(len(u)))
