"""A dataset's own split travels: import keeps it, export writes it back in each
format's way, training validates on it, and a video's frames stay on one side."""

from __future__ import annotations

import json

import pytest

from app.runs.data import counts, summary
from app.store.exporter import export_project
from app.store.project import Project
from training.split import dataset_split, split_indices

from .builders import img, info, new_project, run, write


@pytest.fixture
def roboflow(tmp_path):
    d = tmp_path / "rf"
    for split, n in (("train", 4), ("valid", 2), ("test", 1)):
        for i in range(n):
            img(d / split / "images" / f"{split}{i}.jpg")
            write(d / split / "labels" / f"{split}{i}.txt", "0 0.5 0.5 0.4 0.4\n")
    write(d / "data.yaml", "train: ../train/images\nval: ../valid/images\ntest: ../test/images\n"
          "names: [thing]\n")
    return d


@pytest.mark.parametrize("fmt, marks", [
    ("yolo", ["images/train/train0.jpg", "labels/val/valid0.txt", "data.yaml"]),
    ("coco", ["annotations/instances_train.json", "annotations/instances_test.json"]),
    ("voc", ["ImageSets/Main/val.txt", "Annotations/test0.xml"]),
])
def test_export_writes_the_split_and_round_trips(capsys, tmp_path, roboflow, fmt, marks):
    p = new_project(capsys, tmp_path)
    assert run(capsys, "import", p, roboflow)[0] == 0
    first, second = tmp_path / "a", tmp_path / "b"
    assert run(capsys, "export", p, first, "--format", fmt)[0] == 0
    assert all((first / m).is_file() for m in marks)
    if fmt == "yolo":
        assert "val: images/val" in (first / "data.yaml").read_text()
    q = tmp_path / "q"
    run(capsys, "new", q)
    assert run(capsys, "import", q, first)[0] == 0
    assert info(q)["splits"] == {"train": 4, "val": 2, "test": 1}
    assert run(capsys, "export", q, second, "--format", fmt)[0] == 0
    files = sorted(f.relative_to(first) for f in first.rglob("*") if f.is_file())
    assert files == sorted(f.relative_to(second) for f in second.rglob("*") if f.is_file())
    assert all((first / f).read_bytes() == (second / f).read_bytes()
               for f in files if f.suffix in (".json", ".xml", ".txt", ".yaml"))


def test_training_export_and_the_trainer_use_the_dataset_split(capsys, tmp_path, roboflow):
    p = new_project(capsys, tmp_path)
    run(capsys, "import", p, roboflow)
    with Project.open(p) as project:
        export_project(project, tmp_path / "run", "coco")
        base = counts(project)
    images = json.loads((tmp_path / "run" / "annotations.json").read_text())["images"]
    from training.data import load_coco

    coco = load_coco(tmp_path / "run" / "annotations.json", tmp_path / "run" / "images")
    train, val = dataset_split(coco.images, 0.2, 0)
    names = [im["file_name"] for im in images]
    assert sorted(names[i] for i in val) == ["valid0.jpg", "valid1.jpg"]
    assert len(train) == 4 and not any(names[i].startswith("test") for i in train + val)
    s = summary(base, {"val_fraction": "0.5"})
    assert (s["train"], s["val"]) == (4, 2)
    assert s["split_text"].startswith("validation: the dataset's own split, 2 images")
    assert "test: 1 images held out" in s["split_text"] and "split_items" not in s


def test_random_split_is_unchanged_without_marks_and_keeps_a_video_together():
    plain = [{} for _ in range(50)]
    assert dataset_split(plain, 0.2, 3) == split_indices(50, 0.2, 3)
    items = [{} for _ in range(20)] + [{"kestrel_group": "clip"} for _ in range(30)]
    for seed in range(10):
        train, val = dataset_split(items, 0.2, seed)
        clip = set(range(20, 50))
        assert clip <= set(train) or clip <= set(val)
        assert train and val and not set(train) & set(val)


def test_training_panel_shows_the_own_split(qtbot, capsys, tmp_path, roboflow):
    from widgets.training_panel.panel import TrainingPanel

    p = new_project(capsys, tmp_path)
    run(capsys, "import", p, roboflow)
    with Project.open(p) as project:
        s = summary(counts(project), {})
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.set_summary(s)
    assert "validation: the dataset's own split, 2 images" in panel.summary.text()
