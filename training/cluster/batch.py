"""Prediction and embedding at scale as a Ray Job: Ray Data ``map_batches`` runs a
trained checkpoint over pictures shipped in the job's working dir, on as many
workers as asked (one GPU each when ``--gpu``), and the driver prints each answer
as a ``result`` line (``training.cluster.wire``) with ``progress`` lines between.

    python -m training.cluster.batch predict --model model.pt --items items.jsonl [--score 0.05]
    python -m training.cluster.batch embed --model model.pt --items items.jsonl

``items.jsonl``: one ``{"i": n, "file": "pictures/…", "box": [x1, y1, x2, y2] | null}``
per line (a box: embed that crop of the picture). Answers carry ``i``; a detector's
are ``boxes`` (xyxy), ``names`` and ``scores``, an embedder's ``vector`` (base64 of
float32). Pictures are read as the app reads them (training.images.read_rgb), so the
answers equal those computed on the user's machine.
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path

import numpy as np

from training.cluster import wire


class PredictBatch:
    """One detector per Ray Data worker (an actor), loaded once."""

    def __init__(self, model: str, score: float, device: str):
        from training.predictor import Predictor

        self.predictor = Predictor(model, device=device, score_threshold=score)

    def __call__(self, batch: dict) -> dict:
        from training.images import read_rgb

        frames = [read_rgb(f) for f in batch["file"]]
        out = []
        for det in self.predictor.predict(frames, batch_size=len(frames)):
            out.append(wire.dumps({"boxes": det.boxes.tolist(), "names": det.names,
                                   "scores": det.scores.tolist()}))
        return {"i": batch["i"], "answer": np.array(out, dtype=object)}


class EmbedBatch:
    """One embedder per Ray Data worker; each picture is read once per batch."""

    def __init__(self, model: str, device: str):
        from training.embedding.inference import Embedder

        self.embedder = Embedder(model, device=device)

    def __call__(self, batch: dict) -> dict:
        from training.images import read_rgb

        pictures: dict[str, np.ndarray] = {}
        inputs = []
        for file, box in zip(batch["file"], batch["box"]):
            if file not in pictures:
                pictures[file] = read_rgb(file)
            pixels = pictures[file]
            box = np.asarray(box, dtype=np.float64)
            inputs.append(pixels if np.isnan(box).any() else self.embedder.crops(pixels, [box.tolist()])[0])
        vectors = self.embedder.embed(inputs, batch_size=max(1, len(inputs)))
        out = [wire.dumps({"vector": base64.b64encode(np.ascontiguousarray(v, np.float32).tobytes())
                           .decode("ascii")}) for v in vectors]
        return {"i": batch["i"], "answer": np.array(out, dtype=object)}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training.cluster.batch")
    p.add_argument("task", choices=("predict", "embed"))
    p.add_argument("--model", required=True)
    p.add_argument("--items", required=True)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--gpu", action="store_true")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--score", type=float, default=0.05)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out, sys.stdout = sys.stdout, sys.stderr   # stdout: protocol lines only
    try:
        return _run(args, out)
    finally:
        sys.stdout = out


def _run(args, out) -> int:
    import ray

    ray.init()
    rows = []
    for line in Path(args.items).read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        box = item.get("box")
        rows.append({"i": int(item["i"]), "file": str(Path(item["file"]).resolve()),
                     "box": [float("nan")] * 4 if box is None else [float(v) for v in box]})
    total = len(rows)
    model = str(Path(args.model).resolve())
    device = "auto" if args.gpu else "cpu"
    if args.task == "predict":
        fn, kwargs = PredictBatch, {"model": model, "score": args.score, "device": device}
    else:
        fn, kwargs = EmbedBatch, {"model": model, "device": device}
    resources = {"num_gpus": 1} if args.gpu else {"num_cpus": 1}
    blocks = max(1, min(total, args.workers * 4))
    ds = ray.data.from_items(rows, override_num_blocks=blocks).map_batches(
        fn, fn_constructor_kwargs=kwargs, batch_size=args.batch_size,
        concurrency=args.workers, **resources)

    def emit(text: str) -> None:
        out.write(text + "\n")
        out.flush()
    done = 0
    emit(wire.dumps({"kestrel": "progress", "done": 0, "total": total}))
    for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
        for i, answer in zip(batch["i"], batch["answer"]):
            emit(wire.dumps({"kestrel": "result", "i": int(i), **json.loads(answer)}))
        done += len(batch["i"])
        emit(wire.dumps({"kestrel": "progress", "done": done, "total": total}))
    return 0 if done == total else 1


if __name__ == "__main__":
    from training.cluster import batch

    sys.exit(batch.main())
