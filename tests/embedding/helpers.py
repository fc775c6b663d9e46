"""Tiny generated classes for embedder tests: 64 px images, one coloured shape each,
tagged with its class and boxed (so both ``source=tags`` and ``source=boxes`` work)."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

CLASSES = ["circle", "square", "triangle"]
COLOURS = [(230, 40, 40), (40, 200, 40), (40, 80, 230)]


def shape_image(cls: int, rng: np.random.Generator, size: int = 64) -> tuple[np.ndarray, list]:
    img = rng.integers(0, 70, (size, size, 3), dtype=np.uint8)
    r = int(rng.integers(10, 16))
    cx, cy = (int(v) for v in rng.integers(r + 2, size - r - 2, 2))
    colour = COLOURS[cls]
    if cls == 0:
        cv2.circle(img, (cx, cy), r, colour, -1)
    elif cls == 1:
        cv2.rectangle(img, (cx - r, cy - r), (cx + r, cy + r), colour, -1)
    else:
        pts = np.array([[cx, cy - r], [cx - r, cy + r], [cx + r, cy + r]], np.int32)
        cv2.fillPoly(img, [pts], colour)
    return img, [cx - r, cy - r, 2 * r + 1, 2 * r + 1]


def make_classes_coco(root: Path, per_class: int = 6, seed: int = 0,
                      singleton: str | None = "lonely") -> Path:
    """COCO with ``kestrel_tags``: ``per_class`` images of each class, plus one image
    of a class that has a single example (it must be left out of training)."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    tags = CLASSES + ([singleton] if singleton else [])
    images, anns = [], []
    plan = [c for c in range(len(CLASSES)) for _ in range(per_class)]
    if singleton:
        plan.append(len(CLASSES))
    for i, cls in enumerate(plan):
        img, box = shape_image(min(cls, len(CLASSES) - 1), rng)
        name = f"{i:03d}.png"
        cv2.imwrite(str(root / "images" / name), img[..., ::-1])
        images.append({"id": i + 1, "file_name": name, "width": 64, "height": 64,
                       "kestrel_tags": [cls + 1]})
        anns.append({"id": i + 1, "image_id": i + 1, "category_id": min(cls, 2) + 1,
                     "bbox": box, "area": box[2] * box[3], "iscrowd": 0})
    doc = {"categories": [{"id": k + 1, "name": c} for k, c in enumerate(CLASSES)],
           "kestrel_tags": [{"id": k + 1, "name": t} for k, t in enumerate(tags)],
           "images": images, "annotations": anns}
    path = root / "annotations.json"
    path.write_text(json.dumps(doc))
    return path


TINY = ["epochs=1", "batch_size=6", "samples_per_class=2", "image_size=64",
        "embedding_size=16", "pretrained=none", "workers=0", "warmup_iters=1",
        "val_fraction=0.34", "photometric=false"]
