"""Embedder quality: precision@1 (leave-one-out, cosine) on held-out crops, before
(pretrained ImageNet MobileNetV2 backbone alone) and after fine-tuning the
``embed_mobilenet_v2`` template through ``python -m training train``'s code path.

1. shapes: crops of generated circles / squares / triangles (resources/demo_data.py;
   random colours and backgrounds, so the shape is the class): 200 training pictures
   (about 640 crops) and 100 test pictures (about 310 crops) from another seed;
2. kangaroo: kangaroo boxes vs random background crops of /work/shared/data/kangaroo-voc
   (skipped when absent), split by photo.

Needs ImageNet MobileNetV2 weights in the torch hub cache (`python -m training weights
import mobilenet_v2-b0353104.pth`). Run: ``python tests/benchmarks/bench_embedding_quality.py
[--only shapes] [--set KEY=VALUE ...] [--epochs N]``: ``--set`` adds to the fine-tuning
settings (``--set frozen_stages=7``), ``--epochs`` replaces both data sets' epochs.
"after" is given for ``best.pt`` (the epoch with the best validation precision@1, the
checkpoint the app uses) and for ``last.pt``.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from training.embedding.inference import Embedder  # noqa: E402
from training.embedding.metrics import retrieval_metrics  # noqa: E402
from training.events import Emitter  # noqa: E402
from training.run import TrainConfig, run_train  # noqa: E402

# beside the main checkout, or the shared folder as seen from a worktree
CANDIDATES = [Path(__file__).resolve().parents[3] / "shared" / "data" / "kangaroo-voc",
              Path("/work/shared/data/kangaroo-voc")]
KANGAROO = next((p for p in CANDIDATES if p.is_dir()), CANDIDATES[0])
TEMPLATE = "embed_mobilenet_v2"
SIZE = 96


def shapes_items(folder: Path, n: int, seed: int) -> list[tuple[str, tuple, str]]:
    from app.shell.demo import make_image

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for i in range(n):
        img, shapes, _ = make_image(rng)
        path = folder / f"s{seed}_{i:03d}.png"
        cv2.imwrite(str(path), img)
        items += [(str(path), box, cls) for cls, box in shapes
                  if box[2] - box[0] >= 8 and box[3] - box[1] >= 8]
    return items


def kangaroo_items(seed: int = 0) -> tuple[list, list]:
    rng = np.random.default_rng(seed)
    files = sorted((KANGAROO / "annots").glob("*.xml"))
    rng.shuffle(files)
    split = int(len(files) * 0.7)
    out: list[list] = [[], []]
    for part, chunk in enumerate((files[:split], files[split:])):
        for xml in chunk:
            root = ET.parse(xml).getroot()
            img = KANGAROO / "images" / root.findtext("filename")
            if not img.is_file():
                continue
            w, h = int(root.findtext("size/width")), int(root.findtext("size/height"))
            boxes = [tuple(float(o.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax"))
                     for o in root.findall("object")]
            out[part] += [(str(img), b, "kangaroo") for b in boxes]
            bg = _background_box(rng, w, h, boxes)
            if bg is not None:
                out[part].append((str(img), bg, "background"))
    return out[0], out[1]


def _background_box(rng, w, h, boxes):
    """A random crop (a fifth to a half of the picture) that overlaps no kangaroo much."""
    for _ in range(50):
        bw, bh = (int(rng.uniform(0.2, 0.5) * s) for s in (w, h))
        x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
        inter = sum(max(0, min(x + bw, b[2]) - max(x, b[0])) * max(0, min(y + bh, b[3]) - max(y, b[1]))
                    for b in boxes)
        if inter < 0.1 * bw * bh:
            return (x, y, x + bw, y + bh)
    return None


def write_coco(items, path: Path) -> Path:
    names = sorted({c for _, _, c in items})
    files = sorted({f for f, _, _ in items})
    ids = {f: i + 1 for i, f in enumerate(files)}
    images = []
    for f in files:
        h, w = cv2.imread(f).shape[:2]
        images.append({"id": ids[f], "file_name": f, "width": w, "height": h})
    anns = [{"id": i + 1, "image_id": ids[f], "category_id": names.index(c) + 1,
             "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]], "area": 1, "iscrowd": 0}
            for i, (f, b, c) in enumerate(items)]
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories":
                                [{"id": i + 1, "name": n} for i, n in enumerate(names)]}))
    return path


def precision_at_1(embedder: Embedder, items) -> float:
    cache: dict[str, np.ndarray] = {}
    crops = []
    for f, box, _ in items:
        if f not in cache:
            cache[f] = cv2.imread(f)[..., ::-1].copy()
        crops += embedder.crops(cache[f], [box])
    vectors = embedder.embed(crops)
    names = sorted({c for _, _, c in items})
    labels = np.asarray([names.index(c) for _, _, c in items])
    return retrieval_metrics(vectors, labels)["precision_at_1"]


def fine_tune(train, folder: Path, epochs: int, extra=()) -> tuple[Path, float]:
    folder.mkdir(parents=True, exist_ok=True)
    coco = write_coco(train, folder / "train.json")
    sets = [f"image_size={SIZE}", "source=boxes", f"epochs={epochs}", "batch_size=32",
            "samples_per_class=8", "lr=3e-4", "warmup_iters=5", "val_fraction=0.15",
            "workers=0", "embedding_size=128", *extra]
    sink = io.StringIO()
    t = time.perf_counter()
    rc = run_train(TrainConfig(coco, Path("/"), TEMPLATE, folder / "run", sets,
                                        device="cpu"), Emitter(sink))
    events = [json.loads(line) for line in sink.getvalue().splitlines()]
    if rc != 0:
        raise SystemExit(events[-1]["message"])
    return folder / "run", time.perf_counter() - t


def report(name: str, train, test, folder: Path, epochs: int, extra=()) -> None:
    base = Embedder.pretrained(TEMPLATE, SIZE)
    before = precision_at_1(base, test)
    run, seconds = fine_tune(train, folder, epochs, extra)
    best = precision_at_1(Embedder(run / "best.pt"), test)
    last = precision_at_1(Embedder(run / "last.pt"), test)
    counts = {c: sum(1 for *_, k in test if k == c) for c in sorted({c for *_, c in test})}
    print(f"{name}: {len(train)} training crops, test {counts}; precision@1 "
          f"pretrained backbone {before:.3f} -> fine-tuned best.pt {best:.3f}, "
          f"last.pt {last:.3f} ({epochs} epochs, {seconds:.0f} s; {' '.join(extra)})",
          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=("shapes", "kangaroo"))
    ap.add_argument("--set", dest="extra", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--epochs", type=int)
    args = ap.parse_args()
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.only != "kangaroo":
            report("shapes", shapes_items(tmp / "shapes", 200, 0),
                   shapes_items(tmp / "shapes", 100, 1), tmp / "a", args.epochs or 8, args.extra)
        if args.only == "shapes":
            pass
        elif KANGAROO.is_dir():
            train, test = kangaroo_items()
            report("kangaroo", train, test, tmp / "b", args.epochs or 6, args.extra)
        else:
            print(f"kangaroo: skipped ({KANGAROO} is absent)")
    print(f"total {time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
