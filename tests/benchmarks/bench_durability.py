"""What durability costs: an edit with synchronous=FULL against NORMAL, the undo
journal per edit (rows, bytes, RAM), the check at open, a backup.

Run on demand: ``python tests/benchmarks/bench_durability.py [EDITS]``.
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300


def _ms(xs):
    xs = sorted(xs)
    return f"median {statistics.median(xs) * 1e3:.2f} ms, p95 {xs[int(len(xs) * 0.95)] * 1e3:.2f} ms"


def _project(folder: Path, images: int):
    from app.store.probe import MediaInfo
    from app.store.project import Project

    p = Project.create(folder)
    with p.transaction():
        for i in range(images):
            p.media.add_row(MediaInfo(Path(f"/x/{i}.jpg"), "image", 640, 480, f"h{i}", 1),
                            f"/x/{i}.jpg", f"{i}.jpg")
        p.media.add_row(MediaInfo(Path("/x/v.mp4"), "video", 640, 480, "hv", 1, fps=25.0,
                                  frame_count=3000), "/x/v.mp4", "v.mp4")
    return p


def edits(tmp: Path, synchronous: str) -> None:
    from app.labels.document import Document

    p = _project(tmp / f"edits-{synchronous}", 50)
    p.conn.execute(f"PRAGMA synchronous = {synchronous}")
    doc = Document(p)
    cat = doc.add_class("cat")
    adds, moves = [], []
    for i in range(N):
        t = time.perf_counter()
        box = doc.add_box(1 + i % 50, cat, (10, 10, 50, 50))
        adds.append(time.perf_counter() - t)
        t = time.perf_counter()
        doc.move_boxes([(box, 12, 12, 52, 52)])
        moves.append(time.perf_counter() - t)
    undo = []
    for _ in range(min(N, 200)):
        t = time.perf_counter()
        doc.undo_stack.undo()
        undo.append(time.perf_counter() - t)
    print(f"synchronous={synchronous:6s} add box: {_ms(adds)}; move box: {_ms(moves)}; "
          f"undo: {_ms(undo)}")
    p.close()


def journal_size(tmp: Path) -> None:
    """Track edits on a 3000-frame video: what the journal keeps per edit, and RAM."""
    from app.labels.document import Document
    from app.video.commands import VideoEdits

    p = _project(tmp / "journal", 1)
    doc = Document(p)
    video = VideoEdits(doc)
    cat = doc.add_class("car")
    _, track = video.add_box(2, 0, cat, (10, 10, 50, 50))
    video.add_box(2, 2999, cat, (500, 300, 560, 360), track_id=track)   # 2998 interpolated
    steps0, rows0 = doc.journal.size()
    bytes0 = doc.journal.bytes()
    n = 100

    def edit(i):
        frame = 100 + (i * 13) % 2800
        b = p.boxes.of(2, frame)[0]
        video.edit_boxes(2, frame, [(b.id, b.x1 + 1, b.y1, b.x2 + 1, b.y2)])   # a new keyframe

    t = time.perf_counter()
    for i in range(n):
        edit(i)
    took = (time.perf_counter() - t) / n
    steps, rows = doc.journal.size()
    size = doc.journal.bytes()
    gc.collect()
    tracemalloc.start()                     # RAM on a second run (tracemalloc slows it)
    before = tracemalloc.take_snapshot()
    for i in range(n, 2 * n):
        edit(i)
    gc.collect()
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()
    print(f"track edits (a 3000-frame track, keyframe added mid-track): {took * 1e3:.1f} ms each; "
          f"journal {(rows - rows0) / n:.0f} rows, {(size - bytes0) / n / 1024:.1f} KiB of SQL "
          f"per edit; Python heap grew {grown / n:.0f} bytes per edit over {n} edits "
          f"({doc.journal.size()[0]} steps, {doc.journal.bytes() / 2**20:.1f} MiB kept)")
    t = time.perf_counter()
    for _ in range(20):
        doc.undo_stack.undo()
    print(f"undo of a track edit: {(time.perf_counter() - t) / 20 * 1e3:.1f} ms")
    p.close()


def open_and_backup(tmp: Path) -> None:
    from app.store.backup import make_backup
    from app.store.project import Project

    p = _project(tmp / "big", 20000)
    cat = p.classes.add("cat")
    with p.transaction():
        for m in range(1, 20001):
            p.boxes.add([dict(media_id=m, class_id=cat, x1=j, y1=j, x2=j + 9, y2=j + 9)
                         for j in range(10)])
    p.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    p.close()
    size = (tmp / "big" / "kestrel.db").stat().st_size / 1e6
    t = time.perf_counter()
    Project.open(tmp / "big").close()
    plain = time.perf_counter() - t
    t = time.perf_counter()
    Project.open(tmp / "big", check=True).close()
    checked = time.perf_counter() - t
    t = time.perf_counter()
    make_backup(tmp / "big")
    backup = time.perf_counter() - t
    print(f"{size:.0f} MB project (20,000 images, 200,000 boxes): open {plain * 1e3:.0f} ms, "
          f"with quick_check (the window) {checked * 1e3:.0f} ms; online backup {backup * 1e3:.0f} ms")


def main() -> None:
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        tmp = Path(tmp)
        for mode in ("NORMAL", "FULL"):
            edits(tmp, mode)
        journal_size(tmp)
        open_and_backup(tmp)


if __name__ == "__main__":
    main()
