"""Malformed input: a FormatError naming the file and the field or line; clamping."""

from __future__ import annotations

import json
import os

import pytest

from app.store.formats import (FormatError, LabelBox, LabelImage, LabelSet, read_coco,
                               read_voc, read_yolo, write_coco, write_voc, write_yolo)
from app.store.formats._common import atomic_write

from .strategies import make_images, sizer


def _coco(**over):
    data = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 50}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20]}],
        "categories": [{"id": 1, "name": "cat"}],
    }
    data.update(over)
    return data


def _read_coco_data(tmp_path, data):
    p = tmp_path / "c.json"
    p.write_text(json.dumps(data), encoding="utf-8")
    return read_coco(p)


@pytest.mark.parametrize("change, where, problem", [
    ({"annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2]}]},
     "annotations[0].bbox", "expected 4 numbers"),
    ({"annotations": [{"id": 1, "image_id": 9, "category_id": 1, "bbox": [1, 2, 3, 4]}]},
     "annotations[0].image_id", "unknown image id 9"),
    ({"annotations": [{"id": 1, "image_id": 1, "category_id": 4, "bbox": [1, 2, 3, 4]}]},
     "annotations[0].category_id", "unknown category id 4"),
    ({"annotations": [{"id": 1, "image_id": 1, "bbox": [1, 2, 3, 4]}]},
     "annotations[0].category_id", "missing required key"),
    ({"annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, -3, 4]}]},
     "annotations[0].bbox", "negative width"),
    ({"annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [500, 2, 3, 4]}]},
     "annotations[0].bbox", "lies outside"),
    ({"images": [{"id": 1, "file_name": "a.jpg", "width": "100", "height": 50}]},
     "images[0].width", "not a positive integer"),
    ({"images": {"id": 1}}, "images", "expected a list"),
    ({"categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "a"}]},
     "categories[1].name", "unique"),
])
def test_coco_errors_name_the_field(tmp_path, change, where, problem):
    with pytest.raises(FormatError) as e:
        _read_coco_data(tmp_path, _coco(**change))
    assert e.value.where == where and problem in e.value.problem
    assert str(tmp_path / "c.json") in str(e.value)


def test_coco_missing_images_and_invalid_json(tmp_path):
    data = _coco()
    del data["images"]
    with pytest.raises(FormatError, match=r"\(images\): missing required key"):
        _read_coco_data(tmp_path, data)
    (tmp_path / "c.json").write_text('{"images": [', encoding="utf-8")
    with pytest.raises(FormatError, match="invalid JSON") as e:
        read_coco(tmp_path / "c.json")
    assert e.value.where == "line 1 column 13"


def test_coco_clamps_boxes_sticking_out_and_skips_crowds(tmp_path):
    anns = [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [-5, 40, 200, 20]},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "iscrowd": 1}]
    ls = _read_coco_data(tmp_path, _coco(annotations=anns))
    [box] = ls.images[0].boxes
    assert (box.x1, box.y1, box.x2, box.y2) == (0, 40, 100, 50)


def test_coco_orders_categories_by_id_and_finds_image_root(tmp_path):
    cats = [{"id": 7, "name": "z"}, {"id": 2, "name": "cat"}]
    (tmp_path / "images").mkdir()
    (tmp_path / "images/a.jpg").touch()
    ls = _read_coco_data(tmp_path, _coco(categories=cats,
                                         annotations=[{"id": 1, "image_id": 1, "category_id": 7,
                                                       "bbox": [1, 1, 2, 2]}]))
    assert ls.categories == ["cat", "z"] and ls.images[0].boxes[0].category == "z"
    assert ls.image_root == str((tmp_path / "images").resolve())


def _voc(tmp_path, body: str, name="a.xml"):
    (tmp_path / name).write_text(body, encoding="utf-8")
    return read_voc(tmp_path)


VOC_OK = ("<annotation><filename>a.jpg</filename><size><width>100</width><height>50</height>"
          "</size><object><name>cat</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>{xmax}</xmax>"
          "<ymax>40</ymax></bndbox></object></annotation>")


@pytest.mark.parametrize("xmax, where, problem", [
    ("12a", "<object>[0]/<bndbox>/<xmax>", "is not a number"),
    ("", "<object>[0]/<bndbox>/<xmax>", "missing or empty"),
    ("0.5", "<object>[0]/<bndbox>", "inverted box"),
    ("nan", "<object>[0]/<bndbox>/<xmax>", "not a finite number"),
])
def test_voc_errors_name_the_element(tmp_path, xmax, where, problem):
    with pytest.raises(FormatError) as e:
        _voc(tmp_path, VOC_OK.format(xmax=xmax))
    assert (e.value.where, e.value.path) == (where, str(tmp_path / "a.xml"))
    assert problem in e.value.problem


def test_voc_clamps_and_rejects_bad_xml(tmp_path):
    box = _voc(tmp_path, VOC_OK.format(xmax="101.5")).images[0].boxes[0]
    assert (box.x1, box.x2) == (1, 100)
    with pytest.raises(FormatError, match="invalid XML"):
        _voc(tmp_path, VOC_OK.format(xmax="3")[:-20])
    with pytest.raises(FormatError, match="expected <annotation>"):
        _voc(tmp_path, "<doc/>")


def test_voc_rejects_dtd_billion_laughs(tmp_path):
    lol = ('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY l "lol">'
           + "".join(f'<!ENTITY l{i} "{"&l;" * 10 if i == 0 else f"&l{i - 1};" * 10}">'
                     for i in range(9))
           + ']><annotation><filename>&l8;</filename></annotation>')
    with pytest.raises(FormatError, match="DTDs and entities are not allowed"):
        _voc(tmp_path, lol)


def test_voc_missing_size_uses_prober_and_unlisted_class_is_an_error(tmp_path):
    body = VOC_OK.format(xmax="30").replace("<width>100</width>", "<width>0</width>")
    with pytest.raises(FormatError, match="missing image size"):
        _voc(tmp_path, body)
    ls = read_voc(tmp_path, image_size=lambda p: (64, 48))
    assert (ls.images[0].width, ls.images[0].height) == (64, 48)
    (tmp_path / "classes.txt").write_text("dog\n", encoding="utf-8")
    with pytest.raises(FormatError, match="class 'cat' is not listed in classes.txt"):
        read_voc(tmp_path, image_size=lambda p: (64, 48))


def _yolo(tmp_path, label: str, names="a\nb\n"):
    (tmp_path / "images").mkdir(exist_ok=True)
    (tmp_path / "labels").mkdir(exist_ok=True)
    (tmp_path / "images/img3.jpg").touch()
    (tmp_path / "labels/img3.txt").write_text(label, encoding="utf-8")
    (tmp_path / "classes.txt").write_text(names, encoding="utf-8")
    return read_yolo(tmp_path, lambda p: (200, 100))


@pytest.mark.parametrize("label, where, problem", [
    ("0 0.5 0.5 0.1 0.1\n1 0.5 0.5 0.1\n", "line 2", "expected 5 numbers (or a polygon), got 4"),
    ("0 0.1 0.1 0.5 0.1 0.5 0.5 0.2\n", "line 1", "got 8"),
    ("2 0.5 0.5 0.1 0.1\n", "line 1", "class id 2 out of range (0..1)"),
    ("-1 0.5 0.5 0.1 0.1\n", "line 1", "class id -1 out of range"),
    ("a 0.5 0.5 0.1 0.1\n", "line 1 class", "is not a number"),
    ("0 0.5 0.5 -0.1 0.1\n", "line 1", "negative width"),
    ("0 3 0.5 0.1 0.1\n", "line 1", "lies outside"),
    ("0 0.5 x 0.1 0.1\n", "line 1", "is not a number"),
])
def test_yolo_errors_name_the_line(tmp_path, label, where, problem):
    with pytest.raises(FormatError) as e:
        _yolo(tmp_path, label)
    assert (e.value.path, e.value.where) == (str(tmp_path / "labels/img3.txt"), where)
    assert problem in e.value.problem


def test_yolo_clamps_and_reads_scores(tmp_path):
    [box] = _yolo(tmp_path, "1 0.95 0.5 0.2 0.5 0.75\n\n").images[0].boxes
    assert (box.category, box.x1, box.x2) == ("b", 170, 200)
    assert (box.y1, box.y2, box.score) == (25, 75, 0.75)


def test_yolo_orphan_label_is_reported_not_fatal_and_missing_class_list(tmp_path):
    _yolo(tmp_path, "")
    (tmp_path / "labels/ghost.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    (tmp_path / "labels/classes.txt").write_text("a\nb\n")   # labelImg's copy: not a label
    ls = read_yolo(tmp_path, lambda p: (10, 10))
    assert ls.skipped == [(str(tmp_path / "labels/ghost.txt"), "label file without an image")]
    assert len(ls.images) == 1
    (tmp_path / "labels/classes.txt").unlink()
    (tmp_path / "labels/ghost.txt").unlink()
    (tmp_path / "classes.txt").unlink()
    (tmp_path / "labels/img3.txt").write_text("2 0.5 0.5 0.1 0.1\n")
    ls = read_yolo(tmp_path, lambda p: (10, 10))
    assert ls.categories == ["0", "1", "2"] and ls.images[0].boxes[0].category == "2"


def test_writers_validate_before_writing(tmp_path):
    bad = LabelSet(["a"], [], [LabelImage("x.jpg", 10, 10, [LabelBox("nope", 0, 0, 1, 1)])])
    for write, target in ((write_coco, tmp_path / "c.json"), (write_voc, tmp_path / "v"),
                          (write_yolo, tmp_path / "y")):
        with pytest.raises(FormatError, match="unknown category 'nope'"):
            write(bad, target)
        assert not target.exists()
    escape = LabelSet(["a"], [], [LabelImage("../x.jpg", 10, 10)])
    with pytest.raises(FormatError, match="not a relative posix path"):
        write_voc(escape, tmp_path / "v")
    clash = LabelSet(["a"], [], [LabelImage("x.jpg", 10, 10), LabelImage("x.png", 10, 10)])
    with pytest.raises(FormatError, match="would share"):
        write_yolo(clash, tmp_path / "y")


def test_atomic_write_leaves_old_file_and_no_temp_on_error(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write(target, "old\n")
    with pytest.raises(UnicodeEncodeError):
        atomic_write(target, "new \ud800")  # a lone surrogate fails mid-write
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_unicode_and_spaces_in_paths(tmp_path):
    root = tmp_path / "dossier été" / "ラベル"
    ls = LabelSet(["känguru"], [], [LabelImage("sous dossier/ä ö ü 图.jpg", 30, 20,
                                               [LabelBox("känguru", 1, 2, 3, 4)])])
    write_coco(ls, root / "c c.json")
    assert read_coco(root / "c c.json").images == ls.images
    write_voc(ls, root / "voc")
    assert read_voc(root / "voc").images == ls.images
    write_yolo(ls, root / "yolo")
    back = read_yolo(root / "yolo", sizer(make_images(root / "yolo/images", ls)))
    assert back.images[0].file_name == ls.images[0].file_name


@pytest.mark.parametrize("bad", ["a\nb", " a", "a\u2028b", "x\x85", ""])
def test_writers_refuse_names_that_cannot_round_trip(tmp_path, bad):
    ls = LabelSet([bad], [], [])
    with pytest.raises(FormatError, match="names must"):
        write_yolo(ls, tmp_path)
    assert not any(tmp_path.iterdir())
