"""Prediction cache in the store, val split, COCO results (no Qt)."""
import json

import pytest

from app.predictions import core

from app.review import evaluation as split
from tests.review.conftest import StubModel, add_model_run


def test_predictions_cached_and_ignored_by_label_views(project):
    run_id = add_model_run(project)
    items = core.all_items(project)
    assert len(items) == 3
    assert core.predict_items(project, run_id, StubModel(), items) == 3
    assert core.predict_items(project, run_id, StubModel(), items) == 0   # cached
    m0 = items[0][0]
    preds = project.predictions.boxes(run_id, m0)
    assert [round(p.score, 2) for p in preds] == [0.9, 0.6]
    assert project.predictions.has(run_id, items[2][0]) and not project.predictions.boxes(run_id, items[2][0])
    info = project.info()
    assert info["boxes"] == 3 and project.boxes.count(m0) == 2     # labels only
    # review counts, hand-computed (see conftest): image 0: 1 TP, 1 FP, 1 missed
    counts = split.media_counts(project, run_id, 0.5)
    assert counts[m0] == (1, 1, 1)
    assert counts[items[1][0]] == (1, 0, 0)             # the 0.3 dog is under the threshold
    assert split.media_counts(project, run_id, 0.2)[items[1][0]] == (1, 1, 0)
    project.predictions.clear(run_id)
    assert not project.predictions.frames(run_id)


def test_coco_results_load_with_pycocotools(project, tmp_path):
    from pycocotools.coco import COCO

    from app.store.exporter import export_project

    run_id = add_model_run(project)
    core.predict_items(project, run_id, StubModel(), core.all_items(project))
    export_project(project, tmp_path / "ds", "coco", copy_images=False)
    n = core.write_coco_results(project, run_id, tmp_path / "res.json")
    assert n == 4
    gt = COCO(str(tmp_path / "ds" / "annotations.json"))
    res = gt.loadRes(str(tmp_path / "res.json"))
    assert len(res.getAnnIds()) == 4
    first = json.loads((tmp_path / "res.json").read_text())[0]
    name = gt.imgs[first["image_id"]]["file_name"]
    assert name == "im0.png" and gt.cats[first["category_id"]]["name"] == "cat"
