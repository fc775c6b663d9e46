"""Format detection, dispatch, folder layouts, data.yaml parsing, image sizes, and the
real kangaroo VOC data set."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.store.formats import (FormatError, LabelBox, LabelImage, LabelSet, detect_format,
                               read_labels, write_coco, write_labels)
from app.store.formats._common import default_image_size
from app.store.formats._yaml import parse_simple_yaml

from .strategies import assert_same

# The sample data lies beside the checkout (../shared/data), here and in CI.
KANGAROO = Path(__file__).resolve().parents[3] / "shared" / "data" / "kangaroo-voc"
SAMPLE = LabelSet(["a", "b"], [], [LabelImage("x.jpg", 40, 30, [LabelBox("b", 1, 2, 3, 4)])])


@pytest.mark.parametrize("fmt", ["coco", "voc", "yolo"])
def test_detect_and_dispatch(tmp_path, fmt):
    out = tmp_path / ("c.json" if fmt == "coco" else "d")
    write_labels(SAMPLE, out, fmt)
    assert detect_format(out) == fmt
    if fmt == "yolo":
        (out / "images").mkdir()
        (out / "images/x.jpg").touch()
    ls = read_labels(out, "auto", image_size=lambda p: (40, 30))
    assert_same(SAMPLE, ls, norm=True)


def test_detect_other_cases(tmp_path):
    with pytest.raises(FormatError, match="does not exist"):
        detect_format(tmp_path / "nope")
    (tmp_path / "a.jpg").touch()
    assert detect_format(tmp_path) == "media"
    assert detect_format(tmp_path / "a.jpg") == "media"
    (tmp_path / "a.xml").write_text("<annotation/>")
    assert detect_format(tmp_path) == "voc"
    one = tmp_path / "coco"
    write_coco(SAMPLE, one / "labels.json")
    assert detect_format(one) == "coco"
    assert read_labels(one).images[0].file_name == "x.jpg"
    with pytest.raises(FormatError, match="no label format"):
        read_labels(tmp_path / "a.jpg")


def test_yolo_split_folders_and_flat_layout(tmp_path):
    rf = tmp_path / "roboflow"
    for split in ("train", "valid"):
        (rf / split / "images").mkdir(parents=True)
        (rf / split / "labels").mkdir(parents=True)
        (rf / split / "images/p q.png").touch()
        (rf / split / "labels/p q.txt").write_text("1 0.5 0.5 0.5 0.5\n")
    (rf / "data.yaml").write_text("train: ../train/images\nval: ../valid/images\nnc: 2\n"
                                  "names: ['a', 'b']\n")
    assert detect_format(rf) == "yolo"
    ls = read_labels(rf, image_size=lambda p: (100, 50))
    assert [im.file_name for im in ls.images] == ["train/images/p q.png", "valid/images/p q.png"]
    assert ls.image_root == str(rf.resolve()) and ls.images[1].boxes[0].x1 == 25
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "obj.names").write_text("a\n")
    (flat / "i.jpg").touch()
    (flat / "i.txt").write_text("0 0.5 0.5 1 1\n")
    assert detect_format(flat) == "yolo"
    assert read_labels(flat, image_size=lambda p: (8, 6)).images[0].boxes[0].x2 == 8


def test_yolo_yaml_names_forms_and_nc_mismatch(tmp_path):
    (tmp_path / "images").mkdir()
    for text, names in [("names: {0: x, 1: 'y z'}", ["x", "y z"]),
                        ("names:\n- x\n- 'y'\n", ["x", "y"]),
                        ("nc: 2\nnames:\n  0: x\n  1: y\n", ["x", "y"])]:
        (tmp_path / "data.yaml").write_text(text)
        assert read_labels(tmp_path, "yolo").categories == names
    (tmp_path / "data.yaml").write_text("nc: 3\nnames: [x]\n")
    with pytest.raises(FormatError, match="nc is 3 but 1 names"):
        read_labels(tmp_path, "yolo")
    (tmp_path / "data.yaml").write_text("names: {1: x}\n")
    with pytest.raises(FormatError, match="0..N-1"):
        read_labels(tmp_path, "yolo")


def test_simple_yaml_parser_agrees_with_pyyaml_on_common_files():
    yaml = pytest.importorskip("yaml")
    texts = [
        "path: ../datasets/coco8  # root\ntrain: images/train\nval: images/val\n"
        "names:\n  0: person\n  1: \"traffic light\"\n  2: 'it''s'\n"
        "download: |\n  from x import y\n  y('a: b')\n",
        "train: ../train/images\nval: ../valid/images\nnc: 3\nnames: ['a', \"b c\", d]\n",
        "names:\n- kangaroo\n- wallaby # note\n",
        "names: {0: a, 1: b}\nnc: 2\n",
    ]
    for text in texts:
        ours, theirs = parse_simple_yaml(text, "d.yaml"), yaml.safe_load(text)
        assert ours.keys() == theirs.keys()
        for key in ("path", "train", "val", "nc", "names"):  # scripts are skipped on purpose
            assert ours.get(key) == theirs.get(key)


@settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from("ab:0 -#'\"[]{},|\n\t"), max_size=60))
def test_simple_yaml_parser_only_raises_format_error(text):
    try:
        assert isinstance(parse_simple_yaml(text, "d.yaml"), dict)
    except FormatError as e:
        assert e.path == "d.yaml"


def test_default_image_size_swaps_for_exif_rotation(tmp_path):
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    Image.new("RGB", (40, 30)).save(tmp_path / "r.jpg", exif=exif)
    Image.new("RGB", (40, 30)).save(tmp_path / "n.png")
    assert default_image_size(tmp_path / "r.jpg") == (30, 40)
    assert default_image_size(tmp_path / "n.png") == (40, 30)
    (tmp_path / "bad.jpg").write_bytes(b"not an image")
    with pytest.raises(FormatError, match="cannot read the image size"):
        default_image_size(tmp_path / "bad.jpg")


@pytest.mark.skipif(not KANGAROO.is_dir(), reason="kangaroo sample data absent")
def test_kangaroo_voc_reads_and_exports_to_coco(tmp_path):
    assert detect_format(KANGAROO) == "voc"
    ls = read_labels(KANGAROO, "voc")
    assert (len(ls.images), ls.box_count(), ls.categories) == (164, 266, ["kangaroo"])
    assert ls.image_root == str((KANGAROO / "images").resolve())
    assert all((Path(ls.image_root) / im.file_name).is_file() for im in ls.images)
    write_coco(ls, tmp_path / "k.json")
    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(tmp_path / "k.json"))
    assert (len(coco.imgs), len(coco.anns), len(coco.cats)) == (164, 266, 1)
    first = coco.loadAnns(coco.getAnnIds(imgIds=[1]))[0]
    assert first["bbox"] == [233, 89, 153, 173] and first["area"] == 153 * 173


def test_yolo_reads_data_yaml_without_pyyaml(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "yaml", None)  # import yaml now raises ImportError
    (tmp_path / "images").mkdir()
    (tmp_path / "data.yaml").write_text("# c\ntrain: images\nval: images\nnames:\n  0: 'a b'\n"
                                        "  1: \"c\"\ndownload: |\n  x: [\n")
    assert read_labels(tmp_path, "yolo").categories == ["a b", "c"]
    (tmp_path / "data.yaml").write_text("names: [a, [b]]\n")
    with pytest.raises(FormatError, match="nested collections"):
        read_labels(tmp_path, "yolo")


def test_image_size_prober_results_are_checked(tmp_path):
    import numpy as np

    (tmp_path / "images").mkdir()
    (tmp_path / "images/a.png").touch()
    ls = read_labels(tmp_path, "yolo", image_size=lambda p: (np.int64(4), np.int32(3)))
    assert (ls.images[0].width, ls.images[0].height) == (4, 3)

    def broken(p):
        raise OSError("truncated file")

    for prober, problem in [(broken, "truncated file"), (lambda p: (0, 3), "not positive"),
                            (lambda p: (2.5, 3), "cannot read the image size")]:
        with pytest.raises(FormatError, match=problem) as e:
            read_labels(tmp_path, "yolo", image_size=prober)
        assert e.value.path == str(tmp_path / "images/a.png")
