"""Generated "photos" for the speed benchmarks: JPEGs that decode like a camera's
(smooth scene, objects, sensor-like noise: ~1.7 MB at 12 MP, ~150 ms to decode on
the benchmark machine), with one to three boxed objects of two classes, a quarter of
them portrait, and a COCO file. Written once per folder and reused."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

PHOTO = (4000, 3000)      # 12 megapixels
SMALL = (640, 480)
CLASSES = ["box", "disc"]


def _picture(w: int, h: int, rng: np.random.Generator) -> tuple[np.ndarray, list]:
    low = rng.integers(40, 215, (6, 8, 3)).astype(np.float32)
    img = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)
    boxes = []
    for _ in range(int(rng.integers(1, 4))):
        bw, bh = int(w * rng.uniform(0.1, 0.35)), int(h * rng.uniform(0.1, 0.35))
        x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
        colour = tuple(float(c) for c in rng.integers(0, 255, 3))
        cat = int(rng.integers(1, 3))
        if cat == 1:
            cv2.rectangle(img, (x, y), (x + bw, y + bh), colour, -1)
        else:
            cv2.ellipse(img, (x + bw // 2, y + bh // 2), (bw // 2, bh // 2), 0, 0, 360, colour, -1)
        boxes.append((cat, [x, y, bw, bh]))
    noise = rng.normal(0, 6, (h // 2, w // 2, 3)).astype(np.float32)
    img += cv2.resize(noise, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(img, 0, 255).astype(np.uint8), boxes


def make_photos(folder: Path, n: int, size: tuple[int, int] = PHOTO, seed: int = 0) -> Path:
    """``folder/images/*.jpg`` and ``folder/annotations.json``; kept if already there."""
    coco = folder / "annotations.json"
    if coco.is_file() and len(json.loads(coco.read_text())["images"]) == n:
        return coco
    rng = np.random.default_rng(seed)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    images, anns = [], []
    for i in range(n):
        w, h = size if i % 4 else size[::-1]
        pixels, boxes = _picture(w, h, rng)
        name = f"{i:05d}.jpg"
        Image.fromarray(pixels).save(folder / "images" / name, quality=90)
        images.append({"id": i + 1, "file_name": name, "width": w, "height": h})
        for cat, bbox in boxes:
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": cat,
                         "bbox": bbox, "area": bbox[2] * bbox[3], "iscrowd": 0})
    coco.write_text(json.dumps({"images": images, "annotations": anns, "categories":
                                [{"id": k + 1, "name": c} for k, c in enumerate(CLASSES)]}))
    return coco


def subset(coco: Path, n: int, out: Path) -> Path:
    doc = json.loads(coco.read_text())
    doc["images"] = doc["images"][:n]
    keep = {i["id"] for i in doc["images"]}
    doc["annotations"] = [a for a in doc["annotations"] if a["image_id"] in keep]
    out.write_text(json.dumps(doc))
    return out


def variants(src: Path, n: int, out: Path) -> list[Path]:
    """``n`` distinct files made from the JPEGs in ``src`` (a comment segment makes each
    one's bytes, and so its hash, unique; decoding costs the same)."""
    out.mkdir(parents=True, exist_ok=True)
    sources = sorted(src.glob("*.jpg"))
    files = []
    for i in range(n):
        target = out / f"v{i:05d}.jpg"
        if not target.is_file():
            data = sources[i % len(sources)].read_bytes()
            text = f"variant {i}".encode()
            comment = b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text
            target.write_bytes(data[:2] + comment + data[2:])
        files.append(target)
    return files
