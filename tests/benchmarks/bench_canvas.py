"""Canvas repaint benchmark: 5,000 boxes on a 1920x1080 image, offscreen Qt.

Run on demand:  python tests/benchmarks/bench_canvas.py
Prints median and p95 milliseconds of a full viewport repaint after a pan step and after
a zoom step (wheel-like, about a point), plus the one-off costs around them.
"""
from __future__ import annotations

import os
import platform
import random
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from PySide6.QtCore import QPointF  # noqa: E402
from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from widgets.canvas import BoxCanvas  # noqa: E402
from widgets.shapes import BoxShape  # noqa: E402

W, H, N_BOXES, VIEW = 1920, 1080, 5000, (1280, 720)
COLORS = ["#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6"]


def make_boxes(n: int = N_BOXES, seed: int = 0) -> list[BoxShape]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        w, h = rng.uniform(10, 120), rng.uniform(10, 120)
        x, y = rng.uniform(0, W - w), rng.uniform(0, H - h)
        k = i % len(COLORS)
        src = ("manual", "predicted", "interpolated")[i % 3]
        out.append(BoxShape(i, x, y, x + w, y + h, k, f"class{k}", COLORS[k], src,
                            score=0.9 if src == "predicted" else None,
                            track_id=i if src == "interpolated" else None))
    return out


def make_image() -> QImage:
    img = QImage(W, H, QImage.Format_RGB32)
    p = QPainter(img)
    g = QLinearGradient(0, 0, W, H)
    g.setColorAt(0, QColor("#3a5f7d"))
    g.setColorAt(1, QColor("#c9a66b"))
    p.fillRect(img.rect(), g)
    p.end()
    return img


def timed(fn, repeats: int) -> list[float]:
    out = []
    for i in range(repeats):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1000.0)
    return out


def stats(name: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return f"{name:<44} median {statistics.median(ms):6.2f} ms   p95 {p95:6.2f} ms   (n={len(ms)})"


def main(repeats: int = 60) -> None:
    app = QApplication.instance() or QApplication([])
    c = BoxCanvas()
    c.resize(*VIEW)
    c.show()
    app.processEvents()
    c.set_image(make_image())
    t = time.perf_counter()
    c.set_boxes(make_boxes())
    c.viewport().repaint()
    first = (time.perf_counter() - t) * 1000.0
    vp = c.viewport()

    def pan(i):
        d = 40 if (i // 10) % 2 == 0 else -40
        c.pan(d, d / 2)
        vp.repaint()

    def zoom(i):
        factor = 1.1 if (i // 5) % 2 == 0 else 1 / 1.1
        c.set_zoom(c.zoom() * factor, QPointF(500 + i % 7 * 20, 300))
        vp.repaint()

    pan_ms = timed(pan, repeats)
    zoom_ms = timed(zoom, repeats)

    def settle(_):  # what the settle timer does once the wheel stops
        c._image._rebuild_after_settle()
        c._boxes._rebuild_after_settle()
        vp.repaint()
        c._image._pending_scale = c._boxes._pending_scale = c.zoom()
        c._image._cache.scale = c._boxes._cache.scale = -1  # force the next one too
    settle_ms = timed(settle, 10)

    c.fit_to_window()
    c.set_zoom(c.zoom() * 4)  # zoomed in, still cached (5120x2880 device px)
    vp.repaint()
    settle(0)
    pan_in_ms = timed(pan, repeats)
    c.set_zoom(c.zoom() * 2)  # 8x fit: past the cache limit, culled direct painting
    vp.repaint()
    pan_direct_ms = timed(pan, repeats)

    c.fit_to_window()
    c.select([1, 2, 3])
    vp.repaint()

    def hover(i):
        c._boxes.hovered = i
        c._boxes.update()
        vp.repaint()
    hover_ms = timed(hover, repeats)

    print(f"Canvas benchmark: {N_BOXES} boxes, {W}x{H} image, viewport {VIEW[0]}x{VIEW[1]}, "
          f"Qt platform {app.platformName()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"{'first paint after set_boxes (builds caches)':<44} {first:6.2f} ms")
    print(stats("pan step (full viewport repaint)", pan_ms))
    print(stats("zoom step about a point (full repaint)", zoom_ms))
    print(stats("sharp re-render after the zoom settles", settle_ms))
    print(stats("pan step zoomed in 4x fit (cached)", pan_in_ms))
    print(stats("pan step zoomed in 8x fit (direct paint)", pan_direct_ms))
    print(stats("hover change, 3 selected (full repaint)", hover_ms))


if __name__ == "__main__":
    main()
