"""Probable label errors on one picture: missed objects, boxes with nothing near,
other classes, boxes off; a shifted box is one suspect, not two."""
from __future__ import annotations

import pytest

from app.next.suspects import (find_suspects, labels_seen, nearest_rate, picture_suspects,
                                predictions_confirmed, relative_side)
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


def test_a_neighbours_box_does_not_make_a_label_look_off():
    """Two kangaroos side by side; the model boxes only the right one. The left label
    is not 'off' because of its neighbour's box: the model sees nothing there."""
    left, right = lab(1, (10, 10, 50, 50)), lab(2, (40, 10, 80, 50))
    out = picture_suspects([left, right], [pred(9, (40, 10, 80, 50), 0.9)], NAMES)
    assert [(s.kind, s.box_id) for s in out] == [("spurious", 1)]


def test_evidence_is_weighed_by_how_reliable_the_model_is_here():
    """A missed label counts for as much as the model usually sees labels of that size;
    a missed object for as much as its predictions of that score are right."""
    out = picture_suspects([lab(1, (10, 10, 50, 50))], [pred(8, (100, 100, 150, 150), 0.8)],
                           NAMES, found_rate=lambda log_side: 0.25, precision=lambda s: 0.5,
                           size=(200, 200))
    assert sorted((s.kind, round(s.weight, 2)) for s in out) == [("missed", 0.4),
                                                                   ("spurious", 0.25)]


def test_nearest_rate_and_what_the_model_sees():
    assert nearest_rate([1, 2, 3], [True, False, True], k=4) is None       # too few to say
    rate = nearest_rate([0.1, 0.2, 0.3, 0.9, 0.95, 1.0], [0, 0, 1, 1, 1, 1], k=3)
    assert rate(0.15) == pytest.approx(1 / 3) and rate(0.97) == 1.0
    labels = [lab(1, (10, 10, 50, 50)), lab(2, (100, 100, 120, 120)), lab(3, (200, 10, 240, 50))]
    preds = [pred(9, (12, 10, 50, 50), 0.9), pred(8, (100, 100, 120, 121), 0.2),
             pred(7, (300, 300, 320, 320), 0.95)]
    assert labels_seen(labels, preds) == [True, False, False]
    assert predictions_confirmed(labels, preds) == [(0.9, True), (0.95, False)]
    assert relative_side((0, 0, 10, 40), (100, 100)) == pytest.approx(0.2)


def test_a_big_box_the_model_misses_ranks_above_small_ones_it_always_misses(tmp_path):
    """On a project where the model never sees the small objects but sees the big
    ones, the one big label it misses is the first suspect."""
    from PIL import Image

    from app.store.project import Project

    project = Project.create(tmp_path / "proj")
    for i in range(45):
        Image.new("RGB", (200, 200), (i, 0, 0)).save(tmp_path / f"im{i}.png")
    project.media.import_files([tmp_path / f"im{i}.png" for i in range(45)])
    cls = project.classes.ensure("cat")
    run = project.runs.add(name="r", task="detector", template="t", run_dir="")
    items = {}
    for n, m in enumerate(project.media.ids()):
        project.boxes.add_one(m, cls, 5, 5, 15, 15)                     # small: never seen
        project.boxes.add_one(m, cls, 50, 50, 180, 180)                 # big: seen, but once
        found = [] if n == 7 else [(cls, 50, 50, 180, 180, 0.9)]
        project.predictions.store(run, m, 0, found)
        items[(m, 0)] = run
    suspects, checked, missing = find_suspects(project, run, items)
    assert (checked, missing) == (45, 0) and len(suspects) == 46
    first = suspects[0]
    assert first.media_id == project.media.ids()[7] and first.rect == (50, 50, 180, 180)
    assert first.weight > 0.9 and max(s.weight for s in suspects[1:]) < 0.1
    project.close()
