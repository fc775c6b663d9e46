"""How unsure the detector is about a picture: entropy, flip instability, top-k mean."""
from __future__ import annotations

import numpy as np
import pytest

from app.next.uncertainty import (box_uncertainties, class_distributions, entropy, iou_matrix,
                                  picture_uncertainty)

B = np.array([[10, 10, 50, 50]], np.float32)


def unc(boxes, labels, scores, fboxes, flabels, fscores, n=1, **kw):
    return picture_uncertainty(np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(labels),
                               np.asarray(scores, np.float32),
                               np.asarray(fboxes, np.float32).reshape(-1, 4),
                               np.asarray(flabels), np.asarray(fscores, np.float32), n, **kw)


def test_iou_matrix():
    m = iou_matrix([[0, 0, 10, 10]], [[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    assert m[0, 0] == pytest.approx(1.0) and m[0, 1] == pytest.approx(50 / 150) and m[0, 2] == 0


def test_entropy_is_highest_when_unsure_whether_an_object():
    dist = class_distributions(B, np.array([0]), np.array([0.5]), 1, B)
    assert dist[0] == pytest.approx([0.5, 0.5])
    assert entropy(dist)[0] == pytest.approx(1.0)
    sure = class_distributions(B, np.array([0]), np.array([0.98]), 1, B)
    assert entropy(sure)[0] < 0.2


def test_two_classes_on_one_region_are_class_confusion():
    boxes = np.vstack([B, B + 1])
    dist = class_distributions(boxes, np.array([0, 1]), np.array([0.45, 0.4]), 2, B)
    assert dist[0] == pytest.approx([0.45, 0.4, 0.15])
    assert entropy(dist)[0] > 0.9


def test_a_stable_confident_box_is_sure_a_vanishing_one_is_not():
    stable = unc(B, [0], [0.95], B + 1, [0], [0.94])
    vanishing = unc(B, [0], [0.6], [], [], [])
    moving = unc(B, [0], [0.9], B + [25, 0, 25, 0], [0], [0.9])
    assert stable.score < 0.25
    assert vanishing.instability == pytest.approx(1.0) and vanishing.score > 0.7
    assert moving.instability > 0.5 and moving.score > stable.score


def test_a_box_only_the_flipped_view_finds_counts_too():
    appears = unc([], [], [], B, [0], [0.6])
    assert appears.boxes == 1 and appears.score > 0.7


def test_faint_noise_counts_little():
    noise = unc(B, [0], [0.06], [], [], [])
    assert noise.score < 0.15


def test_the_score_is_a_mean_of_the_top_k_not_a_sum():
    one = unc(B, [0], [0.5], [], [], [])
    crowd_boxes = np.array([[i * 60, 0, i * 60 + 40, 40] for i in range(8)], np.float32)
    crowd = unc(crowd_boxes, [0] * 8, [0.5] * 8, [], [], [])
    assert crowd.score == pytest.approx(one.score)     # a sum would be 8x
    mixed = unc(np.vstack([crowd_boxes[:1], crowd_boxes[1:4]]), [0] * 4, [0.5, 0.97, 0.97, 0.97],
                crowd_boxes[1:4], [0] * 3, [0.97] * 3, k=3)
    assert mixed.score < one.score                     # the top 3 include two sure boxes


def test_no_detections_scores_zero():
    none = unc([], [], [], [], [], [])
    assert none.score == 0 and none.boxes == 0


def test_box_uncertainties_per_box():
    u, ent, inst = box_uncertainties(np.vstack([B, B + 100]), np.array([0, 0]), np.array([0.9, 0.5]),
                                     B, np.array([0]), np.array([0.9]), 1)
    assert inst[0] == pytest.approx(0.0) and inst[1] == pytest.approx(1.0)
    assert u[1] > u[0]
