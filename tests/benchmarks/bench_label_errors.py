"""Probable label errors: planted errors in a copy of the kangaroo labels, found by a
k-fold cross-check (``kestrel suspects --folds K``'s code path).

    python tests/benchmarks/bench_label_errors.py [--folds 4] [--per-kind 10] [--epochs 10]
        [--size 320] [--trainable 4] [--out DIR]

A project holds the 163 kangaroo photos the app imports, with their labels, except
for ``--per-kind`` planted errors of each kind, on distinct photos: a box deleted (a
photo left with none is a labelled negative, as an imported dataset says), a box
shifted by 35-50% of its size, a box given the wrong class ("wallaby"). K fold runs of
``fasterrcnn_mobilenet_v2`` (ImageNet backbone) are trained through
``app.runs.records.prepare_run`` and the trainer child process, each holding one fold
out; the held-out photos are predicted and ``app.next.suspects`` ranks the
disagreements. An error counts as found when a suspect among the top 2 x planted
points at it (same photo; its region overlaps the planted box, or the original).
Target: at least 80% found.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from label_next_data import DATA, ROOT, label, load_truth, machine, make_project  # noqa: E402

sys.path.insert(0, str(ROOT))


def plant(truth: dict, names: list[str], per_kind: int, seed: int) -> tuple[dict, list[dict]]:
    """A copy of the labels with errors; returns (labels, planted)."""
    rng = random.Random(seed)
    labels = {n: list(b) for n, b in truth.items()}
    with_boxes = [n for n in names if truth[n]]
    chosen = rng.sample(with_boxes, 3 * per_kind)
    planted = []
    for k, name in enumerate(chosen):
        kind = ("deleted", "shifted", "class")[k // per_kind]
        i = rng.randrange(len(labels[name]))
        cls, (x1, y1, x2, y2) = labels[name][i]
        if kind == "deleted":
            labels[name].pop(i)
            planted.append({"name": name, "kind": kind, "box": (x1, y1, x2, y2)})
        elif kind == "shifted":
            w, h = x2 - x1, y2 - y1
            dx = rng.choice((-1, 1)) * rng.uniform(0.35, 0.5) * w
            dy = rng.choice((-1, 1)) * rng.uniform(0.0, 0.3) * h
            new = (x1 + dx, y1 + dy, x2 + dx, y2 + dy)
            labels[name][i] = (cls, new)
            planted.append({"name": name, "kind": kind, "box": new, "original": (x1, y1, x2, y2)})
        else:
            labels[name][i] = ("wallaby", (x1, y1, x2, y2))
            planted.append({"name": name, "kind": kind, "box": (x1, y1, x2, y2)})
    return labels, planted


def iou(a, b) -> float:
    from app.next.uncertainty import iou_matrix

    return float(iou_matrix([a], [b])[0, 0])


def found(p: dict, suspects: list, ids: dict) -> int | None:
    """Rank (1-based) of the first suspect pointing at planted error ``p``."""
    for rank, s in enumerate(suspects, 1):
        if s.media_id != ids[p["name"]]:
            continue
        boxes = [p["box"]] + ([p["original"]] if "original" in p else [])
        if max(iou(s.rect, b) for b in boxes) >= 0.3:
            return rank
    return None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--per-kind", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--size", type=int, default=320, help="min_size (the template's default)")
    ap.add_argument("--trainable", type=int, default=4, help="trainable backbone stages")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "kestrel-bench-label-errors")
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"SKIP: {DATA} is absent")
        return 0
    from app.next.cli import _cross_check
    from app.next.suspects import find_suspects, predict_held_out
    from app.store.project import Project

    print(f"machine: {machine()}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    folder = args.out / "project"
    truth = load_truth()
    if (folder / "kestrel.db").is_file():             # resume: folds already trained are kept
        project = Project.open(folder)
        ids = {m.name: m.id for m in project.media.list()}
        planted = json.loads((args.out / "planted.json").read_text())
    else:
        project, ids = make_project(folder)
        names = sorted(n for n in truth if n in ids)
        labels, planted = plant(truth, names, args.per_kind, args.seed)
        project.classes.ensure("kangaroo")
        project.classes.ensure("wallaby")
        label(project, ids, names, truth, classes=labels)
        (args.out / "planted.json").write_text(json.dumps(planted))
        settings = {"pretrained": "imagenet", "epochs": args.epochs, "batch_size": 4,
                    "min_size": args.size, "max_size": int(args.size * 5 / 3), "lr": 0.01,
                    "warmup_iters": 20, "trainable_backbone_layers": args.trainable, "workers": 0,
                    "patience": 0, "seed": args.seed}
        parent = project.runs.add(name="template for the folds", task="detector",
                                  template="fasterrcnn_mobilenet_v2", run_dir="",
                                  hyperparameters={k: str(v) for k, v in settings.items()})
        project.runs.update(parent, status="finished")
        project.settings.set("bench_parent", str(parent))
    parent = int(project.settings.get("bench_parent"))
    print(f"{len(ids)} photos, {len(planted)} planted errors; {args.folds} folds", flush=True)
    _cross_check(project, parent, args.folds, "cpu", quiet=True)
    predict_held_out(project, parent, device="cpu")
    suspects, checked, missing = find_suspects(project, parent)
    budget = 2 * len(planted)
    ranks = {i: found(p, suspects[:budget], ids) for i, p in enumerate(planted)}
    hits = sum(r is not None for r in ranks.values())
    by_kind = {}
    for i, p in enumerate(planted):
        by_kind.setdefault(p["kind"], []).append(ranks[i] is not None)
    print(f"\n{checked} labelled photos checked ({missing} not predicted); {len(suspects)} suspects")
    print(f"found {hits}/{len(planted)} planted errors ({hits / len(planted):.0%}) among the top "
          f"{budget} suspects -> {'PASS' if hits >= 0.8 * len(planted) else 'FAIL'} (target >= 80%)")
    for kind, ok in by_kind.items():
        print(f"  {kind:<8} {sum(ok)}/{len(ok)}")
    top = suspects[:budget]
    planted_ids = {ids[p['name']] for p in planted}
    print(f"  top {budget}: {sum(s.media_id in planted_ids for s in top)} on photos with a planted "
          f"error; kinds: " + ", ".join(f"{k} {sum(s.kind == k for s in top)}"
                                         for k in ("missed", "spurious", "class", "box")))
    (args.out / "result.json").write_text(json.dumps({
        "found": hits, "planted": len(planted), "budget": budget, "checked": checked,
        "ranks": ranks, "by_kind": {k: sum(v) for k, v in by_kind.items()},
        "top": [s.to_json() for s in top]}, indent=1))
    project.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
