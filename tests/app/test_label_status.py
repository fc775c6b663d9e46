"""Labelling status: not labelled / labelled / no objects / needs review, per picture.
Derived from boxes and undoable marks; imports say what their images hold; exports
and training runs take labelled pictures only."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.labels.document import Document
from app.runs.data import counts, summary
from app.runs.records import DATASET_DIR, prepare_run
from app.store import schema
from app.store.dataset_io import import_labelset
from app.store.exporter import export_project
from app.store.formats import read_coco
from app.store.project import Project


def _images(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        a = np.full((40, 60, 3), 20 * i % 255, np.uint8)
        Image.fromarray(a).save(folder / f"im{i}.png")
        paths.append(folder / f"im{i}.png")
    return paths


@pytest.fixture
def project(tmp_path):
    p = Project.create(tmp_path / "p")
    _images(tmp_path / "p" / "imgs", 4)
    p.media.import_files([tmp_path / "p" / "imgs"])
    yield p
    p.close()


def test_status_follows_boxes_and_marks_and_every_change_is_undoable(project, qapp):
    doc = Document(project)
    s = project.status
    assert [s.of(m) for m in (1, 2, 3, 4)] == ["unlabelled"] * 4      # plain media
    cat = doc.add_class("cat")
    box = doc.add_box(1, cat, (1, 1, 20, 20))
    assert s.of(1) == "labelled"
    doc.set_no_objects(2)
    assert s.of(2) == "empty" and s.is_labelled(2)
    with pytest.raises(ValueError, match="has 1 box"):
        doc.set_no_objects(1)
    doc.set_needs_review(3)
    assert s.of(3) == "review" and not s.is_labelled(3)
    doc.add_box(2, cat, (2, 2, 30, 30))                 # a box drawn: no longer "no objects"
    assert s.of(2) == "labelled" and s.marks(2) == set()
    doc.undo_stack.undo()
    assert s.of(2) == "empty"                          # the mark came back with the undo
    doc.delete_boxes([box])
    assert s.of(1) == "unlabelled"                     # its last box gone: not labelled again
    assert s.labelled_pictures() == {(2, 0)}
    assert s.image_counts() == {"unlabelled": 2, "labelled": 0, "empty": 1, "review": 1}
    changed = []
    doc.boxes_changed.connect(changed.append)
    doc.set_no_objects(2, on=False)
    assert s.of(2) == "unlabelled" and changed == [{2}]


def test_marks_undo_and_redo_across_a_restart(tmp_path, qapp):
    with Project.create(tmp_path / "p") as p:
        _images(tmp_path / "p" / "imgs", 2)
        p.media.import_files([tmp_path / "p" / "imgs"])
        doc = Document(p)
        doc.set_no_objects(1)
        doc.set_needs_review(2)
        doc.undo_stack.undo()                          # review mark: on the redo side
    with Project.open(tmp_path / "p") as p:
        doc = Document(p)
        texts = [doc.undo_stack.text(i) for i in range(doc.undo_stack.count())]
        assert texts == ["Mark no objects", "Mark needs review"] and doc.undo_stack.index() == 1
        assert (p.status.of(1), p.status.of(2)) == ("empty", "unlabelled")
        doc.undo_stack.redo()
        doc.undo_stack.undo()
        doc.undo_stack.undo()
        assert (p.status.of(1), p.status.of(2)) == ("unlabelled", "unlabelled")
        doc.undo_stack.redo()
    with Project.open(tmp_path / "p") as p:
        assert p.status.of(1) == "empty"


def test_a_version_7_project_marks_its_tagged_images_labelled(tmp_path):
    conn = sqlite3.connect(tmp_path / "kestrel.db", isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    schema.migrate(conn, 7)
    for i in (1, 2, 3):
        conn.execute(f"INSERT INTO media (id, path, name, kind, width, height, content_hash, "
                     f"file_size, added_at) VALUES ({i}, '{i}.jpg', '{i}.jpg', 'image', 10, 10, "
                     f"'h{i}', 1, 'now')")
    conn.execute("INSERT INTO classes VALUES (1, 'cat', '#fff', 0, '1')")
    conn.execute("INSERT INTO tags VALUES (1, 'night', 0, NULL)")
    conn.execute("INSERT INTO boxes (media_id, class_id, x1, y1, x2, y2, created_at, updated_at) "
                 "VALUES (1, 1, 0, 0, 5, 5, 'now', 'now')")
    conn.execute("INSERT INTO media_tags VALUES (2, 1)")
    conn.close()
    with Project.open(tmp_path) as p:
        assert schema.version(p.conn) == schema.SCHEMA_VERSION
        assert [p.status.of(m) for m in (1, 2, 3)] == ["labelled", "empty", "unlabelled"]


def _coco(folder: Path, images: list[dict], anns: list[dict]) -> Path:
    path = folder / "ann.json"
    path.write_text(json.dumps({"images": images, "annotations": anns,
                                "categories": [{"id": 1, "name": "cat"}]}))
    return path


def test_imported_datasets_say_what_their_images_hold(tmp_path):
    _images(tmp_path / "d", 3)
    images = [{"id": i + 1, "file_name": f"im{i}.png", "width": 60, "height": 40} for i in range(3)]
    images[2]["kestrel_status"] = "unlabelled"
    path = _coco(tmp_path / "d", images, [{"id": 1, "image_id": 1, "category_id": 1,
                                           "bbox": [1, 1, 10, 10]}])
    with Project.create(tmp_path / "p") as p:
        import_labelset(p, read_coco(path), tmp_path / "d")
        assert [p.status.of(m) for m in (1, 2, 3)] == ["labelled", "empty", "unlabelled"]


def test_yolo_images_without_a_label_file_are_not_labelled(tmp_path):
    from app.datasets.importer import run_import
    from app.datasets.plan import plan_import

    _images(tmp_path / "y" / "images", 3)
    (tmp_path / "y" / "labels").mkdir()
    (tmp_path / "y" / "labels" / "im0.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (tmp_path / "y" / "labels" / "im1.txt").write_text("")         # a true negative
    (tmp_path / "y" / "classes.txt").write_text("cat\n")
    with Project.create(tmp_path / "p") as p:
        run_import(p, plan_import(tmp_path / "y"))
        status = {p.media.get(m).name: p.status.of(m) for m in p.media.ids()}
        assert status == {"im0.png": "labelled", "im1.png": "empty", "im2.png": "unlabelled"}


def test_exports_keep_the_status(project, tmp_path, qapp):
    doc = Document(project)
    cat = doc.add_class("cat")
    doc.add_box(1, cat, (1, 1, 20, 20))
    doc.set_no_objects(2)
    doc.set_needs_review(3)
    out = export_project(project, tmp_path / "c", "coco")
    coco = json.loads((tmp_path / "c" / "annotations.json").read_text())
    assert [(im["file_name"], im.get("kestrel_status")) for im in coco["images"]] == \
        [("im0.png", None), ("im1.png", None), ("im2.png", "review")]
    assert (out["images"], out["negatives"], out["left_out"]) == (3, 1, 1)
    export_project(project, tmp_path / "all", "coco", include_unlabelled=True)
    export_project(project, tmp_path / "y", "yolo", include_unlabelled=True)
    assert sorted(f.name for f in (tmp_path / "y" / "labels").iterdir()) == \
        ["im0.txt", "im1.txt", "im2.txt"]                              # im3: no label file
    assert (tmp_path / "y" / "images" / "im3.png").is_file()
    with Project.create(tmp_path / "back") as back:                   # the status round-trips
        import_labelset(back, read_coco(tmp_path / "all" / "annotations.json"),
                        tmp_path / "all" / "images")
        assert {back.media.get(m).name: back.status.of(m) for m in back.media.ids()} == \
            {"im0.png": "labelled", "im1.png": "empty", "im2.png": "review",
             "im3.png": "unlabelled"}


def test_a_run_holds_labelled_pictures_only_and_the_summary_says_what_is_left_out(project, qapp):
    doc = Document(project)
    cat = doc.add_class("cat")
    doc.add_box(1, cat, (1, 1, 20, 20))
    doc.set_no_objects(2)
    doc.set_needs_review(3)
    base = counts(project)
    text = summary(base, {"val_fraction": "0.5"})
    assert base["images"] == 2 and base["negatives"] == 1
    assert base["left_out"] == {"unlabelled": 1, "review": 1} and text["images"] == 2
    launch = prepare_run(project, "fasterrcnn_mobilenet_v3_large_fpn")
    launch.lock.release()
    coco = json.loads((launch.run_dir / DATASET_DIR / "annotations.json").read_text())
    assert [im["file_name"] for im in coco["images"]] == ["im0.png", "im1.png"]
    assert len(coco["annotations"]) == 1
    assert project.runs.get(launch.run_id).dataset["images"] == 2
