"""Store benchmarks: import of 10,000 generated images, export of 10,000 images with
20 boxes each (COCO, VOC, YOLO). Run on demand: ``python tests/benchmarks/bench_store.py``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from app.store.exporter import export_project  # noqa: E402
from app.store.project import Project  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000


def make_images(folder: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    tiles = [Image.fromarray(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)) for _ in range(8)]
    for i in range(n):
        sub = folder / f"batch_{i // 1000:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        tiles[i % 8].save(sub / f"img_{i:05d}.jpg", quality=85)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        make_images(tmp / "photos", N)
        print(f"generated {N} 320x240 JPEGs in {time.perf_counter() - t:.1f} s")

        project = Project.create(tmp / "proj")
        t = time.perf_counter()
        report = project.media.import_files([tmp / "photos"])
        took = time.perf_counter() - t
        print(f"import {len(report.added)} images: {took:.2f} s ({len(report.added) / took:.0f} images/s)")

        rng = np.random.default_rng(1)
        classes = [project.classes.add(f"class_{k}") for k in range(5)]
        t = time.perf_counter()
        with project.transaction():
            for media_id in report.added:
                xy = rng.uniform(0, 200, size=(20, 2))
                wh = rng.uniform(5, 100, size=(20, 2))
                project.boxes.add(
                    dict(media_id=media_id, class_id=classes[j % 5], x1=x, y1=y,
                         x2=min(320, x + w), y2=min(240, y + h))
                    for j, ((x, y), (w, h)) in enumerate(zip(xy, wh)))
        print(f"insert {20 * N} boxes in one transaction: {time.perf_counter() - t:.2f} s")

        for fmt in ("coco", "voc", "yolo"):
            t = time.perf_counter()
            counts = export_project(project, tmp / f"out_{fmt}", fmt, link_images=True)
            print(f"export {fmt}: {counts['images']} images, {counts['boxes']} boxes "
                  f"(images hard-linked): {time.perf_counter() - t:.2f} s")
        project.close()


if __name__ == "__main__":
    main()
