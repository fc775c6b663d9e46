"""A 100,000-image project in the real window: open it, show the browser, scroll to
the end. Rows come from SQLite through app.browser.source (thumbnails of the fake
paths fail fast and show the placeholder, so this measures the data path and view).

Run on demand: ``python tests/benchmarks/bench_project_browser.py``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

N = 100_000


def make_project(folder: Path):
    from app.store.project import Project, now

    project = Project.create(folder)
    cls = project.classes.add("thing")
    stamp = now()
    with project.transaction() as c:
        c.executemany(
            "INSERT INTO media (path, name, kind, width, height, content_hash, file_size, added_at)"
            " VALUES (?, ?, 'image', 640, 480, 'h', 1, ?)",
            ((f"/nowhere/img_{i:06d}.jpg", f"img_{i:06d}.jpg", stamp) for i in range(N)))
        c.executemany(
            "INSERT INTO boxes (media_id, class_id, x1, y1, x2, y2, created_at, updated_at)"
            " VALUES (?, ?, 1, 1, 20, 20, ?, ?)",
            ((m, cls, stamp, stamp) for m in range(1, N + 1, 3)))
        c.executemany("INSERT INTO label_marks (media_id, frame, mark) VALUES (?, 0, ?)",
                      ((m, "review" if m % 100 == 2 else "empty") for m in range(2, N + 1, 50)))
    project.close()


def main() -> None:
    from PySide6.QtWidgets import QApplication

    folder = Path(tempfile.mkdtemp()) / "big"
    t = time.perf_counter()
    make_project(folder)
    print(f"made a {N:,}-image project in {time.perf_counter() - t:.1f} s")

    from app.shell.startup import application, open_window

    app = application()
    t0 = time.perf_counter()
    window = open_window(folder)
    window.show()
    app.processEvents()
    window.browser.grab()
    shown = time.perf_counter() - t0
    view = window.browser.view
    view.scrollToBottom()
    app.processEvents()
    window.browser.grab()
    total = time.perf_counter() - t0
    print(f"window with browser shown: {shown * 1000:.0f} ms; scrolled to the end: "
          f"{total * 1000:.0f} ms total ({len(window.source):,} rows, "
          f"{len(window.source._pages)} pages of rows read)")
    for kind in ("unlabelled", "empty", "review", "untagged"):
        t = time.perf_counter()
        window.browsing.set_filter(kind)
        app.processEvents()
        window.browser.grab()
        print(f"filter {kind!r} ({len(window.source):,} rows): "
              f"{(time.perf_counter() - t) * 1000:.0f} ms")
    window.browsing.set_filter("all")
    t = time.perf_counter()
    window.browsing.set_order("status")
    app.processEvents()
    window.browser.grab()
    print(f"order by status ({len(window.source):,} rows): {(time.perf_counter() - t) * 1000:.0f} ms")
    window.close()
    QApplication.processEvents()


if __name__ == "__main__":
    main()
