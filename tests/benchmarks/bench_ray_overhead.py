"""What the Ray path costs over the local one, for one small run on this machine's
own local cluster (a head started here, CPU only): submission to first event and
seconds per epoch, for the local child process, Ray with one worker and Ray with two
(DDP). Tiny data (the demo's 8 images, 96 px, ssdlite320), so the figures are the
overhead, not the training.

    PYTHONPATH=$PWD python tests/benchmarks/bench_ray_overhead.py [--epochs 4]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = "ssdlite320_mobilenet_v3_large"
SETS = {"batch_size": "2", "min_size": "64", "max_size": "96", "pretrained": "none",
        "workers": "0", "warmup_iters": "2", "val_fraction": "0"}


def per_epoch(events: list[dict]) -> float:
    """Mean seconds between the end-of-epoch checkpoints (the trainer's own clock)."""
    ends = [e["time"] for e in events if e["event"] == "checkpoint" and e["kind"] == "last"]
    gaps = [b - a for a, b in zip(ends, ends[1:])]
    return sum(gaps) / len(gaps) if gaps else float("nan")


def local_run(project, overrides) -> dict:
    from app.runs import records
    from app.runs.follow import follow_run

    launch = records.prepare_run(project, TEMPLATE, overrides, device="cpu")
    first, events = [], []
    t0 = time.perf_counter()

    def on_event(e):
        events.append(e)
        if not first:
            first.append(time.perf_counter() - t0)
    status = asyncio.run(follow_run(project, launch.run_id, launch.argv, records.child_env(),
                                    lock=launch.lock, on_event=on_event))
    return {"status": status, "first_event_s": first[0], "epoch_s": per_epoch(events),
            "total_s": time.perf_counter() - t0}


def ray_run(project, overrides, address: str, workers: int) -> dict:
    from app.runs import records
    from app.runs.cluster import ClusterTarget, submit_run
    from app.runs.ray_follow import RayJobFollower

    launch = records.prepare_run(project, TEMPLATE, overrides)
    first, events = [], []
    t0 = time.perf_counter()
    job = submit_run(project, launch.run_id, ClusterTarget(address, workers=workers))
    submitted = time.perf_counter() - t0

    def on_event(e):
        events.append(e)
        if not first:
            first.append(time.perf_counter() - t0)
    follower = RayJobFollower(project, launch.run_id, address, job, lock=launch.lock,
                              on_event=on_event)
    status = asyncio.run(follower.run())
    return {"status": status, "submit_s": submitted, "first_event_s": first[0],
            "epoch_s": per_epoch(events), "total_s": time.perf_counter() - t0}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from app.shell.demo import make_demo
    from tests.cluster.head import Head

    overrides = {**SETS, "epochs": str(args.epochs)}
    folder = Path(tempfile.mkdtemp(prefix="kestrel-bench-ray-"))
    project = make_demo(folder / "proj", n_images=8, video=False)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {sys.version.split()[0]}", flush=True)
    t0 = time.perf_counter()
    head = Head()
    try:
        head.wait_ready()
        print(f"local Ray head ready in {time.perf_counter() - t0:.1f} s", flush=True)
        rows = [("local child process", local_run(project, overrides))]
        for workers in (1, 2):
            rows.append((f"Ray Job, {workers} worker{'s' if workers > 1 else ''}",
                         ray_run(project, overrides, head.address, workers)))
    finally:
        head.stop()
        project.close()
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\n{args.epochs} epochs of {TEMPLATE}, 8 images, 96 px, batch 2, CPU")
    print(f"{'path':<24} {'submit':>7} {'1st event':>10} {'s/epoch':>8} {'total':>7}  status")
    for name, r in rows:
        submit = f"{r['submit_s']:.1f}" if "submit_s" in r else "-"
        print(f"{name:<24} {submit:>7} {r['first_event_s']:>10.1f} {r['epoch_s']:>8.2f} "
              f"{r['total_s']:>7.1f}  {r['status']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
