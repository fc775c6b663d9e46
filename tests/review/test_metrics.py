"""Matching and metrics without Qt: hand-computed cases."""
import numpy as np
import pytest

from app.review import metrics as rm


def test_iou_matrix():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    np.testing.assert_allclose(rm.iou_matrix(a, b), [[1.0, 50 / 150, 0.0]])
    assert rm.iou_matrix(np.zeros((0, 4)), b).shape == (0, 3)


def test_match_greedy_by_score_per_class():
    labels = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [50, 50, 60, 60]])
    lc = [1, 1, 2]
    preds = np.array([[0, 0, 10, 9],      # TP for label 0 (iou .9)
                      [1, 0, 10, 10],     # duplicate of label 0, lower score: FP
                      [20, 0, 30, 10],    # right place, wrong class: FP (label 1 missed)
                      [50, 50, 60, 60]])  # TP for label 2
    pc = [1, 1, 2, 2]
    scores = [0.6, 0.9, 0.8, 0.7]
    m = rm.match(labels, lc, preds, pc, scores, 0.5)
    # pred 1 has the higher score, so it takes label 0 and pred 0 is the duplicate
    assert m.pred_status == [rm.FP, rm.TP, rm.FP, rm.TP]
    assert m.label_status == [rm.TP, rm.FN, rm.TP]
    assert (m.tp, m.fp, m.fn, m.mistakes) == (2, 2, 1, 3)
    # a stricter IoU turns the imperfect match into FP + FN
    strict = rm.match(labels, lc, preds, pc, scores, 0.95)
    assert (strict.tp, strict.fp, strict.fn) == (1, 3, 2) and strict.pred_to_label[1] is None


def test_evaluate_pr_ap_and_confusion():
    images = [
        (np.array([[0, 0, 10, 10]]), [1], np.array([[0, 0, 10, 10], [30, 30, 40, 40]]), [1, 1],
         np.array([0.9, 0.8])),
        (np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), [1, 2], np.array([[0, 0, 10, 10]]), [2],
         np.array([0.7])),
    ]
    ev = rm.evaluate(images, [1, 2], 0.5, confusion_score=0.5)
    c1 = ev.curves[1]
    assert c1.labels == 2
    np.testing.assert_allclose(c1.precision, [1.0, 0.5])
    np.testing.assert_allclose(c1.recall, [0.5, 0.5])
    assert c1.ap == pytest.approx(51 / 101)       # precision 1 up to recall .5, then nothing
    assert ev.curves[2].ap == 0.0                  # its only prediction is on a class-1 object
    # rows: label class 1, 2, none; cols: predicted 1, 2, none
    np.testing.assert_array_equal(ev.confusion, [[1, 1, 0], [0, 0, 1], [1, 0, 0]])
    assert ev.mean_ap == pytest.approx(51 / 101 / 2)


def test_class_without_labels_has_no_ap():
    ev = rm.evaluate([(np.zeros((0, 4)), [], np.array([[0, 0, 5, 5]]), [3], np.array([0.9]))], [3])
    assert ev.curves[3].ap is None and ev.mean_ap is None
