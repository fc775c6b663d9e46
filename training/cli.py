"""``python -m training``: train, eval, predict, export, templates, weights.

stdout carries only JSON lines (events from train/eval, results from predict and the
other commands' machine-readable answers); everything meant for people goes to stderr.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO


def train_argv(coco: str | Path, images: str | Path, template: str, run_dir: str | Path,
               overrides: dict[str, Any] | None = None, resume: bool = False,
               device: str = "auto", python: str | None = None) -> list[str]:
    """The ``python -m training train`` command line for a subprocess (torch-free, so
    the app can build it). Tuples/lists in ``overrides`` become comma lists."""
    argv = [python or sys.executable, "-m", "training", "train", "--coco", str(coco),
            "--images", str(images), "--template", template, "--run-dir", str(run_dir),
            "--device", device]
    for key, value in (overrides or {}).items():
        if isinstance(value, (list, tuple)):
            value = ",".join(map(str, value))
        argv += ["--set", f"{key}={value}"]
    return argv + (["--resume"] if resume else [])


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a detector; JSON events on stdout")
    t.add_argument("--coco", required=True, type=Path, help="COCO annotations file")
    t.add_argument("--images", required=True, type=Path, help="folder file_names are relative to")
    t.add_argument("--template", required=True)
    t.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="hyperparameter (repeatable); see `templates`")
    t.add_argument("--run-dir", required=True, type=Path)
    t.add_argument("--resume", action="store_true", help="go on from RUN_DIR/last.pt if present")
    t.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), cpu, cuda, cuda:1, mps")
    t.add_argument("--progress-interval", type=float, default=0.2,
                   help="seconds between progress events (0: every step)")
    t.add_argument("--allow-download", action="store_true",
                   help="fetch missing pretrained weights (also KESTREL_ALLOW_DOWNLOAD=1)")
    t.add_argument("--weights-mirror", metavar="URL", default=None,
                   help="base URL serving torchvision's weight files (also KESTREL_WEIGHTS_MIRROR)")

    e = sub.add_parser("eval", help="mAP of a checkpoint on a COCO set (one metrics event)")
    e.add_argument("--checkpoint", required=True, type=Path)
    e.add_argument("--coco", required=True, type=Path)
    e.add_argument("--images", required=True, type=Path)
    e.add_argument("--device", default="auto")
    e.add_argument("--batch-size", type=int, default=4)

    pr = sub.add_parser("predict", help="one JSON line of detections per image")
    pr.add_argument("--checkpoint", required=True, type=Path)
    pr.add_argument("--score", type=float, default=0.5, help="score threshold")
    pr.add_argument("--device", default="auto")
    pr.add_argument("--batch-size", type=int, default=4)
    pr.add_argument("paths", nargs="*", type=Path, help="image files or folders")
    pr.add_argument("--coco", type=Path, help="instead of paths: the images of this COCO file; "
                    "prints one JSON list of COCO results (image_id, category_id, bbox, score)")
    pr.add_argument("--images", type=Path, help="with --coco: the folder file_names are relative to")

    x = sub.add_parser("export", help="TorchScript or ONNX file from a detector or "
                       "embedder checkpoint")
    x.add_argument("--checkpoint", required=True, type=Path)
    x.add_argument("--format", choices=("torchscript", "onnx"), required=True)
    x.add_argument("--out", required=True, type=Path)
    x.add_argument("--size", type=int, default=320, help="ONNX tracing image size (detectors; "
                   "an embedder keeps its run's image_size)")

    c = sub.add_parser("check", help="load a detector checkpoint safely (weights only) and "
                       "print its template, hyperparameters and classes as JSON")
    c.add_argument("--checkpoint", required=True, type=Path)

    tp = sub.add_parser("templates", help="list templates and their hyperparameters")
    tp.add_argument("--json", action="store_true")
    tp.add_argument("--task", default=None)

    from training import weights_cli

    weights_cli.add_parser(sub)
    return p


def _emit_json(out: TextIO, obj: Any) -> None:
    out.write(json.dumps(obj) + "\n")
    out.flush()


def _templates(args, out: TextIO) -> int:
    from training.templates import list_templates

    specs = list_templates(args.task)
    if args.json:
        _emit_json(out, [s.describe() for s in specs])
        return 0
    for s in specs:
        d = s.describe()
        out.write(f"{s.name}  [{s.task}]  {s.description}  ({s.hint})\n")
        for f in d["hparams"]:
            limits = (f"range {f['range'][0]}..{f['range'][1]}" if "range" in f else
                      f"choices {'|'.join(map(str, f['choices']))}" if "choices" in f else "")
            if f.get("or_file"):
                limits += "|FILE"
            out.write(f"    {f['name']} = {f['default']!r}  ({f['type']}{', ' + limits if limits else ''})"
                      f"  {f['help']}\n")
    out.flush()
    return 0


def _image_files(paths: list[Path]) -> list[Path]:
    exts = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.suffix.lower() in exts)
        else:
            files.append(p)
    return files


def _predict(args, out: TextIO) -> int:
    from training.images import read_fitted
    from training.predictor import Predictor

    if args.coco is None and not args.paths:
        raise ValueError("predict needs image paths or --coco FILE")
    predictor = Predictor(args.checkpoint, device=args.device, score_threshold=args.score)
    if args.coco is not None:
        from training.data import load_coco

        coco = load_coco(args.coco, args.images or args.coco.parent)
        files = [(args.images or args.coco.parent) / im["file_name"] for im in coco.images]
        ids = [im["id"] for im in coco.images]
    else:
        files = _image_files(args.paths)
        ids = []
    results = []
    for i in range(0, len(files), args.batch_size):
        chunk = files[i:i + args.batch_size]
        # each file read once, at the model's input size (JPEG draft mode)
        frames, sizes = zip(*(read_fitted(f, predictor.input_fit) for f in chunk))
        for j, det in enumerate(predictor.predict(frames, batch_size=args.batch_size,
                                                  sizes=sizes)):
            if ids:  # COCO results: category ids of the checkpoint, boxes as x, y, w, h
                for (x0, y0, x1, y1), label, score in zip(det.boxes.tolist(), det.labels, det.scores):
                    results.append({"image_id": ids[i + j],
                                    "category_id": predictor.category_ids[label],
                                    "bbox": [round(v, 2) for v in (x0, y0, x1 - x0, y1 - y0)],
                                    "score": round(float(score), 4)})
            else:
                _emit_json(out, {"file": str(chunk[j]), "boxes": det.boxes.round(2).tolist(),
                                 "labels": det.names, "scores": det.scores.round(4).tolist()})
    if ids:
        _emit_json(out, results)
    return 0


def _eval(args, out: TextIO) -> int:
    from training.checkpoint import load_detector_checkpoint
    from training.data import DetectionDataset, coco_ground_truth, load_coco, make_transforms
    from training.engine import evaluate
    from training.events import Emitter
    from training.hparams import from_dict
    from training.loading import eval_loader
    from training.predictor import build_from_checkpoint
    from training.run import resolve_device
    from training.sizing import input_fit
    from training.templates import get_template

    state = load_detector_checkpoint(args.checkpoint)
    coco = load_coco(args.coco, args.images)
    if coco.class_names != state["class_names"]:
        raise SystemExit(f"the dataset's classes {coco.class_names} differ from the "
                         f"checkpoint's {state['class_names']}")
    device = resolve_device(args.device)
    model = build_from_checkpoint(state).to(device)
    hp = from_dict(get_template(state["template"]).hparams, state["hparams"])
    idx = list(range(len(coco.images)))
    ds = DetectionDataset(coco, args.images, idx, make_transforms(hp, False),
                          input_fit(state["template"], hp))
    loader = eval_loader(ds, args.batch_size, 0, device)
    m = evaluate(model, loader, device, coco_ground_truth(coco, idx), coco.class_names)
    Emitter(out).emit("metrics", epoch=state["epoch"], checkpoint=str(args.checkpoint), **m)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Keep stdout for JSON only: stray prints from libraries land on stderr.
    out, sys.stdout = sys.stdout, sys.stderr
    try:
        if args.command == "templates":
            return _templates(args, out)
        if args.command == "train":
            import os

            from training.events import Emitter
            from training.run import TrainConfig, run_train
            from training.weights import ENV_ALLOW, ENV_MIRROR

            # The builders read the policy from the environment (DDP ranks inherit it).
            if args.allow_download:
                os.environ[ENV_ALLOW] = "1"
            if args.weights_mirror:
                os.environ[ENV_MIRROR] = args.weights_mirror

            cfg = TrainConfig(args.coco, args.images, args.template, args.run_dir,
                              args.overrides, args.resume, args.device, args.progress_interval)
            return run_train(cfg, Emitter(out))
        if args.command == "eval":
            return _eval(args, out)
        if args.command == "check":
            from training.checkpoint import CheckpointError, load_detector_checkpoint

            try:
                state = load_detector_checkpoint(args.checkpoint)
            except CheckpointError as exc:   # the whole reason, for the app to show
                _emit_json(out, {"error": str(exc)})
                return 2
            _emit_json(out, {"template": str(state.get("template", "imported")),
                             "hparams": dict(state.get("hparams") or {}),
                             "class_names": [str(c) for c in state["class_names"]]})
            return 0
        if args.command == "predict":
            return _predict(args, out)
        if args.command == "export":
            from training.export import export

            path, kind = export(args.checkpoint, args.format, args.out, args.size)
            _emit_json(out, {"exported": str(path), "format": args.format, "kind": kind})
            return 0
        if args.command == "weights":
            from training import weights_cli

            return weights_cli.run(args, out)
    except Exception as exc:  # a clean one-line error for people; train reports its own
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    finally:
        sys.stdout = out
    return 2
