"""The store side of Label next: scores and features cached per model, decisions on
proposals journaled (they undo), near-duplicate groups kept together by exports."""
from __future__ import annotations

import json

import numpy as np
import pytest

from app.labels.document import Document
from app.store.exporter import export_project
from app.store.project import Project
from app.store.repos.next import Score


@pytest.fixture
def project(tmp_path):
    from PIL import Image

    p = Project.create(tmp_path / "proj")
    for i in range(4):
        Image.new("RGB", (40, 30), (i * 40, 0, 0)).save(tmp_path / f"im{i}.png")
    p.media.import_files([tmp_path / f"im{i}.png" for i in range(4)])
    yield p
    p.close()


def test_scores_and_features_per_model(project):
    m = project.media.ids()
    run = project.runs.add(name="r", task="detector", template="t", run_dir="")
    project.next.put_scores(run, [Score(m[0], 0, 0.7, 0.5, 0.9, 3)])
    assert project.next.scores(run)[(m[0], 0)].score == pytest.approx(0.7)
    assert project.next.scored(run) == {(m[0], 0)} and project.next.score_count(run) == 1
    project.next.put_features(f"run:{run}", [(m[0], 0, np.ones(3)), (m[1], 0, np.zeros(3))])
    keys, x = project.next.features(f"run:{run}")
    assert keys == [(m[0], 0), (m[1], 0)] and x.shape == (2, 3) and x.dtype == np.float32
    assert project.next.features("pixels")[0] == []
    project.runs.delete(run) if hasattr(project.runs, "delete") else None


def test_decisions_undo_with_the_label(project, qapp):
    doc = Document(project)
    m = project.media.ids()[0]
    cls = project.classes.ensure("cat")
    run = project.runs.add(name="r", task="detector", template="t", run_dir="")
    project.predictions.store(run, m, 0, [(cls, 1, 1, 10, 10, 0.9)])
    pred = project.predictions.boxes(run, m, 0)[0]

    def accept(p):
        [box] = p.boxes.add([dict(media_id=m, frame=0, class_id=cls, x1=1, y1=1, x2=10, y2=10)])
        p.next.decide(run, m, 0, pred.id, "accepted", box)
    doc.edit("Accept proposal", accept, {m})
    assert project.next.decided(run, m) == {pred.id}
    assert project.next.outcomes(run) == {"accepted": 1, "edited": 0, "deleted": 0}
    assert project.status.of(m) == "labelled"
    doc.undo_stack.undo()
    assert project.next.decided(run, m) == set() and project.boxes.labels(m) == []
    assert project.next.outcomes(run)["accepted"] == 0
    doc.undo_stack.redo()
    assert project.next.outcomes(run)["accepted"] == 1
    with pytest.raises(ValueError):
        project.next.decide(run, m, 0, pred.id, "ignored")


def test_near_duplicate_groups_travel_in_training_exports(project, tmp_path):
    m = project.media.ids()
    cls = project.classes.ensure("cat")
    for media in m:
        project.boxes.add_one(media, cls, 1, 1, 10, 10)
    assert project.next.set_groups([[m[0], m[2]]]) == 1
    assert project.next.groups() == {m[0]: 1, m[2]: 1}
    export_project(project, tmp_path / "out", "coco", training=True)
    images = json.loads((tmp_path / "out" / "annotations.json").read_text())["images"]
    groups = {im["file_name"]: im.get("kestrel_group") for im in images}
    assert groups["im0.png"] == groups["im2.png"] == "near-duplicates-1"
    assert groups["im1.png"] is None
    from training.split import dataset_split

    for seed in range(10):            # the pair is never split
        _train, val = dataset_split(images, 0.5, seed)
        names = {images[i]["file_name"] for i in val}
        assert ("im0.png" in names) == ("im2.png" in names)
