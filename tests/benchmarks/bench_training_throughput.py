"""Training throughput: Kestrel's trainer vs a plain loop written like torchvision's
references/detection (``train_one_epoch``), same model, data, batch, input size,
device, augmentation and data workers; rounds alternate (plain, Kestrel, plain, ...)
so a busy shared CPU hurts both alike.

    python tests/benchmarks/bench_training_throughput.py [--data photos,small]
        [--templates ssdlite320_mobilenet_v3_large,fasterrcnn_mobilenet_v2]
        [--images 32] [--rounds 3] [--augment flip|default] [--set key=value ...]

Data (generated, tests/benchmarks/photo_data.py): "photos" are 12-megapixel JPEGs as
phones take them, "small" 640x480 JPEGs; a quarter are portrait. The plain loop reads
the originals every epoch, as users' loops do (Pillow, whole image, the model's own
resize). Kestrel reads its run's dataset as the app exports it: hard links to the
originals, large photos replaced by training-size copies from the project's image
cache (app.runs.image_cache; its one-time cost is printed). Steady-state images/s
from the end of step 1 to the end of the last step. Gradient clipping is off on both
sides (the reference loop has none). On a CUDA machine Kestrel's rounds also print the
GPU utilisation (nvidia-smi, sampled every 0.1 s), e.g. ``--data photos --templates
fasterrcnn_mobilenet_v3_large_fpn --set batch_size=16 --images 128``.
"""
from __future__ import annotations

import argparse
import io
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from photo_data import PHOTO, SMALL, make_photos, subset  # noqa: E402

TEMPLATES = ["ssdlite320_mobilenet_v3_large", "fasterrcnn_mobilenet_v2"]
FLIP_ONLY = ["hflip=0.5", "photometric=false", "scale_jitter=0"]


def settings(template: str, augment: str, extra: list[str]) -> list[str]:
    from training.weights import cache_dir

    pretrained = "none"
    if template == "fasterrcnn_mobilenet_v2" and (cache_dir() / "mobilenet_v2-b0353104.pth").exists():
        pretrained = "imagenet"
    return ([f"pretrained={pretrained}", "epochs=1", "batch_size=4", "val_fraction=0",
             "warmup_iters=10", "seed=0", "grad_clip=0"]
            + (FLIP_ONLY if augment == "flip" else []) + extra)


def run_dataset(coco: Path, out: Path, template: str, overrides: list[str]) -> Path:
    """The dataset as ``prepare_run`` leaves it: images hard-linked, then reduced."""
    from app.runs.image_cache import shrink_dataset
    from training.sizing import run_input_fit

    if out.exists():
        shutil.rmtree(out)
    (out / "images").mkdir(parents=True)
    shutil.copy(coco, out / "annotations.json")
    for f in (coco.parent / "images").iterdir():
        os.link(f, out / "images" / f.name)
    fit = run_input_fit(template, dict(o.split("=", 1) for o in overrides))
    t0 = time.perf_counter()
    counts = shrink_dataset(out, fit, out.parent / "image-cache")
    print(f"  run dataset: {counts}, {time.perf_counter() - t0:.1f} s "
          f"(once per project and size)", flush=True)
    return out / "annotations.json"


class GpuUtilisation:
    """Mean GPU utilisation (%) sampled every 0.1 s while running (nvidia-smi)."""

    def __init__(self):
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            try:
                out = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu",
                                      "--format=csv,noheader,nounits", "-i", "0"],
                                     capture_output=True, text=True, timeout=5).stdout
                self.samples.append(float(out.split()[0]))
            except (OSError, ValueError, IndexError, subprocess.SubprocessError):
                return

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> float | None:
        self._stop.set()
        self._thread.join()
        return statistics.mean(self.samples) if self.samples else None


def kestrel(coco: Path, template: str, overrides: list[str], run_dir: Path,
            gpu: list | None = None) -> float:
    import torch

    from training.events import Emitter
    from training.run import TrainConfig, run_train
    from training.trainer import Hook

    class Clock(Hook):
        util = None

        def after_step(self, trainer, images):
            if trainer.step == 1:
                self.t0, self.images = time.perf_counter(), 0
                if torch.cuda.is_available():
                    self.util = GpuUtilisation()
                    self.util.start()
            else:
                self.images += images
                self.t1 = time.perf_counter()

    clock = Clock()
    sink = io.StringIO()
    rc = run_train(TrainConfig(coco, coco.parent / "images", template, run_dir, overrides,
                               extra_hooks=[clock]), Emitter(sink))
    assert rc == 0, sink.getvalue()[-2000:]
    if clock.util is not None and gpu is not None:
        gpu.append(clock.util.stop())
    return clock.images / (clock.t1 - clock.t0)


def plain(coco: Path, template: str, overrides: list[str], workers: int) -> float:
    """The reference loop (engine.py's train_one_epoch, single process): the dataset
    decodes each original whole and the model resizes it."""
    import torch

    from training import hparams as hpmod
    from training.data import DetectionDataset, collate, load_coco, make_transforms
    from training.run import lr_lambda, resolve_device, seed_everything
    from training.templates import get_template

    spec = get_template(template)
    hp = hpmod.parse_overrides(spec.hparams(), overrides)
    seed_everything(hp.seed)
    device = resolve_device("auto")
    root = coco.parent / "images"
    data = load_coco(coco, root)
    ds = DetectionDataset(data, root, None, make_transforms(hp, True))
    model = spec.build(num_classes=len(data.class_names) + 1, hparams=hp).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=hp.lr, momentum=0.9, weight_decay=hp.weight_decay)
    loader = torch.utils.data.DataLoader(ds, batch_size=hp.batch_size, shuffle=True,
                                         num_workers=workers, collate_fn=collate)
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
    ap.add_argument("--data", default="photos,small")
    ap.add_argument("--templates", default=",".join(TEMPLATES))
    ap.add_argument("--images", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--augment", choices=("flip", "default"), default="flip",
                    help="flip: horizontal flip only; default: the template's augmentation")
    ap.add_argument("--set", dest="extra", action="append", default=[],
                    help="more settings for both loops, e.g. min_size=288")
    ap.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "kestrel-bench")
    args = ap.parse_args()
    import torch

    from training.loading import resolve_workers

    workers = resolve_workers(-1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.data.split(","):
            size = {"photos": PHOTO, "small": SMALL}[kind]
            source = make_photos(args.data_dir / kind, max(args.images, 32), size)
            (Path(tmp) / kind).mkdir()
            os.symlink(source.parent / "images", Path(tmp) / kind / "images")
            coco = subset(source, args.images, Path(tmp) / kind / "annotations.json")
            for template in args.templates.split(","):
                overrides = settings(template, args.augment, args.extra)
                print(f"{template} on {args.images} {kind} {size[0]}x{size[1]}: {overrides}",
                      flush=True)
                ours_coco = run_dataset(coco, Path(tmp) / f"run-{kind}-{template}", template,
                                        overrides + [f"workers={workers}"])
                a, b, gpu = [], [], []
                for r in range(args.rounds):
                    a.append(plain(coco, template, overrides, workers))
                    b.append(kestrel(ours_coco, template, overrides + ["workers=-1"],
                                     Path(tmp) / f"ckpt{r}", gpu))
                    util = f", GPU utilisation {gpu[-1]:.0f}%" if gpu and gpu[-1] else ""
                    print(f"  round {r}: plain {a[-1]:.2f} img/s, Kestrel {b[-1]:.2f} img/s"
                          f"{util}", flush=True)
                ratio = statistics.median(b) / statistics.median(a)
                rows.append((template, kind, statistics.median(a), statistics.median(b), ratio))
                print(f"  median: plain {rows[-1][2]:.2f}, Kestrel {rows[-1][3]:.2f} img/s; "
                      f"ratio {ratio:.2f}x", flush=True)
    print(f"\ndevice {'cuda' if torch.cuda.is_available() else 'cpu'}, torch threads "
          f"{torch.get_num_threads()}, data workers {workers}, augmentation {args.augment}")
    print("| template | data | plain img/s | Kestrel img/s | ratio |\n| --- | --- | ---: | ---: | ---: |")
    for t, k, a, b, r in rows:
        print(f"| {t} | {k} | {a:.2f} | {b:.2f} | **{r:.2f}x** |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
