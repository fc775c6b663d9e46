"""A seeded run gives the same validation results with and without the image cache.

Generated 480x360 photos (JPEG) of red and green rectangles; the runs look at
160-240 px, so the cache stores them at 213x160. Two checks:
- a colour "detector" (finds the rectangles in the pixels it is given, no learning)
  scores the same mAP, and a high one, in original pixels: with the cache, without it
  (JPEG draft decoding), and on the whole images as before either existed; so the
  copies, the scaled boxes and the predictions mapped back agree;
- a real detector trained with the same seed sees nearly the same losses (its mAP,
  near zero this early, the same too).
"""
import json
import shutil

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from training.hparams import DetectorHParams, derive
from training.templates import register_template

from .conftest import run_events

pytestmark = pytest.mark.slow
COLOURS = {1: (230, 30, 30), 2: (30, 200, 30)}
SIZES = ["min_size=160", "max_size=240", "val_fraction=0.5", "hflip=0", "workers=0"]


def make_photos(folder, n=12, seed=0):
    rng = np.random.default_rng(seed)
    (folder / "images").mkdir(parents=True)
    images, anns = [], []
    for i in range(n):
        w, h = (360, 480) if i % 4 == 0 else (480, 360)
        pixels = rng.integers(0, 90, (h, w, 3), dtype=np.uint8)
        for cat in (1, 2):
            bw, bh = int(rng.integers(50, 140)), int(rng.integers(50, 140))
            x = int(rng.integers(0, w // 2 - bw)) + (w // 2 if cat == 2 else 0)
            y = int(rng.integers(0, h - bh))
            pixels[y:y + bh, x:x + bw] = COLOURS[cat]
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": cat,
                         "bbox": [x, y, bw, bh], "area": bw * bh, "iscrowd": 0})
        Image.fromarray(pixels).save(folder / "images" / f"{i:03d}.jpg", quality=95)
        images.append({"id": i + 1, "file_name": f"{i:03d}.jpg", "width": w, "height": h})
    doc = {"images": images, "annotations": anns,
           "categories": [{"id": 1, "name": "red"}, {"id": 2, "name": "green"}]}
    (folder / "annotations.json").write_text(json.dumps(doc))
    return folder


class ColourDetector(torch.nn.Module):
    """Boxes around the pixels of each class colour, in the coordinates of the image it
    is given (float RGB in [0, 1])."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, images, targets=None):
        if self.training:
            return {"loss": (self.w - 1) ** 2}
        out = []
        for image in images:
            rgb = (image.permute(1, 2, 0).numpy() * 255).astype(np.float32)
            boxes, labels = [], []
            for label, colour in COLOURS.items():
                mask = (np.abs(rgb - colour).sum(axis=2) < 90).astype(np.uint8)
                n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
                for x, y, bw, bh, area in stats[1:]:
                    if area > 20:
                        boxes.append([x, y, x + bw, y + bh])
                        labels.append(label)
            out.append({"boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                        "labels": torch.tensor(labels, dtype=torch.int64),
                        "scores": torch.ones(len(labels))})
        return out


register_template("test_colour_detector", task="detector", description="colour oracle",
                  hint="-", hparams=derive(DetectorHParams, "ColourHParams"))(
    lambda *, num_classes, hparams: ColourDetector())


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """The exported dataset as is, and a copy reduced by the app's image cache."""
    from app.runs.image_cache import shrink_dataset
    from training.sizing import run_input_fit

    root = tmp_path_factory.mktemp("photos")
    plain = make_photos(root / "plain")
    cached = root / "cached"
    shutil.copytree(plain, cached)
    fit = run_input_fit("fasterrcnn_mobilenet_v3_large_320_fpn",
                        {"min_size": 160, "max_size": 240})
    counts = shrink_dataset(cached, fit, root / "cache")
    assert counts["reduced"] == 12
    return plain, cached


def _metrics(dataset, template, run_dir, extra=()):
    rc, events = run_events(dataset / "annotations.json", dataset / "images", template, run_dir,
                            SIZES + list(extra))
    assert rc == 0, events[-1]
    return [e for e in events if e["event"] == "metrics"]


def test_colour_detector_scores_the_same_with_and_without_the_cache(photos, tmp_path):
    from training.data import (DetectionDataset, coco_ground_truth, collate, load_coco,
                               make_transforms)
    from training.engine import evaluate

    plain, cached = photos
    (a,), (b,) = (_metrics(d, "test_colour_detector", tmp_path / d.name) for d in photos)
    assert a["map50"] == pytest.approx(1.0) and b["map50"] == pytest.approx(1.0)
    assert a["map"] > 0.9 and b["map"] == pytest.approx(a["map"], abs=0.03)
    coco = load_coco(plain / "annotations.json", plain / "images")  # whole images, no fit
    idx = list(range(len(coco.images)))
    whole = DetectionDataset(coco, plain / "images", idx, make_transforms(DetectorHParams(), False))
    loader = torch.utils.data.DataLoader(whole, batch_size=4, collate_fn=collate)
    full = evaluate(ColourDetector(), loader, torch.device("cpu"), coco_ground_truth(coco, idx),
                    coco.class_names)
    assert full["map"] == pytest.approx(b["map"], abs=0.03)


def test_a_seeded_detector_run_is_the_same_with_and_without_the_cache(photos, tmp_path):
    runs = [_metrics(d, "fasterrcnn_mobilenet_v3_large_320_fpn", tmp_path / d.name,
                     ["epochs=2", "lr=0.02", "warmup_iters=1"]) for d in photos]
    for a, b in zip(*runs):
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=0.03)
        assert b["map"] == pytest.approx(a["map"], abs=0.02)
