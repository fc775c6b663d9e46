"""Projects with image-level tags and no box classes train an embedder end to end:
``kestrel train`` with no template picks an embedder for them, and a class-per-folder
dataset keeps its own validation folder."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from tests.embedding.helpers import CLASSES, shape_image

pytestmark = pytest.mark.timeout(300)

SETS = ["time_budget=0", "epochs=1", "batch_size=6", "samples_per_class=2", "image_size=32",
        "embedding_size=16", "workers=0", "warmup_iters=1"]


def class_folders(root, per_split: dict[str, int]) -> None:
    """``root/<split>/<class>/*.png``: an ImageFolder-style set of shape pictures."""
    rng = np.random.default_rng(5)
    for split, n in per_split.items():
        for c, name in enumerate(CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(n):
                cv2.imwrite(str(folder / f"{i}.png"), shape_image(c, rng)[0][..., ::-1])


def kestrel(*argv) -> int:
    from app.shell.cli import main

    return main([str(a) for a in argv])


def test_tagged_images_without_boxes_train_an_embedder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    class_folders(tmp_path / "shapes", {"train": 4, "val": 2})
    project = tmp_path / "proj"
    assert kestrel("new", project) == 0
    assert kestrel("import", project, tmp_path / "shapes") == 0
    capsys.readouterr()
    sets = [a for s in SETS for a in ("--set", s)]
    assert kestrel("train", project, "--device", "cpu", *sets) == 0   # no --template
    err = capsys.readouterr().err
    assert "no --template: using embed_resnet18" in err   # no weights here: a random start
    assert "run #1 finished" in err
    from app.store.project import Project

    with Project.open(project) as p:
        assert p.classes.all() == []                   # no box classes at all
        run = p.runs.get(1)
        assert (run.task, run.status) == ("embedder", "finished")
        events = [json.loads(line) for line in
                  (p.resolve(run.run_dir) / "events.jsonl").read_text().splitlines()]
    started = next(e for e in events if e["event"] == "started")
    # the folders' own split: 4 + 2 pictures per class
    assert (started["train_images"], started["val_images"]) == (12, 6)
    assert started["class_names"] == CLASSES and started["start"] == "none"
    metrics = [e for e in events if e["event"] == "metrics"]
    assert metrics and metrics[-1]["precision_at_1"] is not None
    assert any(e["event"] == "weights" and e["warning"] for e in events)  # said: random start


def test_an_embedder_from_tags_alone_embeds_searches_and_suggests(tmp_path, monkeypatch,
                                                                  capsys):
    """The run's model in use: every picture embedded (no boxes), searchable, and its
    tags learnt on top. embed_resnet18 from random weights: a few steps are enough for
    it. A random-start MobileNetV2 still gives one vector for every picture after 24
    steps here: its BatchNorm running variances keep much of their initial 1.0 against
    far smaller true ones, so in eval mode the picture's signal fades layer by layer."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    class_folders(tmp_path / "shapes", {"train": 4, "val": 2})
    project = tmp_path / "proj"
    assert kestrel("new", project) == 0
    assert kestrel("import", project, tmp_path / "shapes") == 0
    sets = [a for s in [*SETS, "image_size=64", "pretrained=none"] for a in ("--set", s)]
    assert kestrel("train", project, "--template", "embed_resnet18", "--device", "cpu",
                   "--quiet", *sets) == 0
    capsys.readouterr()
    assert kestrel("embed", project, "--run", 1, "--quiet") == 0
    assert capsys.readouterr().out.startswith("embedded 18,")   # 18 images, no boxes
    from app.store.project import Project

    with Project.open(project) as p:
        first = min(p.media.ids())
        name = p.media.get(first).name
    assert kestrel("search", project, "--run", 1, first, "-k", "3", "--json") == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert [h["kind"] for h in hits] == ["image"] * 3
    assert hits[0]["media_id"] == first and hits[0]["similarity"] == pytest.approx(1, abs=1e-4)
    assert hits[1]["similarity"] < 0.9999 and hits[0]["name"] == name   # not all one vector
    assert kestrel("classify", project, "--run", 1, "--threshold", "0", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["learnt"] == CLASSES and out["suggestions"] == []  # every image is tagged


def test_tags_only_coco_loads_for_an_embedder_and_not_for_a_detector(tmp_path):
    from training.data import DatasetError, load_coco
    from training.embedding.data import load_examples, split_examples

    rng = np.random.default_rng(0)
    (tmp_path / "images").mkdir()
    images = []
    for i in range(6):
        cv2.imwrite(str(tmp_path / "images" / f"{i}.png"), shape_image(i % 2, rng)[0])
        images.append({"id": i + 1, "file_name": f"{i}.png", "width": 64, "height": 64,
                       "kestrel_tags": [i % 2 + 1],
                       "kestrel_split": ["train", "val", "test"][i // 2 % 3]})
    doc = {"images": images, "annotations": [], "categories": [],
           "kestrel_tags": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]}
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(DatasetError, match="no categories"):
        load_coco(path, tmp_path / "images")
    data = load_examples(path, tmp_path / "images", "tags")
    assert data.class_names == ["a", "b"] and len(data.examples) == 6
    marks = [e.split for e in data.examples]
    train, val = split_examples([e.label for e in data.examples], 0.5, 0, marks)
    assert (train, val) == ([0, 1], [2, 3])            # the test pair is held out of both
