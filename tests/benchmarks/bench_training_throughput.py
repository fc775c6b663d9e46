"""Training throughput: our trainer (``run_train``: hooks, events, grad clipping,
grouped batches) vs a plain loop written like torchvision's
references/detection/engine.py, same model, data, batch, image size and device.

    python tests/benchmarks/bench_training_throughput.py [--images 48] [--rounds 2]

Gradient clipping is off by default here because the reference loop has none
(``--set grad_clip=10`` shows what our default clipping costs).
Steady-state images/s from the end of step 1 to the end of the last step; rounds
alternate (plain, ours, plain, ours) so a busy shared CPU hurts both alike.
Skips when the kangaroo data folder is absent.
"""
from __future__ import annotations

import argparse
import io
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from bench_training_kangaroo import DATA, voc_to_coco  # noqa: E402

TEMPLATE = "fasterrcnn_mobilenet_v2"


def settings(extra: list[str]) -> list[str]:
    from training.weights import cache_dir

    pretrained = "imagenet" if (cache_dir() / "mobilenet_v2-b0353104.pth").exists() else "none"
    return [f"pretrained={pretrained}", "epochs=1", "batch_size=4", "min_size=288",
            "max_size=480", "val_fraction=0", "workers=1", "warmup_iters=10", "seed=0",
            "aspect_grouping=false", "grad_clip=0"] + extra


def subset(coco: Path, n: int) -> Path:
    import json

    doc = json.loads(coco.read_text())
    doc["images"] = doc["images"][:n]
    keep = {i["id"] for i in doc["images"]}
    doc["annotations"] = [a for a in doc["annotations"] if a["image_id"] in keep]
    out = coco.with_name(f"subset{n}.json")
    out.write_text(json.dumps(doc))
    return out


def ours(coco: Path, overrides: list[str], run_dir: Path) -> float:
    from training.events import Emitter
    from training.run import TrainConfig, run_train
    from training.trainer import Hook

    class Clock(Hook):
        def after_step(self, trainer, images):
            if trainer.step == 1:
                self.t0, self.images = time.perf_counter(), 0
            else:
                self.images += images
                self.t1 = time.perf_counter()

    clock = Clock()
    rc = run_train(TrainConfig(coco, DATA / "images", TEMPLATE, run_dir, overrides,
                               extra_hooks=[clock]), Emitter(io.StringIO()))
    assert rc == 0
    return clock.images / (clock.t1 - clock.t0)


def plain(coco: Path, overrides: list[str]) -> float:
    """The reference loop (engine.py's train_one_epoch, single process)."""
    import torch

    from training import hparams as hpmod
    from training.data import DetectionDataset, collate, load_coco, make_transforms
    from training.run import lr_lambda, resolve_device, seed_everything
    from training.templates import get_template

    spec = get_template(TEMPLATE)
    hp = hpmod.parse_overrides(spec.hparams(), overrides)
    seed_everything(hp.seed)
    device = resolve_device("auto")
    data = load_coco(coco, DATA / "images")
    ds = DetectionDataset(data, DATA / "images", None, make_transforms(hp, True))
    model = spec.build(num_classes=len(data.class_names) + 1, hparams=hp).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=hp.lr, momentum=0.9, weight_decay=hp.weight_decay)
    loader = torch.utils.data.DataLoader(ds, batch_size=hp.batch_size, shuffle=True,
                                         num_workers=hp.workers, collate_fn=collate)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(hp, len(loader)))
    model.train()
    t0 = t1 = None
    images_done = 0
    for i, (images, targets) in enumerate(loader):
        images = list(image.to(device) for image in images)
        targets = [{k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in t.items()}
                   for t in targets]
        loss_dict = model(images, targets)
        losses = sum(loss for loss in loss_dict.values())
        loss_value = losses.item()
        if not math.isfinite(loss_value):
            raise RuntimeError(f"loss is {loss_value}")
        optimizer.zero_grad()
        losses.backward()
        optimizer.step()
        scheduler.step()
        logged = {k: v.item() for k, v in loss_dict.items()}  # MetricLogger.update  # noqa: F841
        if i == 0:
            t0 = time.perf_counter()
        else:
            images_done += len(images)
            t1 = time.perf_counter()
    return images_done / (t1 - t0)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=48)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--set", dest="extra", action="append", default=[],
                    help="more settings for both loops; e.g. grad_clip=10 (ours only clips)")
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"SKIP: {DATA} is absent")
        return 0
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        coco = subset(voc_to_coco(DATA, Path(tmp) / "k.json"), args.images)
        overrides = settings(args.extra)
        a, b = [], []
        for r in range(args.rounds):
            a.append(plain(coco, overrides))
            b.append(ours(coco, overrides, Path(tmp) / f"run{r}"))
            print(f"round {r}: plain {a[-1]:.2f} img/s, ours {b[-1]:.2f} img/s", flush=True)
    ratio = statistics.median(b) / statistics.median(a)
    print(f"{TEMPLATE}, {overrides}, device {'cuda' if torch.cuda.is_available() else 'cpu'}, "
          f"torch threads {torch.get_num_threads()}")
    print(f"median images/s: plain loop {statistics.median(a):.2f}, ours "
          f"{statistics.median(b):.2f}; ratio ours/plain {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
