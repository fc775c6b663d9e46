"""YOLO as Ultralytics, Roboflow, labelImg, Label Studio and CVAT write it; class
names from wherever they are; polygons and orphans."""

from __future__ import annotations

import pytest

from .builders import img, info, new_project, run, write


def test_ultralytics_layout_names_in_config_yaml_with_orphans_and_classes_txt(capsys, tmp_path):
    d = tmp_path / "ultra"
    for split, n in (("train2017", 4), ("val2017", 2)):
        for i in range(n):
            img(d / "images" / split / f"{i:012d}.jpg")
            write(d / "labels" / split / f"{i:012d}.txt", "0 0.5 0.5 0.2 0.2\n1 0.3 0.3 0.1 0.1\n")
    write(d / "labels" / "train2017" / "ghost_1.txt", "0 0.5 0.5 0.2 0.2\n")
    write(d / "labels" / "train2017" / "ghost_2.txt", "1 0.5 0.5 0.2 0.2\n")
    write(d / "labels" / "classes.txt", "person\nbicycle\n")       # labelImg leaves one here
    write(d / "config.yaml", "path: ../datasets/coco\ntrain: images/train2017\n"
          "val: images/val2017\nnames:\n  0: person\n  1: bicycle\n")
    p = new_project(capsys, tmp_path)
    code, out, _ = run(capsys, "import", p, d)
    got = info(p)
    assert code == 0 and got["images"] == 6 and got["boxes"] == 12
    assert got["classes"] == ["person", "bicycle"] and got["splits"] == {"train": 4, "val": 2}
    assert "ghost_1.txt: label file without an image" in out and "ghost_2.txt" in out
    assert "labels/classes.txt: class list not used (names come from config.yaml)" in out


def test_roboflow_yolo_split_folders_and_dotdot_yaml(capsys, tmp_path):
    d = tmp_path / "rf"
    for split, n in (("train", 3), ("valid", 2), ("test", 1)):
        for i in range(n):
            img(d / split / "images" / f"{split}{i}.jpg")
            write(d / split / "labels" / f"{split}{i}.txt", "2 0.5 0.5 0.4 0.4\n")
    write(d / "data.yaml", "train: ../train/images\nval: ../valid/images\ntest: ../test/images\n"
          "nc: 3\nnames: ['a', 'b', 'c']\n")
    p = new_project(capsys, tmp_path)
    code, out, _ = run(capsys, "import", p, d)
    got = info(p)
    assert code == 0 and (got["images"], got["boxes"]) == (6, 6)
    assert got["splits"] == {"train": 3, "val": 2, "test": 1} and got["names"][0] == "test0.jpg"
    assert "no boxes, kept: a, b" in out


def test_yolo_seg_polygons_become_boxes(capsys, tmp_path):
    d = tmp_path / "seg"
    img(d / "images" / "a.jpg", size=(100, 50))
    write(d / "labels" / "a.txt", "0 0.1 0.2 0.5 0.2 0.5 0.6 0.1 0.6\n0 0.5 0.5 0.2 0.2\n")
    write(d / "data.yaml", "names: [leaf]\n")
    p = new_project(capsys, tmp_path)
    code, out, _ = run(capsys, "import", p, d)
    assert code == 0 and info(p)["boxes"] == 2
    assert "1 YOLO-seg polygons imported as their bounding boxes" in out
    from app.store.project import Project

    with Project.open(p) as project:
        rects = sorted(b.rect for b in project.boxes.of(project.media.list()[0].id))
    assert rects[0] == pytest.approx((10, 10, 50, 30))


def test_darknet_cvat_yolo_with_obj_names_and_train_list(capsys, tmp_path):
    d = tmp_path / "cvat_yolo"
    write(d / "obj.names", "car\ntruck\n")
    write(d / "obj.data", "classes = 2\ntrain = data/train.txt\nnames = data/obj.names\n")
    lines = []
    for i in range(3):
        img(d / "obj_train_data" / f"f{i}.png")
        write(d / "obj_train_data" / f"f{i}.txt", "1 0.5 0.5 0.5 0.5\n")
        lines.append(f"data/obj_train_data/f{i}.png")
    write(d / "train.txt", "\n".join(lines) + "\n")
    p = new_project(capsys, tmp_path)
    code, out, _ = run(capsys, "import", p, d)
    got = info(p)
    assert code == 0 and (got["images"], got["boxes"]) == (3, 3)
    assert got["classes"] == ["car", "truck"] and got["splits"] == {"train": 3}


def test_label_studio_yolo_export_and_ids_without_names(capsys, tmp_path):
    d = tmp_path / "ls"
    img(d / "images" / "1a2b-photo.jpg")
    write(d / "labels" / "1a2b-photo.txt", "0 0.5 0.5 0.2 0.2\n")
    write(d / "classes.txt", "Airplane\n")
    write(d / "notes.json", '{"categories": [{"id": 0, "name": "Airplane"}], "info": {}}')
    bare = tmp_path / "bare"
    img(bare / "images" / "x.jpg")
    write(bare / "labels" / "x.txt", "3 0.5 0.5 0.2 0.2\n")
    p = new_project(capsys, tmp_path)
    assert run(capsys, "import", p, d)[0] == 0
    assert info(p)["classes"] == ["Airplane"] and info(p)["boxes"] == 1
    assert run(capsys, "import", p, bare)[0] == 0
    assert info(p)["classes"] == ["Airplane", "0", "1", "2", "3"]


def test_malformed_yolo_line_refuses_the_import_naming_the_line(capsys, tmp_path):
    d = tmp_path / "bad"
    img(d / "images" / "a.jpg")
    write(d / "labels" / "a.txt", "0 0.5 0.5 0.2\n")
    p = new_project(capsys, tmp_path)
    code, _, err = run(capsys, "import", p, d)
    assert code == 2 and "a.txt (line 1)" in err and info(p)["images"] == 0
