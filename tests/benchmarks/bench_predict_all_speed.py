"""*Predict all* speed: ``app.predictions.core.predict_items`` now vs the previous code
path (kept here as the reference), side by side on one model and project.

    python tests/benchmarks/bench_predict_all_speed.py [--data photos,small]
        [--template ssdlite320_mobilenet_v3_large] [--images 1000] [--chunk 100]

The project holds ``--images`` distinct JPEG files (generated photos: 12 MP or
640x480, each file's bytes unique). Each path predicts every image once into its own
run; they alternate chunk by chunk (before on chunk 1, now on chunk 1, before on
chunk 2, ...) so a busy shared CPU hurts both alike. "Before": each image decoded
whole on the calling thread, four at a time through the Predictor as it was (the
model as the checkpoint builds it: batch norm not folded, NCHW; float tensors of the
whole image, the model's resize), one transaction per image. "Now": the Predictor
(batch norm folded, channels-last), JPEG draft mode at the model's input size,
batches of one shape (read a batch ahead on an accelerator), one transaction per batch.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from photo_data import CLASSES, PHOTO, SMALL, make_photos, variants  # noqa: E402


def checkpoint(run_dir: Path, template: str) -> Path:
    """A detector checkpoint of the template (seeded random weights)."""
    import torch

    from training import hparams as hpmod
    from training.checkpoint import save_checkpoint
    from training.templates import get_template

    spec = get_template(template)
    hp = hpmod.parse_overrides(spec.hparams(), ["pretrained=none"])
    torch.manual_seed(0)
    model = spec.build(num_classes=len(CLASSES) + 1, hparams=hp)
    return save_checkpoint(run_dir / "best.pt", {
        "template": template, "hparams": hpmod.to_dict(hp), "class_names": CLASSES,
        "category_ids": [1, 2], "model": model.state_dict(), "epoch": 1, "step": 0})


def model_as_it_was(checkpoint_path, device):
    """The Predictor's model as it was before: built from the checkpoint, batch norm
    not folded, default (NCHW) layout."""
    from training.checkpoint import load_detector_checkpoint
    from training.predictor import build_from_checkpoint

    model = build_from_checkpoint(load_detector_checkpoint(checkpoint_path))
    return model.to(device).eval()


def before_items(project, run_id, predictor, model, items, batch_size=4) -> int:
    """predict_items, read_frame and Predictor.predict as they were; ``model`` from
    model_as_it_was."""
    import torch
    from PIL import Image, ImageOps

    from app.predictions.core import class_ids_for, to_rows
    from training.predictor import Detections

    def read_frame(media_id):
        with Image.open(project.media.path(project.media.get(media_id))) as im:
            return np.array(ImageOps.exif_transpose(im).convert("RGB"))

    @torch.inference_mode()
    def predict(frames):
        out = []
        batch = [torch.from_numpy(np.ascontiguousarray(f)).to(predictor.device)
                 .permute(2, 0, 1).float() / 255.0 for f in frames]
        for pred in model(batch):
            keep = pred["scores"] >= predictor.score_threshold
            out.append(Detections(pred["boxes"][keep].float().cpu().numpy().astype(np.float32),
                                  (pred["labels"][keep].cpu().numpy() - 1).astype(np.int64),
                                  pred["scores"][keep].float().cpu().numpy().astype(np.float32),
                                  predictor.class_names))
        return out

    items = [i for i in items if not project.predictions.has(run_id, *i)]
    class_ids = class_ids_for(project, list(predictor.class_names))
    for start in range(0, len(items), batch_size):
        chunk = items[start:start + batch_size]
        frames = [read_frame(m) for m, _f in chunk]
        for (media_id, frame), det in zip(chunk, predict(frames)):
            project.predictions.store(run_id, media_id, frame, to_rows(det, class_ids))
    return len(items)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="photos,small")
    ap.add_argument("--template", default="ssdlite320_mobilenet_v3_large")
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--chunk", type=int, default=100)
    ap.add_argument("--score", type=float, default=0.05, help="as the window's model")
    ap.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "kestrel-bench")
    args = ap.parse_args()
    import torch

    from app.predictions.core import all_items, load_model, predict_items
    from app.store.project import Project

    rows = []
    for kind in args.data.split(","):
        size = {"photos": PHOTO, "small": SMALL}[kind]
        make_photos(args.data_dir / kind, 200, size)
        files = variants(args.data_dir / kind / "images", args.images,
                         args.data_dir / f"predict-{kind}")
        with tempfile.TemporaryDirectory() as tmp:
            project = Project.create(Path(tmp) / "proj")
            project.media.import_files(files)
            runs = []
            for name in ("before", "now"):
                run_dir = Path(tmp) / "proj" / "runs" / name
                checkpoint(run_dir, args.template)
                runs.append(project.runs.add(name=name, task="detector", template=args.template,
                                             run_dir=project.stored_path(run_dir)))
            predictor = load_model(project, runs[0], "auto", args.score)
            old_model = model_as_it_was(Path(tmp) / "proj" / "runs" / "before" / "best.pt",
                                        predictor.device)
            items = all_items(project)
            print(f"{args.template}, Predict all over {len(items)} {kind} {size[0]}x{size[1]}",
                  flush=True)
            a, b = [], []
            for start in range(0, len(items), args.chunk):
                chunk = items[start:start + args.chunk]
                t0 = time.perf_counter()
                before_items(project, runs[0], predictor, old_model, chunk)
                t1 = time.perf_counter()
                predict_items(project, runs[1], predictor, chunk)
                t2 = time.perf_counter()
                a.append(t1 - t0)
                b.append(t2 - t1)
                print(f"  images {start}-{start + len(chunk) - 1}: before {a[-1]:.1f} s, "
                      f"now {b[-1]:.1f} s", flush=True)
            boxes = [sum(len(project.predictions.boxes(r, m)) for m, _f in items[:50])
                     for r in runs]
            project.close()
        ratio = sum(a) / sum(b)
        rows.append((kind, sum(a), sum(b), ratio, statistics.median(x / y for x, y in zip(a, b))))
        print(f"  total before {sum(a):.0f} s, now {sum(b):.0f} s: {ratio:.2f}x faster "
              f"(boxes on the first 50: {boxes[0]} before, {boxes[1]} now)", flush=True)
    print(f"\ndevice {predictor.device}, torch threads {torch.get_num_threads()}")
    print("| data | before s | now s | speed-up (total) | median of chunks |\n"
          "| --- | ---: | ---: | ---: | ---: |")
    for k, a_, b_, r, m in rows:
        print(f"| {k} | {a_:.0f} | {b_:.0f} | **{r:.2f}x** | {m:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
