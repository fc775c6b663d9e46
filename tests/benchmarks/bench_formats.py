"""Write + read 10,000 images x 20 boxes in COCO, VOC and YOLO; prints seconds and sizes.

Run: python tests/benchmarks/bench_formats.py [n_images]
"""

from __future__ import annotations

import platform
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.store.formats import (LabelBox, LabelImage, LabelSet, read_coco, read_voc,  # noqa: E402
                               read_yolo, write_coco, write_voc, write_yolo)

W, H = 1280, 720


def make(n_images: int, n_boxes: int = 20) -> LabelSet:
    rng = random.Random(0)
    cats = [f"class {i}" for i in range(10)]
    images = []
    for i in range(n_images):
        boxes = []
        for _ in range(n_boxes):
            x1, y1 = rng.uniform(0, W - 50), rng.uniform(0, H - 50)
            x2, y2 = x1 + rng.uniform(1, 50), y1 + rng.uniform(1, 50)
            boxes.append(LabelBox(rng.choice(cats), *(round(v, 2) for v in (x1, y1, x2, y2))))
        images.append(LabelImage(f"cam{i % 10}/frame {i:06d}.jpg", W, H, boxes))
    return LabelSet(cats, [], images)


def size_mb(p: Path) -> float:
    files = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()]
    return sum(f.stat().st_size for f in files) / 1e6


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    ls = make(n)
    print(f"{n} images x 20 boxes = {ls.box_count()} boxes; Python {platform.python_version()}, "
          f"{platform.machine()}")
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        # YOLO reads need the images to exist; empty stand-ins, probed by a fixed-size prober
        for im in ls.images:
            (d / "yolo/images" / im.file_name).parent.mkdir(parents=True, exist_ok=True)
            (d / "yolo/images" / im.file_name).touch()
        cases = [("coco", d / "c.json", write_coco, read_coco),
                 ("voc", d / "voc", write_voc, read_voc),
                 ("yolo", d / "yolo", write_yolo, lambda p: read_yolo(p, lambda _: (W, H)))]
        for name, out, write, read in cases:
            t0 = time.perf_counter()
            write(ls, out)
            t1 = time.perf_counter()
            back = read(out)
            t2 = time.perf_counter()
            assert len(back.images) == n and back.box_count() == ls.box_count()
            print(f"{name:5s} write {t1 - t0:6.2f} s   read {t2 - t1:6.2f} s   "
                  f"{size_mb(out):7.1f} MB")


if __name__ == "__main__":
    main()
