"""Validation speed: the trainer's evaluation today vs before the image cache, side
by side, rounds alternating (before, now, before, now) on one model.

    python tests/benchmarks/bench_validation_speed.py [--data photos,small]
        [--templates ssdlite320_mobilenet_v3_large,fasterrcnn_mobilenet_v2]
        [--images 200] [--rounds 2]

"Before" is the previous code path, kept here as the reference: the whole original
decoded and made float in the loader (default two workers, started again at every
evaluation), batches in dataset order, the model's own resize. "Now" is what a run
builds (DetectionRecipe.build_evaluator) on its dataset as the app exports it
(training-size copies from the image cache; JPEG draft mode where there are none),
persistent workers sized from the cores, batches of one shape. Both end in the same
COCOeval on the same predictions in original pixels (mAP printed to show it).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from bench_training_throughput import run_dataset, settings  # noqa: E402
from photo_data import PHOTO, SMALL, make_photos, subset  # noqa: E402

TEMPLATES = ["ssdlite320_mobilenet_v3_large", "fasterrcnn_mobilenet_v2"]


def before(coco_path: Path, hp, device):
    """The evaluation as it was: training.engine.evaluate over a whole-image loader."""
    import torch

    from training.data import (DetectionDataset, coco_ground_truth, collate, load_coco,
                               make_transforms, worker_init)
    from training.engine import evaluate

    root = coco_path.parent / "images"
    coco = load_coco(coco_path, root)
    idx = list(range(len(coco.images)))
    ds = DetectionDataset(coco, root, idx, make_transforms(hp, False))
    loader = torch.utils.data.DataLoader(
        ds, batch_size=hp.batch_size, num_workers=2, collate_fn=collate, pin_memory=False,
        worker_init_fn=worker_init, generator=torch.Generator().manual_seed(hp.seed))
    gt = coco_ground_truth(coco, idx)
    return lambda model: evaluate(model, loader, device, gt, coco.class_names)


def now(coco_path: Path, template: str, hp, device):
    from training.detection.recipe import DetectionRecipe
    from training.loading import resolve_workers

    recipe = DetectionRecipe()
    cfg = SimpleNamespace(coco=coco_path, images=coco_path.parent / "images", template=template)
    data = recipe.build_data(cfg, hp, device)
    data.val_indices = list(range(len(data.source.images)))   # all of them validate here
    return recipe.build_evaluator(data, hp, device, False, resolve_workers(-1))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="photos,small")
    ap.add_argument("--templates", default=",".join(TEMPLATES))
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "kestrel-bench")
    args = ap.parse_args()
    import torch

    from training import hparams as hpmod
    from training.run import resolve_device, seed_everything
    from training.templates import get_template

    device = resolve_device("auto")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.data.split(","):
            size = {"photos": PHOTO, "small": SMALL}[kind]
            source = make_photos(args.data_dir / kind, args.images, size)
            (Path(tmp) / kind).mkdir()
            os.symlink(source.parent / "images", Path(tmp) / kind / "images")
            coco = subset(source, args.images, Path(tmp) / kind / "annotations.json")
            for template in args.templates.split(","):
                spec = get_template(template)
                overrides = settings(template, "flip", [])
                hp = hpmod.parse_overrides(spec.hparams(), overrides)
                print(f"{template}, validation of {args.images} {kind} {size[0]}x{size[1]}",
                      flush=True)
                ours = run_dataset(coco, Path(tmp) / f"run-{kind}-{template}", template, overrides)
                seed_everything(0)
                model = spec.build(num_classes=3, hparams=hp).to(device).eval()
                a, b = [], []
                # built once, as a run does; evaluated once per round (a run: per epoch)
                pair = ((a, before(coco, hp, device)), (b, now(ours, template, hp, device)))
                for r in range(args.rounds):
                    for times, evaluate in pair:
                        t0 = time.perf_counter()
                        m = evaluate(model)
                        times.append(time.perf_counter() - t0)
                        print(f"  round {r} {'before' if times is a else 'now'}: "
                              f"{times[-1]:.1f} s, mAP50 {m['map50']:.4f}", flush=True)
                ratio = statistics.median(a) / statistics.median(b)
                rows.append((template, kind, statistics.median(a), statistics.median(b), ratio))
                print(f"  median before {rows[-1][2]:.1f} s, now {rows[-1][3]:.1f} s: "
                      f"{ratio:.2f}x faster", flush=True)
                shutil.rmtree(Path(tmp) / f"run-{kind}-{template}")
    print(f"\ndevice {device}, torch threads {torch.get_num_threads()}")
    print("| template | data | before s | now s | speed-up |\n| --- | --- | ---: | ---: | ---: |")
    for t, k, a, b, r in rows:
        print(f"| {t} | {k} | {a:.1f} | {b:.1f} | **{r:.2f}x** |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
