"""Probable label errors on one picture: missed objects, boxes with nothing near,
other classes, boxes off; a shifted box is one suspect, not two."""
from __future__ import annotations

from app.next.suspects import picture_suspects
from app.store.models import Box

NAMES = {1: "cat", 2: "dog"}


def lab(i, rect, cls=1):
    return Box(i, 1, 0, cls, *rect)


def pred(i, rect, score, cls=1):
    return Box(i, 1, 0, cls, *rect, source="predicted", score=score, run_id=1)


def kinds(labels, preds):
    return sorted((s.kind, round(s.weight, 2)) for s in picture_suspects(labels, preds, NAMES))


def test_agreement_is_no_suspect():
    assert kinds([lab(1, (10, 10, 50, 50))], [pred(9, (11, 10, 50, 51), 0.9)]) == []


def test_a_confident_prediction_without_label_is_a_missed_object():
    out = picture_suspects([lab(1, (10, 10, 50, 50))],
                           [pred(9, (11, 10, 50, 51), 0.9), pred(8, (100, 100, 150, 150), 0.8),
                            pred(7, (200, 10, 240, 50), 0.3)], NAMES)
    assert [(s.kind, s.prediction_id) for s in out] == [("missed", 8)]   # 0.3 is not confident
    assert out[0].rect == (100, 100, 150, 150) and "cat 0.80" in out[0].text


def test_a_label_with_nothing_near_it():
    out = picture_suspects([lab(1, (10, 10, 50, 50))], [pred(8, (100, 100, 150, 150), 0.2)], NAMES)
    assert [(s.kind, s.box_id) for s in out] == [("spurious", 1)]
    assert out[0].weight == 1.0


def test_a_label_of_another_class():
    out = picture_suspects([lab(1, (10, 10, 50, 50), cls=2)], [pred(9, (10, 10, 50, 50), 0.85, 1)],
                           NAMES)
    assert [(s.kind, s.box_id) for s in out] == [("class", 1)]
    assert "labelled dog, the model says cat 0.85" in out[0].text


def test_a_shifted_box_is_one_suspect():
    out = picture_suspects([lab(1, (30, 10, 70, 50))], [pred(9, (10, 10, 50, 50), 0.9)], NAMES)
    assert [s.kind for s in out] == ["box"]
    assert 0.5 < out[0].weight < 0.8
