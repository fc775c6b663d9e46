"""Export -> import -> export gives byte-identical files, and boxes survive within 1e-6."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from app.store.formats import (LabelBox, LabelImage, LabelSet, read_coco, read_voc,
                               read_yolo, write_coco, write_voc, write_yolo)

from .strategies import assert_same, labelsets, make_images, sizer, snapshot

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(labelsets())
def test_coco_round_trip(ls):
    with tempfile.TemporaryDirectory() as d:
        a, b = Path(d, "a.json"), Path(d, "b.json")
        write_coco(ls, a)
        back = read_coco(a)
        write_coco(back, b)
        assert a.read_bytes() == b.read_bytes()
        assert_same(ls, back)
        assert_same(back, read_coco(b), tol=0)


@FAST
@given(labelsets())
def test_voc_round_trip(ls):
    with tempfile.TemporaryDirectory() as d:
        a, b = Path(d, "a"), Path(d, "b")
        write_voc(ls, a)
        back = read_voc(a)
        write_voc(back, b)
        assert snapshot(a) == snapshot(b)
        assert_same(ls, back)
        assert back.image_root == str((a / "JPEGImages").resolve())


@FAST
@given(labelsets(extras=False))
def test_yolo_round_trip(ls):
    with tempfile.TemporaryDirectory() as d:
        a, b = Path(d, "a"), Path(d, "b")
        write_yolo(ls, a)
        first = snapshot(a)
        back = read_yolo(a, sizer(make_images(a / "images", ls)))
        write_yolo(back, b)
        assert snapshot(b) == first
        assert_same(ls, back, norm=True, tags=False, tracks=False)
        assert_same(back, read_yolo(b, sizer(make_images(b / "images", back))), tol=0)


def _sample() -> LabelSet:
    return LabelSet(
        categories=["kangaroo", "wallaby"], tags=["night", "blurry"],
        images=[
            LabelImage("zoo/ä b.jpg", 640, 480, [
                LabelBox("kangaroo", 10, 20.5, 110.25, 220, track_id=7, score=0.9),
                LabelBox("wallaby", 0, 0, 640, 480)], tags=["night"]),
            LabelImage("empty one.jpg", 100, 50, tags=["blurry", "night"]),
        ])


def test_coco_keeps_tags_tracks_and_scores(tmp_path):
    write_coco(_sample(), tmp_path / "c.json")
    back = read_coco(tmp_path / "c.json")
    assert back.tags == ["night", "blurry"]
    assert back.images[1].tags == ["blurry", "night"]
    box = back.images[0].boxes[0]
    assert (box.track_id, box.score, box.x2) == (7, 0.9, 110.25)
    text = (tmp_path / "c.json").read_text(encoding="utf-8")
    assert '"attributes": {"track_id": 7}' in text and '"kestrel_tags": [1]' in text
    assert '"bbox": [10, 20.5, 100.25, 199.5], "area": 19999.875, "iscrowd": 0' in text


def test_voc_keeps_tags_tracks_scores_and_unused_classes(tmp_path):
    ls = _sample()
    ls.categories.append("unused")
    write_voc(ls, tmp_path)
    assert (tmp_path / "Annotations/zoo/ä b.xml").is_file()
    back = read_voc(tmp_path)
    assert back.categories == ["kangaroo", "wallaby", "unused"]
    assert_same(ls, back)


def test_voc_same_stem_keeps_both_files(tmp_path):
    ls = LabelSet(["a"], [], [LabelImage("x.jpg", 10, 10), LabelImage("x.png", 20, 20)])
    write_voc(ls, tmp_path)
    written = sorted(p.name for p in (tmp_path / "Annotations").iterdir())
    assert written == ["x.jpg.xml", "x.png.xml"]
    assert_same(ls, read_voc(tmp_path))


def test_yolo_scores_column_and_written_files(tmp_path):
    ls = _sample()
    write_yolo(ls, tmp_path)
    lines = (tmp_path / "labels/zoo/ä b.txt").read_text(encoding="utf-8").splitlines()
    assert lines == ["0 0.093945 0.250521 0.156641 0.415625 0.900000",
                     "1 0.500000 0.500000 1.000000 1.000000"]
    assert (tmp_path / "labels/empty one.txt").read_text() == ""
    assert (tmp_path / "classes.txt").read_text() == "kangaroo\nwallaby\n"
    assert 'names:\n  0: "kangaroo"\n  1: "wallaby"\n' in (tmp_path / "data.yaml").read_text()
    back = read_yolo(tmp_path, sizer(make_images(tmp_path / "images", ls)))
    assert back.image_root == str((tmp_path / "images").resolve())
    assert_same(ls, back, norm=True, tags=False, tracks=False)


def test_yolo_round_trip_with_an_images_folder_inside_file_names(tmp_path):
    """Ultralytics maps the *last* images/ of a path to labels/: writer and reader agree."""
    from PIL import Image

    from app.store.formats import read_yolo, write_yolo
    from app.store.formats.labelset import LabelBox, LabelImage, LabelSet

    ls = LabelSet(categories=["a"], images=[
        LabelImage("images/x.jpg", 20, 10, [LabelBox("a", 1, 2, 5, 6)])])
    out = tmp_path / "ds"
    write_yolo(ls, out)
    (out / "images" / "images").mkdir(parents=True)
    Image.new("RGB", (20, 10)).save(out / "images" / "images" / "x.jpg")
    back = read_yolo(out)
    assert [im.file_name for im in back.images] == ["images/x.jpg"]
    b = back.images[0].boxes[0]
    assert (b.x1, b.y1, b.x2, b.y2) == pytest.approx((1, 2, 5, 6), abs=1e-4)
