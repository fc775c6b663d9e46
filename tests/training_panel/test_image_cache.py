"""The training-size image cache (app.runs.image_cache): reduced copies keyed by
content and size, shared by runs, bounded, cleaned with the runs; originals untouched."""
import json
import os
import shutil

import numpy as np
from PIL import Image

from app.runs.image_cache import cache_bytes, entries, prune, shrink_dataset
from training.sizing import InputFit

FIT = InputFit(300, 500)


def _jpeg(path, w, h, seed, orientation=None):
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 255, (h // 8, w // 8, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, quality=90, exif=exif)


def _originals(folder):
    _jpeg(folder / "big.jpg", 1600, 1200, 1)
    _jpeg(folder / "turned.jpg", 1600, 1200, 2, orientation=6)     # shown 1200 x 1600
    Image.new("RGB", (120, 90), "blue").save(folder / "small.png")
    return {"big.jpg": (1600, 1200), "turned.jpg": (1200, 1600), "small.png": (120, 90)}


def _dataset(folder, originals, sizes):
    """An exported run dataset: images hard-linked to the originals, as export does."""
    images = folder / "images"
    images.mkdir(parents=True)
    for name in sizes:
        os.link(originals / name, images / name)
    doc = {"images": [{"id": i + 1, "file_name": n, "width": w, "height": h}
                      for i, (n, (w, h)) in enumerate(sizes.items())],
           "annotations": [], "categories": [{"id": 1, "name": "a"}]}
    (folder / "annotations.json").write_text(json.dumps(doc))
    return folder


def _stored(dataset):
    doc = json.loads((dataset / "annotations.json").read_text())
    return {i["file_name"]: i.get("kestrel_stored_size") for i in doc["images"]}


def test_runs_share_reduced_copies_and_originals_stay(tmp_path):
    originals = tmp_path / "photos"
    sizes = _originals(originals)
    before = {n: (originals / n).read_bytes() for n in sizes}
    cache = tmp_path / "runs" / ".image-cache"
    run1 = _dataset(tmp_path / "run1", originals, sizes)

    assert shrink_dataset(run1, FIT, cache) == {"reduced": 2, "from_cache": 0, "skipped": 0}
    assert _stored(run1) == {"big.jpg": [400, 300], "turned.jpg": [300, 400], "small.png": None}
    with Image.open(run1 / "images" / "turned.jpg") as im:    # upright, no EXIF turn left
        assert im.size == (300, 400) and im.getexif().get(0x0112, 1) == 1
    assert {n: (originals / n).read_bytes() for n in sizes} == before
    assert os.path.samefile(run1 / "images" / "small.png", originals / "small.png")
    assert len(entries(cache)) == 2 and all(p.stat().st_nlink == 2 for p in entries(cache))

    run2 = _dataset(tmp_path / "run2", originals, sizes)
    assert shrink_dataset(run2, FIT, cache) == {"reduced": 0, "from_cache": 2, "skipped": 0}
    assert os.path.samefile(run1 / "images" / "big.jpg", run2 / "images" / "big.jpg")
    assert _stored(run2) == _stored(run1)

    other = _dataset(tmp_path / "run3", originals, {"big.jpg": sizes["big.jpg"]})
    shrink_dataset(other, InputFit(150, 500), cache)            # another size: another entry
    assert _stored(other) == {"big.jpg": [200, 150]} and len(entries(cache)) == 3

    shutil.rmtree(run1)                                          # runs 2 and 3 still use theirs
    assert prune(cache) == 0 and len(entries(cache)) == 3
    shutil.rmtree(run2)
    shutil.rmtree(other)
    assert prune(cache) == 3 and entries(cache) == []


def test_the_cache_is_bounded(tmp_path):
    originals = tmp_path / "photos"
    sizes = _originals(originals)
    run = _dataset(tmp_path / "run", originals, sizes)
    cache = tmp_path / "cache"
    counts = shrink_dataset(run, FIT, cache, max_bytes=1000)    # no room for a copy
    assert counts == {"reduced": 0, "from_cache": 0, "skipped": 2}
    assert entries(cache) == [] and set(_stored(run).values()) == {None}
    assert os.path.samefile(run / "images" / "big.jpg", originals / "big.jpg")
    run2 = _dataset(tmp_path / "run2", originals, sizes)
    shrink_dataset(run2, FIT, cache, max_bytes=10**9)
    used = cache_bytes(cache)
    run3 = _dataset(tmp_path / "run3", originals, sizes)
    counts = shrink_dataset(run3, InputFit(150, 500), cache, max_bytes=used + 1)
    assert counts["reduced"] == 0 and cache_bytes(cache) == used


def test_an_unreadable_image_is_left_for_the_trainer_to_name(tmp_path):
    originals = tmp_path / "photos"
    originals.mkdir()
    (originals / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    run = _dataset(tmp_path / "run", originals, {"broken.jpg": (1600, 1200)})
    assert shrink_dataset(run, FIT, tmp_path / "cache")["skipped"] == 1
    assert _stored(run) == {"broken.jpg": None}
    assert (run / "images" / "broken.jpg").read_bytes() == b"\xff\xd8 not really a jpeg"


def test_prepare_run_reduces_a_detector_runs_photos(tmp_path):
    from app.runs.records import DATASET_DIR, prepare_run
    from app.store.project import Project
    from training.data import DetectionDataset, load_coco

    originals = tmp_path / "photos"
    _originals(originals)
    project = Project.create(tmp_path / "proj")
    try:
        report = project.media.import_files(sorted(originals.iterdir()))
        big = next(m for m in report.added if project.media.get(m).name == "big.jpg")
        cls = project.classes.ensure("thing")
        project.boxes.add_one(big, cls, 400, 300, 800, 900)
        small = next(m for m in report.added if project.media.get(m).name == "small.png")
        project.status.set_mark(small, 0, "empty")   # labelled: no objects (runs take it)
        launch = prepare_run(project, "fasterrcnn_mobilenet_v2", {"min_size": 300},
                             frames={})
        launch.lock.release()
        dataset = launch.run_dir / DATASET_DIR
        stored = {k.rsplit("/", 1)[-1]: v for k, v in _stored(dataset).items()}
        assert stored["big.jpg"] == [400, 300] and stored["small.png"] is None
        coco = load_coco(dataset / "annotations.json", dataset / "images")
        k = next(i for i, im in enumerate(coco.images) if im["file_name"].endswith("big.jpg"))
        _image, target = DetectionDataset(coco, dataset / "images")[k]
        assert target["boxes"].tolist() == [[100.0, 75.0, 200.0, 225.0]]   # a quarter
        emb = prepare_run(project, "embed_resnet18", {}, task="embedder", frames={})
        emb.lock.release()
        assert set(_stored(emb.run_dir / DATASET_DIR).values()) == {None}  # crops need pixels
    finally:
        project.close()
