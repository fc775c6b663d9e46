"""Label next vs random selection, simulated on the kangaroo photos (full labels known).

    python tests/benchmarks/bench_label_next.py [--rounds 10] [--batch 13] [--epochs 8]
        [--steps 250] [--seeds 0] [--out DIR]

A fixed test set (34 photos) is held out; of the other 130, 10% start labelled. Each
round trains ``fasterrcnn_mobilenet_v2`` (ImageNet backbone) with the same settings
and the same budget, ``--steps`` training steps whatever the number of photos
(``--steps 0``: ``--epochs`` passes instead, so more photos also buy more steps),
evaluates mAP on the test set, then "labels" a batch chosen
by Label next (``app.next``: the round's model scores the unlabelled photos in the
project, the queue picks a batch) or at random. Prints mAP per round, writes
``label_next.json`` and ``label_next.png`` (mAP against labelled photos) to the output
folder and says whether Label next reaches random's final mAP with at most 70% of
its labels. Results are kept per round: a rerun goes on where it stopped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from label_next_data import (DATA, ROOT, label, load_truth, machine, make_project, plot,  # noqa: E402
                             register_run, train, write_coco)

sys.path.insert(0, str(ROOT))


def settings(epochs: int, size: int) -> dict:
    return {"pretrained": "imagenet", "epochs": epochs, "batch_size": 4, "min_size": size,
            "max_size": int(size * 5 / 3), "lr": 0.01, "warmup_iters": 20,
            "trainable_backbone_layers": 3, "workers": 0, "patience": 0, "seed": 0}


def choose_next(project, ids, run_id: int, batch: int) -> list[str]:
    from app.next.ranking import build_queue
    from app.next.scoring import score_project

    counts = score_project(project, run_id, device="cpu")
    queue = build_queue(project, run_id, counts["source"], length=batch, batch=batch)
    names = {v: k for k, v in ids.items()}
    return [names[i.media_id] for i in queue.items][:batch]


def run_strategy(strategy: str, seed: int, args, truth, test, pool, initial, results, out,
                 save) -> None:
    key = f"{strategy}/{seed}"
    rounds = results.setdefault(key, [])
    rng = random.Random(1000 + seed)
    with tempfile.TemporaryDirectory() as tmp:
        project, ids = make_project(Path(tmp) / "proj")
        sizes = {m.name: (m.width, m.height) for m in project.media.list()}
        labelled = list(initial)
        # the test photos are no part of the pool: "needs review" pictures are neither
        # candidates nor seeds for Label next
        project.status.mark_many([(ids[n], 0) for n in test], "review")
        for r in range(args.rounds):
            label(project, ids, [n for n in labelled if not project.boxes.labels(ids[n], 0)], truth)
            run_dir = out / "runs" / f"{strategy}-{seed}-r{r}"
            if r < len(rounds):
                result = rounds[r]
                assert result["labelled"] == sorted(labelled), "resumed with other settings"
            else:
                # the same labelled set trains once (round 0 is common to both strategies,
                # and so is a last round that has labelled the whole pool)
                digest = hashlib.sha1(",".join(sorted(labelled)).encode()).hexdigest()
                set_key = f"{seed}-{digest[:16]}"
                shared = out / "runs" / f"set-{set_key}"
                trained = results.setdefault("trained", {})
                if set_key in trained and (shared / "best.pt").is_file():
                    metrics = trained[set_key]
                    shutil.copytree(shared, run_dir, dirs_exist_ok=True)
                else:
                    # a step budget: the labelled photos repeated to fill one pass of
                    # about --steps steps, evaluated once at its end
                    cfg = settings(1 if args.steps else args.epochs, args.size)
                    per_pass = args.steps * cfg["batch_size"]
                    repeat = -(-per_pass // len(labelled)) if args.steps else 1
                    coco = write_coco(out / f"{strategy}-{seed}-r{r}.json", sizes.get,
                                      {n: truth[n] for n in labelled}, {n: truth[n] for n in test},
                                      ["kangaroo"], repeat=repeat)
                    metrics = train(coco, run_dir, cfg)
                    shutil.copytree(run_dir, shared, dirs_exist_ok=True)
                    trained[set_key] = metrics
                result = {"round": r, "labelled": sorted(labelled), "n": len(labelled), **metrics}
                rounds.append(result)
                save()
            print(f"{strategy:<6} seed {seed} round {r}: {result['n']:3d} labelled  "
                  f"mAP {result['map']:.3f}  mAP50 {result['map50']:.3f}  "
                  f"({result['seconds']:.0f} s; load {machine().split('load average ')[1].split(',')[0]})",
                  flush=True)
            if r == args.rounds - 1:
                break
            if r + 1 < len(rounds):
                labelled = rounds[r + 1]["labelled"]
                continue
            left = [n for n in pool if n not in labelled]
            if strategy == "random":
                pick = rng.sample(left, min(args.batch, len(left)))
            else:
                run_id = register_run(project, run_dir, f"round {r}", ["kangaroo"])
                pick = choose_next(project, ids, run_id, args.batch)
            labelled = sorted(set(labelled) | set(pick))
        project.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10, help="10 x 13 labels the whole pool")
    ap.add_argument("--batch", type=int, default=13)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--steps", type=int, default=250,
                    help="training steps every round (0: --epochs passes instead)")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--test", type=int, default=34)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--strategies", default="random,next")
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "kestrel-bench-label-next")
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"SKIP: {DATA} is absent")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    state = args.out / "label_next.json"
    results = json.loads(state.read_text()) if state.is_file() else {}
    save = lambda: state.write_text(json.dumps(results, indent=1))   # noqa: E731
    print(f"machine: {machine()}")
    truth = load_truth()
    with tempfile.TemporaryDirectory() as tmp:      # what the app imports (one JPEG is cut short)
        probe, ids = make_project(Path(tmp) / "probe")
        probe.close()
    names = sorted(n for n in truth if n in ids)
    for seed in [int(s) for s in args.seeds.split(",")]:
        rng = random.Random(seed)
        test = sorted(rng.sample(names, args.test))
        pool = [n for n in names if n not in test]
        initial = sorted(rng.sample(pool, max(1, round(0.1 * len(pool)))))
        for strategy in args.strategies.split(","):
            run_strategy(strategy, seed, args, truth, test, pool, initial, results, args.out, save)
    report(results, args)
    return 0


def reached(curve: list[tuple[int, float]], target: float) -> int | None:
    """The fewest labelled photos at which ``curve`` reaches ``target``."""
    return next((n for n, m in curve if m >= target - 1e-9), None)


def report(results: dict, args) -> None:
    """Per metric: the mean curve of each strategy over the seeds in ``results`` (the
    target is read on it), and each seed's own reading."""
    for metric in ("map", "map50"):
        curves: dict[str, dict[int, list[tuple[int, float]]]] = {}
        for key, rounds in results.items():
            if "/" in key and not key.startswith("r0/"):
                strategy, seed = key.split("/")
                curves.setdefault(strategy, {})[int(seed)] = [(r["n"], r[metric]) for r in rounds]
        if "random" not in curves or "next" not in curves:
            return
        seeds = sorted(set(curves["random"]) & set(curves["next"]))
        mean = {}
        for strategy, per_seed in curves.items():
            pts: dict[int, list[float]] = {}
            for seed in seeds:
                for n, m in per_seed[seed]:
                    pts.setdefault(n, []).append(m)
            mean[strategy] = sorted((n, sum(v) / len(v)) for n, v in pts.items())
        target_n, target = mean["random"][-1]
        n = reached(mean["next"], target)
        print(f"\n{metric}, mean of {len(seeds)} seed(s): random reaches {target:.3f} with "
              f"{target_n} labelled photos; Label next "
              + (f"reaches it with {n} ({n / target_n:.0%} of the labels) -> "
                 f"{'PASS' if n / target_n <= 0.7 else 'FAIL'} (target <= 70%)"
                 if n is not None else "does not reach it -> FAIL"))
        for s, pts in mean.items():
            print(f"  {s:<7} " + "  ".join(f"{n}:{m:.3f}" for n, m in pts))
        for seed in seeds:
            final = curves["random"][seed][-1][1]
            print(f"  seed {seed}: random's final {final:.3f}; reached by random with "
                  f"{reached(curves['random'][seed], final)}, by Label next with "
                  f"{reached(curves['next'][seed], final)}")
        png = plot(args.out / f"label_next_{metric}.png",
                   {("Label next" if s == "next" else "random"): pts for s, pts in mean.items()},
                   f"kangaroo: {metric} on {args.test} test photos vs labelled photos "
                   f"(mean of {len(seeds)} seed(s))",
                   "labelled photos", metric, hline=target)
        print(f"  plot: {png}")


if __name__ == "__main__":
    sys.exit(main())
