"""Media browser benchmark: 100,000 synthetic rows (no files), offscreen Qt.

Run on demand:  python tests/benchmarks/bench_browser.py
Prints the time to set the source and show the first screen, to scroll to the end, and
how many rows the browser asked its source for.
"""
from __future__ import annotations

import os
import platform
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from PySide6.QtGui import QColor, QImage  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from widgets.media_browser import MediaBrowser, MediaRow  # noqa: E402

N = 100_000


class FakeSource:
    """Rows made on demand; counts how many were asked for."""

    def __init__(self, n: int = N) -> None:
        self.n, self.asked = n, set()

    def __len__(self) -> int:
        return self.n

    def row(self, i: int) -> MediaRow:
        if not 0 <= i < self.n:
            raise IndexError(i)
        self.asked.add(i)
        kind = "video" if i % 10 == 0 else "image"
        return MediaRow(i + 1, f"img_{i:06d}.jpg", kind, f"/nowhere/img_{i:06d}.jpg", i % 7)

    def index_of(self, media_id: int) -> int | None:
        return media_id - 1 if 1 <= media_id <= self.n else None


def solid_thumb(row: MediaRow) -> QImage:
    img = QImage(128, 96, QImage.Format_RGB32)
    img.fill(QColor.fromHsv(row.id * 37 % 360, 120, 200))
    return img


def run(mode: str) -> None:
    app = QApplication.instance() or QApplication([])
    b = MediaBrowser()
    b.resize(420, 900)
    b.set_view_mode(mode)
    b.set_thumbnail_provider(solid_thumb)
    b.show()
    app.processEvents()
    src = FakeSource()
    t0 = time.perf_counter()
    b.set_source(src)
    b.view.viewport().repaint()
    app.processEvents()
    t1 = time.perf_counter()
    b.view.scrollToBottom()
    b.view.viewport().repaint()
    app.processEvents()
    t2 = time.perf_counter()
    b.set_current(N)
    app.processEvents()
    t3 = time.perf_counter()
    print(f"{mode:<5} show {1000 * (t1 - t0):7.1f} ms   scroll to end {1000 * (t2 - t1):7.1f} ms   "
          f"set_current(last) {1000 * (t3 - t2):6.1f} ms   total {t3 - t0:5.2f} s   "
          f"rows read {len(src.asked)} of {N}")
    b._thumbs.wait()
    b.close()


if __name__ == "__main__":
    print(f"Media browser benchmark: {N} synthetic rows, viewport 420x900, "
          f"Qt platform {os.environ['QT_QPA_PLATFORM']}, {platform.machine()}, {os.cpu_count()} CPUs")
    run("grid")
    run("list")
