"""Event-loop stall of the window while a run trains and the user pages through images.

Run on demand: ``python tests/benchmarks/bench_training_stall.py [SECONDS]``.

A demo project (60 images) opens in ``app.shell.window.MainWindow`` (offscreen) with the
Training panel docked; a QTimer probe fires every 5 ms and records how late it is.
Phase 1 pages through images with no training (baseline); phase 2 starts a run from
the panel (export, child process, live events and charts) and pages through images
the whole time. Prints lateness percentiles per phase; target: p99 < 20 ms.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
PROBE_MS = 5
PAGE_MS = 60  # a user holding the "next image" key
TEMPLATE = "ssdlite320_mobilenet_v3_large"
SETTINGS = {"epochs": 1000, "time_budget": 0, "batch_size": 2, "min_size": 96, "max_size": 96, "pretrained": "none",
            "workers": 0, "warmup_iters": 2, "val_fraction": 0.2}


class Probe:
    def __init__(self):
        from PySide6.QtCore import Qt, QTimer

        self.late: list[float] = []
        self.last = None
        self.timer = QTimer()
        self.timer.setTimerType(Qt.PreciseTimer)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self.tick)

    def tick(self):
        now = time.perf_counter()
        if self.last is not None:
            self.late.append(max(0.0, (now - self.last) * 1000 - PROBE_MS))
        self.last = now

    def start(self):
        self.late, self.last = [], None
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return self.late


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def report(name: str, late: list[float], pages: int, extra: str = "") -> None:
    print(f"{name:<28} ticks {len(late):>5}  p50 {pct(late, 50):5.1f} ms  p95 {pct(late, 95):5.1f} ms  "
          f"p99 {pct(late, 99):5.1f} ms  max {max(late):6.1f} ms  mean {statistics.mean(late):4.1f} ms  "
          f"pages {pages}{extra}")


def open_window(project):
    """(main window, page-one-image callable, its training controller)."""
    from app.shell.window import MainWindow

    window = MainWindow(project)

    def step():
        if window.media_id == window.source.ids[-1]:
            window.browsing.first()
        else:
            window.browsing.step(+1)

    window.restore_last_media()
    return window, step, window.training


async def page_for(step, seconds: float) -> int:
    pages, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        step()
        pages += 1
        await asyncio.sleep(PAGE_MS / 1000)
    return pages


async def scenario(step, controller, probe) -> None:
    probe.start()
    pages = await page_for(step, SECONDS / 2)
    report("paging, no training", probe.stop(), pages)

    events: list[dict] = []
    controller.event_received.connect(lambda _r, e: events.append(e))
    panel = controller.panel
    panel.select_template(TEMPLATE)
    for k, v in SETTINGS.items():
        panel.form.set_value(k, v)
    probe.start()
    t0 = time.monotonic()
    panel.train_button.click()
    while not any(e["event"] == "progress" for e in events):  # export + torch import
        await page_for(step, 0.5)
        if time.monotonic() - t0 > 120 or not controller.is_training():
            raise RuntimeError(f"the run did not start: {panel.status.text()}")
    startup = probe.stop()
    report("paging, run starting", startup, 0, f"  ({time.monotonic() - t0:.1f} s to first step)")
    probe.start()
    pages = await page_for(step, SECONDS)
    late = probe.stop()
    n_progress = sum(e["event"] == "progress" for e in events)
    report("paging while training", late, pages, f"  ({n_progress} progress events)")
    print(f"p99 while training: {pct(late, 99):.1f} ms (target < 20 ms) -> "
          f"{'PASS' if pct(late, 99) < 20 else 'FAIL'}")
    t = time.monotonic()
    controller.cancel()
    while controller.is_training():
        await asyncio.sleep(0.05)
    print(f"cancelled in {time.monotonic() - t:.1f} s; run status "
          f"{controller.project.runs.all()[-1].status}")


def main() -> None:
    import qasync
    from PySide6.QtWidgets import QApplication

    from app.shell.demo import make_demo

    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as tmp:
        project = make_demo(Path(tmp) / "proj", n_images=60, video=False)
        window, step, controller = open_window(project)
        window.resize(1400, 900)
        window.show()
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.processor() or '?'}; "
              f"load average {os.getloadavg()[0]:.1f}; Python {platform.python_version()}")
        with loop:
            loop.run_until_complete(scenario(step, controller, Probe()))
        window.close()
        project.close()


if __name__ == "__main__":
    main()
