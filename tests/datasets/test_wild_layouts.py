"""`kestrel import PROJECT FOLDER` with no flags, on the layouts tools really write."""

from __future__ import annotations

from .builders import coco, img, info, new_project, run, voc, write


def test_kaggle_voc_annotations_and_images_folders(capsys, tmp_path):
    d = tmp_path / "kaggle"
    for i in range(5):
        img(d / "images" / f"maksssksksss{i}.png")
        voc(d / "annotations" / f"maksssksksss{i}.xml", f"maksssksksss{i}.png", folder="images",
            boxes=[("with_mask", 1, 2, 10, 12), ("without_mask", 20, 5, 30, 40)])
    p = new_project(capsys, tmp_path)
    code, out, _ = run(capsys, "import", p, d)
    got = info(p)
    assert code == 0 and got["images"] == 5 and got["boxes"] == 10
    assert got["classes"] == ["with_mask", "without_mask"] and "Pascal VOC annotations/" in out


def test_cvat_coco_instances_default_and_roboflow_splits(capsys, tmp_path):
    cvat = tmp_path / "cvat"
    files = [f"frame_{i:06d}.PNG" for i in range(4)]
    for f in files:
        img(cvat / "images" / f)
    coco(cvat / "annotations" / "instances_default.json", files, boxes_per_image=2)
    rf = tmp_path / "roboflow"
    for split, n in (("train", 3), ("valid", 2), ("test", 1)):
        names = [f"{split}{i}_jpg.rf.{i}abc.jpg" for i in range(n)]
        for f in names:
            img(rf / split / f)
        # Roboflow: category 0 is the dataset's superclass, the others name it
        coco(rf / split / "_annotations.coco.json", names, cats=("head", "helmet"),
             extra_cats=[{"id": 0, "name": "Workers", "supercategory": "none"}])
        import json

        data = json.loads((rf / split / "_annotations.coco.json").read_text())
        for c in data["categories"][:2]:
            c["supercategory"] = "Workers"
        (rf / split / "_annotations.coco.json").write_text(json.dumps(data))
    write(rf / "README.roboflow.txt", "exported from roboflow")
    p = new_project(capsys, tmp_path)
    assert run(capsys, "import", p, cvat)[0] == 0
    assert (info(p)["images"], info(p)["boxes"]) == (4, 8)
    code, out, _ = run(capsys, "import", p, rf)
    got = info(p)
    assert code == 0 and got["images"] == 10 and got["boxes"] == 8 + 6
    assert "Workers" not in got["classes"] and "placeholders, not created: Workers" in out
    assert got["splits"] == {"train": 3, "val": 2, "test": 1}
    assert "splits   train 3, val 2, test 1" in out


def test_labelimg_xml_beside_images_in_split_folders(capsys, tmp_path):
    d = tmp_path / "labelimg"
    for split in ("train", "test"):
        for i in range(3):
            img(d / split / f"{split}_{i}.jpg")
            voc(d / split / f"{split}_{i}.xml", f"{split}_{i}.jpg", folder=split,
                img_path=f"C:\\Users\\ana\\Desktop\\{split}\\{split}_{i}.jpg")
    img(d / "train" / "negative.jpg")            # labelImg writes no XML for an empty image
    p = new_project(capsys, tmp_path)
    code, out, _ = run(capsys, "import", p, d)
    got = info(p)
    assert code == 0 and got["images"] == 7 and got["boxes"] == 6
    assert got["splits"] == {"train": 4, "test": 3}
    assert "1 images without a label file, imported without boxes" in out


def test_split_folder_with_two_json_files_uses_the_one_that_parses(capsys, tmp_path):
    d = tmp_path / "two"
    names = ["a.jpg", "b.jpg"]
    for f in names:
        img(d / "train" / f)
    coco(d / "train" / "_annotations.coco.json", names)
    write(d / "train" / "annotations_backup.json", '{"images": [{"id": 1, "file_name": ')
    p = new_project(capsys, tmp_path)
    code, out, _ = run(capsys, "import", p, d)
    assert code == 0 and info(p)["boxes"] == 2
    assert "annotations_backup.json: not used: it does not parse" in out


def test_two_valid_sources_that_disagree_must_be_chosen(capsys, tmp_path):
    d = tmp_path / "both"
    names = ["a.jpg", "b.jpg"]
    for f in names:
        img(d / "images" / f)
    coco(d / "instances_one.json", [f"images/{f}" for f in names], boxes_per_image=1)
    coco(d / "instances_two.json", [f"images/{f}" for f in names], boxes_per_image=2)
    p = new_project(capsys, tmp_path)
    code, _, err = run(capsys, "import", p, d)
    assert code == 2 and "--annotations" in err and "instances_one.json" in err
    assert "instances_two.json" in err and info(p)["images"] == 0
    code, out, _ = run(capsys, "import", p, d, "--annotations", d / "instances_two.json")
    assert code == 0 and info(p)["boxes"] == 4


def test_identical_sources_collapse_to_one(capsys, tmp_path):
    d = tmp_path / "same"
    img(d / "images" / "a.jpg")
    coco(d / "annotations" / "instances_x.json", ["a.jpg"], boxes_per_image=1, cats=("cat",))
    voc(d / "Annotations" / "a.xml", "a.jpg", folder="images")
    p = new_project(capsys, tmp_path)
    code, out, _ = run(capsys, "import", p, d)
    assert code == 0 and info(p)["boxes"] == 1 and "not used: same images and boxes" in out


def test_all_images_missing_exits_2_and_creates_no_classes(capsys, tmp_path):
    d = tmp_path / "gone"
    for i in range(3):
        voc(d / "annotations" / f"{i}.xml", f"{i}.jpg", folder="images")
    p = new_project(capsys, tmp_path)
    code, out, err = run(capsys, "import", p, d)
    assert code == 2 and "nothing could be imported" in err and "image not found" in out
    assert info(p)["classes"] == [] and info(p)["images"] == 0


def test_labels_asked_for_but_not_found_exits_2(capsys, tmp_path):
    img(tmp_path / "photos" / "a.jpg")
    p = new_project(capsys, tmp_path)
    code, _, err = run(capsys, "import", p, tmp_path / "photos", "--format", "voc")
    assert code == 2 and "no voc labels found" in err and info(p)["images"] == 0


def test_folder_that_looks_labelled_but_is_not_warns_loudly(capsys, tmp_path):
    d = tmp_path / "odd"
    for i in range(3):
        img(d / "images" / f"{i}.jpg")
    write(d / "labels" / "notes.md", "labels come later")
    write(d / "annotations" / "export.xml", "<doc><item/></doc>")
    p = new_project(capsys, tmp_path)
    code, out, err = run(capsys, "import", p, d)
    assert code == 0 and info(p)["images"] == 3
    assert "WARNING" in err and "looks like a labelled dataset" in err and "WITHOUT boxes" in err


def test_many_skipped_files_are_grouped_by_reason(capsys, tmp_path):
    d = tmp_path / "many"
    names = [f"{i}.jpg" for i in range(30)]
    for f in names[:5]:
        img(d / "images" / f)
    for f in names[5:8]:
        write(d / "images" / f, "not an image")
    coco(d / "annotations.json", names)
    p = new_project(capsys, tmp_path)
    code, out, _ = run(capsys, "import", p, d)
    assert code == 0 and info(p)["images"] == 5
    assert "skipped  25 files:" in out and "image not found (22)" in out
    assert "not a readable image (unknown or corrupt format) (3)" in out
