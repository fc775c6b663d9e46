"""Event-loop stall of the window while Label next scores 1,000 images in the background
and the user pages through images.

    python tests/benchmarks/bench_label_next_stall.py [SECONDS] [--images 1000]

A demo project of 1,000 generated images (50 labelled) and a small detector trained on
them first (ssdlite320, 1 epoch at 128 px, ``kestrel train``) open in
``app.shell.window.MainWindow`` (offscreen). A QTimer probe fires every 5 ms and records
how late it is (as bench_training_stall.py). Phase 1 pages through images with nothing
in the background; phase 2 presses N, which starts the scoring job (a child process:
the model on each picture and its flip, pooled features, its detections stored as
predictions) and pages the whole time. Prints lateness percentiles per phase and the
scoring rate; target: p99 < 20 ms while scoring.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench_training_stall import PAGE_MS, Probe, open_window, pct, report  # noqa: E402
from label_next_data import machine  # noqa: E402

LABELLED = 50


def make_project(folder: Path, n: int):
    from app.shell.cli import main
    from app.shell.demo import make_demo

    t = time.perf_counter()
    project = make_demo(folder, n_images=n, video=False)
    images = [m.id for m in project.media.list()]
    drop = images[LABELLED:]
    project.boxes.delete([b.id for m in drop for b in project.boxes.of(m)])
    project.status.clear_empty([(m, 0) for m in drop])
    project.close()
    print(f"{n} images ({LABELLED} labelled) made in {time.perf_counter() - t:.0f} s", flush=True)
    t = time.perf_counter()
    sets = {"epochs": 1, "batch_size": 4, "min_size": 128, "max_size": 160, "pretrained": "none",
            "workers": 0, "warmup_iters": 2, "val_fraction": 0.2}
    argv = ["train", str(folder), "--template", "ssdlite320_mobilenet_v3_large", "--device", "cpu",
            "--quiet"] + [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]
    if main(argv) != 0:
        raise SystemExit("training the model failed")
    print(f"model trained in {time.perf_counter() - t:.0f} s", flush=True)


STEPS: list[float] = []      # ms each page took on the GUI thread (open, draw, store reads)


async def page_for(step, seconds: float) -> int:
    pages, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.perf_counter()
        step()
        STEPS.append((time.perf_counter() - t) * 1000)
        pages += 1
        await asyncio.sleep(PAGE_MS / 1000)
    return pages


def steps_since(n: int) -> str:
    s = STEPS[n:]
    return f"  (a page: p50 {pct(s, 50):.1f} ms, p99 {pct(s, 99):.1f} ms)" if s else ""


async def scenario(window, step, probe, seconds: float) -> None:
    probe.start()
    pages = await page_for(step, seconds / 3)
    report("paging, nothing behind", probe.stop(), pages, steps_since(0))

    progress: list[tuple[float, int, int]] = []
    nxt = window.next
    nxt.scoring.event.connect(lambda e: progress.append((time.monotonic(), e.get("done", 0),
                                                         e.get("total", 0)))
                              if e.get("event") == "progress" else None)
    probe.start()
    t0 = time.monotonic()
    nxt.label_next()                             # N: rank, which starts the scoring job
    while not progress:                          # the child imports torch, loads the model
        await page_for(step, 0.5)
        if time.monotonic() - t0 > 180 or not nxt.scoring.running():
            raise RuntimeError(f"scoring did not start: {nxt.panel.queue.status.text()}")
    report("paging, job starting", probe.stop(), 0,
           f"  ({time.monotonic() - t0:.1f} s to the first batch)")
    probe.start()
    n0 = len(STEPS)
    pages = await page_for(step, seconds)
    late = probe.stop()
    (ta, da, total), (tb, db, _t) = progress[0], progress[-1]
    rate = (db - da) / max(tb - ta, 1e-9)
    report("paging while scoring", late, pages,
           f"  ({db}/{total} scored, {rate:.1f} pictures/s)" + steps_since(n0))
    print(f"p99 while scoring: {pct(late, 99):.1f} ms (target < 20 ms) -> "
          f"{'PASS' if pct(late, 99) < 20 else 'FAIL'}")
    t = time.monotonic()
    nxt.scoring.cancel()
    while nxt.scoring.running():
        await asyncio.sleep(0.05)
    print(f"cancelled in {time.monotonic() - t:.1f} s; kept for the next start: "
          f"{window.project.next.score_count(1)} scores, "
          f"{len(window.project.next.featured('run:1'))} feature vectors")


def main() -> None:
    import qasync
    from PySide6.QtWidgets import QApplication

    from app.store.project import Project

    ap = argparse.ArgumentParser()
    ap.add_argument("seconds", nargs="?", type=float, default=30.0)
    ap.add_argument("--images", type=int, default=1000)
    args = ap.parse_args()
    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    print(f"machine: {machine()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "proj"
        make_project(folder, args.images)
        project = Project.open(folder)
        project.settings.set("active_run", "1")
        window, step, _training = open_window(project)
        window.resize(1400, 900)
        window.show()
        with loop:
            loop.run_until_complete(scenario(window, step, Probe(), args.seconds))
        window.close()
        project.close()


if __name__ == "__main__":
    main()
