"""COCO segmentations, labelme, class-per-folder sets, VOC ImageSets, and hostile
input: decompression bombs, lying extensions, paths out of the dataset folder."""

from __future__ import annotations

import json
import struct
import zlib

import pytest

from .builders import coco, img, info, new_project, run, voc, write


def test_coco_polygons_and_rle_without_bbox_become_boxes(capsys, tmp_path):
    from pycocotools import mask as mask_utils
    import numpy as np

    d = tmp_path / "seg"
    img(d / "a.jpg", size=(40, 30))
    m = np.zeros((30, 40), np.uint8, order="F")
    m[5:15, 10:20] = 1
    rle = mask_utils.encode(m)
    rle["counts"] = rle["counts"].decode("ascii")
    data = {"images": [{"id": 1, "file_name": "a.jpg", "width": 40, "height": 30}],
            "categories": [{"id": 1, "name": "blob"}, {"id": 2, "name": "_background_"}],
            "annotations": [
                {"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[2, 3, 12, 3, 12, 9]]},
                {"id": 2, "image_id": 1, "category_id": 1, "bbox": [], "segmentation": rle},
                {"id": 3, "image_id": 1, "category_id": 1, "iscrowd": 1, "bbox": [0, 0, 4, 4],
                 "segmentation": {"size": [30, 40], "counts": [0, 1200]}}]}
    write(d / "result.json", json.dumps(data))
    p = new_project(capsys, tmp_path)
    code, out, _ = run(capsys, "import", p, d)
    assert code == 0 and info(p)["classes"] == ["blob"]
    assert "2 boxes taken from segmentation polygons or masks" in out
    assert "1 crowd regions skipped" in out and "placeholders, not created: _background_" in out
    from app.store.project import Project

    with Project.open(p) as project:
        rects = sorted(b.rect for b in project.boxes.of(project.media.list()[0].id))
    assert rects == [(2, 3, 12, 9), (10, 5, 20, 15)]


def test_labelme_json_files_with_windows_image_paths(capsys, tmp_path):
    d = tmp_path / "labelme"
    img(d / "images" / "p1.jpg", size=(50, 40))
    shapes = [{"label": "leaf", "points": [[5, 5], [20, 5], [20, 30]], "shape_type": "polygon"},
              {"label": "bug", "points": [[30, 30], [10, 12]], "shape_type": "rectangle"},
              {"label": "spot", "points": [[3, 3]], "shape_type": "point"}]
    write(d / "ann" / "p1.json", json.dumps({"version": "5.2.1", "shapes": shapes,
                                            "imagePath": "..\\images\\p1.jpg", "imageData": None,
                                            "imageHeight": 40, "imageWidth": 50}))
    p = new_project(capsys, tmp_path)
    code, out, _ = run(capsys, "import", p, d)
    assert code == 0 and info(p)["boxes"] == 2 and info(p)["classes"] == ["leaf", "bug"]
    assert "labelme point shapes skipped" in out


def test_class_per_folder_sets_become_tags_with_splits(capsys, tmp_path):
    d = tmp_path / "hymenoptera"
    for split in ("train", "val"):
        for cls in ("ants", "bees"):
            for i in range(2):
                img(d / split / cls / f"{cls}{i}.jpg")
    p = new_project(capsys, tmp_path)
    code, out, _ = run(capsys, "import", p, d)
    got = info(p)
    assert code == 0 and got["images"] == 8 and got["boxes"] == 0
    assert got["tags"] == {"ants": 4, "bees": 4} and got["splits"] == {"train": 4, "val": 4}
    assert "class-per-folder" in out
    flat = tmp_path / "flat"
    img(flat / "cats" / "c.jpg")
    img(flat / "dogs" / "d.jpg")
    write(flat / "dogs" / "notes.txt", "a dog")   # not only images: no longer a class folder
    assert run(capsys, "import", p, flat, "--format", "folders")[0] == 2
    (flat / "dogs" / "notes.txt").unlink()
    assert run(capsys, "import", p, flat, "--format", "folders")[0] == 0
    assert info(p)["tags"]["dogs"] == 1


def test_voc_imagesets_give_the_split(capsys, tmp_path):
    d = tmp_path / "VOC2012"
    for i in range(4):
        img(d / "JPEGImages" / f"2012_{i}.jpg")
        voc(d / "Annotations" / f"2012_{i}.xml", f"2012_{i}.jpg", folder="VOC2012")
    write(d / "ImageSets" / "Main" / "train.txt", "2012_0\n2012_1\n2012_2\n")
    write(d / "ImageSets" / "Main" / "val.txt", "2012_3\n")
    write(d / "ImageSets" / "Main" / "cat_train.txt", "2012_0  1\n")
    p = new_project(capsys, tmp_path)
    assert run(capsys, "import", p, d)[0] == 0
    assert info(p)["splits"] == {"train": 3, "val": 1} and info(p)["images"] == 4


def test_ambiguous_file_name_is_skipped_listing_the_candidates(capsys, tmp_path):
    d = tmp_path / "amb"
    img(d / "a" / "x.jpg")
    img(d / "b" / "x.jpg")
    img(d / "c.jpg")
    coco(d / "labels" / "annotations.json", ["x.jpg", "c.jpg"])
    p = new_project(capsys, tmp_path)
    code, out, _ = run(capsys, "import", p, d)
    assert code == 0 and info(p)["images"] == 1
    assert "'x.jpg' matches several images" in out and "a/x.jpg" in out and "b/x.jpg" in out


def _bomb(path, w=40000, h=40000):
    def chunk(t, data):
        return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data))
    path.parent.mkdir(parents=True, exist_ok=True)
    z = zlib.compressobj(9)
    body = b"".join(z.compress(b"\0" * (w // 8 + 1)) for _ in range(200)) + z.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def test_bomb_is_skipped_and_a_lying_extension_is_read_by_content(capsys, tmp_path):
    d = tmp_path / "hostile"
    _bomb(d / "images" / "huge.png")
    assert (d / "images" / "huge.png").stat().st_size < 500_000
    img(d / "images" / "liar.jpg", fmt="PNG")
    coco(d / "annotations.json", ["images/huge.png", "images/liar.jpg"])
    p = new_project(capsys, tmp_path)
    code, out, err = run(capsys, "import", p, d)
    assert code == 0 and "Traceback" not in out + err
    assert info(p)["names"] == ["liar.jpg"] and info(p)["boxes"] == 1
    assert "huge.png: image too large to decode safely (40000 x 40000 pixels" in out
    code, out, err = run(capsys, "import", p, d / "images")      # plain media import too
    assert code == 0 and "decompression bomb" in out and "Traceback" not in err


@pytest.mark.parametrize("where", ["dotdot", "absolute"])
def test_label_file_pointing_outside_is_refused_unless_allowed(capsys, tmp_path, where):
    secret = img(tmp_path / "elsewhere" / "secret.jpg")
    d = tmp_path / "ds"
    img(d / "images" / "ok.jpg")
    hint = "../../../../../../../../etc/passwd" if where == "dotdot" else str(secret)
    coco(d / "annotations.json", ["images/ok.jpg", hint])
    p = new_project(capsys, tmp_path)
    code, _, err = run(capsys, "import", p, d)
    assert code == 2 and "images[1].file_name" in err and "outside the dataset folder" in err
    assert info(p)["images"] == 0
    code, out, _ = run(capsys, "import", p, d, "--allow-outside")
    assert code == 0
    expected = ["ok.jpg", "secret.jpg"] if where == "absolute" else ["ok.jpg"]
    assert info(p)["names"] == expected
