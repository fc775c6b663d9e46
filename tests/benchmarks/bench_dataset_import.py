"""``kestrel import`` of a labelled dataset: 10,000 JPEGs with 200,000 boxes in COCO, VOC
and YOLO, each imported into a fresh project with no flags (detection, image
resolution, probing, one transaction). Prints seconds per format.

Run: python tests/benchmarks/bench_dataset_import.py [n_images] [--keep DIR]
(``--keep DIR`` generates the datasets once into DIR and reuses them on later runs.)
"""

from __future__ import annotations

import contextlib
import io
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.store.formats import (LabelBox, LabelImage, LabelSet, write_coco,  # noqa: E402
                               write_voc, write_yolo)
from app.shell.cli import main as kestrel  # noqa: E402

W, H = 320, 240


def make_labels(n_images: int, n_boxes: int = 20) -> LabelSet:
    rng = random.Random(0)
    cats = [f"class_{i}" for i in range(10)]
    images = []
    for i in range(n_images):
        boxes = []
        for _ in range(n_boxes):
            x1, y1 = rng.uniform(0, W - 50), rng.uniform(0, H - 50)
            boxes.append(LabelBox(rng.choice(cats), round(x1, 2), round(y1, 2),
                                  round(x1 + rng.uniform(2, 50), 2), round(y1 + rng.uniform(2, 50), 2)))
        images.append(LabelImage(f"img_{i:05d}.jpg", W, H, boxes))
    return LabelSet(cats, [], images)


def make_datasets(root: Path, n: int) -> None:
    import numpy as np
    from PIL import Image

    ls = make_labels(n)
    pixels = root / "pixels"
    pixels.mkdir(parents=True)
    rng = np.random.default_rng(0)
    tiles = [Image.fromarray(rng.integers(0, 255, (H, W, 3), dtype=np.uint8)) for _ in range(8)]
    for i, im in enumerate(ls.images):
        tiles[i % 8].save(pixels / im.file_name, quality=85)
    for fmt, image_dir in (("coco", "images"), ("voc", "JPEGImages"), ("yolo", "images")):
        out = root / fmt
        (out / image_dir).mkdir(parents=True)
        for im in ls.images:  # hard links: one copy of the pixels for all three
            os.link(pixels / im.file_name, out / image_dir / im.file_name)
    write_coco(ls, root / "coco" / "annotations.json")
    write_voc(ls, root / "voc")
    write_yolo(ls, root / "yolo")


def main() -> None:
    args = sys.argv[1:]
    keep = None
    if "--keep" in args:
        keep = Path(args[args.index("--keep") + 1])
        del args[args.index("--keep"):args.index("--keep") + 2]
    n = int(args[0]) if args else 10_000
    print(f"{n} images x 20 boxes; Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        data = keep or Path(tmp) / "data"
        if not (data / "yolo" / "data.yaml").is_file():
            t = time.perf_counter()
            make_datasets(data, n)
            print(f"generated the datasets in {time.perf_counter() - t:.1f} s")
        for fmt in ("coco", "voc", "yolo"):
            project = Path(tmp) / f"p_{fmt}"
            kestrel(["new", str(project)])
            out = io.StringIO()
            t = time.perf_counter()
            with contextlib.redirect_stdout(out):
                code = kestrel(["import", str(project), str(data / fmt)])
            took = time.perf_counter() - t
            from app.store.project import Project

            with Project.open(project) as p:
                info = p.info()
            assert code == 0 and info["images"] == n and info["boxes"] == 20 * n, (code, info, out.getvalue())
            print(f"import {fmt:5s}: {took:6.2f} s  ({info['images']} images, {info['boxes']} boxes)")


if __name__ == "__main__":
    main()
